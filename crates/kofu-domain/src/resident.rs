//! Residents (住民票 records), foreign residents' items, and households.

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::my_number::MyNumber;
use crate::search::{search_key, search_key_of};
use crate::wareki::DateStyle;

/// A resident record (registry record `resident`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resident {
    /// 住民票コード-like 11-digit resident code. Never printed on a kiosk copy.
    pub resident_id: String,
    /// The household (世帯) the resident belongs to.
    pub household_id: String,
    /// 氏. Stored exactly as given, variation selectors included.
    pub family: String,
    /// 名.
    pub given: String,
    /// 氏 in katakana.
    pub family_kana: String,
    /// 名 in katakana.
    pub given_kana: String,
    /// 旧氏 where registered.
    #[serde(default)]
    pub former_family: Option<String>,
    /// 通称 where registered.
    #[serde(default)]
    pub alias: Option<String>,
    /// 性別.
    pub sex: Sex,
    /// 生年月日.
    pub birth_date: Date,
    /// 世帯主との続柄, e.g. 世帯主, 妻, 子.
    pub relationship: String,
    /// 住所.
    pub address: String,
    /// 住民となった年月日.
    pub resident_since: Date,
    /// 住所を定めた年月日.
    pub address_since: Date,
    /// 届出年月日.
    pub notified_on: Date,
    /// 従前の住所.
    #[serde(default)]
    pub previous_address: Option<String>,
    /// 本籍 (Japanese residents).
    #[serde(default)]
    pub honseki: Option<String>,
    /// 筆頭者.
    #[serde(default)]
    pub hitto: Option<String>,
    /// 個人番号, check digit validated.
    #[serde(default)]
    pub my_number: Option<MyNumber>,
    /// Record status.
    pub status: ResidentStatus,
    /// When the status took effect (move-out or death date).
    #[serde(default)]
    pub status_since: Option<Date>,
    /// Items of a foreign resident.
    #[serde(default)]
    pub foreign: Option<ForeignDetails>,
}

/// 性別.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Sex {
    /// As printed: 男 or 女.
    pub fn kanji(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// The state of a resident record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResidentStatus {
    /// Living in the town.
    Active,
    /// 転出 done.
    MovedOut,
    /// 転出予定: the move-out is notified but not yet done.
    MovingOut,
    /// 死亡.
    Deceased,
}

/// Items of a foreign resident's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignDetails {
    /// 国籍・地域.
    pub nationality: String,
    /// 通称.
    #[serde(default)]
    pub alias: Option<String>,
    /// 在留資格.
    pub residence_status: String,
    /// 在留期間, e.g. `3年`; `None` for 永住者 and 特別永住者, who have none.
    #[serde(default)]
    pub period: Option<String>,
    /// 在留期間の満了の日 (printed in 西暦); `None` when there is no period.
    #[serde(default)]
    pub period_end: Option<Date>,
    /// 在留カード等の番号 (two letters, eight digits, two letters).
    pub card_number: String,
    /// 外国人住民となった区分, e.g. 中長期在留者, 特別永住者.
    pub category: String,
}

impl Resident {
    /// 氏名 as printed, `family given`, exactly as registered.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.family, self.given)
    }

    /// The kana reading, `family given`.
    pub fn full_kana(&self) -> String {
        format!("{} {}", self.family_kana, self.given_kana)
    }

    /// The search key of the written name.
    pub fn name_key(&self) -> String {
        search_key_of(&[&self.family, &self.given])
    }

    /// The search key of the 通称, where one is registered: searched like the name.
    pub fn alias_key(&self) -> Option<String> {
        self.alias
            .as_ref()
            .or(self.foreign.as_ref().and_then(|f| f.alias.as_ref()))
            .map(|alias| search_key(alias))
            .filter(|k| !k.is_empty())
    }

    /// The search key of the reading.
    pub fn reading_key(&self) -> String {
        search_key_of(&[&self.family_kana, &self.given_kana])
    }

    /// How dates of this person are written: foreign residents' birth dates in 西暦.
    pub fn birth_date_style(&self) -> DateStyle {
        if self.foreign.is_some() {
            DateStyle::Seireki
        } else {
            DateStyle::Wareki
        }
    }

    /// Whether this is the head of the household.
    pub fn is_head(&self) -> bool {
        self.relationship == "世帯主"
    }
}

/// A household: its members as the registry lists them, head first.
#[derive(Clone, Debug, PartialEq)]
pub struct Household {
    /// The household ID.
    pub household_id: String,
    /// Members, head of household first, then by registry order.
    pub members: Vec<Resident>,
}

impl Household {
    /// Builds a household from its members in any order: the head first, then the
    /// others in their given order.
    pub fn new(household_id: impl Into<String>, mut members: Vec<Resident>) -> Self {
        members.sort_by_key(|m| !m.is_head());
        Household {
            household_id: household_id.into(),
            members,
        }
    }

    /// The head of the household, if recorded.
    pub fn head(&self) -> Option<&Resident> {
        self.members.iter().find(|m| m.is_head())
    }

    /// Members currently living in the town.
    pub fn active_members(&self) -> impl Iterator<Item = &Resident> {
        self.members
            .iter()
            .filter(|m| m.status == ResidentStatus::Active)
    }
}
