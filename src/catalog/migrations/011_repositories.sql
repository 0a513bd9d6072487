-- Repositories: the off-host tier. The definition only; the key is in the home's secrets.
CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL,
    repo_id    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
