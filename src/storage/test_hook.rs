//! A pause for the process tests (tests/trust_locks.rs): with `ROLLCALL_TEST_HOLD=MOMENT` set,
//! a rollcall process that reaches MOMENT while holding the database's write lock says so on
//! stderr and waits for its standard input to close. A test can then run other commands against
//! a database in exactly that state, and kill or release the holder, without timing anything.
//!
//! Moments: `migrating` (creating or upgrading the schema), `importing` (a file's import
//! transaction, its first rows written).

/// Pauses here if `ROLLCALL_TEST_HOLD` names `moment`.
pub fn hold(moment: &str) {
    if std::env::var_os("ROLLCALL_TEST_HOLD").is_some_and(|m| m == moment) {
        eprintln!("rollcall: test hook: holding the write lock while {moment}");
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    }
}
