//! The domain: pure rules about memberships, dates and queues. No I/O here, so every rule can be
//! tested with plain values.

pub mod dates;
pub mod membership;

pub use membership::{ContactFlags, MemberStatus};
pub mod escalation;
pub mod onboarding;
pub mod renewal;
