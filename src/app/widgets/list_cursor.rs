//! Where a list's cursor goes when the list is rebuilt (a reload after a write, a new filter, an
//! import): onto the same row, by its identity, or — when that row has gone (abandoned, resolved,
//! settled, snoozed) — onto the row that was next, never onto whoever now sits at the old index.
//!
//! Every pane's list uses this; it is the seed of the shared list kit (issue 19), which will
//! take the rest of the cursor, scrolling and marking over from the panes.

use std::collections::HashMap;
use std::hash::Hash;

/// The rows around the cursor, remembered by identity before a list is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorAnchor<K> {
    /// Identities in the order they are tried: the cursor row, the rows after it, then the rows
    /// before it, nearest first.
    preference: Vec<K>,
}

impl<K: Eq + Hash + Clone> CursorAnchor<K> {
    /// Remembers the list `ids` (in shown order) with the cursor at `cursor`. Capture it before
    /// the rows it was built from are replaced: a row index into new rows names a stranger.
    pub fn at(ids: &[K], cursor: usize) -> CursorAnchor<K> {
        let cursor = cursor.min(ids.len());
        let after = ids[cursor..].iter();
        let before = ids[..cursor].iter().rev();
        CursorAnchor {
            preference: after.chain(before).cloned().collect(),
        }
    }

    /// Tries `id` first (a row just written, a restored cursor), then the remembered rows.
    pub fn preferring(mut self, id: K) -> CursorAnchor<K> {
        self.preference.insert(0, id);
        self
    }

    /// The cursor in the new list `ids`: the first remembered row still there, else the top.
    pub fn resolve(&self, ids: &[K]) -> usize {
        if self.preference.is_empty() || ids.is_empty() {
            return 0;
        }
        let position: HashMap<&K, usize> = ids.iter().enumerate().map(|(i, k)| (k, i)).collect();
        self.preference
            .iter()
            .find_map(|k| position.get(k).copied())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_row_wherever_it_moved() {
        let anchor = CursorAnchor::at(&[1, 2, 3, 4], 1);
        assert_eq!(anchor.resolve(&[4, 3, 2, 1]), 2);
    }

    #[test]
    fn a_removed_row_gives_way_to_the_one_that_was_next() {
        let anchor = CursorAnchor::at(&[1, 2, 3, 4], 1);
        // Reordered too: index 1 would now be 4, a stranger.
        assert_eq!(anchor.resolve(&[1, 4, 3]), 2);
        // Several gone, the next ones included.
        assert_eq!(anchor.resolve(&[4, 1]), 0);
    }

    #[test]
    fn the_last_row_removed_falls_to_the_new_last_row() {
        let anchor = CursorAnchor::at(&[1, 2, 3], 2);
        assert_eq!(anchor.resolve(&[1, 2]), 1);
    }

    #[test]
    fn a_preferred_row_wins_and_an_empty_list_gives_the_top() {
        let anchor = CursorAnchor::at(&[1, 2, 3], 0).preferring(3);
        assert_eq!(anchor.resolve(&[1, 2, 3]), 2);
        assert_eq!(anchor.resolve(&[]), 0);
        assert_eq!(CursorAnchor::<i64>::at(&[], 0).resolve(&[5]), 0);
    }
}
