//! The domain: pure rules about memberships, dates and queues. No I/O here, so every rule can be
//! tested with plain values.

pub mod changes;
pub mod cohorts;
pub mod dates;
pub mod drift;
pub mod duplicates;
pub mod membership;

pub use membership::{ContactFlags, MemberStatus};
pub mod escalation;
pub mod letters;
pub mod onboarding;
pub mod renewal;
pub mod resave;
pub mod staff;

/// A staff member's name as recorded on changes and assignments: 1 to 64 printable characters,
/// trimmed. The one rule for `--user`, assignees and anything else that names staff.
pub fn check_staff_name(name: &str) -> Result<&str, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err("a staff name is 1 to 64 printable characters");
    }
    Ok(name)
}
