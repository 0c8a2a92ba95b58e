//! The municipality: its name, certifier and deputies, official seal, kiosk hours and fees.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::certificate::{CertificateKind, Channel};
use crate::date::{Date, TimeOfDay};

/// The town (registry record `municipality`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Municipality {
    /// 地方公共団体コード (6 digits).
    pub code: String,
    /// The town's name, e.g. 見本市.
    pub name: String,
    /// The prefecture, e.g. 見本県.
    pub prefecture: String,
    /// The mayor (市区町村長), the certifier on ordinary days.
    pub mayor: String,
    /// 職務代理者 and the dates on which each acts.
    #[serde(default)]
    pub deputies: Vec<Deputy>,
    /// The official seal (電子公印) as a PNG, base64.
    #[serde(default)]
    pub seal_png_base64: Option<String>,
    /// The kiosk service hours.
    pub kiosk_hours: KioskHours,
    /// The hours in which 戸籍 certificates are issued at kiosks.
    #[serde(default)]
    pub koseki_kiosk_hours: KosekiKioskHours,
    /// Counter fee per kind, in yen.
    pub fees_yen: BTreeMap<CertificateKind, u32>,
    /// Kiosk fee per kind where it differs from the counter fee.
    #[serde(default)]
    pub kiosk_fees_yen: BTreeMap<CertificateKind, u32>,
}

/// A deputy (職務代理者) who certifies between two dates, inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deputy {
    /// The deputy's name.
    pub name: String,
    /// The deputy's own office (副市長, 総務部長 …), printed with the name; a kofu
    /// addition to the feed's `deputies[]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    /// First day of acting.
    pub from: Date,
    /// Last day of acting.
    pub to: Date,
}

/// Opening and closing time of the kiosk service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskHours {
    /// First minute of service.
    pub open: TimeOfDay,
    /// End of service (exclusive).
    pub close: TimeOfDay,
}

/// 戸籍 kiosk hours on weekdays and on weekends/holidays; `None` means not offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KosekiKioskHours {
    /// Hours on weekdays that are not national holidays.
    #[serde(default)]
    pub weekday: Option<(TimeOfDay, TimeOfDay)>,
    /// Hours on Saturdays, Sundays and national holidays.
    #[serde(default)]
    pub holiday: Option<(TimeOfDay, TimeOfDay)>,
}

/// Who signs a certificate on a given day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certifier {
    /// The name printed.
    pub name: String,
    /// The title printed before the name: `見本市長`, or `見本市長職務代理者` on the days a deputy acts.
    pub title: String,
    /// Whether a deputy acts on this day.
    pub is_deputy: bool,
}

impl Municipality {
    /// The certifier on `date`: the deputy whose period covers it, else the mayor.
    pub fn certifier_on(&self, date: Date) -> Certifier {
        match self
            .deputies
            .iter()
            .find(|d| d.from <= date && date <= d.to)
        {
            Some(d) => Certifier {
                name: d.name.clone(),
                title: match &d.office {
                    Some(office) => format!("{}長職務代理者 {office}", self.name),
                    None => format!("{}長職務代理者", self.name),
                },
                is_deputy: true,
            },
            None => Certifier {
                name: self.mayor.clone(),
                title: format!("{}長", self.name),
                is_deputy: false,
            },
        }
    }

    /// The name of the town's inhabitant tax as its own notices print it: 市民税,
    /// 町民税, 村民税, or 特別区民税 for a ward of Tokyo (a name ending in 区 in 東京都).
    pub fn municipal_tax_name(&self) -> &'static str {
        if self.name.ends_with('区') && self.prefecture == "東京都" {
            "特別区民税"
        } else if self.name.ends_with('町') {
            "町民税"
        } else if self.name.ends_with('村') {
            "村民税"
        } else {
            "市民税"
        }
    }

    /// The prefecture's inhabitant tax: 都民税, 道民税, 府民税 or 県民税.
    pub fn prefectural_tax_name(&self) -> &'static str {
        match self.prefecture.chars().last() {
            Some('都') => "都民税",
            Some('道') => "道民税",
            Some('府') => "府民税",
            _ => "県民税",
        }
    }

    /// The fee for one copy of `kind` on `channel`, if the town issues it at all.
    pub fn fee(&self, kind: CertificateKind, channel: Channel) -> Option<u32> {
        let counter = self.fees_yen.get(&kind).copied();
        match channel {
            Channel::Counter => counter,
            Channel::Kiosk => self.kiosk_fees_yen.get(&kind).copied().or(counter),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::sample;

    /// (town, prefecture) → (the town's tax, the prefecture's tax), as their notices say.
    fn check(name: &str, prefecture: &str, expected: (&str, &str)) {
        let mut m = sample::municipality();
        m.name = name.into();
        m.prefecture = prefecture.into();
        assert_eq!(
            (m.municipal_tax_name(), m.prefectural_tax_name()),
            expected,
            "{prefecture}{name}"
        );
    }

    #[test]
    fn tax_names_follow_the_town_and_prefecture() {
        check("見本市", "見本県", ("市民税", "県民税"));
        check("倶知安町", "北海道", ("町民税", "道民税"));
        check("南山城村", "京都府", ("村民税", "府民税"));
        check("千代田区", "東京都", ("特別区民税", "都民税"));
        check("八王子市", "東京都", ("市民税", "都民税"));
        check("大阪市", "大阪府", ("市民税", "府民税"));
    }
}
