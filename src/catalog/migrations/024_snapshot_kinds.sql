-- Snapshots say why they exist: the one a new instance ends its making with is `base`, those
-- a recovery or an in-place restore takes of what it brought back are `recovery` (before,
-- `automatic` and `manual`, which read as if a schedule or a person had taken them). Widened
-- as 016 did (see there why the table is not rebuilt), then the rows already made.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, 'CHECK (kind IN (''manual'', ''final'', ''clone'', ''automatic''))',
                          'CHECK (kind IN (''manual'', ''final'', ''clone'', ''automatic'', ''base'', ''recovery''))')
 WHERE type = 'table' AND name = 'snapshots';
PRAGMA writable_schema = RESET;
CREATE TABLE schema_bump (x INTEGER);
DROP TABLE schema_bump;
UPDATE snapshots SET kind = 'base' WHERE kind = 'automatic' AND tag = 'base';
UPDATE snapshots SET kind = 'recovery'
 WHERE kind = 'manual' AND tag IN ('after-recovery', 'after-restore', 'move');
