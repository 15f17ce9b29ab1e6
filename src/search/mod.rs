//! Member search: an in-memory index over every contact, a matcher that ranks as a
//! member-services officer would, and a background service that keeps up with typing.
//!
//! - [`normalize`]: how text is folded (accents, case, punctuation, phones, postcodes).
//! - [`index`]: the compact index, loaded from the store in one streaming query.
//! - [`disk`]: the index kept in a file beside the database, checked against the store.
//! - [`matcher`]: query parsing, matching tiers, ranking and the parallel scan.
//! - [`service`]: the app's search thread: loads the index in the background, runs the newest
//!   query, cancels stale ones, narrows as the query grows.
//!
//! The app's Search pane, `rollcall search` and the `search_latency` benchmark all run the same
//! engine.

pub mod disk;
pub mod index;
pub mod matcher;
pub mod normalize;

pub use index::{ContactInput, Index, LoadError, LoadProgress, MembershipInput};
pub use matcher::{Hit, Outcome, Query, Searcher, Tier};
pub mod results;
pub mod service;

pub use results::{MemberHit, MembershipSummary};
pub use service::{IndexState, SearchResults, SearchService};
