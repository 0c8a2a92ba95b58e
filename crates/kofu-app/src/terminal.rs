//! Counter terminals' own identity: an administrator enrols a terminal by name and
//! gets a one-time code; the terminal makes its own Ed25519 key pair and registers
//! the public half with the code; from then on it signs every offline request (the
//! replica, the kit, the upload) with the private half, which never leaves it.
//! Revoking a terminal stops it at its next request.
//!
//! A signature covers the terminal, the method, the path with its query, the instant,
//! the digest of the staff session's token and the digest of the body
//! ([`request_message`]): it cannot be moved to another request, another session or
//! another body, and it is taken only within [`PROOF_SKEW_SECS`] of the server's clock.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use kofu_store::AuditEntry;
use kofu_store::terminal::TerminalIdentity;
use serde::Serialize;
use time::OffsetDateTime;

use crate::kiosk::rfc3339;
use crate::staff::{Action, StaffSession, hex, random_bytes, sha256_hex};
use crate::{AppError, Office};

/// How long an enrolment code may be used.
pub const CODE_VALID_SECS: i64 = 24 * 3600;
/// How far a signed request's instant may be from the server's clock.
pub const PROOF_SKEW_SECS: i64 = 300;
/// The characters of an enrolment code: no 0/O, 1/I, so it reads aloud and types
/// without doubt.
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// An enrolment: the code the terminal registers with, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TerminalEnrolment {
    /// The terminal.
    pub name: String,
    /// The one-time code (`XXXX-XXXX-XXXX-XXXX`, 80 bits).
    pub code: String,
    /// Until when it may be used (RFC 3339).
    pub expires_at: String,
}

/// A terminal as an administrator sees it (never its code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TerminalInfo {
    /// The terminal.
    pub name: String,
    /// `pending`, `active` or `revoked`.
    pub state: String,
    /// The first 16 hex digits of the sha256 of its public key (empty: none yet).
    pub key_fingerprint: String,
    /// Who enrolled it, and when.
    pub enrolled_by: String,
    /// When it was enrolled.
    pub enrolled_at: String,
    /// When it registered its key.
    pub registered_at: String,
    /// When it was revoked.
    pub revoked_at: String,
}

impl From<&TerminalIdentity> for TerminalInfo {
    fn from(t: &TerminalIdentity) -> Self {
        let key_fingerprint = if t.public_key.is_empty() {
            String::new()
        } else {
            sha256_hex(t.public_key.as_bytes())[..16].to_owned()
        };
        TerminalInfo {
            name: t.name.clone(),
            state: t.state.clone(),
            key_fingerprint,
            enrolled_by: t.enrolled_by.clone(),
            enrolled_at: t.enrolled_at.clone(),
            registered_at: t.registered_at.clone(),
            revoked_at: t.revoked_at.clone(),
        }
    }
}

/// What a terminal's request carries to prove where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TerminalProof {
    /// The terminal it claims to be.
    pub terminal: String,
    /// When it signed (Unix seconds).
    pub unix: i64,
    /// The sha256 (hex) of the request's body.
    pub body_sha256: String,
    /// The Ed25519 signature of [`request_message`] (hex).
    pub signature: String,
}

/// A terminal whose proof verified: only [`Office::verify_terminal`] makes one, so a
/// use case that takes it cannot be reached without the proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTerminal {
    name: String,
    key_id: String,
    body_sha256: String,
}

impl VerifiedTerminal {
    /// The terminal's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `body` is the one the signature covers.
    pub fn check_body(&self, body: &[u8]) -> Result<(), AppError> {
        if sha256_hex(body) == self.body_sha256 {
            Ok(())
        } else {
            Err(unverified("the body is not the one the terminal signed"))
        }
    }
}

/// The bytes a terminal signs for one request.
pub fn request_message(
    terminal: &str,
    method: &str,
    path_and_query: &str,
    unix: i64,
    token: &str,
    body_sha256: &str,
) -> Vec<u8> {
    format!(
        "kofu terminal request v1\n{terminal}\n{}\n{path_and_query}\n{unix}\n{}\n{body_sha256}",
        method.to_ascii_uppercase(),
        sha256_hex(token.as_bytes()),
    )
    .into_bytes()
}

/// A terminal's key pair, kept by the terminal alone.
pub struct TerminalKey(SigningKey);

impl std::fmt::Debug for TerminalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private half never reaches a log.
        f.debug_tuple("TerminalKey")
            .field(&self.public_hex())
            .finish()
    }
}

impl TerminalKey {
    /// A new key pair from the OS's randomness.
    pub fn generate() -> Result<TerminalKey, AppError> {
        Ok(TerminalKey(SigningKey::from_bytes(&random_bytes::<32>()?)))
    }

    /// The key pair of a kept private half (64 hex digits).
    pub fn from_secret_hex(text: &str) -> Result<TerminalKey, AppError> {
        let bytes = unhex::<32>(text).ok_or_else(|| AppError::BadRequest {
            field: "terminal_key",
            reason: "not 32 bytes of hex".into(),
        })?;
        Ok(TerminalKey(SigningKey::from_bytes(&bytes)))
    }

    /// The private half (hex), to keep on the terminal.
    pub fn secret_hex(&self) -> String {
        hex(self.0.as_bytes())
    }

    /// The public half (hex), to register.
    pub fn public_hex(&self) -> String {
        hex(self.0.verifying_key().as_bytes())
    }

    /// The proof for one request of `terminal` at `now`.
    pub fn sign(
        &self,
        terminal: &str,
        method: &str,
        path_and_query: &str,
        token: &str,
        body: &[u8],
        now: OffsetDateTime,
    ) -> TerminalProof {
        let unix = now.unix_timestamp();
        let body_sha256 = sha256_hex(body);
        let message = request_message(terminal, method, path_and_query, unix, token, &body_sha256);
        TerminalProof {
            terminal: terminal.to_owned(),
            unix,
            body_sha256,
            signature: hex(&self.0.sign(&message).to_bytes()),
        }
    }
}

/// Exactly `N` bytes of hex, or `None`.
fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn unverified(why: impl Into<String>) -> AppError {
    AppError::TerminalUnverified(why.into())
}

/// A one-time code of 16 characters (80 bits) in four groups: `XXXX-XXXX-XXXX-XXXX`.
pub(crate) fn one_time_code() -> Result<String, AppError> {
    let raw = random_bytes::<16>()?;
    let chars: Vec<char> = raw
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A code as typed: upper case, without dashes or spaces.
pub(crate) fn normalized_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Enrols `name` (again), by `actor`: a new one-time code, any earlier key or code
/// void. The counter API's and the console's (`kofu terminal enroll`) enrolment.
pub async fn enrol_terminal(
    store: &kofu_store::Store,
    name: &str,
    actor: &str,
    now: OffsetDateTime,
) -> Result<TerminalEnrolment, AppError> {
    crate::counter::printable("name", name)?;
    if name.chars().count() > 32 || name.contains('/') || name.trim() != name {
        return Err(AppError::BadRequest {
            field: "name",
            reason: "1 to 32 characters, no '/' and no surrounding spaces".into(),
        });
    }
    let code = one_time_code()?;
    let expires = now + time::Duration::seconds(CODE_VALID_SECS);
    let mut tx = store.begin_ledger().await?;
    tx.put_terminal(&TerminalIdentity {
        name: name.to_owned(),
        state: "pending".into(),
        code_sha256: sha256_hex(normalized_code(&code).as_bytes()),
        code_expires_unix: expires.unix_timestamp(),
        public_key: String::new(),
        key_id: hex(&random_bytes::<16>()?),
        enrolled_by: actor.to_owned(),
        enrolled_at: rfc3339(now),
        registered_at: String::new(),
        revoked_at: String::new(),
    })
    .await?;
    tx.commit(AuditEntry {
        at: rfc3339(now),
        actor: actor.to_owned(),
        action: "terminal.enrol".into(),
        target: name.to_owned(),
        detail: serde_json::json!({"expires_at": rfc3339(expires)}).to_string(),
    })
    .await?;
    Ok(TerminalEnrolment {
        name: name.to_owned(),
        code,
        expires_at: rfc3339(expires),
    })
}

/// Revokes `name`, by `actor`: its next signed request is refused, and any unused
/// code with it. The counter API's and the console's (`kofu terminal revoke`).
pub async fn revoke_terminal(
    store: &kofu_store::Store,
    name: &str,
    actor: &str,
    now: OffsetDateTime,
) -> Result<TerminalInfo, AppError> {
    let mut tx = store.begin_ledger().await?;
    if tx.terminal_identity_for_update(name).await?.is_none() {
        return Err(AppError::BadRequest {
            field: "name",
            reason: format!("no terminal {name:?} is enrolled"),
        });
    }
    tx.revoke_terminal(name, &rfc3339(now)).await?;
    tx.commit(AuditEntry {
        at: rfc3339(now),
        actor: actor.to_owned(),
        action: "terminal.revoke".into(),
        target: name.to_owned(),
        detail: "{}".into(),
    })
    .await?;
    store
        .terminal_identity(name)
        .await?
        .as_ref()
        .map(TerminalInfo::from)
        .ok_or_else(|| AppError::NotFound(format!("terminal {name:?}")))
}

impl Office {
    /// An administrator enrols a terminal (see [`enrol_terminal`]).
    pub async fn enrol_terminal(
        &self,
        session: &StaffSession,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<TerminalEnrolment, AppError> {
        self.authorize(session, Action::ManageSettings, now).await?;
        enrol_terminal(&self.store, name, &session.login, now).await
    }

    /// Every enrolled terminal.
    pub async fn terminal_identities(
        &self,
        session: &StaffSession,
        now: OffsetDateTime,
    ) -> Result<Vec<TerminalInfo>, AppError> {
        self.authorize(session, Action::ManageSettings, now).await?;
        Ok(self
            .store
            .terminal_identities()
            .await?
            .iter()
            .map(TerminalInfo::from)
            .collect())
    }

    /// An administrator revokes a terminal (see [`revoke_terminal`]).
    pub async fn revoke_terminal(
        &self,
        session: &StaffSession,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<TerminalInfo, AppError> {
        self.authorize(session, Action::ManageSettings, now).await?;
        revoke_terminal(&self.store, name, &session.login, now).await
    }

    /// A terminal registers its public key with its one-time code. The code is the
    /// credential: a wrong, used or expired one is refused without telling which.
    pub async fn register_terminal(
        &self,
        name: &str,
        code: &str,
        public_key: &str,
        now: OffsetDateTime,
    ) -> Result<TerminalInfo, AppError> {
        let key_bytes = unhex::<32>(public_key).ok_or_else(|| AppError::BadRequest {
            field: "public_key",
            reason: "an Ed25519 public key: 64 hex digits".into(),
        })?;
        VerifyingKey::from_bytes(&key_bytes).map_err(|_| AppError::BadRequest {
            field: "public_key",
            reason: "not a valid Ed25519 public key".into(),
        })?;
        let refused =
            || unverified("this terminal name and enrolment code do not match a pending enrolment");
        let mut tx = self.store.begin_ledger().await?;
        let row = tx
            .terminal_identity_for_update(name)
            .await?
            .ok_or_else(refused)?;
        let given = sha256_hex(normalized_code(code).as_bytes());
        let matches = row.state == "pending"
            && !row.code_sha256.is_empty()
            && constant_time_eq(given.as_bytes(), row.code_sha256.as_bytes())
            && now.unix_timestamp() <= row.code_expires_unix;
        if !matches {
            return Err(refused());
        }
        tx.register_terminal(name, public_key, &rfc3339(now))
            .await?;
        tx.commit(AuditEntry {
            at: rfc3339(now),
            actor: format!("terminal:{name}"),
            action: "terminal.register".into(),
            target: name.to_owned(),
            detail: serde_json::json!({"public_key": public_key}).to_string(),
        })
        .await?;
        let row = self
            .store
            .terminal_identity(name)
            .await?
            .ok_or_else(refused)?;
        Ok(TerminalInfo::from(&row))
    }

    /// Checks a request's terminal proof: an enrolled, active terminal, its key's
    /// signature over this very request, in this session, now.
    pub async fn verify_terminal(
        &self,
        proof: &TerminalProof,
        method: &str,
        path_and_query: &str,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedTerminal, AppError> {
        if (now.unix_timestamp() - proof.unix).abs() > PROOF_SKEW_SECS {
            return Err(unverified(format!(
                "the signature's instant is more than {PROOF_SKEW_SECS} s from the server's clock"
            )));
        }
        let row = self
            .store
            .terminal_identity(&proof.terminal)
            .await?
            .ok_or_else(|| unverified(format!("terminal {:?} is not enrolled", proof.terminal)))?;
        match row.state.as_str() {
            "active" => {}
            "revoked" => {
                return Err(unverified(format!(
                    "terminal {:?} is revoked",
                    proof.terminal
                )));
            }
            _ => {
                return Err(unverified(format!(
                    "terminal {:?} has not registered its key",
                    proof.terminal
                )));
            }
        }
        let key = unhex::<32>(&row.public_key)
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(|| unverified("the terminal's registered key is damaged"))?;
        let signature = unhex::<64>(&proof.signature)
            .map(|s| Signature::from_bytes(&s))
            .ok_or_else(|| unverified("the signature is not 64 bytes of hex"))?;
        let message = request_message(
            &proof.terminal,
            method,
            path_and_query,
            proof.unix,
            token,
            &proof.body_sha256,
        );
        key.verify_strict(&message, &signature)
            .map_err(|_| unverified("the terminal's signature does not verify"))?;
        Ok(VerifiedTerminal {
            name: row.name,
            key_id: row.key_id,
            body_sha256: proof.body_sha256.clone(),
        })
    }

    /// The key of a terminal's encrypted replica (hex, 32 bytes): derived from the
    /// installation's secret and the terminal's enrolment, so nothing a member of
    /// staff can fetch yields it, and a re-enrolled terminal gets a new one.
    pub(crate) fn replica_key(&self, terminal: &VerifiedTerminal) -> String {
        use hmac::{Hmac, Mac as _};
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_bytes()) else {
            return String::new();
        };
        mac.update(b"kofu replica key v2\0");
        mac.update(terminal.name.as_bytes());
        mac.update(b"\0");
        mac.update(terminal.key_id.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signature_covers_every_part_of_the_request() {
        let key = TerminalKey::generate().unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        let proof = key.sign(
            "本庁1",
            "POST",
            "/counter/v1/offline/sync",
            "tok",
            b"{}",
            now,
        );
        let verifying = VerifyingKey::from_bytes(&unhex::<32>(&key.public_hex()).unwrap()).unwrap();
        let signature = Signature::from_bytes(&unhex::<64>(&proof.signature).unwrap());
        let check =
            |terminal: &str, method: &str, path: &str, unix: i64, token: &str, body: &[u8]| {
                let message =
                    request_message(terminal, method, path, unix, token, &sha256_hex(body));
                verifying.verify_strict(&message, &signature).is_ok()
            };
        let path = "/counter/v1/offline/sync";
        assert!(check("本庁1", "POST", path, proof.unix, "tok", b"{}"));
        assert!(
            !check("本庁2", "POST", path, proof.unix, "tok", b"{}"),
            "terminal"
        );
        assert!(
            !check("本庁1", "GET", path, proof.unix, "tok", b"{}"),
            "method"
        );
        assert!(
            !check(
                "本庁1",
                "POST",
                "/counter/v1/offline/kit",
                proof.unix,
                "tok",
                b"{}"
            ),
            "path"
        );
        assert!(
            !check("本庁1", "POST", path, proof.unix + 1, "tok", b"{}"),
            "instant"
        );
        assert!(
            !check("本庁1", "POST", path, proof.unix, "other", b"{}"),
            "session"
        );
        assert!(
            !check("本庁1", "POST", path, proof.unix, "tok", b"{ }"),
            "body"
        );
    }

    #[test]
    fn a_kept_key_signs_like_the_original() {
        let key = TerminalKey::generate().unwrap();
        let again = TerminalKey::from_secret_hex(&key.secret_hex()).unwrap();
        assert_eq!(key.public_hex(), again.public_hex());
        assert!(TerminalKey::from_secret_hex("00").is_err());
        assert!(!format!("{key:?}").contains(&key.secret_hex()));
    }

    #[test]
    fn codes_are_read_as_typed() {
        assert_eq!(normalized_code("abcd-EFGH ijkl-mnop"), "ABCDEFGHIJKLMNOP");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
