-- PostgreSQL's v11, the twin of schema_v11_claims.sql (see there for why).
CREATE TABLE claims (
    contact_id BIGINT PRIMARY KEY REFERENCES contacts(id),
    login      TEXT COLLATE "C" NOT NULL,
    claimed_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
