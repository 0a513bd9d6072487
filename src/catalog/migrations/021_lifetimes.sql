-- How long an instance lives: a clone that deletes itself when it expires or has had no
-- connections for a while, unless someone protects it. No row: it lives until deleted.
CREATE TABLE instance_lifetimes (
    instance_id     INTEGER PRIMARY KEY REFERENCES instances(id),
    -- Deleted at this time (RFC 3339, UTC).
    expires_at      TEXT,
    -- Deleted after this many seconds without a client connection.
    idle_limit_secs INTEGER,
    -- 1: a final snapshot is taken before it is deleted.
    final_snapshot  INTEGER NOT NULL DEFAULT 0,
    -- Kept until this time whatever the above say (far in the future: for good).
    protected_until TEXT,
    -- When the monitor last saw a client connected (or when it was made).
    last_active_at  TEXT NOT NULL
);
