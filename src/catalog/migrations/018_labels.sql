-- Labels a team finds its own things by (`--label env=prod`): one value per key.
CREATE TABLE labels (
    kind   TEXT NOT NULL CHECK (kind IN ('instance', 'snapshot', 'host')),
    ref_id INTEGER NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (kind, ref_id, key)
);
