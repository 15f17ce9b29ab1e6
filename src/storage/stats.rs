//! (filled by the stats work)
