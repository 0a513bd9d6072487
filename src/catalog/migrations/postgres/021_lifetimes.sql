-- See ../021_lifetimes.sql.
CREATE TABLE instance_lifetimes (
    instance_id     BIGINT PRIMARY KEY REFERENCES instances(id),
    expires_at      TEXT,
    idle_limit_secs BIGINT,
    final_snapshot  BIGINT NOT NULL DEFAULT 0,
    protected_until TEXT,
    last_active_at  TEXT NOT NULL
);
