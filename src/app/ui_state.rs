//! What the app remembers per staff member between runs (`ui_state`): the active pane and each
//! pane's own state (filters, selection), as the panes serialise it.

use rusqlite::params;

use crate::storage::Store;

/// The key under which the active pane is kept.
pub const ACTIVE_PANE: &str = "active_pane";

/// The key for a pane's own state.
pub fn pane_key(section: &str) -> String {
    format!("pane.{section}")
}

/// Every saved entry for `staff`.
pub fn load(store: &Store, staff: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = store
        .conn
        .prepare("SELECT key, value FROM ui_state WHERE staff = ?1 ORDER BY key")?;
    stmt.query_map([staff], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// Replaces `staff`'s saved state with `entries`, in one transaction. A read-only store keeps
/// what it had: there is nothing to refuse the user, as nothing of theirs is lost.
pub fn save(store: &mut Store, staff: &str, entries: &[(String, String)]) -> anyhow::Result<()> {
    if store.is_read_only() {
        return Ok(());
    }
    let tx = store.conn.transaction()?;
    tx.execute("DELETE FROM ui_state WHERE staff = ?1", [staff])?;
    for (key, value) in entries {
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
        )
        .unwrap();
        save(&mut store, "bob", &[(ACTIVE_PANE.into(), "search".into())]).unwrap();
        save(&mut store, "ann", &[(pane_key("search"), "{}".into())]).unwrap();
        assert_eq!(
            load(&store, "ann").unwrap(),
            vec![("pane.search".into(), "{}".into())]
        );
        assert_eq!(load(&store, "bob").unwrap().len(), 1);
    }
}
