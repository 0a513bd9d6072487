-- Backups: host snapshots copied into a repository of the off-host tier. A backup outlives
-- its snapshot and its host: the snapshot row keeps what restoring needs (engine, position,
-- branch, when it became consistent).
CREATE TABLE backups (
    id            INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories(id),
    snapshot_id   INTEGER NOT NULL REFERENCES snapshots(id),
    instance_id   INTEGER NOT NULL REFERENCES instances(id),
    workflow_id   INTEGER,
    status        TEXT NOT NULL,
    -- The restic snapshot that holds it.
    restic_id     TEXT,
    files         INTEGER,
    bytes         INTEGER,
    -- What it added to the repository after deduplication and compression.
    added_bytes   INTEGER,
    pinned        INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    finished_at   TEXT,
    deleted_at    TEXT
);
CREATE INDEX backups_instance ON backups(instance_id);
