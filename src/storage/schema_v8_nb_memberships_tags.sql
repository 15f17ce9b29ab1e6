-- NationBuilder membership names and CRM tags (issue 18).
-- IF NOT EXISTS: upgrade tests rewind a current database's user_version to replay the later
-- migrations over tables that are already there.

-- Memberships known only by their type: a NationBuilder people export's `membership_names`
-- lists types with no dates and no status. Such a membership is never lifetime and never
-- counted as a member without evidence; an import that gives its dates (the memberships
-- export, same source, keyed by contact id and type) removes the marker.
CREATE TABLE IF NOT EXISTS membership_dates_unknown (
    membership_id INTEGER PRIMARY KEY REFERENCES memberships(id)
);

-- A contact's tags as the CRM lists them (NationBuilder `tag_list`, Action Network
-- `can2_user_tags`). CRM data: each import of the contact replaces them. Erased with the person.
CREATE TABLE IF NOT EXISTS contact_tags (
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    tag        TEXT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
