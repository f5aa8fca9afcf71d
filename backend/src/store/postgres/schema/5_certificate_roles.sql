-- Certificates' roles, as SQLite's layout 10 (store/sqlite/schema/10_certificate_roles.sql).
UPDATE indexed SET upto = 0;
INSERT INTO unindexed (doc) SELECT id * 4 + 3 FROM commands WHERE answer IS NOT NULL
    ON CONFLICT DO NOTHING;
