-- PostgreSQL's v8, the twin of schema_v8_nb_memberships_tags.sql (see there for why).
CREATE TABLE membership_dates_unknown (
    membership_id BIGINT PRIMARY KEY REFERENCES memberships(id)
);

CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    tag        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
