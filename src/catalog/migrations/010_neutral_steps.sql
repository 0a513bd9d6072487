-- Steps written before logs and positions were the engine's own (protocol 2) name
-- PostgreSQL's ops and fields: rewritten, so that a workflow paused across the upgrade can
-- still resume or be undone. Each of them was PostgreSQL's, the only engine there was.
UPDATE steps
   SET spec = json_set(json_remove(spec, '$.action.op.keep_from'), '$.action.op.keep',
                       json_array(json(json_extract(spec, '$.action.op.keep_from'))))
 WHERE json_extract(spec, '$.action.op.op') = 'wal_prune'
   AND json_type(spec, '$.action.op.keep_from') = 'object';
UPDATE steps SET spec = json_remove(spec, '$.action.op.keep_from')
 WHERE json_extract(spec, '$.action.op.op') = 'wal_prune';
UPDATE steps SET spec = json_remove(spec, '$.undo.keep_from')
 WHERE json_extract(spec, '$.undo.op') = 'wal_prune';
UPDATE steps
   SET spec = replace(replace(replace(replace(replace(replace(replace(replace(spec,
       '"op":"wal_prune"', '"op":"log_prune","engine":"postgres"'),
       '"op":"wal_export"', '"op":"log_export","engine":"postgres"'),
       '"op":"wal_import"', '"op":"log_import"'),
       '"op":"wal_switch"', '"op":"log_switch"'),
       '"op":"wal_list"', '"op":"log_list"'),
       '"wal_instance":', '"log_instance":'),
       '"kind":"lsn"', '"kind":"position"'), '"timeline":', '"branch":');
