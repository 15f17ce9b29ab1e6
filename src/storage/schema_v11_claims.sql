-- Claims (issue 16): an officer who opens a member's contact dialog, or takes their row,
-- reserves that member for a while, so that two officers never ring the same person. A claim
-- past its expires_at is nobody's: a crashed window leaves nothing stuck. One claim per
-- contact. Times are rollcall's timestamp form (YYYY-MM-DDTHH:MM:SS).
-- IF NOT EXISTS: upgrade tests replay later migrations over tables that are already there.
CREATE TABLE IF NOT EXISTS claims (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id),
    login      TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
