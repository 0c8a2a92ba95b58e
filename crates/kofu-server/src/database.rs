//! Which database a command uses: `--database`, else `$KOFU_DATABASE`, else the
//! embedded SQLite file under the user's data directory.

use anyhow::Context as _;

/// The URL of the embedded default database, creating its directory.
pub fn default_url() -> anyhow::Result<String> {
    let dirs = directories::ProjectDirs::from("jp", "example", "kofu")
        .context("cannot find a home directory for the embedded database; pass --database")?;
    let dir = dirs.data_dir();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(format!("sqlite:{}", dir.join("kofu.sqlite").display()))
}

/// Resolves the database URL for a command.
pub fn url(flag: Option<String>) -> anyhow::Result<String> {
    match flag.or_else(|| {
        std::env::var("KOFU_DATABASE")
            .ok()
            .filter(|s| !s.is_empty())
    }) {
        Some(url) => Ok(url),
        None => default_url(),
    }
}

/// Opens (and migrates) the store a command uses.
pub async fn open(flag: Option<String>) -> anyhow::Result<kofu_store::Store> {
    let url = url(flag)?;
    kofu_store::Store::open(&url)
        .await
        .with_context(|| format!("cannot open database {}", redact(&url)))
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
