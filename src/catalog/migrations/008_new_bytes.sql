-- What each snapshot added on disk: the bytes of the files it did not share with the one
-- before it (hard links and unchanged files count once, for the older one).
ALTER TABLE snapshots ADD COLUMN new_bytes INTEGER;
