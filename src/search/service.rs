//! The app's search service: loads the index on its own thread and answers queries on another,
//! so the first frame never waits for 550,000 members to load and a keystroke never waits for
//! the previous search.
//!
//! - Loading runs in the background with its own read-only connection; [`SearchService::state`]
//!   says how far it has got. Queries submitted meanwhile run as soon as the index is ready.
//! - [`SearchService::submit`] replaces the query: the newest always wins, and a search still
//!   running for an older one stops at its next chunk (a generation counter it checks).
//! - A query that extends an earlier one (typing on) searches only that one's matches; going back
//!   to an earlier query (Backspace) reuses its result.
//! - Queries of one and then two characters are answered ahead while nobody is typing (one core,
//!   giving way to every key): those are the ones that match most.
//! - Results wait in the service until [`SearchService::poll`] takes them; each arrival calls the
//!   waker so the event loop redraws.
//! - [`SearchService::reload`] rebuilds the index (after an import); the old index is freed first,
//!   so two never sit in memory together.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::index::{Index, LoadError, LoadProgress};
use super::matcher::{FIRST_KEYS, Outcome, Query, Searcher};
use super::results::MemberHit;
use crate::app::pane::Waker;
use crate::storage::Location;
use crate::storage::search_source::Signature;
use crate::storage::{OpenMode, Store};

/// How many results a search hands back: more than a screen, so paging down works.
pub const DEFAULT_LIMIT: usize = 200;

/// Match sets kept for narrowing and for going back, in record ids (4 bytes each).
const HISTORY_BUDGET: usize = 2_000_000;
const HISTORY_ENTRIES: usize = 32;

/// A finished search.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// The query as typed.
    pub query: String,
    /// The best matches, best first.
    pub hits: Vec<MemberHit>,
    /// How many members matched in all; while `counting`, at most this many.
    pub total: usize,
    /// The hits are final but the total is still being counted: the first screen of results
    /// does not wait for the 90,000th match to be checked. The same query's results come again
    /// with the exact total (unless a newer query came first).
    pub counting: bool,
    /// From `submit` to the result being ready: what the person typing waits.
    pub elapsed: Duration,
    /// How many records were examined (fewer when the previous matches were narrowed, none when
    /// an earlier result was reused).
    pub searched: usize,
}

/// Where the index is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexState {
    /// Loading (or reloading after an import), with how far it has got.
    Loading {
        percent: u8,
        reloading: bool,
    },
    Ready {
        records: usize,
        load_time: Duration,
    },
    /// Loading failed; the message names the database, never a member.
    Failed(String),
}

enum LoadStatus {
    Loading { reloading: bool },
    Ready { records: usize, load_time: Duration },
    Failed(String),
}

#[derive(Clone)]
struct Submitted {
    text: String,
    generation: u64,
    at: Instant,
}

/// A loaded index.
#[derive(Clone)]
struct Loaded {
    id: u64,
    index: Arc<Index>,
}

struct State {
    /// The newest query, kept so that a new index can run it again.
    query: Option<Submitted>,
    /// `query` has not been run on the current index yet.
    pending: bool,
    /// The index, with a number that changes with every load (history belongs to one index).
    index: Option<Loaded>,
    load: LoadStatus,
    /// The data the index holds or is being loaded from.
    target: Option<Signature>,
    result: Option<SearchResults>,
}

struct Inner {
    db: Location,
    /// Whether a rebuilt index may be saved to its file (not under `--read-only`).
    write_index: bool,
    today: NaiveDate,
    limit: usize,
    waker: Waker,
    /// Bumped by every submit and every new index; a search whose number is stale stops.
    generation: AtomicU64,
    /// Bumped by every load that starts; an older load stops.
    load_generation: AtomicU64,
    progress: LoadProgress,
    /// Two-character queries answered ahead of time on the current index.
    warmed: AtomicU64,
    shutdown: AtomicBool,
    state: Mutex<State>,
    work: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The app's background search. Dropping it stops its threads.
pub struct SearchService {
    inner: Arc<Inner>,
}

impl SearchService {
    /// Starts loading the index of the database at `db` (opened read-only) and the search
    /// thread. `today` picks which membership a contact with several shows. Returns at once.
    pub fn start(db: &Location, today: NaiveDate, waker: Waker) -> SearchService {
        SearchService::with_limit(db, today, waker, DEFAULT_LIMIT)
    }

    /// As [`SearchService::start`], but never writing the index file (`--read-only`): a current
    /// file is still used.
    pub fn start_reading_only(db: &Location, today: NaiveDate, waker: Waker) -> SearchService {
        SearchService::with_options(db, today, waker, DEFAULT_LIMIT, false)
    }

    /// As [`SearchService::start`], handing back at most `limit` hits per search.
    pub fn with_limit(
        db: &Location,
        today: NaiveDate,
        waker: Waker,
        limit: usize,
    ) -> SearchService {
        SearchService::with_options(db, today, waker, limit, true)
    }

    fn with_options(
        db: &Location,
        today: NaiveDate,
        waker: Waker,
        limit: usize,
        write_index: bool,
    ) -> SearchService {
        let inner = Arc::new(Inner {
            db: db.clone(),
            write_index,
            today,
            limit,
            waker,
            generation: AtomicU64::new(0),
            load_generation: AtomicU64::new(0),
            progress: LoadProgress::default(),
            warmed: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            state: Mutex::new(State {
                query: None,
                pending: false,
                index: None,
                load: LoadStatus::Loading { reloading: false },
                target: None,
                result: None,
            }),
            work: Condvar::new(),
        });
        let searcher = Arc::clone(&inner);
        std::thread::Builder::new()
            .name("rollcall-search".into())
            .spawn(move || {
                let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    search_loop(&searcher);
                }));
                if served.is_err() {
                    // A bug, not bad input: say so on screen instead of searching forever.
                    searcher.lock().load = LoadStatus::Failed(
                        "search stopped on an internal error; restart rollcall".into(),
                    );
                    (searcher.waker)();
                }
            })
            .expect("spawning the search thread");
        let service = SearchService { inner };
        service.spawn_load(false);
        service
    }

    /// Searches for `query`, replacing any query not finished yet.
    pub fn submit(&self, query: &str) {
        let generation = self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let mut state = self.inner.lock();
        state.query = Some(Submitted {
            text: query.to_owned(),
            generation,
            at: Instant::now(),
        });
        state.pending = true;
        drop(state);
        self.inner.work.notify_all();
    }

    /// The newest finished result not taken yet.
    pub fn poll(&self) -> Option<SearchResults> {
        self.inner.lock().result.take()
    }

    pub fn state(&self) -> IndexState {
        match &self.inner.lock().load {
            LoadStatus::Loading { reloading } => IndexState::Loading {
                percent: self.inner.progress.percent(),
                reloading: *reloading,
            },
            LoadStatus::Ready { records, load_time } => IndexState::Ready {
                records: *records,
                load_time: *load_time,
            },
            LoadStatus::Failed(why) => IndexState::Failed(why.clone()),
        }
    }

    /// How many of the one- and two-character queries are answered ahead of time, of how many.
    pub fn warm_progress(&self) -> (usize, usize) {
        let done = self.inner.warmed.load(Ordering::Relaxed) as usize;
        (done, warm_queries())
    }

    /// Rebuilds the index from the database (after an import or an erasure).
    pub fn reload(&self) {
        self.spawn_load(false);
    }

    /// Rebuilds the index only if the members in the database changed since it was loaded (a
    /// new import, an erasure). Cheap to call on every refresh.
    pub fn reload_if_changed(&self) {
        self.spawn_load(true);
    }

    fn spawn_load(&self, only_if_changed: bool) {
        let inner = Arc::clone(&self.inner);
        std::thread::Builder::new()
            .name("rollcall-search-load".into())
            .spawn(move || load(&inner, only_if_changed))
            .expect("spawning the search index loader");
    }
}

impl Drop for SearchService {
    fn drop(&mut self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        self.inner.work.notify_all();
    }
}

fn load(inner: &Inner, only_if_changed: bool) {
    let started = Instant::now();
    let fail = |why: String| {
        let mut state = inner.lock();
        state.load = LoadStatus::Failed(why);
        state.target = None;
        drop(state);
        (inner.waker)();
    };
    let store = match Store::open_at(&inner.db, OpenMode::ReadOnly, false) {
        Ok(store) => store,
        Err(e) => return fail(format!("cannot open the database for search: {e}")),
    };
    let print = match crate::storage::search_source::signature(&store.conn) {
        Ok(print) => print,
        Err(e) => return fail(format!("cannot read the database for search: {e}")),
    };
    let generation = {
        let mut state = inner.lock();
        if only_if_changed && state.target.as_ref() == Some(&print) {
            return; // loaded, or being loaded, already
        }
        state.target = Some(print.clone());
        // Free the old index before building the next, so that memory stays at one index.
        let reloading =
            state.index.take().is_some() || !matches!(state.load, LoadStatus::Loading { .. });
        state.load = LoadStatus::Loading { reloading };
        inner.load_generation.fetch_add(1, Ordering::SeqCst) + 1
    };
    (inner.waker)();
    let stale = || {
        inner.load_generation.load(Ordering::SeqCst) != generation
            || inner.shutdown.load(Ordering::SeqCst)
    };
    // The load polls this every few thousand rows: it also wakes the app each time another
    // percent has loaded, so that "loading index… N%" moves.
    let shown = AtomicU64::new(0);
    let stale_or_progress = || {
        let percent = u64::from(inner.progress.percent());
        if shown.swap(percent, Ordering::Relaxed) != percent {
            (inner.waker)();
        }
        stale()
    };
    let loaded = super::disk::open_index(
        &store,
        &print,
        inner.today,
        &inner.progress,
        &stale_or_progress,
        inner.write_index,
    );
    match loaded {
        Ok(index) => {
            let mut state = inner.lock();
            if stale() {
                return;
            }
            state.load = LoadStatus::Ready {
                records: index.len(),
                load_time: started.elapsed(),
            };
            state.index = Some(Loaded {
                id: generation,
                index: Arc::new(index),
            });
            if let Some(query) = &mut state.query {
                // Run the current query again on the new data.
                query.generation = inner.generation.fetch_add(1, Ordering::SeqCst) + 1;
                query.at = Instant::now();
                state.pending = true;
            }
            drop(state);
            inner.work.notify_all();
            (inner.waker)();
        }
        Err(LoadError::Cancelled) => {}
        Err(e) => {
            if !stale() {
                fail(e.to_string());
            }
        }
    }
}

/// Answers to every query of one or two characters, on one index, worked out one at a time
/// while nobody is typing: the one-character ones first. They are not worked out before the
/// index is ready (they once were): an index read from its file is ready in a fraction of a
/// second, and 36 full scans would hold back the first query for seconds.
#[derive(Default)]
struct Warm {
    index_id: Option<u64>,
    answers: HashMap<Vec<u8>, Arc<Outcome>>,
    /// The next query to answer: below `FIRST_KEYS.len()` a single key, then a position in all
    /// pairs of `FIRST_KEYS`.
    next: usize,
}

/// How many queries the warm-up answers: every key, then every pair of keys.
fn warm_queries() -> usize {
    FIRST_KEYS.len() + FIRST_KEYS.len() * FIRST_KEYS.len()
}

impl Warm {
    fn for_index(&mut self, inner: &Inner, loaded: &Loaded) {
        if self.index_id == Some(loaded.id) {
            return;
        }
        inner.warmed.store(0, Ordering::Relaxed);
        *self = Warm {
            index_id: Some(loaded.id),
            answers: HashMap::new(),
            next: 0,
        };
    }

    fn done(&self, loaded: &Loaded) -> bool {
        self.index_id == Some(loaded.id) && self.next >= warm_queries()
    }

    /// Answers the next query of the warm-up, unless a real query arrives meanwhile.
    fn step(&mut self, searcher: &Searcher, inner: &Inner, loaded: &Loaded) {
        let n = FIRST_KEYS.len();
        let keys = match self.next.checked_sub(n) {
            None => vec![FIRST_KEYS[self.next]],
            Some(pair) => vec![FIRST_KEYS[pair / n], FIRST_KEYS[pair % n]],
        };
        let generation = inner.generation.load(Ordering::SeqCst);
        let cancelled = || {
            inner.generation.load(Ordering::SeqCst) != generation
                || inner.shutdown.load(Ordering::SeqCst)
        };
        let query = Query::parse(std::str::from_utf8(&keys).unwrap_or_default());
        if let Some(mut outcome) =
            searcher.search(&loaded.index, &query, inner.limit, None, &cancelled)
        {
            outcome.matches = None;
            self.answers.insert(keys, Arc::new(outcome));
            self.next += 1;
            inner.warmed.store(self.next as u64, Ordering::Relaxed);
        }
    }

    fn answer(&self, query: &Query) -> Option<Arc<Outcome>> {
        self.answers.get(query.short_token()?).cloned()
    }
}

enum Work {
    Query(Submitted, Loaded),
    /// Work out a match set the next key can narrow, between keys (given up as soon as one
    /// arrives): that of a query answered from the warm-up, or of one letter short of forgiving
    /// typos, relaxed (see [`Query::relaxed`]).
    Prime(Query, Loaded),
    Warm(Loaded),
}

fn search_loop(inner: &Inner) {
    let searcher = Searcher::default();
    // Warming up takes one core at most, and gives way to every key typed.
    let warmer = Searcher::with_threads(1);
    let mut history = History::default();
    let mut warm = Warm::default();
    let mut prime: Option<Query> = None;
    loop {
        let work = {
            let mut state = inner.lock();
            loop {
                if inner.shutdown.load(Ordering::SeqCst) {
                    return;
                }
                if state.pending
                    && let (Some(query), Some(loaded)) = (&state.query, &state.index)
                {
                    let work = Work::Query(query.clone(), loaded.clone());
                    state.pending = false;
                    break work;
                }
                if let Some(loaded) = &state.index {
                    if let Some(query) = prime.take() {
                        break Work::Prime(query, loaded.clone());
                    }
                    if !warm.done(loaded) {
                        break Work::Warm(loaded.clone());
                    }
                }
                state = inner.work.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        };
        let (job, loaded) = match work {
            Work::Warm(loaded) => {
                warm.for_index(inner, &loaded);
                warm.step(&warmer, inner, &loaded);
                continue;
            }
            Work::Prime(query, loaded) => {
                if history.index_id == Some(loaded.id) {
                    let generation = inner.generation.load(Ordering::SeqCst);
                    let cancelled = || {
                        inner.generation.load(Ordering::SeqCst) != generation
                            || inner.shutdown.load(Ordering::SeqCst)
                    };
                    // Counted in full: the next key narrows the exact match set.
                    let index = &loaded.index;
                    if let Some((outcome, _)) =
                        history.search(&searcher, index, &query, inner.limit, &cancelled)
                        && outcome.unverified > 0
                        && let Some(counted) =
                            searcher.complete(index, &query, &outcome, &cancelled)
                    {
                        history.replace(&query, Arc::new(counted));
                    }
                }
                continue;
            }
            Work::Query(job, loaded) => (job, loaded),
        };
        if history.index_id != Some(loaded.id) {
            history = History {
                index_id: Some(loaded.id),
                ..History::default()
            };
        }
        warm.for_index(inner, &loaded);
        let index = &loaded.index;
        let cancelled = || {
            inner.generation.load(Ordering::SeqCst) != job.generation
                || inner.shutdown.load(Ordering::SeqCst)
        };
        let query = Query::parse(&job.text);
        let cached = warm.answer(&query).map(|outcome| (outcome, 0));
        if cached.is_some() && query.short_token().is_some_and(|t| t.len() == 2) {
            prime = Some(query.clone());
        } else if query.before_typos() {
            prime = Some(query.relaxed());
        }
        let Some((outcome, searched)) =
            cached.or_else(|| history.search(&searcher, index, &query, inner.limit, &cancelled))
        else {
            continue;
        };
        if !publish(inner, index, &job, &outcome, searched, &cancelled) || outcome.unverified == 0 {
            continue;
        }
        // The list is on screen; now the count (given up when the next key comes).
        if let Some(counted) = searcher.complete(index, &query, &outcome, &cancelled) {
            let counted = Arc::new(counted);
            history.replace(&query, Arc::clone(&counted));
            publish(inner, index, &job, &counted, searched, &cancelled);
        }
    }
}

/// Hands a query's outcome to the app; false when a newer query made it stale.
fn publish(
    inner: &Inner,
    index: &Index,
    job: &Submitted,
    outcome: &Outcome,
    searched: usize,
    cancelled: &dyn Fn() -> bool,
) -> bool {
    let results = SearchResults {
        hits: outcome
            .hits
            .iter()
            .map(|h| MemberHit::new(index, h))
            .collect(),
        total: outcome.total + outcome.unverified,
        counting: outcome.unverified > 0,
        elapsed: job.at.elapsed(),
        searched,
        query: job.text.clone(),
    };
    let mut state = inner.lock();
    if cancelled() {
        return false;
    }
    state.result = Some(results);
    drop(state);
    (inner.waker)();
    true
}

/// Earlier queries' outcomes on one index: bases for narrowing, and answers for going back.
#[derive(Default)]
struct History {
    index_id: Option<u64>,
    entries: VecDeque<(Query, Arc<Outcome>)>,
    held: usize,
}

impl History {
    /// Puts the counted outcome of a query in place of the one that was still counting.
    fn replace(&mut self, query: &Query, counted: Arc<Outcome>) {
        let size = |o: &Outcome| o.matches.as_ref().map_or(0, Vec::len);
        if let Some((_, outcome)) = self.entries.iter_mut().find(|(q, _)| q == query) {
            self.held = self.held - size(outcome) + size(&counted);
            *outcome = counted;
        }
    }

    /// Runs `query`, from the smallest earlier match set it narrows when there is one, grading
    /// only what can be shown (see [`Searcher::search_visible`]). Returns the outcome and how
    /// many records were examined; None if cancelled.
    fn search(
        &mut self,
        searcher: &Searcher,
        index: &Index,
        query: &Query,
        limit: usize,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<(Arc<Outcome>, usize)> {
        if let Some((_, outcome)) = self.entries.iter().find(|(q, _)| q == query) {
            return Some((Arc::clone(outcome), 0));
        }
        let base = self
            .entries
            .iter()
            .filter(|(q, _)| query.narrows(q))
            .filter_map(|(_, o)| o.matches.as_deref())
            .min_by_key(|m| m.len());
        let searched = base.map_or(index.len(), <[u32]>::len);
        let outcome = Arc::new(searcher.search_visible(index, query, limit, base, cancelled)?);
        self.held += outcome.matches.as_ref().map_or(0, Vec::len);
        self.entries
            .push_back((query.clone(), Arc::clone(&outcome)));
        while self.entries.len() > HISTORY_ENTRIES
            || self.held > HISTORY_BUDGET && self.entries.len() > 1
        {
            if let Some((_, old)) = self.entries.pop_front() {
                self.held -= old.matches.as_ref().map_or(0, Vec::len);
            }
        }
        Some((outcome, searched))
    }
}
