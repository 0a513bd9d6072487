-- See ../019_host_contact.sql.
ALTER TABLE hosts ADD COLUMN last_contact_at TEXT;
ALTER TABLE hosts ADD COLUMN rtt_ms BIGINT;
