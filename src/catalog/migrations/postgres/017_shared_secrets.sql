-- See ../017_shared_secrets.sql.
CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    sealed TEXT NOT NULL
);
CREATE TABLE catalog_key_check (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    sealed TEXT NOT NULL
);
