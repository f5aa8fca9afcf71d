-- Limits that must hold across replicas rather than per replica (store/postgres/limits.rs; the rules
-- are auth/limiter.rs's and auth/mod.rs's). SQLite's store, one process, counts them in memory.

-- Failed logins, one row per key a failure counts against (account and source, source, account).
-- Rows go once they are older than the login window.
CREATE TABLE login_failures (
    id  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT   NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
CREATE INDEX login_failures_by_age ON login_failures (at);

-- Open live-feed streams, one row each, under the session or token they count against. The replica
-- serving a stream pushes `until` forward while it lives and deletes the row when it ends; the rows of
-- a replica that died stop being renewed and no longer count once `until` has passed.
CREATE TABLE streams (
    id    TEXT   PRIMARY KEY,
    key   TEXT   NOT NULL,
    until BIGINT NOT NULL
);
CREATE INDEX streams_by_key ON streams (key, until);
CREATE INDEX streams_by_expiry ON streams (until);
