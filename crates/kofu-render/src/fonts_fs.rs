//! IO EDGE: finds and reads the IPA font files from disk. The only module of this
//! crate that touches the file system (feature `system-fonts`, on by default).
//!
//! Lookup order per face: `$KOFU_FONT_DIR/<file>` when the variable is set (and only
//! there — a configured directory that lacks the file is an error, not a silent
//! fallback to whatever the OS has), otherwise the paths of the Debian packages
//! `fonts-ipaexfont-mincho`, `fonts-ipaexfont-gothic` and `fonts-ipamj-mincho`
//! (verified with `dpkg -L`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::RenderError;
use crate::fonts::{FontFace, FontSource};

/// Environment variable naming a directory holding `ipaexm.ttf`, `ipaexg.ttf` and
/// `ipamjm.ttf`.
pub const FONT_DIR_ENV: &str = "KOFU_FONT_DIR";

/// Reads the IPA fonts from a directory or the Debian package locations.
#[derive(Debug, Clone, Default)]
pub struct SystemFonts {
    dir: Option<PathBuf>,
}

impl SystemFonts {
    /// Uses `$KOFU_FONT_DIR` if set, else the Debian paths.
    pub fn from_env() -> Self {
        Self {
            dir: std::env::var_os(FONT_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// Reads every face from `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
        }
    }

    /// Where `face` is read from.
    pub fn path(&self, face: FontFace) -> PathBuf {
        match &self.dir {
            Some(d) => d.join(face.file_name()),
            None => Path::new(debian_path(face)).to_path_buf(),
        }
    }
}

fn debian_path(face: FontFace) -> &'static str {
    match face {
        FontFace::Mincho => "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        FontFace::Gothic => "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        FontFace::NameMincho => "/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
    }
}

impl FontSource for SystemFonts {
    fn font(&self, face: FontFace) -> Result<Arc<[u8]>, RenderError> {
        let path = self.path(face);
        std::fs::read(&path)
            .map(Arc::from)
            .map_err(|e| RenderError::Font {
                face,
                reason: format!("{}: {e}", path.display()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_overrides_debian_paths() {
        let s = SystemFonts::in_dir("/opt/fonts");
        assert_eq!(
            s.path(FontFace::NameMincho),
            PathBuf::from("/opt/fonts/ipamjm.ttf")
        );
        assert_eq!(
            SystemFonts::default().path(FontFace::Gothic),
            PathBuf::from("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
        );
    }

    #[test]
    fn missing_file_is_a_font_error_naming_the_path() {
        let s = SystemFonts::in_dir("/nonexistent-kofu");
        let err = s.font(FontFace::Mincho).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent-kofu/ipaexm.ttf"),
            "{err}"
        );
    }
}
