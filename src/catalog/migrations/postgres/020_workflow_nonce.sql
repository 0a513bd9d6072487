-- See ../020_workflow_nonce.sql.
ALTER TABLE workflows ADD COLUMN nonce TEXT;
