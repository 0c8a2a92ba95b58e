//! The kiosk security layer (コンビニ交付 anti-forgery), applied by the relay center on
//! top of the town's unchanged certificate.
//!
//! A certificate printed at a convenience-store kiosk is on plain paper, so the paper
//! itself has to show a copy and carry proof of what was printed. The layer adds, to
//! the PDF the town rendered (whose page content streams are kept byte for byte):
//!
//! - a **ground pattern** ([`ground`]) on every side: a field of fine dots in which
//!   the word 「複写」 is written in coarse dots of the same ink coverage. At print the
//!   two read as one even tint; a copier, which cannot reproduce the fine dots, drops
//!   the surround and keeps the coarse dots, so 「複写」 stands out on a photocopy.
//!   (The approximation here is visible on the original too: coarse dots among fine.)
//! - after every front page, a **back page** ([`layer`]) carrying the same ground
//!   pattern and a scrambled image of the front: the front raster cut into
//!   [`BLOCK_PX`]-pixel blocks whose positions are permuted under a key
//!   ([`scramble`]), framed by four registration marks.
//!
//! Verification ([`scan`]) locates the scrambled image on a scan of the back by its
//! marks (any resolution, no rotation), restores it with the key ([`unscramble`])
//! and compares it with a scan of the front ([`similarity`]).
//!
//! Pure like the rest of the crate: rasters are pixel buffers produced at the edge
//! (the simulator runs poppler's `pdftoppm`), PNG bytes in and out, no clock.

pub mod ground;
pub mod layer;
pub mod raster;
pub mod scan;
pub mod scramble;

pub use layer::{apply_kiosk_layer, page_count};
pub use raster::GrayRaster;
pub use scan::{MATCH_THRESHOLD, Verdict, front_to_grid, restore_from_scan, similarity, verify};
pub use scramble::{LayerKey, permutation, scramble, unscramble};

/// Side of a scrambled block, in pixels of the scrambled image.
pub const BLOCK_PX: u32 = 16;

/// Blocks across the scrambled image.
pub const GRID_COLS: u32 = 52;

/// Blocks down the scrambled image.
pub const GRID_ROWS: u32 = 73;

/// Width of the scrambled image in pixels (52 × 16 = 832: A4 at about 100 dpi).
pub const GRID_WIDTH: u32 = GRID_COLS * BLOCK_PX;

/// Height of the scrambled image in pixels (73 × 16 = 1168).
pub const GRID_HEIGHT: u32 = GRID_ROWS * BLOCK_PX;
