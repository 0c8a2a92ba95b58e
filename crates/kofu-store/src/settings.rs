//! Storage of the administration's settings: the append-only ledger of setting changes
//! (the last revision of each setting is in force) and, on a terminal, the server's
//! settings as its replica last received them; the municipality as issued is the feed's
//! record with those settings applied.

use std::collections::BTreeMap;

use kofu_domain::Municipality;
use kofu_domain::settings::{
    CertifierSetting, Fees, SealSetting, ServiceHours, SettingKey, SettingValue, TerminalSetting,
};
use serde::{Deserialize, Serialize};

use crate::ledger::ColumnType::{Int, Text};
use crate::ledger::{LedgerTable, on_tx};
use crate::{LedgerTx, Pool, Store, StoreError};

/// Every change of a setting, with its revision (1, 2, … per setting).
pub static SETTING_CHANGES: LedgerTable = LedgerTable {
    name: "setting_changes",
    columns: &[
        ("setting", Text),
        ("revision", Int),
        ("value", Text),
        ("reason", Text),
        ("staff", Text),
        ("at", Text),
    ],
    key_columns: 2,
};

/// The town under each fees schedule, in the order they came into force (see
/// [`Store::fee_schedules`]).
#[derive(Clone, Debug)]
pub struct FeeSchedules(Vec<(Option<time::OffsetDateTime>, Municipality)>);

impl FeeSchedules {
    /// The town under each schedule in force at some instant from `from` to `to`.
    pub fn between(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> Vec<&Municipality> {
        // The one in force at `from` is the last that began by then.
        let first = self
            .0
            .iter()
            .rposition(|(at, _)| at.is_none_or(|a| a <= from))
            .unwrap_or(0);
        self.0
            .iter()
            .enumerate()
            .filter(|(i, (at, _))| *i == first || (*i > first && at.is_some_and(|a| a <= to)))
            .map(|(_, (_, town))| town)
            .collect()
    }
}

/// One revision of a setting as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SettingRow {
    /// The setting's name (`fees`, `terminal:本庁1`…).
    pub setting: String,
    /// Its revision, from 1.
    pub revision: i64,
    /// The whole value, as JSON.
    pub value: String,
    /// Why it was changed.
    pub reason: String,
    /// Who changed it.
    pub staff: String,
    /// When (RFC 3339).
    pub at: String,
}

/// Reads a stored value as the setting `key`'s type.
pub fn decode_setting(key: &SettingKey, json: &str) -> Result<SettingValue, serde_json::Error> {
    Ok(match key {
        SettingKey::Fees => SettingValue::Fees(serde_json::from_str::<Fees>(json)?),
        SettingKey::KioskHours => {
            SettingValue::KioskHours(serde_json::from_str::<ServiceHours>(json)?)
        }
        SettingKey::Certifier => {
            SettingValue::Certifier(serde_json::from_str::<CertifierSetting>(json)?)
        }
        SettingKey::Seal => SettingValue::Seal(serde_json::from_str::<SealSetting>(json)?),
        SettingKey::Terminal(_) => {
            SettingValue::Terminal(serde_json::from_str::<TerminalSetting>(json)?)
        }
    })
}

/// A setting's value as stored (JSON).
pub fn encode_setting(value: &SettingValue) -> Result<String, StoreError> {
    let encoded = match value {
        SettingValue::Fees(v) => serde_json::to_string(v),
        SettingValue::KioskHours(v) => serde_json::to_string(v),
        SettingValue::Certifier(v) => serde_json::to_string(v),
        SettingValue::Seal(v) => serde_json::to_string(v),
        SettingValue::Terminal(v) => serde_json::to_string(v),
    };
    encoded.map_err(|source| StoreError::Encode {
        kind: "setting",
        source,
    })
}

/// The settings in force, decoded: `(key, value)` in name order.
fn decoded(rows: &[SettingRow]) -> Result<Vec<(SettingKey, SettingValue)>, StoreError> {
    rows.iter()
        .map(|r| {
            let corrupt = |source| StoreError::Corrupt {
                kind: "setting",
                key: r.setting.clone(),
                source,
            };
            let key = SettingKey::parse(&r.setting).map_err(|e| {
                corrupt(<serde_json::Error as serde::de::Error>::custom(
                    e.to_string(),
                ))
            })?;
            let value = decode_setting(&key, &r.value).map_err(corrupt)?;
            Ok((key, value))
        })
        .collect()
}

/// The settings in force, rows as [`SettingRow`], by name.
pub(crate) const CURRENT_SQL: &str = "SELECT s.setting, s.revision, s.value, s.reason, s.staff, s.at \
    FROM setting_changes s \
    WHERE s.revision = (SELECT MAX(m.revision) FROM setting_changes m WHERE m.setting = s.setting) \
    UNION ALL \
    SELECT r.setting, r.revision, r.value, r.reason, r.staff, r.at FROM replica_settings r \
    WHERE NOT EXISTS (SELECT 1 FROM setting_changes c WHERE c.setting = r.setting) \
    ORDER BY 1";

/// The municipality as issued from its record (`doc`, `None` before the first import)
/// and the settings in force.
pub(crate) fn town_of(
    doc: Option<String>,
    settings: Vec<SettingRow>,
) -> Result<Option<Municipality>, StoreError> {
    let Some(doc) = doc else {
        return Ok(None);
    };
    let mut town: Municipality = crate::decode("municipality", "", &doc)?;
    for (_, value) in decoded(&settings)? {
        value.apply(&mut town);
    }
    Ok(Some(town))
}

impl Store {
    /// The settings in force, by name: the last revision of each setting changed here
    /// and, on a terminal, the server's for every other.
    pub async fn current_settings(&self) -> Result<Vec<SettingRow>, StoreError> {
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, SettingRow>(CURRENT_SQL).fetch_all(pool).await?),
        )
    }

    /// The municipality as issued under each fees schedule ever in force, each with
    /// the instant it came into force (`None`: the record's own fees, before any
    /// change), every other setting as in force now: what a terminal may have charged
    /// offline, to be picked by instant ([`FeeSchedules::between`]) without a read per
    /// issuance.
    pub async fn fee_schedules(&self) -> Result<FeeSchedules, StoreError> {
        const FEES_SQL: &str = "SELECT setting, revision, value, reason, staff, at \
            FROM setting_changes WHERE setting = 'fees' ORDER BY revision";
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| crate::town_parts_sql("'town' AS part"));
        let parts = self.parts(&SQL, &[]).await?;
        let revisions: Vec<SettingRow> = on_pool!(self, pool => {
            sqlx::query_as::<_, SettingRow>(FEES_SQL).fetch_all(pool).await?
        });
        let others: Vec<SettingRow> = parts
            .settings
            .into_iter()
            .filter(|r| r.setting != "fees")
            .collect();
        let mut schedules = Vec::new();
        if let Some(town) = town_of(parts.town.clone(), others.clone())? {
            schedules.push((None, town));
        }
        for r in revisions {
            let at =
                time::OffsetDateTime::parse(&r.at, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| StoreError::OutOfRange {
                        field: "setting_changes.at",
                        value: r.at.clone(),
                    })?;
            let mut settings = others.clone();
            settings.push(r);
            if let Some(town) = town_of(parts.town.clone(), settings)? {
                schedules.push((Some(at), town));
            }
        }
        Ok(FeeSchedules(schedules))
    }

    /// Every change of every setting, newest first, at most `limit`.
    pub async fn setting_history(&self, limit: i64) -> Result<Vec<SettingRow>, StoreError> {
        const SQL: &str = "SELECT setting, revision, value, reason, staff, at FROM setting_changes \
                           ORDER BY at DESC, setting, revision DESC LIMIT $1";
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, SettingRow>(SQL).bind(limit).fetch_all(pool).await?),
        )
    }

    /// The municipality as certificates are issued: the feed's record with the
    /// administration's town settings applied.
    ///
    /// One statement (one snapshot, one round trip): the record and the settings in
    /// force, as parts (see `town_parts_sql`), like every statement that reads the town
    /// together with something else.
    pub async fn municipality(&self) -> Result<Option<Municipality>, StoreError> {
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| crate::town_parts_sql("'town' AS part"));
        let parts = self.parts(&SQL, &[]).await?;
        town_of(parts.town, parts.settings)
    }

    /// The registered counter terminals, by name (empty: none registered).
    pub async fn terminals(&self) -> Result<BTreeMap<String, TerminalSetting>, StoreError> {
        Ok(decoded(&self.current_settings().await?)?
            .into_iter()
            .filter_map(|(key, value)| match (key, value) {
                (SettingKey::Terminal(name), SettingValue::Terminal(t)) => Some((name, t)),
                _ => None,
            })
            .collect())
    }

    /// A terminal: replaces the server's settings its replica holds with `rows`.
    pub async fn replace_replica_settings(&self, rows: &[SettingRow]) -> Result<(), StoreError> {
        const CLEAR: &str = "DELETE FROM replica_settings";
        const ADD: &str = "INSERT INTO replica_settings (setting, revision, value, reason, staff, at) \
                           VALUES ($1, $2, $3, $4, $5, $6)";
        macro_rules! replace {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                sqlx::query(CLEAR).execute(&mut *tx).await?;
                for r in rows {
                    sqlx::query(ADD)
                        .bind(&r.setting)
                        .bind(r.revision)
                        .bind(&r.value)
                        .bind(&r.reason)
                        .bind(&r.staff)
                        .bind(&r.at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }};
        }
        match &self.pool {
            Pool::Sqlite(pool) => replace!(pool),
            Pool::Postgres(pool) => replace!(pool),
        }
        Ok(())
    }
}

impl LedgerTx {
    /// The revision of `setting` in force in this transaction (0: never changed).
    pub async fn setting_revision(&mut self, setting: &str) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT MAX(revision) FROM setting_changes WHERE setting = $1";
        let revision: Option<i64> = on_tx!(self.tx, conn => {
            sqlx::query_scalar(SQL).bind(setting).fetch_one(conn).await?
        });
        Ok(revision.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fee_schedules_in_force_over_a_window() {
        let at = |h: i64| time::OffsetDateTime::UNIX_EPOCH + time::Duration::hours(h);
        let town = |name: &str| {
            let mut t = kofu_domain::sample::municipality();
            t.name = name.to_owned();
            t
        };
        let schedules = FeeSchedules(vec![
            (None, town("record")),
            (Some(at(10)), town("rev1")),
            (Some(at(20)), town("rev2")),
        ]);
        let check = |from: i64, to: i64, expected: &[&str]| {
            let names: Vec<&str> = schedules
                .between(at(from), at(to))
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            assert_eq!(names, expected, "{from}..{to}");
        };
        check(0, 5, &["record"]);
        check(0, 10, &["record", "rev1"]);
        check(10, 10, &["rev1"]);
        check(12, 25, &["rev1", "rev2"]);
        check(30, 40, &["rev2"]);
        check(5, 30, &["record", "rev1", "rev2"]);
    }
}
