//! `kofu render`: one certificate to a PDF file, through the same use case the
//! counter and the kiosk path call.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use kofu_app::{AppError, CertificateRequest, SubjectRef};
use kofu_domain::{
    Applicant, CertificateKind, CertificateOptions, Channel, Date, HouseholdSelection, IssueNumber,
    IssuePoint,
};

/// Flags of `kofu render`.
#[derive(Args)]
pub struct RenderArgs {
    /// Database URL (see `import`).
    #[arg(long)]
    database: Option<String>,
    /// juminhyo, kisai_jiko, inkan, koseki_zenbu, koseki_kojin, fuhyo or shotoku_kazei.
    #[arg(long)]
    kind: CertificateKind,
    /// The subject, by resident ID.
    #[arg(long, conflicts_with = "koseki", required_unless_present = "koseki")]
    resident: Option<String>,
    /// The subject 戸籍, by ID (戸籍 kinds).
    #[arg(long)]
    koseki: Option<String>,
    /// The member of the 戸籍 (個人事項証明書, one person's 附票).
    #[arg(long, requires = "koseki")]
    member: Option<u32>,
    /// Household members shown: `all`, `self`, or resident IDs separated by commas.
    #[arg(long, default_value = "self")]
    household: String,
    /// Show 世帯主 and 続柄.
    #[arg(long)]
    show_relationship: bool,
    /// Show 本籍 and 筆頭者.
    #[arg(long)]
    show_honseki: bool,
    /// Show the 個人番号.
    #[arg(long)]
    show_my_number: bool,
    /// Show the 旧氏 beside the name.
    #[arg(long)]
    show_former_surname: bool,
    /// Fiscal year of a 所得・課税証明書.
    #[arg(long)]
    tax_year: Option<i32>,
    /// Issue date (JST), YYYY-MM-DD.
    #[arg(long)]
    date: Date,
    /// Counter terminal name in the 発行番号.
    #[arg(long, default_value = "本庁1")]
    terminal: String,
    /// Printer name in the 発行番号.
    #[arg(long, default_value = "P001")]
    printer: String,
    /// Serial in the 発行番号.
    #[arg(long, default_value_t = 1)]
    serial: u32,
    /// Output PDF.
    #[arg(short = 'o', long = "out")]
    out: PathBuf,
}

/// Renders the certificate; a refusal exits non-zero with the reason.
pub async fn run(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let store = crate::database::open(args.database.clone()).await?;
    let fonts = kofu_render::FontBook::load(&kofu_render::SystemFonts::from_env()).context(
        "cannot load the certificate fonts (Debian: fonts-ipaexfont, fonts-ipamj-mincho)",
    )?;
    let town = store
        .municipality()
        .await?
        .map(|m| m.name)
        .unwrap_or_default();
    let household = match args.household.as_str() {
        "all" => HouseholdSelection::All,
        "self" => HouseholdSelection::SelfOnly,
        ids => HouseholdSelection::Members(
            ids.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
    };
    let subject = match (&args.resident, &args.koseki) {
        (Some(id), _) => SubjectRef::Resident(id.clone()),
        (None, Some(id)) => SubjectRef::Koseki {
            koseki_id: id.clone(),
            member_no: args.member,
        },
        (None, None) => anyhow::bail!("give --resident or --koseki"),
    };
    // Noon JST: counter rules depend on the day, not the minute.
    let at = args
        .date
        .as_time()
        .with_hms(12, 0, 0)?
        .assume_offset(kofu_domain::date::JST);
    let request = CertificateRequest {
        // Derived from the inputs, so the same command gives the same bytes.
        request_id: format!(
            "cli-{}-{}-{}-{}",
            args.date.compact(),
            args.terminal,
            args.printer,
            args.serial
        ),
        kind: args.kind,
        subject,
        options: CertificateOptions {
            household,
            show_relationship: args.show_relationship,
            show_honseki: args.show_honseki,
            show_my_number: args.show_my_number,
            show_former_surname: args.show_former_surname,
            show_resident_code: false,
            tax_year: args.tax_year,
            omit_seal: false,
        },
        channel: Channel::Counter,
        applicant: Some(Applicant::Person),
        at,
        number: IssueNumber {
            date: args.date,
            municipality: town,
            point: IssuePoint::Counter {
                terminal: args.terminal.clone(),
                printer: args.printer.clone(),
            },
            serial: args.serial,
        },
        card: None,
    };
    match kofu_app::render_certificate(&store, &fonts, &request).await {
        Ok(cert) => {
            std::fs::write(&args.out, &cert.pdf.bytes)
                .with_context(|| format!("cannot write {}", args.out.display()))?;
            for w in &cert.warnings {
                eprintln!("warning: {}: {}", w.code, w.detail);
            }
            println!(
                "{}",
                serde_json::json!({"out": args.out, "pages": cert.pdf.pages, "bytes": cert.pdf.bytes.len(), "subject": cert.subject_id})
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(AppError::Refused(r)) => {
            eprintln!(
                "kofu: refused: {}",
                kofu_app::certificate::describe_refusal(&r)
            );
            Ok(ExitCode::from(3))
        }
        Err(e) => Err(e.into()),
    }
}
