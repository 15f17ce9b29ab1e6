//! (filled by the renewals work)
