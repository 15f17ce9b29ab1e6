//! Pauses for the process tests: with `ROLLCALL_TEST_HOLD=MOMENT` set, a rollcall process that
//! reaches MOMENT says so on stderr (`rollcall: test hook: holding at MOMENT`) and
//! waits there until its standard input closes. A test can then run other commands against a
//! database in exactly that state, kill the holder there (tests/trust_crash.rs), or let it go on
//! (tests/trust_locks.rs), without timing anything: a faster or slower machine cannot move where
//! the process stops.
//!
//! Moments, in the order an import meets them: `migrating` (creating or upgrading the schema),
//! `begun` (the import transaction open, its run row written), `first_batch` (the first rows
//! written), `rows_written` (every row and the missing flags written, indexes not yet rebuilt),
//! `committing` (just before the commit), `committed` (just after it; the lock is released).

/// The environment variable that names the moment to hold at.
pub const HOLD_VAR: &str = "ROLLCALL_TEST_HOLD";

/// Pauses here if [`HOLD_VAR`] names `moment`.
pub fn hold(moment: &str) {
    if std::env::var_os(HOLD_VAR).is_some_and(|m| m == moment) {
        eprintln!("rollcall: test hook: holding at {moment}");
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    }
}
