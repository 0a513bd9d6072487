-- Snapshots (catalog entities mirroring each host's snapshot store) and instance lineage.
CREATE TABLE snapshots (
    id            INTEGER PRIMARY KEY,
    uid           TEXT NOT NULL UNIQUE,
    instance_id   INTEGER NOT NULL REFERENCES instances(id),
    instance_name TEXT NOT NULL,
    host_id       INTEGER REFERENCES hosts(id) ON DELETE SET NULL,
    workflow_id   INTEGER,
    kind          TEXT NOT NULL CHECK (kind IN ('manual', 'final', 'clone')),
    tag           TEXT,
    status        TEXT NOT NULL,
    engine        TEXT NOT NULL,
    engine_version TEXT,
    backend       TEXT,
    position      TEXT,
    taken_at      TEXT,
    size_bytes    INTEGER,
    files         INTEGER,
    shared_files  INTEGER,
    created_at    TEXT NOT NULL,
    deleted_at    TEXT
);
CREATE INDEX snapshots_instance ON snapshots(instance_id);

ALTER TABLE instances ADD COLUMN source_instance TEXT;
ALTER TABLE instances ADD COLUMN source_snapshot_id INTEGER;
