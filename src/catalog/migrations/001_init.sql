-- The foundation schema: hosts, instances, workflows with their steps, events.
CREATE TABLE hosts (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    transport     TEXT NOT NULL CHECK (transport IN ('local', 'ssh')),
    address       TEXT NOT NULL,
    port          INTEGER NOT NULL,
    ssh_user      TEXT,
    identity      TEXT,
    root          TEXT,
    host_key_type TEXT,
    host_key      TEXT,
    facts         TEXT NOT NULL,
    facts_at      TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE instances (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL,
    uid               TEXT NOT NULL UNIQUE,
    engine            TEXT NOT NULL,
    engine_version    TEXT,
    class             TEXT NOT NULL,
    cpus              REAL NOT NULL,
    memory_mb         INTEGER NOT NULL,
    max_connections   INTEGER NOT NULL,
    storage_gb        INTEGER NOT NULL,
    host_id           INTEGER REFERENCES hosts(id) ON DELETE SET NULL,
    port              INTEGER,
    admin_user        TEXT NOT NULL,
    status            TEXT NOT NULL,
    lease_workflow_id INTEGER,
    created_at        TEXT NOT NULL,
    deleted_at        TEXT
);
-- Names are unique among instances that still exist; deleted ones keep their history.
CREATE UNIQUE INDEX instances_live_name ON instances(name) WHERE status <> 'deleted';

CREATE TABLE workflows (
    id           INTEGER PRIMARY KEY,
    action       TEXT NOT NULL,
    instance_id  INTEGER REFERENCES instances(id),
    status       TEXT NOT NULL,
    error        TEXT,
    runner       TEXT,
    heartbeat_at TEXT,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT
);
CREATE INDEX workflows_instance ON workflows(instance_id);

CREATE TABLE steps (
    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    output      TEXT,
    error       TEXT,
    started_at  TEXT,
    finished_at TEXT,
    PRIMARY KEY (workflow_id, idx)
);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    instance_id   INTEGER,
    instance_name TEXT,
    workflow_id   INTEGER,
    kind          TEXT NOT NULL,
    message       TEXT NOT NULL
);
CREATE INDEX events_instance ON events(instance_name);
