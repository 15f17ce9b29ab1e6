//! (filled by the renewal work)
