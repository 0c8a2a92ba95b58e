//! Render benchmarks (warm: fonts and the official seal prepared once): a one-page
//! 住民票 (3-person household, every option), a two-page 住民票 (6 persons), and the
//! same one-page document built directly with the engine. Prints bytes per document.

use criterion::{Criterion, criterion_group, criterion_main};
use kofu_domain::{
    CertificateOptions, Date, Household, HouseholdSelection, IssueNumber, IssuePoint, Resident,
    TimeOfDay, sample,
};
use kofu_render::cert::{juminhyo, official_seal};
use kofu_render::{
    Align, Cell, DocMeta, FontBook, FontFace, Frame, Layout, PreparedImage, Row, SystemFonts,
    Table, TextStyle,
};
use kofu_render::{IssueContext, RenderOptions, render};

fn seal_png(size: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((size * size * 4) as usize);
    let c = size as f32 / 2.0;
    for y in 0..size {
        for x in 0..size {
            let r = ((x as f32 - c).powi(2) + (y as f32 - c).powi(2)).sqrt();
            let ink = (r < c - 1.0 && r > c * 0.85) || ((y as f32 - c).abs() < 2.0 && r < c);
            px.extend_from_slice(&[200, 20, 20, if ink { 255 } else { 0 }]);
        }
    }
    kofu_render::image::encode_png_rgba(size, size, &px).expect("png")
}

fn engine_page(book: &FontBook, seal: &PreparedImage) -> Vec<u8> {
    let mut l = Layout::new(book).expect("layout");
    let p = l.new_page();
    let label = TextStyle::new(FontFace::Gothic, 9.0).align(Align::Distribute);
    let value = TextStyle::new(FontFace::Mincho, 10.0);
    let name = TextStyle::new(FontFace::NameMincho, 12.0);
    l.text_box(
        p,
        "title",
        Frame::new(20.0, 12.0, 170.0, 12.0),
        "住民票の写し",
        &TextStyle::new(FontFace::Gothic, 18.0).align(Align::Center),
    )
    .expect("title");
    let mut rows = vec![
        Row {
            height: 9.0,
            cells: vec![
                Cell::new("l", "住所", label.clone()),
                Cell::new(
                    "address",
                    "北海道見本市中央区北一条西二丁目3番地4　見本マンション505号",
                    value.clone(),
                )
                .span(3),
            ],
        },
        Row {
            height: 9.0,
            cells: vec![
                Cell::new("l", "世帯主", label.clone()),
                Cell::new("head", "葛\u{E0102}西　太郎", name.clone()).span(3),
            ],
        },
    ];
    let people = [
        ("葛\u{E0102}西　太郎", "昭和45年4月1日", "男", "世帯主"),
        ("葛\u{E0102}西　花子", "昭和47年10月12日", "女", "妻"),
        ("葛\u{E0102}西　一郎", "平成12年5月5日", "男", "子"),
    ];
    for (n, birth, sex, rel) in people {
        rows.push(Row {
            height: 10.0,
            cells: vec![
                Cell::new("l", "氏名", label.clone()),
                Cell::new("name", n, name.clone()),
                Cell::new("l", "続柄", label.clone()),
                Cell::new("rel", rel, value.clone()),
            ],
        });
        rows.push(Row {
            height: 8.0,
            cells: vec![
                Cell::new("l", "生年月日", label.clone()),
                Cell::new("birth", format!("{birth}生　{sex}"), value.clone()),
                Cell::new("l", "住民となった日", label.clone()),
                Cell::new("since", "平成12年5月5日", value.clone()),
            ],
        });
        rows.push(Row {
            height: 8.0,
            cells: vec![
                Cell::new("l", "住所を定めた日", label.clone()),
                Cell::new(
                    "addr_date",
                    "令和元年6月1日　令和元年6月3日届出",
                    value.clone(),
                ),
                Cell::new("l", "本籍", label.clone()),
                Cell::new(
                    "honseki",
                    "北海道見本市中央区北一条西二丁目3番地",
                    value.clone(),
                ),
            ],
        });
        rows.push(Row {
            height: 8.0,
            cells: vec![
                Cell::new("l", "従前の住所", label.clone()),
                Cell::new("prev", "東京都千代田区霞が関一丁目1番1号", value.clone()).span(3),
            ],
        });
    }
    let t = Table {
        x: 20.0,
        y: 30.0,
        columns: vec![28.0, 62.0, 28.0, 52.0],
        border: 0.5,
        rows,
    };
    let bottom = l.table(p, &t).expect("table");
    l.text_box(
        p,
        "cert",
        Frame::new(20.0, bottom + 10.0, 170.0, 10.0),
        "この写しは、世帯全員の住民票の原本と相違ないことを証明する。",
        &value,
    )
    .expect("cert");
    l.text_box(
        p,
        "date",
        Frame::new(20.0, bottom + 22.0, 80.0, 8.0),
        "令和8年5月2日",
        &value,
    )
    .expect("date");
    l.text_box(
        p,
        "mayor",
        Frame::new(100.0, bottom + 32.0, 70.0, 10.0),
        "北海道見本市長　見本　太郎",
        &TextStyle::new(FontFace::Mincho, 12.0),
    )
    .expect("mayor");
    l.image(p, seal, Frame::new(160.0, bottom + 26.0, 22.0, 22.0))
        .expect("seal");
    l.text_box(
        p,
        "footer",
        Frame::new(20.0, 282.0, 170.0, 6.0),
        "20260502 見本市 本庁1 P001 011 1/1",
        &TextStyle::new(FontFace::Mincho, 8.0).align(Align::Right),
    )
    .expect("footer");
    l.finish(&DocMeta {
        title: "住民票の写し".into(),
        subject: "bench".into(),
        author: "見本市".into(),
        created: (2026, 5, 2, 10, 0, 0),
    })
    .expect("pdf")
}

/// User + system CPU time of this process, from `/proc/self/stat` (clock ticks of
/// 10 ms). Wall-clock medians are unreliable on the shared 2-core machine; CPU time
/// over many iterations is not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// With `KOFU_BENCH_CPU=N`, runs `f` N times and prints CPU ms per run.
fn cpu_report(label: &str, pages: usize, mut f: impl FnMut()) {
    let Some(n) = std::env::var("KOFU_BENCH_CPU")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    else {
        return;
    };
    f();
    let (Some(a), t) = (cpu_seconds(), std::time::Instant::now()) else {
        return;
    };
    for _ in 0..n {
        f();
    }
    let wall = t.elapsed().as_secs_f64();
    if let Some(b) = cpu_seconds() {
        let per = (b - a) * 1000.0 / f64::from(n);
        eprintln!(
            "{label}: CPU {per:.3} ms/doc = {:.3} ms/page (wall {:.3} ms/doc, {n} runs)",
            per / pages as f64,
            wall * 1000.0 / f64::from(n)
        );
    }
}

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

fn household(n: usize) -> Household {
    let names = ["太郎", "花子", "一郎", "二郎", "三郎", "四郎"];
    let members: Vec<Resident> = (0..n)
        .map(|i| {
            let mut r = match i {
                0 => sample::head_of_household(),
                1 => sample::spouse(),
                _ => sample::child(),
            };
            r.resident_id = format!("{:011}", 100 + i);
            r.given = names[i % names.len()].into();
            r
        })
        .collect();
    Household::new("H0001", members)
}

fn benches(c: &mut Criterion) {
    let book = FontBook::load(&SystemFonts::from_env()).expect("fonts");
    let m = sample::municipality();
    let ctx = IssueContext {
        municipality: &m,
        issue_date: date("2026-05-02"),
        issue_number: IssueNumber {
            date: date("2026-05-02"),
            municipality: m.name.clone(),
            point: IssuePoint::Counter {
                terminal: "本庁1".into(),
                printer: "P001".into(),
            },
            serial: 11,
        },
        request_id: "req-bench".into(),
        official_seal: official_seal(&m).expect("seal"),
        omit_seal: false,
    };
    let opts = CertificateOptions {
        household: HouseholdSelection::All,
        show_relationship: true,
        show_honseki: true,
        show_my_number: true,
        show_former_surname: true,
        ..Default::default()
    };
    let ropts = RenderOptions {
        issued_at: (date("2026-05-02"), TimeOfDay::from_hm(10, 0).expect("time")),
    };
    for (label, n) in [("juminhyo_1page", 3), ("juminhyo_2pages", 6)] {
        let h = household(n);
        let doc = juminhyo::compose(&h, &h.members[0], &opts, &ctx).expect("compose");
        let pdf = render(&doc, &book, &ropts).expect("render");
        eprintln!(
            "{label}: {} page(s), {} bytes ({} bytes/page)",
            pdf.pages,
            pdf.bytes.len(),
            pdf.bytes.len() / pdf.pages
        );
        if let Some(dir) = std::env::var_os("KOFU_BENCH_DUMP_DIR") {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{label}.pdf")),
                &pdf.bytes,
            )
            .expect("dump");
        }
        cpu_report(label, pdf.pages, || {
            render(&doc, &book, &ropts).expect("render");
        });
        c.bench_function(label, |b| {
            b.iter(|| render(&doc, &book, &ropts).expect("render"))
        });
    }
    let seal = PreparedImage::official_seal(&seal_png(260)).expect("seal");
    let pdf = engine_page(&book, &seal);
    eprintln!("engine_juminhyo_1page: {} bytes", pdf.len());
    cpu_report("engine_juminhyo_1page", 1, || {
        engine_page(&book, &seal);
    });
    c.bench_function("engine_juminhyo_1page", |b| {
        b.iter(|| engine_page(&book, &seal))
    });
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
