-- The audit log as a hash chain (store/sqlite/chain.rs): one link per entry, holding the hash of
-- the link before it and of the entry as stored. The entries already there are linked in order by
-- the upgrade itself (schema.rs), never later.
CREATE TABLE audit_chain (
    id   INTEGER PRIMARY KEY,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
-- A link goes only after its entry went (retention).
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
WHEN EXISTS (SELECT 1 FROM audit WHERE id = OLD.id)
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
