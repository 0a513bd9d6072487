-- What losing an instance's data would lose, as the monitor last measured it: the archive's
-- newest commit, and when the server holds commits past it, since when they are at risk.
CREATE TABLE instance_exposure (
    instance_id      INTEGER PRIMARY KEY REFERENCES instances(id),
    checked_at       TEXT NOT NULL,
    archived_through TEXT,
    at_risk_since    TEXT
);
