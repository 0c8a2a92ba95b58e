//! `kofu verify-scan`: checks a scan of a kiosk copy's back page. The scrambled image
//! is found by its registration marks, restored with the center's key and written
//! as a PNG; with `--front`, it is compared with the scan of the front page.
//!
//! Exit status: 0 when the restored image matches the front (or, without `--front`,
//! when it was restored), 1 when it does not match, 2 when an input cannot be read
//! or the marks cannot be found (the message names the file and the reason).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use kofu_render::kiosk::{GrayRaster, LayerKey, MATCH_THRESHOLD, front_to_grid, similarity};

/// Flags of `kofu verify-scan`.
#[derive(Args)]
pub struct VerifyScanArgs {
    /// PNG scan of the back page (whole page, upright, any resolution).
    scan: PathBuf,
    /// The center's kiosk layer key, in hexadecimal.
    #[arg(long, value_name = "HEX")]
    key: String,
    /// PNG scan of the front page to compare the restored image with.
    #[arg(long, value_name = "FRONT.png")]
    front: Option<PathBuf>,
    /// Where the restored image is written; default: SCAN.restored.png.
    #[arg(long, value_name = "RESTORED.png")]
    out: Option<PathBuf>,
}

fn unreadable(path: &Path, why: impl std::fmt::Display) -> ExitCode {
    eprintln!("kofu: verify-scan: {}: {why}", path.display());
    ExitCode::from(2)
}

fn read_png(path: &Path) -> Result<GrayRaster, ExitCode> {
    let bytes = std::fs::read(path).map_err(|e| unreadable(path, e))?;
    GrayRaster::from_png(&bytes).map_err(|e| unreadable(path, e))
}

/// Runs the command; the exit status is the verdict.
pub fn run(args: VerifyScanArgs) -> ExitCode {
    match verify(&args) {
        Ok(code) | Err(code) => code,
    }
}

fn verify(args: &VerifyScanArgs) -> Result<ExitCode, ExitCode> {
    let key = LayerKey::from_hex(&args.key).map_err(|e| {
        eprintln!("kofu: verify-scan: --key: {e}");
        ExitCode::from(2)
    })?;
    let scan = read_png(&args.scan)?;
    let front = match &args.front {
        Some(p) => Some(read_png(p)?),
        None => None,
    };
    let restored = kofu_render::kiosk::restore_from_scan(&scan, &key)
        .map_err(|e| unreadable(&args.scan, e))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.scan.with_extension("restored.png"));
    let png = restored.to_png().map_err(|e| unreadable(&out, e))?;
    std::fs::write(&out, png).map_err(|e| unreadable(&out, format!("cannot write: {e}")))?;
    let Some(front) = front else {
        println!("{}", serde_json::json!({"restored": out}));
        return Ok(ExitCode::SUCCESS);
    };
    let s = similarity(&restored, &front_to_grid(&front));
    let matched = s >= MATCH_THRESHOLD;
    println!(
        "{}",
        serde_json::json!({
            "restored": out,
            "similarity": (s * 1000.0).round() / 1000.0,
            "threshold": MATCH_THRESHOLD,
            "match": matched,
        })
    );
    if matched {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "kofu: verify-scan: the restored image does not match the front (similarity {s:.3} < {MATCH_THRESHOLD}): wrong key, another certificate, or a forgery"
        );
        Ok(ExitCode::from(1))
    }
}
