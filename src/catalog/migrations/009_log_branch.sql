-- Engine-neutral words: the log branch a snapshot was taken on.
ALTER TABLE snapshots RENAME COLUMN timeline TO log_branch;
