//! Claims (`claims` table, schema v11): a member reserved for the officer working them, so that
//! two officers never ring the same person (issue 16).
//!
//! Opening the contact dialog on a member claims them for a set time (`[team] claim_minutes`,
//! default 15). Logging the outcome, or moving on, releases the claim; past its time it is
//! nobody's, so a crashed window leaves nothing stuck. A claim held by someone else is never
//! silently taken over: [`claim`] says who holds it, and the caller asks the officer.
//!
//! Taking and releasing a claim each write an audit line, like every change rollcall makes:
//! that is how the other windows learn of it, and the trail says who worked whom when.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{Duration, NaiveDateTime};
use serde_json::json;

use super::Store;
use super::audit::{self, Change};
use crate::Clock;
use crate::storage::sql::{Connection, OptionalExtension, TransactionBehavior, params};

/// Someone's claim on a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub login: String,
    /// When it lapses, `YYYY-MM-DDTHH:MM:SS`.
    pub expires_at: String,
}

impl Claim {
    /// "until 10:15", for the row and the question.
    pub fn until(&self) -> &str {
        self.expires_at.get(11..16).unwrap_or(&self.expires_at)
    }
}

/// What [`claim`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// The member is the caller's until then (a new claim, or their own renewed).
    Yours { expires_at: String },
    /// Someone else is on it; nothing was written.
    HeldBy(Claim),
}

/// The timestamp form claims compare in.
fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Claims `contact_id` for `clock.user` for `minutes`, unless someone else holds an unexpired
/// claim on them. `take_over`: the officer was told who holds it and chose to go ahead.
pub fn claim(
    store: &mut Store,
    clock: &Clock,
    contact_id: i64,
    minutes: u32,
    take_over: bool,
) -> Result<Claimed> {
    store.ensure_writable("claiming a member")?;
    let now = stamp(clock.now());
    let expires_at = stamp(clock.now() + Duration::minutes(i64::from(minutes)));
    // One statement decides, so no lock over every writer is needed (on SQLite the file's
    // own write lock; on PostgreSQL the conflicting row's): the claim is taken when there is
    // none, when it is the caller's own, when it has lapsed, or when the caller chose to.
    let tx = store.conn.transaction_with_behavior(
        if store.engine() == crate::storage::Engine::Sqlite {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        },
    )?;
    let taken: Option<String> = tx
        .query_row(
            "INSERT INTO claims (contact_id, login, claimed_at, expires_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (contact_id) DO UPDATE SET login = excluded.login,
                 claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
             WHERE claims.login = excluded.login OR claims.expires_at <= excluded.claimed_at
                OR ?5 = 1
             RETURNING login",
            params![
                contact_id,
                clock.user,
                now,
                expires_at,
                i64::from(take_over)
            ],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_none() {
        let held = held_on(&tx, contact_id, &now)?;
        return Ok(match held {
            Some(held) => Claimed::HeldBy(held),
            // Lapsed between the two statements: try again, it is free now.
            None => {
                drop(tx);
                return claim(store, clock, contact_id, minutes, take_over);
            }
        });
    }
    audit::record(
        &tx,
        clock,
        Change {
            action: "claim.take",
            entity: "claims",
            entity_id: Some(contact_id),
            contact_id: Some(contact_id),
            before: None,
            after: Some(json!({ "login": clock.user, "expires_at": expires_at })),
        },
    )?;
    tx.commit()?;
    Ok(Claimed::Yours { expires_at })
}

/// Releases `clock.user`'s claims on these members (others' claims stay). Returns how many
/// were released.
pub fn release(store: &mut Store, clock: &Clock, contact_ids: &[i64]) -> Result<usize> {
    if store.is_read_only() || contact_ids.is_empty() {
        return Ok(0);
    }
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut released = 0;
    for &contact_id in contact_ids {
        released += release_in(&tx, clock, contact_id)?;
    }
    tx.commit()?;
    Ok(released)
}

/// Releases `clock.user`'s claim on `contact_id` inside a write that is already under way (the
/// outcome being logged). Returns 1 if there was one.
pub fn release_in(conn: &Connection, clock: &Clock, contact_id: i64) -> Result<usize> {
    let n = conn.execute(
        "DELETE FROM claims WHERE contact_id = ?1 AND login = ?2",
        params![contact_id, clock.user],
    )?;
    if n > 0 {
        audit::record(
            conn,
            clock,
            Change {
                action: "claim.release",
                entity: "claims",
                entity_id: Some(contact_id),
                contact_id: Some(contact_id),
                before: Some(json!({ "login": clock.user })),
                after: None,
            },
        )?;
    }
    Ok(n)
}

/// The unexpired claim on `contact_id`, whoever holds it.
fn held_on(conn: &Connection, contact_id: i64, now: &str) -> Result<Option<Claim>> {
    Ok(conn
        .query_row(
            "SELECT login, expires_at FROM claims WHERE contact_id = ?1 AND expires_at > ?2",
            params![contact_id, now],
            |r| {
                Ok(Claim {
                    login: r.get(0)?,
                    expires_at: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The unexpired claim on `contact_id` of someone other than `clock.user`.
pub fn held_by_other(conn: &Connection, clock: &Clock, contact_id: i64) -> Result<Option<Claim>> {
    Ok(held_on(conn, contact_id, &stamp(clock.now()))?.filter(|c| c.login != clock.user))
}

/// Every unexpired claim held by someone other than `clock.user`, by contact id.
pub fn held_by_others(conn: &Connection, clock: &Clock) -> Result<HashMap<i64, Claim>> {
    let mut stmt = conn.prepare_cached(
        "SELECT contact_id, login, expires_at FROM claims WHERE expires_at > ?1 AND login <> ?2",
    )?;
    let rows = stmt.query_map(params![stamp(clock.now()), clock.user], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Claim {
                login: r.get(1)?,
                expires_at: r.get(2)?,
            },
        ))
    })?;
    Ok(rows.collect::<crate::storage::sql::Result<_>>()?)
}
