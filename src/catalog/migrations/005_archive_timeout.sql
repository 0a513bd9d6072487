-- The longest a commit may wait before its log is archived, per instance.
ALTER TABLE instances ADD COLUMN archive_timeout_secs INTEGER NOT NULL DEFAULT 60;
