-- rollcall schema, version 1.
-- Two kinds of table: what the CRM owns (contacts, memberships: rewritten by every import) and
-- what rollcall owns (workflow records: never touched by import). Rollcall-owned rows point at
-- contacts/memberships through rollcall's own integer ids, which stay stable across re-imports
-- because import matches rows on (source, CRM id) and updates them in place.

-- ---------------------------------------------------------------- CRM-owned
CREATE TABLE contacts (
    id                 INTEGER PRIMARY KEY,
    source             TEXT NOT NULL,          -- which CRM instance, e.g. 'civicrm'
    crm_id             TEXT NOT NULL,          -- the CRM's contact id
    contact_type       TEXT NOT NULL DEFAULT 'Individual', -- Individual | Organization | Household
    display_name       TEXT NOT NULL DEFAULT '',
    sort_name          TEXT NOT NULL DEFAULT '',
    first_name         TEXT NOT NULL DEFAULT '',
    last_name          TEXT NOT NULL DEFAULT '',
    organization_name  TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    phone              TEXT NOT NULL DEFAULT '',
    street_address     TEXT NOT NULL DEFAULT '',
    city               TEXT NOT NULL DEFAULT '',
    postcode           TEXT NOT NULL DEFAULT '',
    county             TEXT NOT NULL DEFAULT '',
    country            TEXT NOT NULL DEFAULT '',
    preferred_language TEXT NOT NULL DEFAULT '', -- e.g. 'en_GB', 'cy_GB'
    do_not_email       INTEGER NOT NULL DEFAULT 0,
    do_not_phone       INTEGER NOT NULL DEFAULT 0,
    do_not_mail        INTEGER NOT NULL DEFAULT 0,
    do_not_sms         INTEGER NOT NULL DEFAULT 0,
    no_bulk_email      INTEGER NOT NULL DEFAULT 0,
    on_hold            INTEGER NOT NULL DEFAULT 0,
    is_deceased        INTEGER NOT NULL DEFAULT 0,
    deceased_date      TEXT,                   -- YYYY-MM-DD
    local_party        TEXT NOT NULL DEFAULT '',
    region             TEXT NOT NULL DEFAULT '',
    constituency       TEXT NOT NULL DEFAULT '',
    crm_hash           INTEGER NOT NULL DEFAULT 0, -- hash of the CRM fields: cheap "unchanged" test on re-import
    first_import_id    INTEGER,
    last_import_id     INTEGER,
    UNIQUE (source, crm_id)
);

CREATE TABLE memberships (
    id                 INTEGER PRIMARY KEY,
    contact_id         INTEGER NOT NULL REFERENCES contacts(id),
    source             TEXT NOT NULL,
    -- 'id:<CRM membership id>', or 'ct:<CRM contact id>:<membership type>' when the CRM gives no id.
    sync_key           TEXT NOT NULL,
    crm_membership_id  TEXT,
    membership_type    TEXT NOT NULL DEFAULT '',
    join_date          TEXT,                   -- "Member Since", YYYY-MM-DD
    start_date         TEXT,
    end_date           TEXT,                   -- NULL: lifetime
    crm_status         TEXT NOT NULL DEFAULT '', -- as exported, possibly stale
    membership_source  TEXT NOT NULL DEFAULT '',
    auto_renew         INTEGER NOT NULL DEFAULT 0,
    crm_hash           INTEGER NOT NULL DEFAULT 0,
    missing_since      INTEGER REFERENCES import_runs(id), -- set when absent from a later full export
    first_import_id    INTEGER,
    last_import_id     INTEGER,
    UNIQUE (source, sync_key)
);
CREATE INDEX memberships_contact ON memberships(contact_id);
CREATE INDEX memberships_end ON memberships(end_date);
CREATE INDEX memberships_join ON memberships(join_date);

CREATE TABLE import_runs (
    id                    INTEGER PRIMARY KEY,
    started_at            TEXT NOT NULL,       -- RFC 3339
    finished_at           TEXT,
    staff                 TEXT NOT NULL,
    as_of                 TEXT NOT NULL,       -- the --today of the run
    file_name             TEXT NOT NULL,
    file_size             INTEGER NOT NULL,
    file_sha256           TEXT NOT NULL,
    profile               TEXT NOT NULL,
    source                TEXT NOT NULL,
    encoding              TEXT NOT NULL,
    date_order            TEXT NOT NULL,       -- 'iso' | 'dmy' | 'mdy'
    rows_read             INTEGER NOT NULL DEFAULT 0,
    contacts_inserted     INTEGER NOT NULL DEFAULT 0,
    contacts_updated      INTEGER NOT NULL DEFAULT 0,
    contacts_unchanged    INTEGER NOT NULL DEFAULT 0,
    memberships_inserted  INTEGER NOT NULL DEFAULT 0,
    memberships_updated   INTEGER NOT NULL DEFAULT 0,
    memberships_unchanged INTEGER NOT NULL DEFAULT 0,
    renewed               INTEGER NOT NULL DEFAULT 0,
    missing_from_export   INTEGER NOT NULL DEFAULT 0,
    back_in_export        INTEGER NOT NULL DEFAULT 0,
    skipped_erased        INTEGER NOT NULL DEFAULT 0,
    rejected              INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE import_rejects (
    import_id INTEGER NOT NULL REFERENCES import_runs(id),
    line      INTEGER NOT NULL,                -- 1-based physical line where the record starts
    reason    TEXT NOT NULL                    -- never holds a member's data, only what was wrong
);
CREATE INDEX import_rejects_run ON import_rejects(import_id);

-- Membership history, written by import: joined | renewed | status_changed | missing | returned
CREATE TABLE membership_events (
    id            INTEGER PRIMARY KEY,
    membership_id INTEGER NOT NULL REFERENCES memberships(id),
    import_id     INTEGER REFERENCES import_runs(id),
    kind          TEXT NOT NULL,
    old_value     TEXT,                        -- renewed: old end date; status_changed: old status
    new_value     TEXT,
    occurred_on   TEXT NOT NULL,               -- as-of date of the import that saw it
    credited_attempt_id INTEGER REFERENCES contact_attempts(id) -- renewed: the contact attempt it is credited to
);
CREATE INDEX membership_events_membership ON membership_events(membership_id);
CREATE INDEX membership_events_import ON membership_events(import_id);

-- ---------------------------------------------------------------- rollcall-owned
-- Import never writes to these (except membership_events.credited_attempt_id above, which
-- only reads contact_attempts).

CREATE TABLE contact_attempts (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL REFERENCES contacts(id),
    membership_id INTEGER REFERENCES memberships(id),
    channel       TEXT NOT NULL,               -- phone | email | letter | sms | in_person
    outcome       TEXT NOT NULL,               -- no_answer | left_message | will_renew | renewed | declined | wrong_number | do_not_contact
    note          TEXT NOT NULL DEFAULT '',
    attempted_at  TEXT NOT NULL,               -- RFC 3339
    staff         TEXT NOT NULL,
    batch         INTEGER                      -- bulk actions share a batch id (for undo)
);
CREATE INDEX contact_attempts_contact ON contact_attempts(contact_id);
CREATE INDEX contact_attempts_membership ON contact_attempts(membership_id);

-- Next action date for a membership in the renewals queue.
CREATE TABLE snoozes (
    membership_id INTEGER PRIMARY KEY REFERENCES memberships(id),
    until         TEXT NOT NULL,               -- YYYY-MM-DD
    staff         TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE notes (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL REFERENCES contacts(id),
    membership_id INTEGER REFERENCES memberships(id),
    context       TEXT NOT NULL DEFAULT '',    -- renewals | onboarding | member
    body          TEXT NOT NULL,
    staff         TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX notes_contact ON notes(contact_id);

-- Who follows up a contact in a queue ('renewals' or 'onboarding').
CREATE TABLE assignments (
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    queue       TEXT NOT NULL,
    assignee    TEXT NOT NULL,
    staff       TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (contact_id, queue)
);

-- One row per contact who has entered the onboarding queue; kept until completed or abandoned,
-- whatever later imports say.
CREATE TABLE onboarding (
    contact_id     INTEGER PRIMARY KEY REFERENCES contacts(id),
    anchor_date    TEXT NOT NULL,              -- the join date step due dates count from
    added_by_hand  INTEGER NOT NULL DEFAULT 0,
    added_by       TEXT NOT NULL,
    added_at       TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'active', -- active | completed | abandoned
    closed_reason  TEXT NOT NULL DEFAULT '',
    closed_by      TEXT,
    closed_at      TEXT
);

CREATE TABLE onboarding_steps (
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    step_key   TEXT NOT NULL,
    done_at    TEXT NOT NULL,
    done_by    TEXT NOT NULL,
    batch      INTEGER,
    PRIMARY KEY (contact_id, step_key)
);

CREATE TABLE escalations (
    id           INTEGER PRIMARY KEY,
    contact_id   INTEGER REFERENCES contacts(id), -- NULL: not about one member
    membership_id INTEGER REFERENCES memberships(id),
    category     TEXT NOT NULL,
    priority     TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    assignee     TEXT,
    status       TEXT NOT NULL DEFAULT 'open',  -- open | in_progress | waiting_on_member | resolved
    opened_at    TEXT NOT NULL,
    opened_by    TEXT NOT NULL,
    due_date     TEXT NOT NULL,
    resolved_at  TEXT,
    resolution   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX escalations_contact ON escalations(contact_id);

-- Timeline: opened | comment | status | assignee | priority | resolved | reopened
CREATE TABLE escalation_events (
    id            INTEGER PRIMARY KEY,
    escalation_id INTEGER NOT NULL REFERENCES escalations(id),
    kind          TEXT NOT NULL,
    old_value     TEXT,
    new_value     TEXT,
    body          TEXT NOT NULL DEFAULT '',
    staff         TEXT NOT NULL,
    at            TEXT NOT NULL
);
CREATE INDEX escalation_events_escalation ON escalation_events(escalation_id);

-- The activity write-back's once-only rule: an activity key ('attempt:12', 'step:5:welcome_email',
-- 'escalation_event:9') is listed here once it has been exported.
CREATE TABLE exported_activities (
    activity_key TEXT PRIMARY KEY,
    exported_at  TEXT NOT NULL
);

-- Every change made in rollcall: who, when, what, before and after (JSON).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    staff      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  INTEGER,
    contact_id INTEGER,                        -- no FK: the line outlives an erased contact
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_log_contact ON audit_log(contact_id);

-- Erased people: a keyed hash of (source, CRM id), so a later import can skip them without the
-- database keeping who they were.
CREATE TABLE erased_contacts (
    key_hash  TEXT PRIMARY KEY,
    erased_at TEXT NOT NULL,
    staff     TEXT NOT NULL
);

-- Per-user app state restored at start (pane, filters, selection).
CREATE TABLE ui_state (
    staff TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (staff, key)
);
