-- Times are milliseconds since the Unix epoch (UTC). Bodies are kept exactly as sent or received.
-- Layout and reasons: docs/ARCHITECTURE.md, "The store".

-- AUTOINCREMENT: a command's id is in links operators share, so it is never handed out twice.
CREATE TABLE commands (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    command_id   TEXT,
    external_id  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    request      TEXT    NOT NULL,
    destinations TEXT    NOT NULL DEFAULT '[]',
    answer       TEXT,
    reissue_of   INTEGER REFERENCES commands(id),
    created_by   TEXT
);
CREATE INDEX commands_by_hermod_id ON commands (client, command_id);
CREATE INDEX commands_by_external_id ON commands (client, external_id);
CREATE INDEX commands_by_created ON commands (created_at);
CREATE INDEX commands_by_state ON commands (state, id);
CREATE INDEX commands_by_type ON commands (type, id);

CREATE TABLE callbacks (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    client      TEXT,
    type        TEXT    NOT NULL,
    command_id  TEXT,
    command     INTEGER REFERENCES commands(id),
    state       TEXT,
    external_id TEXT,
    body        TEXT    NOT NULL,
    -- JSON [[name, value], …]; Authorization replaced by the verdict.
    headers     TEXT    NOT NULL,
    auth        TEXT    NOT NULL,
    -- 16 bytes of SHA-256 over client, type, commandId and body: a repeated delivery is stored once.
    digest      BLOB    NOT NULL
);
-- Finds a command's callbacks by Hermod's id, and repeats by their digest. Keyed by commandId first,
-- which grows with time, so new entries land on the same few pages; a key of the digest alone would
-- scatter them over the whole index and make every commit rewrite a page per callback.
CREATE INDEX callbacks_by_hermod_id ON callbacks (client, command_id, digest);
-- Unmatched callbacks (most, under a flood of strays) take no entry.
CREATE INDEX callbacks_by_command ON callbacks (command) WHERE command IS NOT NULL;
CREATE INDEX callbacks_by_received ON callbacks (received_at);

CREATE TABLE polls (
    id      INTEGER PRIMARY KEY,
    command INTEGER NOT NULL REFERENCES commands(id),
    at      INTEGER NOT NULL,
    reply   TEXT    NOT NULL
);
CREATE INDEX polls_by_command ON polls (command);

-- The live feed's history: seq is the SSE id, strictly increasing. A row points at the record it is
-- about instead of copying it; a command event keeps the state the command had then.
CREATE TABLE feed (
    seq   INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    kind  TEXT    NOT NULL CHECK (kind IN ('command', 'callback')),
    ref   INTEGER NOT NULL,
    state TEXT
);

-- Search (docs/ARCHITECTURE.md, "Search"). A document is one body: a command's request (kind 0),
-- a callback (1), a poll (2) or a command's answer (3); its key is id * 4 + kind. The indexer decodes
-- and indexes documents off the acknowledgement path. Requests, callbacks and polls are written in
-- the order of their ids: `indexed` keeps, for each of those kinds, the id indexed up to. Answers
-- come in any order: a write puts their key in `unindexed`, the indexer removes it.
CREATE TABLE indexed (kind INTEGER PRIMARY KEY, upto INTEGER NOT NULL);
INSERT INTO indexed (kind, upto) VALUES (0, 0), (1, 0), (2, 0);
CREATE TABLE unindexed (doc INTEGER PRIMARY KEY);
CREATE TABLE decoded (doc INTEGER PRIMARY KEY, words TEXT NOT NULL);
-- Which documents hold each three-character piece, and nothing more (detail = none): a search
-- confirms its candidates against the records.
CREATE VIRTUAL TABLE search USING fts5(
    text, tokenize = 'trigram', content = '', contentless_delete = 1, detail = none
);

-- Accounts, sessions, API tokens and the audit log. Secrets are stored only as hashes: passwords as
-- argon2id PHC strings, session and API tokens as SHA-256 of the random token.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    source       TEXT    NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);

-- Append-only: nothing updates or deletes these rows.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    actor_kind TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT,
    outcome    TEXT    NOT NULL,
    request_id TEXT,
    detail     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_time ON audit (at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Named command templates, shared by everyone.
CREATE TABLE templates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    client     TEXT,
    type       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
