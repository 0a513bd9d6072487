-- Schedules: an action on an instance at a cron's times (UTC) or once.
CREATE TABLE schedules (
    id            INTEGER PRIMARY KEY,
    instance_id   INTEGER NOT NULL REFERENCES instances(id),
    action        TEXT NOT NULL,
    cron          TEXT,
    at            TEXT,
    paused        INTEGER NOT NULL DEFAULT 0,
    -- When it is next due; NULL once a one-shot has fired.
    next_run      TEXT,
    last_run      TEXT,
    last_workflow INTEGER,
    last_error    TEXT,
    created_at    TEXT NOT NULL
);
