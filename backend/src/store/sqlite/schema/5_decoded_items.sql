-- What was decoded of each document is kept whole (docs/ARCHITECTURE.md, "Search"): the indexer
-- decodes a body once, after it is acknowledged, and a command's page reads the stored items instead
-- of decoding (and checking signatures) on every view. `items` is the JSON the page gets; a row exists
-- when something was found (`words` may be empty then).
--
-- Every document is queued again so that what was indexed before gets its items. A later change to
-- what the decoders produce comes with a step like this one, so no page shows an older decoder's view.
ALTER TABLE decoded ADD COLUMN items TEXT;
UPDATE indexed SET upto = 0;
INSERT OR IGNORE INTO unindexed (doc) SELECT id * 4 + 3 FROM commands WHERE answer IS NOT NULL;
