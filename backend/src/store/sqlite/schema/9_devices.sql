-- Devices (README, "Devices"): each device key a body names (decode/devices.rs), when it was first
-- and last seen, and which documents (`id * 4 + kind`, as in `decoded`) name it. The indexer fills
-- them; every document is queued again so that what was stored before is counted too.
CREATE TABLE devices (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
CREATE TABLE device_docs (
    device INTEGER NOT NULL REFERENCES devices (id),
    doc    INTEGER NOT NULL,
    PRIMARY KEY (device, doc)
) WITHOUT ROWID;
CREATE INDEX device_docs_by_doc ON device_docs (doc);
UPDATE indexed SET upto = 0;
INSERT OR IGNORE INTO unindexed (doc) SELECT id * 4 + 3 FROM commands WHERE answer IS NOT NULL;
