//! The supervisor's daily report as a PDF ([`Office::report_pdf`]): the same
//! [`DayReport`] the report screen shows, rendered by the rendering core
//! ([`kofu_render::render_report`]) with its labels in the reader's [`Language`].
//!
//! Labels come from the repository's `locales/*.json` (the counter app's own
//! catalogue, compiled in by rust-i18n at the crate root). rust-i18n's current locale
//! is process-wide, so it is never set: every lookup names its locale. The files use
//! `{name}` placeholders (the app's syntax, not rust-i18n's `%{name}`), so the raw
//! message is fetched and [`fill`] substitutes them.

use std::collections::BTreeMap;

use kofu_domain::{CertificateKind, Date};
use kofu_render::{ReportChart, ReportDocument, ReportTable, render_report};
use kofu_store::AuditEntry;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::counter::DayReport;
use crate::staff::{Action, StaffSession};
use crate::{AppError, Office};

/// The language a generated document is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    /// Japanese (`ja`), the default.
    Ja,
    /// English (`en`).
    En,
}

impl Language {
    /// The language of a locale code: `ja` or `en`; anything else is a bad request
    /// on the field `lang`.
    pub fn from_code(code: &str) -> Result<Language, AppError> {
        match code {
            "ja" => Ok(Language::Ja),
            "en" => Ok(Language::En),
            other => Err(AppError::BadRequest {
                field: "lang",
                reason: format!(
                    "ja か en を指定してください（{:?} には対応していません）",
                    other.chars().take(16).collect::<String>()
                ),
            }),
        }
    }

    /// The locale code (`ja`, `en`), as in `locales/<code>.json`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

/// The report of a day as a PDF file, ready to be saved or printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPdf {
    /// The file name to save it under (`kofu-report-2026-05-07.pdf`).
    pub filename: String,
    /// The PDF.
    pub pdf: Vec<u8>,
    /// SHA-256 of the PDF, lowercase hex (as recorded in the audit log).
    pub sha256: String,
    /// Its page count.
    pub pages: usize,
}

/// The message `key` in `lang`, raw (placeholders left in), or `None` when the
/// catalogue has no such key.
fn message(lang: Language, key: &str) -> Option<String> {
    // The lookup `t!` makes, without its `%{}` interpolation and without turning a
    // missing key into "locale.key".
    crate::_rust_i18n_try_translate(lang.code(), key).map(std::borrow::Cow::into_owned)
}

/// The message `key`, or the key itself if the catalogue lacks it (a test checks
/// that every key used here is in both catalogues).
fn label(lang: Language, key: &str) -> String {
    message(lang, key).unwrap_or_else(|| key.to_owned())
}

/// `template` with each `{name}` replaced by its value.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |s, (name, value)| {
        s.replace(&format!("{{{name}}}"), value)
    })
}

/// An instant as the town's wall clock: `2026-05-07 10:15:00`.
fn jst(t: OffsetDateTime) -> String {
    let l = t.to_offset(kofu_domain::date::JST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        l.year(),
        u8::from(l.month()),
        l.day(),
        l.hour(),
        l.minute(),
        l.second()
    )
}

/// A cell of a report row as printed: instants in Japan time, other strings as they
/// are, numbers in full, structures as JSON (what the report screen shows).
fn cell(key: &str, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) if key == "at" || key.ends_with("_at") => {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(jst)
                .unwrap_or_else(|_| s.clone())
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A table of report rows: the columns are every key the rows have, in order of
/// first appearance, headed by `report.col.<key>` where the catalogue has it.
fn rows_table(lang: Language, title: String, rows: &[Value]) -> ReportTable {
    let mut keys: Vec<&str> = Vec::new();
    for row in rows {
        if let Some(o) = row.as_object() {
            for k in o.keys() {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
    }
    ReportTable {
        title,
        columns: keys
            .iter()
            .map(|k| message(lang, &format!("report.col.{k}")).unwrap_or_else(|| (*k).to_owned()))
            .collect(),
        rows: rows
            .iter()
            .map(|row| keys.iter().map(|k| cell(k, &row[*k])).collect())
            .collect(),
        empty: label(lang, "report.empty"),
    }
}

/// The day's close, as item and value (the audit head is one long value), or 未締め.
fn close_table(lang: Language, close: Option<&crate::counter::DayCloseRecord>) -> ReportTable {
    let t = |key: &str| label(lang, key);
    ReportTable {
        title: t("report.close.title"),
        columns: vec![t("report.close.item"), t("report.close.value")],
        rows: close.map_or_else(Vec::new, |c| {
            vec![
                vec![t("report.close.supervisor"), c.supervisor.clone()],
                vec![t("report.close.at"), jst_text(&c.at)],
                vec![
                    t("report.close.counted"),
                    format!("{} 円", c.counted_cash_yen),
                ],
                vec![
                    t("report.close.difference"),
                    format!("{} 円", c.difference_yen),
                ],
                vec![t("report.close.audit_head"), c.audit_head.clone()],
            ]
        }),
        empty: t("report.close.open"),
    }
}

/// An RFC 3339 instant in JST to the second, as it is written elsewhere in the report.
fn jst_text(at: &str) -> String {
    OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map(jst)
        .map(|s| s.get(..19).map(str::to_owned).unwrap_or(s))
        .unwrap_or_else(|_| at.to_owned())
}

/// Bars for a count map: the keys of `order` first (0 when absent), then any other
/// key, sorted; labels from the catalogue under `prefix` where it has them.
fn bars(
    lang: Language,
    counts: &BTreeMap<String, i64>,
    order: &[&str],
    prefix: Option<&str>,
) -> Vec<(String, i64)> {
    let extra = counts.keys().filter(|k| !order.contains(&k.as_str()));
    order
        .iter()
        .map(|k| (*k).to_owned())
        .chain(extra.cloned())
        .map(|k| {
            let shown = prefix
                .and_then(|p| message(lang, &format!("{p}.{k}")))
                .unwrap_or_else(|| k.clone());
            (shown, counts.get(&k).copied().unwrap_or(0))
        })
        .collect()
}

/// The report document of `r` in `lang`, generated at `now`.
pub(crate) fn report_document(
    r: &DayReport,
    lang: Language,
    now: OffsetDateTime,
) -> ReportDocument {
    let t = |key: &str| label(lang, key);
    let title = fill(&t("report.pdf.title"), &[("day", &r.day)]);
    let generated = jst(now);
    let generated_minute = generated.get(..16).unwrap_or(&generated);
    let issuances: i64 = r.by_kind.values().sum();
    let count = |n: usize| n.to_string();
    let figures = vec![
        (t("report.pdf.issuances"), issuances.to_string()),
        (t("report.pdf.copies"), r.copies.to_string()),
        (t("report.voids"), count(r.voids.len())),
        (t("report.overrides"), count(r.overrides.len())),
        (t("report.kiosk_failures"), count(r.kiosk_failures.len())),
        (
            t("report.kiosk_without_outcome"),
            count(r.kiosk_without_outcome.len()),
        ),
        (t("report.kiosk_errors"), count(r.kiosk_errors.len())),
        (t("report.render_alerts"), count(r.render_alerts.len())),
        (
            t("report.replica_downloads"),
            count(r.replica_downloads.len()),
        ),
    ];
    let kinds: Vec<&str> = CertificateKind::ALL.iter().map(|k| k.code()).collect();
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let hours: Vec<&str> = hours.iter().map(String::as_str).collect();
    let charts = vec![
        ReportChart {
            title: t("report.by_kind"),
            bars: bars(lang, &r.by_kind, &kinds, Some("cert.short")),
        },
        ReportChart {
            title: t("report.by_channel"),
            bars: bars(lang, &r.by_channel, &["counter", "kiosk"], Some("channel")),
        },
        ReportChart {
            title: t("report.by_hour"),
            bars: bars(lang, &r.by_hour, &hours, None),
        },
    ];
    let a = &r.access_anomalies;
    let anomaly = |key: &str| format!("{} — {}", t("report.anomalies"), t(key));
    let tables = vec![
        ReportTable {
            title: t("report.by_staff"),
            columns: vec![t("report.col.staff"), t("report.col.count")],
            rows: r
                .by_staff
                .iter()
                .map(|(login, n)| vec![login.clone(), n.to_string()])
                .collect(),
            empty: t("report.empty"),
        },
        rows_table(lang, t("report.voids"), &r.voids),
        rows_table(lang, t("report.overrides"), &r.overrides),
        rows_table(lang, t("report.kiosk_failures"), &r.kiosk_failures),
        rows_table(
            lang,
            t("report.kiosk_without_outcome"),
            &r.kiosk_without_outcome,
        ),
        rows_table(lang, t("report.kiosk_errors"), &r.kiosk_errors),
        rows_table(lang, t("report.render_alerts"), &r.render_alerts),
        rows_table(lang, t("report.replica_downloads"), &r.replica_downloads),
        rows_table(lang, t("report.print_failures"), &r.print_failures),
        rows_table(lang, anomaly("report.anomalies.late_night"), &a.late_night),
        rows_table(
            lang,
            anomaly("report.anomalies.many_lookups"),
            &a.many_lookups,
        ),
        rows_table(
            lang,
            anomaly("report.anomalies.lookups_without_issuance"),
            &a.lookups_without_issuance,
        ),
        rows_table(lang, anomaly("report.anomalies.denied"), &a.denied),
        close_table(lang, r.close.as_ref()),
    ];
    let local = now.to_offset(kofu_domain::date::JST);
    ReportDocument {
        meta_title: title.clone(),
        title,
        subtitle: fill(&t("report.pdf.generated"), &[("at", generated_minute)]),
        figures,
        charts,
        tables,
        footer: t("report.pdf.footer"),
        // `{page}` and `{pages}` are filled per page by the renderer.
        page_label: t("report.pdf.page"),
        continued: t("report.pdf.continued"),
        generated_at: (
            u16::try_from(local.year()).unwrap_or(0),
            u8::from(local.month()),
            local.day(),
            local.hour(),
            local.minute(),
            local.second(),
        ),
    }
}

impl Office {
    /// The supervisor's report of `day` as a PDF in `lang`, generated at `now`.
    ///
    /// The same right as viewing the report (supervisor, administrator; a refusal is
    /// audited as `access.denied`) and the same content; the export is audited as
    /// `counter.report_pdf` with the PDF's language, SHA-256 and page count.
    pub async fn report_pdf(
        &self,
        session: &StaffSession,
        day: Date,
        lang: Language,
        now: OffsetDateTime,
    ) -> Result<ReportPdf, AppError> {
        self.authorize(session, Action::ViewReport, now).await?;
        let report = self.collect_day_report(day, now).await?;
        let doc = report_document(&report, lang, now);
        let rendered = render_report(&doc, &self.fonts)?;
        let sha256 = crate::staff::hex(&Sha256::digest(&rendered.bytes));
        let tx = self.store.begin_ledger().await?;
        tx.commit(AuditEntry {
            at: crate::kiosk::rfc3339(now),
            actor: session.login.clone(),
            action: "counter.report_pdf".into(),
            target: report.day.clone(),
            detail: serde_json::json!({
                "lang": lang.code(), "sha256": sha256, "pages": rendered.pages,
            })
            .to_string(),
        })
        .await?;
        Ok(ReportPdf {
            filename: format!("kofu-report-{}.pdf", report.day),
            pdf: rendered.bytes,
            sha256,
            pages: rendered.pages,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The messages the report always uses.
    const KEYS: &[&str] = &[
        "report.pdf.title",
        "report.pdf.generated",
        "report.pdf.page",
        "report.pdf.continued",
        "report.pdf.footer",
        "report.pdf.issuances",
        "report.pdf.copies",
        "report.by_kind",
        "report.by_channel",
        "report.by_hour",
        "report.by_staff",
        "report.col.staff",
        "report.col.count",
        "report.voids",
        "report.overrides",
        "report.kiosk_failures",
        "report.kiosk_without_outcome",
        "report.kiosk_errors",
        "report.render_alerts",
        "report.replica_downloads",
        "report.anomalies",
        "report.anomalies.late_night",
        "report.anomalies.many_lookups",
        "report.anomalies.lookups_without_issuance",
        "report.anomalies.denied",
        "report.empty",
    ];

    fn catalogue(code: &str) -> serde_json::Map<String, Value> {
        let path = format!("{}/../../locales/{code}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn every_key_used_is_compiled_in_for_both_languages() {
        for lang in [Language::Ja, Language::En] {
            let file = catalogue(lang.code());
            for key in KEYS {
                let compiled = message(lang, key);
                assert_eq!(
                    compiled.as_deref(),
                    file.get(*key).and_then(Value::as_str),
                    "{} {key}",
                    lang.code()
                );
                assert!(compiled.is_some(), "{} lacks {key}", lang.code());
            }
        }
        assert_eq!(message(Language::En, "report.no.such.key"), None);
    }

    #[test]
    fn languages_are_ja_and_en_only() {
        assert_eq!(Language::from_code("ja").unwrap(), Language::Ja);
        assert_eq!(Language::from_code("en").unwrap(), Language::En);
        for bad in ["", "xx", "JA", "ja-JP"] {
            let e = Language::from_code(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_request", "{bad}");
        }
    }

    #[test]
    fn document_is_labelled_in_the_language_asked_for() {
        let mut r = DayReport {
            day: "2026-05-07".into(),
            copies: 5,
            ..DayReport::default()
        };
        r.by_kind.insert("juminhyo".into(), 4);
        r.by_channel.insert("counter".into(), 2);
        r.voids.push(serde_json::json!({
            "issuance_id": "I-1", "staff": "bucho", "reason": "誤り",
            "at": "2026-05-07T01:15:00Z",
        }));
        // 10:15 JST on the 7th.
        let now = OffsetDateTime::from_unix_timestamp(1_778_116_500).unwrap();
        let ja = report_document(&r, Language::Ja, now);
        assert_eq!(ja.title, "交付日報 2026-05-07");
        assert_eq!(ja.subtitle, "作成 2026-05-07 10:15（日本時間）");
        assert_eq!(ja.generated_at, (2026, 5, 7, 10, 15, 0));
        assert_eq!(ja.figures[0], ("交付件数".to_owned(), "4".to_owned()));
        assert_eq!(ja.charts[0].bars[0], ("住民票".to_owned(), 4));
        assert_eq!(ja.charts[0].bars.len(), 7, "every kind, absent ones at 0");
        assert_eq!(ja.charts[2].bars.len(), 24);
        let voids = &ja.tables[1];
        assert_eq!(voids.columns, ["日時", "交付ID", "理由", "職員"]);
        assert_eq!(voids.rows[0][0], "2026-05-07 10:15:00");
        let en = report_document(&r, Language::En, now);
        assert_eq!(en.title, "Daily issuance report 2026-05-07");
        assert_eq!(en.charts[1].bars[0], ("Counter".to_owned(), 2));
        assert_eq!(en.page_label, "Page {page} of {pages}");
        // No label fell back to its key: every one the document uses is catalogued.
        for doc in [&ja, &en] {
            let mut texts = vec![&doc.title, &doc.subtitle, &doc.footer, &doc.continued];
            texts.extend(doc.figures.iter().map(|(l, _)| l));
            texts.extend(doc.charts.iter().map(|c| &c.title));
            texts.extend(
                doc.charts
                    .iter()
                    .flat_map(|c| c.bars.iter().map(|(l, _)| l)),
            );
            texts.extend(doc.tables.iter().flat_map(|t| [&t.title, &t.empty]));
            texts.extend(doc.tables.iter().flat_map(|t| t.columns.iter()));
            for t in texts {
                assert!(
                    !t.contains("report.") && !t.contains("cert.short") && !t.contains("channel."),
                    "uncatalogued label {t}"
                );
            }
        }
    }

    #[test]
    fn fill_replaces_named_placeholders_only() {
        assert_eq!(fill("{a}-{b}-{c}", &[("a", "1"), ("b", "2")]), "1-2-{c}");
    }
}
