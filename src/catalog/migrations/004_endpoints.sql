-- Endpoints: the stable names clients use, remapped when recovery moves an instance. An
-- instance replaced by recovery keeps its history but frees its name.
CREATE TABLE endpoints (
    name        TEXT PRIMARY KEY,
    instance_id INTEGER NOT NULL REFERENCES instances(id),
    address     TEXT NOT NULL,
    port        INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);

DROP INDEX instances_live_name;
CREATE UNIQUE INDEX instances_live_name ON instances(name) WHERE status NOT IN ('deleted', 'replaced');
