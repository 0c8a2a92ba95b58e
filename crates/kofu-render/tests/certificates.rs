//! Certificate tests, data-driven through one `check` helper: render, then assert on
//! what poppler extracts — every required item present, nothing the options hid —
//! plus `qpdf --check`, determinism and the page bindings.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "certificates/references.rs"]
mod references;

use common::*;
use kofu_domain::koseki::FuhyoEntry;
use kofu_domain::records::SealStatus;
use kofu_domain::sample;
use kofu_domain::{
    CertificateOptions, Date, Fuhyo, Household, HouseholdSelection, IssueNumber, IssuePoint,
    Municipality, Resident, TimeOfDay,
};
use kofu_render::cert::{
    self, fuhyo, inkan, juminhyo, kisai_jiko, koseki, official_seal, shotoku_kazei,
};
use kofu_render::{
    CertificateDocument, IssueContext, RenderError, RenderOptions, RenderedPdf, check_bindings,
    render,
};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn municipality() -> &'static Municipality {
    static M: std::sync::OnceLock<Municipality> = std::sync::OnceLock::new();
    M.get_or_init(sample::municipality)
}

fn ctx(date: &str) -> IssueContext<'static> {
    let m = municipality();
    IssueContext {
        municipality: m,
        issue_date: d(date),
        issue_number: IssueNumber {
            date: d(date),
            municipality: m.name.clone(),
            point: IssuePoint::Counter {
                terminal: "本庁1".into(),
                printer: "P001".into(),
            },
            serial: 11,
        },
        request_id: "req-0001".into(),
        official_seal: official_seal(m).unwrap(),
        omit_seal: false,
    }
}

fn household() -> Household {
    Household::new(
        "H0001",
        vec![
            sample::head_of_household(),
            sample::spouse(),
            sample::child(),
        ],
    )
}

fn opts() -> RenderOptions {
    RenderOptions {
        issued_at: (d("2026-05-02"), TimeOfDay::from_hm(10, 15).unwrap()),
    }
}

struct Checked {
    pdf: RenderedPdf,
    pages: Vec<String>,
}

/// Renders `doc` and checks: every `must` string in the text, no `must_not` string,
/// qpdf clean, deterministic bytes, bindings on every page, 認証文 on the last page
/// only, 発行番号 `i/n` and the subject on every page.
fn check(doc: &CertificateDocument, must: &[&str], must_not: &[&str]) -> Checked {
    let pdf = render(doc, book(), &opts()).unwrap_or_else(|e| panic!("render failed: {e}"));
    let again = render(doc, book(), &opts()).unwrap();
    assert!(pdf.bytes == again.bytes, "not deterministic");
    qpdf_check(&pdf.bytes);
    // KOFU_TEST_DUMP=dir keeps the PDFs for looking at them.
    if let Some(dir) = std::env::var_os("KOFU_TEST_DUMP") {
        let name = format!("{}-{}.pdf", doc.kind.code(), doc.fixed.issue_date);
        std::fs::write(std::path::Path::new(&dir).join(name), &pdf.bytes).unwrap();
    }
    let pages = pdftotext_pages(&pdf.bytes);
    assert_eq!(pages.len(), pdf.pages, "page count");
    let all = squash(&pages.join(""));
    for m in must {
        assert!(
            all.contains(&squash(m)),
            "missing `{m}` in:\n{}",
            pages.join("\n----\n")
        );
    }
    for m in must_not {
        assert!(
            !all.contains(&squash(m)),
            "`{m}` should be hidden in:\n{}",
            pages.join("\n----\n")
        );
    }
    let n = pdf.pages;
    assert_eq!(
        check_bindings(&pdf.bytes, &doc.request_id, &doc.subject.id).unwrap(),
        n
    );
    assert_eq!(pdf.page_subjects.len(), n);
    let cert = squash(&doc.fixed.certification);
    for (i, p) in pages.iter().enumerate() {
        let p = squash(p);
        let number = squash(&doc.fixed.issue_number.on_page(i as u32 + 1, n as u32));
        assert!(
            p.contains(&number),
            "page {} lacks 発行番号 {number}",
            i + 1
        );
        assert!(
            p.contains(&squash(&doc.subject.name)),
            "page {} lacks the subject",
            i + 1
        );
        assert_eq!(
            p.contains(&cert),
            i + 1 == n,
            "認証文 must be on the last page only (page {})",
            i + 1
        );
        let b = &pdf.page_subjects[i];
        assert_eq!(
            (b.page, b.pages, b.subject_id.as_str()),
            (i + 1, n, doc.subject.id.as_str())
        );
    }
    Checked { pdf, pages }
}

#[test]
fn juminhyo_whole_household_with_every_option() {
    let h = household();
    let o = CertificateOptions {
        household: HouseholdSelection::All,
        show_relationship: true,
        show_honseki: true,
        show_my_number: true,
        show_former_surname: true,
        ..Default::default()
    };
    let doc = juminhyo::compose(&h, &h.members[0], &o, &ctx("2026-05-02")).unwrap();
    check(
        &doc,
        &[
            "住民票の写し",
            "見本県見本市中央一丁目2番3号",
            "見本 太郎",
            "見本 花子",
            "見本 一郎",
            "旧氏",
            "葛\u{E0102}西",
            "世帯主",
            "妻",
            "昭和55年4月1日",
            "平成28年5月5日",
            "東京都千代田区霞が関二丁目1番2号",
            "本籍",
            "筆頭者",
            "個人番号",
            "1234 5678 9018",
            juminhyo::CERT_ALL,
            "令和8年5月2日",
            "見本市長 見本 一郎",
        ],
        &[juminhyo::CERT_PART, "住民票コード"],
    );
}

#[test]
fn juminhyo_defaults_hide_every_optional_item() {
    let h = household();
    let doc = juminhyo::compose(
        &h,
        &h.members[0],
        &CertificateOptions::default(),
        &ctx("2026-05-02"),
    )
    .unwrap();
    check(
        &doc,
        &["見本 太郎", "昭和55年4月1日", "男", juminhyo::CERT_PART],
        &[
            "花子",
            "一郎様",
            "旧氏",
            "世帯主",
            "続柄",
            "本籍",
            "筆頭者",
            "個人番号",
            "1234",
            "住民票コード",
        ],
    );
}

#[test]
fn juminhyo_chosen_members_only() {
    let h = household();
    let o = CertificateOptions {
        household: HouseholdSelection::Members(vec!["00000000035".into()]),
        show_former_surname: true,
        ..Default::default()
    };
    let doc = juminhyo::compose(&h, &h.members[0], &o, &ctx("2026-05-02")).unwrap();
    check(
        &doc,
        &["見本 一郎", "平成28年5月5日"],
        &["花子", "葛\u{E0102}西", "昭和55年"],
    );
    let bad = CertificateOptions {
        household: HouseholdSelection::Members(vec!["99999999999".into()]),
        ..Default::default()
    };
    assert!(matches!(
        juminhyo::compose(&h, &h.members[0], &bad, &ctx("2026-05-02")),
        Err(RenderError::Invalid(_))
    ));
}

#[test]
fn juminhyo_foreign_resident_items_in_seireki() {
    let f = sample::foreign_resident();
    let h = Household::new("H0002", vec![f.clone()]);
    let o = CertificateOptions {
        show_honseki: true,
        ..Default::default()
    };
    let doc = juminhyo::compose(&h, &f, &o, &ctx("2026-05-02")).unwrap();
    check(
        &doc,
        &[
            "SMITH JOHN",
            "1990年2月3日",
            "国籍・地域",
            "アメリカ合衆国",
            "中長期在留者",
            "技術・人文知識・国際業務",
            "在留期間",
            "3年",
            "2027年5月1日",
            "在留カード番号",
            "AB12345678CD",
        ],
        // Never mixed: no 和暦 birth date or 満了日, no 本籍 for a foreign resident.
        &["平成2年2月3日", "令和9年5月1日", "本籍"],
    );
}

#[test]
fn kisai_jiko_items() {
    let h = household();
    let o = CertificateOptions {
        household: HouseholdSelection::All,
        show_relationship: true,
        ..Default::default()
    };
    let doc = kisai_jiko::compose(&h, &h.members[1], &o, &ctx("2026-05-02")).unwrap();
    check(
        &doc,
        &[
            "住民票記載事項証明書",
            "見本県見本市中央一丁目2番3号",
            "世帯主",
            "見本 太郎",
            "見本 花子",
            "女",
            "昭和57年8月15日",
            "妻",
            kisai_jiko::CERT,
        ],
        &["個人番号", "本籍", "従前の住所"],
    );
}

#[test]
fn inkan_prints_the_seal_at_true_size() {
    let r = sample::head_of_household();
    let seal = sample::seal();
    let doc = inkan::compose(
        &r,
        &seal,
        &CertificateOptions::default(),
        &ctx("2026-05-02"),
    )
    .unwrap();
    let c = check(
        &doc,
        &[
            "印鑑登録証明書",
            "印影",
            "見本 太郎",
            "昭和55年4月1日",
            "見本県見本市中央一丁目2番3号",
            inkan::CERT,
        ],
        &[],
    );
    let images = pdfimages_list(&c.pdf.bytes);
    assert_eq!(images.len(), 2, "印影 + 公印: {images:?}");
    // The 64 px 印影 printed at 15 mm: 64 / (15 / 25.4) ≈ 108 ppi.
    let inei = images
        .iter()
        .find(|i| i.kind == "image")
        .expect("印影 image");
    assert!(
        (inei.ppi - 108.4).abs() < 1.5,
        "印影 not at true size: {inei:?}"
    );
    let stamp = images
        .iter()
        .find(|i| i.kind == "stencil")
        .expect("公印 stencil");
    assert!(
        stamp.ppi >= 64.0 / (25.0 / 25.4) - 1.0,
        "公印 larger than 25 mm: {stamp:?}"
    );
}

#[test]
fn inkan_revoked_seal_is_refused() {
    let r = sample::head_of_household();
    let mut seal = sample::seal();
    seal.status = SealStatus::Revoked;
    let err = inkan::compose(
        &r,
        &seal,
        &CertificateOptions::default(),
        &ctx("2026-05-02"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
}

#[test]
fn koseki_zenbu_in_computerised_style() {
    let k = sample::koseki();
    let doc = koseki::compose_zenbu(&k, &ctx("2026-05-02")).unwrap();
    check(
        &doc,
        &[
            "戸籍全部事項証明書",
            "本籍",
            "見本県見本市中央一丁目2番",
            "戸籍事項",
            "戸籍編製",
            "【編製日】平成20年10月10日",
            "戸籍に記録されている者",
            "太郎",
            "花子",
            "【出生日】昭和55年4月1日",
            "【出生地】見本県見本市",
            "【婚姻日】平成20年10月10日",
            "【従前戸籍】東京都千代田区霞が関二丁目1番 葛\u{E0102}西 三郎",
            "配偶者区分",
            "長女",
            koseki::CERT_ZENBU,
        ],
        &[koseki::CERT_KOJIN],
    );
}

#[test]
fn koseki_kojin_shows_one_person() {
    let k = sample::koseki();
    let doc = koseki::compose_kojin(&k, 3, &ctx("2026-05-02")).unwrap();
    check(
        &doc,
        &[
            "戸籍個人事項証明書",
            "一郎",
            "【出生日】平成28年5月5日",
            koseki::CERT_KOJIN,
        ],
        &["【出生地】東京都千代田区", "【婚姻日】", "昭和55年4月1日"],
    );
}

/// The 附票 of 筆頭者 1 of `sample::koseki()`: two addresses.
fn fuhyo_records() -> Vec<Fuhyo> {
    vec![Fuhyo {
        koseki_id: "K0001".into(),
        member_no: 1,
        entries: vec![
            FuhyoEntry {
                address: "東京都千代田区霞が関二丁目1番2号".into(),
                from: d("2002-04-01"),
            },
            FuhyoEntry {
                address: "見本県見本市中央一丁目2番3号".into(),
                from: d("2010-04-01"),
            },
        ],
    }]
}

#[test]
fn fuhyo_address_history() {
    let doc = fuhyo::compose(&sample::koseki(), &fuhyo_records(), &ctx("2026-05-02")).unwrap();
    check(
        &doc,
        &[
            "戸籍の附票の写し",
            "筆頭者",
            "東京都千代田区霞が関二丁目1番2号",
            "平成14年4月1日",
            "見本県見本市中央一丁目2番3号",
            "平成22年4月1日",
            fuhyo::CERT,
        ],
        &[],
    );
}

#[test]
fn shotoku_kazei_amounts_with_separators() {
    let r = sample::head_of_household();
    let o = CertificateOptions {
        tax_year: Some(2026),
        ..Default::default()
    };
    let doc = shotoku_kazei::compose(&r, &sample::tax(), &o, &ctx("2026-06-20")).unwrap();
    check(
        &doc,
        &[
            "所得・課税証明書",
            "令和8年度（令和7年分）",
            "給与",
            "5,200,000円",
            "合計所得金額",
            "3,660,000円",
            "社会保険料控除",
            "720,000円",
            "1,150,000円",
            "課税標準額",
            "2,510,000円",
            "150,600円",
            "100,400円",
            "251,000円",
            shotoku_kazei::CERT,
        ],
        &["3660000"],
    );
}

#[test]
fn era_boundaries_on_issue_and_birth_dates() {
    let cases = [
        (
            "2019-04-30",
            "1989-01-07",
            "平成31年4月30日",
            "昭和64年1月7日",
        ),
        (
            "2019-05-01",
            "1989-01-08",
            "令和元年5月1日",
            "平成元年1月8日",
        ),
        (
            "2020-01-01",
            "1926-12-25",
            "令和2年1月1日",
            "昭和元年12月25日",
        ),
    ];
    for (issued, born, issued_w, born_w) in cases {
        let mut r = sample::head_of_household();
        r.birth_date = d(born);
        let h = Household::new("H0001", vec![r.clone()]);
        let doc = juminhyo::compose(&h, &r, &CertificateOptions::default(), &ctx(issued)).unwrap();
        check(&doc, &[issued_w, born_w], &[]);
    }
}

#[test]
fn certifier_switches_to_the_deputy_on_his_dates() {
    let h = household();
    for (date, who, not) in [
        ("2026-05-31", "見本市長 見本 一郎", "職務代理者"),
        (
            "2026-06-01",
            "見本市長職務代理者 副市長 代理 二郎",
            "見本市長 見本 一郎",
        ),
        (
            "2026-06-14",
            "見本市長職務代理者 副市長 代理 二郎",
            "見本市長 見本 一郎",
        ),
        ("2026-06-15", "見本市長 見本 一郎", "代理 二郎"),
    ] {
        let doc = juminhyo::compose(
            &h,
            &h.members[0],
            &CertificateOptions::default(),
            &ctx(date),
        )
        .unwrap();
        check(&doc, &[who], &[not]);
    }
}

fn member(i: usize) -> Resident {
    let mut r = if i == 0 {
        sample::head_of_household()
    } else {
        sample::child()
    };
    r.resident_id = format!("{:011}", 100 + i);
    r.given = [
        "太郎", "花子", "一郎", "二郎", "三郎", "四郎", "五郎", "六郎", "七郎",
    ][i]
        .into();
    if i > 0 {
        r.relationship = "子".into();
    }
    r
}

/// 住民票 of a nine-person household, every member, 続柄 and 本籍: several pages.
fn nine_person_juminhyo() -> CertificateDocument {
    let h = Household::new("H0001", (0..9).map(member).collect());
    let o = CertificateOptions {
        household: HouseholdSelection::All,
        show_relationship: true,
        show_honseki: true,
        ..Default::default()
    };
    juminhyo::compose(&h, &h.members[0], &o, &ctx("2026-05-02")).unwrap()
}

#[test]
fn nine_person_household_spans_pages_with_one_subject() {
    let doc = nine_person_juminhyo();
    let names: Vec<String> = (0..9)
        .map(|i| format!("見本 {}", member(i).given))
        .collect();
    let must: Vec<&str> = names.iter().map(String::as_str).collect();
    let c = check(&doc, &must, &[]);
    assert!(
        c.pdf.pages >= 2,
        "expected several pages, got {}",
        c.pdf.pages
    );
    // Each person appears once, whole, on exactly one page.
    for n in &names {
        let on = c
            .pages
            .iter()
            .filter(|p| squash(p).contains(&squash(n)))
            .count();
        assert!(on >= 1, "{n} missing");
    }
    // A page from another request is detected.
    assert!(check_bindings(&c.pdf.bytes, "req-other", &doc.subject.id).is_err());
    assert!(check_bindings(&c.pdf.bytes, &doc.request_id, "00000000999").is_err());
}

/// The binding check follows the page tree, as a viewer or printer does: pages put out
/// of order in the tree (a general PDF library rewrites the file) are refused, and in
/// order the check counts the pages that library counts.
#[test]
fn pages_out_of_page_tree_order_are_refused() {
    let doc = nine_person_juminhyo();
    let pdf = render(&doc, book(), &opts()).unwrap();
    let lo = lopdf::Document::load_mem(&pdf.bytes).unwrap();
    assert!(lo.get_pages().len() >= 2);
    assert_eq!(
        check_bindings(&pdf.bytes, &doc.request_id, &doc.subject.id).unwrap(),
        lo.get_pages().len()
    );
    let rewrite = |lo: &mut lopdf::Document| {
        let mut out = Vec::new();
        lo.save_to(&mut out).unwrap();
        out
    };
    // The same file written again by lopdf still passes: nothing but the tree counts.
    let mut same = lo.clone();
    let same = rewrite(&mut same);
    assert!(check_bindings(&same, &doc.request_id, &doc.subject.id).is_ok());
    // The page tree's kids reversed: page n comes first.
    let mut swapped = lo.clone();
    let root = swapped
        .catalog()
        .unwrap()
        .get(b"Pages")
        .unwrap()
        .as_reference()
        .unwrap();
    let pages = swapped.get_object_mut(root).unwrap().as_dict_mut().unwrap();
    let mut kids = pages.get(b"Kids").unwrap().as_array().unwrap().clone();
    kids.reverse();
    pages.set("Kids", lopdf::Object::Array(kids));
    let swapped = rewrite(&mut swapped);
    let err = check_bindings(&swapped, &doc.request_id, &doc.subject.id).unwrap_err();
    assert!(
        err.to_string().contains("page 1 belongs to another"),
        "{err}"
    );
}

#[test]
fn overflowing_value_names_its_field() {
    let mut r = sample::head_of_household();
    r.address = "見本県見本市中央一丁目2番3号見本マンション".repeat(8);
    let h = Household::new("H0001", vec![r.clone()]);
    let doc =
        juminhyo::compose(&h, &r, &CertificateOptions::default(), &ctx("2026-05-02")).unwrap();
    let err = render(&doc, book(), &opts()).unwrap_err();
    assert_eq!(
        err,
        RenderError::Overflow {
            field: "address".into()
        }
    );
}

#[test]
fn seal_present_unless_omitted_and_never_missing_by_accident() {
    let h = household();
    let o = CertificateOptions::default();
    let with = juminhyo::compose(&h, &h.members[0], &o, &ctx("2026-05-02")).unwrap();
    let pdf = render(&with, book(), &opts()).unwrap();
    assert_eq!(pdfimages_list(&pdf.bytes).len(), 1);

    let mut c = ctx("2026-05-02");
    c.omit_seal = true;
    let without = juminhyo::compose(&h, &h.members[0], &o, &c).unwrap();
    let pdf = render(&without, book(), &opts()).unwrap();
    assert_eq!(pdfimages_list(&pdf.bytes).len(), 0);

    let mut c = ctx("2026-05-02");
    c.official_seal = None;
    assert!(matches!(
        juminhyo::compose(&h, &h.members[0], &o, &c),
        Err(RenderError::Invalid(_))
    ));
}

#[test]
fn items_model_lists_only_requested_items() {
    let h = household();
    let doc = juminhyo::compose(
        &h,
        &h.members[0],
        &CertificateOptions::default(),
        &ctx("2026-05-02"),
    )
    .unwrap();
    let fields: Vec<&str> = doc.items().map(|i| i.field.as_str()).collect();
    assert!(fields.contains(&"members[0].name"));
    assert!(
        !fields
            .iter()
            .any(|f| f.ends_with("my_number") || f.ends_with("honseki"))
    );
    assert_eq!(cert::yen(1_000), "1,000円");
}

/// The items the legal forms print (住民基本台帳事務処理要領, 戸籍法施行規則 付録第二十二号,
/// a town's 所得・課税証明書, 印鑑登録証明事務処理要領), one case per form: what must be
/// on the page and what must not.
#[test]
fn printed_forms_follow_the_legal_ones() {
    use kofu_domain::KosekiEvent;
    use kofu_domain::ordered_map::OrderedMap;

    // 戸籍: an adoption and a death, with a 届出日 as the registry sends it (ISO).
    let mut k = sample::koseki();
    k.members[2].events.push(KosekiEvent {
        kind: "養子縁組".into(),
        date: d("2020-03-02"),
        details: OrderedMap(vec![
            ("届出日".into(), "2020-03-02".into()),
            ("養父氏名".into(), "見本 五郎".into()),
        ]),
    });
    k.members[0].removed = Some(KosekiEvent {
        kind: "死亡".into(),
        date: d("2025-12-01"),
        details: OrderedMap(vec![
            ("届出日".into(), "2025-12-03".into()),
            ("届出人".into(), "親族 見本 花子".into()),
        ]),
    });
    let zenbu = koseki::compose_zenbu(&k, &ctx("2026-05-02")).unwrap();
    check(
        &zenbu,
        &[
            "【縁組日】令和2年3月2日",
            "【届出日】令和2年3月2日",
            "【養父氏名】見本 五郎",
            "除籍",
            "死亡",
            "【死亡日】令和7年12月1日",
            "【届出日】令和7年12月3日",
        ],
        &["【養子縁組日】", "2020-03-02", "2025-12-03"],
    );

    // 附票: 生年月日 and 性別 of each person (in force 2024-05-27).
    let f = fuhyo::compose(&sample::koseki(), &fuhyo_records(), &ctx("2026-05-02")).unwrap();
    check(&f, &["生年月日", "昭和55年4月1日", "性別", "男"], &[]);

    // 課税: a 町 in 北海道 names its taxes so; 所得割 and 均等割 apart; 収入金額 apart
    // from 所得金額; the name on the 賦課期日.
    let mut town = sample::municipality();
    town.name = "見本町".into();
    town.prefecture = "北海道".into();
    let c = ctx("2026-06-20");
    let town_ctx = IssueContext {
        municipality: &town,
        ..c
    };
    let mut tax = sample::tax();
    tax.assessed_name = Some("旧姓 太郎".into());
    let r = sample::head_of_household();
    let o = CertificateOptions {
        tax_year: Some(2026),
        ..Default::default()
    };
    let kazei = shotoku_kazei::compose(&r, &tax, &o, &town_ctx).unwrap();
    check(
        &kazei,
        &[
            "収入金額",
            "給与収入",
            "5,200,000円",
            "所得金額",
            "給与所得",
            "3,660,000円",
            "町民税所得割",
            "147,600円",
            "町民税均等割",
            "3,000円",
            "道民税所得割",
            "99,400円",
            "道民税均等割",
            "1,000円",
            "旧姓 太郎",
        ],
        &["市町村民税", "道府県民税", "市民税", "県民税", "見本 太郎"],
    );

    // 印鑑: 旧氏 and 通称 whenever recorded, asked for or not.
    let mut hanako = sample::spouse();
    hanako.alias = Some("花園 花".into());
    let mut seal = sample::seal();
    seal.resident_id = hanako.resident_id.clone();
    let inkan_doc = inkan::compose(
        &hanako,
        &seal,
        &CertificateOptions::default(),
        &ctx("2026-05-02"),
    )
    .unwrap();
    check(
        &inkan_doc,
        &["旧氏", "葛\u{E0102}西", "通称", "花園 花"],
        &[],
    );
}
