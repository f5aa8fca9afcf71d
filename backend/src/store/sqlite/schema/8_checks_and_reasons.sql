-- Each signature's decoded view gains the checks beside its verdict (digest, validity, chain:
-- decode/trust.rs). Every document is queued again so that no page shows the older view.
UPDATE indexed SET upto = 0;
INSERT OR IGNORE INTO unindexed (doc) SELECT id * 4 + 3 FROM commands WHERE answer IS NOT NULL;
-- Why a command did not complete (`reason`, one line: states.rs `failure`), and each callback's
-- error as one line, which becomes its command's when it is matched after it came.
ALTER TABLE commands ADD COLUMN reason TEXT;
ALTER TABLE callbacks ADD COLUMN reason TEXT;
