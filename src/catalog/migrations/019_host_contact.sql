-- When each host last answered, and how long its answer took (`host list`).
ALTER TABLE hosts ADD COLUMN last_contact_at TEXT;
ALTER TABLE hosts ADD COLUMN rtt_ms INTEGER;
