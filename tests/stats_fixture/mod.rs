//! A small database whose figures are known by construction, shared by the stats, Today pane
//! and export tests. The as-of date is Monday 2026-11-23 and "me" is `ann`; the expected figures
//! are worked out membership by membership in the comments below.
#![allow(dead_code)]

use std::path::Path;

use chrono::NaiveDate;
use rollcall::Clock;
use rollcall::storage::{OpenMode, Store};

pub const TODAY: &str = "2026-11-23";
pub const ME: &str = "ann";

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

pub fn clock() -> Clock {
    Clock::fixed(today(), ME)
}

/// `rollcall --db DIR/r.db --today 2026-11-23 --user ann`, with HOME and the XDG directories in
/// `dir` so that no real config is read.
pub fn rollcall(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("rollcall").unwrap();
    cmd.env_clear()
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .arg("--db")
        .arg(dir.join("r.db"))
        .args(["--today", TODAY, "--user", ME]);
    cmd
}

/// A temporary directory holding the fixture database as `r.db`.
pub fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    drop(create(&dir.path().join("r.db")));
    dir
}

/// Creates the fixture database at `path`.
pub fn create(path: &Path) -> Store {
    let store = Store::open(path, OpenMode::ReadWrite).unwrap();
    fill(&store);
    store
}

pub fn fill(store: &Store) {
    store.conn.execute_batch(FIXTURE).unwrap();
}

/// Window of the monthly figures: 2025-12 .. 2026-11.
///
/// | m  | contact | region/party     | join       | end        | CRM       | status today | notes |
/// |----|---------|------------------|------------|------------|-----------|--------------|-------|
/// | 1  | c1      | Wales/Cardiff    | 2020-01-15 | 2027-01-14 | Current   | Current  | |
/// | 2  | c2      | Wales/Cardiff    | 2026-10-01 | 2027-09-30 | Current   | New      | joiner Oct |
/// | 3  | c3      | Wales/Swansea    | 2019-05-01 | 2026-11-10 | Current   | Grace    | due Nov; lapsed since last import |
/// | 4  | c4      | North/Leeds      | 2018-03-01 | 2026-09-30 | Current   | Expired  | due Sep; leaver Oct (lapses 10-31: Sep 30 + 1 month = Oct 30) |
/// | 5  | c5      | North/Leeds      | 2018-01-01 | 2025-12-31 | Grace     | Expired  | due Dec; leaver Feb (lapses 2026-02-01); CRM moved it to Expired in import 2 |
/// | 6  | c6      | North/Leeds      | 2015-01-01 | 2027-01-01 | Cancelled | Cancelled| |
/// | 7  | c7 †    | Wales/Swansea    | 2010-01-01 | 2027-03-01 | Current   | Deceased | |
/// | 8  | c8      | North/Leeds      | 2026-11-20 | 2027-11-19 | Pending   | Pending  | joiner Nov; joined in import 2 |
/// | 9  | c9      | Wales/Cardiff    | 2000-01-01 | —          | Current   | Current  | lifetime |
/// | 10 | c1      | (Youth)          | 2025-12-01 | 2026-11-30 | Current   | Current  | joiner Dec; due Nov |
/// | 11 | c10     | North/Leeds      | 2026-11-05 | 2027-11-04 | Current   | —        | vanished in import 2: left out |
/// | 12 | c11     | Wales/Cardiff    | 2026-11-01 | 2027-10-31 | Current   | New      | joiner Nov (1st of month) |
/// | 13 | c12     | Wales/Cardiff    | 2026-10-31 | 2027-10-30 | Current   | New      | joiner Oct (last day) |
/// | 14 | c13     | Wales/Cardiff    | 2025-12-31 | 2026-12-30 | Current   | Current  | joiner Dec (year change) |
/// | 15 | c14     | Wales/Cardiff    | 2025-11-30 | 2026-11-29 | Current   | Current  | not a joiner (before window); due Nov |
/// | 16 | c15     | Wales/Swansea    | 2015-10-15 | 2027-10-14 | Current   | Current  | renewed from 2026-10-14 on 11-09 (in grace), credited: won back Nov |
/// | 17 | c16     | Wales/Swansea    | 2015-11-01 | 2027-10-31 | Current   | Current  | renewed from 2026-10-31 on 11-23 (in grace) |
/// | 18 | c17     | North/Leeds      | 2015-09-16 | 2027-09-15 | Current   | Current  | renewed from 2026-09-15 on 11-23 (late), credited: won back Nov |
/// | 19 | c18     | North/Leeds      | 2015-12-01 | 2027-11-30 | Current   | Current  | renewed early from 2026-11-30 on 11-23, credited: not won back |
pub mod expect {
    pub const NEW: u64 = 3;
    pub const CURRENT: u64 = 9;
    pub const GRACE: u64 = 1;
    pub const EXPIRED: u64 = 2;
    pub const PENDING: u64 = 1;
    pub const CANCELLED: u64 = 1;
    pub const DECEASED: u64 = 1;
    /// Contacts: Cardiff c1 c2 c9 c11 c12 c13 c14; Swansea c3 c15 c16; Leeds c17 c18.
    pub const CARDIFF: u64 = 7;
    pub const SWANSEA: u64 = 3;
    pub const LEEDS: u64 = 2;
    /// (month, joiners, leavers, due, renewed in grace, won back)
    pub const MONTHS: [(&str, u64, u64, u64, u64, u64); 12] = [
        ("2025-12", 2, 0, 1, 0, 0),
        ("2026-01", 0, 0, 0, 0, 0),
        ("2026-02", 0, 1, 0, 0, 0),
        ("2026-03", 0, 0, 0, 0, 0),
        ("2026-04", 0, 0, 0, 0, 0),
        ("2026-05", 0, 0, 0, 0, 0),
        ("2026-06", 0, 0, 0, 0, 0),
        ("2026-07", 0, 0, 0, 0, 0),
        ("2026-08", 0, 0, 0, 0, 0),
        ("2026-09", 0, 0, 2, 0, 0),
        ("2026-10", 2, 1, 2, 2, 0),
        ("2026-11", 2, 0, 4, 1, 2),
    ];
    /// Since import 2 (as of 2026-11-23; import 1 was as of 2026-11-09, and import 0, the first,
    /// as of 2026-08-24, so that the monthly renewal rates from September on are observed).
    pub const JOINED: u64 = 1;
    pub const RENEWED: u64 = 3;
    pub const LAPSED: u64 = 2;
    pub const VANISHED: u64 = 1;
    /// ann's work.
    pub const FOLLOW_UPS: u64 = 2;
    pub const PROMISES: u64 = 1;
    pub const ONBOARDING_DUE: u64 = 4;
    pub const MY_ESCALATIONS: u64 = 2;
    pub const UNASSIGNED: u64 = 2;
}

const FIXTURE: &str = "
INSERT INTO import_runs (id, started_at, finished_at, staff, as_of, file_name, file_size,
    file_sha256, profile, source, encoding, date_order) VALUES
 (0, '2026-08-24T08:00:00', '2026-08-24T08:01:00', 'ann', '2026-08-24', 'members-0824.csv', 0, '',
  'civicrm', 'civicrm', 'utf-8', 'iso'),
 (1, '2026-11-09T08:00:00', '2026-11-09T08:01:00', 'ann', '2026-11-09', 'members-1109.csv', 0, '',
  'civicrm', 'civicrm', 'utf-8', 'iso'),
 (2, '2026-11-23T08:00:00', '2026-11-23T08:01:00', 'ann', '2026-11-23', 'members-1123.csv', 0, '',
  'civicrm', 'civicrm', 'utf-8', 'iso');

INSERT INTO contacts (id, source, crm_id, display_name, sort_name, email, phone, street_address,
    city, postcode, region, local_party, preferred_language, is_deceased, do_not_phone,
    do_not_email, do_not_mail, on_hold) VALUES
 (1,  'civicrm', '101', 'Siân Evans',     'Evans, Siân',     'sian@example.org',  '029 2000 0001', '1 Heol y Frenhines', 'Cardiff', 'CF10 1AA', 'Wales', 'Cardiff', 'cy_GB', 0, 0, 0, 0, 0),
 (2,  'civicrm', '102', 'Rhys Morgan',    'Morgan, Rhys',    'rhys@example.org',  '029 2000 0002', '2 Stryd Fawr',       'Cardiff', 'CF10 1AB', 'Wales', 'Cardiff', 'cy_GB', 0, 1, 0, 0, 0),
 (3,  'civicrm', '103', 'Gareth Jones',   'Jones, Gareth',   'gareth@example.org','01792 000003',  '3 Wind Street',      'Swansea', 'SA1 1AA',  'Wales', 'Swansea', 'en_GB', 0, 0, 0, 0, 0),
 (4,  'civicrm', '104', 'Alice Brown',    'Brown, Alice',    'alice@example.org', '0113 000 0004', '4 Briggate',         'Leeds',   'LS1 1AA',  'North', 'Leeds',   'en_GB', 0, 0, 0, 0, 0),
 (5,  'civicrm', '105', 'Bob Green',      'Green, Bob',      'bob@example.org',   '0113 000 0005', '5 Briggate',         'Leeds',   'LS1 1AB',  'North', 'Leeds',   'en_GB', 0, 0, 0, 0, 0),
 (6,  'civicrm', '106', 'Carol White',    'White, Carol',    'carol@example.org', '0113 000 0006', '6 Briggate',         'Leeds',   'LS1 1AC',  'North', 'Leeds',   'en_GB', 0, 0, 0, 0, 0),
 (7,  'civicrm', '107', 'Dafydd Price',   'Price, Dafydd',   'dafydd@example.org','01792 000007',  '7 Wind Street',      'Swansea', 'SA1 1AB',  'Wales', 'Swansea', 'cy_GB', 1, 0, 0, 0, 0),
 (8,  'civicrm', '108', 'Erin Black',     'Black, Erin',     'erin@example.org',  '0113 000 0008', '8 Briggate',         'Leeds',   'LS1 1AD',  'North', 'Leeds',   'en_GB', 0, 0, 0, 0, 0),
 (9,  'civicrm', '109', 'Megan Hughes',   'Hughes, Megan',   'megan@example.org', '029 2000 0009', '9 Stryd Fawr',       'Cardiff', 'CF10 1AC', 'Wales', 'Cardiff', 'cy_GB', 0, 0, 1, 0, 0),
 (10, 'civicrm', '110', 'Frank Grey',     'Grey, Frank',     'frank@example.org', '0113 000 0010', '10 Briggate',        'Leeds',   'LS1 1AE',  'North', 'Leeds',   'en_GB', 0, 0, 0, 0, 0),
 (11, 'civicrm', '111', 'Owain Davies',   'Davies, Owain',   'owain@example.org', '029 2000 0011', '11 Stryd Fawr',      'Cardiff', 'CF10 1AD', 'Wales', 'Cardiff', 'en_GB', 0, 0, 0, 1, 0),
 (12, 'civicrm', '112', 'Nia Roberts',    'Roberts, Nia',    'nia@example.org',   '029 2000 0012', '12 Stryd Fawr',      'Cardiff', 'CF10 1AE', 'Wales', 'Cardiff', 'cy_GB', 0, 0, 0, 0, 1),
 (13, 'civicrm', '113', '=HYPERLINK(\"x\")', 'Zz, Formula', '+evil@example.org', '-1', '@street', 'Cardiff', 'CF10 1AF', 'Wales', 'Cardiff', 'en_GB', 0, 0, 0, 0, 0),
 (14, 'civicrm', '114', 'Huw Thomas',     'Thomas, Huw',     'huw@example.org',   '029 2000 0014', '14 Stryd Fawr',      'Cardiff', 'CF10 1AG', 'Wales', 'Cardiff', 'en_GB', 0, 0, 0, 0, 0),
 (15, 'civicrm', '115', 'Ffion Lewis',    'Lewis, Ffion',    'ffion@example.org', '01792 000015',  '15 Wind Street',     'Swansea', 'SA1 1AC',  'Wales', 'Swansea', 'cy_GB', 0, 0, 0, 0, 0),
 (16, 'civicrm', '116', 'Ieuan Walters',  'Walters, Ieuan',  'ieuan@example.org', '01792 000016',  '16 Wind Street',     'Swansea', 'SA1 1AD',  'Wales', 'Swansea', 'en_GB', 0, 0, 0, 0, 0),
 (17, 'civicrm', '117', 'Grace Hall',     'Hall, Grace',     'grace@example.org', '0113 000 0017', '17 Briggate',        'Leeds',   'LS1 1AF',  'North', 'Leeds',   'en_GB', 0, 0, 0, 0, 0),
 (18, 'civicrm', '118', 'Harry King',     'King, Harry',     'harry@example.org', '0113 000 0018', '18 Briggate',        'Leeds',   'LS1 1AG',  'North', 'Leeds',   'en_GB', 0, 0, 0, 0, 0);

INSERT INTO memberships (id, contact_id, source, sync_key, membership_type, join_date, start_date,
    end_date, crm_status, missing_since) VALUES
 (1,  1,  'civicrm', 'id:1',  'Individual', '2020-01-15', '2026-01-15', '2027-01-14', 'Current', NULL),
 (2,  2,  'civicrm', 'id:2',  'Individual', '2026-10-01', '2026-10-01', '2027-09-30', 'Current', NULL),
 (3,  3,  'civicrm', 'id:3',  'Individual', '2019-05-01', '2025-11-11', '2026-11-10', 'Current', NULL),
 (4,  4,  'civicrm', 'id:4',  'Individual', '2018-03-01', '2025-10-01', '2026-09-30', 'Current', NULL),
 (5,  5,  'civicrm', 'id:5',  'Individual', '2018-01-01', '2025-01-01', '2025-12-31', 'Expired', NULL),
 (6,  6,  'civicrm', 'id:6',  'Individual', '2015-01-01', '2026-01-02', '2027-01-01', 'Cancelled', NULL),
 (7,  7,  'civicrm', 'id:7',  'Individual', '2010-01-01', '2026-03-02', '2027-03-01', 'Current', NULL),
 (8,  8,  'civicrm', 'id:8',  'Individual', '2026-11-20', '2026-11-20', '2027-11-19', 'Pending', NULL),
 (9,  9,  'civicrm', 'id:9',  'Lifetime',   '2000-01-01', '2000-01-01', NULL,         'Current', NULL),
 (10, 1,  'civicrm', 'id:10', 'Youth',      '2025-12-01', '2025-12-01', '2026-11-30', 'Current', NULL),
 (11, 10, 'civicrm', 'id:11', 'Individual', '2026-11-05', '2026-11-05', '2027-11-04', 'Current', 2),
 (12, 11, 'civicrm', 'id:12', 'Individual', '2026-11-01', '2026-11-01', '2027-10-31', 'New', NULL),
 (13, 12, 'civicrm', 'id:13', 'Individual', '2026-10-31', '2026-10-31', '2027-10-30', 'New', NULL),
 (14, 13, 'civicrm', 'id:14', 'Individual', '2025-12-31', '2025-12-31', '2026-12-30', 'Current', NULL),
 (15, 14, 'civicrm', 'id:15', 'Individual', '2025-11-30', '2025-11-30', '2026-11-29', 'Current', NULL),
 (16, 15, 'civicrm', 'id:16', 'Individual', '2015-10-15', '2025-10-15', '2027-10-14', 'Current', NULL),
 (17, 16, 'civicrm', 'id:17', 'Individual', '2015-11-01', '2025-11-01', '2027-10-31', 'Current', NULL),
 (18, 17, 'civicrm', 'id:18', 'Individual', '2015-09-16', '2025-09-16', '2027-09-15', 'Current', NULL),
 (19, 18, 'civicrm', 'id:19', 'Individual', '2015-12-01', '2025-12-01', '2027-11-30', 'Current', NULL);

-- Contact attempts (ids matter: renewals are credited to them).
INSERT INTO contact_attempts (id, contact_id, membership_id, channel, outcome, note, attempted_at,
    staff) VALUES
 (1, 1,  1,  'phone',     'will_renew',   'Will pay at the branch meeting', '2026-11-10T10:15:00', 'ann'),
 (2, 2,  2,  'email',     'will_renew',   '',                               '2026-11-20T11:00:00', 'ann'),
 (3, 9,  9,  'phone',     'will_renew',   '',                               '2026-11-01T09:30:00', 'bob'),
 (4, 15, 16, 'letter',    'will_renew',   '=1+1 said the letter',           '2026-10-20T14:00:00', 'ann'),
 (5, 11, 12, 'phone',     'will_renew',   '',                               '2026-11-01T09:00:00', 'ann'),
 (6, 11, 12, 'phone',     'no_answer',    '',                               '2026-11-12T09:00:00', 'ann'),
 (7, 17, 18, 'in_person', 'will_renew',   'Met at conference',              '2026-10-01T16:45:00', 'ann'),
 (8, 18, 19, 'sms',       'will_renew',   '',                               '2026-11-02T08:05:00', 'ann'),
 (9, 4,  4,  'phone',     'left_message', '',                               '2026-11-18T13:00:00', 'ann'),
 (10, 13, 14, 'phone',    'no_answer',    '',                               '2026-11-12T13:00:00', 'bob');

INSERT INTO membership_events (membership_id, import_id, kind, old_value, new_value, occurred_on,
    credited_attempt_id) VALUES
 (12, 1, 'joined',         NULL,         NULL,         '2026-11-09', NULL),
 (11, 1, 'joined',         NULL,         NULL,         '2026-11-09', NULL),
 (16, 1, 'renewed',        '2026-10-14', '2027-10-14', '2026-11-09', 4),
 (8,  2, 'joined',         NULL,         NULL,         '2026-11-23', NULL),
 (17, 2, 'renewed',        '2026-10-31', '2027-10-31', '2026-11-23', NULL),
 (18, 2, 'renewed',        '2026-09-15', '2027-09-15', '2026-11-23', 7),
 (19, 2, 'renewed',        '2026-11-30', '2027-11-30', '2026-11-23', 8),
 (5,  2, 'status_changed', 'Grace',      'Expired',    '2026-11-23', NULL),
 (11, 2, 'missing',        NULL,         NULL,         '2026-11-23', NULL);

-- Snoozes: ann follows up m3 (assigned) and m10 (her own snooze, nobody assigned).
INSERT INTO snoozes (membership_id, until, staff, created_at) VALUES
 (3,  '2026-11-20', 'bob', '2026-11-01T09:00:00'),
 (10, '2026-11-23', 'ann', '2026-11-02T09:00:00'),
 (15, '2026-11-24', 'ann', '2026-11-02T09:00:00'),
 (4,  '2026-11-15', 'ann', '2026-11-02T09:00:00'),
 (14, '2026-11-20', 'bob', '2026-11-02T09:00:00'),
 (18, '2026-11-10', 'ann', '2026-11-01T09:00:00');

INSERT INTO assignments (contact_id, queue, assignee, staff, assigned_at) VALUES
 (3,  'renewals',   'ann', 'bob', '2026-11-01T09:00:00'),
 (13, 'renewals',   'bob', 'bob', '2026-11-01T09:00:00'),
 (17, 'renewals',   'ann', 'bob', '2026-11-01T09:00:00'),
 (11, 'onboarding', 'ann', 'ann', '2026-11-02T09:00:00'),
 (12, 'onboarding', 'bob', 'ann', '2026-11-02T09:00:00'),
 (2,  'onboarding', 'ann', 'ann', '2026-11-21T09:00:00'),
 (8,  'onboarding', 'ann', 'ann', '2026-11-21T09:00:00');

-- Onboarding: c11 has 3 steps due (welcome call 11-08, local party 11-15, invited 11-22);
-- c2's welcome email is due today; c12 is bob's; c8's path was abandoned.
INSERT INTO onboarding (contact_id, anchor_date, added_by, added_at, state) VALUES
 (11, '2026-11-01', 'import', '2026-11-09T08:01:00', 'active'),
 (12, '2026-10-31', 'import', '2026-11-09T08:01:00', 'active'),
 (2,  '2026-11-21', 'ann',    '2026-11-21T09:00:00', 'active'),
 (8,  '2026-11-20', 'import', '2026-11-23T08:01:00', 'abandoned');
INSERT INTO onboarding_steps (contact_id, step_key, done_at, done_by) VALUES
 (11, 'welcome_email', '2026-11-02T10:30:00', 'ann'),
 (12, 'welcome_email', '2026-11-01T12:00:00', 'bob');

INSERT INTO escalations (id, contact_id, category, priority, title, assignee, status, opened_at,
    opened_by, due_date, resolved_at, resolution) VALUES
 (1, 3,    'complaint',        'high',   'Double charged at renewal', 'ann', 'open',              '2026-11-17T09:00:00', 'ann', '2026-11-20', NULL, ''),
 (2, 4,    'renewal_payment',  'normal', 'Direct debit failed',       'ann', 'in_progress',       '2026-11-09T09:00:00', 'bob', '2026-11-23', NULL, ''),
 (3, 1,    'member_concern',   'normal', 'Branch meeting access',     'ann', 'open',              '2026-11-20T09:00:00', 'ann', '2026-11-24', NULL, ''),
 (4, 5,    'complaint',        'low',    'Magazine not arriving',     'ann', 'resolved',          '2026-10-01T09:00:00', 'ann', '2026-11-01', '2026-11-01T12:00:00', 'Address corrected'),
 (5, NULL, 'other',            'normal', 'Branch bank account',       NULL,  'open',              '2026-11-19T09:00:00', 'bob', '2026-12-03', NULL, ''),
 (6, 1,    'member_concern',   'urgent', 'Wants to change branch',    '',    'waiting_on_member', '2026-11-22T09:00:00', 'bob', '2026-11-23', NULL, ''),
 (7, NULL, 'other',            'normal', 'Old question',              NULL,  'resolved',          '2026-10-01T09:00:00', 'bob', '2026-10-15', '2026-10-10T09:00:00', 'Answered');
INSERT INTO escalation_events (id, escalation_id, kind, old_value, new_value, body, staff, at) VALUES
 (1, 1, 'opened',   NULL,   NULL,       '',                          'ann', '2026-11-17T09:00:00'),
 (2, 1, 'comment',  NULL,   NULL,       'Called, will ring back',    'ann', '2026-11-21T10:00:00'),
 (3, 4, 'resolved', 'open', 'resolved', 'Address corrected',         'ann', '2026-11-01T12:00:00'),
 (4, 5, 'comment',  NULL,   NULL,       'Asked the treasurer',       'bob', '2026-11-20T15:00:00'),
 (5, 1, 'status',   'open', 'open',     '',                          'ann', '2026-11-21T10:01:00'),
 (6, 6, 'comment',  NULL,   NULL,       '@mention the branch chair', 'bob', '2026-11-22T09:30:00');
";
