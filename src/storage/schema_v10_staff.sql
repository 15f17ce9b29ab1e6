-- The staff list (issue 16): who works in rollcall, in which role, over which members.
-- Assignments are checked against it once anyone is on it. A removed staff member's row stays
-- (removed_at set), so their name on old changes still says who they were.
-- IF NOT EXISTS: upgrade tests rewind a current database's user_version to replay the later
-- migrations over tables that are already there.
CREATE TABLE IF NOT EXISTS staff (
    login      TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL
               CHECK (role IN ('admin', 'coordinator', 'officer', 'organiser', 'viewer')),
    added_by   TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    removed_by TEXT,
    removed_at TEXT
);

-- An organiser's regions and local parties (nobody else has any).
CREATE TABLE IF NOT EXISTS staff_scopes (
    login TEXT NOT NULL REFERENCES staff(login),
    kind  TEXT NOT NULL CHECK (kind IN ('region', 'local_party')),
    value TEXT NOT NULL,
    PRIMARY KEY (login, kind, value)
);
