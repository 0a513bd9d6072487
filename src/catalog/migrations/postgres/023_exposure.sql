-- See ../023_exposure.sql.
CREATE TABLE instance_exposure (
    instance_id      BIGINT PRIMARY KEY REFERENCES instances(id),
    checked_at       TEXT NOT NULL,
    archived_through TEXT,
    at_risk_since    TEXT
);
