-- Silence as an event (overdue.rs): a command Hermod accepted awaits its callback until
-- `callback_due` (its expiry); one still awaited past it by `[overdue] after_expiry_secs` is marked
-- overdue (`overdue_at`) and leaves the awaited. A callback clears both. Each index holds only the
-- few rows it is for.
ALTER TABLE commands ADD COLUMN callback_due INTEGER;
ALTER TABLE commands ADD COLUMN overdue_at INTEGER;
CREATE INDEX commands_awaited ON commands (callback_due) WHERE callback_due IS NOT NULL;
CREATE INDEX commands_overdue ON commands (overdue_at) WHERE overdue_at IS NOT NULL;
-- Commands already waiting when the console is upgraded: those whose expiry is still to come (an
-- older silence is history, not news).
UPDATE commands SET callback_due = expires_at
 WHERE expires_at > unixepoch() * 1000 AND command_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM callbacks k WHERE k.command = commands.id);
-- The feed gains the `overdue` kind; SQLite changes a CHECK only by copying the table.
CREATE TABLE feed_new (
    seq   INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    kind  TEXT    NOT NULL CHECK (kind IN ('command', 'callback', 'overdue')),
    ref   INTEGER NOT NULL,
    state TEXT
);
INSERT INTO feed_new (seq, at, kind, ref, state) SELECT seq, at, kind, ref, state FROM feed;
DROP TABLE feed;
ALTER TABLE feed_new RENAME TO feed;
