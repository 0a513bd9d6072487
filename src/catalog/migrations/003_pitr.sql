-- Point-in-time recovery: when each snapshot became consistent and on which log timeline,
-- and the last seen extent of each instance's log archive.
ALTER TABLE snapshots ADD COLUMN consistent_at TEXT;
ALTER TABLE snapshots ADD COLUMN timeline INTEGER;

CREATE TABLE wal_ranges (
    instance_id   INTEGER PRIMARY KEY REFERENCES instances(id),
    segments      INTEGER NOT NULL,
    first_segment TEXT,
    last_segment  TEXT,
    first_time    TEXT,
    last_time     TEXT,
    gap           TEXT,
    refreshed_at  TEXT NOT NULL
);
