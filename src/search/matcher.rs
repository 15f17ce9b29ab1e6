//! Matching and ranking: what a query finds and in which order.
//!
//! A query is split into tokens at spaces (a phone number or a whole postcode stays one token);
//! a record matches when every token matches it:
//! - as a substring of any field (name, email, postcode, phone, contact id, membership ids);
//! - for a token of letters, as a subsequence of the name from the start of a word
//!   (`smth` finds Smith, `wiliams` finds Williams);
//! - for a token of five letters or more, as a word of the name with one letter swapped, wrong,
//!   missing or extra (`jnoes` finds Jones): one Damerau edit from the start of a name word.
//!
//! Matches are ranked in tiers a member-services officer would agree with:
//! 1. an exact contact id, membership id, email, postcode or phone;
//! 2. names with a word starting with each token (surname, first name, or the full name:
//!    `sian jo` and `jones sian` both find Siân Jones), whole words first, then a first or last
//!    word before a middle one;
//! 3. an email, postcode, phone or id starting with the query;
//! 4. anything containing the query, names first;
//! 5. fuzzy and one-letter-off matches, scored by fuzzy-matcher's `SkimMatcherV2` (a match that
//!    needed a letter forgiven scores a quarter less).
//!
//! Ties go to name order (surname first), then rollcall id, so the order never flickers.
//!
//! Speed (550,000 records, a 16 ms frame) comes from touching as little memory as possible:
//! - every record has a 64-byte head (one cache line) of prefilter bits: its characters, its
//!   name's characters and word initials, hashed character pairs and digit pairs, the first
//!   characters of its email and ids. Most records are turned away on these alone;
//! - a record that passes is graded from its text, which is prefetched as it passes and graded
//!   sixteen records later, so that the memory reads overlap;
//! - the exact, prefix and substring tiers have integer sort keys (tier, penalty, name rank) and
//!   each chunk keeps only its best `limit`; `SkimMatcherV2` scores only the fuzzy tier, only
//!   when the better tiers do not fill the results, and only a shortlist of it;
//! - records are stored in name order; once the best `limit` are known, a record whose head
//!   shows it could only rank below them is left ungraded (see [`Searcher::search_visible`]);
//! - records are split into chunks that all cores take from a shared counter, and every chunk
//!   checks for cancellation;
//! - a query that extends the previous one searches only the previous matches (see
//!   [`Query::narrows`]), and the service answers every one-character query when it loads.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::index::{
    CONTACT_ID, EMAIL, FIELD_SEP, FIRST_MEMBERSHIP, Head, Index, NAME, PHONE, POSTCODE, length_bit,
};
use super::normalize::{
    char_bit, char_mask, char_pairs, compact, digit_pairs, is_uk_postcode, looks_like_phone,
    phone_digits,
};

/// Tokens this long or longer forgive one wrong letter. Shorter ones would match almost anything.
pub const TYPO_MIN: usize = 5;

/// The characters a folded query is made of. Queries of one of them are answered when the index
/// loads, and of two of them while the service is idle: few enough to answer all, and the most
/// expensive to answer on demand (one letter matches a third of all members, and two letters
/// pass the prefilters of nearly as many).
pub const FIRST_KEYS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Words of a query that count; more would not narrow anything a person can read.
const MAX_TOKENS: usize = 8;

/// Records per unit of parallel work: small enough to balance two cores and to notice a
/// cancellation within a fraction of a millisecond, big enough to keep the bookkeeping cheap.
const CHUNK: usize = 16 * 1024;

/// How a record matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Exact = 0,
    NamePrefix = 1,
    FieldPrefix = 2,
    Substring = 3,
    Fuzzy = 4,
}

impl Tier {
    const ALL: [Tier; 5] = [
        Tier::Exact,
        Tier::NamePrefix,
        Tier::FieldPrefix,
        Tier::Substring,
        Tier::Fuzzy,
    ];

    fn from_bits(bits: u64) -> Tier {
        Tier::ALL[bits as usize]
    }
}

/// One query token, folded, with what the prefilters need.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: Vec<u8>,
    /// Its characters (see [`char_mask`]).
    mask: u64,
    /// Its neighbouring digit pairs and (hashed) letter pairs: see [`digit_pairs`] and
    /// [`char_pairs`].
    digit_pairs: u64,
    char_pairs: u128,
    /// Its first character's bit (see [`char_mask`]).
    first: u64,
    /// Letters only: the token may match a name fuzzily (ids, phones and postcodes may not).
    letters: bool,
    /// Its first letter's bit among a name mask's word initials (0 when it is not a letter).
    initial: u64,
    /// It may match a name word one letter off: letters only, at least [`TYPO_MIN`] of them
    /// (one fewer in a [`Query::relaxed`] query).
    forgives: bool,
}

impl Token {
    /// `text` is folded and never empty.
    fn new(text: Vec<u8>) -> Token {
        debug_assert!(!text.is_empty());
        let initial = match text.first() {
            Some(&b @ b'a'..=b'z') => 1 << (36 + u32::from(b - b'a')),
            _ => 0,
        };
        Token {
            forgives: text.iter().all(u8::is_ascii_lowercase) && text.len() >= TYPO_MIN,
            initial,
            mask: char_mask(&text),
            digit_pairs: digit_pairs(&text),
            first: text.first().map_or(0, |&b| char_bit(b)),
            char_pairs: char_pairs(&text),
            letters: text.iter().all(u8::is_ascii_lowercase),
            text,
        }
    }

    fn forgives_typo(&self) -> bool {
        self.forgives
    }
}

/// A parsed query: folded tokens, ready to match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    tokens: Vec<Token>,
    /// All tokens run together: what an exact or prefix match of the whole query compares.
    compact: Vec<u8>,
    /// The query lowercased, when it holds an `@`: only this compares equal to an email, so that
    /// `a.b@x.org` is not an exact match for `ab@x.org`.
    email: Option<String>,
}

impl Query {
    pub fn parse(raw: &str) -> Query {
        let raw = raw.trim();
        let texts: Vec<Vec<u8>> = if looks_like_phone(raw) {
            vec![phone_digits(raw)]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect()
        } else {
            let whole = compact(raw);
            if raw.split_whitespace().count() == 2 && is_uk_postcode(&whole) {
                vec![whole]
            } else {
                raw.split_whitespace()
                    .map(compact)
                    .filter(|t| !t.is_empty())
                    .take(MAX_TOKENS)
                    .collect()
            }
        };
        Query {
            compact: texts.concat(),
            email: raw.contains('@').then(|| raw.to_lowercase()),
            tokens: texts.into_iter().map(Token::new).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The folded text of a query of one or two characters (what the service answers ahead of
    /// time, see [`FIRST_KEYS`]).
    pub fn short_token(&self) -> Option<&[u8]> {
        match self.tokens.as_slice() {
            [token] if token.text.len() <= 2 && self.email.is_none() => Some(&token.text),
            _ => None,
        }
    }

    /// This query with typos forgiven from one letter earlier. It matches everything that any
    /// query extending it by one letter matches, typos included, so that the service can work it
    /// out between keys and the next key narrows it instead of scanning every record (the one
    /// place where extending a query matches more).
    pub fn relaxed(&self) -> Query {
        let mut relaxed = self.clone();
        for token in &mut relaxed.tokens {
            token.forgives |= token.letters && token.text.len() + 1 >= TYPO_MIN;
        }
        relaxed
    }

    /// Whether some token is one letter short of forgiving typos, so that the next key would
    /// start matching more (see [`Query::relaxed`]).
    pub fn before_typos(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| t.letters && t.text.len() + 1 == TYPO_MIN)
    }

    /// Whether every record this query matches also matches `base`, so that searching only
    /// `base`'s matches finds them all: each token of `base` is the same or extended here (more
    /// tokens may follow), and no token crossed into typo tolerance, which matches more.
    pub fn narrows(&self, base: &Query) -> bool {
        if base.is_empty() || base.tokens.len() > self.tokens.len() {
            return false;
        }
        base.tokens.iter().zip(&self.tokens).all(|(old, new)| {
            new.text.starts_with(&old.text) && (old.forgives_typo() || !new.forgives_typo())
        })
    }
}

/// One found record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub record: u32,
    /// Which of the record's memberships to show: the one whose id was searched for, else 0.
    pub membership: usize,
    pub tier: Tier,
    /// Higher is better; orders hits across tiers. Within the fuzzy tier it grows with the
    /// `SkimMatcherV2` score.
    pub score: i64,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The best hits, best first, at most the limit asked for.
    pub hits: Vec<Hit>,
    /// How many records matched in all (of those graded, while `unverified` is not 0).
    pub total: usize,
    /// Records that passed the prefilters but were not graded, because they could not be among
    /// the hits (see [`Searcher::search_visible`]): the full count is between `total` and
    /// `total + unverified`, and [`Searcher::complete`] finds it.
    pub unverified: usize,
    /// Every matching record, in index order: the search space for a query that narrows this one.
    /// While `unverified` is not 0 it holds those records too (a narrowing search grades them).
    /// None when every record matched (the empty query).
    pub matches: Option<Vec<u32>>,
}

/// Runs searches over an index. Holds the fuzzy scorer so it is built once.
pub struct Searcher {
    skim: SkimMatcherV2,
    threads: usize,
}

impl Default for Searcher {
    fn default() -> Searcher {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Searcher::with_threads(cores.min(8))
    }
}

/// Sort keys pack (tier, penalty, name rank) into one integer so that selecting and sorting the
/// best is plain integer work: 4 bits of tier, 28 of penalty (lower is better), 32 of rank.
const TIER_SHIFT: u32 = 60;
const PENALTY_SHIFT: u32 = 32;
const PENALTY_MAX: u64 = (1 << 28) - 1;

fn sort_key(tier: Tier, penalty: u64, rank: u32) -> u64 {
    (tier as u64) << TIER_SHIFT | penalty.min(PENALTY_MAX) << PENALTY_SHIFT | rank as u64
}

/// What one chunk of records produced.
#[derive(Default)]
struct ChunkOut {
    /// Matches and unverified records, in record order.
    matches: Vec<u32>,
    /// How many of `matches` were not graded.
    unverified: usize,
    /// Keys of the chunk's best exact, prefix and substring matches (at most the limit).
    ranked: Vec<u64>,
    /// Fuzzy matches (records, which are name ranks), still to be scored.
    fuzzy: Vec<u32>,
}

/// One chunk's pass over its records.
struct ChunkSearch<'a> {
    index: &'a Index,
    query: &'a Query,
    limit: usize,
    /// Whether records that cannot be shown are left ungraded.
    skip_unshown: bool,
    /// The lowest `cutoff` of any chunk: the best `limit` of that chunk alone beat every key
    /// above it, so no record above it can be shown.
    shown_cutoff: &'a AtomicU64,
    /// Keys above the worst of this chunk's best `limit` can never be shown.
    cutoff: u64,
    out: ChunkOut,
    unverified: Vec<u32>,
    batch: Batch,
}

impl ChunkSearch<'_> {
    fn visit(&mut self, record: u32) {
        let Some(ways) = prefilter(self.index, self.query, record as usize) else {
            return;
        };
        if self.skip_unshown {
            let best = best_possible_tier(self.query, &self.index.heads[record as usize], &ways);
            let cutoff = self.cutoff.min(self.shown_cutoff.load(Ordering::Relaxed));
            if sort_key(best, 0, record) > cutoff {
                self.unverified.push(record);
                return;
            }
        }
        // Records that pass wait in a small batch while their text is fetched from memory, so
        // that the misses overlap instead of following one another: text reads are what a short
        // query's search spends its time on.
        prefetch(self.index.record_text(record));
        if let Some((ready, ways)) = self.batch.push(record, ways) {
            self.take(ready, ways);
        }
    }

    fn take(&mut self, record: u32, ways: [Ways; MAX_TOKENS]) {
        let Some((tier, penalty)) = grade(self.index, self.query, record, ways) else {
            return;
        };
        self.out.matches.push(record);
        if self.limit == 0 {
            return; // only counting
        }
        if tier == Tier::Fuzzy {
            self.out.fuzzy.push(record);
            return;
        }
        let key = sort_key(tier, penalty, record);
        if key < self.cutoff {
            self.out.ranked.push(key);
            let held = self.out.ranked.len();
            // The first cutoff as soon as there are `limit` keys, then every `limit` or so more
            // (each costs a selection over the keys held).
            if held == self.limit && self.cutoff == u64::MAX || held >= 2 * self.limit.max(64) {
                self.tighten();
            }
        }
    }

    fn tighten(&mut self) {
        keep_best(&mut self.out.ranked, self.limit);
        self.cutoff = self.out.ranked.iter().copied().max().unwrap_or(u64::MAX);
        self.shown_cutoff.fetch_min(self.cutoff, Ordering::Relaxed);
    }

    fn finish(mut self) -> ChunkOut {
        let pending: Vec<_> = self.batch.drain().collect();
        for (record, ways) in pending {
            self.take(record, ways);
        }
        if self.limit > 0 && self.out.ranked.len() >= self.limit {
            self.tighten();
        }
        if !self.unverified.is_empty() {
            self.out.unverified = self.unverified.len();
            self.out.matches = merge_sorted(&self.out.matches, &self.unverified);
        }
        self.out
    }
}

/// Two ascending lists as one.
fn merge_sorted(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            merged.push(a[i]);
            i += 1;
        } else {
            merged.push(b[j]);
            j += 1;
        }
    }
    merged.extend_from_slice(&a[i..]);
    merged.extend_from_slice(&b[j..]);
    merged
}

/// The best tier a record that passed the prefilters could reach, judged on its head alone
/// (never better than [`grade`] would find): exact only if a token's first character starts
/// an id field or the email and an id field is as long as the token, a name prefix only if it
/// starts a word of the name, a field prefix only if it starts an id field or the email.
fn best_possible_tier(query: &Query, head: &Head, ways: &[Ways; MAX_TOKENS]) -> Tier {
    let mut worst = Tier::Exact;
    for (token, ways) in query.tokens.iter().zip(ways) {
        let starts_field = token.first & head.field_initials != 0;
        let best = if !ways.substring {
            Tier::Fuzzy
        } else if starts_field && head.id_lengths & length_bit(token.text.len()) != 0 {
            Tier::Exact
        } else if head.name & token.initial != 0 {
            Tier::NamePrefix
        } else if starts_field {
            Tier::FieldPrefix
        } else {
            Tier::Substring
        };
        worst = worst.max(best);
    }
    // The whole query can do better than its tokens (see `whole_query_tier`).
    if worst > Tier::Exact
        && (query.tokens.len() >= 2 || query.email.is_some())
        && let Some(&first) = query.compact.first()
    {
        let initial = match first {
            b'a'..=b'z' => head.name & 1 << (36 + u32::from(first - b'a')) != 0,
            _ => true,
        };
        if char_bit(first) & head.field_initials != 0 {
            worst = Tier::Exact;
        } else if initial {
            worst = worst.min(Tier::NamePrefix);
        }
    }
    worst
}

impl Searcher {
    pub fn with_threads(threads: usize) -> Searcher {
        Searcher {
            skim: SkimMatcherV2::default().ignore_case(),
            threads: threads.max(1),
        }
    }

    /// The best `limit` matches of `query` in `index`, and how many there are. With `within`,
    /// only those records (the matches of a query this one narrows) are searched. Returns None
    /// as soon as `cancelled` says so.
    pub fn search(
        &self,
        index: &Index,
        query: &Query,
        limit: usize,
        within: Option<&[u32]>,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Outcome> {
        let visible = self.search_visible(index, query, limit, within, cancelled)?;
        if visible.unverified == 0 {
            return Some(visible);
        }
        self.complete(index, query, &visible, cancelled)
    }

    /// The same hits as [`Searcher::search`], sooner: records are met in name order, and once
    /// the best `limit` are known, a record whose head shows it could only rank below them is
    /// not graded but left `unverified` (it is all a list of 100,000 matches needs, and what
    /// keeps the time to the first screen of results short). [`Searcher::complete`] counts them.
    pub fn search_visible(
        &self,
        index: &Index,
        query: &Query,
        limit: usize,
        within: Option<&[u32]>,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Outcome> {
        self.run(index, query, limit, within, true, cancelled)
    }

    /// Grades what [`Searcher::search_visible`] left unverified: the exact total and match set.
    /// The hits stay as they were.
    pub fn complete(
        &self,
        index: &Index,
        query: &Query,
        outcome: &Outcome,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Outcome> {
        let counted = self.run(
            index,
            query,
            0,
            outcome.matches.as_deref(),
            false,
            cancelled,
        )?;
        Some(Outcome {
            hits: outcome.hits.clone(),
            ..counted
        })
    }

    fn run(
        &self,
        index: &Index,
        query: &Query,
        limit: usize,
        within: Option<&[u32]>,
        skip_unshown: bool,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Outcome> {
        if query.is_empty() {
            return Some(self.everyone(index, limit));
        }
        let n = within.map_or(index.len(), <[u32]>::len);
        let shown_cutoff = AtomicU64::new(u64::MAX);
        let chunks = self.parallel(n.div_ceil(CHUNK), cancelled, |chunk| {
            let mut search = ChunkSearch {
                index,
                query,
                limit,
                skip_unshown,
                shown_cutoff: &shown_cutoff,
                cutoff: u64::MAX,
                out: ChunkOut::default(),
                unverified: Vec::new(),
                batch: Batch::default(),
            };
            let range = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
            match within {
                Some(records) => {
                    let records = &records[range];
                    for (i, &record) in records.iter().enumerate() {
                        // Narrowed records are scattered: fetch heads a little ahead too.
                        if let Some(&ahead) = records.get(i + HEAD_LOOKAHEAD) {
                            prefetch_head(index, ahead);
                        }
                        search.visit(record);
                    }
                }
                None => range.for_each(|r| search.visit(r as u32)),
            }
            search.finish()
        })?;
        let total = chunks.iter().map(|c| c.matches.len() - c.unverified).sum();
        let unverified = chunks.iter().map(|c| c.unverified).sum();
        let mut matches = Vec::with_capacity(total + unverified);
        let mut ranked = Vec::new();
        let mut fuzzy = Vec::new();
        for c in chunks {
            matches.extend_from_slice(&c.matches);
            ranked.extend_from_slice(&c.ranked);
            fuzzy.extend_from_slice(&c.fuzzy);
        }
        if ranked.len() < limit && !fuzzy.is_empty() {
            // The better tiers leave room: score the fuzzy matches.
            let room = limit - ranked.len();
            let shortlist = shortlist_fuzzy(index, query, fuzzy, FUZZY_SHORTLIST * room);
            ranked.extend(self.score_fuzzy(index, query, &shortlist, cancelled)?);
        }
        keep_best(&mut ranked, limit);
        ranked.sort_unstable();
        let hits = ranked.iter().map(|&key| hit(index, query, key)).collect();
        Some(Outcome {
            hits,
            total,
            unverified,
            matches: Some(matches),
        })
    }

    /// The empty query: everyone, in name order.
    fn everyone(&self, index: &Index, limit: usize) -> Outcome {
        let hits = (0..index.len().min(limit) as u32)
            .map(|record| Hit {
                record,
                membership: 0,
                tier: Tier::Substring,
                score: 0,
            })
            .collect();
        Outcome {
            hits,
            total: index.len(),
            unverified: 0,
            matches: None,
        }
    }

    /// Sort keys for fuzzy matches (records, which are name ranks), with their `SkimMatcherV2`
    /// penalty.
    fn score_fuzzy(
        &self,
        index: &Index,
        query: &Query,
        ranks: &[u32],
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Vec<u64>> {
        let chunk = 1024;
        let scored = self.parallel(ranks.len().div_ceil(chunk), cancelled, |c| {
            let mut spaced = Vec::new();
            ranks[c * chunk..((c + 1) * chunk).min(ranks.len())]
                .iter()
                .map(|&record| {
                    let score = self.skim_score(index, record, query, &mut spaced);
                    let penalty = PENALTY_MAX.saturating_sub(score.max(0) as u64);
                    sort_key(Tier::Fuzzy, penalty, record)
                })
                .collect::<Vec<u64>>()
        })?;
        Some(scored.concat())
    }

    /// The summed `SkimMatcherV2` score of each token against the name, written with spaces
    /// between its words so that word starts earn their bonus. A token that needed a letter
    /// forgiven is scored as the name text it stands for, less a quarter.
    fn skim_score(&self, index: &Index, record: u32, query: &Query, spaced: &mut Vec<u8>) -> i64 {
        let name = record_name(index, record);
        let word_starts = index.heads[record as usize].word_starts;
        spaced.clear();
        for (i, &b) in name.iter().enumerate() {
            if i > 0 && i < 64 && word_starts & (1 << i) != 0 {
                spaced.push(b' ');
            }
            spaced.push(b);
        }
        let mut total = 0;
        for token in &query.tokens {
            let text = &token.text;
            let exact = token
                .letters
                .then(|| self.skim.fuzzy_match(ascii(spaced), ascii(text)))
                .flatten();
            let forgiven = token
                .forgives_typo()
                .then(|| near_word(text, name, word_starts))
                .flatten()
                .and_then(|meant| self.skim.fuzzy_match(ascii(spaced), ascii(meant)))
                .map(|s| s - s / 4);
            let score = exact.max(forgiven);
            // A token found in the email, postcode or an id scores as a middling match.
            total += score.unwrap_or(16 * text.len() as i64);
        }
        total
    }

    /// Runs `work` on every chunk number below `chunks` across the searcher's threads, which
    /// take chunks from a shared counter. Results come back in chunk order.
    fn parallel<T: Send>(
        &self,
        chunks: usize,
        cancelled: &(dyn Fn() -> bool + Sync),
        work: impl Fn(usize) -> T + Sync,
    ) -> Option<Vec<T>> {
        let next = AtomicUsize::new(0);
        let run = || {
            let mut done = Vec::new();
            loop {
                let chunk = next.fetch_add(1, Ordering::Relaxed);
                if chunk >= chunks {
                    return Some(done);
                }
                if cancelled() {
                    return None;
                }
                done.push((chunk, work(chunk)));
            }
        };
        let helpers = self.threads.min(chunks).saturating_sub(1);
        let mut all = if helpers == 0 {
            run()?
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..helpers).map(|_| s.spawn(run)).collect();
                let mine = run();
                let theirs: Vec<_> = handles
                    .into_iter()
                    .map(|h| h.join().expect("search worker panicked"))
                    .collect();
                let mut all = mine?;
                for t in theirs {
                    all.extend(t?);
                }
                Some(all)
            })?
        };
        all.sort_unstable_by_key(|(chunk, _)| *chunk);
        Some(all.into_iter().map(|(_, t)| t).collect())
    }
}

/// How many fuzzy matches per place left in the results `SkimMatcherV2` scores. It costs about a
/// microsecond a match, too much for the tens of thousands a short fuzzy query can match, so a
/// cheap pre-score picks the most promising first.
const FUZZY_SHORTLIST: usize = 4;

/// The `keep` fuzzy matches (by name rank) with the best pre-score; all of them if fewer.
fn shortlist_fuzzy(index: &Index, query: &Query, mut ranks: Vec<u32>, keep: usize) -> Vec<u32> {
    if ranks.len() <= keep {
        return ranks;
    }
    let mut keyed: Vec<u64> = ranks
        .iter()
        .map(|&record| {
            let score: u32 = query
                .tokens
                .iter()
                .map(|t| {
                    pre_score(
                        t,
                        record_name(index, record),
                        index.heads[record as usize].word_starts,
                    )
                })
                .sum();
            u64::from(u32::MAX - score) << 32 | u64::from(record)
        })
        .collect();
    keep_best(&mut keyed, keep);
    ranks.clear();
    ranks.extend(keyed.iter().map(|&k| k as u32));
    ranks
}

/// A cheap stand-in for `SkimMatcherV2`'s judgement, rewarding what it rewards: letters matched
/// in runs and at word starts, a short span, and staying inside one word.
fn pre_score(token: &Token, name: &[u8], word_starts: u64) -> u32 {
    let text = &token.text;
    let at_word = |i: usize| i < 64 && word_starts & (1 << i) != 0;
    if token.letters
        && let Some(first) = first_fuzzy_start(text, name, word_starts)
    {
        let (mut runs, mut starts, mut last) = (0u32, 1u32, first);
        let mut at = first + 1;
        for &t in &text[1..] {
            let Some(i) = name[at..].iter().position(|&b| b == t) else {
                break;
            };
            let found = at + i;
            runs += u32::from(found == last + 1);
            starts += u32::from(at_word(found));
            last = found;
            at = found + 1;
        }
        let span = (last + 1 - first) as u32;
        let one_word = !(first + 1..=last).any(at_word);
        return 1000 + 16 * runs + 16 * starts + 24 * u32::from(one_word) - span.min(999);
    }
    if token.forgives_typo() && near_word(text, name, word_starts).is_some() {
        // One letter off, in one run from a word start.
        return 1000 + 16 * (text.len() as u32).saturating_sub(2) + 16 - text.len() as u32;
    }
    1000
}

/// Where a fuzzy match of `token` begins: the first word start from which it is a subsequence.
fn first_fuzzy_start(token: &[u8], name: &[u8], word_starts: u64) -> Option<usize> {
    let mut starts = word_starts;
    while starts != 0 {
        let p = starts.trailing_zeros() as usize;
        starts &= starts - 1;
        if name.get(p) == token.first() && is_subsequence(&token[1..], &name[p + 1..]) {
            return Some(p);
        }
    }
    None
}

/// Records whose text is on its way at once: enough outstanding reads to hide most of the
/// memory latency.
const BATCH: usize = 16;
/// How far ahead a narrowed search fetches record heads.
const HEAD_LOOKAHEAD: usize = 8;

/// A ring of records waiting to be graded: each is graded `BATCH` prefilter passes after its
/// text was asked for, by which time it has usually arrived.
#[derive(Default)]
struct Batch {
    records: [(u32, [Ways; MAX_TOKENS]); BATCH],
    next: usize,
    len: usize,
}

impl Batch {
    /// Adds a record; once the ring is full, hands back the oldest, ready to grade.
    fn push(&mut self, record: u32, ways: [Ways; MAX_TOKENS]) -> Option<(u32, [Ways; MAX_TOKENS])> {
        let slot = self.next;
        self.next = (self.next + 1) % BATCH;
        if self.len < BATCH {
            self.records[slot] = (record, ways);
            self.len += 1;
            return None;
        }
        Some(std::mem::replace(&mut self.records[slot], (record, ways)))
    }

    /// The records still waiting, oldest first.
    fn drain(&mut self) -> impl Iterator<Item = (u32, [Ways; MAX_TOKENS])> + '_ {
        let len = std::mem::take(&mut self.len);
        let first = (self.next + BATCH - len) % BATCH;
        (0..len).map(move |i| self.records[(first + i) % BATCH])
    }
}

/// Asks the CPU to start loading `bytes` into cache (both lines of a typical record).
#[inline(always)]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let p = bytes.as_ptr().cast::<i8>();
        // SAFETY: prefetching is a hint with no effect on memory; the addresses are in bounds.
        unsafe {
            _mm_prefetch(p, _MM_HINT_T0);
            if bytes.len() > 64 {
                _mm_prefetch(p.add(64), _MM_HINT_T0);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

#[inline(always)]
fn prefetch_head(index: &Index, record: u32) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let head: *const super::index::Head = &index.heads[record as usize];
        // SAFETY: as above: a hint about an in-bounds address.
        unsafe { _mm_prefetch(head.cast::<i8>(), _MM_HINT_T0) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (index, record);
}

/// Keeps only the `limit` smallest keys (in no particular order).
fn keep_best(keys: &mut Vec<u64>, limit: usize) {
    if keys.len() > limit {
        if limit == 0 {
            keys.clear();
            return;
        }
        keys.select_nth_unstable(limit - 1);
        keys.truncate(limit);
    }
}

fn hit(index: &Index, query: &Query, key: u64) -> Hit {
    let record = key as u32;
    let tier = Tier::from_bits(key >> TIER_SHIFT);
    let penalty = (key >> PENALTY_SHIFT) & PENALTY_MAX;
    Hit {
        record,
        membership: searched_membership(index.record_text(record), query),
        tier,
        score: (Tier::Fuzzy as i64 + 1 - tier as i64) * (PENALTY_MAX as i64 + 1) - penalty as i64,
    }
}

/// The membership whose CRM id the query is (or starts), else the most relevant one (0).
fn searched_membership(text: &[u8], query: &Query) -> usize {
    let ids = text.split(|&b| b == FIELD_SEP).skip(FIRST_MEMBERSHIP);
    let candidates = query
        .tokens
        .iter()
        .map(|t| t.text.as_slice())
        .chain(std::iter::once(query.compact.as_slice()));
    let mut best = None;
    for (nth, id) in ids.enumerate() {
        for token in candidates.clone() {
            if id == token {
                return nth;
            }
            if best.is_none() && token.len() >= 2 && id.starts_with(token) {
                best = Some(nth);
            }
        }
    }
    best.unwrap_or(0)
}

fn ascii(bytes: &[u8]) -> &str {
    // Folded text is ASCII letters and digits only.
    std::str::from_utf8(bytes).unwrap_or_default()
}

fn record_name(index: &Index, record: u32) -> &[u8] {
    &index.record_text(record)[..index.heads[record as usize].name_len()]
}

/// A record's fields, found from the stored name and email lengths.
struct Fields<'a> {
    text: &'a [u8],
    name: &'a [u8],
    email: &'a [u8],
    /// Postcode, phone, contact id, membership ids, separated: where an exact match ranks first.
    ids: &'a [u8],
    word_starts: u64,
    name_mask: u64,
    field_initials: u64,
}

impl<'a> Fields<'a> {
    fn of(index: &'a Index, record: u32) -> Fields<'a> {
        let r = record as usize;
        let text = index.record_text(record);
        let head = &index.heads[r];
        let (name_len, email_len) = (head.name_len(), head.email_len());
        let email_end = (name_len + 1 + email_len).min(text.len());
        // The text holds name, email, then the id fields: postcode, phone, contact id, memberships.
        const {
            assert!(NAME == 0 && EMAIL == 1 && POSTCODE == 2 && PHONE == 3);
            assert!(CONTACT_ID + 1 == FIRST_MEMBERSHIP);
        }
        Fields {
            text,
            name: &text[..name_len],
            email: &text[(name_len + 1).min(email_end)..email_end],
            ids: &text[(email_end + 1).min(text.len())..],
            word_starts: head.word_starts,
            name_mask: head.name,
            field_initials: head.field_initials,
        }
    }

    /// Whether `token` equals (Some(true)) or starts (Some(false)) the email or an id field.
    fn id_match(&self, token: &[u8]) -> Option<bool> {
        let mut prefix = starts_with(self.email, token);
        for field in self.ids.split(|&b| b == FIELD_SEP) {
            if starts_with(field, token) {
                if field.len() == token.len() {
                    return Some(true);
                }
                prefix = true;
            }
        }
        prefix.then_some(false)
    }

    fn has_initial(&self, letter: u8) -> bool {
        letter.is_ascii_lowercase() && self.name_mask >> 36 & (1 << (letter - b'a')) != 0
    }
}

/// Does `record` match, and if so in which tier and with what penalty (lower is better; the
/// fuzzy tier is scored later)?
/// The tier and penalty of a record that passed the prefilter, from its text.
#[inline(never)]
fn grade(
    index: &Index,
    query: &Query,
    record: u32,
    ways: [Ways; MAX_TOKENS],
) -> Option<(Tier, u64)> {
    let fields = Fields::of(index, record);
    let mut worst = Tier::Exact;
    let mut penalty = 0;
    for (token, ways) in query.tokens.iter().zip(ways) {
        let (tier, token_penalty) = token_tier(token, ways, &fields)?;
        if tier > worst {
            worst = tier;
            penalty = 0;
        }
        if tier == worst {
            penalty += token_penalty;
        }
    }
    if worst > Tier::Exact
        && let Some(whole) = whole_query_tier(query, &fields, index, record)
        && whole < worst
    {
        // The whole query did better than its tokens: `cf10 1aa` is exactly a postcode,
        // `sian jo` starts a full name.
        return Some((whole, 0));
    }
    Some((worst, penalty))
}

/// The ways each token might still match a record, judged on its masks alone; None when some
/// token cannot. Kept small and inlined: it runs for every record a search looks at.
#[inline(always)]
fn prefilter(index: &Index, query: &Query, r: usize) -> Option<[Ways; MAX_TOKENS]> {
    let head = &index.heads[r];
    let (all, name) = (head.all, head.name);
    let mut ways = [Ways::default(); MAX_TOKENS];
    for (token, ways) in query.tokens.iter().zip(&mut ways) {
        let substring = token.mask & !all == 0
            && token.char_pairs & !head.char_pairs == 0
            && token.digit_pairs & !head.digit_pairs == 0;
        let fuzzy = token.letters && token.mask & !name == 0 && name & token.initial != 0;
        let typo = token.forgives_typo() && (token.mask & !name).count_ones() <= 1;
        if !(substring || fuzzy || typo) {
            return None;
        }
        *ways = Ways {
            substring,
            fuzzy,
            typo,
        };
    }
    Some(ways)
}

/// The ways a token might still match a record, by its masks.
#[derive(Debug, Clone, Copy, Default)]
struct Ways {
    substring: bool,
    fuzzy: bool,
    typo: bool,
}

/// The best tier one token reaches in a record, with its penalty.
fn token_tier(token: &Token, ways: Ways, fields: &Fields) -> Option<(Tier, u64)> {
    let text = token.text.as_slice();
    if ways.substring {
        let id = if token.first & fields.field_initials != 0 {
            fields.id_match(text)
        } else {
            None
        };
        if id == Some(true) {
            return Some((Tier::Exact, 0));
        }
        if fields.has_initial(text[0])
            && let Some(word) = word_prefix(fields.name, fields.word_starts, text)
        {
            return Some((Tier::NamePrefix, word.penalty()));
        }
        if id.is_some() {
            return Some((Tier::FieldPrefix, 0));
        }
        // One character: the mask has already said it is there.
        if text.len() == 1 || contains(fields.text, text) {
            let in_name = if text.len() == 1 {
                fields.name_mask & token.mask != 0
            } else {
                contains(fields.name, text)
            };
            return Some((Tier::Substring, u64::from(!in_name)));
        }
    }
    if ways.fuzzy && fuzzy_from_word(text, fields.name, fields.word_starts) {
        return Some((Tier::Fuzzy, 0));
    }
    if ways.typo && near_word(text, fields.name, fields.word_starts).is_some() {
        return Some((Tier::Fuzzy, 0));
    }
    None
}

/// Tiers the whole query (tokens run together) can reach when it has several tokens or names an
/// email.
fn whole_query_tier(query: &Query, fields: &Fields, index: &Index, record: u32) -> Option<Tier> {
    if let Some(email) = &query.email
        && fields.email == query.compact.as_slice()
        && index
            .contact(record)
            .email
            .trim()
            .eq_ignore_ascii_case(email)
    {
        return Some(Tier::Exact);
    }
    if query.tokens.len() < 2 {
        return None;
    }
    let whole = query.compact.as_slice();
    let id = fields.id_match(whole);
    if id == Some(true) {
        return Some(Tier::Exact);
    }
    if word_prefix(fields.name, fields.word_starts, whole).is_some() {
        return Some(Tier::NamePrefix);
    }
    id.map(|_| Tier::FieldPrefix)
}

/// How a token sits at the start of a name word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WordMatch {
    /// The token is that whole word.
    whole: bool,
    /// The word is the name's first or last (a first name or surname, not a middle word).
    outer: bool,
}

impl WordMatch {
    fn penalty(self) -> u64 {
        2 * u64::from(!self.whole) + u64::from(!self.outer)
    }
}

/// The best way `token` starts at a word start of `name`, if it does.
fn word_prefix(name: &[u8], word_starts: u64, token: &[u8]) -> Option<WordMatch> {
    let last_word = 63 - word_starts.leading_zeros() as usize;
    let mut starts = word_starts;
    let mut best: Option<WordMatch> = None;
    while starts != 0 {
        let p = starts.trailing_zeros() as usize;
        starts &= starts - 1;
        if starts_with(&name[p.min(name.len())..], token) {
            let end = p + token.len();
            let found = WordMatch {
                whole: end == name.len() || (end < 64 && word_starts & (1 << end) != 0),
                outer: p == 0 || p == last_word,
            };
            if best.is_none_or(|b| found.penalty() < b.penalty()) {
                best = Some(found);
            }
        }
    }
    best
}

/// Whether `token` is a subsequence of `name` starting at the start of a word.
fn fuzzy_from_word(token: &[u8], name: &[u8], word_starts: u64) -> bool {
    first_fuzzy_start(token, name, word_starts).is_some()
}

/// The text of `name` that `token` means if it is one edit (a letter swapped with its neighbour,
/// wrong, missing or extra) away from the start of a name word: `jnoes` → `jones`.
fn near_word<'a>(token: &[u8], name: &'a [u8], word_starts: u64) -> Option<&'a [u8]> {
    let mut starts = word_starts;
    while starts != 0 {
        let p = starts.trailing_zeros() as usize;
        starts &= starts - 1;
        if let Some(len) = one_edit_prefix(token, &name[p.min(name.len())..]) {
            return Some(&name[p..p + len]);
        }
    }
    None
}

/// If `token` is at most one edit from a prefix of `text`, that prefix's length.
fn one_edit_prefix(token: &[u8], text: &[u8]) -> Option<usize> {
    let same = token.iter().zip(text).take_while(|(a, b)| a == b).count();
    if same == token.len() {
        return Some(same);
    }
    let (rest, after) = (&token[same..], &text[same.min(text.len())..]);
    let swapped = rest.len() >= 2
        && after.len() >= 2
        && rest[0] == after[1]
        && rest[1] == after[0]
        && starts_with(&after[2..], &rest[2..]);
    if swapped {
        return Some(token.len());
    }
    if after.len() > 1 && starts_with(&after[1..], &rest[1..]) {
        return Some(token.len()); // a wrong letter
    }
    if starts_with(after, &rest[1..]) {
        return Some(token.len() - 1); // an extra letter
    }
    if !after.is_empty() && starts_with(&after[1..], rest) {
        return Some(token.len() + 1); // a missing letter
    }
    None
}

fn starts_with(haystack: &[u8], needle: &[u8]) -> bool {
    // A byte loop: for names and ids this short it beats calling memcmp.
    haystack.len() >= needle.len() && haystack.iter().zip(needle).all(|(a, b)| a == b)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if haystack.len() < needle.len() {
        return false;
    }
    let last_start = haystack.len() - needle.len();
    (0..=last_start).any(|at| haystack[at] == first && starts_with(&haystack[at + 1..], rest))
}

fn is_subsequence(needle: &[u8], haystack: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    let (mut next, mut at) = (first, 0);
    for &b in haystack {
        if b == next {
            at += 1;
            match needle.get(at) {
                Some(&n) => next = n,
                None => return true,
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(q: &Query) -> Vec<&[u8]> {
        q.tokens.iter().map(|t| t.text.as_slice()).collect()
    }

    #[test]
    fn queries_split_into_folded_tokens() {
        let q = Query::parse("  Siân  O'Neill ");
        assert_eq!(texts(&q), [&b"sian"[..], b"oneill"]);
        assert_eq!(q.compact, b"sianoneill");
        assert_eq!(texts(&Query::parse("CF10 1AA")), [&b"cf101aa"[..]]);
        assert_eq!(
            texts(&Query::parse("+44 7700 900123")),
            [&b"07700900123"[..]]
        );
        assert_eq!(Query::parse("jones cf10").tokens.len(), 2);
        assert!(!Query::parse("cf10").tokens[0].letters);
        assert!(Query::parse(" ' - ").is_empty());
        assert!(Query::parse("+").is_empty());
        assert_eq!(texts(&Query::parse("00")), [&b"00"[..]]);
    }

    #[test]
    fn narrowing_only_when_every_match_would_survive() {
        let q = Query::parse;
        assert!(q("jon").narrows(&q("jo")));
        assert!(q("jo sian").narrows(&q("jo")));
        assert!(q("jones si").narrows(&q("jones s")));
        assert!(q("jonesy").narrows(&q("jones")));
        assert!(!q("jones").narrows(&q("jone")), "typo tolerance starts");
        assert!(q("cf1011").narrows(&q("cf101")), "ids never forgive typos");
        assert!(!q("jo").narrows(&q("jon")));
        assert!(!q("ja").narrows(&q("jo")));
        assert!(!q("jo").narrows(&q("")));
    }

    #[test]
    fn a_relaxed_query_is_a_base_for_the_next_letter() {
        let q = Query::parse;
        assert!(!q("jones").narrows(&q("jone")));
        assert!(q("jone").before_typos());
        assert!(q("jones").narrows(&q("jone").relaxed()));
        assert!(q("jonesy").narrows(&q("jones").relaxed()));
        assert_ne!(
            q("jone"),
            q("jone").relaxed(),
            "never mistaken for the query itself"
        );
        assert!(!q("1234").before_typos(), "numbers are never forgiven");
    }

    #[test]
    fn one_edit_from_a_word_start() {
        assert_eq!(one_edit_prefix(b"jnoes", b"jones"), Some(5));
        assert_eq!(one_edit_prefix(b"jonez", b"jonesdavies"), Some(5));
        assert_eq!(one_edit_prefix(b"jonnes", b"jones"), Some(5));
        assert_eq!(one_edit_prefix(b"wiliams", b"williams"), Some(8));
        assert_eq!(one_edit_prefix(b"jones", b"jonesy"), Some(5));
        assert_eq!(one_edit_prefix(b"jnoxs", b"jones"), None);
        // "aled jones": words at 0 and 4
        assert_eq!(
            near_word(b"jnoes", b"aledjones", 1 | 1 << 4),
            Some(&b"jones"[..])
        );
        assert_eq!(near_word(b"leda", b"aledjones", 1 | 1 << 4), None);
    }

    #[test]
    fn fuzzy_matches_start_at_a_word() {
        let smith = (b"johnsmith", 1 | 1 << 4);
        assert!(fuzzy_from_word(b"smth", smith.0, smith.1));
        assert!(fuzzy_from_word(b"jsmth", smith.0, smith.1));
        assert!(!fuzzy_from_word(b"mth", smith.0, smith.1));
        assert!(is_subsequence(b"smth", b"smith"));
        assert!(!is_subsequence(b"jnoes", b"jones"));
    }

    #[test]
    fn word_prefixes_know_whole_and_outer_words() {
        // "sian mair jones": words at 0, 4 and 8
        let starts = 1 | 1 << 4 | 1 << 8;
        let name = b"sianmairjones";
        let m = |t: &[u8]| word_prefix(name, starts, t).map(WordMatch::penalty);
        assert_eq!(m(b"jones"), Some(0));
        assert_eq!(m(b"sian"), Some(0));
        assert_eq!(m(b"mair"), Some(1), "a middle word");
        assert_eq!(m(b"jon"), Some(2), "part of a word");
        assert_eq!(m(b"sianma"), Some(2));
        assert_eq!(m(b"ones"), None);
    }

    #[test]
    fn substring_search() {
        assert!(contains(b"abcabd", b"abd"));
        assert!(contains(b"abc", b""));
        assert!(!contains(b"ab", b"abc"));
        assert!(!contains(b"a\0bc", b"abc"));
    }
}
