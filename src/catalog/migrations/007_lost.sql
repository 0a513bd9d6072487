-- Instances on a host removed with --force are `lost`: kept as history, their names free.
DROP INDEX instances_live_name;
CREATE UNIQUE INDEX instances_live_name ON instances(name) WHERE status NOT IN ('deleted', 'replaced', 'lost');
