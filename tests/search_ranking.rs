//! Ranking as a member-services officer expects it, on real index loads.

#[path = "search_support/mod.rs"]
mod support;

use rollcall::search::{Index, LoadProgress, MemberHit, Query, Searcher, Tier};
use rollcall::storage::{OpenMode, Store};

struct Fixture {
    index: Index,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcall.db");
    support::create_db(&path);
    let store = Store::open(&path, OpenMode::ReadOnly).unwrap();
    let index = Index::load(&store, support::today(), &LoadProgress::default(), &|| {
        false
    })
    .unwrap();
    Fixture { index, _dir: dir }
}

impl Fixture {
    fn search(&self, query: &str) -> Vec<MemberHit> {
        let outcome = Searcher::with_threads(2)
            .search(&self.index, &Query::parse(query), 50, None, &|| false)
            .unwrap();
        outcome
            .hits
            .iter()
            .map(|h| MemberHit::new(&self.index, h))
            .collect()
    }

    fn names(&self, query: &str) -> Vec<String> {
        self.search(query).into_iter().map(|h| h.name).collect()
    }

    fn first(&self, query: &str) -> MemberHit {
        self.search(query)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("`{query}` found nobody"))
    }
}

#[test]
fn accents_are_optional() {
    let f = fixture();
    assert_eq!(f.first("sian").name, "Siân Jones");
    assert_eq!(f.first("Siân").name, "Siân Jones");
    assert_eq!(f.first("lukasz").name, "Łukasz Wróbel");
    assert_eq!(f.first("wrobel").name, "Łukasz Wróbel");
    assert_eq!(f.first("gwyn").name, "Gwŷn ap Dafydd");
    assert_eq!(f.first("sean").name, "Seán O'Neill");
}

#[test]
fn apostrophes_and_spaces_are_optional_in_names() {
    let f = fixture();
    for query in ["oneill", "o'neill", "O’Neill", "o neill", "neill"] {
        assert_eq!(f.first(query).name, "Seán O'Neill", "{query}");
    }
    assert_eq!(f.first("apdafydd").name, "Gwŷn ap Dafydd");
    assert_eq!(f.first("sian jones").name, "Siân Jones");
    assert_eq!(f.first("jones sian").name, "Siân Jones");
}

#[test]
fn postcodes_with_or_without_the_space() {
    let f = fixture();
    for query in ["CF10 1AA", "cf101aa", "cf10 1aa"] {
        let hits = f.search(query);
        let names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["Siân Jones", "Dylan Thomas"], "{query}");
        assert!(hits.iter().all(|h| h.tier == Tier::Exact), "{query}");
    }
    // A district finds everyone in it, by name.
    assert_eq!(
        f.names("cf10"),
        ["Siân Jones", "Jonathan Smith", "Dylan Thomas"]
    );
}

#[test]
fn an_exact_id_comes_before_a_number_inside_a_phone() {
    let f = fixture();
    let hits = f.search("12345");
    assert_eq!(hits[0].name, "Edith Evans");
    assert_eq!(hits[0].tier, Tier::Exact);
    assert_eq!(hits[1].name, "Dylan Thomas", "phone 07700 912345");
    assert!(hits[1].tier > Tier::Exact);
}

#[test]
fn an_exact_email_comes_first() {
    let f = fixture();
    let hit = f.first("Sian.Jones@example.org");
    assert_eq!((hit.name.as_str(), hit.tier), ("Siân Jones", Tier::Exact));
    // Part of an email is a prefix match, not exact.
    assert_eq!(f.first("sian.jones@exam").tier, Tier::FieldPrefix);
}

#[test]
fn a_membership_id_shows_that_membership() {
    let f = fixture();
    let hit = f.first("M2004");
    assert_eq!(hit.name, "Aled Jones");
    assert_eq!(hit.tier, Tier::Exact);
    let shown = hit.membership.unwrap();
    assert_eq!(
        (shown.crm_id.as_str(), shown.crm_status.as_str()),
        ("M2004", "Expired")
    );
    // Otherwise the member appears once, with the membership that counts today.
    let aled: Vec<MemberHit> = f
        .search("aled")
        .into_iter()
        .filter(|h| h.name == "Aled Jones")
        .collect();
    assert_eq!(aled.len(), 1);
    assert_eq!(aled[0].membership.as_ref().unwrap().crm_id, "M2005");
    assert_eq!(aled[0].memberships, 2);
}

#[test]
fn names_starting_with_the_query_come_before_fuzzy_matches() {
    let f = fixture();
    let hits = f.search("jon");
    let names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
    // Surnames and first names starting "jon", in name order, then the fuzzy J-o-a-n.
    assert_eq!(
        &names[..4],
        [
            "Aled Jones",
            "Siân Jones",
            "Tom Jonesworth",
            "Jonathan Smith"
        ]
    );
    let joan = names
        .iter()
        .position(|n| *n == "Joan Nash")
        .expect("Joan Nash");
    assert!(joan > 3);
    assert_eq!(hits[joan].tier, Tier::Fuzzy);
}

#[test]
fn a_whole_surname_beats_a_longer_one_and_names_beat_emails() {
    let f = fixture();
    assert_eq!(
        f.names("jones"),
        ["Aled Jones", "Siân Jones", "Tom Jonesworth", "Mair Davies"],
        "Mair Davies only has jones in her email"
    );
}

#[test]
fn one_swapped_or_dropped_letter_is_forgiven() {
    let f = fixture();
    let jones = f.names("jnoes");
    assert_eq!(&jones[..2], ["Aled Jones", "Siân Jones"]);
    assert_eq!(f.first("smth").name, "Jonathan Smith");
    assert_eq!(f.first("wrobl").name, "Łukasz Wróbel");
    assert_eq!(f.first("jonse").name, "Aled Jones");
    // Short tokens are not forgiven: three letters match too much.
    let jno = f.names("jno");
    assert!(!jno.iter().any(|n| n.ends_with(" Jones")), "{jno:?}");
}

#[test]
fn ties_break_by_name_then_id_every_time() {
    let f = fixture();
    let first = f.names("a");
    for _ in 0..5 {
        assert_eq!(f.names("a"), first);
    }
    assert!(first.len() > 5);
}

#[test]
fn a_query_of_punctuation_only_is_empty_and_finds_everyone_in_name_order() {
    let f = fixture();
    let hits = f.search("'");
    assert_eq!(hits.len(), 12);
    assert_eq!(hits[0].name, "Gwŷn ap Dafydd", "ap Dafydd sorts first");
}
