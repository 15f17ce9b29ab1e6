//! A prepared statement whose text parameters SQLite reads where they lie, for the writer's
//! inserts and updates.
//!
//! rusqlite binds text with `SQLITE_TRANSIENT`: SQLite copies every string into memory of its own
//! (an allocation, a copy and a free per value). A first import of 550,000 members binds about
//! twenty million strings, and those copies were 15% of the writing thread's instructions
//! (callgrind, a first import of 50,000 members).
//! [`InPlaceStatement`] binds text with `SQLITE_STATIC` instead, which promises SQLite that the bytes
//! stay where they are until the parameter is bound again or cleared. [`InPlaceStatement::execute`]
//! keeps that promise: every string it binds is borrowed for the whole call, and it clears the
//! bindings before it returns, so no pointer outlives what it points at.

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use rusqlite::{Connection, ffi};

/// A statement prepared on `conn`, run with [`InPlaceStatement::execute`].
pub struct InPlaceStatement<'conn> {
    db: *mut ffi::sqlite3,
    stmt: NonNull<ffi::sqlite3_stmt>,
    _conn: PhantomData<&'conn Connection>,
}

/// The parameters of one run of a [`InPlaceStatement`]; text bound here must live for `'v`.
pub struct Params<'s, 'v> {
    statement: &'s InPlaceStatement<'s>,
    _values: PhantomData<&'v str>,
}

impl<'conn> InPlaceStatement<'conn> {
    pub fn prepare(
        conn: &'conn Connection,
        sql: &str,
    ) -> rusqlite::Result<InPlaceStatement<'conn>> {
        let len = c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::InvalidQuery)?;
        // SAFETY: the handle is only used while `conn` is borrowed (the `'conn` lifetime), and
        // only on this thread (`InPlaceStatement` holds raw pointers, so it is neither Send nor Sync).
        let db = unsafe { conn.handle() };
        let mut stmt = ptr::null_mut();
        // SAFETY: `sql` is valid for `len` bytes; SQLite writes the new statement to `stmt`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                ptr::null_mut(),
            )
        };
        check(db, rc)?;
        let stmt = NonNull::new(stmt).ok_or(rusqlite::Error::InvalidQuery)?;
        Ok(InPlaceStatement {
            db,
            stmt,
            _conn: PhantomData,
        })
    }

    /// Binds the parameters with `bind`, runs the statement to its end, and clears every
    /// binding, whether or not it succeeded.
    pub fn execute<'v>(
        &mut self,
        bind: impl FnOnce(&mut Params<'_, 'v>) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let result = bind(&mut Params {
            statement: self,
            _values: PhantomData,
        })
        .and_then(|()| self.step());
        // SAFETY: the statement is ours and alive. Clearing the bindings drops every pointer
        // to text borrowed for this call before the borrow ends.
        unsafe {
            ffi::sqlite3_reset(self.stmt.as_ptr());
            ffi::sqlite3_clear_bindings(self.stmt.as_ptr());
        }
        result
    }

    fn step(&self) -> rusqlite::Result<()> {
        // SAFETY: the statement is ours and alive, and every text it reads is borrowed until
        // `execute` clears it.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            ffi::SQLITE_DONE => Ok(()),
            ffi::SQLITE_ROW => Err(rusqlite::Error::ExecuteReturnedResults),
            rc => check(self.db, rc),
        }
    }
}

impl Drop for InPlaceStatement<'_> {
    fn drop(&mut self) {
        // SAFETY: finalised once, here; nothing uses the statement afterwards.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

impl<'v> Params<'_, 'v> {
    /// Text at parameter `index` (1-based), read in place when the statement runs.
    pub fn text(&mut self, index: usize, value: &'v str) -> rusqlite::Result<()> {
        // A zero-length text still needs a pointer SQLite may read: point it at a real byte.
        let ptr = if value.is_empty() {
            c"".as_ptr()
        } else {
            value.as_ptr().cast()
        };
        // SAFETY: `value` is valid for `value.len()` bytes and outlives this run of the
        // statement (`'v` outlives `execute`, which clears the binding before it returns).
        let rc = unsafe {
            ffi::sqlite3_bind_text64(
                self.statement.stmt.as_ptr(),
                param(index)?,
                ptr,
                value.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            )
        };
        check(self.statement.db, rc)
    }

    /// Text or NULL at parameter `index`.
    pub fn opt_text(&mut self, index: usize, value: Option<&'v str>) -> rusqlite::Result<()> {
        match value {
            Some(text) => self.text(index, text),
            None => {
                // SAFETY: the statement is ours and alive.
                let rc =
                    unsafe { ffi::sqlite3_bind_null(self.statement.stmt.as_ptr(), param(index)?) };
                check(self.statement.db, rc)
            }
        }
    }

    /// An integer at parameter `index`.
    pub fn int(&mut self, index: usize, value: i64) -> rusqlite::Result<()> {
        // SAFETY: the statement is ours and alive.
        let rc =
            unsafe { ffi::sqlite3_bind_int64(self.statement.stmt.as_ptr(), param(index)?, value) };
        check(self.statement.db, rc)
    }
}

fn param(index: usize) -> rusqlite::Result<c_int> {
    c_int::try_from(index).map_err(|_| rusqlite::Error::InvalidParameterCount(index, 0))
}

/// `rc` as a rusqlite error carrying SQLite's message, or `Ok` for `SQLITE_OK`.
fn check(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Result<()> {
    if rc == ffi::SQLITE_OK {
        return Ok(());
    }
    // SAFETY: `db` is the live connection the failing call ran on; SQLite returns a
    // NUL-terminated message that stays valid until the next call, and it is copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    Err(rusqlite::Error::SqliteFailure(
        ffi::Error::new(rc),
        Some(message),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a TEXT NOT NULL, b TEXT, n INTEGER)")
            .unwrap();
        conn
    }

    fn rows(conn: &Connection) -> Vec<(String, Option<String>, Option<i64>)> {
        let mut stmt = conn
            .prepare("SELECT a, b, n FROM t ORDER BY rowid")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn text_is_stored_as_bound_even_after_the_buffer_is_reused() {
        let conn = table();
        let mut insert =
            InPlaceStatement::prepare(&conn, "INSERT INTO t VALUES (?1, ?2, ?3)").unwrap();
        let mut buffer = String::new();
        for (name, place) in [("Siân Jones", Some("Caerdydd")), ("", None)] {
            buffer.clear();
            buffer.push_str(name);
            insert
                .execute(|p| {
                    p.text(1, &buffer)?;
                    p.opt_text(2, place)?;
                    p.int(3, 7)
                })
                .unwrap();
            // Overwrite the bytes SQLite was pointed at: the stored row must not change.
            buffer.clear();
            buffer.push_str("XXXXXXXXXXXX");
        }
        assert_eq!(
            rows(&conn),
            [
                (
                    "Siân Jones".to_owned(),
                    Some("Caerdydd".to_owned()),
                    Some(7)
                ),
                (String::new(), None, Some(7))
            ]
        );
    }

    #[test]
    fn a_failed_run_reports_sqlites_message_and_leaves_no_binding_behind() {
        let conn = table();
        let mut insert =
            InPlaceStatement::prepare(&conn, "INSERT INTO t VALUES (?1, ?2, ?3)").unwrap();
        let err = insert.execute(|p| p.int(3, 1)).unwrap_err();
        assert!(err.to_string().contains("NOT NULL"), "{err}");
        let err = insert.execute(|p| p.int(4, 1)).unwrap_err();
        assert!(
            err.to_string().contains("column index out of range"),
            "{err}"
        );
        // A run sees none of the runs before: ?2 and ?3, bound by none of its calls, are NULL.
        insert.execute(|p| p.text(1, "Ffion")).unwrap();
        assert_eq!(rows(&conn), [("Ffion".to_owned(), None, None)]);
    }

    #[test]
    fn bad_sql_is_an_error_not_a_statement() {
        let conn = table();
        let err = InPlaceStatement::prepare(&conn, "INSERT INTO nowhere VALUES (?1)").err();
        assert!(err.unwrap().to_string().contains("no such table"));
        assert!(InPlaceStatement::prepare(&conn, "  ").is_err());
    }
}
