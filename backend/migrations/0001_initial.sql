-- Times are milliseconds since the Unix epoch (UTC). JSON is stored as text, exactly as sent or received.

CREATE TABLE commands (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    client      TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    command_id  TEXT,
    external_id TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    request     TEXT    NOT NULL,
    destinations TEXT   NOT NULL DEFAULT '[]',
    answer      TEXT,
    reissue_of  INTEGER REFERENCES commands(id),
    created_by  TEXT
);
CREATE INDEX commands_by_hermod_id ON commands (client, command_id);
CREATE INDEX commands_by_external_id ON commands (client, external_id);

CREATE TABLE callbacks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
    -- sha256 over client, type, commandId and body: a repeated delivery is stored once.
    digest      TEXT    NOT NULL UNIQUE
);
CREATE INDEX callbacks_by_hermod_id ON callbacks (client, command_id);
CREATE INDEX callbacks_by_command ON callbacks (command);

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    command     INTEGER NOT NULL REFERENCES commands(id),
    at          INTEGER NOT NULL,
    reply       TEXT    NOT NULL
);
CREATE INDEX polls_by_command ON polls (command);

-- The live feed's history: seq is the SSE id, strictly increasing, never reused.
CREATE TABLE feed (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL
);
