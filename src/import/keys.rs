//! The writer's in-memory view of what the database already holds: CRM keys (contact ids,
//! membership sync keys) with their row ids and hashes.
//!
//! Exports come in the same order day after day (by contact id), and the rows were inserted in
//! file order, so the key after the last one found is almost always the next one asked for.
//! [`KeyIndex`] keeps the keys in that order in one text arena and checks that guess first: a
//! re-import walks the index sequentially instead of hashing 1.1 million strings into random
//! places.
//!
//! When a guess misses, a first import is usually adding keys that only grow (contact ids
//! `1041`, `1042`, …): while every key added is greater than the one before (shorter first, then
//! byte order, which is numeric order for ids), a miss is one comparison with the last key, and a
//! lookup a binary search. Only once a key arrives out of order is a hash index built (once) and
//! used: hashing a million keys into a table too big for the cache costs more than the rest of
//! the lookup.

use super::hash::{FastMap, StableHasher};
use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::hash::Hasher;

pub struct KeyIndex<V> {
    arena: String,
    ends: Vec<u32>,
    values: Vec<V>,
    /// Hash of a key → its position; built at the first missed guess, kept up to date after.
    by_hash: Option<FastMap<u64, u32>>,
    /// Keys whose hash collided with another key's (64-bit: in practice never).
    collided: FastMap<Box<str>, u32>,
    /// Where the next key is expected.
    next: usize,
    /// Every key so far is greater than the one before, in [`key_order`].
    ascending: bool,
}

/// Shorter keys first, then byte order: numeric order for ids without leading zeros.
fn key_order(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl<V> Default for KeyIndex<V> {
    fn default() -> KeyIndex<V> {
        KeyIndex {
            arena: String::new(),
            ends: Vec::new(),
            values: Vec::new(),
            by_hash: None,
            collided: FastMap::default(),
            next: 0,
            ascending: true,
        }
    }
}

fn key_hash(key: &str) -> u64 {
    let mut h = StableHasher::default();
    h.write(key.as_bytes());
    h.write_usize(key.len());
    h.value()
}

impl<V> KeyIndex<V> {
    /// Room for `entries` keys of about `key_bytes` bytes in all.
    pub fn reserve(&mut self, entries: usize, key_bytes: usize) {
        self.arena.reserve(key_bytes);
        self.ends.reserve(entries);
        self.values.reserve(entries);
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    fn key(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    /// Adds a key that is not in the index.
    pub fn push(&mut self, key: &str, value: V) -> usize {
        let i = self.values.len();
        if self.ascending && i > 0 && key_order(key, self.key(i - 1)) != Ordering::Greater {
            self.ascending = false;
        }
        self.arena.push_str(key);
        self.ends.push(self.arena.len() as u32);
        self.values.push(value);
        if self.by_hash.is_some() {
            self.index(i);
        }
        self.next = i + 1;
        i
    }

    fn index(&mut self, i: usize) {
        let h = key_hash(self.key(i));
        let by_hash = self.by_hash.as_mut().expect("hash index");
        // One probe of a table too big for the cache, not two.
        if let Entry::Vacant(slot) = by_hash.entry(h) {
            slot.insert(i as u32);
        } else {
            let key: Box<str> = self.key(i).into();
            self.collided.insert(key, i as u32);
        }
    }

    /// The position of `key`, if present.
    pub fn find(&mut self, key: &str) -> Option<usize> {
        let n = self.values.len();
        // The guess, then the key before it (a contact repeated on consecutive rows).
        for guess in [self.next, self.next.wrapping_sub(1)] {
            if guess < n && self.key(guess) == key {
                self.next = guess + 1;
                return Some(guess);
            }
        }
        let found = if self.ascending {
            self.search_sorted(key)
        } else {
            self.search_hashed(key)
        };
        if let Some(i) = found {
            self.next = i + 1;
        }
        found
    }

    fn search_sorted(&self, key: &str) -> Option<usize> {
        let n = self.values.len();
        // A key past the last one: a new member, the usual miss of a first import.
        if n == 0 || key_order(key, self.key(n - 1)) == Ordering::Greater {
            return None;
        }
        let (mut low, mut high) = (0, n);
        while low < high {
            let mid = low + (high - low) / 2;
            match key_order(self.key(mid), key) {
                Ordering::Less => low = mid + 1,
                Ordering::Greater => high = mid,
                Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn search_hashed(&mut self, key: &str) -> Option<usize> {
        let n = self.values.len();
        if self.by_hash.is_none() {
            let mut by_hash = FastMap::default();
            by_hash.reserve(n);
            self.by_hash = Some(by_hash);
            for i in 0..n {
                self.index(i);
            }
        }
        let h = key_hash(key);
        match self.by_hash.as_ref().expect("hash index").get(&h) {
            Some(&i) if self.key(i as usize) == key => Some(i as usize),
            Some(_) => self.collided.get(key).map(|&i| i as usize),
            None => None,
        }
    }

    pub fn value_mut(&mut self, i: usize) -> &mut V {
        &mut self.values[i]
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.values.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_in_order_out_of_order_and_not_at_all() {
        let mut index = KeyIndex::default();
        for (i, key) in ["10", "11", "12", "13"].iter().enumerate() {
            assert_eq!(index.find(key), None);
            assert_eq!(index.push(key, i * 10), i);
        }
        assert_eq!(index.find("10"), Some(0));
        assert_eq!(index.find("11"), Some(1));
        assert_eq!(index.find("11"), Some(1), "the same key again");
        assert_eq!(index.find("13"), Some(3));
        assert_eq!(index.find("12"), Some(2));
        assert_eq!(index.find("1"), None);
        assert_eq!(index.find(""), None);
        let i = index.push("9", 90);
        assert_eq!(index.find("10"), Some(0));
        assert_eq!(index.find("9"), Some(i));
        *index.value_mut(2) += 1;
        assert_eq!(
            index.values().copied().collect::<Vec<_>>(),
            [0, 10, 21, 30, 90]
        );
        assert_eq!(index.len(), 5);
    }

    #[test]
    fn ascending_ids_are_found_by_search_until_one_comes_out_of_order() {
        let mut index = KeyIndex::default();
        for i in (1..=3000).step_by(2) {
            let key = i.to_string();
            assert_eq!(index.find(&key), None, "new key {key}");
            index.push(&key, i);
        }
        assert!(index.ascending, "1, 3, …, 2999 only grow");
        for probe in [1, 9, 11, 101, 999, 2999] {
            let at = index.find(&probe.to_string()).expect("present");
            assert_eq!(*index.value_mut(at), probe);
        }
        for absent in ["2", "10", "1000", "3001", "", "01"] {
            assert_eq!(index.find(absent), None, "{absent}");
        }
        // A contact id that goes back: the index switches to hashing and still finds them all.
        let i = index.push("2", 2);
        assert!(!index.ascending);
        assert_eq!(index.find("2"), Some(i));
        assert_eq!(
            index.find("1001").map(|at| *index.value_mut(at)),
            Some(1001)
        );
        assert_eq!(index.find("1000"), None);
    }

    #[test]
    fn many_keys_in_a_shuffled_order() {
        let mut index = KeyIndex::default();
        let keys: Vec<String> = (0..5000).map(|i| format!("id:{i}")).collect();
        for (i, k) in keys.iter().enumerate() {
            index.push(k, i);
        }
        for i in (0..5000).rev().step_by(7) {
            assert_eq!(index.find(&keys[i]), Some(i));
        }
    }
}
