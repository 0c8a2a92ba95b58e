//! 戸籍 (family registers), their members and events, and 戸籍の附票.

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::ordered_map::OrderedMap;
use crate::resident::{Resident, Sex};

/// A family register (registry record `koseki`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Koseki {
    /// The register's ID.
    pub koseki_id: String,
    /// 本籍.
    pub honseki: String,
    /// 筆頭者.
    pub hitto: String,
    /// 戸籍事項 (編製, 転籍, …).
    #[serde(default)]
    pub events: Vec<KosekiEvent>,
    /// Persons in the register, in member-number order.
    pub members: Vec<KosekiMember>,
}

/// One 身分事項 or 戸籍事項 entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KosekiEvent {
    /// The kind: 出生, 婚姻, 編製, 死亡, 養子縁組, …
    pub kind: String,
    /// The date of the event.
    pub date: Date,
    /// Detail items in registry order, e.g. 出生地, 届出人.
    #[serde(default)]
    pub details: OrderedMap<String>,
}

/// A person in a 戸籍.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KosekiMember {
    /// 番号 of the person within the register, from 1.
    pub member_no: u32,
    /// 氏.
    pub family: String,
    /// 名.
    pub given: String,
    /// 生年月日.
    pub birth_date: Date,
    /// 性別.
    pub sex: Sex,
    /// 父.
    #[serde(default)]
    pub father: Option<String>,
    /// 母.
    #[serde(default)]
    pub mother: Option<String>,
    /// 続柄 to the parents, e.g. 長男.
    #[serde(default)]
    pub parent_relationship: Option<String>,
    /// 養父.
    #[serde(default)]
    pub adoptive_father: Option<String>,
    /// 養母.
    #[serde(default)]
    pub adoptive_mother: Option<String>,
    /// 続柄 to the adoptive parents.
    #[serde(default)]
    pub adoptive_relationship: Option<String>,
    /// Role in the register: 夫, 妻, 子, …
    #[serde(default)]
    pub role: Option<String>,
    /// 身分事項.
    #[serde(default)]
    pub events: Vec<KosekiEvent>,
    /// 除籍: the event that removed the person from the register, if any.
    #[serde(default)]
    pub removed: Option<KosekiEvent>,
    /// The resident this person is, where the registry links them (an added field;
    /// without it the link is made by name, 本籍 and birth date).
    #[serde(default)]
    pub resident_id: Option<String>,
}

impl KosekiMember {
    /// 氏名 as printed.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.family, self.given)
    }
}

impl Koseki {
    /// The member who is this resident: by explicit link, else by the same 本籍, name
    /// and birth date. A removed (除籍) member still matches: the certificate shows them.
    pub fn member_for(&self, resident: &Resident) -> Option<&KosekiMember> {
        if let Some(m) = self
            .members
            .iter()
            .find(|m| m.resident_id.as_deref() == Some(resident.resident_id.as_str()))
        {
            return Some(m);
        }
        if resident.honseki.as_deref() != Some(self.honseki.as_str()) {
            return None;
        }
        self.members.iter().find(|m| {
            m.resident_id.is_none()
                && m.family == resident.family
                && m.given == resident.given
                && m.birth_date == resident.birth_date
        })
    }

    /// A member by number.
    pub fn member(&self, member_no: u32) -> Option<&KosekiMember> {
        self.members.iter().find(|m| m.member_no == member_no)
    }
}

/// 戸籍の附票 of one member (registry record `fuhyo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fuhyo {
    /// The 戸籍 it belongs to.
    pub koseki_id: String,
    /// The member number within the 戸籍.
    pub member_no: u32,
    /// Address history, oldest first.
    pub entries: Vec<FuhyoEntry>,
}

/// One address of the 附票.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuhyoEntry {
    /// 住所.
    pub address: String,
    /// 住所を定めた年月日.
    pub from: Date,
}
