-- Leases on the control plane's own work (shipping an instance's logs, expiring its
-- backups, queueing its periodic backup): whoever holds one does that work, until it lets
-- go or its time runs out (a holder that died).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
