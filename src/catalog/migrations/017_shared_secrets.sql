-- Secrets a team's catalog keeps for every control machine (instance admin passwords,
-- repository keys and credentials), each sealed with the team key that only the homes hold;
-- and one value sealed with it, so a wrong key is told apart from a damaged secret. An
-- SQLite catalog leaves both empty: its secrets are files in its home.
CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    sealed TEXT NOT NULL
);
CREATE TABLE catalog_key_check (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    sealed TEXT NOT NULL
);
