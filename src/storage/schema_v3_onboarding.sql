-- Onboarding: the queue's entry rule looks up New and Pending memberships on every load; without
-- this index that is a scan of every membership (about half a second on 550,000 members).
-- NOCASE because the status is kept as the CRM exported it.
CREATE INDEX memberships_status ON memberships(crm_status COLLATE NOCASE);
