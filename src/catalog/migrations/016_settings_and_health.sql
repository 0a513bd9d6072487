-- What an instance is told beyond its size: when changes that need a restart are made, the
-- one waiting for that window, its automatic snapshots, and what the monitor does when it
-- fails. No row: the defaults.
CREATE TABLE instance_settings (
    instance_id            INTEGER PRIMARY KEY REFERENCES instances(id),
    -- ddd:HH:MM-ddd:HH:MM (UTC); none: pending changes wait for --apply-immediately.
    maintenance_window     TEXT,
    -- A class change waiting for the maintenance window.
    pending_class          TEXT,
    pending_since          TEXT,
    -- Minutes between automatic host-tier snapshots; 0: none.
    snapshot_interval_mins INTEGER NOT NULL DEFAULT 15,
    -- recover | notify
    on_failure             TEXT NOT NULL DEFAULT 'recover'
);

-- What the monitor last saw of each instance, and the incident it is handling.
CREATE TABLE instance_health (
    instance_id    INTEGER PRIMARY KEY REFERENCES instances(id),
    -- healthy | failing (an error, not yet a verdict) | failed | recovering | notified
    state          TEXT NOT NULL,
    checked_at     TEXT NOT NULL,
    -- The last time a check passed.
    healthy_at     TEXT,
    -- The incident: when its first error was seen, what the checks say, how many in a row.
    first_error_at TEXT,
    detail         TEXT,
    failures       INTEGER NOT NULL DEFAULT 0,
    -- Recoveries started for this incident, and the one under way.
    recoveries     INTEGER NOT NULL DEFAULT 0,
    workflow_id    INTEGER
);

-- Snapshots taken every snapshot interval are of their own kind, which retention expires.
-- Widening a CHECK changes nothing stored, so the table is not rebuilt (SQLite's documented
-- way for such a change; rebuilding would cascade into the tables that reference it); the
-- reset reloads it here, and the table made and dropped after it moves the schema cookie,
-- so every other open connection reads the new definition too.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, 'CHECK (kind IN (''manual'', ''final'', ''clone''))',
                          'CHECK (kind IN (''manual'', ''final'', ''clone'', ''automatic''))')
 WHERE type = 'table' AND name = 'snapshots';
PRAGMA writable_schema = RESET;
CREATE TABLE schema_bump (x INTEGER);
DROP TABLE schema_bump;
