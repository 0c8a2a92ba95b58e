//! Embedded mode: the terminal's own SQLite database in the data directory. In demo
//! mode (`KOFU_COUNTER_DEMO=1`, which `scripts/demo.sh` sets) a first run seeds the
//! demo town (kofu-demo) and one demo account per role, so that the app works out of
//! the box; otherwise a first run has no staff and the app asks for the first
//! administrator ([`enrol_first_admin`]), who alone knows their password and TOTP.
//!
//! Seeding goes through kofu-app's use cases (`import_feed`, `staff::add_staff`) like
//! any other import or enrolment, and happens once: `demo-staff.json` (mode 0600,
//! written last) is the marker. A database that already holds data but has no such
//! file is used as it is, without demo accounts.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use kofu_app::staff::{NewStaff, Role};
use kofu_app::{Office, OfficeSettings};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ShellError;

/// The database file in the data directory.
pub const DATABASE_FILE: &str = "kofu.sqlite";
/// The demo accounts' file in the data directory (with their secrets; mode 0600).
pub const DEMO_STAFF_FILE: &str = "demo-staff.json";
/// Residents in the demo town.
pub const DEMO_RESIDENTS: u64 = 2000;
/// The demo town's seed.
pub const DEMO_SEED: u64 = 1;

/// The demo accounts: login, role, password (one per role).
pub const DEMO_ACCOUNTS: [(&str, Role, &str); 4] = [
    ("madoguchi", Role::Clerk, "madoguchi-demo-2026"),
    ("kakaricho", Role::Supervisor, "kakaricho-demo-2026"),
    ("shien", Role::SupportOfficer, "shien-demo-2026!"),
    ("kanri", Role::Admin, "kanri-demo-2026!"),
];

/// A demo account as kept in `demo-staff.json`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    /// The login.
    pub login: String,
    /// The role's code (`clerk`, …).
    pub role: String,
    /// The password.
    pub password: String,
    /// The TOTP secret (base32), as enrolment answered it.
    pub totp_secret: String,
}

impl std::fmt::Debug for DemoAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoAccount")
            .field("login", &self.login)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A demo account as `app_info` shows it: no TOTP secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShownDemoAccount {
    /// The login.
    pub login: String,
    /// The role's code.
    pub role: String,
    /// The password (a demo's, shown on the login screen).
    pub password: String,
}

/// The demo accounts of an embedded terminal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoStaff {
    /// The accounts, one per role.
    pub accounts: Vec<DemoAccount>,
}

impl DemoStaff {
    /// The accounts without their secrets.
    pub fn shown(&self) -> Vec<ShownDemoAccount> {
        self.accounts
            .iter()
            .map(|a| ShownDemoAccount {
                login: a.login.clone(),
                role: a.role.clone(),
                password: a.password.clone(),
            })
            .collect()
    }

    /// The current TOTP code of a demo account, with kofu-app's TOTP (RFC 6238). A
    /// code is good once: when the step last used (`last_used`, from the account) is
    /// not before the current one, the next step's code, which the server accepts too.
    pub fn totp(
        &self,
        login: &str,
        now: OffsetDateTime,
        last_used: Option<i64>,
    ) -> Result<String, ShellError> {
        let account = self
            .accounts
            .iter()
            .find(|a| a.login == login)
            .ok_or_else(|| ShellError::NotDemo(login.to_owned()))?;
        let secret = kofu_app::staff::base32_decode(&account.totp_secret)
            .ok_or_else(|| ShellError::Internal(format!("{DEMO_STAFF_FILE}: bad secret")))?;
        let current = kofu_app::staff::totp_step(now);
        let step = u64::try_from(last_used.map_or(current, |last| current.max(last + 1)))
            .map_err(|_| ShellError::Internal("the clock is before 1970".into()))?;
        let code = kofu_app::staff::hotp(&secret, step, kofu_app::staff::TOTP_DIGITS)
            .ok_or_else(|| ShellError::Internal("TOTP".into()))?;
        Ok(format!("{code:06}"))
    }

    /// Reads `demo-staff.json` from the data directory; `None` if there is none.
    pub fn read(data_dir: &Path) -> Result<Option<DemoStaff>, ShellError> {
        let path = data_dir.join(DEMO_STAFF_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| ShellError::Io {
                    what: format!("reading {}", path.display()),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ShellError::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Writes `demo-staff.json` whole (a temporary file renamed), readable by the
    /// owner only.
    fn write(&self, data_dir: &Path) -> Result<(), ShellError> {
        let path = data_dir.join(DEMO_STAFF_FILE);
        let partial = data_dir.join(format!("{DEMO_STAFF_FILE}.partial"));
        let what = || format!("writing {}", path.display());
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| ShellError::Internal(e.to_string()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&partial)
            .map_err(|e| ShellError::io(what(), e))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|e| ShellError::io(what(), e))?;
        std::fs::rename(&partial, &path).map_err(|e| ShellError::io(what(), e))
    }
}

/// The embedded office, opened.
#[derive(Debug)]
pub struct Embedded {
    /// The office over the terminal's database.
    pub office: Office,
    /// The demo accounts, when this is a demo terminal.
    pub demo: Option<DemoStaff>,
    /// The town's name, from its municipality record (empty before any import).
    pub town: String,
}

/// The database URL of a data directory.
pub fn database_url(data_dir: &Path) -> String {
    format!("sqlite:{}", data_dir.join(DATABASE_FILE).display())
}

/// Opens (creating and migrating) the database in `data_dir`; on first run in demo
/// mode imports the demo town and enrols the demo staff.
pub async fn open(
    data_dir: &Path,
    fonts: Arc<kofu_render::FontBook>,
    demo_mode: bool,
    now: OffsetDateTime,
) -> Result<Embedded, ShellError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| ShellError::io(format!("creating {}", data_dir.display()), e))?;
    let store = kofu_store::Store::open(&database_url(data_dir)).await?;
    let demo = match DemoStaff::read(data_dir)? {
        Some(demo) => Some(demo),
        None if demo_mode && is_empty(&store).await? => Some(seed(&store, data_dir, now).await?),
        None if is_empty(&store).await? => None,
        None => {
            note_not_a_demo(data_dir);
            None
        }
    };
    let town = store
        .municipality()
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let office = Office::new(
        store,
        fonts,
        OfficeSettings::default(),
        &uuid::Uuid::new_v4().simple().to_string(),
    )
    .await?;
    Ok(Embedded { office, demo, town })
}

fn note_not_a_demo(data_dir: &Path) {
    eprintln!(
        "kofu-counter: {} holds data but no {DEMO_STAFF_FILE}: no demo accounts (remove the \
         directory to start a fresh demo)",
        data_dir.display()
    );
}

/// Enrols the first administrator of a terminal that has no staff at all (a first
/// start outside demo mode): their own password, a TOTP secret answered once. Refused
/// (`not_first`) once anyone is enrolled.
pub async fn enrol_first_admin(
    store: &kofu_store::Store,
    login: &str,
    password: &str,
    now: OffsetDateTime,
) -> Result<kofu_app::staff::Enrolment, ShellError> {
    if !store.staff_list().await?.is_empty() {
        return Err(ShellError::NotFirst);
    }
    Ok(kofu_app::staff::add_staff(
        store,
        &NewStaff {
            login: login.to_owned(),
            role: Role::Admin,
            password: password.to_owned(),
        },
        "first-start",
        now,
    )
    .await?)
}

/// A database with no registry data and no staff.
async fn is_empty(store: &kofu_store::Store) -> Result<bool, ShellError> {
    Ok(store.municipality().await?.is_none() && store.staff_list().await?.is_empty())
}

/// Imports the demo town and enrols the demo accounts; writes `demo-staff.json` last.
async fn seed(
    store: &kofu_store::Store,
    data_dir: &Path,
    now: OffsetDateTime,
) -> Result<DemoStaff, ShellError> {
    let feed = tokio::task::spawn_blocking(|| {
        let mut feed = Vec::with_capacity(8 << 20);
        kofu_demo::write_town(
            &kofu_demo::TownConfig::new(DEMO_RESIDENTS, DEMO_SEED),
            &mut feed,
        )
        .map(|_| feed)
    })
    .await
    .map_err(|e| ShellError::Internal(e.to_string()))?
    .map_err(|e| ShellError::Internal(format!("generating the demo town: {e}")))?;
    kofu_app::import_feed(store, std::io::Cursor::new(feed)).await?;
    let mut accounts = Vec::with_capacity(DEMO_ACCOUNTS.len());
    for (login, role, password) in DEMO_ACCOUNTS {
        let enrolment = kofu_app::staff::add_staff(
            store,
            &NewStaff {
                login: login.to_owned(),
                role,
                password: password.to_owned(),
            },
            "demo-seed",
            now,
        )
        .await?;
        accounts.push(DemoAccount {
            login: login.to_owned(),
            role: role.code().to_owned(),
            password: password.to_owned(),
            totp_secret: enrolment.totp_secret,
        });
    }
    let demo = DemoStaff { accounts };
    demo.write(data_dir)?;
    Ok(demo)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn demo_passwords_are_long_enough_and_every_role_has_one_account() {
        for (login, _, password) in DEMO_ACCOUNTS {
            assert!(
                password.chars().count() >= kofu_app::staff::MIN_PASSWORD_CHARS,
                "{login}"
            );
        }
        let roles: Vec<Role> = DEMO_ACCOUNTS.iter().map(|(_, r, _)| *r).collect();
        assert_eq!(roles, Role::ALL);
    }

    #[test]
    fn demo_totp_is_rfc_6238_and_only_for_demo_accounts() {
        // RFC 6238's SHA-1 secret, base32.
        let demo = DemoStaff {
            accounts: vec![DemoAccount {
                login: "madoguchi".into(),
                role: "clerk".into(),
                password: "madoguchi-demo-2026".into(),
                totp_secret: kofu_app::staff::base32_encode(b"12345678901234567890"),
            }],
        };
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (2_000_000_000, "279037"),
        ] {
            let at = OffsetDateTime::from_unix_timestamp(t).unwrap();
            assert_eq!(demo.totp("madoguchi", at, None).unwrap(), code, "T={t}");
            // The step of T=59 (1) already used: the next step's code (T=60..89).
            let step = kofu_app::staff::totp_step(at);
            let next = OffsetDateTime::from_unix_timestamp(t + 30).unwrap();
            assert_eq!(
                demo.totp("madoguchi", at, Some(step)).unwrap(),
                demo.totp("madoguchi", next, None).unwrap()
            );
            assert_eq!(demo.totp("madoguchi", at, Some(step - 1)).unwrap(), code);
        }
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            demo.totp("kanri", now, None).unwrap_err().code(),
            "not_demo"
        );
        let shown = serde_json::to_value(demo.shown()).unwrap();
        assert_eq!(
            shown,
            serde_json::json!([{"login": "madoguchi", "role": "clerk",
                                "password": "madoguchi-demo-2026"}])
        );
        assert!(!format!("{demo:?}").contains("GEZDG"), "no secret in Debug");
    }
}
