//! Rendering one certificate for a subject: load what the rules need, decide
//! eligibility, compose the certificate of the kind, render it, and check that
//! every page is bound to this request and this subject before anyone sees it.

use kofu_domain::eligibility::{EligibilityRequest, Refusal, SubjectData, Warning, decide};
use kofu_domain::{
    Applicant, CertificateKind, CertificateOptions, Channel, Decision, Fuhyo, Household,
    HouseholdSelection, IssueNumber, Koseki, Resident, date::local_date_time,
};
use kofu_render::cert::{self, IssueContext, RenderOptions, RenderedPdf};
use kofu_render::{FontBook, check_bindings};
use kofu_store::Store;
use time::OffsetDateTime;

use crate::AppError;

/// Whom a certificate is about.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectRef {
    /// A resident, by resident ID (every kind; 戸籍 kinds use the resident's 戸籍).
    Resident(String),
    /// A 戸籍 by ID (戸籍 kinds at the counter), optionally one member.
    Koseki {
        /// The 戸籍.
        koseki_id: String,
        /// One member (個人事項証明書, one person's 附票), or all.
        member_no: Option<u32>,
    },
}

/// One certificate to render.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    /// The request's ID, bound into every page.
    pub request_id: String,
    /// The certificate.
    pub kind: CertificateKind,
    /// Whom it is about.
    pub subject: SubjectRef,
    /// Options chosen.
    pub options: CertificateOptions,
    /// Counter or kiosk.
    pub channel: Channel,
    /// Who asks (counter); `None` at a kiosk, where the card holder asks.
    pub applicant: Option<Applicant>,
    /// When it is issued.
    pub at: OffsetDateTime,
    /// The copy's 発行番号.
    pub number: IssueNumber,
    /// The card presented at a kiosk (its status is part of the rules).
    pub card: Option<kofu_domain::Card>,
}

/// A rendered, checked certificate.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// The PDF and its page bindings.
    pub pdf: RenderedPdf,
    /// The subject ID bound into every page.
    pub subject_id: String,
    /// What a clerk must read before handing it over.
    pub warnings: Vec<Warning>,
}

/// Everything loaded about a subject.
pub(crate) struct Loaded {
    pub(crate) town: kofu_domain::Municipality,
    pub(crate) resident: Option<Resident>,
    pub(crate) household: Vec<Resident>,
    pub(crate) koseki: Option<Koseki>,
    pub(crate) seal: Option<kofu_domain::Seal>,
    pub(crate) tax: Option<kofu_domain::TaxRecord>,
    pub(crate) support_measures: Vec<kofu_domain::SupportMeasure>,
    pub(crate) suppressions: Vec<kofu_domain::Suppression>,
    /// The 附票 of every member of the 戸籍 (附票 certificates only).
    pub(crate) fuhyo: Vec<Fuhyo>,
    /// Everyone but the subject whom the certificate shows and who is a resident
    /// here (see [`SubjectData::others_shown`]).
    pub(crate) others_shown: Vec<Resident>,
}

impl Loaded {
    /// What the eligibility rules read, over this data. `support_measures: false`
    /// leaves the measures out, for a support officer's override (every other rule
    /// still applies).
    pub(crate) fn subject_data<'a>(
        &'a self,
        card: Option<&'a kofu_domain::Card>,
        support_measures: bool,
    ) -> SubjectData<'a> {
        SubjectData {
            municipality: &self.town,
            card,
            resident: self.resident.as_ref(),
            household: &self.household,
            seal: self.seal.as_ref(),
            koseki: self.koseki.as_ref(),
            tax: self.tax.as_ref(),
            others_shown: &self.others_shown,
            support_measures: if support_measures {
                &self.support_measures
            } else {
                &[]
            },
            suppressions: &self.suppressions,
        }
    }
}

/// The town and a resident's records read before the request was made, in the same
/// statement as something else (a kiosk's card: [`Store::card_holder`]), so that
/// [`load`] does not read them again.
pub(crate) struct Prefetched {
    /// The resident they were read for (`""`: none, as for an unknown card).
    pub(crate) resident_id: String,
    pub(crate) town: Option<kofu_domain::Municipality>,
    pub(crate) records: Option<kofu_store::ResidentRecords>,
}

pub(crate) async fn load(
    store: &Store,
    req: &CertificateRequest,
    prefetched: Option<Prefetched>,
) -> Result<Loaded, AppError> {
    // The town, the subject and what the rules read about them: one statement for a
    // resident (every kiosk request), two for a 戸籍.
    let (town, records, koseki) = match &req.subject {
        SubjectRef::Resident(id) => {
            let (town, records) = match prefetched {
                Some(p) if p.resident_id == *id => (p.town, p.records),
                _ => store.town_and_resident_records(id).await?,
            };
            let koseki = match (&records, req.kind.is_koseki()) {
                (Some(r), true) => store.koseki_for(&r.resident).await?,
                _ => None,
            };
            (town, records, koseki)
        }
        SubjectRef::Koseki {
            koseki_id,
            member_no,
        } => {
            let town = store.municipality().await?;
            let koseki = store
                .koseki(koseki_id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("戸籍 {koseki_id}")))?;
            let linked = member_no
                .and_then(|n| koseki.member(n))
                .and_then(|m| m.resident_id.clone());
            let records = match linked {
                Some(id) => store.resident_records(&id).await?,
                None => None,
            };
            (town, records, Some(koseki))
        }
    };
    let town = town.ok_or(AppError::NotFound(
        "municipality (import the registry feed first)".into(),
    ))?;
    let tax = match (&records, req.options.tax_year) {
        (Some(r), Some(year)) => store.tax(&r.resident.resident_id, year).await?,
        _ => None,
    };
    let (resident, household, seal, mut suppressions, mut support_measures) = match records {
        Some(r) => (
            Some(r.resident),
            r.household,
            r.seal,
            r.suppressions,
            r.support_measures,
        ),
        None => (None, Vec::new(), None, Vec::new(), Vec::new()),
    };
    let mut fuhyo = Vec::new();
    if let (CertificateKind::Fuhyo, Some(k)) = (req.kind, &koseki) {
        for m in &k.members {
            if let Some(f) = store.fuhyo(&k.koseki_id, m.member_no).await? {
                fuhyo.push(f);
            }
        }
    }
    let others_shown = others_shown(store, req, resident.as_ref(), &household, &koseki).await?;
    // The subject's records brought the support measures of the whole household and
    // the suppressions of the subject and the household: what is missing is the
    // measures of those shown from outside the household, and the person-scoped
    // suppressions (and other households') of everyone shown.
    if !others_shown.is_empty() {
        let outside: Vec<String> = others_shown
            .iter()
            .filter(|r| !household.iter().any(|m| m.resident_id == r.resident_id))
            .map(|r| r.resident_id.clone())
            .collect();
        if !outside.is_empty() {
            for m in store.support_measures(&outside).await? {
                if !support_measures.contains(&m) {
                    support_measures.push(m);
                }
            }
        }
        let ids: Vec<String> = others_shown.iter().map(|r| r.resident_id.clone()).collect();
        let mut households: Vec<String> = others_shown
            .iter()
            .map(|r| r.household_id.clone())
            .filter(|h| resident.as_ref().is_none_or(|r| r.household_id != *h))
            .collect();
        households.sort();
        households.dedup();
        for s in store.suppressions_of(&ids, &households).await? {
            if !suppressions.contains(&s) {
                suppressions.push(s);
            }
        }
    }
    Ok(Loaded {
        town,
        resident,
        household,
        koseki,
        seal,
        tax,
        support_measures,
        suppressions,
        fuhyo,
        others_shown,
    })
}

/// Everyone but the subject whom the certificate would show, as residents: the
/// household members a 住民票 lists, the members of a 戸籍 certificate or of a 附票.
/// Whatever form the subject was named in, the same certificate shows the same
/// persons, and the rules see them all.
async fn others_shown(
    store: &Store,
    req: &CertificateRequest,
    resident: Option<&Resident>,
    household: &[Resident],
    koseki: &Option<Koseki>,
) -> Result<Vec<Resident>, AppError> {
    let subject = resident.map(|r| r.resident_id.as_str());
    let mut shown: Vec<Resident> = match req.kind {
        CertificateKind::Juminhyo | CertificateKind::KisaiJiko => match &req.options.household {
            HouseholdSelection::SelfOnly => Vec::new(),
            HouseholdSelection::All => household.to_vec(),
            HouseholdSelection::Members(ids) => household
                .iter()
                .filter(|m| ids.contains(&m.resident_id))
                .cloned()
                .collect(),
        },
        CertificateKind::Inkan | CertificateKind::ShotokuKazei => Vec::new(),
        CertificateKind::KosekiZenbu | CertificateKind::KosekiKojin | CertificateKind::Fuhyo => {
            let Some(k) = koseki else {
                return Ok(Vec::new());
            };
            let member_nos: Vec<u32> = match (req.kind, member_of(req, k, resident)?) {
                (CertificateKind::KosekiZenbu, _) | (_, None) => {
                    k.members.iter().map(|m| m.member_no).collect()
                }
                (_, Some(n)) => vec![n],
            };
            store
                .koseki_residents(k, &member_nos)
                .await?
                .into_iter()
                .map(|(_, r)| r)
                .collect()
        }
    };
    shown.retain(|r| Some(r.resident_id.as_str()) != subject);
    shown.dedup_by(|a, b| a.resident_id == b.resident_id);
    Ok(shown)
}

/// Loads the subject and applies the eligibility rules: the subject's data and the
/// clerk's warnings, or the refusal.
pub(crate) async fn check_eligibility(
    store: &Store,
    req: &CertificateRequest,
) -> Result<(Loaded, Vec<Warning>), AppError> {
    check_eligibility_with(store, req, None).await
}

/// [`check_eligibility`] with the subject's records read already (see [`Prefetched`]).
pub(crate) async fn check_eligibility_with(
    store: &Store,
    req: &CertificateRequest,
    prefetched: Option<Prefetched>,
) -> Result<(Loaded, Vec<Warning>), AppError> {
    req.options
        .check(req.kind, req.channel, req.applicant.as_ref())
        .map_err(AppError::InvalidOptions)?;
    let data = load(store, req, prefetched).await?;
    let decision = decide(
        &EligibilityRequest {
            kind: req.kind,
            channel: req.channel,
            at: req.at,
            tax_year: req.options.tax_year,
        },
        &data.subject_data(req.card.as_ref(), true),
    );
    match decision {
        Decision::Refused(refusal) => Err(AppError::Refused(refusal)),
        Decision::Issuable { warnings } => Ok((data, warnings)),
    }
}

/// Renders one certificate, or says why it may not be issued.
pub async fn render_certificate(
    store: &Store,
    fonts: &FontBook,
    req: &CertificateRequest,
) -> Result<Certificate, AppError> {
    let (data, warnings) = check_eligibility(store, req).await?;
    render_loaded(fonts, req, &data, warnings)
}

/// Renders a certificate from data already loaded and decided on: no IO, so a
/// caller may run it inside its write transaction.
pub(crate) fn render_loaded(
    fonts: &FontBook,
    req: &CertificateRequest,
    data: &Loaded,
    warnings: Vec<Warning>,
) -> Result<Certificate, AppError> {
    let (issue_date, time_of_day) = local_date_time(req.at);
    let ctx = IssueContext {
        municipality: &data.town,
        issue_date,
        issue_number: req.number.clone(),
        request_id: req.request_id.clone(),
        official_seal: cert::official_seal(&data.town)?,
        omit_seal: req.options.omit_seal,
    };
    let missing = |what: &str| AppError::NotFound(what.to_owned());
    let doc = match req.kind {
        CertificateKind::Juminhyo | CertificateKind::KisaiJiko => {
            let r = data.resident.as_ref().ok_or_else(|| missing("resident"))?;
            let household = Household::new(r.household_id.clone(), data.household.clone());
            if req.kind == CertificateKind::Juminhyo {
                cert::juminhyo::compose(&household, r, &req.options, &ctx)?
            } else {
                cert::kisai_jiko::compose(&household, r, &req.options, &ctx)?
            }
        }
        CertificateKind::Inkan => {
            let r = data.resident.as_ref().ok_or_else(|| missing("resident"))?;
            let seal = data
                .seal
                .as_ref()
                .ok_or_else(|| missing("seal registration"))?;
            cert::inkan::compose(r, seal, &req.options, &ctx)?
        }
        CertificateKind::ShotokuKazei => {
            let r = data.resident.as_ref().ok_or_else(|| missing("resident"))?;
            let tax = data.tax.as_ref().ok_or_else(|| missing("tax record"))?;
            cert::shotoku_kazei::compose(r, tax, &req.options, &ctx)?
        }
        CertificateKind::KosekiZenbu => {
            let koseki = data.koseki.as_ref().ok_or_else(|| missing("戸籍"))?;
            cert::koseki::compose_zenbu(koseki, &ctx)?
        }
        CertificateKind::KosekiKojin | CertificateKind::Fuhyo => {
            let koseki = data.koseki.as_ref().ok_or_else(|| missing("戸籍"))?;
            let member_no = member_of(req, koseki, data.resident.as_ref())?;
            if req.kind == CertificateKind::KosekiKojin {
                let no =
                    member_no.ok_or_else(|| missing("the member of the 戸籍 (give --member)"))?;
                cert::koseki::compose_kojin(koseki, no, &ctx)?
            } else {
                let fuhyo: Vec<Fuhyo> = data
                    .fuhyo
                    .iter()
                    .filter(|f| member_no.is_none_or(|n| n == f.member_no))
                    .cloned()
                    .collect();
                cert::fuhyo::compose(koseki, &fuhyo, &ctx)?
            }
        }
    };
    let pdf = cert::render(
        &doc,
        fonts,
        &RenderOptions {
            issued_at: (issue_date, time_of_day),
        },
    )?;
    // The binding check reads the bytes that will be released, not the model.
    check_bindings(&pdf.bytes, &req.request_id, &doc.subject.id)?;
    Ok(Certificate {
        pdf,
        subject_id: doc.subject.id.clone(),
        warnings,
    })
}

/// The member a 戸籍 certificate is about: the one named, else the resident's own
/// entry, else (for a 附票 by 戸籍 ID) everyone.
fn member_of(
    req: &CertificateRequest,
    koseki: &Koseki,
    resident: Option<&Resident>,
) -> Result<Option<u32>, AppError> {
    match &req.subject {
        SubjectRef::Koseki {
            member_no: Some(n), ..
        } => koseki
            .member(*n)
            .map(|m| Some(m.member_no))
            .ok_or_else(|| AppError::NotFound(format!("member {n} of 戸籍 {}", koseki.koseki_id))),
        SubjectRef::Koseki {
            member_no: None, ..
        } => Ok(None),
        SubjectRef::Resident(_) => Ok(resident
            .and_then(|r| koseki.member_for(r))
            .map(|m| m.member_no)),
    }
}

/// Makes a refusal readable for a clerk or an operator.
pub fn describe_refusal(r: &Refusal) -> String {
    format!(
        "{}: {} ({})",
        r.reason.code(),
        r.reason.kiosk_message(),
        r.detail
    )
}
