-- PostgreSQL's v9, the twin of schema_v9_onboarding_arrival.sql (see there for why).
ALTER TABLE onboarding ADD COLUMN arrival TEXT COLLATE "C"
    CHECK (arrival IS NULL OR arrival IN ('new', 'rejoined', 'not_new'));

DROP INDEX IF EXISTS memberships_join;
CREATE INDEX memberships_join ON memberships(join_date, contact_id);
