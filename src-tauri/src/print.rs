//! Printing an issued certificate through CUPS: `lp [-d QUEUE] -t TITLE FILE`.
//!
//! The bytes are printed only if their SHA-256 is the one the issuance answered, so
//! that what comes out of the printer is exactly what was numbered and recorded.

use std::io::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::error::ShellError;

/// Where and with what documents are printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Printer {
    /// The `lp` command (`KOFU_COUNTER_LP`, else `lp`).
    pub command: PathBuf,
    /// The CUPS queue; `None` for CUPS's default destination.
    pub queue: Option<String>,
}

/// A print job CUPS accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Printed {
    /// The queue it went to.
    pub queue: String,
    /// The job's ID, e.g. `madoguchi-12`.
    pub job: String,
    /// The SHA-256 of the bytes printed (lowercase hex).
    pub sha256: String,
}

/// The bytes of a document the UI sends as base64 (to print or to save); surrounding
/// whitespace is ignored, anything else that is not base64 is `invalid_document`.
pub(crate) fn decode_document(text: &str) -> Result<Vec<u8>, ShellError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| ShellError::InvalidDocument(e.to_string()))
}

impl Printer {
    /// Prints a PDF given as base64, if its SHA-256 is `sha256`; `title` names the
    /// job in the queue.
    pub async fn print(
        &self,
        pdf_base64: &str,
        sha256: &str,
        title: &str,
    ) -> Result<Printed, ShellError> {
        let pdf = decode_document(pdf_base64)?;
        let actual = hex(&Sha256::digest(&pdf));
        if !actual.eq_ignore_ascii_case(sha256.trim()) {
            return Err(ShellError::DigestMismatch {
                expected: sha256.to_owned(),
                actual,
            });
        }
        let mut file = tempfile::Builder::new()
            .prefix("kofu-print-")
            .suffix(".pdf")
            .tempfile()
            .map_err(|e| ShellError::io("creating the file to print", e))?;
        file.write_all(&pdf)
            .and_then(|()| file.flush())
            .map_err(|e| ShellError::io("writing the file to print", e))?;
        let title = title_of(title);
        let mut lp = tokio::process::Command::new(&self.command);
        if let Some(q) = &self.queue {
            lp.arg("-d").arg(q);
        }
        lp.arg("-t").arg(&title).arg(file.path());
        let output = lp.output().await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ShellError::NoPrinter(format!(
                    "{} not found: is CUPS installed?",
                    self.command.display()
                ))
            } else {
                ShellError::PrintFailed(format!("cannot run {}: {e}", self.command.display()))
            }
        })?;
        // The temporary file is removed only once lp has sent it.
        drop(file);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(lp_failure(&stderr, &stdout));
        }
        let (queue, job) = job_of(&stdout).ok_or_else(|| {
            ShellError::PrintFailed(format!("unexpected answer of lp: {}", stdout.trim()))
        })?;
        Ok(Printed {
            queue,
            job,
            sha256: actual,
        })
    }
}

/// A job title lp takes: one line, not empty.
fn title_of(title: &str) -> String {
    let t: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match t.trim() {
        "" => "kofu".to_owned(),
        t => t.to_owned(),
    }
}

/// What a failed lp means: no such printer, or another failure.
fn lp_failure(stderr: &str, stdout: &str) -> ShellError {
    let said = match stderr.trim() {
        "" => stdout.trim(),
        s => s,
    };
    let lower = said.to_lowercase();
    if lower.contains("no default destination")
        || lower.contains("does not exist")
        || lower.contains("not accepting jobs")
        || lower.contains("unable to connect to server")
    {
        ShellError::NoPrinter(said.to_owned())
    } else {
        ShellError::PrintFailed(said.to_owned())
    }
}

/// The queue and job ID of lp's answer `request id is QUEUE-12 (1 file(s))`.
fn job_of(stdout: &str) -> Option<(String, String)> {
    let (_, rest) = stdout.split_once("request id is ")?;
    let job = rest.split_whitespace().next()?;
    let (queue, number) = job.rsplit_once('-')?;
    (!queue.is_empty() && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (queue.to_owned(), job.to_owned()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_job_id_is_read_from_lps_answer() {
        for (stdout, expected) in [
            (
                "request id is madoguchi-12 (1 file(s))\n",
                Some(("madoguchi", "madoguchi-12")),
            ),
            (
                "request id is HP-LaserJet-4-3041 (1 file(s))",
                Some(("HP-LaserJet-4", "HP-LaserJet-4-3041")),
            ),
            ("lp: Error - no default destination available.", None),
            ("request id is -12 (1 file(s))", None),
            ("request id is queue-x (1 file(s))", None),
            ("", None),
        ] {
            assert_eq!(
                job_of(stdout),
                expected.map(|(q, j)| (q.to_owned(), j.to_owned())),
                "{stdout:?}"
            );
        }
    }

    #[test]
    fn lp_failures_tell_no_printer_from_other_failures() {
        for (stderr, code) in [
            (
                "lp: Error - no default destination available.",
                "no_printer",
            ),
            (
                "lp: Error - The printer or class does not exist.",
                "no_printer",
            ),
            ("lp: Error - unable to connect to server", "no_printer"),
            ("lp: Error - paper jam", "print_failed"),
        ] {
            assert_eq!(lp_failure(stderr, "").code(), code, "{stderr}");
        }
        assert_eq!(title_of(" 住民票\n写し "), "住民票 写し");
        assert_eq!(title_of("\t"), "kofu");
    }

    /// A fake `lp` that records its arguments and copies the file it is given.
    fn fake_lp(dir: &std::path::Path, exit: u8, stdout: &str, stderr: &str) -> PathBuf {
        let script = dir.join(format!("lp-{exit}"));
        let body = format!(
            "#!/bin/sh\nout='{out}'\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$out/args\"\n\
             for last in \"$@\"; do :; done\ncp \"$last\" \"$out/printed.pdf\"\n\
             printf '%s' '{stdout}'\nprintf '%s' '{stderr}' >&2\nexit {exit}\n",
            out = dir.display()
        );
        std::fs::write(&script, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        script
    }

    #[tokio::test]
    async fn prints_only_the_bytes_whose_digest_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = b"%PDF-1.7\n% kofu test\n%%EOF\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pdf);
        let digest = hex(&Sha256::digest(pdf));
        let printer = Printer {
            command: fake_lp(
                dir.path(),
                0,
                "request id is madoguchi-12 (1 file(s))\n",
                "",
            ),
            queue: Some("madoguchi".into()),
        };
        let printed = printer
            .print(&b64, &digest.to_uppercase(), "住民票 20260507")
            .await
            .unwrap();
        assert_eq!(
            printed,
            Printed {
                queue: "madoguchi".into(),
                job: "madoguchi-12".into(),
                sha256: digest.clone(),
            }
        );
        assert_eq!(std::fs::read(dir.path().join("printed.pdf")).unwrap(), pdf);
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        let args: Vec<&str> = args.lines().collect();
        assert_eq!(args[..4], ["-d", "madoguchi", "-t", "住民票 20260507"]);
        assert_eq!(args.len(), 5, "{args:?}");

        // Refusals: nothing reaches lp.
        std::fs::remove_file(dir.path().join("printed.pdf")).unwrap();
        let other = hex(&Sha256::digest(b"another document"));
        for (b64, sha, code) in [
            (b64.as_str(), other.as_str(), "digest_mismatch"),
            (b64.as_str(), "", "digest_mismatch"),
            ("not base64!", digest.as_str(), "invalid_document"),
        ] {
            let e = printer.print(b64, sha, "t").await.unwrap_err();
            assert_eq!(e.code(), code, "{e}");
        }
        assert!(!dir.path().join("printed.pdf").exists());

        // The default destination: no -d, the queue read from the job ID.
        let default = Printer {
            command: printer.command.clone(),
            queue: None,
        };
        let printed = default.print(&b64, &digest, "t").await.unwrap();
        assert_eq!(printed.queue, "madoguchi");
        let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
        assert_eq!(args.lines().next(), Some("-t"));
    }

    #[tokio::test]
    async fn cups_failures_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = b"%PDF-1.7\n%%EOF\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pdf);
        let digest = hex(&Sha256::digest(pdf));
        for (command, code) in [
            (
                fake_lp(
                    dir.path(),
                    1,
                    "",
                    "lp: Error - no default destination available.",
                ),
                "no_printer",
            ),
            (
                fake_lp(dir.path(), 2, "", "lp: Error - the printer is on fire"),
                "print_failed",
            ),
            (fake_lp(dir.path(), 0, "ok", ""), "print_failed"),
            (dir.path().join("no-such-lp"), "no_printer"),
        ] {
            let printer = Printer {
                command: command.clone(),
                queue: None,
            };
            let e = printer.print(&b64, &digest, "t").await.unwrap_err();
            assert_eq!(e.code(), code, "{}: {e}", command.display());
        }
    }
}
