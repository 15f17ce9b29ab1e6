//! (filled by the escalation work)
