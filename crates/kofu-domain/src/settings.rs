//! The town's settings that its administrator keeps in kofu: fees, kiosk hours, the
//! certifier and deputies, the official seal, and the counter terminals with their printers.
//!
//! The registry feed brings the municipality record; a setting changed in kofu's
//! administration replaces the matching fields of that record wherever it is used (the
//! counter, the kiosk path, the offline replica), until it is changed again. Each
//! setting is one value checked whole: a change is accepted only if the municipality it
//! produces is valid.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::certificate::CertificateKind;
use crate::date::TimeOfDay;
use crate::municipality::{Deputy, KioskHours, KosekiKioskHours, Municipality};
use crate::records::{FieldError, RegistryRecord};

/// The highest fee per copy the administration accepts, in yen (a typing error guard).
pub const MAX_FEE_YEN: u32 = 10_000;

/// Which setting: one of the town's, or one terminal's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SettingKey {
    /// Counter and kiosk fees per kind.
    Fees,
    /// Kiosk hours and 戸籍 kiosk hours.
    KioskHours,
    /// The mayor and the deputies (職務代理者) with their periods.
    Certifier,
    /// The official seal (電子公印).
    Seal,
    /// A counter terminal and its printers, by terminal name.
    Terminal(String),
}

impl SettingKey {
    /// Parses the stored name (`fees`, `kiosk_hours`, `certifier`, `seal`, `terminal:<name>`).
    pub fn parse(name: &str) -> Result<SettingKey, FieldError> {
        match name {
            "fees" => Ok(SettingKey::Fees),
            "kiosk_hours" => Ok(SettingKey::KioskHours),
            "certifier" => Ok(SettingKey::Certifier),
            "seal" => Ok(SettingKey::Seal),
            _ => match name.strip_prefix("terminal:") {
                Some(t) => {
                    check_terminal_name("setting", t)?;
                    Ok(SettingKey::Terminal(t.to_owned()))
                }
                None => Err(FieldError {
                    field: "setting".into(),
                    reason: format!(
                        "unknown setting {name:?} (fees, kiosk_hours, certifier, seal or terminal:<name>)"
                    ),
                }),
            },
        }
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingKey::Fees => f.write_str("fees"),
            SettingKey::KioskHours => f.write_str("kiosk_hours"),
            SettingKey::Certifier => f.write_str("certifier"),
            SettingKey::Seal => f.write_str("seal"),
            SettingKey::Terminal(t) => write!(f, "terminal:{t}"),
        }
    }
}

/// Fees per copy, in yen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fees {
    /// Counter fee per kind; a kind left out is not issued at all.
    pub counter: BTreeMap<CertificateKind, u32>,
    /// Kiosk fee per kind where it differs from the counter fee (a discount).
    #[serde(default)]
    pub kiosk: BTreeMap<CertificateKind, u32>,
}

/// Kiosk service hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHours {
    /// Hours of the kiosk service, within the national 06:30–23:00.
    pub kiosk: KioskHours,
    /// Hours of 戸籍 certificates at kiosks, within the kiosk hours.
    #[serde(default)]
    pub koseki: KosekiKioskHours,
}

/// Who certifies: the mayor, and the deputies on the days they act.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertifierSetting {
    /// The mayor (市区町村長).
    pub mayor: String,
    /// 職務代理者 with the dates each acts; periods must not overlap.
    #[serde(default)]
    pub deputies: Vec<Deputy>,
}

/// The official seal (電子公印).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealSetting {
    /// The seal as a PNG, base64: black on transparent or white, at most 25 mm square.
    pub png_base64: String,
}

/// A counter terminal and the printers it prints on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalSetting {
    /// Where it stands, e.g. `本庁舎1階 市民課 1番窓口`.
    #[serde(default)]
    pub location: String,
    /// Whether it may issue; a retired terminal keeps its history.
    pub active: bool,
    /// Its printers.
    pub printers: Vec<PrinterSetting>,
}

/// A printer of a terminal. A printer serves one terminal only (DOMAIN.md §5: two
/// clerks sharing a printer bound another person's page into a set); which CUPS queue
/// it is on the terminal's machine is that terminal's own setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterSetting {
    /// Its ID in 発行番号, e.g. `P001`.
    pub code: String,
    /// What and where it is, e.g. `A4 レーザー 1番窓口`.
    #[serde(default)]
    pub description: String,
    /// Whether certificates may be printed on it.
    pub active: bool,
}

/// A setting's value, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingValue {
    /// See [`Fees`].
    Fees(Fees),
    /// See [`ServiceHours`].
    KioskHours(ServiceHours),
    /// See [`CertifierSetting`].
    Certifier(CertifierSetting),
    /// See [`SealSetting`].
    Seal(SealSetting),
    /// See [`TerminalSetting`].
    Terminal(TerminalSetting),
}

impl SettingValue {
    /// The value the municipality record gives a town setting (terminals have none).
    pub fn of_town(key: &SettingKey, town: &Municipality) -> Option<SettingValue> {
        Some(match key {
            SettingKey::Fees => SettingValue::Fees(Fees {
                counter: town.fees_yen.clone(),
                kiosk: town.kiosk_fees_yen.clone(),
            }),
            SettingKey::KioskHours => SettingValue::KioskHours(ServiceHours {
                kiosk: town.kiosk_hours,
                koseki: town.koseki_kiosk_hours,
            }),
            SettingKey::Certifier => SettingValue::Certifier(CertifierSetting {
                mayor: town.mayor.clone(),
                deputies: town.deputies.clone(),
            }),
            SettingKey::Seal => SettingValue::Seal(SealSetting {
                png_base64: town.seal_png_base64.clone()?,
            }),
            SettingKey::Terminal(_) => return None,
        })
    }

    /// Writes a town setting into the municipality record (a terminal changes nothing).
    pub fn apply(&self, town: &mut Municipality) {
        match self {
            SettingValue::Fees(f) => {
                town.fees_yen.clone_from(&f.counter);
                town.kiosk_fees_yen.clone_from(&f.kiosk);
            }
            SettingValue::KioskHours(h) => {
                town.kiosk_hours = h.kiosk;
                town.koseki_kiosk_hours = h.koseki;
            }
            SettingValue::Certifier(c) => {
                town.mayor.clone_from(&c.mayor);
                town.deputies.clone_from(&c.deputies);
            }
            SettingValue::Seal(s) => town.seal_png_base64 = Some(s.png_base64.clone()),
            SettingValue::Terminal(_) => {}
        }
    }

    /// Whether this value fits `key`.
    pub fn fits(&self, key: &SettingKey) -> bool {
        matches!(
            (key, self),
            (SettingKey::Fees, SettingValue::Fees(_))
                | (SettingKey::KioskHours, SettingValue::KioskHours(_))
                | (SettingKey::Certifier, SettingValue::Certifier(_))
                | (SettingKey::Seal, SettingValue::Seal(_))
                | (SettingKey::Terminal(_), SettingValue::Terminal(_))
        )
    }

    /// Every problem of this value as the setting `key` of `town`, each naming its
    /// field; empty if it may be saved. A town setting is checked by the rules of the
    /// municipality record it produces, plus the rules of the administration (the
    /// national kiosk hours, deputies' periods that do not overlap, fee bounds).
    /// Whether the seal's PNG is a usable stencil is the rendering core's to say.
    pub fn check(&self, key: &SettingKey, town: &Municipality) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut fail = |field: String, reason: String| errors.push(FieldError { field, reason });
        if !self.fits(key) {
            fail(
                "value".into(),
                format!("is not a value of the setting {key}"),
            );
            return errors;
        }
        match self {
            SettingValue::Fees(f) => {
                if f.counter.is_empty() {
                    fail(
                        "counter".into(),
                        "at least one certificate needs a fee".into(),
                    );
                }
                for (side, fees) in [("counter", &f.counter), ("kiosk", &f.kiosk)] {
                    for (kind, yen) in fees {
                        if *yen > MAX_FEE_YEN {
                            fail(
                                format!("{side}.{}", kind.code()),
                                format!("{yen} yen is more than {MAX_FEE_YEN} yen"),
                            );
                        }
                    }
                }
                for kind in f.kiosk.keys() {
                    if !f.counter.contains_key(kind) {
                        fail(
                            format!("kiosk.{}", kind.code()),
                            "a kiosk fee needs a counter fee for the same certificate".into(),
                        );
                    }
                }
            }
            SettingValue::KioskHours(h) => {
                let (earliest, latest) = national_kiosk_hours();
                if h.kiosk.open < earliest || h.kiosk.close > latest {
                    fail(
                        "kiosk".into(),
                        format!("must lie within the national service hours {earliest}–{latest}"),
                    );
                }
                for (name, hours) in [("weekday", h.koseki.weekday), ("holiday", h.koseki.holiday)]
                {
                    if let Some((open, close)) = hours
                        && (open < h.kiosk.open || close > h.kiosk.close)
                    {
                        fail(
                            format!("koseki.{name}"),
                            format!(
                                "must lie within the kiosk hours {}–{}",
                                h.kiosk.open, h.kiosk.close
                            ),
                        );
                    }
                }
            }
            SettingValue::Certifier(c) => {
                let mut periods: Vec<(usize, &Deputy)> = c.deputies.iter().enumerate().collect();
                periods.sort_by_key(|(_, d)| d.from);
                for pair in periods.windows(2) {
                    let ((_, a), (j, b)) = (pair[0], pair[1]);
                    if b.from <= a.to {
                        fail(
                            format!("deputies[{j}].from"),
                            format!(
                                "overlaps the period of {} ({}–{}): one certifier per day",
                                a.name, a.from, a.to
                            ),
                        );
                    }
                }
            }
            SettingValue::Seal(_) => {}
            SettingValue::Terminal(t) => {
                let mut seen = std::collections::BTreeSet::new();
                for (i, p) in t.printers.iter().enumerate() {
                    if !(1..=8).contains(&p.code.len())
                        || !p.code.bytes().all(|b| b.is_ascii_alphanumeric())
                    {
                        fail(
                            format!("printers[{i}].code"),
                            "must be 1 to 8 letters or digits, e.g. P001".into(),
                        );
                    }
                    if !seen.insert(p.code.as_str()) {
                        fail(
                            format!("printers[{i}].code"),
                            format!("{} is listed twice", p.code),
                        );
                    }
                    if p.description.chars().count() > 64 {
                        fail(
                            format!("printers[{i}].description"),
                            "must be at most 64 characters".into(),
                        );
                    }
                }
                if t.location.chars().count() > 64 {
                    fail("location".into(), "must be at most 64 characters".into());
                }
            }
        }
        if !matches!(self, SettingValue::Terminal(_)) {
            let mut changed = town.clone();
            self.apply(&mut changed);
            errors.extend(RegistryRecord::Municipality(changed).validate());
        }
        errors
    }
}

/// The hours in which the national kiosk service runs (DOMAIN.md §3): 06:30–23:00.
pub fn national_kiosk_hours() -> (TimeOfDay, TimeOfDay) {
    const OPEN: TimeOfDay = TimeOfDay::const_hm(6, 30);
    const CLOSE: TimeOfDay = TimeOfDay::const_hm(23, 0);
    (OPEN, CLOSE)
}

/// Checks a terminal's name as it goes into 発行番号 and receipts: 1 to 32 characters,
/// no spaces, slashes or control characters.
pub fn check_terminal_name(field: &str, name: &str) -> Result<(), FieldError> {
    let n = name.chars().count();
    if (1..=32).contains(&n)
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        Ok(())
    } else {
        Err(FieldError {
            field: field.into(),
            reason: format!(
                "{name:?} is not a terminal name: 1 to 32 characters without spaces or '/'"
            ),
        })
    }
}

/// The printers of terminal `name` that another registered terminal already uses (both
/// active): a printer serves one terminal.
pub fn shared_printers(
    name: &str,
    terminal: &TerminalSetting,
    others: &BTreeMap<String, TerminalSetting>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, p) in terminal.printers.iter().enumerate() {
        if !(terminal.active && p.active) {
            continue;
        }
        for (other, t) in others {
            let taken = other != name
                && t.active
                && t.printers.iter().any(|q| q.active && q.code == p.code);
            if taken {
                errors.push(FieldError {
                    field: format!("printers[{i}].code"),
                    reason: format!(
                        "{} is already a printer of terminal {other}: a printer serves one terminal",
                        p.code
                    ),
                });
            }
        }
    }
    errors
}

/// Whether a terminal may issue on `printer`, given the registered terminals: every
/// terminal may while none is registered (a new installation); once one is, only an
/// active registered terminal on one of its active printers.
pub fn terminal_may_issue(
    terminals: &BTreeMap<String, TerminalSetting>,
    terminal: &str,
    printer: &str,
) -> Result<(), String> {
    if terminals.is_empty() {
        return Ok(());
    }
    let Some(t) = terminals.get(terminal) else {
        return Err(format!("terminal {terminal} is not registered"));
    };
    if !t.active {
        return Err(format!("terminal {terminal} is retired"));
    }
    match t.printers.iter().find(|p| p.code == printer) {
        None => Err(format!(
            "printer {printer} is not registered for terminal {terminal}"
        )),
        Some(p) if !p.active => Err(format!(
            "printer {printer} of terminal {terminal} is retired"
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;

    fn town() -> Municipality {
        crate::sample::municipality()
    }

    fn hm(s: &str) -> TimeOfDay {
        s.parse().unwrap()
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// One check per case: the fields reported, in order (empty: accepted).
    fn check(key: &str, value: SettingValue, expected: &[&str]) {
        let key = SettingKey::parse(key).unwrap();
        let fields: Vec<String> = value
            .check(&key, &town())
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, expected, "{key}: {value:?}");
    }

    fn fees(counter: &[(CertificateKind, u32)], kiosk: &[(CertificateKind, u32)]) -> SettingValue {
        SettingValue::Fees(Fees {
            counter: counter.iter().copied().collect(),
            kiosk: kiosk.iter().copied().collect(),
        })
    }

    fn hours(open: &str, close: &str, weekday: Option<(&str, &str)>) -> SettingValue {
        SettingValue::KioskHours(ServiceHours {
            kiosk: KioskHours {
                open: hm(open),
                close: hm(close),
            },
            koseki: KosekiKioskHours {
                weekday: weekday.map(|(a, b)| (hm(a), hm(b))),
                holiday: None,
            },
        })
    }

    fn deputies(periods: &[(&str, &str)]) -> SettingValue {
        SettingValue::Certifier(CertifierSetting {
            mayor: "見本 一郎".into(),
            deputies: periods
                .iter()
                .enumerate()
                .map(|(i, (from, to))| Deputy {
                    name: format!("代理 {i}"),
                    office: None,
                    from: date(from),
                    to: date(to),
                })
                .collect(),
        })
    }

    fn printer(code: &str, description: &str) -> PrinterSetting {
        PrinterSetting {
            code: code.into(),
            description: description.into(),
            active: true,
        }
    }

    fn terminal(printers: Vec<PrinterSetting>) -> SettingValue {
        SettingValue::Terminal(TerminalSetting {
            location: "市民課 1番窓口".into(),
            active: true,
            printers,
        })
    }

    use CertificateKind::{Inkan, Juminhyo};

    #[test]
    fn fees_are_checked() {
        check(
            "fees",
            fees(&[(Juminhyo, 300), (Inkan, 300)], &[(Juminhyo, 200)]),
            &[],
        );
        check("fees", fees(&[(Juminhyo, 0)], &[]), &[]);
        check("fees", fees(&[], &[]), &["counter"]);
        check(
            "fees",
            fees(&[(Juminhyo, 30_000)], &[]),
            &["counter.juminhyo"],
        );
        check(
            "fees",
            fees(&[(Juminhyo, 300)], &[(Inkan, 200)]),
            &["kiosk.inkan"],
        );
    }

    #[test]
    fn kiosk_hours_stay_within_the_national_hours() {
        check(
            "kiosk_hours",
            hours("06:30", "23:00", Some(("09:00", "17:00"))),
            &[],
        );
        check("kiosk_hours", hours("06:00", "23:00", None), &["kiosk"]);
        check("kiosk_hours", hours("07:00", "23:30", None), &["kiosk"]);
        check(
            "kiosk_hours",
            hours("09:00", "08:00", None),
            &["kiosk_hours"],
        );
        check(
            "kiosk_hours",
            hours("08:00", "20:00", Some(("07:00", "17:00"))),
            &["koseki.weekday"],
        );
        check(
            "kiosk_hours",
            hours("08:00", "20:00", Some(("17:00", "09:00"))),
            &["koseki_kiosk_hours.weekday"],
        );
    }

    #[test]
    fn deputies_need_one_certifier_per_day() {
        check("certifier", deputies(&[]), &[]);
        check(
            "certifier",
            deputies(&[("2026-12-01", "2026-12-10"), ("2026-12-11", "2026-12-20")]),
            &[],
        );
        check(
            "certifier",
            deputies(&[("2026-12-05", "2026-12-20"), ("2026-12-01", "2026-12-05")]),
            &["deputies[0].from"],
        );
        check(
            "certifier",
            deputies(&[("2026-12-10", "2026-12-01")]),
            &["deputies[0].to"],
        );
        let mut nameless = deputies(&[]);
        if let SettingValue::Certifier(c) = &mut nameless {
            c.mayor = " ".into();
        }
        check("certifier", nameless, &["mayor"]);
    }

    #[test]
    fn terminals_name_their_printers_and_queues() {
        check(
            "terminal:本庁1",
            terminal(vec![printer("P001", "A4 レーザー")]),
            &[],
        );
        check(
            "terminal:本庁1",
            terminal(vec![printer("P001", "a"), printer("P001", "b")]),
            &["printers[1].code"],
        );
        check(
            "terminal:本庁1",
            terminal(vec![printer("P-1", &"長".repeat(65))]),
            &["printers[0].code", "printers[0].description"],
        );
        check("certifier", terminal(vec![]), &["value"]);
    }

    #[test]
    fn setting_names_round_trip_and_bad_ones_are_named() {
        for name in ["fees", "kiosk_hours", "certifier", "seal", "terminal:本庁1"] {
            assert_eq!(SettingKey::parse(name).unwrap().to_string(), name);
        }
        for bad in ["fee", "terminal:", "terminal:a b", "terminal:a/b"] {
            assert_eq!(
                SettingKey::parse(bad).unwrap_err().field,
                "setting",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_setting_replaces_its_fields_of_the_town() {
        let mut t = town();
        let value = fees(&[(Juminhyo, 350)], &[(Juminhyo, 250)]);
        value.apply(&mut t);
        assert_eq!(t.fee(Juminhyo, crate::Channel::Counter), Some(350));
        assert_eq!(t.fee(Juminhyo, crate::Channel::Kiosk), Some(250));
        assert_eq!(t.fee(Inkan, crate::Channel::Counter), None);
        assert_eq!(SettingValue::of_town(&SettingKey::Fees, &t), Some(value));
        assert_eq!(
            SettingValue::of_town(&SettingKey::Terminal("x".into()), &t),
            None
        );
    }

    #[test]
    fn a_printer_serves_one_terminal() {
        let SettingValue::Terminal(mut first) =
            terminal(vec![printer("P001", ""), printer("P002", "")])
        else {
            unreachable!()
        };
        let others: BTreeMap<String, TerminalSetting> =
            [("本庁1".to_owned(), first.clone())].into();
        let SettingValue::Terminal(mut second) =
            terminal(vec![printer("P003", ""), printer("P002", "")])
        else {
            unreachable!()
        };
        let fields = |t: &TerminalSetting, others: &BTreeMap<String, TerminalSetting>| {
            shared_printers("本庁2", t, others)
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(&second, &others), ["printers[1].code"]);
        // Saving the terminal itself again is no conflict.
        assert!(shared_printers("本庁1", &first, &others).is_empty());
        // A retired printer, or a retired terminal, frees the code.
        second.printers[1].active = false;
        assert!(fields(&second, &others).is_empty());
        second.printers[1].active = true;
        first.active = false;
        let others: BTreeMap<String, TerminalSetting> = [("本庁1".to_owned(), first)].into();
        assert!(fields(&second, &others).is_empty());
    }

    #[test]
    fn registered_terminals_and_printers_decide_who_issues() {
        let mut terminals = BTreeMap::new();
        assert_eq!(terminal_may_issue(&terminals, "どこか", "P9"), Ok(()));
        let SettingValue::Terminal(mut t) =
            terminal(vec![printer("P001", ""), printer("P002", "")])
        else {
            unreachable!()
        };
        t.printers[1].active = false;
        terminals.insert("本庁1".to_owned(), t.clone());
        assert_eq!(terminal_may_issue(&terminals, "本庁1", "P001"), Ok(()));
        for (terminal, printer, reason) in [
            ("本庁2", "P001", "terminal 本庁2 is not registered"),
            (
                "本庁1",
                "P003",
                "printer P003 is not registered for terminal 本庁1",
            ),
            ("本庁1", "P002", "printer P002 of terminal 本庁1 is retired"),
        ] {
            assert_eq!(
                terminal_may_issue(&terminals, terminal, printer),
                Err(reason.into())
            );
        }
        t.active = false;
        terminals.insert("本庁1".to_owned(), t);
        assert_eq!(
            terminal_may_issue(&terminals, "本庁1", "P001"),
            Err("terminal 本庁1 is retired".into())
        );
    }
}
