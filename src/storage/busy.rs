//! Waiting for another process's write instead of failing with "database is locked".
//!
//! Every connection waits up to [`BUSY_TIMEOUT`](super::BUSY_TIMEOUT) for a lock another
//! rollcall holds (an import holds the write lock for seconds), sleeping in the same growing
//! steps as SQLite's own busy timeout. A command line can ask to be told when a wait grows long
//! ([`on_long_wait`]), so a person at the terminal knows why nothing is happening, and a test
//! knows the command really is waiting.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How long a wait goes on before the notice is given.
const NOTICE_AFTER: Duration = Duration::from_millis(300);

/// SQLite's busy-timeout steps, in milliseconds; then 100 ms a step.
const STEPS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

static NOTICE: OnceLock<fn()> = OnceLock::new();
static NOTICE_GIVEN: AtomicBool = AtomicBool::new(false);

/// Calls `notice` (once per process) when a connection has waited for a lock for a while.
pub fn on_long_wait(notice: fn()) {
    let _ = NOTICE.set(notice);
}

/// Gives the long-wait notice (once per process), for a wait that is not SQLite's: a team
/// database's import lock. The app sets no notice, so nothing is printed over its screen.
pub fn notify_long_wait() {
    if !NOTICE_GIVEN.swap(true, Ordering::Relaxed)
        && let Some(notice) = NOTICE.get()
    {
        notice();
    }
}

/// Makes `conn` wait up to `timeout` whenever the database is locked.
pub(super) fn wait_when_busy(conn: &mut Connection, timeout: Duration) -> rusqlite::Result<()> {
    let mut started = Instant::now();
    conn.busy_handler(Some(move |count: i32| {
        if count == 0 {
            started = Instant::now();
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return false;
        }
        if waited >= NOTICE_AFTER && !NOTICE_GIVEN.swap(true, Ordering::Relaxed) {
            if let Some(notice) = NOTICE.get() {
                notice();
            }
        }
        let step = usize::try_from(count)
            .ok()
            .and_then(|i| STEPS_MS.get(i))
            .copied()
            .unwrap_or(100);
        std::thread::sleep(Duration::from_millis(step).min(timeout - waited));
        true
    }))
}
