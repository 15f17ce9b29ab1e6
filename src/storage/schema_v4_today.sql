-- Indexes for the Today pane's figures (storage/stats.rs), measured in BENCHMARKS.md "### Today".

-- Deceased contacts are few: the status figures look memberships up in this small set instead
-- of joining every membership to its contact.
CREATE INDEX contacts_deceased ON contacts(id) WHERE is_deceased <> 0;

-- "Since the last import": count an import's events of one kind from the index alone.
CREATE INDEX membership_events_import_kind ON membership_events(import_id, kind, membership_id);

-- Renewal rate by month: renewed events by the end date they moved on from (covering).
CREATE INDEX membership_events_renewed ON membership_events(old_value, occurred_on, membership_id)
    WHERE kind = 'renewed';

-- Members won back after a contact: the few renewals credited to a contact attempt (covering).
CREATE INDEX membership_events_credited
    ON membership_events(occurred_on, old_value, membership_id)
    WHERE kind = 'renewed' AND credited_attempt_id IS NOT NULL;
