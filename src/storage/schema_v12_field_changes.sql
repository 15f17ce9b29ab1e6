-- Field changes (issue 21): which CRM fields each import changed on a contact or one of its
-- memberships, from what to what (domain/changes.rs lists the fields). Written by import only.
-- It is CRM data about a person: erased with them (erase.rs), and on a team database seen by
-- an organiser only for the contacts in their scope (team_access.rs).
-- IF NOT EXISTS: upgrade tests replay later migrations over tables that are already there.
CREATE TABLE IF NOT EXISTS field_changes (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL REFERENCES contacts(id),
    membership_id INTEGER REFERENCES memberships(id),   -- NULL: a field of the contact
    import_id     INTEGER NOT NULL REFERENCES import_runs(id),
    field         TEXT NOT NULL,
    old_value     TEXT,
    new_value     TEXT,
    occurred_on   TEXT NOT NULL                         -- as-of date of the import that saw it
);
CREATE INDEX IF NOT EXISTS field_changes_contact ON field_changes(contact_id);
CREATE INDEX IF NOT EXISTS field_changes_occurred ON field_changes(occurred_on);
CREATE INDEX IF NOT EXISTS field_changes_import ON field_changes(import_id);
