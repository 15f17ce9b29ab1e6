//! (filled by the member work)
