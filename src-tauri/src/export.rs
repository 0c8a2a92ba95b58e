//! Saving an exported report (PDF or CSV) where the clerk finds it: the web view
//! cannot download (WebKitGTK drops a click on a `blob:` link with `download`), so the
//! UI hands the bytes to the shell, which writes them into the export directory.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::ShellError;

/// The extensions an export may have.
const EXTENSIONS: [&str; 2] = ["pdf", "csv"];
/// How many numbered names (`name-2.pdf` …) are tried before giving up.
const MAX_COPIES: u32 = 999;

/// The answer of `save_export`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SavedExport {
    /// The file written.
    pub path: String,
    /// Its size in bytes.
    pub bytes: usize,
}

/// Writes `content_base64` (decoded) as `filename` in `dir`, created if missing. An
/// existing file is never overwritten: the name gets `-2`, `-3`, … before the
/// extension. The name must be a plain file name of ASCII letters, digits, `.`, `_`
/// and `-` ending in `.pdf` or `.csv`.
pub fn save(dir: &Path, filename: &str, content_base64: &str) -> Result<SavedExport, ShellError> {
    let (stem, extension) = check_filename(filename)?;
    let content = crate::print::decode_document(content_base64)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| ShellError::io(format!("creating {}", dir.display()), e))?;
    for n in 1..=MAX_COPIES {
        let name = match n {
            1 => format!("{stem}.{extension}"),
            n => format!("{stem}-{n}.{extension}"),
        };
        let path = dir.join(name);
        // create_new: two exports of the same day never overwrite each other.
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ShellError::io(format!("creating {}", path.display()), e)),
        };
        let written = file.write_all(&content).and_then(|()| file.sync_all());
        if let Err(e) = written {
            // Leave no truncated export behind.
            let _ = std::fs::remove_file(&path);
            return Err(ShellError::io(format!("writing {}", path.display()), e));
        }
        return Ok(SavedExport {
            path: path.display().to_string(),
            bytes: content.len(),
        });
    }
    Err(ShellError::InvalidFilename(format!(
        "{filename}: {MAX_COPIES} files of that name already exist in {}",
        dir.display()
    )))
}

/// The export directory: the one set (`KOFU_COUNTER_EXPORT_DIR`), else the user's
/// download directory, else `exports` in the data directory.
pub fn directory(set: Option<&Path>, downloads: Option<PathBuf>, data_dir: &Path) -> PathBuf {
    set.map(Path::to_path_buf)
        .or(downloads)
        .unwrap_or_else(|| data_dir.join("exports"))
}

/// The stem and extension of an acceptable export file name.
fn check_filename(filename: &str) -> Result<(&str, &str), ShellError> {
    let bad = |why: &str| ShellError::InvalidFilename(format!("{filename:?}: {why}"));
    if filename.is_empty() || filename.len() > 128 {
        return Err(bad("must be 1 to 128 characters"));
    }
    if !filename
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(bad(
            "only ASCII letters, digits, '.', '_' and '-' (no directories)",
        ));
    }
    let (stem, extension) = filename
        .rsplit_once('.')
        .ok_or_else(|| bad("no extension"))?;
    if stem.is_empty() || stem.starts_with('.') {
        return Err(bad("no name before the extension"));
    }
    if !EXTENSIONS.contains(&extension) {
        return Err(bad("only .pdf and .csv files are exported"));
    }
    Ok((stem, extension))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use base64::Engine as _;

    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn saves_without_overwriting() {
        let dir = tempfile::tempdir().unwrap();
        let exports = dir.path().join("Downloads");
        let first = save(&exports, "kofu-report-2026-05-07.pdf", &b64(b"%PDF-1")).unwrap();
        let second = save(&exports, "kofu-report-2026-05-07.pdf", &b64(b"%PDF-2")).unwrap();
        assert!(
            first.path.ends_with("/kofu-report-2026-05-07.pdf"),
            "{first:?}"
        );
        assert!(
            second.path.ends_with("/kofu-report-2026-05-07-2.pdf"),
            "{second:?}"
        );
        assert_eq!(std::fs::read(&first.path).unwrap(), b"%PDF-1");
        assert_eq!(std::fs::read(&second.path).unwrap(), b"%PDF-2");
        assert_eq!(second.bytes, 6);
    }

    #[test]
    fn refuses_bad_names_and_content_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content, code) in [
            ("../escape.pdf", b64(b"x"), "invalid_filename"),
            ("sub/report.pdf", b64(b"x"), "invalid_filename"),
            ("report.exe", b64(b"x"), "invalid_filename"),
            ("report", b64(b"x"), "invalid_filename"),
            (".pdf", b64(b"x"), "invalid_filename"),
            ("日報.pdf", b64(b"x"), "invalid_filename"),
            ("", b64(b"x"), "invalid_filename"),
            ("report.pdf", "not base64!".to_owned(), "invalid_document"),
        ] {
            let e = save(dir.path(), name, &content).unwrap_err();
            assert_eq!(e.code(), code, "{name:?}: {e}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn directory_prefers_the_setting_then_downloads() {
        let data = Path::new("/data");
        let set = Path::new("/srv/exports");
        assert_eq!(
            directory(Some(set), Some("/home/u/Downloads".into()), data),
            set
        );
        assert_eq!(
            directory(None, Some("/home/u/Downloads".into()), data),
            Path::new("/home/u/Downloads")
        );
        assert_eq!(directory(None, None, data), Path::new("/data/exports"));
    }
}
