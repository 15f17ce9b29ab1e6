//! One connection type for both engines: SQLite (a file, through `rusqlite`) and PostgreSQL (a
//! team's shared database, through the synchronous `postgres` crate).
//!
//! The surface copies `rusqlite`'s (`execute`, `query_row`, `prepare`, `query_map`,
//! `transaction`, `params!`, `.optional()`), so a query reads the same whichever engine runs it,
//! and the storage modules were ported by changing their imports. SQL is written once, in the
//! subset both engines accept, with `?N` placeholders; on PostgreSQL they become `$N` (see
//! [`postgres_placeholders`]). Where the engines need different SQL, the caller writes both next to
//! each other with [`Connection::pick`], so a reader can compare them.
//!
//! Values travel as SQLite's five storage classes ([`ValueRef`]). PostgreSQL's columns are typed,
//! so a parameter is encoded as the type the server asks for (an integer bound to a `BIGINT`
//! column goes as `int8`, bound to a `TEXT` one as its digits), and a column read back is turned
//! into the same classes: booleans and integers of any width are integers, `NUMERIC` an integer
//! when it has no fraction. That is what lets one test body run on both engines.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;

use postgres::types::{IsNull, Kind, Type, to_sql_checked};

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

// ------------------------------------------------------------------------------------ errors

#[derive(Debug)]
pub enum Error {
    Sqlite(rusqlite::Error),
    Postgres(postgres::Error),
    /// `query_row` found no row (see [`OptionalExtension`]).
    NoRows,
    /// A column held a value of another kind than the one asked for.
    Conversion {
        column: String,
        wanted: &'static str,
        found: &'static str,
    },
    /// The column index or name is not in the result.
    NoSuchColumn(String),
    /// Anything else a caller's row mapping reports.
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sqlite(e) => e.fmt(f),
            Error::Postgres(e) => f.write_str(&describe_postgres(e)),
            Error::NoRows => f.write_str("the query returned no rows"),
            Error::Conversion {
                column,
                wanted,
                found,
            } => write!(f, "column {column}: expected {wanted}, found {found}"),
            Error::NoSuchColumn(c) => write!(f, "no column {c} in the result"),
            Error::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sqlite(e) => Some(e),
            // Not the postgres error: its Display carries the server's DETAIL line, which
            // can quote a member's data (a duplicate key's value); ours leaves it out.
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            other => Error::Sqlite(other),
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Postgres(e)
    }
}

impl Error {
    /// The SQLite error underneath, for code that looks at SQLite's error codes.
    pub fn as_sqlite(&self) -> Option<&rusqlite::Error> {
        match self {
            Error::Sqlite(e) => Some(e),
            _ => None,
        }
    }

    /// The SQLSTATE of a PostgreSQL error from the server.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Postgres(e) => e.code().map(|c| c.code()),
            _ => None,
        }
    }

    /// The connection to the server was lost (or never made): the team database is
    /// unreachable, as opposed to a statement it refused.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            Error::Postgres(e) => postgres_connection_lost(e),
            _ => false,
        }
    }
}

/// [`Error::is_connection_lost`] for a rust-postgres error met outside [`Connection`] (the
/// import's COPY runs on the client itself).
pub fn postgres_connection_lost(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.as_db_error().is_none()
            && std::error::Error::source(e)
                .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        || e.code().is_some_and(|c| {
            c.code().starts_with("08") || c.code() == "57P01" || c.code() == "57P03"
        })
}

/// Whether anything in `err`'s chain says the team database's connection was lost.
pub fn lost_connection_in(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<Error>()
            .is_some_and(Error::is_connection_lost)
            || e.downcast_ref::<postgres::Error>()
                .is_some_and(postgres_connection_lost)
    })
}

/// A PostgreSQL error in one line, without the server's DETAIL (which may quote row data) and
/// without anything of the connection string.
pub fn describe_postgres(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        if db.code().code() == "42501" {
            // The server's own access rules (storage::team_access): say whose they are.
            return format!(
                "the team database refused this: {}; your staff role does not allow it \
                 (rollcall team staff shows the roles)",
                db.message()
            );
        }
        return format!("{} ({})", db.message(), db.code().code());
    }
    if e.is_closed() {
        return "team database unreachable: the connection was closed".into();
    }
    match std::error::Error::source(e) {
        Some(inner) => format!("team database unreachable: {e}: {inner}"),
        None => e.to_string(),
    }
}

/// `query_row(…).optional()`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ------------------------------------------------------------------------------------ values

/// A value as SQLite stores it, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// An owned [`ValueRef`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl<'a> ValueRef<'a> {
    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real number",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        }
    }

    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_owned()),
        }
    }

    /// The text, or an error naming what was there instead.
    pub fn as_str(&self) -> Result<&'a str> {
        match *self {
            ValueRef::Text(s) => Ok(s),
            other => Err(Error::Conversion {
                column: String::new(),
                wanted: "text",
                found: other.kind(),
            }),
        }
    }

    /// Text or a blob as bytes; `None` for NULL.
    pub fn as_bytes_or_null(&self) -> Result<Option<&'a [u8]>> {
        match *self {
            ValueRef::Text(s) => Ok(Some(s.as_bytes())),
            ValueRef::Blob(b) => Ok(Some(b)),
            ValueRef::Null => Ok(None),
            other => Err(Error::Conversion {
                column: String::new(),
                wanted: "text",
                found: other.kind(),
            }),
        }
    }
}

/// A Rust value that can be bound as a parameter.
pub trait ToSql {
    fn to_sql(&self) -> ValueRef<'_>;
}

macro_rules! int_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> ValueRef<'_> {
                // Row counts and ids: far below i64::MAX in any membership database.
                ValueRef::Integer(*self as i64)
            }
        }
    )*};
}
int_to_sql!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl ToSql for bool {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::from(*self))
    }
}
impl ToSql for f64 {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}
impl ToSql for str {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}
impl ToSql for String {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}
impl ToSql for [u8] {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}
impl ToSql for Vec<u8> {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}
impl ToSql for Value {
    fn to_sql(&self) -> ValueRef<'_> {
        self.as_ref()
    }
}
impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> ValueRef<'_> {
        *self
    }
}
impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> ValueRef<'_> {
        (**self).to_sql()
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_sql(),
            None => ValueRef::Null,
        }
    }
}
impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> ValueRef<'_> {
        (**self).to_sql()
    }
}

/// A Rust value a column can be read as.
pub trait FromSql: Sized {
    const WANTED: &'static str;
    fn from_sql(v: ValueRef<'_>) -> Option<Self>;
}

macro_rules! int_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            const WANTED: &'static str = "an integer";
            fn from_sql(v: ValueRef<'_>) -> Option<Self> {
                match v {
                    ValueRef::Integer(i) => <$t>::try_from(i).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
int_from_sql!(i32, i64, u8, u16, u32, u64, usize);

impl FromSql for bool {
    const WANTED: &'static str = "an integer (a flag)";
    fn from_sql(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Integer(i) => Some(i != 0),
            _ => None,
        }
    }
}
impl FromSql for f64 {
    const WANTED: &'static str = "a number";
    fn from_sql(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Real(r) => Some(r),
            ValueRef::Integer(i) => Some(i as f64),
            _ => None,
        }
    }
}
impl FromSql for String {
    const WANTED: &'static str = "text";
    fn from_sql(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Text(s) => Some(s.to_owned()),
            _ => None,
        }
    }
}
impl FromSql for Vec<u8> {
    const WANTED: &'static str = "a blob";
    fn from_sql(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Blob(b) => Some(b.to_owned()),
            ValueRef::Text(s) => Some(s.as_bytes().to_owned()),
            _ => None,
        }
    }
}
impl FromSql for Value {
    const WANTED: &'static str = "any value";
    fn from_sql(v: ValueRef<'_>) -> Option<Self> {
        Some(v.to_owned())
    }
}
impl<T: FromSql> FromSql for Option<T> {
    const WANTED: &'static str = T::WANTED;
    fn from_sql(v: ValueRef<'_>) -> Option<Self> {
        match v {
            ValueRef::Null => Some(None),
            other => T::from_sql(other).map(Some),
        }
    }
}

// ------------------------------------------------------------------------------------ params

/// What a statement's parameters are given as: `[]`, `[a, b]`, `params![a, b]`,
/// `params_from_iter(…)`.
pub trait Params {
    fn values(&self) -> Vec<ValueRef<'_>>;
}

impl Params for [&dyn ToSql; 0] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        Vec::new()
    }
}
impl Params for &[&dyn ToSql] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(|v| v.to_sql()).collect()
    }
}
impl Params for () {
    fn values(&self) -> Vec<ValueRef<'_>> {
        Vec::new()
    }
}
impl Params for Vec<Value> {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(Value::as_ref).collect()
    }
}

macro_rules! array_params {
    ($($n:literal)+) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn values(&self) -> Vec<ValueRef<'_>> {
                self.iter().map(|v| v.to_sql()).collect()
            }
        }
        impl<T: ToSql> Params for &[T; $n] {
            fn values(&self) -> Vec<ValueRef<'_>> {
                self.iter().map(|v| v.to_sql()).collect()
            }
        }
    )+};
}
array_params!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

macro_rules! tuple_params {
    ($(($($t:ident $i:tt),+))+) => {$(
        impl<$($t: ToSql),+> Params for ($($t,)+) {
            fn values(&self) -> Vec<ValueRef<'_>> {
                vec![$(self.$i.to_sql()),+]
            }
        }
    )+};
}
tuple_params!((A 0, B 1) (A 0, B 1, C 2) (A 0, B 1, C 2, D 3) (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5) (A 0, B 1, C 2, D 3, E 4, F 5, G 6));

/// Parameters from an iterator of values (a list of unknown length).
pub struct ParamsFromIter(Vec<Value>);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iter.into_iter().map(|v| v.to_sql().to_owned()).collect())
}

impl Params for ParamsFromIter {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.0.iter().map(Value::as_ref).collect()
    }
}

/// `params![a, b, c]`: parameters of different types.
#[macro_export]
macro_rules! sql_params {
    () => {
        &[] as &[&dyn $crate::storage::sql::ToSql]
    };
    ($($param:expr),+ $(,)?) => {
        &[$(&$param as &dyn $crate::storage::sql::ToSql),+] as &[&dyn $crate::storage::sql::ToSql]
    };
}
pub use crate::sql_params as params;

// ------------------------------------------------------------------------------------ rows

/// One result row, from either engine.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

/// A column, by position (from 0) or by name.
pub trait RowIndex: Copy + fmt::Display {
    fn position(self, names: &dyn Fn(usize) -> Option<String>, len: usize) -> Option<usize>;
}
impl RowIndex for usize {
    fn position(self, _: &dyn Fn(usize) -> Option<String>, len: usize) -> Option<usize> {
        (self < len).then_some(self)
    }
}
impl RowIndex for &str {
    fn position(self, names: &dyn Fn(usize) -> Option<String>, len: usize) -> Option<usize> {
        (0..len).find(|&i| names(i).is_some_and(|n| n.eq_ignore_ascii_case(self)))
    }
}

impl Row<'_> {
    /// The column at `idx` as `T`.
    pub fn get<I: RowIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let value = self.get_ref(idx)?;
        T::from_sql(value).ok_or_else(|| Error::Conversion {
            column: idx.to_string(),
            wanted: T::WANTED,
            found: value.kind(),
        })
    }

    /// The column at `idx` as it is held in the row, without copying.
    pub fn get_ref<I: RowIndex>(&self, idx: I) -> Result<ValueRef<'_>> {
        let at = self.index(idx)?;
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(at)? {
                rusqlite::types::ValueRef::Null => ValueRef::Null,
                rusqlite::types::ValueRef::Integer(i) => ValueRef::Integer(i),
                rusqlite::types::ValueRef::Real(f) => ValueRef::Real(f),
                // Text that is not UTF-8 (a CRM's stray byte that got past import) reads as
                // bytes, so a caller that wants text says which column was wrong.
                rusqlite::types::ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(t) => ValueRef::Text(t),
                    Err(_) => ValueRef::Blob(t),
                },
                rusqlite::types::ValueRef::Blob(b) => ValueRef::Blob(b),
            }),
            Row::Postgres(r) => Ok(r.try_get::<_, PgRef<'_>>(at)?.0),
        }
    }

    pub fn column_count(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.as_ref().column_count(),
            Row::Postgres(r) => r.len(),
        }
    }

    fn index<I: RowIndex>(&self, idx: I) -> Result<usize> {
        let names = |i: usize| -> Option<String> {
            match self {
                Row::Sqlite(r) => r.as_ref().column_name(i).ok().map(str::to_owned),
                Row::Postgres(r) => r.columns().get(i).map(|c| c.name().to_owned()),
            }
        };
        idx.position(&names, self.column_count())
            .ok_or_else(|| Error::NoSuchColumn(idx.to_string()))
    }
}

// ------------------------------------------------------------------------------------ connection

/// How a transaction takes its locks, in SQLite's terms.
///
/// `Immediate` is how storage says "check, then write, with nobody writing in between" (undo's
/// "changed since?" test, batch ids, an escalation's next state). SQLite gives that by taking
/// the database's write lock at `BEGIN IMMEDIATE`. PostgreSQL has no such lock, so there an
/// immediate transaction takes one advisory lock per database ([`WRITER_LOCK`]) for as long
/// as it lasts: rollcall's own writes are serialised as on SQLite (they are small and quick),
/// while readers, and the import (which uses a plain transaction and its own lock), go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionBehavior {
    Deferred,
    Immediate,
}

/// The advisory lock key of an immediate transaction on PostgreSQL ("rollwrit" in ASCII).
pub const WRITER_LOCK: i64 = 0x726f_6c6c_7772_6974;

/// A connection to a rollcall database on either engine.
pub enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConnection>),
}

/// A PostgreSQL client with a cache of prepared statements. `postgres::Client` wants `&mut`
/// for every call; rollcall's storage code passes `&Connection` about, as with SQLite, so the
/// client sits in a `RefCell` (a connection is used by one thread at a time in any case).
pub struct PgConnection {
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    depth: Cell<u32>,
}

impl PgConnection {
    pub fn new(client: postgres::Client) -> PgConnection {
        PgConnection {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            depth: Cell::new(0),
        }
    }

    /// The client itself, for what only PostgreSQL has (`COPY`, advisory locks).
    pub fn client(&self) -> std::cell::RefMut<'_, postgres::Client> {
        self.client.borrow_mut()
    }

    /// The prepared statement for `sql`, from the cache when it was prepared before.
    ///
    /// The server works out each parameter's type from where it is used. Where it cannot (a
    /// parameter that is only tested, `?1 IS NULL OR …`), the statement is prepared again with
    /// the types of the values given: an integer as `bigint`, text (and NULL) as `text`.
    fn statement(&self, sql: &str, values: &[ValueRef<'_>]) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let translated = postgres_placeholders(sql);
        let prepared = self.client.borrow_mut().prepare(&translated);
        let statement = match prepared {
            Err(e) if e.code().is_some_and(|c| c.code() == "42P08") => {
                let types: Vec<Type> = values
                    .iter()
                    .map(|v| match v {
                        ValueRef::Integer(_) => Type::INT8,
                        ValueRef::Real(_) => Type::FLOAT8,
                        ValueRef::Blob(_) => Type::BYTEA,
                        ValueRef::Text(_) | ValueRef::Null => Type::TEXT,
                    })
                    .collect();
                self.client
                    .borrow_mut()
                    .prepare_typed(&translated, &types)?
            }
            other => other?,
        };
        let mut cache = self.statements.borrow_mut();
        if cache.len() > 512 {
            cache.clear();
        }
        cache.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<Vec<postgres::Row>> {
        let statement = self.statement(sql, params)?;
        let bound = bind(&statement, params)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = bound
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        Ok(self.client.borrow_mut().query(&statement, &refs)?)
    }

    fn execute(&self, sql: &str, params: &[ValueRef<'_>]) -> Result<usize> {
        let statement = self.statement(sql, params)?;
        let bound = bind(&statement, params)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = bound
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        Ok(self.client.borrow_mut().execute(&statement, &refs)? as usize)
    }

    fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    /// A statement the server no longer knows (after a reconnect, a schema change): drop the
    /// cached copies so the next call prepares afresh.
    pub fn forget_statements(&self) {
        self.statements.borrow_mut().clear();
    }

    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }
}

fn bind<'v>(statement: &postgres::Statement, params: &[ValueRef<'v>]) -> Result<Vec<PgParam<'v>>> {
    let wanted = statement.params().len();
    if wanted != params.len() {
        return Err(Error::Other(format!(
            "the statement takes {wanted} parameters, {} were given",
            params.len()
        )));
    }
    Ok(params.iter().map(|v| PgParam(*v)).collect())
}

impl Connection {
    /// A bare SQLite connection to `path`, with none of [`crate::storage::Store`]'s checks or
    /// migrations: for tests and tools that look inside a file.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Connection> {
        Ok(Connection::Sqlite(rusqlite::Connection::open(path)?))
    }

    pub fn engine(&self) -> Engine {
        match self {
            Connection::Sqlite(_) => Engine::Sqlite,
            Connection::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQL for this engine, where the two need different text.
    pub fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self {
            Connection::Sqlite(_) => sqlite,
            Connection::Postgres(_) => postgres,
        }
    }

    /// The SQLite connection underneath, for SQLite-only work (pragmas, the import writer).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Connection::Sqlite(c) => Some(c),
            Connection::Postgres(_) => None,
        }
    }

    pub fn sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match self {
            Connection::Sqlite(c) => Some(c),
            Connection::Postgres(_) => None,
        }
    }

    pub fn postgres(&self) -> Option<&PgConnection> {
        match self {
            Connection::Postgres(c) => Some(c),
            Connection::Sqlite(_) => None,
        }
    }

    /// Sets an SQLite pragma. PostgreSQL has no such settings (its equivalents are the
    /// server's), so there it does nothing.
    pub fn pragma_update<V: ToSql>(
        &self,
        _schema: Option<&str>,
        name: &str,
        value: V,
    ) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.pragma_update(None, name, Lite(&value.to_sql()))?),
            Connection::Postgres(_) => Ok(()),
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        let values = params.values();
        match self {
            Connection::Sqlite(c) => {
                Ok(c.execute(sql, rusqlite::params_from_iter(values.iter().map(Lite)))?)
            }
            Connection::Postgres(c) => c.execute(sql, &values),
        }
    }

    /// The id of the row this connection inserted last (0 if none): SQLite's rowid, or on
    /// PostgreSQL the identity sequence's `lastval()`, which counts this session only. Product
    /// code says `RETURNING id` instead; this is for tests that seed rows.
    pub fn last_insert_rowid(&self) -> i64 {
        match self {
            Connection::Sqlite(c) => c.last_insert_rowid(),
            Connection::Postgres(_) => self
                .query_row("SELECT lastval()", [], |r| r.get(0))
                .unwrap_or(0),
        }
    }

    /// Runs several statements, with no parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Postgres(c) => c.batch(sql),
        }
    }

    /// Runs `insert` (one row into `table`, whose key is an identity column `id`) and returns
    /// the new row's id. On PostgreSQL the id is the session's `currval` of the table's
    /// sequence rather than `RETURNING`, which would need the writer to be allowed to *read*
    /// the row: an officer raising a safeguarding concern writes a row they may not see
    /// (`team_access`).
    pub fn insert_id<P: Params>(&self, table: &str, insert: &str, params: P) -> Result<i64> {
        match self {
            Connection::Sqlite(_) => {
                self.query_row(&format!("{insert} RETURNING id"), params, |r| r.get(0))
            }
            Connection::Postgres(_) => {
                self.execute(insert, params)?;
                self.query_row(
                    "SELECT currval(pg_get_serial_sequence(?1, 'id'))",
                    [table],
                    |r| r.get(0),
                )
            }
        }
    }

    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let values = params.values();
        match self {
            Connection::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(values.iter().map(Lite)))?;
                match rows.next()? {
                    Some(r) => f(&Row::Sqlite(r)),
                    None => Err(Error::NoRows),
                }
            }
            Connection::Postgres(c) => match c.query(sql, &values)?.first() {
                Some(r) => f(&Row::Postgres(r)),
                None => Err(Error::NoRows),
            },
        }
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        match self {
            Connection::Sqlite(c) => Ok(Statement::Sqlite(c.prepare_cached(sql)?)),
            Connection::Postgres(c) => Ok(Statement::Postgres {
                conn: c,
                sql: sql.to_owned(),
            }),
        }
    }

    /// The same as [`Connection::prepare`]: SQLite statements are always cached.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare(sql)
    }

    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.transaction_with_behavior(TransactionBehavior::Deferred)
    }

    /// Begins a transaction; it rolls back when dropped without [`Transaction::commit`].
    pub fn transaction_with_behavior(
        &mut self,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'_>> {
        self.begin(behavior)?;
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }

    /// Like [`Connection::transaction_with_behavior`] on a shared reference, for code that
    /// holds the connection through `&` (rusqlite's `unchecked_transaction`).
    pub fn unchecked_transaction(&self) -> Result<Transaction<'_>> {
        self.begin(TransactionBehavior::Immediate)?;
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }

    fn begin(&self, behavior: TransactionBehavior) -> Result<()> {
        match self {
            Connection::Sqlite(c) => c.execute_batch(match behavior {
                TransactionBehavior::Deferred => "BEGIN DEFERRED",
                TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            })?,
            Connection::Postgres(c) => {
                c.batch("BEGIN")?;
                c.depth.set(c.depth.get() + 1);
                if behavior == TransactionBehavior::Immediate
                    && let Err(e) = c.batch(&format!("SELECT pg_advisory_xact_lock({WRITER_LOCK})"))
                {
                    // No transaction is handed out, so none may be left open.
                    c.depth.set(c.depth.get().saturating_sub(1));
                    let _ = c.batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn finish(&self, sql: &str) -> Result<()> {
        if let Connection::Postgres(c) = self {
            c.depth.set(c.depth.get().saturating_sub(1));
        }
        self.execute_batch(sql)
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        match self {
            Connection::Sqlite(c) => !c.is_autocommit(),
            Connection::Postgres(c) => c.depth.get() > 0,
        }
    }
}

/// An open transaction; reads and writes go through it as through the connection.
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.finish("COMMIT")
    }

    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.finish("ROLLBACK")
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            // A failed rollback leaves nothing to do: a lost connection rolls back itself.
            let _ = self.conn.finish("ROLLBACK");
        }
    }
}

/// A statement ready to run.
pub enum Statement<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres { conn: &'c PgConnection, sql: String },
}

impl Statement<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => {
                Ok(s.execute(rusqlite::params_from_iter(values.iter().map(Lite)))?)
            }
            Statement::Postgres { conn, sql } => conn.execute(sql, &values),
        }
    }

    /// Every row, each mapped by `f`.
    pub fn query_map<T, P, F>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let mut out = Vec::new();
        self.for_each(params, |row| {
            out.push(f(row));
            Ok(())
        })?;
        Ok(out.into_iter())
    }

    /// Calls `f` on every row in turn (on SQLite without holding them all).
    pub fn for_each<P, F>(&mut self, params: P, mut f: F) -> Result<()>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<()>,
    {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => {
                let mut rows = s.query(rusqlite::params_from_iter(values.iter().map(Lite)))?;
                while let Some(r) = rows.next()? {
                    f(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Statement::Postgres { conn, sql } => {
                for r in conn.query(sql, &values)? {
                    f(&Row::Postgres(&r))?;
                }
                Ok(())
            }
        }
    }

    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut f = Some(f);
        let mut out = None;
        self.for_each(params, |row| {
            if let Some(f) = f.take() {
                out = Some(f(row));
            }
            Ok(())
        })?;
        out.unwrap_or(Err(Error::NoRows))
    }

    /// The rows, to step through with [`Rows::next`].
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => Ok(Rows::Sqlite(
                s.query(rusqlite::params_from_iter(values.iter().map(Lite)))?,
            )),
            Statement::Postgres { conn, sql } => Ok(Rows::Postgres {
                rows: conn.query(sql, &values)?.into_iter(),
                current: None,
            }),
        }
    }

    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut any = false;
        self.for_each(params, |_| {
            any = true;
            Ok(())
        })?;
        Ok(any)
    }
}

/// The rows of a query, one at a time.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres {
        rows: std::vec::IntoIter<postgres::Row>,
        current: Option<postgres::Row>,
    },
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)] // a lending iterator: each row borrows `self`
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Postgres { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

// ------------------------------------------------------------------------------------ SQLite glue

/// A value bound through rusqlite.
struct Lite<'a, 'v>(&'a ValueRef<'v>);

impl rusqlite::ToSql for Lite<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as L};
        Ok(ToSqlOutput::Borrowed(match *self.0 {
            ValueRef::Null => L::Null,
            ValueRef::Integer(i) => L::Integer(i),
            ValueRef::Real(r) => L::Real(r),
            ValueRef::Text(s) => L::Text(s.as_bytes()),
            ValueRef::Blob(b) => L::Blob(b),
        }))
    }
}

// ------------------------------------------------------------------------------------ PostgreSQL glue

/// `?N` and `?` placeholders as PostgreSQL's `$N`, leaving quoted text, quoted names and
/// comments alone. A bare `?` takes the number after the highest used so far, as in SQLite.
pub fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    let mut highest = 0u32;
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek().is_some_and(|&(_, d)| d == '-') => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    digits.push(d);
                    chars.next();
                }
                let n = if digits.is_empty() {
                    highest + 1
                } else {
                    digits.parse().unwrap_or(0)
                };
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// `:name` parameters as numbered ones, in both engines' spelling: each name used in `sql` that
/// `values` has becomes `?N`, N its position in the returned list. Quoted text, comments and
/// PostgreSQL's `::type` casts are left alone.
pub fn named_to_numbered(sql: &str, values: &[(&str, Value)]) -> (String, Vec<Value>) {
    let mut out = String::with_capacity(sql.len());
    let mut used: Vec<&str> = Vec::new();
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' || c == b'"' {
            let end = sql[i + 1..]
                .find(c as char)
                .map_or(sql.len(), |e| i + 1 + e + 1);
            out.push_str(&sql[i..end]);
            i = end;
        } else if c == b':' && bytes.get(i + 1) == Some(&b':') {
            out.push_str("::");
            i += 2;
        } else if c == b':'
            && bytes
                .get(i + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        {
            let len = sql[i + 1..]
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(sql.len() - i - 1);
            let name = &sql[i..i + 1 + len];
            match values.iter().position(|(n, _)| *n == name) {
                Some(_) => {
                    let k = used.iter().position(|u| *u == name).unwrap_or_else(|| {
                        used.push(name);
                        used.len() - 1
                    });
                    out.push('?');
                    out.push_str(&(k + 1).to_string());
                }
                None => out.push_str(name),
            }
            i += 1 + len;
        } else {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    let bound = used
        .iter()
        .filter_map(|u| values.iter().find(|(n, _)| n == u).map(|(_, v)| v.clone()))
        .collect();
    (out, bound)
}

/// A parameter encoded as the type the server inferred for it.
#[derive(Debug)]
struct PgParam<'v>(ValueRef<'v>);

impl postgres::types::ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => pg(i, ty, out),
                Type::INT4 => pg(i32::try_from(i)?, ty, out),
                Type::INT2 => pg(i16::try_from(i)?, ty, out),
                Type::BOOL => pg(i != 0, ty, out),
                Type::FLOAT8 => pg(i as f64, ty, out),
                Type::FLOAT4 => pg(i as f32, ty, out),
                Type::OID => pg(u32::try_from(i)?, ty, out),
                _ => text_param(&i.to_string(), ty, out),
            },
            ValueRef::Real(r) => match *ty {
                Type::FLOAT8 => pg(r, ty, out),
                Type::FLOAT4 => pg(r as f32, ty, out),
                _ => text_param(&r.to_string(), ty, out),
            },
            ValueRef::Text(s) => match *ty {
                Type::INT8 => pg(s.trim().parse::<i64>()?, ty, out),
                Type::INT4 => pg(s.trim().parse::<i32>()?, ty, out),
                Type::INT2 => pg(s.trim().parse::<i16>()?, ty, out),
                Type::FLOAT8 => pg(s.trim().parse::<f64>()?, ty, out),
                Type::BYTEA => pg(s.as_bytes(), ty, out),
                _ => text_param(s, ty, out),
            },
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => pg(b, ty, out),
                _ => text_param(&String::from_utf8_lossy(b), ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn pg<T: postgres::types::ToSql>(
    v: T,
    ty: &Type,
    out: &mut bytes::BytesMut,
) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    v.to_sql(ty, out)
}

fn text_param(
    s: &str,
    ty: &Type,
    out: &mut bytes::BytesMut,
) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    match ty.kind() {
        Kind::Simple | Kind::Enum(_) | Kind::Domain(_) => {
            out.extend_from_slice(s.as_bytes());
            Ok(IsNull::No)
        }
        _ => Err(format!("cannot bind text to a parameter of type {ty}").into()),
    }
}

/// A column read into SQLite's value classes, whatever its PostgreSQL type, borrowing the
/// row's bytes for text and blobs.
struct PgRef<'a>(ValueRef<'a>);

impl<'a> postgres::types::FromSql<'a> for PgRef<'a> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::FromSql as F;
        let value = match *ty {
            Type::INT8 => ValueRef::Integer(<i64 as F>::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Integer(i64::from(<i32 as F>::from_sql(ty, raw)?)),
            Type::INT2 => ValueRef::Integer(i64::from(<i16 as F>::from_sql(ty, raw)?)),
            Type::OID => ValueRef::Integer(i64::from(<u32 as F>::from_sql(ty, raw)?)),
            Type::BOOL => ValueRef::Integer(i64::from(<bool as F>::from_sql(ty, raw)?)),
            Type::FLOAT8 => ValueRef::Real(<f64 as F>::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f64::from(<f32 as F>::from_sql(ty, raw)?)),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => ValueRef::Blob(raw),
            // Text, names, and anything else the server sends as text (the client asks for
            // UTF-8).
            _ => ValueRef::Text(std::str::from_utf8(raw)?),
        };
        Ok(PgRef(value))
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgRef(ValueRef::Null))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Simple | Kind::Enum(_) | Kind::Domain(_))
    }
}

/// PostgreSQL's binary NUMERIC (what `sum` of a `BIGINT` returns): base-10000 digits with a
/// weight and a scale. An integer when it has no fraction, else a real.
fn numeric(
    raw: &[u8],
) -> std::result::Result<ValueRef<'static>, Box<dyn std::error::Error + Sync + Send>> {
    let word = |i: usize| -> std::result::Result<i16, Box<dyn std::error::Error + Sync + Send>> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a NUMERIC value was cut short".into())
    };
    let ndigits = word(0)? as usize;
    let weight = i32::from(word(1)?);
    let sign = word(2)? as u16;
    let scale = word(3)?;
    if sign == 0xC000 {
        return Ok(ValueRef::Real(f64::NAN));
    }
    let mut whole: i128 = 0;
    let mut fraction = 0f64;
    for i in 0..ndigits {
        let digit = i128::from(word(4 + i)?);
        let power = weight - i as i32;
        if power >= 0 {
            whole += digit * 10_000i128.pow(power as u32);
        } else {
            fraction += digit as f64 * 10_000f64.powi(power);
        }
    }
    let negative = sign == 0x4000;
    if scale == 0 || fraction == 0.0 {
        let v = i64::try_from(whole)?;
        return Ok(ValueRef::Integer(if negative { -v } else { v }));
    }
    let v = whole as f64 + fraction;
    Ok(ValueRef::Real(if negative { -v } else { v }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_outside_quotes_and_comments() {
        assert_eq!(
            postgres_placeholders(
                "SELECT ?1, '?2', \"a?\" -- why?\n FROM t WHERE a = ? AND b = ?3"
            ),
            "SELECT $1, '?2', \"a?\" -- why?\n FROM t WHERE a = $2 AND b = $3"
        );
    }

    #[test]
    fn named_parameters_become_numbered_in_order_of_use() {
        let values = [
            (":today", Value::Text("2026-12-02".into())),
            (":unused", Value::Integer(1)),
            (":from", Value::Integer(3)),
        ];
        let (sql, bound) = named_to_numbered(
            "SELECT x::text, ':today' FROM t WHERE a >= :from AND b < :today AND c = :from",
            &values,
        );
        assert_eq!(
            sql,
            "SELECT x::text, ':today' FROM t WHERE a >= ?1 AND b < ?2 AND c = ?1"
        );
        assert_eq!(
            bound,
            vec![Value::Integer(3), Value::Text("2026-12-02".into())]
        );
    }

    #[test]
    fn numeric_sums_come_back_as_integers_or_reals() {
        // 12345678: weight 1, digits 1234 5678.
        let raw = [0u8, 2, 0, 1, 0, 0, 0, 0, 0x04, 0xD2, 0x16, 0x2E];
        assert_eq!(numeric(&raw).unwrap(), ValueRef::Integer(12_345_678));
        // -2.5: weight 0, digits 2 5000, negative, scale 1.
        let raw = [0u8, 2, 0, 0, 0x40, 0, 0, 1, 0, 2, 0x13, 0x88];
        assert_eq!(numeric(&raw).unwrap(), ValueRef::Real(-2.5));
        // 0: no digits.
        let raw = [0u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(numeric(&raw).unwrap(), ValueRef::Integer(0));
    }

    #[test]
    fn sqlite_rows_read_like_rusqlite() {
        let conn = Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
            .unwrap();
        conn.execute("INSERT INTO t VALUES (?1, ?2)", params![7, "x"])
            .unwrap();
        let (a, b): (i64, String) = conn
            .query_row("SELECT a, b FROM t", [], |r| Ok((r.get(0)?, r.get("b")?)))
            .unwrap();
        assert_eq!((a, b.as_str()), (7, "x"));
        let none = conn
            .query_row("SELECT a FROM t WHERE a = ?1", [8], |r| r.get::<_, i64>(0))
            .optional()
            .unwrap();
        assert_eq!(none, None);
        let err = conn
            .query_row("SELECT b FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        assert!(err.to_string().contains("expected an integer"), "{err}");
    }
}
