//! Matching and ranking: what a query finds and in which order.
//!
//! A query is split into tokens at spaces (a phone number or a whole postcode stays one token);
//! a record matches when every token matches one of its fields:
//! - as a substring of any field (name, email, postcode, phone, contact id, membership ids);
//! - as a subsequence of the name or email (`smth` finds Smith);
//! - from five letters on, as a subsequence once one letter of the token is left out, which
//!   forgives one swapped, wrong or extra letter (`jnoes` finds Jones).
//!
//! Matches are ranked in tiers a member-services officer would agree with:
//! 1. an exact contact id, membership id, email, postcode or phone;
//! 2. names with a word starting with each token (surname, first name, or the full name:
//!    `sian jo` and `jones sian` both find Siân Jones), whole words first;
//! 3. an email, postcode, phone or id starting with the query;
//! 4. anything containing the query;
//! 5. fuzzy matches, scored by fuzzy-matcher's `SkimMatcherV2`;
//! 6. matches that needed a letter forgiven, scored the same way.
//!
//! Ties go to name order (surname first), then rollcall id, so the order never flickers.
//!
//! Speed (550,000 records inside a 16 ms frame) comes from doing the expensive work to as few
//! records as possible: a 64-bit character-set mask rejects most records with one AND; the match
//! test is a substring search or a single byte loop; tiers 1–4 have cheap integer sort keys, and
//! `SkimMatcherV2` only scores the fuzzy tiers when the better tiers do not already fill the
//! results; only the best `limit` are selected (`select_nth_unstable`) and sorted. The records
//! are split into chunks that all cores take from a shared counter, every chunk checks for
//! cancellation, and a query that extends the previous one searches only the previous matches.

use std::sync::atomic::{AtomicUsize, Ordering};

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::index::{
    CONTACT_ID, EMAIL, FIELD_SEP, FIRST_MEMBERSHIP, Index, NAME, PHONE, POSTCODE,
};
use super::normalize::{char_mask, compact, is_uk_postcode, looks_like_phone, phone_digits};

/// Tokens this long or longer forgive one wrong letter. Shorter ones would match almost anything.
pub const TYPO_MIN: usize = 5;

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
    Typo = 5,
}

impl Tier {
    const ALL: [Tier; 6] = [
        Tier::Exact,
        Tier::NamePrefix,
        Tier::FieldPrefix,
        Tier::Substring,
        Tier::Fuzzy,
        Tier::Typo,
    ];

    fn from_bits(bits: u64) -> Tier {
        Tier::ALL[bits as usize]
    }
}

/// A parsed query: folded tokens, ready to match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    tokens: Vec<Vec<u8>>,
    masks: Vec<u64>,
    /// All tokens run together: what an exact or prefix match of the whole query compares.
    compact: Vec<u8>,
    /// The query lowercased, when it holds an `@`: only this compares equal to an email, so that
    /// `a.b@x.org` is not an exact match for `ab@x.org`.
    email: Option<String>,
}

impl Query {
    pub fn parse(raw: &str) -> Query {
        let raw = raw.trim();
        let tokens: Vec<Vec<u8>> = if looks_like_phone(raw) {
            vec![phone_digits(raw)]
        } else {
            let whole = compact(raw);
            if raw.split_whitespace().count() == 2 && is_uk_postcode(&whole) {
                vec![whole]
            } else {
                raw.split_whitespace()
                    .map(compact)
                    .filter(|t| !t.is_empty())
                    .collect()
            }
        };
        Query {
            masks: tokens.iter().map(|t| char_mask(t)).collect(),
            compact: tokens.concat(),
            email: raw.contains('@').then(|| raw.to_lowercase()),
            tokens,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Whether every record this query matches also matches `base`, so that searching only
    /// `base`'s matches finds them all: each token of `base` is the same or extended here (more
    /// tokens may follow), and no token crossed into typo tolerance, which matches more.
    pub fn narrows(&self, base: &Query) -> bool {
        if base.is_empty() || base.tokens.len() > self.tokens.len() {
            return false;
        }
        base.tokens.iter().zip(&self.tokens).all(|(old, new)| {
            new.starts_with(old) && (old.len() >= TYPO_MIN || new.len() < TYPO_MIN)
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
    /// Higher is better; orders hits across tiers. Within fuzzy tiers it grows with the
    /// `SkimMatcherV2` score.
    pub score: i64,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The best hits, best first, at most the limit asked for.
    pub hits: Vec<Hit>,
    /// How many records matched in all.
    pub total: usize,
    /// Every matching record, in index order: the search space for a query that narrows this one.
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
    matches: Vec<u32>,
    /// Keys of tier 1–4 matches, final.
    ranked: Vec<u64>,
    /// Keys of fuzzy matches with the penalty still to score.
    fuzzy: Vec<u64>,
}

impl Searcher {
    pub fn with_threads(threads: usize) -> Searcher {
        Searcher {
            skim: SkimMatcherV2::default().ignore_case(),
            threads: threads.max(1),
        }
    }

    /// The best `limit` matches of `query` in `index`. With `within`, only those records (the
    /// matches of a query this one narrows) are searched. Returns None as soon as `cancelled`
    /// says so.
    pub fn search(
        &self,
        index: &Index,
        query: &Query,
        limit: usize,
        within: Option<&[u32]>,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Outcome> {
        if query.is_empty() {
            return Some(self.everyone(index, limit));
        }
        let n = within.map_or(index.len(), <[u32]>::len);
        let record_at = |i: usize| within.map_or(i as u32, |w| w[i]);
        let chunks = self.parallel(n.div_ceil(CHUNK), cancelled, |chunk| {
            let mut out = ChunkOut::default();
            let end = ((chunk + 1) * CHUNK).min(n);
            for i in chunk * CHUNK..end {
                let record = record_at(i);
                if let Some((tier, penalty)) = evaluate(index, query, record) {
                    out.matches.push(record);
                    let key = sort_key(tier, penalty, index.rank[record as usize]);
                    if tier >= Tier::Fuzzy {
                        out.fuzzy.push(key);
                    } else {
                        out.ranked.push(key);
                    }
                }
            }
            out
        })?;
        let total = chunks.iter().map(|c| c.matches.len()).sum();
        let mut matches = Vec::with_capacity(total);
        let mut ranked = Vec::new();
        let mut fuzzy = Vec::new();
        for c in chunks {
            matches.extend_from_slice(&c.matches);
            ranked.extend_from_slice(&c.ranked);
            fuzzy.extend_from_slice(&c.fuzzy);
        }
        if ranked.len() < limit && !fuzzy.is_empty() {
            // The better tiers leave room: score the fuzzy matches, first tier first.
            fuzzy.sort_unstable_by_key(|k| k >> TIER_SHIFT);
            let typo_from = fuzzy.partition_point(|k| k >> TIER_SHIFT == Tier::Fuzzy as u64);
            let need = limit - ranked.len();
            let scored = if typo_from >= need {
                &fuzzy[..typo_from]
            } else {
                &fuzzy[..]
            };
            ranked.extend(self.score_fuzzy(index, query, scored, cancelled)?);
        }
        let hits = best(&mut ranked, limit)
            .iter()
            .map(|&key| hit(index, query, key))
            .collect();
        Some(Outcome {
            hits,
            total,
            matches: Some(matches),
        })
    }

    /// The empty query: everyone, in name order.
    fn everyone(&self, index: &Index, limit: usize) -> Outcome {
        let hits = index
            .by_rank
            .iter()
            .take(limit)
            .map(|&record| Hit {
                record,
                membership: 0,
                tier: Tier::Substring,
                score: 0,
            })
            .collect();
        Outcome {
            hits,
            total: index.len(),
            matches: None,
        }
    }

    /// Gives fuzzy-tier keys their `SkimMatcherV2` penalty, in parallel.
    fn score_fuzzy(
        &self,
        index: &Index,
        query: &Query,
        keys: &[u64],
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Vec<u64>> {
        let chunk = 2048;
        let scored = self.parallel(keys.len().div_ceil(chunk), cancelled, |c| {
            keys[c * chunk..((c + 1) * chunk).min(keys.len())]
                .iter()
                .map(|&key| {
                    let rank = key as u32;
                    let record = index.by_rank[rank as usize];
                    let score = self.skim_score(index.record_text(record), query);
                    let penalty = PENALTY_MAX.saturating_sub(score.max(0) as u64);
                    sort_key(Tier::from_bits(key >> TIER_SHIFT), penalty, rank)
                })
                .collect::<Vec<u64>>()
        })?;
        Some(scored.concat())
    }

    /// The summed `SkimMatcherV2` score of each token against the best of name and email (with
    /// the letter to forgive taken out of a token that needs it).
    fn skim_score(&self, text: &[u8], query: &Query) -> i64 {
        let mut fields = text.split(|&b| b == FIELD_SEP);
        let name = fields.next().unwrap_or_default();
        let email = fields.next().unwrap_or_default();
        let mut total = 0;
        for token in &query.tokens {
            let best = [name, email]
                .iter()
                .filter_map(|field| {
                    let pattern = if is_subsequence(token, field) {
                        token.clone()
                    } else {
                        forgiven(token, field)?
                    };
                    self.skim.fuzzy_match(ascii(field), ascii(&pattern))
                })
                .max();
            // A token found only in a postcode or id scores as a plain, middling match.
            total += best.unwrap_or(16 * token.len() as i64);
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

/// The `limit` smallest keys, sorted.
fn best(keys: &mut Vec<u64>, limit: usize) -> &[u64] {
    if limit == 0 {
        return &[];
    }
    if keys.len() > limit {
        keys.select_nth_unstable(limit - 1);
        keys.truncate(limit);
    }
    keys.sort_unstable();
    keys
}

fn hit(index: &Index, query: &Query, key: u64) -> Hit {
    let record = index.by_rank[(key as u32) as usize];
    let tier = Tier::from_bits(key >> TIER_SHIFT);
    let penalty = (key >> PENALTY_SHIFT) & PENALTY_MAX;
    Hit {
        record,
        membership: searched_membership(index.record_text(record), query),
        tier,
        score: (Tier::Typo as i64 + 1 - tier as i64) * (PENALTY_MAX as i64 + 1) - penalty as i64,
    }
}

/// The membership whose CRM id the query is (or starts), else the most relevant one (0).
fn searched_membership(text: &[u8], query: &Query) -> usize {
    let ids = text.split(|&b| b == FIELD_SEP).skip(FIRST_MEMBERSHIP);
    let candidates = query.tokens.iter().chain(std::iter::once(&query.compact));
    let mut best = None;
    for (nth, id) in ids.enumerate() {
        for token in candidates.clone() {
            if id == token.as_slice() {
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

/// Does `record` match, and if so in which tier and with what penalty (lower is better; fuzzy
/// tiers are scored later)?
fn evaluate(index: &Index, query: &Query, record: u32) -> Option<(Tier, u64)> {
    let mask = index.masks[record as usize];
    for (token, &token_mask) in query.tokens.iter().zip(&query.masks) {
        let missing = token_mask & !mask;
        if missing != 0 && (token.len() < TYPO_MIN || missing.count_ones() > 1) {
            return None;
        }
    }
    let text = index.record_text(record);
    let fields = Fields::split(text);
    let word_starts = index.word_starts[record as usize];
    let mut worst = Tier::Exact;
    let mut penalty = 0;
    for token in &query.tokens {
        let (tier, token_penalty) = token_tier(token, text, &fields, word_starts)?;
        if tier > worst {
            worst = tier;
            penalty = 0;
        }
        if tier == worst {
            penalty += token_penalty;
        }
    }
    if worst > Tier::Exact {
        // The whole query may do better than its tokens: `cf10 1aa` is exactly a postcode,
        // `sian jo` starts a full name.
        if let Some(whole) = whole_query_tier(query, &fields, word_starts, index, record)
            && whole < worst
        {
            return Some((whole, 0));
        }
    }
    Some((worst, if worst >= Tier::Fuzzy { 0 } else { penalty }))
}

/// A record's fields, found by one pass over its separators.
struct Fields<'a> {
    name: &'a [u8],
    email: &'a [u8],
    postcode: &'a [u8],
    phone: &'a [u8],
    contact_id: &'a [u8],
    /// The membership ids, still separated.
    memberships: &'a [u8],
}

impl<'a> Fields<'a> {
    fn split(text: &'a [u8]) -> Fields<'a> {
        let mut parts = text.splitn(FIRST_MEMBERSHIP + 1, |&b| b == FIELD_SEP);
        let mut next = || parts.next().unwrap_or_default();
        let fields = Fields {
            name: next(),
            email: next(),
            postcode: next(),
            phone: next(),
            contact_id: next(),
            memberships: next(),
        };
        debug_assert_eq!((NAME, EMAIL, POSTCODE, PHONE, CONTACT_ID), (0, 1, 2, 3, 4));
        fields
    }

    /// The fields where an exact match ranks first: postcode, phone, contact id, membership ids.
    fn exact_fields(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        [self.postcode, self.phone, self.contact_id]
            .into_iter()
            .chain(self.memberships.split(|&b| b == FIELD_SEP))
    }
}

/// The best tier one token reaches in a record, with its penalty (not a whole word: 1; found in a
/// field other than the name: 1).
fn token_tier(
    token: &[u8],
    text: &[u8],
    fields: &Fields,
    word_starts: u64,
) -> Option<(Tier, u64)> {
    if fields.exact_fields().any(|f| f == token) {
        return Some((Tier::Exact, 0));
    }
    if let Some(whole_word) = word_prefix(fields.name, word_starts, token) {
        return Some((Tier::NamePrefix, u64::from(!whole_word)));
    }
    if fields.email.starts_with(token) || fields.exact_fields().any(|f| f.starts_with(token)) {
        return Some((Tier::FieldPrefix, 0));
    }
    if contains(text, token) {
        return Some((Tier::Substring, u64::from(!contains(fields.name, token))));
    }
    if is_subsequence(token, fields.name) || is_subsequence(token, fields.email) {
        return Some((Tier::Fuzzy, 0));
    }
    if token.len() >= TYPO_MIN
        && (forgivable(token, fields.name).is_some() || forgivable(token, fields.email).is_some())
    {
        return Some((Tier::Typo, 0));
    }
    None
}

/// Tiers the whole query (tokens run together) can reach when it has several tokens or names an
/// email.
fn whole_query_tier(
    query: &Query,
    fields: &Fields,
    word_starts: u64,
    index: &Index,
    record: u32,
) -> Option<Tier> {
    if let Some(email) = &query.email
        && fields.email == query.compact.as_slice()
        && index.contact(record).email.trim().eq_ignore_ascii_case(email)
    {
        return Some(Tier::Exact);
    }
    if query.tokens.len() < 2 {
        return None;
    }
    let whole = query.compact.as_slice();
    if fields.exact_fields().any(|f| f == whole) {
        return Some(Tier::Exact);
    }
    if word_prefix(fields.name, word_starts, whole).is_some() {
        return Some(Tier::NamePrefix);
    }
    if fields.email.starts_with(whole) || fields.exact_fields().any(|f| f.starts_with(whole)) {
        return Some(Tier::FieldPrefix);
    }
    None
}

/// Whether `token` starts at a word start of `name`; Some(true) when it is that whole word.
fn word_prefix(name: &[u8], word_starts: u64, token: &[u8]) -> Option<bool> {
    let mut starts = word_starts;
    let mut found = None;
    while starts != 0 {
        let p = starts.trailing_zeros() as usize;
        starts &= starts - 1;
        if name.len() >= p + token.len() && &name[p..p + token.len()] == token {
            let end = p + token.len();
            let whole = end == name.len() || (end < 64 && word_starts & (1 << end) != 0);
            if whole {
                return Some(true);
            }
            found = Some(false);
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while from + needle.len() <= haystack.len() {
        match haystack[from..=haystack.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return false,
            Some(i) => {
                let at = from + i;
                if &haystack[at + 1..at + needle.len()] == rest {
                    return true;
                }
                from = at + 1;
            }
        }
    }
    false
}

fn is_subsequence(needle: &[u8], haystack: &[u8]) -> bool {
    let mut want = needle.iter();
    let mut next = want.next();
    for &b in haystack {
        match next {
            None => return true,
            Some(&n) if n == b => next = want.next(),
            _ => {}
        }
    }
    next.is_none()
}

/// The position of a letter of `token` that, left out, makes the rest a subsequence of `field`.
/// Two greedy passes: from the back, where the matching of each suffix must start at the latest;
/// from the front, where the matching of each prefix ends at the earliest.
fn forgivable(token: &[u8], field: &[u8]) -> Option<usize> {
    let m = token.len();
    if m > 64 || field.is_empty() {
        return None;
    }
    let mut latest_start = [0usize; 65];
    latest_start[m] = field.len();
    let mut first_valid = m;
    for i in (0..m).rev() {
        match field[..latest_start[i + 1]]
            .iter()
            .rposition(|&b| b == token[i])
        {
            Some(p) => {
                latest_start[i] = p;
                first_valid = i;
            }
            None => break,
        }
    }
    let mut matched_to = 0;
    for k in 0..m {
        if k + 1 >= first_valid && matched_to <= latest_start[k + 1] {
            return Some(k);
        }
        matched_to += field[matched_to..].iter().position(|&b| b == token[k])? + 1;
    }
    None
}

/// `token` with one letter forgiven so that it is a subsequence of `field`, for scoring: undoing
/// a swap of two neighbours when that works (`jnoes` → `jones`), else leaving a letter out.
fn forgiven(token: &[u8], field: &[u8]) -> Option<Vec<u8>> {
    for i in 0..token.len().saturating_sub(1) {
        if token[i] != token[i + 1] {
            let mut swapped = token.to_vec();
            swapped.swap(i, i + 1);
            if is_subsequence(&swapped, field) {
                return Some(swapped);
            }
        }
    }
    forgivable(token, field).map(|k| [&token[..k], &token[k + 1..]].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_split_into_folded_tokens() {
        let q = Query::parse("  Siân  O'Neill ");
        assert_eq!(q.tokens, [b"sian".to_vec(), b"oneill".to_vec()]);
        assert_eq!(q.compact, b"sianoneill");
        assert_eq!(Query::parse("CF10 1AA").tokens, [b"cf101aa".to_vec()]);
        assert_eq!(
            Query::parse("+44 7700 900123").tokens,
            [b"07700900123".to_vec()]
        );
        assert_eq!(Query::parse("jones cf10").tokens.len(), 2);
        assert!(Query::parse(" ' - ").is_empty());
    }

    #[test]
    fn narrowing_only_when_every_match_would_survive() {
        let q = Query::parse;
        assert!(q("jon").narrows(&q("jo")));
        assert!(q("jo sian").narrows(&q("jo")));
        assert!(q("jones si").narrows(&q("jones s")));
        assert!(q("jonesy").narrows(&q("jones")));
        assert!(!q("jones").narrows(&q("jone")), "typo tolerance starts");
        assert!(!q("jo").narrows(&q("jon")));
        assert!(!q("ja").narrows(&q("jo")));
        assert!(!q("jo").narrows(&q("")));
    }

    #[test]
    fn subsequences_and_forgiven_letters() {
        assert!(is_subsequence(b"smth", b"smith"));
        assert!(!is_subsequence(b"jnoes", b"jones"));
        assert_eq!(forgiven(b"jnoes", b"jones"), Some(b"jones".to_vec()));
        assert_eq!(forgiven(b"jonxes", b"jones"), Some(b"jones".to_vec()));
        assert_eq!(forgiven(b"jonez", b"jones"), Some(b"jone".to_vec()));
        assert_eq!(forgiven(b"xxxxx", b"jones"), None);
        assert_eq!(forgivable(b"jonesx", b"jones"), Some(5));
        assert_eq!(forgivable(b"xjones", b"jones"), Some(0));
        assert_eq!(forgivable(b"joxnes", b"jones"), Some(2));
        assert_eq!(forgivable(b"jxnxs", b"jones"), None);
    }

    #[test]
    fn word_prefixes_know_whole_words() {
        // "sian jones": words at 0 and 4
        let starts = 1 | 1 << 4;
        assert_eq!(word_prefix(b"sianjones", starts, b"jones"), Some(true));
        assert_eq!(word_prefix(b"sianjones", starts, b"jon"), Some(false));
        assert_eq!(word_prefix(b"sianjones", starts, b"sian"), Some(true));
        assert_eq!(word_prefix(b"sianjones", starts, b"sianjo"), Some(false));
        assert_eq!(word_prefix(b"sianjones", starts, b"ones"), None);
    }

    #[test]
    fn substring_search() {
        assert!(contains(b"abcabd", b"abd"));
        assert!(contains(b"abc", b""));
        assert!(!contains(b"ab", b"abc"));
        assert!(!contains(b"a\0bc", b"abc"));
    }
}
