-- Named command templates, shared by everyone.
CREATE TABLE templates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    client      TEXT,
    type        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- What the backend decoded (certificate subjects, serials, expiry, signers, decoded text…), as words.
ALTER TABLE commands ADD COLUMN decoded TEXT NOT NULL DEFAULT '';
ALTER TABLE callbacks ADD COLUMN decoded TEXT NOT NULL DEFAULT '';
ALTER TABLE polls ADD COLUMN decoded TEXT NOT NULL DEFAULT '';

-- Full-text search, substring semantics (trigrams): one row per command (rowid = commands.id) holding
-- its request, answer, callbacks, polls and everything decoded from them; one per callback.
CREATE VIRTUAL TABLE command_search USING fts5(text, tokenize = 'trigram');
CREATE VIRTUAL TABLE callback_search USING fts5(text, tokenize = 'trigram');

INSERT INTO command_search (rowid, text)
SELECT c.id,
       c.request || ' ' || COALESCE(c.answer, '') || ' ' || COALESCE(c.command_id, '') || ' ' ||
       COALESCE(c.external_id, '') || ' ' ||
       COALESCE((SELECT group_concat(b.body, ' ') FROM callbacks b WHERE b.command = c.id), '') || ' ' ||
       COALESCE((SELECT group_concat(p.reply, ' ') FROM polls p WHERE p.command = c.id), '')
FROM commands c;

INSERT INTO callback_search (rowid, text)
SELECT id, body || ' ' || COALESCE(command_id, '') || ' ' || COALESCE(external_id, '') FROM callbacks;
