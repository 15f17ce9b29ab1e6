//! The engine's guarantees: a narrowed search finds exactly what a fresh one does, stale
//! searches stop, and the service loads in the background and keeps up with the newest query.

#[path = "search_support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rollcall::domain::ContactFlags;
use rollcall::domain::membership::MembershipDates;
use rollcall::search::{
    ContactInput, Index, IndexState, MembershipInput, Query, SearchResults, SearchService,
    Searcher, Tier,
};
use rollcall::storage::{OpenMode, Store};

const FIRST: &[&str] = &[
    "Siân",
    "Rhiannon",
    "Dafydd",
    "Łukasz",
    "Seán",
    "Aoife",
    "John",
    "Joan",
    "Jonathan",
    "Sarah",
    "Gwŷn",
    "Małgorzata",
    "Emma",
    "David",
    "Bethan",
    "Iwan",
];
const LAST: &[&str] = &[
    "Jones",
    "Williams",
    "Davies",
    "O'Neill",
    "Smith",
    "Jonesworth",
    "ap Dafydd",
    "Wróbel",
    "Evans",
    "Thomas",
    "Jones-Davies",
    "Pritchard",
    "Nash",
    "Roberts",
    "Smithson",
];

/// `n` contacts with names, emails, postcodes, phones and ids that overlap as real ones do.
fn synthetic(n: usize) -> Index {
    let contacts: Vec<ContactInput> = (0..n)
        .map(|i| {
            let first = FIRST[i % FIRST.len()];
            let last = LAST[(i / FIRST.len() + i) % LAST.len()];
            ContactInput {
                id: i as i64 + 1,
                crm_id: (10_000 + i * 7).to_string(),
                display_name: format!("{first} {last}"),
                sort_name: format!("{last}, {first}"),
                first_name: first.into(),
                last_name: last.into(),
                email: format!("{}.{}{}@example.org", first, last, i % 97).to_lowercase(),
                postcode: format!(
                    "CF{} {}A{}",
                    i % 40,
                    i % 10,
                    (b'A' + (i % 26) as u8) as char
                ),
                phone: format!("07700 9{:05}", i * 13 % 100_000),
                local_party: "Cardiff Central".into(),
                flags: ContactFlags::default(),
                memberships: vec![MembershipInput {
                    id: i as i64 + 1,
                    crm_id: format!("M{}", 500 + i * 3),
                    membership_type: "Individual".into(),
                    crm_status: "Current".into(),
                    dates: MembershipDates::default(),
                }],
                ..ContactInput::default()
            }
        })
        .collect();
    Index::from_contacts(&contacts, support::today())
}

fn never() -> bool {
    false
}

/// Types `text` one character at a time, narrowing whenever the engine says it may (from the
/// previous query, or from its relaxed form when the next letter starts forgiving typos, as the
/// service does), and checks every step against a fresh search of the whole index.
fn assert_narrowing_matches_fresh(index: &Index, searcher: &Searcher, text: &str) {
    let mut bases: Vec<(Query, Vec<u32>)> = Vec::new();
    for end in text.char_indices().map(|(i, c)| i + c.len_utf8()) {
        let query = Query::parse(&text[..end]);
        let fresh = searcher.search(index, &query, 40, None, &never).unwrap();
        for (base_query, base) in bases.iter().filter(|(q, _)| query.narrows(q)) {
            let narrowed = searcher
                .search(index, &query, 40, Some(base), &never)
                .unwrap();
            let how = format!("`{}` from {base_query:?}", &text[..end]);
            assert_eq!(narrowed.total, fresh.total, "total for {how}");
            assert_eq!(narrowed.hits, fresh.hits, "hits for {how}");
            assert_eq!(narrowed.matches, fresh.matches, "matches for {how}");
        }
        bases.clear();
        if query.before_typos() {
            let relaxed = query.relaxed();
            let outcome = searcher.search(index, &relaxed, 40, None, &never).unwrap();
            bases.extend(outcome.matches.map(|m| (relaxed, m)));
        }
        bases.extend(fresh.matches.map(|m| (query, m)));
    }
}

#[test]
fn narrowed_searches_equal_fresh_ones() {
    let index = synthetic(20_000);
    let searcher = Searcher::with_threads(2);
    for text in [
        "jones",
        "jnoes davi",
        "sian jones",
        "o'neill",
        "smithson",
        "cf12 3ac",
        "07700 900",
        "m5003",
        "jonathan nash",
        "wrobel lukasz",
        "@example.org",
        "wiliams",
        "jnoes",
        "davise",
    ] {
        assert_narrowing_matches_fresh(&index, &searcher, text);
    }
}

/// Leaving ungraded the records that could not be shown changes no hit, and completing the
/// count gives the same total and match set as grading everything.
#[test]
fn records_left_unverified_change_no_hit_and_no_count() {
    let index = synthetic(20_000);
    let searcher = Searcher::with_threads(2);
    let mut skipped = 0;
    for text in [
        "j", "jo", "da", "dav", "s", "sm", "smth", "jones", "jones d", "cf1", "07700", "@example",
        "davi", "o", "m50", "sian jo", "10", "10007", "m503", "cf12 3ac",
    ] {
        let query = Query::parse(text);
        // A limit as large as the index: nothing can be ruled out, everything is graded.
        let everything = searcher
            .search(&index, &query, index.len(), None, &never)
            .unwrap();
        let visible = searcher
            .search_visible(&index, &query, 40, None, &never)
            .unwrap();
        let best = &everything.hits[..everything.hits.len().min(40)];
        if best.iter().all(|h| h.tier != Tier::Fuzzy) {
            assert_eq!(visible.hits, best, "hits for `{text}`");
        } else {
            // Fuzzy hits are scored from a shortlist sized by the limit; when the results need
            // them nothing could have been ruled out.
            assert_eq!(visible.unverified, 0, "`{text}`");
        }
        assert_eq!(
            visible.total + visible.unverified,
            visible.matches.as_ref().map_or(index.len(), Vec::len),
            "`{text}`: the match set holds the unverified records"
        );
        skipped += visible.unverified;
        let complete = searcher.complete(&index, &query, &visible, &never).unwrap();
        assert_eq!(complete.unverified, 0);
        assert_eq!(complete.total, everything.total, "total for `{text}`");
        assert_eq!(complete.matches, everything.matches, "matches for `{text}`");
        assert_eq!(complete.hits, visible.hits, "completing keeps the hits");
    }
    assert!(
        skipped > 10_000,
        "common prefixes leave most records ungraded: {skipped}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn narrowing_holds_for_any_typing(text in "[jonesaidvw ']{1,9}") {
        let index = synthetic(3_000);
        assert_narrowing_matches_fresh(&index, &Searcher::with_threads(2), &text);
    }
}

#[test]
fn a_cancelled_search_stops_and_returns_nothing() {
    let index = synthetic(40_000);
    let checks = AtomicUsize::new(0);
    let cancel_after_first_chunk = || checks.fetch_add(1, Ordering::SeqCst) >= 1;
    let outcome = Searcher::with_threads(1).search(
        &index,
        &Query::parse("jones"),
        10,
        None,
        &cancel_after_first_chunk,
    );
    assert!(outcome.is_none());
    assert!(
        checks.load(Ordering::SeqCst) <= 2,
        "stopped at the next chunk, not after all of them"
    );
}

struct Service {
    service: SearchService,
    wakes: Arc<AtomicUsize>,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcall.db");
    support::create_db(&path);
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let waker: rollcall::app::pane::Waker = Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    Service {
        service: SearchService::start(
            &rollcall::storage::Location::File(path.clone()),
            support::today(),
            waker,
        ),
        wakes,
        _dir: dir,
        path,
    }
}

fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn result_for(service: &SearchService, query: &str) -> SearchResults {
    wait_for(query, || service.poll().filter(|r| r.query == query))
}

#[test]
fn the_service_loads_in_the_background_and_answers_the_newest_query() {
    let s = service();
    // Submitted before the index is ready: answered once it is.
    s.service.submit("jones");
    let records = wait_for("the index", || match s.service.state() {
        IndexState::Ready { records, .. } => Some(records),
        IndexState::Failed(why) => panic!("{why}"),
        IndexState::Loading { .. } => None,
    });
    assert_eq!(records, 12);
    let first = result_for(&s.service, "jones");
    assert_eq!(first.total, 4);
    assert!(s.wakes.load(Ordering::SeqCst) >= 1, "the waker was called");

    // A burst of keys: whatever finishes, the last result is for the last query.
    for q in ["s", "si", "sia", "sian", "sian ", "sian j"] {
        s.service.submit(q);
    }
    let last = result_for(&s.service, "sian j");
    assert_eq!(last.hits[0].name, "Siân Jones");
    assert!(s.service.poll().is_none(), "no older result turns up later");

    // Going back to an earlier query reuses its answer.
    s.service.submit("jones");
    let again = result_for(&s.service, "jones");
    assert_eq!(again.searched, 0);
    assert_eq!(again.total, 4);
}

#[test]
fn the_list_comes_first_and_the_exact_total_follows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollcall.db");
    support::create_db(&path);
    {
        // Forty Pryces: more than a search grades before it knows its best.
        let mut store = Store::open(&path, OpenMode::ReadWrite).unwrap();
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let pryces: Vec<_> = (0..40)
            .map(|i| {
                let mut p = support::people().remove(1);
                p.crm_id = leak(format!("{}", 5000 + i));
                p.first = FIRST[i % FIRST.len()];
                p.last = "Pryce";
                p.name = leak(format!("{} Pryce", p.first));
                p.sort_name = leak(format!("Pryce, {} {i}", p.first));
                p.email = leak(format!("member{i}@example.org"));
                p.memberships = &[];
                p
            })
            .collect();
        support::insert(&mut store, &pryces, 500);
    }
    {
        let store = Store::open(&path, OpenMode::ReadOnly).unwrap();
        let progress = rollcall::search::LoadProgress::default();
        let index = Index::load(&store, support::today(), &progress, &never).unwrap();
        let visible = Searcher::with_threads(1)
            .search_visible(&index, &Query::parse("pryce"), 1, None, &never)
            .unwrap();
        assert!(
            visible.unverified > 0,
            "once the best Pryce is known, others wait"
        );
        assert_eq!(visible.total + visible.unverified, 40);
    }
    // One hit a screen, so the service shows the list and then counts.
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let waker: rollcall::app::pane::Waker = Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let service = SearchService::with_limit(
        &rollcall::storage::Location::File(path.clone()),
        support::today(),
        waker,
        1,
    );
    // Wakes arrive just after results; count them once they have stopped coming.
    let settled = || {
        let mut seen = wakes.load(Ordering::SeqCst);
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = wakes.load(Ordering::SeqCst);
            if now == seen {
                return now;
            }
            seen = now;
        }
    };
    service.submit("nobody");
    result_for(&service, "nobody");
    let before = settled();
    service.submit("pryce");
    let counted = wait_for("the counted total", || {
        service.poll().filter(|r| r.query == "pryce" && !r.counting)
    });
    assert_eq!(counted.total, 40);
    assert_eq!(counted.hits.len(), 1);
    assert_eq!(
        settled() - before,
        2,
        "the app was woken for the list, then for the total"
    );
    // Going back to it later reuses the counted answer.
    service.submit("pryc");
    result_for(&service, "pryc");
    service.submit("pryce");
    let again = result_for(&service, "pryce");
    assert!(!again.counting);
    assert_eq!((again.searched, again.total), (0, 40));
}

#[test]
fn reloading_picks_up_new_members_and_reruns_the_query() {
    let s = service();
    s.service.submit("pritchard");
    let before = result_for(&s.service, "pritchard");
    assert_eq!(before.total, 0);
    s.service.reload_if_changed(); // nothing changed: nothing happens
    {
        let mut store = Store::open(&s.path, OpenMode::ReadWrite).unwrap();
        let mut extra = support::people().into_iter().take(1).collect::<Vec<_>>();
        extra[0].crm_id = "2001";
        extra[0].name = "Nia Pritchard";
        extra[0].sort_name = "Pritchard, Nia";
        extra[0].first = "Nia";
        extra[0].last = "Pritchard";
        extra[0].memberships = &[];
        support::insert(&mut store, &extra, 100);
    }
    s.service.reload_if_changed();
    let after = result_for(&s.service, "pritchard");
    assert_eq!(after.total, 1);
    assert_eq!(after.hits[0].name, "Nia Pritchard");
    assert!(after.hits[0].membership.is_none());
}

#[test]
fn a_missing_database_fails_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.db");
    let service = SearchService::start(
        &rollcall::storage::Location::File(path.clone()),
        support::today(),
        Arc::new(|| {}),
    );
    let why = wait_for("the failure", || match service.state() {
        IndexState::Failed(why) => Some(why),
        _ => None,
    });
    assert!(why.contains("nowhere.db"), "{why}");
    assert!(!path.exists(), "search never creates a database");
}
