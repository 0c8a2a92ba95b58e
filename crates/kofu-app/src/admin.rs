//! Administration of the town's settings — fees, kiosk hours, certifier and deputies,
//! the official seal, terminals and printers — read and changed by an administrator,
//! every change a ledger row notarised by the audit chain (DOMAIN.md §6: setting changes
//! are logged, tamper-evident).

use base64::Engine as _;
use kofu_domain::settings::{SettingKey, SettingValue, TerminalSetting};
use kofu_store::AuditEntry;
use kofu_store::ledger::Cell;
use kofu_store::settings::{SETTING_CHANGES, SettingRow, decode_setting, encode_setting};
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::AppError;
use crate::kiosk::rfc3339;
use crate::office::Office;
use crate::staff::{Action, StaffSession};

/// How many past changes the administration screen lists.
pub const HISTORY_LIMIT: i64 = 200;

/// A setting as the administrator sees it: its value in force and where it comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SettingState {
    /// The setting's name (`fees`, `terminal:本庁1`…).
    pub setting: String,
    /// The value in force, as JSON (`null`: none, e.g. no seal in the feed).
    pub value: serde_json::Value,
    /// The revision in force; 0 while the registry feed's value applies. A change must
    /// name it (`expected_revision`), so two administrators never save over each other.
    pub revision: i64,
    /// Who changed it last and when (`None` while the feed's value applies).
    pub changed_by: Option<String>,
    /// When (RFC 3339).
    pub changed_at: Option<String>,
}

/// Every setting, the registered terminals and the recent changes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// The town's settings: fees, kiosk_hours, certifier, seal (in this order).
    pub town: Vec<SettingState>,
    /// The registered terminals, by name (none: every terminal may issue).
    pub terminals: Vec<SettingState>,
    /// Past changes, newest first (values left out: they are in the ledger).
    pub history: Vec<SettingChangeRecord>,
}

/// One past change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SettingChangeRecord {
    /// The setting.
    pub setting: String,
    /// The revision it made.
    pub revision: i64,
    /// Why.
    pub reason: String,
    /// Who.
    pub staff: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A change an administrator asks for.
#[derive(Clone, Debug)]
pub struct SettingChange {
    /// The setting's name.
    pub setting: String,
    /// The revision the administrator saw (0: the feed's value).
    pub expected_revision: i64,
    /// The whole new value, as JSON of the setting's type.
    pub value: serde_json::Value,
    /// Why (kept in the ledger and the audit log).
    pub reason: String,
}

fn to_json(value: &SettingValue) -> Result<serde_json::Value, AppError> {
    let text = encode_setting(value)?;
    serde_json::from_str(&text).map_err(|e| AppError::BadRequest {
        field: "value",
        reason: e.to_string(),
    })
}

fn state(row: &SettingRow) -> Result<SettingState, AppError> {
    Ok(SettingState {
        setting: row.setting.clone(),
        value: serde_json::from_str(&row.value).map_err(|e| AppError::BadRequest {
            field: "value",
            reason: e.to_string(),
        })?,
        revision: row.revision,
        changed_by: Some(row.staff.clone()),
        changed_at: Some(row.at.clone()),
    })
}

impl Office {
    /// The settings in force (administrators only).
    pub async fn settings(
        &self,
        session: &StaffSession,
        now: OffsetDateTime,
    ) -> Result<Settings, AppError> {
        self.authorize(session, Action::ManageSettings, now).await?;
        let feed = self
            .store
            .feed_municipality()
            .await?
            .ok_or_else(|| AppError::NotFound("municipality".into()))?;
        let current = self.store.current_settings().await?;
        let mut town = Vec::new();
        for key in [
            SettingKey::Fees,
            SettingKey::KioskHours,
            SettingKey::Certifier,
            SettingKey::Seal,
        ] {
            let name = key.to_string();
            town.push(match current.iter().find(|r| r.setting == name) {
                Some(row) => state(row)?,
                None => SettingState {
                    setting: name,
                    value: match SettingValue::of_town(&key, &feed) {
                        Some(v) => to_json(&v)?,
                        None => serde_json::Value::Null,
                    },
                    revision: 0,
                    changed_by: None,
                    changed_at: None,
                },
            });
        }
        let terminals = current
            .iter()
            .filter(|r| r.setting.starts_with("terminal:"))
            .map(state)
            .collect::<Result<_, _>>()?;
        let history = self
            .store
            .setting_history(HISTORY_LIMIT)
            .await?
            .into_iter()
            .map(|r| SettingChangeRecord {
                setting: r.setting,
                revision: r.revision,
                reason: r.reason,
                staff: r.staff,
                at: r.at,
            })
            .collect();
        Ok(Settings {
            town,
            terminals,
            history,
        })
    }

    /// Changes one setting (administrators only): the value is checked whole — by the
    /// municipality record it produces, the administration's rules and, for the seal,
    /// the rendering core — and saved as the next revision only if `expected_revision`
    /// is still the one in force. Appended to `setting_changes` and audited as
    /// `admin.setting`.
    pub async fn change_setting(
        &self,
        session: &StaffSession,
        change: &SettingChange,
        now: OffsetDateTime,
    ) -> Result<SettingState, AppError> {
        self.authorize(session, Action::ManageSettings, now).await?;
        let key =
            SettingKey::parse(&change.setting).map_err(|e| AppError::InvalidSetting(vec![e]))?;
        let reason = change.reason.trim();
        if reason.is_empty() {
            return Err(AppError::BadRequest {
                field: "reason",
                reason: "a setting change needs its reason".into(),
            });
        }
        let value = decode_setting(&key, &change.value.to_string()).map_err(|e| {
            AppError::InvalidSetting(vec![kofu_domain::records::FieldError {
                field: "value".into(),
                reason: e.to_string(),
            }])
        })?;
        let town = self
            .store
            .municipality()
            .await?
            .ok_or_else(|| AppError::NotFound("municipality".into()))?;
        let mut errors = value.check(&key, &town);
        if let SettingValue::Seal(seal) = &value {
            let checked = base64::engine::general_purpose::STANDARD
                .decode(seal.png_base64.trim())
                .map_err(|e| e.to_string())
                .and_then(|png| {
                    kofu_render::PreparedImage::official_seal(&png)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                });
            if let Err(reason) = checked {
                errors.push(kofu_domain::records::FieldError {
                    field: "png_base64".into(),
                    reason,
                });
            }
        }
        if let (SettingKey::Terminal(name), SettingValue::Terminal(t)) = (&key, &value) {
            let others = self.store.terminals().await?;
            errors.extend(kofu_domain::settings::shared_printers(name, t, &others));
        }
        if !errors.is_empty() {
            return Err(AppError::InvalidSetting(errors));
        }
        let name = key.to_string();
        let encoded = encode_setting(&value)?;
        let mut tx = self.store.begin_ledger().await?;
        let revision = tx.setting_revision(&name).await?;
        if revision != change.expected_revision {
            return Err(AppError::SettingConflict {
                setting: name,
                revision,
            });
        }
        let row = SettingRow {
            setting: name.clone(),
            revision: revision + 1,
            value: encoded,
            reason: reason.to_owned(),
            staff: session.login.clone(),
            at: rfc3339(now),
        };
        let appended = tx
            .append(
                &SETTING_CHANGES,
                vec![
                    Cell::Text(row.setting.clone()),
                    Cell::Int(row.revision),
                    Cell::Text(row.value.clone()),
                    Cell::Text(row.reason.clone()),
                    Cell::Text(row.staff.clone()),
                    Cell::Text(row.at.clone()),
                ],
            )
            .await;
        match appended {
            // Another server saved the same revision first (PostgreSQL, several servers).
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::SettingConflict {
                    setting: row.setting,
                    revision: row.revision,
                });
            }
            other => other?,
        }
        tx.commit(AuditEntry {
            at: row.at.clone(),
            actor: session.login.clone(),
            action: "admin.setting".into(),
            target: name,
            detail: serde_json::json!({"revision": row.revision, "reason": row.reason}).to_string(),
        })
        .await?;
        state(&row)
    }

    /// Refuses an issuance from a terminal or printer the administration does not
    /// allow (see [`kofu_domain::settings::terminal_may_issue`]).
    pub(crate) async fn check_terminal(
        &self,
        terminal: &str,
        printer: &str,
    ) -> Result<(), AppError> {
        let terminals: std::collections::BTreeMap<String, TerminalSetting> =
            self.store.terminals().await?;
        kofu_domain::settings::terminal_may_issue(&terminals, terminal, printer)
            .map_err(AppError::TerminalRefused)
    }
}
