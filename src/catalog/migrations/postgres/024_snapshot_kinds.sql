-- Snapshots say why they exist (see the SQLite spelling): `base` and `recovery` kinds.
ALTER TABLE snapshots DROP CONSTRAINT IF EXISTS snapshots_kind_check;
ALTER TABLE snapshots ADD CONSTRAINT snapshots_kind_check
    CHECK (kind IN ('manual', 'final', 'clone', 'automatic', 'base', 'recovery'));
UPDATE snapshots SET kind = 'base' WHERE kind = 'automatic' AND tag = 'base';
UPDATE snapshots SET kind = 'recovery'
 WHERE kind = 'manual' AND tag IN ('after-recovery', 'after-restore', 'move');
