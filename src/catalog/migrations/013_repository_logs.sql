-- The off-host tier's logs and each instance's backup policy.

-- Log files shipped into a repository: each with its archive record (the sidecar's JSON:
-- size, checksum, commit times and positions) and the restic snapshot of its shipment.
CREATE TABLE repository_logs (
    id            INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories(id),
    instance_id   INTEGER NOT NULL REFERENCES instances(id),
    name          TEXT NOT NULL,
    record        TEXT NOT NULL,
    restic_id     TEXT NOT NULL,
    shipped_at    TEXT NOT NULL,
    UNIQUE (repository_id, instance_id, name)
);

-- dbhost's log-switch marks as last shipped (every commit before a time is in a file), which
-- say how far a quiet instance's shipped logs reach.
CREATE TABLE repository_marks (
    repository_id INTEGER NOT NULL REFERENCES repositories(id),
    instance_id   INTEGER NOT NULL REFERENCES instances(id),
    marks         TEXT NOT NULL,
    shipped_at    TEXT NOT NULL,
    PRIMARY KEY (repository_id, instance_id)
);

-- Where an instance's backups and logs go, when sweep backs it up, and what expiry keeps.
CREATE TABLE backup_policies (
    instance_id    INTEGER PRIMARY KEY REFERENCES instances(id),
    repository_id  INTEGER NOT NULL REFERENCES repositories(id),
    -- HH:MM-HH:MM (UTC); none: no periodic backup.
    backup_window  TEXT,
    retention_days INTEGER NOT NULL,
    keep_daily     INTEGER NOT NULL,
    keep_weekly    INTEGER NOT NULL,
    keep_monthly   INTEGER NOT NULL
);
