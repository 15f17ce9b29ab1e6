//! A small, stable 64-bit hash.
//!
//! `crm_hash` columns store it, so it must give the same value for the same input on every
//! platform and every Rust version (std's `DefaultHasher` promises neither). It also keys the
//! import's in-memory maps, where SipHash would cost more than the rest of the lookup.

use std::hash::{BuildHasher, Hasher};

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// Word-at-a-time multiply-rotate hash with a final avalanche.
#[derive(Debug, Clone, Copy)]
pub struct StableHasher {
    state: u64,
}

impl Default for StableHasher {
    fn default() -> StableHasher {
        StableHasher { state: SEED }
    }
}

impl StableHasher {
    fn add(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }

    /// Adds a field: its bytes and its length, so that ("ab", "c") and ("a", "bc") differ.
    pub fn field(&mut self, bytes: &[u8]) {
        self.write(bytes);
        self.add(bytes.len() as u64 | 0xff00_0000_0000_0000);
    }

    pub fn value(&self) -> u64 {
        // murmur3's fmix64: spreads every input bit over the whole result.
        let mut h = self.state;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    /// The value as SQLite stores it (INTEGER is signed).
    pub fn value_i64(&self) -> i64 {
        self.value() as i64
    }
}

impl Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.value()
    }
}

/// Builds [`StableHasher`]s for `HashMap`s.
#[derive(Debug, Clone, Copy, Default)]
pub struct StableBuildHasher;

impl BuildHasher for StableBuildHasher {
    type Hasher = StableHasher;

    fn build_hasher(&self) -> StableHasher {
        StableHasher::default()
    }
}

pub type FastMap<K, V> = std::collections::HashMap<K, V, StableBuildHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_fields(fields: &[&str]) -> u64 {
        let mut h = StableHasher::default();
        for f in fields {
            h.field(f.as_bytes());
        }
        h.value()
    }

    #[test]
    fn stable_across_runs_and_builds() {
        // Stored in databases: this value must never change.
        assert_eq!(
            hash_fields(&["Siân", "Jones"]),
            7_277_452_719_354_249_761_u64
        );
    }

    #[test]
    fn field_boundaries_matter() {
        assert_ne!(hash_fields(&["ab", "c"]), hash_fields(&["a", "bc"]));
        assert_ne!(hash_fields(&["", "x"]), hash_fields(&["x", ""]));
        assert_ne!(hash_fields(&["12345678"]), hash_fields(&["12345678", ""]));
    }
}
