-- Restore drills: an instance restored into a scratch copy, checked and removed, with how long
-- the restore took (RTO) and how much the restored copy lacked (RPO).
CREATE TABLE drills (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id   INTEGER NOT NULL REFERENCES instances(id),
    instance_name TEXT NOT NULL,
    -- host | repository
    tier          TEXT NOT NULL,
    -- "latest", or the time it restored to.
    target        TEXT NOT NULL,
    -- running | passed | failed
    status        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    -- Seconds from the start to the scratch copy answering queries.
    rto_secs      REAL,
    -- Seconds between the newest point restored and the drill's start.
    rpo_secs      REAL,
    -- The scratch instance and what the checks found (JSON).
    scratch       TEXT,
    report        TEXT,
    error         TEXT
);
