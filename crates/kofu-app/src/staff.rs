//! Staff: personal accounts, two-factor login (password and TOTP), sessions, and the
//! one table of who may do what.
//!
//! DOMAIN.md §6 asks for a personal ID per clerk with a role, two-factor login and a
//! lock-out after repeated failures, with every login and every change logged. Staff
//! rows are state; each change commits together with its audit entry. The instant is
//! always a parameter.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use hmac::{Hmac, Mac as _};
use kofu_store::staff::StaffRow;
use kofu_store::{AuditEntry, Store};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::{AppError, Office};

/// Consecutive failed logins after which an account is locked.
pub const MAX_FAILED_ATTEMPTS: i64 = 5;
/// Failed logins from one source that are never slowed down.
pub const FREE_FAILURES_PER_SOURCE: u32 = 10;
/// The longest wait a source is asked for between attempts.
pub const MAX_SOURCE_WAIT_SECS: i64 = 300;

/// Failed logins counted per source (the caller's address), in memory: past
/// [`FREE_FAILURES_PER_SOURCE`] in a row, each further attempt must wait twice as long
/// as the one before (2 s, 4 s, 8 s … up to [`MAX_SOURCE_WAIT_SECS`]) after the last
/// failure, so that guessing across many accounts, each short of its lockout, is
/// slowed down. A success from the source forgets it. Kept per process: several
/// servers each slow a source down on their own.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    /// Source → (consecutive failures, last failure in Unix seconds).
    failures: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (u32, i64)>>,
}

/// Sources remembered at most; past it, those quiet longest are forgotten first.
const THROTTLE_SOURCES: usize = 10_000;

impl LoginThrottle {
    /// Seconds `source` must still wait at `now`, if any.
    fn wait(&self, source: std::net::IpAddr, now: i64) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (count, last) = *map.get(&source)?;
        let over = count
            .checked_sub(FREE_FAILURES_PER_SOURCE)
            .filter(|o| *o > 0)?;
        let wait = 1i64
            .checked_shl(over)
            .unwrap_or(i64::MAX)
            .min(MAX_SOURCE_WAIT_SECS);
        let left = last.saturating_add(wait).saturating_sub(now);
        u64::try_from(left).ok().filter(|s| *s > 0)
    }

    fn failed(&self, source: std::net::IpAddr, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= THROTTLE_SOURCES && !map.contains_key(&source) {
            let cutoff = now - MAX_SOURCE_WAIT_SECS;
            map.retain(|_, (_, last)| *last > cutoff);
        }
        let entry = map.entry(source).or_insert((0, now));
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now;
    }

    fn succeeded(&self, source: std::net::IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&source);
    }
}

/// How long a lockout lasts after the last failed attempt, unless an administrator
/// unlocks it sooner: long enough to stop guessing, short enough that nobody can lock
/// every administrator out for good.
pub const LOCKOUT_SECS: i64 = 30 * 60;
/// The least number of characters in a password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password a login attempt may carry (Argon2 hashes whatever it is given).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// TOTP time step (RFC 6238), in seconds.
pub const TOTP_STEP_SECS: i64 = 30;
/// TOTP digits.
pub const TOTP_DIGITS: u32 = 6;
/// Bytes of a TOTP secret (160 bits, as RFC 4226 recommends for HMAC-SHA-1).
const TOTP_SECRET_BYTES: usize = 20;

/// What a member of staff is at the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A counter clerk.
    Clerk,
    /// The counter's supervisor: voids, the day close, reports.
    Supervisor,
    /// 支援措置責任者: the only one who may override a support-measure stop.
    SupportOfficer,
    /// Manages staff accounts; sees no resident data.
    Admin,
}

impl Role {
    /// Every role, for exhaustive tests and listings.
    pub const ALL: [Role; 4] = [
        Role::Clerk,
        Role::Supervisor,
        Role::SupportOfficer,
        Role::Admin,
    ];

    /// The stored and wire name.
    pub fn code(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::SupportOfficer => "support_officer",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Role, AppError> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| AppError::BadRequest {
                field: "role",
                reason: format!("unknown role {s:?} (clerk, supervisor, support_officer, admin)"),
            })
    }
}

/// What a session may ask for: every counter endpoint names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Look residents up.
    SearchResidents,
    /// Render a certificate without issuing it.
    PreviewCertificate,
    /// Issue a certificate at the counter.
    IssueCertificate,
    /// Issue despite a support-measure stop.
    OverrideSupportMeasure,
    /// Void an issued certificate.
    VoidIssuance,
    /// Count the cash of the day.
    CountCash,
    /// Sign the day off and seal it.
    SignOffDay,
    /// Read the supervisor report.
    ViewReport,
    /// Add, lock, unlock or deactivate staff accounts.
    ManageStaff,
    /// Change the town's settings: fees, kiosk hours, certifier and deputies, the
    /// official seal, terminals and printers.
    ManageSettings,
    /// Recompute the audit chain and check the ledgers against it.
    VerifyAudit,
    /// Prepare this terminal for offline work (replica, cached login, number range) and
    /// upload what it issued offline.
    WorkOffline,
    /// Review offline periods and resolve their flags.
    ReviewOffline,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 13] = [
        Action::SearchResidents,
        Action::PreviewCertificate,
        Action::IssueCertificate,
        Action::OverrideSupportMeasure,
        Action::VoidIssuance,
        Action::CountCash,
        Action::SignOffDay,
        Action::ViewReport,
        Action::ManageStaff,
        Action::ManageSettings,
        Action::VerifyAudit,
        Action::WorkOffline,
        Action::ReviewOffline,
    ];
}

/// The authorisation matrix: whether `role` may perform `action`. The one place it is
/// decided.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action as A;
    match role {
        Role::Clerk => matches!(
            action,
            A::SearchResidents
                | A::PreviewCertificate
                | A::IssueCertificate
                | A::CountCash
                | A::WorkOffline
        ),
        Role::Supervisor => matches!(
            action,
            A::SearchResidents
                | A::PreviewCertificate
                | A::IssueCertificate
                | A::VoidIssuance
                | A::CountCash
                | A::SignOffDay
                | A::ViewReport
                | A::VerifyAudit
                | A::WorkOffline
                | A::ReviewOffline
        ),
        Role::SupportOfficer => matches!(
            action,
            A::SearchResidents
                | A::PreviewCertificate
                | A::IssueCertificate
                | A::OverrideSupportMeasure
                | A::WorkOffline
        ),
        // Separation of duties: whoever manages accounts cannot look residents up.
        Role::Admin => matches!(
            action,
            A::ManageStaff | A::ManageSettings | A::ViewReport | A::VerifyAudit
        ),
    }
}

// ---------------------------------------------------------------------------------------
// TOTP (RFC 6238 over RFC 4226) and base32 (RFC 4648)

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 (RFC 4648) without padding, as authenticator apps read secrets.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored); `None` if invalid.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let value = BASE32.iter().position(|&a| a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The HOTP value (RFC 4226) of `secret` at `counter`, truncated to `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> Option<u32> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).ok()?;
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let code = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    Some(code % 10u32.checked_pow(digits)?)
}

/// The TOTP time step of an instant.
pub fn totp_step(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(TOTP_STEP_SECS)
}

/// The step within one step of `at` whose code is `code`, if any (clocks drift).
fn totp_match(secret: &[u8], code: &str, at: OffsetDateTime) -> Option<i64> {
    let code = code.trim();
    if code.len() != TOTP_DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = totp_step(at);
    (now - 1..=now + 1).find(|&step| {
        u64::try_from(step)
            .ok()
            .and_then(|s| hotp(secret, s, TOTP_DIGITS))
            .is_some_and(|expected| format!("{expected:06}") == code)
    })
}

// ---------------------------------------------------------------------------------------
// Passwords

/// Argon2id hash of a password in PHC string format, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt_bytes = random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| internal(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| internal(e.to_string()))
}

/// Whether `password` matches an Argon2 hash (any unreadable hash matches nothing).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash no password is known to match, verified for unknown logins.
fn unknown_login_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        // Fixed salt: this hash guards nothing, it only costs what a real one costs
        // (a unit test checks that it is a real Argon2id hash).
        SaltString::encode_b64(b"kofu-unknown-login")
            .ok()
            .and_then(|salt| {
                argon2::Argon2::default()
                    .hash_password(b"no account has this password", &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
}

pub(crate) fn internal(reason: String) -> AppError {
    AppError::BadRequest {
        field: "(server)",
        reason,
    }
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Use cases

/// A staff account to create.
#[derive(Clone)]
pub struct NewStaff {
    /// The personal login: 1..=64 of `a-z 0-9 . _ -`.
    pub login: String,
    /// The role.
    pub role: Role,
    /// The initial password (at least [`MIN_PASSWORD_CHARS`] characters).
    pub password: String,
}

impl std::fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaff")
            .field("login", &self.login)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// What a new account's holder needs once: the TOTP secret for their authenticator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// The TOTP secret, base32.
    pub totp_secret: String,
    /// The `otpauth://totp/…` URI (a QR code of it enrols an authenticator app).
    pub otpauth_uri: String,
}

/// A login attempt.
#[derive(Clone)]
pub struct Credentials {
    /// The login.
    pub login: String,
    /// The password.
    pub password: String,
    /// The current 6-digit TOTP code.
    pub totp: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// Who a session belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffSession {
    /// The login.
    pub login: String,
    /// The role.
    pub role: Role,
}

impl StaffSession {
    /// The session's right to `action`, or `Forbidden`.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if allowed(self.role, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden(action))
        }
    }
}

/// A session just started.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionStarted {
    /// The bearer token (given once, kept only as a digest).
    pub token: String,
    /// Whose.
    pub staff: StaffSession,
    /// Idle seconds after which it expires.
    pub expires_idle_secs: u64,
}

impl std::fmt::Debug for SessionStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStarted")
            .field("staff", &self.staff)
            .finish_non_exhaustive()
    }
}

/// A login of the enrolment alphabet and a password within its bound, or the field
/// that is not: the same check when an account is made and when one logs in.
fn check_login_and_password(login: &str, password: &str) -> Result<(), AppError> {
    if !valid_login(login) {
        return Err(AppError::BadRequest {
            field: "login",
            reason: "1 to 64 characters of a-z, 0-9, '.', '_', '-'".into(),
        });
    }
    check_password_bound(password)
}

/// A password no longer than Argon2 is ever asked to hash.
fn check_password_bound(password: &str) -> Result<(), AppError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::BadRequest {
            field: "password",
            reason: format!("at most {MAX_PASSWORD_BYTES} bytes"),
        });
    }
    Ok(())
}

/// A password an account may be given (enrolled or changed): bounded, and at least
/// [`MIN_PASSWORD_CHARS`] characters.
fn check_new_password(password: &str) -> Result<(), AppError> {
    check_password_bound(password)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::WeakPassword(MIN_PASSWORD_CHARS));
    }
    Ok(())
}

fn valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn role_of(code: &str) -> Result<Role, AppError> {
    code.parse()
}

/// Creates a staff account. `actor` is who creates it (`cli` from the command line,
/// or an admin's login). Needs only the store: enrolling staff loads no fonts.
pub async fn add_staff(
    store: &Store,
    new: &NewStaff,
    actor: &str,
    now: OffsetDateTime,
) -> Result<Enrolment, AppError> {
    check_login_and_password(&new.login, &new.password)?;
    check_new_password(&new.password)?;
    let password = new.password.clone();
    // Argon2 is deliberately slow: off the async threads.
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| internal(e.to_string()))??;
    let secret = base32_encode(&random_bytes::<TOTP_SECRET_BYTES>()?);
    let mut tx = store.begin_ledger().await?;
    let row = StaffRow {
        login: new.login.clone(),
        role: new.role.code().to_owned(),
        password_hash,
        totp_secret: secret.clone(),
        last_totp_step: 0,
        failed_attempts: 0,
        active: true,
        created_at: rfc3339(now),
        last_failed_unix: 0,
    };
    match tx.insert_staff(&row).await {
        Err(e) if e.is_unique_violation() => {
            return Err(AppError::DuplicateLogin(new.login.clone()));
        }
        other => other?,
    }
    tx.commit(AuditEntry {
        at: rfc3339(now),
        actor: actor.to_owned(),
        action: "staff.add".into(),
        target: new.login.clone(),
        detail: serde_json::json!({"role": new.role.code()}).to_string(),
    })
    .await?;
    Ok(enrolment_of(&new.login, secret))
}

/// The enrolment answer of a TOTP secret: the secret and its `otpauth://` URI.
fn enrolment_of(login: &str, secret: String) -> Enrolment {
    let issuer = "kofu";
    Enrolment {
        otpauth_uri: format!(
            "otpauth://totp/{issuer}:{login}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}"
        ),
        totp_secret: secret,
    }
}

/// How long an enrolment code may be used.
pub const ENROLMENT_CODE_VALID_SECS: i64 = 72 * 3600;

/// An invitation: the one-time code with which the member of staff enrols at first
/// login, shown once to the administrator, who never learns either factor.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StaffInvitation {
    /// The login.
    pub login: String,
    /// The role's code.
    pub role: String,
    /// The one-time code (`XXXX-XXXX-XXXX-XXXX`, 80 bits).
    pub enrolment_code: String,
    /// Until when it may be used (RFC 3339).
    pub expires_at: String,
}

/// Invites `login` with `role`, by `actor`: an account without a password, which its
/// owner completes at first login with the code answered here
/// ([`Office::enrol_own_account`]).
pub async fn invite_staff(
    store: &Store,
    login: &str,
    role: Role,
    actor: &str,
    now: OffsetDateTime,
) -> Result<StaffInvitation, AppError> {
    if !valid_login(login) {
        return Err(AppError::BadRequest {
            field: "login",
            reason: "1 to 64 characters of a-z, 0-9, '.', '_', '-'".into(),
        });
    }
    let code = crate::terminal::one_time_code()?;
    let expires = now + time::Duration::seconds(ENROLMENT_CODE_VALID_SECS);
    let mut tx = store.begin_ledger().await?;
    match tx
        .invite_staff(
            login,
            role.code(),
            &sha256_hex(crate::terminal::normalized_code(&code).as_bytes()),
            expires.unix_timestamp(),
            &rfc3339(now),
        )
        .await
    {
        Err(e) if e.is_unique_violation() => {
            return Err(AppError::DuplicateLogin(login.to_owned()));
        }
        other => other?,
    }
    tx.commit(AuditEntry {
        at: rfc3339(now),
        actor: actor.to_owned(),
        action: "staff.invite".into(),
        target: login.to_owned(),
        detail: serde_json::json!({"role": role.code(), "expires_at": rfc3339(expires)})
            .to_string(),
    })
    .await?;
    Ok(StaffInvitation {
        login: login.to_owned(),
        role: role.code().to_owned(),
        enrolment_code: code,
        expires_at: rfc3339(expires),
    })
}

/// A staff account as an administrator sees it (no hash, no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffInfo {
    /// The personal login.
    pub login: String,
    /// The role's code.
    pub role: String,
    /// Whether it may log in.
    pub active: bool,
    /// Whether repeated failures locked it.
    pub locked: bool,
    /// Invited, not yet enrolled by its owner.
    pub pending: bool,
    /// Consecutive failed logins.
    pub failed_attempts: i64,
    /// When it was created.
    pub created_at: String,
}

impl Office {
    /// Every staff account (administrators only).
    pub async fn staff_list(
        &self,
        session: &StaffSession,
        now: OffsetDateTime,
    ) -> Result<Vec<StaffInfo>, AppError> {
        self.authorize(session, Action::ManageStaff, now).await?;
        Ok(self
            .store
            .staff_list()
            .await?
            .into_iter()
            .map(|r| StaffInfo {
                locked: locked_at(&r, now.unix_timestamp()),
                pending: r.password_hash.is_empty(),
                login: r.login,
                role: r.role,
                active: r.active,
                failed_attempts: r.failed_attempts,
                created_at: r.created_at,
            })
            .collect())
    }

    /// An administrator invites a member of staff (see [`invite_staff`]).
    pub async fn invite_staff(
        &self,
        session: &StaffSession,
        login: &str,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<StaffInvitation, AppError> {
        self.authorize(session, Action::ManageStaff, now).await?;
        invite_staff(&self.store, login, role, &session.login, now).await
    }

    /// A member of staff completes their invited account at first login: their own
    /// password, and a TOTP secret made now and answered once. The code is the
    /// credential; a wrong, used or expired one is refused without telling which, and
    /// an attempt is audited without the code.
    pub async fn enrol_own_account(
        &self,
        login: &str,
        code: &str,
        password: &str,
        now: OffsetDateTime,
    ) -> Result<Enrolment, AppError> {
        check_login_and_password(login, password)?;
        if code.chars().count() > 64 {
            return Err(AppError::BadRequest {
                field: "enrolment_code",
                reason: "at most 64 characters".into(),
            });
        }
        check_new_password(password)?;
        let given = sha256_hex(crate::terminal::normalized_code(code).as_bytes());
        let owned = password.to_owned();
        let password_hash = tokio::task::spawn_blocking(move || hash_password(&owned))
            .await
            .map_err(|e| internal(e.to_string()))??;
        let secret = base32_encode(&random_bytes::<TOTP_SECRET_BYTES>()?);
        let mut tx = self.store.begin_ledger().await?;
        let row = tx.staff_for_update(login).await?;
        let enrolment = match &row {
            Some(r) if r.active && r.password_hash.is_empty() => tx.staff_enrolment(login).await?,
            _ => None,
        };
        let valid = enrolment.is_some_and(|(sha, expires)| {
            !sha.is_empty()
                && crate::terminal::constant_time_eq(sha.as_bytes(), given.as_bytes())
                && now.unix_timestamp() <= expires
        });
        if !valid {
            tx.commit(AuditEntry {
                at: rfc3339(now),
                actor: login.to_owned(),
                action: "staff.enrol_refused".into(),
                target: login.to_owned(),
                detail: "{}".into(),
            })
            .await?;
            return Err(AppError::EnrolmentRefused);
        }
        tx.complete_enrolment(login, &password_hash, &secret)
            .await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: login.to_owned(),
            action: "staff.enrolled".into(),
            target: login.to_owned(),
            detail: "{}".into(),
        })
        .await?;
        Ok(enrolment_of(login, secret))
    }

    /// Unlocks an account locked by failed logins (the failure count restarts).
    pub async fn unlock_staff(
        &self,
        session: &StaffSession,
        login: &str,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.authorize(session, Action::ManageStaff, now).await?;
        let mut tx = self.store.begin_ledger().await?;
        let row = tx
            .staff_for_update(login)
            .await?
            .ok_or_else(|| AppError::UnknownStaff(login.to_owned()))?;
        tx.set_login_state(login, 0, row.last_totp_step, row.last_failed_unix)
            .await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "staff.unlock".into(),
            target: login.to_owned(),
            detail: serde_json::json!({"failed_attempts": row.failed_attempts}).to_string(),
        })
        .await?;
        Ok(())
    }

    /// Closes an account (someone left, or a credential leaked): no more logins,
    /// and its open sessions end at once. An administrator cannot close their own.
    pub async fn deactivate_staff(
        &self,
        session: &StaffSession,
        login: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        self.authorize(session, Action::ManageStaff, now).await?;
        if reason.trim().is_empty() {
            return Err(AppError::BadRequest {
                field: "reason",
                reason: "closing an account needs its reason".into(),
            });
        }
        if login == session.login {
            return Err(AppError::BadRequest {
                field: "login",
                reason: "an administrator cannot close their own account".into(),
            });
        }
        let mut tx = self.store.begin_ledger().await?;
        tx.staff_for_update(login)
            .await?
            .ok_or_else(|| AppError::UnknownStaff(login.to_owned()))?;
        tx.set_staff_active(login, false).await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "staff.deactivate".into(),
            target: login.to_owned(),
            detail: serde_json::json!({"reason": reason.trim()}).to_string(),
        })
        .await?;
        Ok(())
    }

    /// Checks the session's right to `action`; a refusal is itself audited
    /// (`access.denied`), since a clerk probing for rights is what a supervisor must
    /// see.
    pub async fn authorize(
        &self,
        session: &StaffSession,
        action: Action,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let Err(refused) = session.require(action) else {
            return Ok(());
        };
        let tx = self.store.begin_ledger().await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "access.denied".into(),
            target: String::new(),
            detail: serde_json::json!({"action": action, "role": session.role.code()}).to_string(),
        })
        .await?;
        Err(refused)
    }

    /// Logs a member of staff in with password and TOTP code. Every attempt is audited;
    /// the fifth consecutive failure locks the account.
    pub async fn login(
        &self,
        creds: &Credentials,
        now: OffsetDateTime,
    ) -> Result<SessionStarted, AppError> {
        self.login_from(creds, None, now).await
    }

    /// [`Office::login`] from a known source address: failed attempts from it are
    /// slowed down (see [`LoginThrottle`]) before they can lock accounts; a source
    /// asked to wait gets [`AppError::TooManyAttempts`] and nothing is checked or
    /// recorded.
    pub async fn login_from(
        &self,
        creds: &Credentials,
        source: Option<std::net::IpAddr>,
        now: OffsetDateTime,
    ) -> Result<SessionStarted, AppError> {
        if let Some(wait) = source.and_then(|s| self.login_throttle.wait(s, now.unix_timestamp())) {
            return Err(AppError::TooManyAttempts(wait));
        }
        let result = self.login_checked(creds, now).await;
        if let Some(s) = source {
            match &result {
                Ok(_) => self.login_throttle.succeeded(s),
                Err(
                    AppError::InvalidCredentials
                    | AppError::AccountLocked
                    | AppError::AccountDisabled,
                ) => self.login_throttle.failed(s, now.unix_timestamp()),
                Err(_) => {}
            }
        }
        result
    }

    async fn login_checked(
        &self,
        creds: &Credentials,
        now: OffsetDateTime,
    ) -> Result<SessionStarted, AppError> {
        // Bounded before anything is read, hashed or written: a login no account can
        // have (every login was checked as it was enrolled) is refused as bad input,
        // never audited verbatim, and a huge password costs no Argon2 work.
        check_login_and_password(&creds.login, &creds.password)?;
        if creds.totp.len() > 16 {
            return Err(AppError::BadRequest {
                field: "totp",
                reason: "at most 16 characters".into(),
            });
        }
        // Verify before taking the write transaction: Argon2 takes a while and the
        // transaction holds SQLite's write lock. The counts are taken inside it.
        let stored = self.store.staff(&creds.login).await?;
        // An account failed twice or more in a row waits before its next attempt; the
        // wait is asked for, nothing is checked or recorded.
        if let Some(wait) = stored
            .as_ref()
            .and_then(|row| login_backoff(row, self.settings.login_backoff, now.unix_timestamp()))
        {
            return Err(AppError::TooManyAttempts(wait));
        }
        let (password_ok, totp_step) = match &stored {
            Some(row) => {
                let (password, hash) = (creds.password.clone(), row.password_hash.clone());
                let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
                    .await
                    .map_err(|e| internal(e.to_string()))?;
                let step = base32_decode(&row.totp_secret)
                    .and_then(|secret| totp_match(&secret, &creds.totp, now));
                (ok, step)
            }
            None => {
                // An unknown login costs the same Argon2 work as a known one, so that
                // the answer's timing does not tell which logins exist.
                let password = creds.password.clone();
                tokio::task::spawn_blocking(move || {
                    verify_password(&password, unknown_login_hash())
                })
                .await
                .map_err(|e| internal(e.to_string()))?;
                (false, None)
            }
        };
        let mut tx = self.store.begin_ledger().await?;
        let audit = |action: &str, detail: serde_json::Value| AuditEntry {
            at: rfc3339(now),
            actor: creds.login.clone(),
            action: action.to_owned(),
            target: creds.login.clone(),
            detail: detail.to_string(),
        };
        let Some(row) = tx.staff_for_update(&creds.login).await? else {
            tx.commit(audit(
                "staff.login_failed",
                serde_json::json!({"reason": "unknown_login"}),
            ))
            .await?;
            return Err(AppError::InvalidCredentials);
        };
        match judge(&row, password_ok, totp_step, now.unix_timestamp()) {
            Verdict::Inactive => {
                tx.commit(audit(
                    "staff.login_refused",
                    serde_json::json!({"reason": "inactive"}),
                ))
                .await?;
                Err(AppError::AccountDisabled)
            }
            Verdict::Locked => {
                tx.commit(audit(
                    "staff.login_refused",
                    serde_json::json!({"reason": "locked", "failed_attempts": row.failed_attempts}),
                ))
                .await?;
                Err(AppError::AccountLocked)
            }
            Verdict::Accept { step } => {
                let token = hex(&random_bytes::<32>()?);
                tx.set_login_state(&row.login, 0, step, row.last_failed_unix)
                    .await?;
                tx.start_session(
                    &sha256_hex(token.as_bytes()),
                    &row.login,
                    now.unix_timestamp(),
                )
                .await?;
                tx.commit(audit("staff.login", serde_json::json!({"role": row.role})))
                    .await?;
                Ok(SessionStarted {
                    token,
                    staff: StaffSession {
                        login: row.login,
                        role: role_of(&row.role)?,
                    },
                    expires_idle_secs: self.settings.session_idle.as_secs(),
                })
            }
            Verdict::Fail { failed, locked } => {
                tx.set_login_state(&row.login, failed, row.last_totp_step, now.unix_timestamp())
                    .await?;
                tx.commit(audit(
                    "staff.login_failed",
                    serde_json::json!({
                        "reason": if password_ok { "totp" } else { "password" },
                        "failed_attempts": failed,
                        "locked": locked,
                    }),
                ))
                .await?;
                Err(if locked {
                    AppError::AccountLocked
                } else {
                    AppError::InvalidCredentials
                })
            }
        }
    }

    /// The session of a bearer token, if open, not idle too long and its account still
    /// active; using it restarts its idle clock.
    pub async fn authenticate(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<StaffSession, AppError> {
        let digest = sha256_hex(token.as_bytes());
        let row = self
            .store
            .session(&digest)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        if !row.active {
            return Err(AppError::Unauthenticated);
        }
        let idle = i64::try_from(self.settings.session_idle.as_secs()).unwrap_or(i64::MAX);
        let now_unix = now.unix_timestamp();
        let lifetime = i64::try_from(self.settings.session_max.as_secs()).unwrap_or(i64::MAX);
        // Idle too long, or open too long however busy (a session left logged in on a
        // counter all day ends with the working day).
        if idle_expired(row.last_seen_unix, now_unix, idle)
            || now_unix.saturating_sub(row.started_unix) > lifetime
        {
            return Err(AppError::SessionExpired);
        }
        self.store.touch_session(&digest, now_unix).await?;
        Ok(StaffSession {
            login: row.login,
            role: role_of(&row.role)?,
        })
    }

    /// A member of staff changes their own password: the current one must be right
    /// (a session left open is not enough), the new one strong enough. The account's
    /// other sessions end; this one goes on. Audited, without either password.
    pub async fn change_password(
        &self,
        session: &StaffSession,
        token: &str,
        current: &str,
        new: &str,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        check_password_bound(current)?;
        check_new_password(new)?;
        if new == current {
            return Err(AppError::BadRequest {
                field: "new_password",
                reason: "the new password must differ from the current one".into(),
            });
        }
        let row = self
            .store
            .staff(&session.login)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let (current, hash, new) = (current.to_owned(), row.password_hash, new.to_owned());
        let new_hash = tokio::task::spawn_blocking(move || {
            if verify_password(&current, &hash) {
                hash_password(&new).map(Some)
            } else {
                Ok(None)
            }
        })
        .await
        .map_err(|e| internal(e.to_string()))??;
        let mut tx = self.store.begin_ledger().await?;
        let Some(new_hash) = new_hash else {
            tx.commit(AuditEntry {
                at: rfc3339(now),
                actor: session.login.clone(),
                action: "staff.password_change_refused".into(),
                target: session.login.clone(),
                detail: serde_json::json!({"reason": "current password wrong"}).to_string(),
            })
            .await?;
            return Err(AppError::InvalidCredentials);
        };
        tx.set_password(&session.login, &new_hash, &sha256_hex(token.as_bytes()))
            .await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "staff.password_changed".into(),
            target: session.login.clone(),
            detail: "{}".into(),
        })
        .await?;
        Ok(())
    }

    /// Ends the session of a bearer token.
    pub async fn logout(&self, token: &str, now: OffsetDateTime) -> Result<(), AppError> {
        let session = self.authenticate(token, now).await?;
        let mut tx = self.store.begin_ledger().await?;
        tx.end_session(&sha256_hex(token.as_bytes())).await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: session.login.clone(),
            action: "staff.logout".into(),
            target: session.login,
            detail: "{}".into(),
        })
        .await?;
        Ok(())
    }
}

/// What a login attempt on an existing account comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Both factors good: a session, the failure count reset, the step remembered.
    Accept { step: i64 },
    /// A factor is wrong: the count after this failure, and whether that locks it.
    Fail { failed: i64, locked: bool },
    /// Locked by earlier failures: refused whatever was typed.
    Locked,
    /// Deactivated.
    Inactive,
}

/// Judges a login attempt on the account state read inside the transaction.
/// Whether repeated failures lock the account at `now` (Unix seconds): locked from the
/// fifth consecutive failure until [`LOCKOUT_SECS`] after the last one.
fn locked_at(row: &StaffRow, now: i64) -> bool {
    row.failed_attempts >= MAX_FAILED_ATTEMPTS
        && now.saturating_sub(row.last_failed_unix) < LOCKOUT_SECS
}

/// How many seconds an account must still wait before its next login attempt at `now`
/// (Unix seconds), if any: from the second consecutive failure, `base` doubled for each
/// further one, counted from the last failure. A locked or closed account is judged
/// (and refused) as such instead.
fn login_backoff(row: &StaffRow, base: std::time::Duration, now: i64) -> Option<u64> {
    let base = i64::try_from(base.as_secs()).unwrap_or(i64::MAX);
    if base == 0 || !row.active || row.failed_attempts < 2 || locked_at(row, now) {
        return None;
    }
    let doublings = u32::try_from(row.failed_attempts - 2)
        .unwrap_or(u32::MAX)
        .min(16);
    let wait = base.saturating_mul(1 << doublings);
    let left = row
        .last_failed_unix
        .saturating_add(wait)
        .saturating_sub(now);
    u64::try_from(left).ok().filter(|l| *l > 0)
}

fn judge(row: &StaffRow, password_ok: bool, totp_step: Option<i64>, now: i64) -> Verdict {
    if !row.active {
        return Verdict::Inactive;
    }
    if locked_at(row, now) {
        return Verdict::Locked;
    }
    // A lockout that has run out starts the count afresh.
    let earlier_failures = if row.failed_attempts >= MAX_FAILED_ATTEMPTS {
        0
    } else {
        row.failed_attempts
    };
    // A code is good once: a step at or before the last one accepted is a replay.
    match (password_ok, totp_step.filter(|s| *s > row.last_totp_step)) {
        (true, Some(step)) => Verdict::Accept { step },
        _ => {
            let failed = earlier_failures + 1;
            Verdict::Fail {
                failed,
                locked: failed >= MAX_FAILED_ATTEMPTS,
            }
        }
    }
}

/// Whether a session last used at `last_seen` has been idle longer than `idle` at `now`
/// (Unix seconds).
fn idle_expired(last_seen: i64, now: i64, idle: i64) -> bool {
    now.saturating_sub(last_seen) > idle
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn totp_matches_the_rfc_6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        // (T, the 8-digit value of RFC 6238 appendix B)
        for (t, eight) in [
            (59i64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let at = OffsetDateTime::from_unix_timestamp(t).unwrap();
            let step = u64::try_from(totp_step(at)).unwrap();
            assert_eq!(hotp(secret, step, 8), Some(eight), "T={t}");
            assert_eq!(hotp(secret, step, 6), Some(eight % 1_000_000), "T={t}");
        }
        let at = OffsetDateTime::from_unix_timestamp(59).unwrap();
        assert_eq!(totp_match(secret, "287082", at), Some(1));
        assert_eq!(totp_match(secret, "287083", at), None);
        assert_eq!(totp_match(secret, "28708", at), None);
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        // RFC 4648 §10, without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(
            base32_decode("mzxw6ytboi======").unwrap(),
            b"foobar".to_vec()
        );
        assert_eq!(base32_decode("MZ1"), None);
    }

    #[test]
    fn argon2id_round_trip() {
        assert!(unknown_login_hash().starts_with("$argon2id$"));
        assert!(!verify_password("", unknown_login_hash()));
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        // A fresh salt each time.
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn authorisation_matrix_is_exactly_the_table() {
        use Action as A;
        // Columns: clerk, supervisor, support_officer, admin.
        let table: [(Action, [bool; 4]); 13] = [
            (A::SearchResidents, [true, true, true, false]),
            (A::PreviewCertificate, [true, true, true, false]),
            (A::IssueCertificate, [true, true, true, false]),
            (A::OverrideSupportMeasure, [false, false, true, false]),
            (A::VoidIssuance, [false, true, false, false]),
            (A::CountCash, [true, true, false, false]),
            (A::SignOffDay, [false, true, false, false]),
            (A::ViewReport, [false, true, false, true]),
            (A::ManageStaff, [false, false, false, true]),
            (A::ManageSettings, [false, false, false, true]),
            (A::VerifyAudit, [false, true, false, true]),
            (A::WorkOffline, [true, true, true, false]),
            (A::ReviewOffline, [false, true, false, false]),
        ];
        assert_eq!(
            table.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            Action::ALL.to_vec(),
            "the table lists every action once, in order"
        );
        for (action, row) in table {
            for (role, expected) in Role::ALL.into_iter().zip(row) {
                assert_eq!(
                    allowed(role, action),
                    expected,
                    "{} × {action:?}",
                    role.code()
                );
            }
        }
    }

    fn account(failed_attempts: i64) -> StaffRow {
        StaffRow {
            login: "clerk1".into(),
            role: "clerk".into(),
            password_hash: String::new(),
            totp_secret: String::new(),
            last_totp_step: 100,
            failed_attempts,
            active: true,
            created_at: String::new(),
            last_failed_unix: NOW - 60,
        }
    }

    /// The instant the unit tests judge at (Unix seconds).
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_source_is_slowed_down_after_its_free_failures() {
        let t = LoginThrottle::default();
        let ip: std::net::IpAddr = [192, 0, 2, 7].into();
        let other: std::net::IpAddr = [192, 0, 2, 8].into();
        for _ in 0..FREE_FAILURES_PER_SOURCE {
            assert_eq!(t.wait(ip, NOW), None);
            t.failed(ip, NOW);
        }
        assert_eq!(t.wait(ip, NOW), None, "ten failures are free");
        t.failed(ip, NOW);
        assert_eq!(t.wait(ip, NOW), Some(2), "the 11th asks for 2 s");
        assert_eq!(t.wait(ip, NOW + 2), None);
        t.failed(ip, NOW + 2);
        assert_eq!(t.wait(ip, NOW + 2), Some(4));
        for _ in 0..20 {
            t.failed(ip, NOW + 2);
        }
        assert_eq!(
            t.wait(ip, NOW + 2),
            Some(MAX_SOURCE_WAIT_SECS as u64),
            "capped"
        );
        assert_eq!(t.wait(other, NOW), None, "per source");
        t.succeeded(ip);
        assert_eq!(t.wait(ip, NOW + 2), None, "a success forgets the source");
    }

    #[test]
    fn an_account_failing_again_and_again_waits_longer_each_time() {
        let base = std::time::Duration::from_secs(5);
        let check = |failed: i64, since_last: i64, expected: Option<u64>| {
            let mut row = account(failed);
            row.last_failed_unix = NOW - since_last;
            assert_eq!(
                login_backoff(&row, base, NOW),
                expected,
                "{failed} failures, {since_last} s ago"
            );
        };
        check(0, 0, None);
        check(1, 0, None);
        check(2, 0, Some(5));
        check(2, 4, Some(1));
        check(2, 5, None);
        check(3, 0, Some(10));
        check(4, 3, Some(17));
        // Locked: refused as locked, not asked to wait.
        check(5, 0, None);
        let mut closed = account(3);
        closed.active = false;
        closed.last_failed_unix = NOW;
        assert_eq!(login_backoff(&closed, base, NOW), None);
        assert_eq!(
            login_backoff(&account(3), std::time::Duration::ZERO, NOW),
            None
        );
    }

    #[test]
    fn a_lockout_ends_by_time() {
        let mut locked = account(5);
        // Locked for LOCKOUT_SECS after the last failure …
        locked.last_failed_unix = NOW - LOCKOUT_SECS + 1;
        assert_eq!(judge(&locked, true, Some(101), NOW), Verdict::Locked);
        // … then open again, the count starting afresh.
        locked.last_failed_unix = NOW - LOCKOUT_SECS;
        assert_eq!(
            judge(&locked, true, Some(101), NOW),
            Verdict::Accept { step: 101 }
        );
        assert_eq!(
            judge(&locked, false, Some(101), NOW),
            Verdict::Fail {
                failed: 1,
                locked: false
            }
        );
    }

    #[test]
    fn fifth_consecutive_failure_locks_and_a_locked_account_refuses_good_factors() {
        let mut row = account(0);
        for n in 1..=5 {
            let verdict = judge(&row, false, Some(101), NOW);
            assert_eq!(
                verdict,
                Verdict::Fail {
                    failed: n,
                    locked: n == 5
                }
            );
            row.failed_attempts = n;
        }
        assert_eq!(judge(&row, true, Some(101), NOW), Verdict::Locked);
        // Four failures then a success: the account is still open.
        assert_eq!(
            judge(&account(4), true, Some(101), NOW),
            Verdict::Accept { step: 101 }
        );
        // A wrong TOTP counts like a wrong password.
        assert_eq!(
            judge(&account(4), true, None, NOW),
            Verdict::Fail {
                failed: 5,
                locked: true
            }
        );
        let mut inactive = account(0);
        inactive.active = false;
        assert_eq!(judge(&inactive, true, Some(101), NOW), Verdict::Inactive);
    }

    #[test]
    fn a_totp_code_is_accepted_once() {
        assert_eq!(
            judge(&account(0), true, Some(100), NOW),
            Verdict::Fail {
                failed: 1,
                locked: false
            }
        );
        assert_eq!(
            judge(&account(0), true, Some(99), NOW),
            Verdict::Fail {
                failed: 1,
                locked: false
            }
        );
        assert_eq!(
            judge(&account(0), true, Some(101), NOW),
            Verdict::Accept { step: 101 }
        );
    }

    #[test]
    fn sessions_expire_after_the_idle_time_only() {
        let idle = 15 * 60;
        assert!(!idle_expired(1_000, 1_000, idle));
        assert!(!idle_expired(1_000, 1_000 + idle, idle));
        assert!(idle_expired(1_000, 1_000 + idle + 1, idle));
        assert!(!idle_expired(i64::MAX, i64::MIN, idle));
    }

    #[test]
    fn roles_parse_from_their_codes_only() {
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>().unwrap(), role);
        }
        assert!("Clerk".parse::<Role>().is_err());
        assert!("root".parse::<Role>().is_err());
    }
}
