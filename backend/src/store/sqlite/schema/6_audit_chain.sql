-- The audit log as a hash chain (store/sql/chain.rs): each entry carries the hash of the entry
-- before it (`prev`) and its own (`hash`, of `prev` and its columns), written with it. The entries
-- already there are linked in order by the upgrade itself (schema.rs), which lifts the update
-- trigger for that alone; never later.
ALTER TABLE audit ADD COLUMN prev TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;
