-- Brings a database of the first layout (versions before the store was rebuilt: migrations kept by
-- sqlx, a copy of every record in the feed, trigram indexes of whole bodies, decoded words in columns)
-- to layout 1. Runs once, in one transaction, with foreign keys off. Every record is kept; every
-- body is queued to be indexed again.

DROP TABLE command_search;
DROP TABLE callback_search;
DROP TABLE _sqlx_migrations;

ALTER TABLE commands DROP COLUMN decoded;

CREATE TABLE callbacks_1 (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    client      TEXT,
    type        TEXT    NOT NULL,
    command_id  TEXT,
    command     INTEGER REFERENCES commands(id),
    state       TEXT,
    external_id TEXT,
    body        TEXT    NOT NULL,
    headers     TEXT    NOT NULL,
    auth        TEXT    NOT NULL,
    digest      BLOB    NOT NULL
);
-- The digest was the whole SHA-256 in hex; the same hash, cut to 16 bytes, still finds repeats.
INSERT INTO callbacks_1
SELECT id, received_at, client, type, command_id, command, state, external_id, body, headers, auth,
       unhex(substr(digest, 1, 32))
FROM callbacks;
DROP TABLE callbacks;
ALTER TABLE callbacks_1 RENAME TO callbacks;
CREATE INDEX callbacks_by_hermod_id ON callbacks (client, command_id, digest);
CREATE INDEX callbacks_by_command ON callbacks (command) WHERE command IS NOT NULL;
CREATE INDEX callbacks_by_received ON callbacks (received_at);

CREATE TABLE polls_1 (
    id      INTEGER PRIMARY KEY,
    command INTEGER NOT NULL REFERENCES commands(id),
    at      INTEGER NOT NULL,
    reply   TEXT    NOT NULL
);
INSERT INTO polls_1 SELECT id, command, at, reply FROM polls;
DROP TABLE polls;
ALTER TABLE polls_1 RENAME TO polls;
CREATE INDEX polls_by_command ON polls (command);

CREATE TABLE feed_1 (
    seq   INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    kind  TEXT    NOT NULL CHECK (kind IN ('command', 'callback')),
    ref   INTEGER NOT NULL,
    state TEXT
);
INSERT INTO feed_1
SELECT seq, at, kind,
       CASE kind WHEN 'command' THEN json_extract(payload, '$.command.command.id')
                 ELSE json_extract(payload, '$.callback.callback.id') END,
       CASE kind WHEN 'command' THEN json_extract(payload, '$.command.command.state') END
FROM feed;
DROP TABLE feed;
ALTER TABLE feed_1 RENAME TO feed;

CREATE TABLE users_1 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
INSERT INTO users_1 SELECT id, username, password_hash, role, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_1 RENAME TO users;

CREATE TABLE api_tokens_1 (
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
INSERT INTO api_tokens_1
SELECT id, name, token_hash, role, created_by, created_at, expires_at, revoked_at, last_used_at
FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_1 RENAME TO api_tokens;

-- Nothing is indexed yet: every request, callback and poll from id 0 on, and every answer.
CREATE TABLE indexed (kind INTEGER PRIMARY KEY, upto INTEGER NOT NULL);
INSERT INTO indexed (kind, upto) VALUES (0, 0), (1, 0), (2, 0);
CREATE TABLE unindexed (doc INTEGER PRIMARY KEY);
CREATE TABLE decoded (doc INTEGER PRIMARY KEY, words TEXT NOT NULL);
CREATE VIRTUAL TABLE search USING fts5(
    text, tokenize = 'trigram', content = '', contentless_delete = 1, detail = none
);
INSERT INTO unindexed (doc) SELECT id * 4 + 3 FROM commands WHERE answer IS NOT NULL;
