-- First-import speed (issue 2). The onboarding entry rule looks up New and Pending memberships
-- (storage/onboarding.rs, `qualifying`); an index of every membership's status held ten times
-- the keys that lookup needs, and a first import spent a third of its index rebuilding sorting
-- them. The partial index holds only the New and Pending ones; SQLite uses it because the
-- query's condition is the index's own.
DROP INDEX memberships_status;
CREATE INDEX memberships_new_pending ON memberships(crm_status COLLATE NOCASE)
    WHERE crm_status COLLATE NOCASE IN ('New', 'Pending');
