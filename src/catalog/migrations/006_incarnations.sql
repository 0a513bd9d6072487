-- An instance rebuilt by recovery replaces the row it took over from: its history (snapshots
-- and logs of earlier incarnations) stays restorable under the same name.
ALTER TABLE instances ADD COLUMN replaces_id INTEGER REFERENCES instances(id);
