-- A random part of every new workflow's request ids, so that a host's journal never takes one
-- catalog's workflow 7 for another's (a catalog made afresh, or two sharing a host). Rows
-- from before keep none, and their ids stay as they were.
ALTER TABLE workflows ADD COLUMN nonce TEXT;
