//! (activities)
