-- Repositories: the off-host tier. The definition only; the key and any S3 credentials are
-- in the home's secrets.
CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL,
    endpoint   TEXT,
    region     TEXT,
    repo_id    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
