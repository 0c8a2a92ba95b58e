//! The kiosk security layer at the center's edge: the town's PDF (already checked
//! against its sha256) is rasterised with poppler's `pdftoppm -gray -r 100`, and
//! `kofu_render::kiosk::apply_kiosk_layer` adds the ground pattern and the scrambled
//! back pages under the center's key. The certificate's own page content is not
//! touched.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The center's key (re-exported for callers that only know the simulator).
pub use kofu_render::kiosk::LayerKey;
use kofu_render::kiosk::{GrayRaster, apply_kiosk_layer, page_count};

use crate::SimError;

/// Resolution the fronts are rasterised at for the scrambled image.
pub const RASTER_DPI: u32 = 100;

/// The kiosk copy's file name next to the printed original: `NAME.kiosk.pdf`.
pub fn kiosk_path(original: &Path) -> PathBuf {
    original.with_extension("kiosk.pdf")
}

/// Every page of `pdf` rasterised in grey at [`RASTER_DPI`] by `pdftoppm`.
pub fn rasterize_pages(pdf: &[u8]) -> Result<Vec<GrayRaster>, SimError> {
    let pages = page_count(pdf).map_err(|e| SimError::Layer(format!("the town's PDF: {e}")))?;
    let dir = tempfile::tempdir().map_err(|e| SimError::io(std::env::temp_dir(), e))?;
    let input = dir.path().join("document.pdf");
    std::fs::write(&input, pdf).map_err(|e| SimError::io(&input, e))?;
    let mut out = Vec::with_capacity(pages);
    for page in 1..=pages {
        let root = dir.path().join(format!("page-{page}"));
        let n = page.to_string();
        let run = Command::new("pdftoppm")
            .args([
                "-gray",
                "-png",
                "-r",
                &RASTER_DPI.to_string(),
                "-f",
                &n,
                "-l",
                &n,
            ])
            .arg("-singlefile")
            .arg(&input)
            .arg(&root)
            .output()
            .map_err(|e| {
                SimError::Layer(format!("cannot run pdftoppm (Debian: poppler-utils): {e}"))
            })?;
        if !run.status.success() {
            return Err(SimError::Layer(format!(
                "pdftoppm failed on page {page}: {}",
                String::from_utf8_lossy(&run.stderr).trim()
            )));
        }
        let png = root.with_extension("png");
        let bytes = std::fs::read(&png).map_err(|e| SimError::io(&png, e))?;
        out.push(
            GrayRaster::from_png(&bytes)
                .map_err(|e| SimError::Layer(format!("page {page} raster: {e}")))?,
        );
    }
    Ok(out)
}

/// The kiosk copy of a certificate: its pages rasterised, then the layer applied
/// under `key`. Blocking (runs `pdftoppm`).
pub fn kiosk_copy(pdf: &[u8], key: &LayerKey) -> Result<Vec<u8>, SimError> {
    let fronts = rasterize_pages(pdf)?;
    apply_kiosk_layer(pdf, &fronts, key).map_err(|e| SimError::Layer(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiosk_copies_sit_next_to_the_original() {
        assert_eq!(
            kiosk_path(Path::new("out/K-00010-abc-1.pdf")),
            PathBuf::from("out/K-00010-abc-1.kiosk.pdf")
        );
    }

    #[test]
    fn a_broken_pdf_is_named() {
        let e = kiosk_copy(b"%PDF-1.4 garbage", &LayerKey::development());
        assert!(matches!(e, Err(SimError::Layer(m)) if m.contains("the town's PDF")));
    }
}
