//! The invariants of ARCHITECTURE.md that a test can check: crates depend only
//! downward (read from `cargo metadata`, not from a list kept by hand elsewhere), and
//! the domain and the rendering core read no clock and no file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first: a kofu crate may depend only on crates of lower layers.
const LAYERS: &[&[&str]] = &[
    &["kofu-domain"],
    &["kofu-feed", "kofu-render", "kofu-store", "kofu-demo"],
    &["kofu-app", "kofu-relay-sim"],
    &["kofu-server"],
    &["kofu-counter", "kofu-e2e"],
];

fn layer_of(name: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&name))
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn crates_depend_only_on_lower_layers() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let deps = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            // Normal dependencies: a test may reach further down or sideways.
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .filter(|d| d.starts_with("kofu-"))
            .map(str::to_owned)
            .collect();
        edges.insert(name.to_owned(), deps);
    }
    let mut wrong = Vec::new();
    for (name, deps) in &edges {
        let Some(mine) = layer_of(name) else {
            wrong.push(format!("{name} is in no layer: add it to LAYERS"));
            continue;
        };
        for dep in deps {
            match layer_of(dep) {
                Some(theirs) if theirs < mine => {}
                _ => wrong.push(format!("{name} (layer {mine}) depends on {dep}")),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies against the layers:\n{}",
        wrong.join("\n")
    );
    // The rules engine and the rendering core stand alone.
    assert!(edges["kofu-domain"].is_empty());
    assert_eq!(
        edges["kofu-render"].iter().collect::<Vec<_>>(),
        ["kofu-domain"]
    );
}

/// What reading a clock or a file looks like in Rust source.
const IO: &[&str] = &[
    "now_utc(",
    "now_local(",
    "SystemTime::now",
    "Instant::now",
    "std::fs",
    "tokio::",
    "std::net",
    "std::env::var",
];

#[test]
fn domain_and_render_read_no_clock_and_no_file() {
    let mut found = Vec::new();
    for krate in ["kofu-domain", "kofu-render"] {
        let mut files = Vec::new();
        collect_rs(
            &workspace().join("crates").join(krate).join("src"),
            &mut files,
        );
        assert!(!files.is_empty(), "{krate}: no source found");
        for file in files {
            // The one IO edge: fonts read from files, behind its own feature.
            if file.ends_with("fonts_fs.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            // Unit-test modules may read fixtures: their lines are blanked out.
            let code = without_test_modules(&text);
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for pattern in IO {
                    if line.contains(pattern) {
                        found.push(format!("{}:{}: {pattern}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the domain and the rendering core take time and files as inputs:\n{}",
        found.join("\n")
    );
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `text` with every `#[cfg(test)] mod … { … }` blanked out line for line (braces
/// counted; line numbers kept).
fn without_test_modules(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth: Option<i64> = None;
    let mut pending = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if depth.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending = true;
        }
        if pending && depth.is_none() && trimmed.starts_with("mod ") {
            depth = Some(0);
            pending = false;
        }
        if let Some(d) = depth.as_mut() {
            *d += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            out.push('\n');
            if *d <= 0 && line.contains('}') {
                depth = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn test_modules_are_blanked_and_code_after_them_is_read() {
    let text = "fn a() {}\n#[cfg(test)]\nmod tests {\n    fn t() { x }\n}\nfn b() {}\n";
    assert_eq!(
        without_test_modules(text),
        "fn a() {}\n#[cfg(test)]\n\n\n\nfn b() {}\n"
    );
}
