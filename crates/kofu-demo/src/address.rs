//! Addresses: 見本市's districts (丁目・番・号 and 大字 番地 areas), apartment buildings
//! (some with very long names), 本籍, and places outside the town for 従前の住所.

use crate::rng::Rng;

/// The town's prefix on every address.
pub(crate) const TOWN: &str = "見本県見本市";

/// Districts with 丁目 (name, number of 丁目).
const CHOME_AREAS: &[(&str, u8)] = &[
    ("中央", 5),
    ("本町", 4),
    ("港町", 3),
    ("栄町", 4),
    ("旭町", 3),
    ("緑町", 5),
    ("若葉台", 4),
    ("桜ヶ丘", 6),
    ("東町", 3),
    ("西町", 3),
    ("南町", 4),
    ("北町", 3),
    ("松原", 5),
    ("青葉台", 3),
    ("宮前", 2),
    ("大手町", 2),
    ("駅前", 3),
    ("城山", 4),
    ("川端", 2),
    ("新田", 3),
    ("日の出町", 3),
    ("富士見", 4),
    ("白銀台", 2),
];

/// Rural areas addressed by 大字 (and 字) with 番地.
const OAZA_AREAS: &[&str] = &[
    "大字北見本",
    "大字山田",
    "大字上川原字下ノ坪",
    "大字西見本字東雲台",
    "大字見本新田字五反田",
];

const KANJI_DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

const BUILDING_PREFIXES: &[&str] = &[
    "コーポ",
    "ハイツ",
    "メゾン",
    "グランメゾン",
    "パークハイツ",
    "レジデンス",
    "サンハイツ",
    "ロイヤルコート",
    "ドミール",
    "アーバンヒルズ",
    "グリーンパレス",
    "シティハウス",
    "ヴィラ",
    "エクセル",
];

const BUILDING_SUFFIXES: &[&str] = &[
    "",
    "",
    "",
    "壱番館",
    "弐番館",
    "Ａ棟",
    "Ｂ棟",
    "東棟",
    "西棟",
    "Ⅱ",
];

/// Very long building names: with a district and room they make 60+ character addresses.
const LONG_BUILDINGS: &[&str] = &[
    "ライオンズマンション見本駅前グランフォートレジデンス・イーストウイング北棟",
    "パークシティ見本桜ヶ丘ザ・タワーレジデンスウエストウイングプレミアムフロア",
    "シティテラス見本中央公園通りプレミアムスイートコート・ガーデンコート弐番館",
    "ロイヤルパレス見本港町オーシャンビューテラスガーデンヒルズ・ベイサイドＢ棟",
    "サンクレイドル見本日の出町セントラルスクエア・グランドステージ・アネックス",
];

/// Places outside the town (for 従前の住所, 本籍 elsewhere, 附票): a city and its districts.
const OUTSIDE: &[(&str, &[&str])] = &[
    ("東京都新宿区", &["西新宿", "高田馬場", "神楽坂"]),
    ("東京都世田谷区", &["三軒茶屋", "桜新町", "成城"]),
    ("東京都練馬区", &["豊玉北", "石神井町"]),
    ("東京都千代田区", &["霞が関", "神田神保町"]),
    ("神奈川県横浜市港北区", &["日吉", "新横浜"]),
    ("神奈川県川崎市中原区", &["小杉町", "木月"]),
    ("埼玉県さいたま市浦和区", &["高砂", "常盤"]),
    ("千葉県船橋市", &["本町", "前原西"]),
    ("大阪府大阪市北区", &["梅田", "天神橋"]),
    ("愛知県名古屋市中区", &["栄", "丸の内"]),
    ("福岡県福岡市中央区", &["天神", "大名"]),
    ("宮城県仙台市青葉区", &["一番町", "本町"]),
    ("広島県広島市中区", &["紙屋町", "八丁堀"]),
    ("京都府京都市左京区", &["岡崎", "下鴨"]),
    ("新潟県新潟市中央区", &["古町通", "万代"]),
    ("見本県東見本市", &["本町", "駅南"]),
    ("見本県西見本町", &["中島", "川田"]),
    ("見本県北見本市", &["旭ヶ丘", "寿町"]),
];

/// Places of birth for 戸籍 出生 events.
pub(crate) const BIRTHPLACES: &[&str] = &[
    "見本県見本市",
    "見本県見本市",
    "見本県見本市",
    "見本県東見本市",
    "見本県北見本市",
    "東京都新宿区",
    "東京都世田谷区",
    "神奈川県横浜市港北区",
    "大阪府大阪市北区",
    "愛知県名古屋市中区",
    "福岡県福岡市中央区",
    "宮城県仙台市青葉区",
    "新潟県新潟市中央区",
];

/// A number in kanji (1–99), as in 丁目 and 大字 番地 styles.
fn kanji_number(n: u32) -> String {
    match n {
        0..=9 => KANJI_DIGITS[n as usize].to_owned(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", KANJI_DIGITS[(n % 10) as usize]),
        _ => {
            let tens = KANJI_DIGITS[(n / 10 % 10) as usize];
            let ones = if n.is_multiple_of(10) {
                ""
            } else {
                KANJI_DIGITS[(n % 10) as usize]
            };
            format!("{tens}十{ones}")
        }
    }
}

/// A lot in the town: the part of an address shared by a 本籍 (up to 番 / 番地).
#[derive(Clone, Debug)]
pub(crate) struct Lot {
    /// e.g. `見本県見本市中央一丁目2番` or `見本県見本市大字山田1234番地`.
    pub lot: String,
    /// The rest of the dwelling's address, e.g. `3号` or `5` (after 番地), empty if none.
    pub rest: String,
}

/// A dwelling in the town.
pub(crate) fn town_lot(rng: &mut Rng) -> Lot {
    if rng.chance(0.12) {
        let area = rng.pick(OAZA_AREAS);
        let banchi = rng.range(1, 3500);
        let rest = if rng.chance(0.5) {
            rng.range(1, 12).to_string()
        } else {
            String::new()
        };
        Lot {
            lot: format!("{TOWN}{area}{banchi}番地"),
            rest,
        }
    } else {
        let (area, chome) = rng.pick(CHOME_AREAS);
        let c = rng.range(1, i64::from(*chome)) as u32;
        let ban = rng.range(1, 30);
        let go = rng.range(1, 25);
        Lot {
            lot: format!("{TOWN}{area}{}丁目{ban}番", kanji_number(c)),
            rest: format!("{go}号"),
        }
    }
}

/// A full address from a lot, optionally in an apartment building.
pub(crate) fn dwelling(rng: &mut Rng, lot: &Lot, apartment: bool, long_name: bool) -> String {
    let mut s = lot.lot.clone();
    if lot.rest.is_empty() {
        // 大字 addresses end at 番地.
    } else if lot.lot.ends_with("番地") {
        s.push('の');
        s.push_str(&lot.rest);
    } else {
        s.push_str(&lot.rest);
    }
    if long_name {
        let floor = rng.range(10, 32);
        let room = rng.range(1, 12);
        s.push('　');
        s.push_str(rng.pick::<&str>(LONG_BUILDINGS));
        s.push_str(&format!("　{floor}{room:02}号室"));
    } else if apartment {
        let area_hint = area_of(&lot.lot);
        let floor = rng.range(1, 8);
        let room = rng.range(1, 10);
        s.push('　');
        s.push_str(rng.pick::<&str>(BUILDING_PREFIXES));
        s.push_str(area_hint);
        s.push_str(rng.pick::<&str>(BUILDING_SUFFIXES));
        s.push_str(&format!("　{floor}{room:02}号室"));
    }
    s
}

/// The district name of a lot, for building names (`コーポ中央`).
fn area_of(lot: &str) -> &'static str {
    for (area, _) in CHOME_AREAS {
        if lot.contains(area) {
            return area;
        }
    }
    "見本"
}

/// An address outside the town.
pub(crate) fn outside_address(rng: &mut Rng) -> String {
    let (city, districts) = rng.pick(OUTSIDE);
    let district = rng.pick(districts);
    let c = rng.range(1, 5) as u32;
    let ban = rng.range(1, 30);
    let go = rng.range(1, 20);
    let mut s = format!("{city}{district}{}丁目{ban}番{go}号", kanji_number(c));
    if rng.chance(0.35) {
        let floor = rng.range(1, 12);
        let room = rng.range(1, 10);
        s.push_str(&format!(
            "　{}{district}{floor}{room:02}号室",
            rng.pick(BUILDING_PREFIXES)
        ));
    }
    s
}

/// A 本籍 outside the town (番 level).
pub(crate) fn outside_honseki(rng: &mut Rng) -> String {
    let (city, districts) = rng.pick(OUTSIDE);
    let district = rng.pick(districts);
    let c = rng.range(1, 5) as u32;
    let ban = rng.range(1, 40);
    format!("{city}{district}{}丁目{ban}番", kanji_number(c))
}

/// A place of birth.
pub(crate) fn birthplace(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(BIRTHPLACES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanji_numbers() {
        assert_eq!(kanji_number(1), "一");
        assert_eq!(kanji_number(10), "十");
        assert_eq!(kanji_number(12), "十二");
        assert_eq!(kanji_number(30), "三十");
        assert_eq!(kanji_number(45), "四十五");
    }

    #[test]
    fn long_addresses_are_long() {
        let mut rng = Rng::new(1, 1);
        for _ in 0..200 {
            let lot = town_lot(&mut rng);
            let a = dwelling(&mut rng, &lot, true, true);
            assert!(a.chars().count() >= 60, "{a}");
            assert!(a.starts_with(TOWN));
        }
    }

    #[test]
    fn ordinary_addresses_look_right() {
        let mut rng = Rng::new(2, 2);
        let lot = Lot {
            lot: "見本県見本市中央一丁目2番".into(),
            rest: "3号".into(),
        };
        assert_eq!(
            dwelling(&mut rng, &lot, false, false),
            "見本県見本市中央一丁目2番3号"
        );
        let apt = dwelling(&mut rng, &lot, true, false);
        assert!(
            apt.starts_with("見本県見本市中央一丁目2番3号　") && apt.ends_with("号室"),
            "{apt}"
        );
        let oaza = Lot {
            lot: "見本県見本市大字山田1234番地".into(),
            rest: "5".into(),
        };
        assert_eq!(
            dwelling(&mut rng, &oaza, false, false),
            "見本県見本市大字山田1234番地の5"
        );
    }
}
