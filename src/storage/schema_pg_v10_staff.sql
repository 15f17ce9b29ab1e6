-- PostgreSQL's v10, the twin of schema_v10_staff.sql (see there for why).
CREATE TABLE staff (
    login      TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    role       TEXT COLLATE "C" NOT NULL
               CHECK (role IN ('admin', 'coordinator', 'officer', 'organiser', 'viewer')),
    added_by   TEXT COLLATE "C" NOT NULL,
    added_at   TEXT COLLATE "C" NOT NULL,
    removed_by TEXT COLLATE "C",
    removed_at TEXT COLLATE "C"
);

CREATE TABLE staff_scopes (
    login TEXT COLLATE "C" NOT NULL REFERENCES staff(login),
    kind  TEXT COLLATE "C" NOT NULL CHECK (kind IN ('region', 'local_party')),
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (login, kind, value)
);
