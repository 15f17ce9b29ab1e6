-- Privacy (issue 15).
-- IF NOT EXISTS / OR IGNORE: upgrade tests rewind a current database's user_version to replay
-- the later migrations over tables that are already there.
-- How many erasures have run. An app window reads it when it loads its saved state and again
-- when it saves at quit: if someone was erased meanwhile, the window's filters, queries and
-- selections may name them, so it saves only which pane was open (app/ui_state.rs).
CREATE TABLE IF NOT EXISTS erasure_generation (
    only       INTEGER PRIMARY KEY CHECK (only = 1),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO erasure_generation (only, generation) VALUES (1, 0);

-- Retention exceptions: people a coordinator has marked to keep past the retention rule
-- (`rollcall retention --keep`), with why. Erased with the person.
CREATE TABLE IF NOT EXISTS retention_keeps (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id),
    reason     TEXT NOT NULL,
    staff      TEXT NOT NULL,
    kept_at    TEXT NOT NULL
);
