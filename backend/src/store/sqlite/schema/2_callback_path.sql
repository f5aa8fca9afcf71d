-- The path each callback was posted to: a callback posted anywhere under a client's URL is kept, and
-- one that came to a path other than `…/callback/<type>` shows where it came.
ALTER TABLE callbacks ADD COLUMN path TEXT;
