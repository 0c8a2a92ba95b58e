//! Name tables: common Japanese surnames and given names (by sex and generation) with
//! their katakana readings, surnames written with variation sequences or characters
//! outside JIS X 0208, and foreign residents' names, nationalities and 在留資格.

use crate::rng::Rng;

/// A written name and its katakana reading.
pub(crate) type Name = (&'static str, &'static str);

/// Common surnames, most frequent first (drawn with a Zipf-like skew).
pub(crate) const SURNAMES: &[Name] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
    ("村上", "ムラカミ"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("坂本", "サカモト"),
    ("斉藤", "サイトウ"),
    ("福田", "フクダ"),
    ("太田", "オオタ"),
    ("西村", "ニシムラ"),
    ("藤井", "フジイ"),
    ("金子", "カネコ"),
    ("岡本", "オカモト"),
    ("藤原", "フジワラ"),
    ("中野", "ナカノ"),
    ("三浦", "ミウラ"),
    ("原田", "ハラダ"),
    ("中川", "ナカガワ"),
    ("松田", "マツダ"),
    ("竹内", "タケウチ"),
    ("小野", "オノ"),
    ("田村", "タムラ"),
    ("中山", "ナカヤマ"),
    ("和田", "ワダ"),
    ("石田", "イシダ"),
    ("森田", "モリタ"),
    ("上田", "ウエダ"),
    ("原", "ハラ"),
    ("内田", "ウチダ"),
    ("柴田", "シバタ"),
    ("酒井", "サカイ"),
    ("宮崎", "ミヤザキ"),
    ("横山", "ヨコヤマ"),
    ("高木", "タカギ"),
    ("安藤", "アンドウ"),
    ("宮本", "ミヤモト"),
    ("大野", "オオノ"),
    ("小島", "コジマ"),
    ("谷口", "タニグチ"),
    ("工藤", "クドウ"),
    ("今井", "イマイ"),
    ("高田", "タカダ"),
    ("丸山", "マルヤマ"),
    ("増田", "マスダ"),
    ("杉山", "スギヤマ"),
    ("村田", "ムラタ"),
    ("大塚", "オオツカ"),
    ("小山", "コヤマ"),
    ("藤本", "フジモト"),
    ("平野", "ヒラノ"),
    ("新井", "アライ"),
    ("河野", "コウノ"),
    ("上野", "ウエノ"),
    ("野口", "ノグチ"),
    ("武田", "タケダ"),
    ("松井", "マツイ"),
    ("千葉", "チバ"),
    ("岩崎", "イワサキ"),
    ("菅原", "スガワラ"),
    ("木下", "キノシタ"),
    ("久保", "クボ"),
    ("佐野", "サノ"),
    ("野村", "ノムラ"),
    ("松尾", "マツオ"),
    ("市川", "イチカワ"),
    ("菊地", "キクチ"),
    ("杉本", "スギモト"),
    ("古川", "フルカワ"),
    ("大西", "オオニシ"),
    ("島田", "シマダ"),
    ("水野", "ミズノ"),
    ("桜井", "サクライ"),
    ("高野", "タカノ"),
    ("渡部", "ワタナベ"),
    ("吉川", "ヨシカワ"),
    ("山内", "ヤマウチ"),
    ("西田", "ニシダ"),
    ("飯田", "イイダ"),
    ("菊池", "キクチ"),
    ("西川", "ニシカワ"),
    ("小松", "コマツ"),
    ("北村", "キタムラ"),
    ("安田", "ヤスダ"),
    ("五十嵐", "イガラシ"),
    ("川口", "カワグチ"),
    ("平田", "ヒラタ"),
    ("関", "セキ"),
    ("中田", "ナカタ"),
    ("久保田", "クボタ"),
    ("服部", "ハットリ"),
    ("東", "ヒガシ"),
    ("岩田", "イワタ"),
    ("土屋", "ツチヤ"),
    ("川崎", "カワサキ"),
    ("福島", "フクシマ"),
    ("本田", "ホンダ"),
    ("辻", "ツジ"),
    ("樋口", "ヒグチ"),
    ("秋山", "アキヤマ"),
    ("田口", "タグチ"),
    ("永井", "ナガイ"),
    ("山中", "ヤマナカ"),
    ("中西", "ナカニシ"),
    ("吉村", "ヨシムラ"),
    ("川上", "カワカミ"),
    ("大橋", "オオハシ"),
    ("石原", "イシハラ"),
    ("松岡", "マツオカ"),
    ("浅野", "アサノ"),
    ("馬場", "ババ"),
    ("荒木", "アラキ"),
    ("大久保", "オオクボ"),
    ("野田", "ノダ"),
    ("小池", "コイケ"),
    ("見本", "ミホン"),
    ("長谷部", "ハセベ"),
    ("東海林", "ショウジ"),
    ("小鳥遊", "タカナシ"),
];

/// Surnames written with an Ideographic Variation Sequence (base + U+E01xx), as the
/// 戸籍 records them (行政事務標準文字). Every sequence is one the Moji_Joho collection
/// registers and IPAmj明朝 maps (checked by a test when the font is installed).
pub(crate) const IVS_SURNAMES: &[Name] = &[
    ("葛\u{E0102}西", "カサイ"),
    ("葛\u{E0102}城", "カツラギ"),
    ("葛\u{E0102}飾", "カツシカ"),
    ("辻\u{E0102}", "ツジ"),
    ("辻\u{E0102}本", "ツジモト"),
    ("辻\u{E0102}村", "ツジムラ"),
    ("渡邉\u{E0110}", "ワタナベ"),
    ("渡邊\u{E0108}", "ワタナベ"),
    ("齋\u{E0102}藤", "サイトウ"),
    ("小澤\u{E0101}", "オザワ"),
];

/// Surnames with characters outside JIS X 0208 but no variation selector
/// (髙 U+9AD9, 﨑 U+FA11, 𠮷 U+20BB7).
pub(crate) const VARIANT_SURNAMES: &[Name] = &[
    ("髙橋", "タカハシ"),
    ("髙木", "タカギ"),
    ("山﨑", "ヤマザキ"),
    ("宮﨑", "ミヤザキ"),
    ("𠮷田", "ヨシダ"),
    ("𠮷村", "ヨシムラ"),
];

const MALE_OLD: &[Name] = &[
    ("清", "キヨシ"),
    ("茂", "シゲル"),
    ("勇", "イサム"),
    ("博", "ヒロシ"),
    ("実", "ミノル"),
    ("正雄", "マサオ"),
    ("進", "ススム"),
    ("武", "タケシ"),
    ("昭", "アキラ"),
    ("和夫", "カズオ"),
    ("勝", "マサル"),
    ("功", "イサオ"),
    ("修", "オサム"),
    ("正", "タダシ"),
    ("隆", "タカシ"),
    ("義雄", "ヨシオ"),
    ("幸雄", "ユキオ"),
    ("一郎", "イチロウ"),
    ("三郎", "サブロウ"),
    ("健二", "ケンジ"),
    ("正治", "マサハル"),
    ("保", "タモツ"),
];

const MALE_MID: &[Name] = &[
    ("誠", "マコト"),
    ("浩", "ヒロシ"),
    ("健一", "ケンイチ"),
    ("大輔", "ダイスケ"),
    ("学", "マナブ"),
    ("剛", "ツヨシ"),
    ("直樹", "ナオキ"),
    ("達也", "タツヤ"),
    ("和也", "カズヤ"),
    ("哲也", "テツヤ"),
    ("拓也", "タクヤ"),
    ("健太", "ケンタ"),
    ("秀樹", "ヒデキ"),
    ("聡", "サトシ"),
    ("淳", "アツシ"),
    ("隆之", "タカユキ"),
    ("浩二", "コウジ"),
    ("雅人", "マサト"),
    ("亮", "リョウ"),
    ("太郎", "タロウ"),
    ("健", "ケン"),
    ("裕介", "ユウスケ"),
];

const MALE_YOUNG: &[Name] = &[
    ("翔太", "ショウタ"),
    ("蓮", "レン"),
    ("大翔", "ヒロト"),
    ("悠真", "ユウマ"),
    ("陽翔", "ハルト"),
    ("湊", "ミナト"),
    ("颯太", "ソウタ"),
    ("拓海", "タクミ"),
    ("大和", "ヤマト"),
    ("悠斗", "ユウト"),
    ("陸", "リク"),
    ("樹", "イツキ"),
    ("翼", "ツバサ"),
    ("海斗", "カイト"),
    ("蒼", "アオイ"),
    ("律", "リツ"),
    ("朝陽", "アサヒ"),
    ("大輝", "ダイキ"),
    ("陽向", "ヒナタ"),
    ("結翔", "ユイト"),
    ("颯", "ハヤテ"),
    ("碧", "アオイ"),
];

const FEMALE_OLD: &[Name] = &[
    ("和子", "カズコ"),
    ("幸子", "サチコ"),
    ("節子", "セツコ"),
    ("洋子", "ヨウコ"),
    ("恵子", "ケイコ"),
    ("京子", "キョウコ"),
    ("美智子", "ミチコ"),
    ("久子", "ヒサコ"),
    ("文子", "フミコ"),
    ("千代子", "チヨコ"),
    ("静子", "シズコ"),
    ("弘子", "ヒロコ"),
    ("君子", "キミコ"),
    ("悦子", "エツコ"),
    ("トミ", "トミ"),
    ("ハナ", "ハナ"),
    ("春子", "ハルコ"),
    ("和江", "カズエ"),
    ("敏子", "トシコ"),
    ("良子", "ヨシコ"),
    ("キヨ", "キヨ"),
];

const FEMALE_MID: &[Name] = &[
    ("裕子", "ユウコ"),
    ("真由美", "マユミ"),
    ("明美", "アケミ"),
    ("智子", "トモコ"),
    ("久美子", "クミコ"),
    ("直美", "ナオミ"),
    ("由美子", "ユミコ"),
    ("陽子", "ヨウコ"),
    ("恵美", "エミ"),
    ("純子", "ジュンコ"),
    ("美穂", "ミホ"),
    ("愛", "アイ"),
    ("香織", "カオリ"),
    ("恵", "メグミ"),
    ("彩", "アヤ"),
    ("麻衣", "マイ"),
    ("由佳", "ユカ"),
    ("奈美", "ナミ"),
    ("美紀", "ミキ"),
    ("花子", "ハナコ"),
    ("望", "ノゾミ"),
];

const FEMALE_YOUNG: &[Name] = &[
    ("陽菜", "ヒナ"),
    ("結衣", "ユイ"),
    ("葵", "アオイ"),
    ("凛", "リン"),
    ("さくら", "サクラ"),
    ("美咲", "ミサキ"),
    ("結愛", "ユア"),
    ("芽依", "メイ"),
    ("紬", "ツムギ"),
    ("莉子", "リコ"),
    ("花", "ハナ"),
    ("彩花", "アヤカ"),
    ("美羽", "ミウ"),
    ("杏", "アン"),
    ("心春", "コハル"),
    ("結菜", "ユイナ"),
    ("琴音", "コトネ"),
    ("楓", "カエデ"),
    ("七海", "ナナミ"),
    ("ひまり", "ヒマリ"),
    ("澪", "ミオ"),
];

/// A surname drawn with a Zipf-like skew towards the most common ones.
pub(crate) fn surname(rng: &mut Rng) -> Name {
    let u = rng.unit();
    let i = ((SURNAMES.len() as f64) * u * u) as usize;
    SURNAMES[i.min(SURNAMES.len() - 1)]
}

/// A given name fitting the sex and the generation of someone born in `birth_year`.
pub(crate) fn given(rng: &mut Rng, male: bool, birth_year: i32) -> Name {
    let table = match (male, birth_year) {
        (true, ..1960) => MALE_OLD,
        (true, 1960..1992) => MALE_MID,
        (true, _) => MALE_YOUNG,
        (false, ..1960) => FEMALE_OLD,
        (false, 1960..1992) => FEMALE_MID,
        (false, _) => FEMALE_YOUNG,
    };
    *rng.pick(table)
}

/// A foreign nationality with its names and typical 在留資格.
pub(crate) struct Nationality {
    /// 国籍・地域 as printed.
    pub name: &'static str,
    /// Relative share among foreign residents.
    pub weight: u32,
    /// Family names.
    pub families: &'static [Name],
    /// Male given names.
    pub male: &'static [Name],
    /// Female given names.
    pub female: &'static [Name],
    /// 在留資格 with relative weights.
    pub statuses: &'static [(&'static str, u32)],
    /// Japanese-style surnames used as 通称, if residents of this nationality often register one.
    pub alias_families: &'static [Name],
}

/// Nationalities of the town's foreign residents.
pub(crate) const NATIONALITIES: &[Nationality] = &[
    Nationality {
        name: "中国",
        weight: 24,
        families: &[
            ("王", "ワン"),
            ("李", "リ"),
            ("張", "チョウ"),
            ("劉", "リュウ"),
            ("陳", "チン"),
            ("楊", "ヤン"),
            ("趙", "チョウ"),
            ("黄", "コウ"),
            ("周", "シュウ"),
        ],
        male: &[
            ("偉", "ウェイ"),
            ("磊", "レイ"),
            ("浩然", "ハオラン"),
            ("建国", "ジェングオ"),
            ("俊傑", "ジュンジェ"),
        ],
        female: &[
            ("芳", "ファン"),
            ("静", "ジン"),
            ("婷", "ティン"),
            ("子涵", "ズーハン"),
            ("麗", "リー"),
        ],
        statuses: &[
            ("永住者", 30),
            ("技術・人文知識・国際業務", 25),
            ("留学", 20),
            ("家族滞在", 15),
            ("日本人の配偶者等", 10),
        ],
        alias_families: &[("王野", "オウノ"), ("林田", "ハヤシダ")],
    },
    Nationality {
        name: "ベトナム",
        weight: 20,
        families: &[
            ("NGUYEN", "グエン"),
            ("TRAN", "チャン"),
            ("LE", "レ"),
            ("PHAM", "ファム"),
            ("HOANG", "ホアン"),
            ("VU", "ヴ"),
        ],
        male: &[
            ("VAN AN", "ヴァン アン"),
            ("DUC MINH", "ドゥック ミン"),
            ("VAN HUNG", "ヴァン フン"),
            ("QUANG HUY", "クアン フイ"),
        ],
        female: &[
            ("THI LAN", "ティ ラン"),
            ("THI HOA", "ティ ホア"),
            ("THI MAI", "ティ マイ"),
            ("NGOC ANH", "ゴック アイン"),
        ],
        statuses: &[
            ("技能実習", 40),
            ("特定技能", 30),
            ("留学", 15),
            ("技術・人文知識・国際業務", 15),
        ],
        alias_families: &[],
    },
    Nationality {
        name: "韓国",
        weight: 14,
        families: &[
            ("金", "キム"),
            ("李", "イ"),
            ("朴", "パク"),
            ("崔", "チェ"),
            ("鄭", "チョン"),
            ("姜", "カン"),
        ],
        male: &[
            ("民俊", "ミンジュン"),
            ("成浩", "ソンホ"),
            ("在勲", "ジェフン"),
            ("英洙", "ヨンス"),
        ],
        female: &[
            ("智恩", "ジウン"),
            ("英姫", "ヨンヒ"),
            ("秀賢", "スヒョン"),
            ("美淑", "ミスク"),
        ],
        statuses: &[
            ("特別永住者", 50),
            ("永住者", 25),
            ("技術・人文知識・国際業務", 15),
            ("留学", 10),
        ],
        alias_families: &[
            ("金田", "カネダ"),
            ("新井", "アライ"),
            ("岩本", "イワモト"),
            ("松山", "マツヤマ"),
        ],
    },
    Nationality {
        name: "フィリピン",
        weight: 12,
        families: &[
            ("SANTOS", "サントス"),
            ("REYES", "レイエス"),
            ("CRUZ", "クルス"),
            ("GARCIA", "ガルシア"),
            ("BAUTISTA", "バウティスタ"),
        ],
        male: &[
            ("JOSE", "ホセ"),
            ("MARK ANTHONY", "マーク アンソニー"),
            ("JOHN PAUL", "ジョン ポール"),
        ],
        female: &[
            ("MARIA CRISTINA", "マリア クリスティーナ"),
            ("ANGELICA", "アンジェリカ"),
            ("JOCELYN", "ジョセリン"),
        ],
        statuses: &[
            ("永住者", 45),
            ("日本人の配偶者等", 20),
            ("定住者", 15),
            ("特定技能", 20),
        ],
        alias_families: &[],
    },
    Nationality {
        name: "ブラジル",
        weight: 10,
        families: &[
            ("SILVA", "シルバ"),
            ("OLIVEIRA", "オリベイラ"),
            ("SOUZA", "ソウザ"),
            ("PEREIRA", "ペレイラ"),
            ("TANAKA", "タナカ"),
        ],
        male: &[
            ("RODRIGO", "ロドリゴ"),
            ("LUCAS", "ルーカス"),
            ("FELIPE KENJI", "フェリペ ケンジ"),
        ],
        female: &[
            ("ANA PAULA", "アナ パウラ"),
            ("JULIANA", "ジュリアナ"),
            ("MARIANA EMI", "マリアナ エミ"),
        ],
        statuses: &[("永住者", 55), ("定住者", 40), ("日本人の配偶者等", 5)],
        alias_families: &[],
    },
    Nationality {
        name: "ネパール",
        weight: 8,
        families: &[
            ("GURUNG", "グルン"),
            ("TAMANG", "タマン"),
            ("SHRESTHA", "シュレスタ"),
            ("RAI", "ライ"),
        ],
        male: &[
            ("RAM BAHADUR", "ラム バハドゥル"),
            ("BIKASH", "ビカシュ"),
            ("SANJAY", "サンジャイ"),
        ],
        female: &[("SITA", "シタ"), ("ANITA", "アニタ"), ("SUNITA", "スニタ")],
        statuses: &[("留学", 30), ("家族滞在", 35), ("技能", 35)],
        alias_families: &[],
    },
    Nationality {
        name: "インドネシア",
        weight: 6,
        families: &[
            ("SANTOSO", "サントソ"),
            ("PRATAMA", "プラタマ"),
            ("WIJAYA", "ウィジャヤ"),
        ],
        male: &[("BUDI", "ブディ"), ("AGUS", "アグス"), ("RIZKY", "リズキ")],
        female: &[("SITI", "シティ"), ("DEWI", "デウィ"), ("PUTRI", "プトリ")],
        statuses: &[("技能実習", 50), ("特定技能", 50)],
        alias_families: &[],
    },
    Nationality {
        name: "アメリカ合衆国",
        weight: 4,
        families: &[
            ("SMITH", "スミス"),
            ("JOHNSON", "ジョンソン"),
            ("WILLIAMS", "ウィリアムズ"),
            ("BROWN", "ブラウン"),
        ],
        male: &[
            ("JOHN", "ジョン"),
            ("MICHAEL", "マイケル"),
            ("DAVID JAMES", "デイビッド ジェームズ"),
        ],
        female: &[
            ("EMILY", "エミリー"),
            ("SARAH", "サラ"),
            ("JESSICA", "ジェシカ"),
        ],
        statuses: &[
            ("技術・人文知識・国際業務", 40),
            ("永住者", 30),
            ("日本人の配偶者等", 30),
        ],
        alias_families: &[],
    },
    Nationality {
        name: "台湾",
        weight: 2,
        families: &[("林", "リン"), ("陳", "チェン"), ("黄", "ホアン")],
        male: &[("志明", "ジーミン"), ("家豪", "ジャーハオ")],
        female: &[("淑芬", "シューフェン"), ("怡君", "イージュン")],
        statuses: &[
            ("永住者", 40),
            ("技術・人文知識・国際業務", 40),
            ("留学", 20),
        ],
        alias_families: &[],
    },
];

/// A nationality drawn by share.
pub(crate) fn nationality(rng: &mut Rng) -> &'static Nationality {
    let total: u64 = NATIONALITIES.iter().map(|n| u64::from(n.weight)).sum();
    let mut r = rng.below(total);
    for n in NATIONALITIES {
        if r < u64::from(n.weight) {
            return n;
        }
        r -= u64::from(n.weight);
    }
    &NATIONALITIES[0]
}

/// Whether a name holds a variation selector (U+E0100–U+E01EF).
pub(crate) fn has_ivs(s: &str) -> bool {
    s.chars().any(|c| ('\u{E0100}'..='\u{E01EF}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_reading(s: &str) -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| matches!(c, 'ァ'..='ヶ' | 'ー' | '・' | ' ' | '　'))
    }

    #[test]
    fn every_reading_is_katakana() {
        let mut all: Vec<Name> = Vec::new();
        for t in [
            SURNAMES,
            IVS_SURNAMES,
            VARIANT_SURNAMES,
            MALE_OLD,
            MALE_MID,
            MALE_YOUNG,
            FEMALE_OLD,
            FEMALE_MID,
            FEMALE_YOUNG,
        ] {
            all.extend_from_slice(t);
        }
        for n in NATIONALITIES {
            all.extend_from_slice(n.families);
            all.extend_from_slice(n.male);
            all.extend_from_slice(n.female);
            all.extend_from_slice(n.alias_families);
        }
        for (name, kana) in all {
            assert!(is_reading(kana), "{name}: {kana}");
            assert!(!name.is_empty());
        }
    }

    #[test]
    fn ivs_surnames_hold_a_selector() {
        assert!(IVS_SURNAMES.iter().all(|(n, _)| has_ivs(n)));
        assert!(!SURNAMES.iter().any(|(n, _)| has_ivs(n)));
        assert!(!VARIANT_SURNAMES.iter().any(|(n, _)| has_ivs(n)));
    }

    /// Every variation sequence used is one IPAmj明朝 (the certificate font) maps, when
    /// the font is installed.
    #[test]
    fn ivs_sequences_exist_in_ipamj() {
        let Ok(data) = std::fs::read("/usr/share/fonts/truetype/ipamj/ipamjm.ttf") else {
            return;
        };
        let face = ttf_parser::Face::parse(&data, 0).expect("font parses");
        for (name, _) in IVS_SURNAMES {
            let chars: Vec<char> = name.chars().collect();
            for pair in chars.windows(2) {
                if has_ivs(&pair[1].to_string()) {
                    assert!(
                        face.glyph_variation_index(pair[0], pair[1]).is_some(),
                        "{name}: U+{:04X} U+{:04X} not in IPAmj",
                        pair[0] as u32,
                        pair[1] as u32
                    );
                }
            }
        }
        for (name, _) in VARIANT_SURNAMES {
            for c in name.chars() {
                assert!(face.glyph_index(c).is_some(), "{name}: U+{:04X}", c as u32);
            }
        }
    }
}
