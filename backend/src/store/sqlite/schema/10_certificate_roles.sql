-- Each certificate a signature carries says what it is to it (`role`: signer, issuer of…;
-- decode/x509.rs, `carried`). Every document is queued again so that no page shows the older view.
UPDATE indexed SET upto = 0;
INSERT OR IGNORE INTO unindexed (doc) SELECT id * 4 + 3 FROM commands WHERE answer IS NOT NULL;
