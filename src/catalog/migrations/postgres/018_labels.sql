-- See ../018_labels.sql.
CREATE TABLE labels (
    kind   TEXT NOT NULL CHECK (kind IN ('instance', 'snapshot', 'host')),
    ref_id BIGINT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (kind, ref_id, key)
);
