//! The keyed block permutation of the back page's image.
//!
//! Algorithm (version 1), for a raster whose block grid is `cols × rows` blocks of
//! [`BLOCK_PX`] pixels (pixels right of or below the last whole block stay where they
//! are):
//!
//! 1. `seed = SHA-256("kofu-kiosk-scramble-v1" ‖ u32be(cols) ‖ u32be(rows) ‖ key)`;
//! 2. a byte stream `SHA-256(seed ‖ u64be(0)) ‖ SHA-256(seed ‖ u64be(1)) ‖ …`, read
//!    as big-endian `u64`s;
//! 3. Fisher–Yates on `perm = [0, 1, …, n−1]` (`n = cols × rows`, blocks numbered row
//!    by row): for `i` from `n−1` down to 1, draw `j` uniform in `0..=i` (a `u64` `r`
//!    is rejected when `r ≥ 2⁶⁴ − (2⁶⁴ mod (i+1))`, else `j = r mod (i+1)`) and swap
//!    `perm[i]`, `perm[j]`;
//! 4. block `p` of the scrambled image is block `perm[p]` of the original.
//!
//! [`unscramble`] writes block `p` of its input back to position `perm[p]`, so
//! `unscramble(scramble(r, k), k) == r` for every raster and key.

use sha2::{Digest as _, Sha256};

use super::BLOCK_PX;
use super::raster::GrayRaster;
use crate::error::RenderError;

/// The secret the permutation is derived from (16 to 64 bytes). Its `Debug` is
/// masked.
#[derive(Clone, PartialEq, Eq)]
pub struct LayerKey(Vec<u8>);

impl std::fmt::Debug for LayerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LayerKey(<{} bytes>)", self.0.len())
    }
}

impl LayerKey {
    /// The development key of the simulator (hex of `kofu development kiosk key!`):
    /// not a secret, never for a real center.
    pub const DEVELOPMENT_HEX: &'static str =
        "6b6f667520646576656c6f706d656e74206b696f736b206b657921";

    /// A key from its bytes: 16 to 64 of them.
    pub fn new(bytes: &[u8]) -> Result<Self, RenderError> {
        if !(16..=64).contains(&bytes.len()) {
            return Err(RenderError::Invalid(format!(
                "a kiosk layer key has 16 to 64 bytes, not {}",
                bytes.len()
            )));
        }
        Ok(Self(bytes.to_vec()))
    }

    /// A key from hexadecimal (32 to 128 digits, either case).
    pub fn from_hex(hex: &str) -> Result<Self, RenderError> {
        let hex = hex.trim();
        let digits: Option<Vec<u8>> = hex
            .chars()
            .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
            .collect();
        let digits = match digits {
            Some(d) if d.len() % 2 == 0 => d,
            _ => {
                return Err(RenderError::Invalid(
                    "a kiosk layer key is an even number of hexadecimal digits".into(),
                ));
            }
        };
        let bytes: Vec<u8> = digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect();
        Self::new(&bytes)
    }

    /// The development key ([`Self::DEVELOPMENT_HEX`]).
    pub fn development() -> Self {
        Self(b"kofu development kiosk key!".to_vec())
    }
}

/// A SHA-256 counter-mode byte stream read as `u64`s.
struct Stream {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Stream {
    fn new(key: &LayerKey, cols: u32, rows: u32) -> Self {
        let mut h = Sha256::new();
        h.update(b"kofu-kiosk-scramble-v1");
        h.update(cols.to_be_bytes());
        h.update(rows.to_be_bytes());
        h.update(&key.0);
        Self {
            seed: h.finalize().into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn next_u64(&mut self) -> u64 {
        if self.used == 32 {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_be_bytes());
            self.block = h.finalize().into();
            self.counter += 1;
            self.used = 0;
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.block[self.used..self.used + 8]);
        self.used += 8;
        u64::from_be_bytes(b)
    }

    /// Uniform in `0..bound` (`bound ≥ 1`), without modulo bias.
    fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let r = self.next_u64();
            if r < zone {
                return r % bound;
            }
        }
    }
}

/// The permutation of a `cols × rows` block grid under `key`: block `p` of the
/// scrambled image is block `perm[p]` of the original.
pub fn permutation(key: &LayerKey, cols: u32, rows: u32) -> Vec<u32> {
    let n = cols * rows;
    let mut perm: Vec<u32> = (0..n).collect();
    let mut s = Stream::new(key, cols, rows);
    for i in (1..n as usize).rev() {
        let j = s.below(i as u64 + 1) as usize;
        perm.swap(i, j);
    }
    perm
}

fn grid(r: &GrayRaster) -> (u32, u32) {
    (r.width() / BLOCK_PX, r.height() / BLOCK_PX)
}

fn copy_block(src: &GrayRaster, from: (u32, u32), dst: &mut GrayRaster, to: (u32, u32)) {
    let b = BLOCK_PX as usize;
    for dy in 0..BLOCK_PX {
        let s = &src.row(from.1 * BLOCK_PX + dy)[(from.0 * BLOCK_PX) as usize..][..b];
        dst.row_mut(to.1 * BLOCK_PX + dy)[(to.0 * BLOCK_PX) as usize..][..b].copy_from_slice(s);
    }
}

/// The raster with its whole blocks permuted under `key` (see the module docs).
pub fn scramble(raster: &GrayRaster, key: &LayerKey) -> GrayRaster {
    let (cols, rows) = grid(raster);
    let perm = permutation(key, cols, rows);
    let mut out = raster.clone();
    for (p, &src) in perm.iter().enumerate() {
        let p = p as u32;
        copy_block(
            raster,
            (src % cols, src / cols),
            &mut out,
            (p % cols, p / cols),
        );
    }
    out
}

/// The inverse of [`scramble`] under the same key.
pub fn unscramble(raster: &GrayRaster, key: &LayerKey) -> GrayRaster {
    let (cols, rows) = grid(raster);
    let perm = permutation(key, cols, rows);
    let mut out = raster.clone();
    for (p, &dst) in perm.iter().enumerate() {
        let p = p as u32;
        copy_block(
            raster,
            (p % cols, p / cols),
            &mut out,
            (dst % cols, dst / cols),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn key(b: u8) -> LayerKey {
        LayerKey::new(&[b; 32]).unwrap()
    }

    #[test]
    fn permutation_is_a_permutation_and_depends_on_the_key() {
        let p = permutation(&key(1), 52, 73);
        let mut sorted = p.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..52 * 73).collect::<Vec<_>>());
        assert_ne!(p, permutation(&key(2), 52, 73));
        assert_eq!(p, permutation(&key(1), 52, 73), "deterministic");
        let fixed = p
            .iter()
            .enumerate()
            .filter(|(i, v)| *i as u32 == **v)
            .count();
        assert!(fixed < 10, "{fixed} blocks left in place");
    }

    #[test]
    fn the_algorithm_is_pinned() {
        // Changing the derivation breaks every back page already printed.
        let p = permutation(&LayerKey::development(), 4, 3);
        assert_eq!(p, vec![11, 1, 10, 7, 5, 8, 4, 0, 3, 9, 2, 6]);
    }

    #[test]
    fn keys_from_hex() {
        assert_eq!(
            LayerKey::from_hex(LayerKey::DEVELOPMENT_HEX).unwrap(),
            LayerKey::development()
        );
        assert!(LayerKey::from_hex("abc").is_err());
        assert!(LayerKey::from_hex("zz".repeat(16).as_str()).is_err());
        assert!(LayerKey::from_hex(&"ab".repeat(8)).is_err(), "too short");
        assert!(!format!("{:?}", LayerKey::development()).contains("6b"));
    }

    #[test]
    fn scrambling_moves_blocks_but_not_the_remainder() {
        let px: Vec<u8> = (0..40u32 * 35).map(|i| (i % 251) as u8).collect();
        let r = GrayRaster::new(40, 35, px).unwrap();
        let s = scramble(&r, &key(7));
        assert_ne!(s, r);
        // Column 32.. and row 32.. are outside the 2×2 block grid.
        for y in 0..35 {
            for x in 32..40 {
                assert_eq!(s.get(x, y), r.get(x, y));
            }
        }
        for x in 0..40 {
            assert_eq!(s.get(x, 33), r.get(x, 33));
        }
    }

    proptest! {
        #[test]
        fn unscramble_inverts_scramble(
            w in 1u32..100,
            h in 1u32..100,
            seed in any::<u64>(),
            k in proptest::collection::vec(any::<u8>(), 16..64),
        ) {
            let mut x = seed | 1;
            let px: Vec<u8> = (0..w * h).map(|_| {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                (x >> 24) as u8
            }).collect();
            let r = GrayRaster::new(w, h, px).unwrap();
            let key = LayerKey::new(&k).unwrap();
            prop_assert_eq!(unscramble(&scramble(&r, &key), &key), r.clone());
            prop_assert_eq!(scramble(&unscramble(&r, &key), &key), r);
        }
    }
}
