//! The writer's in-memory view of what the database already holds: CRM keys (contact ids,
//! membership sync keys) with their row ids and hashes.
//!
//! Exports come in the same order day after day (by contact id), and the rows were inserted in
//! file order, so the key after the last one found is almost always the next one asked for.
//! [`KeyIndex`] keeps the keys in that order in one text arena and checks that guess first: a
//! re-import walks the index sequentially instead of hashing 1.1 million strings into random
//! places. Only when a guess misses is a hash index built (once) and used.

use super::hash::{FastMap, StableHasher};
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
        match by_hash.get(&h) {
            None => {
                by_hash.insert(h, i as u32);
            }
            Some(_) => {
                let key: Box<str> = self.key(i).into();
                self.collided.insert(key, i as u32);
            }
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
        if self.by_hash.is_none() {
            let mut by_hash = FastMap::default();
            by_hash.reserve(n);
            self.by_hash = Some(by_hash);
            for i in 0..n {
                self.index(i);
            }
        }
        let h = key_hash(key);
        let found = match self.by_hash.as_ref().expect("hash index").get(&h) {
            Some(&i) if self.key(i as usize) == key => Some(i as usize),
            Some(_) => self.collided.get(key).map(|&i| i as usize),
            None => None,
        };
        if let Some(i) = found {
            self.next = i + 1;
        }
        found
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
