//! (members)
