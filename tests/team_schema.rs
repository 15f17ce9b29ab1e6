//! The PostgreSQL schema (src/storage/schema_pg.sql) against the SQLite one it translates (the
//! migrations schema_v1.sql ... schema_v7_privacy.sql applied in order).
//!
//! Both schemas are read back from the engines' own catalogs, not from the SQL text, and reduced
//! to what both can say: tables, columns in order with their type, NOT NULL, default and whether
//! the engine hands out the id; primary and unique keys; foreign keys; CHECK constraints; named
//! indexes with their key columns; and the rows the schema files insert.
#![cfg(unix)]

#[path = "support/pg_cluster.rs"]
mod pg_cluster;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use postgres::error::ErrorPosition;
use postgres::{Client, NoTls};
use rollcall::storage::sql::describe_postgres;

/// In the order the app applies them (`MIGRATIONS` in src/storage/mod.rs).
const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../src/storage/schema_v1.sql"),
    include_str!("../src/storage/schema_v2_escalations.sql"),
    include_str!("../src/storage/schema_v3_onboarding.sql"),
    include_str!("../src/storage/schema_v4_today.sql"),
    include_str!("../src/storage/schema_v5_renewals.sql"),
    include_str!("../src/storage/schema_v6_new_pending.sql"),
    include_str!("../src/storage/schema_v7_privacy.sql"),
    include_str!("../src/storage/schema_v8_nb_memberships_tags.sql"),
    include_str!("../src/storage/schema_v9_onboarding_arrival.sql"),
    include_str!("../src/storage/schema_v10_staff.sql"),
    include_str!("../src/storage/schema_v11_claims.sql"),
    include_str!("../src/storage/schema_v12_field_changes.sql"),
];

const SCHEMA_PG: &str = include_str!("../src/storage/schema_pg.sql");

/// PostgreSQL's migrations after schema_pg.sql (v7), in order (`MIGRATIONS` in
/// src/storage/team.rs).
const PG_MIGRATIONS: &[&str] = &[
    include_str!("../src/storage/schema_pg_v8_nb_memberships_tags.sql"),
    include_str!("../src/storage/schema_pg_v9_onboarding_arrival.sql"),
    include_str!("../src/storage/schema_pg_v10_staff.sql"),
    include_str!("../src/storage/schema_pg_v11_claims.sql"),
    include_str!("../src/storage/schema_pg_v12_field_changes.sql"),
];

/// PostgreSQL's stand-in for `PRAGMA user_version`, which SQLite has no table for.
const VERSION_TABLE: &str = "rollcall_schema";

// ------------------------------------------------------------------------------ the schema tests

#[test]
fn this_test_builds_the_current_sqlite_schema() {
    assert_eq!(
        SQLITE_MIGRATIONS.len() as i64,
        rollcall::storage::SCHEMA_VERSION,
        "the SQLite schema has a migration this test does not apply: add it to SQLITE_MIGRATIONS, \
         and its PostgreSQL twin to PG_MIGRATIONS"
    );
    assert_eq!(
        7 + PG_MIGRATIONS.len() as i64,
        rollcall::storage::SCHEMA_VERSION,
        "PostgreSQL's migrations after schema_pg.sql (v7) must reach the schema version"
    );
}

#[test]
fn same_tables_with_the_same_columns_in_the_same_order() {
    let (sqlite, pg) = both();
    same(
        "tables and their columns in order",
        &sqlite.column_names(),
        &pg.column_names(),
    );
    same(
        "columns (type, NOT NULL, default, generated id)",
        &sqlite.columns_by_name(),
        &pg.columns_by_name(),
    );
}

#[test]
fn every_postgresql_text_column_sorts_bytewise() {
    let db = pg_cluster::database();
    let mut client = load_pg_schema(&db);
    let wrong: Vec<String> = client
        .query(
            "SELECT table_name::text, column_name::text, collation_name::text
             FROM information_schema.columns
             WHERE table_schema = 'public' AND data_type = 'text'
               AND collation_name IS DISTINCT FROM 'C'
             ORDER BY 1, 2",
            &[],
        )
        .expect("information_schema.columns")
        .iter()
        .map(|r| {
            let collation: Option<String> = r.get(2);
            format!(
                "{}.{} ({})",
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                collation.as_deref().unwrap_or("the database's default")
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "text columns in schema_pg.sql without COLLATE \"C\" (they would sort by the database's \
         locale, not byte-wise as SQLite does): {}",
        wrong.join(", ")
    );
}

#[test]
fn same_keys_foreign_keys_and_checks() {
    let (sqlite, pg) = both();
    same("primary and unique keys", &sqlite.keys, &pg.keys);
    same(
        "foreign keys (column -> table.column)",
        &sqlite.foreign_keys,
        &pg.foreign_keys,
    );
    same(
        "CHECK constraints (how many per table)",
        &sqlite.checks,
        &pg.checks,
    );
}

#[test]
fn same_indexes() {
    let (sqlite, pg) = both();
    same("indexes", &sqlite.indexes, &pg.indexes);
}

#[test]
fn same_rows_to_begin_with() {
    let (sqlite, pg) = both();
    same(
        "rows the schema creates (per table)",
        &sqlite.rows,
        &pg.rows,
    );
}

#[test]
fn the_version_table_is_there_and_empty() {
    let db = pg_cluster::database();
    let mut client = load_pg_schema(&db);
    let columns: String = client
        .query_one(
            &format!(
                "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
                 FROM information_schema.columns WHERE table_name = '{VERSION_TABLE}'"
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        columns,
        "only bigint, version bigint, created_at text, created_by text"
    );
    // The code that runs schema_pg.sql writes the row, with the version, the time and the user.
    let rows: i64 = client
        .query_one(&format!("SELECT count(*) FROM {VERSION_TABLE}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
}

// ------------------------------------------------------------------------------ both catalogs

/// One engine's schema, reduced to what the other can state the same way.
struct Schema {
    /// Table -> its columns, in order.
    columns: BTreeMap<String, Vec<Column>>,
    /// Table -> the column lists of its primary key and unique constraints and indexes.
    keys: BTreeMap<String, BTreeSet<Vec<String>>>,
    /// Table -> (column, referenced table, referenced column).
    foreign_keys: BTreeMap<String, BTreeSet<(String, String, String)>>,
    /// Table -> how many CHECK constraints.
    checks: BTreeMap<String, usize>,
    /// Index name -> what it indexes (indexes made by a constraint are in `keys`).
    indexes: BTreeMap<String, Index>,
    /// Table -> how many rows.
    rows: BTreeMap<String, i64>,
}

impl Schema {
    fn column_names(&self) -> BTreeMap<String, Vec<&str>> {
        self.columns
            .iter()
            .map(|(table, columns)| {
                let names = columns.iter().map(|c| c.name.as_str()).collect();
                (table.clone(), names)
            })
            .collect()
    }

    /// `table.column` -> the column, so that a difference names the one column.
    fn columns_by_name(&self) -> BTreeMap<String, &Column> {
        self.columns
            .iter()
            .flat_map(|(table, columns)| {
                columns
                    .iter()
                    .map(move |c| (format!("{table}.{}", c.name), c))
            })
            .collect()
    }
}

#[derive(Debug, PartialEq)]
struct Column {
    name: String,
    /// PostgreSQL's spelling: bigint, text, double precision, bytea.
    kind: String,
    not_null: bool,
    default: Option<String>,
    /// SQLite's rowid alias; PostgreSQL's identity column.
    generated: bool,
}

#[derive(Debug, PartialEq)]
struct Index {
    table: String,
    /// Column names; `lower(name)` for SQLite's `name COLLATE NOCASE`.
    keys: Vec<String>,
    unique: bool,
    /// Has a WHERE. The conditions themselves are written differently on each engine.
    partial: bool,
}

fn both() -> (Schema, Schema) {
    let db = pg_cluster::database();
    let mut client = load_pg_schema(&db);
    (sqlite_schema(), pg_schema(&mut client))
}

fn load_pg_schema(db: &pg_cluster::TestDatabase) -> Client {
    let mut client = connect(&db.url());
    // As the app will run it: one batch, one implicit transaction.
    if let Err(e) = client.batch_execute(SCHEMA_PG) {
        // The server counts characters from 1 through the whole batch.
        let line = match e.as_db_error().and_then(|d| d.position()) {
            Some(ErrorPosition::Original(at)) => {
                let before: String = SCHEMA_PG.chars().take(*at as usize).collect();
                format!(", line {}", before.lines().count())
            }
            _ => String::new(),
        };
        panic!(
            "src/storage/schema_pg.sql does not load{line}: {}",
            describe_postgres(&e)
        );
    }
    for (i, migration) in PG_MIGRATIONS.iter().enumerate() {
        client.batch_execute(migration).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL migration {} fails: {}",
                i + 8,
                describe_postgres(&e)
            )
        });
    }
    client
}

fn sqlite_schema() -> Schema {
    let conn = rusqlite::Connection::open_in_memory().expect("an in-memory SQLite database");
    for (i, migration) in SQLITE_MIGRATIONS.iter().enumerate() {
        conn.execute_batch(migration)
            .unwrap_or_else(|e| panic!("SQLite migration {} fails: {e}", i + 1));
    }
    // Every value as text (or NULL): the pragmas' integers are flags and positions.
    let strings = |sql: &str, args: &[&str]| -> Vec<Vec<Option<String>>> {
        let mut statement = conn.prepare(sql).expect(sql);
        let width = statement.column_count();
        statement
            .query_map(rusqlite::params_from_iter(args), |row| {
                (0..width)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                            other => Some(other.as_str()?.to_owned()),
                        })
                    })
                    .collect()
            })
            .expect(sql)
            .collect::<Result<_, _>>()
            .expect(sql)
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();

    let tables: Vec<(String, String)> = strings(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        &[],
    )
    .iter()
    .map(|r| (text(&r[0]), text(&r[1])))
    .collect();

    let mut schema = Schema {
        columns: BTreeMap::new(),
        keys: BTreeMap::new(),
        foreign_keys: BTreeMap::new(),
        checks: BTreeMap::new(),
        indexes: BTreeMap::new(),
        rows: BTreeMap::new(),
    };
    for (table, sql) in &tables {
        let info = strings(
            r#"SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid"#,
            &[table],
        );
        let mut primary: Vec<(i64, String)> = info
            .iter()
            .filter(|c| text(&c[4]) != "0")
            .map(|c| (text(&c[4]).parse().unwrap(), text(&c[0])))
            .collect();
        primary.sort();
        let primary: Vec<String> = primary.into_iter().map(|(_, name)| name).collect();

        let foreign_keys: BTreeSet<(String, String, String)> = strings(
            r#"SELECT "from", "table", "to" FROM pragma_foreign_key_list(?1)"#,
            &[table],
        )
        .iter()
        .map(|fk| {
            let to = fk[2].clone().unwrap_or_else(|| {
                // REFERENCES t without a column: t's primary key.
                strings(
                    "SELECT name FROM pragma_table_info(?1) WHERE pk = 1",
                    &[&text(&fk[1])],
                )[0][0]
                    .clone()
                    .unwrap()
            });
            (text(&fk[0]), text(&fk[1]), to)
        })
        .collect();
        // SQLite lists CHECK constraints nowhere but in the CREATE TABLE text, so they are
        // counted there (no comment inside a CREATE TABLE says "CHECK (").
        let checks = sql.matches("CHECK (").count() + sql.matches("CHECK(").count();

        let columns = info
            .iter()
            .map(|c| {
                let name = text(&c[0]);
                let declared = text(&c[1]).to_ascii_uppercase();
                let kind = match declared.as_str() {
                    "INTEGER" => "bigint",
                    "TEXT" => "text",
                    "REAL" => "double precision",
                    "BLOB" => "bytea",
                    _ => panic!("{table}.{name}: no PostgreSQL type set for SQLite's {declared}"),
                };
                // An INTEGER PRIMARY KEY is the rowid, which SQLite hands out; where the key is
                // also a foreign key, or the table has a CHECK (the singleton's `only = 1`), the
                // caller chooses it, and schema_pg.sql makes it no identity column.
                let generated = kind == "bigint"
                    && primary == [name.clone()]
                    && checks == 0
                    && !foreign_keys.iter().any(|(from, _, _)| *from == name);
                Column {
                    // PostgreSQL makes a primary key NOT NULL; rollcall writes no NULL keys.
                    not_null: text(&c[2]) == "1" || primary.contains(&name),
                    default: c[3].clone(),
                    kind: kind.to_owned(),
                    name,
                    generated,
                }
            })
            .collect();
        schema.columns.insert(table.clone(), columns);

        let mut keys = BTreeSet::from([primary]);
        for index in strings(
            r#"SELECT name, "unique", origin, partial FROM pragma_index_list(?1)"#,
            &[table],
        ) {
            let name = text(&index[0]);
            let key_columns: Vec<String> = strings(
                "SELECT name, coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
                &[&name],
            )
            .iter()
            .map(|k| {
                let column = k[0].clone().unwrap_or_else(|| {
                    panic!("index {name}: an expression this test cannot compare")
                });
                match k[1].as_deref() {
                    Some(c) if c.eq_ignore_ascii_case("NOCASE") => format!("lower({column})"),
                    _ => column,
                }
            })
            .collect();
            let unique = text(&index[1]) == "1";
            let origin = text(&index[2]);
            if unique && origin != "pk" {
                keys.insert(key_columns.clone());
            }
            if origin == "c" {
                schema.indexes.insert(
                    name,
                    Index {
                        table: table.clone(),
                        keys: key_columns,
                        unique,
                        partial: text(&index[3]) == "1",
                    },
                );
            }
        }
        keys.remove(&Vec::new());
        schema.keys.insert(table.clone(), keys);
        schema.foreign_keys.insert(table.clone(), foreign_keys);
        schema.checks.insert(table.clone(), checks);
        let rows: i64 = conn
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })
            .expect("row count");
        schema.rows.insert(table.clone(), rows);
    }
    schema
}

fn pg_schema(client: &mut Client) -> Schema {
    let mut rows = |sql: &str| {
        client
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {}", describe_postgres(&e)))
    };
    let mut schema = Schema {
        columns: BTreeMap::new(),
        keys: BTreeMap::new(),
        foreign_keys: BTreeMap::new(),
        checks: BTreeMap::new(),
        indexes: BTreeMap::new(),
        rows: BTreeMap::new(),
    };
    let tables: Vec<String> = rows(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .iter()
    .map(|r| r.get(0))
    .filter(|t: &String| t != VERSION_TABLE)
    .collect();
    for table in &tables {
        schema.columns.insert(table.clone(), Vec::new());
        schema.keys.insert(table.clone(), BTreeSet::new());
        schema.foreign_keys.insert(table.clone(), BTreeSet::new());
        schema.checks.insert(table.clone(), 0);
    }
    let known = |table: &String| tables.contains(table);

    for r in rows(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,
                column_default::text, is_identity::text
         FROM information_schema.columns WHERE table_schema = 'public'
         ORDER BY table_name, ordinal_position",
    ) {
        let table: String = r.get(0);
        if let Some(columns) = schema.columns.get_mut(&table) {
            let default: Option<String> = r.get(4);
            columns.push(Column {
                name: r.get(1),
                kind: r.get(2),
                not_null: r.get::<_, String>(3) == "NO",
                // PostgreSQL writes the type it cast the literal to: 'open'::text.
                default: default.map(|d| d.strip_suffix("::text").unwrap_or(&d).to_owned()),
                generated: r.get::<_, String>(5) == "YES",
            });
        }
    }

    // Key columns in order: a column's name as it is (pg_get_indexdef would quote "only"), an
    // expression as pg_get_indexdef writes it (lower(crm_status)).
    for r in rows(
        "SELECT t.relname::text, i.indisunique, i.indpred IS NOT NULL, ix.relname::text,
                array(SELECT CASE WHEN i.indkey[k - 1] = 0
                                   THEN pg_get_indexdef(i.indexrelid, k, true)
                                   ELSE (SELECT attname::text FROM pg_attribute
                                         WHERE attrelid = i.indrelid AND attnum = i.indkey[k - 1])
                              END
                      FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k),
                EXISTS (SELECT FROM pg_constraint c
                        WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                          AND c.contype IN ('p', 'u'))
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_class ix ON ix.oid = i.indexrelid
         WHERE t.relnamespace = 'public'::regnamespace",
    ) {
        let table: String = r.get(0);
        if !known(&table) {
            continue;
        }
        let unique: bool = r.get(1);
        let key_columns: Vec<String> = r.get(4);
        if unique {
            schema
                .keys
                .get_mut(&table)
                .unwrap()
                .insert(key_columns.clone());
        }
        if !r.get::<_, bool>(5) {
            schema.indexes.insert(
                r.get(3),
                Index {
                    table,
                    keys: key_columns,
                    unique,
                    partial: r.get(2),
                },
            );
        }
    }

    for r in rows(
        "SELECT t.relname::text, a.attname::text, rt.relname::text, ra.attname::text,
                cardinality(c.conkey)
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         JOIN pg_class rt ON rt.oid = c.confrelid
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
    ) {
        let table: String = r.get(0);
        assert_eq!(
            r.get::<_, i32>(4),
            1,
            "{table}: a foreign key of several columns, which this test does not compare"
        );
        if let Some(fks) = schema.foreign_keys.get_mut(&table) {
            fks.insert((r.get(1), r.get(2), r.get(3)));
        }
    }

    for r in rows(
        "SELECT t.relname::text, count(*)
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
         WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace
         GROUP BY 1",
    ) {
        if let Some(n) = schema.checks.get_mut(&r.get::<_, String>(0)) {
            *n = r.get::<_, i64>(1) as usize;
        }
    }

    for table in &tables {
        let count: i64 = rows(&format!("SELECT count(*) FROM \"{table}\""))[0].get(0);
        schema.rows.insert(table.clone(), count);
    }
    schema
}

// ------------------------------------------------------------------------------ small helpers

fn connect(url: &str) -> Client {
    Client::connect(url, NoTls)
        .unwrap_or_else(|e| panic!("could not connect to {url}: {}", describe_postgres(&e)))
}

/// Every table (or index) on which the two engines disagree, not just the first.
fn same<V: PartialEq + Debug>(what: &str, sqlite: &BTreeMap<String, V>, pg: &BTreeMap<String, V>) {
    let mut differences = Vec::new();
    for (name, in_sqlite) in sqlite {
        match pg.get(name) {
            None => differences.push(format!("{name}: only in SQLite: {in_sqlite:?}")),
            Some(in_pg) if in_pg != in_sqlite => differences.push(format!(
                "{name}:\n    SQLite:     {in_sqlite:?}\n    PostgreSQL: {in_pg:?}"
            )),
            Some(_) => {}
        }
    }
    for (name, in_pg) in pg {
        if !sqlite.contains_key(name) {
            differences.push(format!("{name}: only in PostgreSQL: {in_pg:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{what} differ between src/storage/schema_pg.sql and the SQLite migrations:\n  {}",
        differences.join("\n  ")
    );
}
