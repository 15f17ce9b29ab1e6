-- How each onboarding entry arrived (new to the organisation, a rejoiner, or neither by the
-- current rule), judged once by the entry rule on the day it was recorded. Reading the queue no
-- longer reads every queued member's memberships again to judge it (on PostgreSQL that was a
-- third of the pane's time at 550,000 members). NULL: recorded before v9 or added by hand, and
-- judged from the memberships until the next enrolment that records someone fills it in.
ALTER TABLE onboarding ADD COLUMN arrival TEXT
    CHECK (arrival IS NULL OR arrival IN ('new', 'rejoined', 'not_new'));

-- The queue's candidates by join date, answered from the index alone.
DROP INDEX IF EXISTS memberships_join;
CREATE INDEX memberships_join ON memberships(join_date, contact_id);
