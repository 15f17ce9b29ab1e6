//! What the app remembers per staff member between runs (`ui_state`): the active pane and each
//! pane's own state (filters, selection), as the panes serialise it.
//!
//! An erasure (`rollcall forget`) deletes saved state that mentions the person, but a window
//! open at that moment still holds its own copy in memory, which may name them (a search typed
//! for them, their row selected). So the window notes the erasure generation
//! ([`crate::storage::erase::generation`]) when it loads its state, and when it saves at quit
//! and someone was erased meanwhile it keeps only which pane was open: it cannot tell whether
//! its filters, queries and selections were about the erased person, and losing them only resets
//! the panes.

use super::sql::{TransactionBehavior, params};

use super::{Store, erase};

/// The key under which the active pane is kept.
pub const ACTIVE_PANE: &str = "active_pane";

/// The key for a pane's own state.
pub fn pane_key(section: &str) -> String {
    format!("pane.{section}")
}

/// A staff member's saved state as loaded, with the erasure generation it was loaded at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Saved {
    pub entries: Vec<(String, String)>,
    pub erasures: i64,
}

/// Every saved entry for `staff`, and the erasure generation, read together.
pub fn load(store: &mut Store, staff: &str) -> anyhow::Result<Saved> {
    let tx = store.conn.transaction()?;
    // The generation first: SQLite reads both from one snapshot, but each PostgreSQL statement
    // sees what had committed when it began, so an erasure committing in between leaves the
    // older generation with the newer entries, and the next save then drops them, as it should.
    let erasures = erase::generation(&tx)?;
    let entries = tx
        .prepare("SELECT key, value FROM ui_state WHERE staff = ?1 ORDER BY key")?
        .query_map([staff], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::storage::sql::Result<_>>()?;
    tx.commit()?;
    Ok(Saved { entries, erasures })
}

/// Replaces `staff`'s saved state with `entries`, in one transaction. `erasures_at_load` is the
/// generation the window loaded its state at: if anyone was erased since, only the active pane
/// is kept (see the module doc). A read-only store keeps what it had: there is nothing to refuse
/// the user, as nothing of theirs is lost.
pub fn save(
    store: &mut Store,
    staff: &str,
    entries: &[(String, String)],
    erasures_at_load: i64,
) -> anyhow::Result<()> {
    if store.is_read_only() {
        return Ok(());
    }
    // Immediate: no erasure can commit between the generation check and the write.
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    // On PostgreSQL, locking the generation's row does that: an erasure updates it first.
    let generation: i64 = tx.query_row(
        tx.pick(
            "SELECT generation FROM erasure_generation",
            "SELECT generation FROM erasure_generation FOR UPDATE",
        ),
        [],
        |r| r.get(0),
    )?;
    let someone_erased = generation != erasures_at_load;
    tx.execute("DELETE FROM ui_state WHERE staff = ?1", [staff])?;
    for (key, value) in entries {
        if someone_erased && key != ACTIVE_PANE {
            continue;
        }
        tx.execute(
            "INSERT INTO ui_state (staff, key, value) VALUES (?1, ?2, ?3)",
            params![staff, key, value],
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_per_staff_member_and_replaces() {
        let mut store = Store::open_in_memory().unwrap();
        save(
            &mut store,
            "ann",
            &[(ACTIVE_PANE.into(), "renewals".into())],
            0,
        )
        .unwrap();
        save(
            &mut store,
            "bob",
            &[(ACTIVE_PANE.into(), "search".into())],
            0,
        )
        .unwrap();
        save(&mut store, "ann", &[(pane_key("search"), "{}".into())], 0).unwrap();
        assert_eq!(
            load(&mut store, "ann").unwrap().entries,
            vec![("pane.search".into(), "{}".into())]
        );
        assert_eq!(load(&mut store, "bob").unwrap().entries.len(), 1);
    }

    #[test]
    fn after_an_erasure_a_window_saves_only_its_active_pane() {
        let mut store = Store::open_in_memory().unwrap();
        let loaded = load(&mut store, "ann").unwrap();
        store
            .conn
            .execute(
                "UPDATE erasure_generation SET generation = generation + 1",
                [],
            )
            .unwrap();
        let entries = [
            (ACTIVE_PANE.into(), "search".into()),
            (
                pane_key("search"),
                r#"{"query":"grainne nidhonaill"}"#.into(),
            ),
        ];
        save(&mut store, "ann", &entries, loaded.erasures).unwrap();
        let saved = load(&mut store, "ann").unwrap();
        assert_eq!(saved.entries, entries[..1].to_vec());
        // Loaded again after the erasure, the next save keeps everything.
        save(&mut store, "ann", &entries, saved.erasures).unwrap();
        assert_eq!(load(&mut store, "ann").unwrap().entries, entries.to_vec());
    }
}
