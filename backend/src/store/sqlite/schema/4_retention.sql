-- Retention (README, "Retention"; store/sql/retention.rs).
--
-- The audit log stays append-only but for one way out: an entry older than the cutoff held in
-- `audit_retention`, which the pruner sets and clears again inside its own transaction. The trigger
-- also refuses a cutoff less than a day back by the database's own clock, so not even a pruner gone
-- wrong empties the log. With no cutoff set (the only state anyone else ever sees) every DELETE is
-- refused, as before; updates still are, always.
CREATE TABLE audit_retention (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    before INTEGER
);
INSERT INTO audit_retention (id, before) VALUES (1, NULL);
DROP TRIGGER audit_no_delete;
-- min() of a NULL is NULL, and a comparison with NULL is NULL: anything but a set cutoff refuses.
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN NOT coalesce(
    OLD.at < (SELECT min(before, (unixepoch() - 86400) * 1000) FROM audit_retention WHERE id = 1),
    0)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Unmatched callbacks by age. Without it, a pruner keeping commands (and so their callbacks) longer
-- than strays would step over every old matched callback on each batch.
CREATE INDEX callbacks_unmatched ON callbacks (received_at) WHERE command IS NULL;

-- The commands that re-issue another. When a command goes, the foreign key looks up its re-issues
-- (and the pruner clears their reference): without an index, a scan of every command per command.
CREATE INDEX commands_by_reissue ON commands (reissue_of) WHERE reissue_of IS NOT NULL;
