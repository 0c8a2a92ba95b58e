//! Name search keys: folds what a clerk types (kanji, hiragana, katakana in either
//! width, romaji in Hepburn or 訓令式, full-width or half-width, with or without
//! spaces) and what the registry stores into one comparable form.
//!
//! The form is: NFKC (which widens half-width ｶﾅ and narrows full-width Ｒｏｍａｊｉ),
//! variation selectors dropped (a search matches the base character), spaces and
//! separators removed, katakana turned into hiragana, runs of Latin letters read as
//! romaji into hiragana, and spelling variants folded (ぢ→じ, づ→ず, を→お, ゐ→い,
//! ゑ→え, the long-vowel mark dropped, and the long vowels おう/おお/うう written as
//! passports write them: Ōno, Ohno, Ono and おおの all give the same key).

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// The search key of a name or of typed input.
pub fn search_key(input: &str) -> String {
    search_key_of(&[input])
}

/// The search key of a name given in parts (family name, then given name): the key of
/// the parts written one after the other, without writing them out first (a full load
/// makes two such keys per resident).
pub fn search_key_of(parts: &[&str]) -> String {
    let len = parts.iter().map(|p| p.len()).sum();
    // Most registered names and readings are kanji and full-width kana alone: each
    // character folds by itself, with no normalizing, cleaning or romaji to look for
    // (a full load's two keys per resident took a tenth of reading its line).
    if parts.iter().all(|p| p.chars().all(folds_alone)) {
        let mut key = FoldedKana::with_capacity(len);
        for c in parts.iter().flat_map(|p| p.chars()) {
            key.push(katakana_to_hiragana(c));
        }
        return key.out;
    }
    full_key_of(parts, len)
}

/// A kanji (CJK unified ideographs, 々) or a full-width hiragana or katakana letter:
/// NFKC leaves it as it is, and it is no separator, space, variation selector,
/// apostrophe or Latin letter. A kana would compose with a combining sound mark after it
/// (か and U+3099 make が), but such a mark is none of these, so a name made of them
/// alone has nothing to compose.
fn folds_alone(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '々' | '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30F6}')
}

/// [`search_key_of`] for any input (`len`: the parts' length in bytes).
fn full_key_of(parts: &[&str], len: usize) -> String {
    let chars = || parts.iter().flat_map(|p| p.chars());
    let mut cleaned = String::with_capacity(len);
    let mut clean = |c: char| {
        if is_variation_selector(c) || is_separator(c) {
            return;
        }
        if c.is_whitespace() {
            // A space ends a romaji word ("Mihon Ichiro": みほんいちろ, not みほにちろ);
            // it is dropped below like an apostrophe.
            cleaned.push(' ');
            return;
        }
        cleaned.extend(expand_macron(c.to_ascii_lowercase()));
    };
    // Most names are in NFKC already (kanji, full-width kana), which the quick check
    // tells at a fraction of what normalizing costs: a tenth of a full load's parsing.
    if is_nfkc_quick(chars()) == IsNormalized::Yes {
        chars().for_each(&mut clean);
    } else {
        chars().nfkc().for_each(&mut clean);
    }
    let mut key = FoldedKana::with_capacity(cleaned.len());
    let mut romaji = String::new();
    let mut chars = cleaned.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_alphabetic() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, n)) = chars.peek() {
                if !n.is_ascii_alphabetic() {
                    break;
                }
                end = i + n.len_utf8();
                chars.next();
            }
            romaji.clear();
            romaji_to_hiragana(&cleaned[start..end], &mut romaji);
            romaji.chars().for_each(|k| key.push(k));
        } else if c != '\'' && c != '’' && c != ' ' {
            // An apostrophe only separates romaji runs (Ken'ichi: けんいち, not けにち).
            key.push(katakana_to_hiragana(c));
        }
    }
    key.out
}

/// A parsed search query: the keys a stored name key or reading key may start with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameQuery {
    /// The input as typed, folded.
    pub key: String,
    /// For two words, the words swapped (`Taro Mihon` also finds 見本 太郎).
    pub swapped: Option<String>,
}

impl NameQuery {
    /// Reads typed input. Returns `None` when nothing searchable remains.
    pub fn parse(input: &str) -> Option<Self> {
        let key = search_key(input);
        if key.is_empty() {
            return None;
        }
        let normalized: String = input.nfkc().collect();
        let words: Vec<&str> = normalized.split_whitespace().collect();
        let swapped = match words.as_slice() {
            [a, b] => Some(search_key_of(&[b, a])).filter(|s| *s != key),
            _ => None,
        };
        Some(NameQuery { key, swapped })
    }

    /// Whether a person with these stored keys (name, reading, 通称) is a hit.
    pub fn matches(&self, name_key: &str, reading_key: &str, alias_key: Option<&str>) -> bool {
        let hit = |k: &str| {
            name_key.starts_with(k)
                || reading_key.starts_with(k)
                || alias_key.is_some_and(|a| a.starts_with(k))
        };
        hit(&self.key) || self.swapped.as_deref().is_some_and(hit)
    }
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        '・' | '･' | '-' | '‐' | '−' | '.' | ',' | '、' | '=' | '＝' | '゠'
    )
}

fn expand_macron(c: char) -> impl Iterator<Item = char> {
    let (a, b) = match c {
        'ā' | 'Ā' | 'â' | 'Â' => ('a', Some('a')),
        'ī' | 'Ī' | 'î' | 'Î' => ('i', Some('i')),
        'ū' | 'Ū' | 'û' | 'Û' => ('u', Some('u')),
        'ē' | 'Ē' | 'ê' | 'Ê' => ('e', Some('e')),
        'ō' | 'Ō' | 'ô' | 'Ô' => ('o', Some('u')),
        other => (other, None),
    };
    std::iter::once(a).chain(b)
}

fn katakana_to_hiragana(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        'ヽ' => 'ゝ',
        'ヾ' => 'ゞ',
        _ => c,
    }
}

/// Romaji syllables, longest first within each starting letter. Both Hepburn and
/// 訓令式 spellings are accepted.
const SYLLABLES: &[(&str, &str)] = &[
    ("shi", "し"),
    ("sha", "しゃ"),
    ("shu", "しゅ"),
    ("she", "しぇ"),
    ("sho", "しょ"),
    ("chi", "ち"),
    ("cha", "ちゃ"),
    ("chu", "ちゅ"),
    ("che", "ちぇ"),
    ("cho", "ちょ"),
    ("tsu", "つ"),
    ("kya", "きゃ"),
    ("kyu", "きゅ"),
    ("kyo", "きょ"),
    ("sya", "しゃ"),
    ("syu", "しゅ"),
    ("syo", "しょ"),
    ("tya", "ちゃ"),
    ("tyu", "ちゅ"),
    ("tyo", "ちょ"),
    ("cya", "ちゃ"),
    ("cyu", "ちゅ"),
    ("cyo", "ちょ"),
    ("nya", "にゃ"),
    ("nyu", "にゅ"),
    ("nyo", "にょ"),
    ("hya", "ひゃ"),
    ("hyu", "ひゅ"),
    ("hyo", "ひょ"),
    ("mya", "みゃ"),
    ("myu", "みゅ"),
    ("myo", "みょ"),
    ("rya", "りゃ"),
    ("ryu", "りゅ"),
    ("ryo", "りょ"),
    ("gya", "ぎゃ"),
    ("gyu", "ぎゅ"),
    ("gyo", "ぎょ"),
    ("jya", "じゃ"),
    ("jyu", "じゅ"),
    ("jyo", "じょ"),
    ("zya", "じゃ"),
    ("zyu", "じゅ"),
    ("zyo", "じょ"),
    ("dya", "ぢゃ"),
    ("dyu", "ぢゅ"),
    ("dyo", "ぢょ"),
    ("bya", "びゃ"),
    ("byu", "びゅ"),
    ("byo", "びょ"),
    ("pya", "ぴゃ"),
    ("pyu", "ぴゅ"),
    ("pyo", "ぴょ"),
    ("ka", "か"),
    ("ki", "き"),
    ("ku", "く"),
    ("ke", "け"),
    ("ko", "こ"),
    ("sa", "さ"),
    ("si", "し"),
    ("su", "す"),
    ("se", "せ"),
    ("so", "そ"),
    ("ta", "た"),
    ("ti", "ち"),
    ("tu", "つ"),
    ("te", "て"),
    ("to", "と"),
    ("na", "な"),
    ("ni", "に"),
    ("nu", "ぬ"),
    ("ne", "ね"),
    ("no", "の"),
    ("ha", "は"),
    ("hi", "ひ"),
    ("fu", "ふ"),
    ("hu", "ふ"),
    ("he", "へ"),
    ("ho", "ほ"),
    ("fa", "ふぁ"),
    ("fi", "ふぃ"),
    ("fe", "ふぇ"),
    ("fo", "ふぉ"),
    ("ma", "ま"),
    ("mi", "み"),
    ("mu", "む"),
    ("me", "め"),
    ("mo", "も"),
    ("ya", "や"),
    ("yu", "ゆ"),
    ("yo", "よ"),
    ("ra", "ら"),
    ("ri", "り"),
    ("ru", "る"),
    ("re", "れ"),
    ("ro", "ろ"),
    ("wa", "わ"),
    ("wi", "ゐ"),
    ("we", "ゑ"),
    ("wo", "を"),
    ("ga", "が"),
    ("gi", "ぎ"),
    ("gu", "ぐ"),
    ("ge", "げ"),
    ("go", "ご"),
    ("za", "ざ"),
    ("ji", "じ"),
    ("zi", "じ"),
    ("zu", "ず"),
    ("ze", "ぜ"),
    ("zo", "ぞ"),
    ("ja", "じゃ"),
    ("ju", "じゅ"),
    ("je", "じぇ"),
    ("jo", "じょ"),
    ("da", "だ"),
    ("di", "ぢ"),
    ("du", "づ"),
    ("de", "で"),
    ("do", "ど"),
    ("ba", "ば"),
    ("bi", "び"),
    ("bu", "ぶ"),
    ("be", "べ"),
    ("bo", "ぼ"),
    ("pa", "ぱ"),
    ("pi", "ぴ"),
    ("pu", "ぷ"),
    ("pe", "ぺ"),
    ("po", "ぽ"),
    ("va", "ゔぁ"),
    ("vi", "ゔぃ"),
    ("vu", "ゔ"),
    ("ve", "ゔぇ"),
    ("vo", "ゔぉ"),
    ("a", "あ"),
    ("i", "い"),
    ("u", "う"),
    ("e", "え"),
    ("o", "お"),
];

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'i' | b'u' | b'e' | b'o')
}

/// Reads one run of lowercase ASCII letters as romaji. Letters that form no syllable
/// are kept as they are, so the result is still comparable.
fn romaji_to_hiragana(run: &str, out: &mut String) {
    let b = run.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let rest = &run[i..];
        let c = b[i];
        let next = b.get(i + 1).copied();
        // ん: "nn", n before a consonant other
        // than y, n at the end; Hepburn's m before b, m, p.
        if c == b'n' && next.is_none_or(|n| !is_vowel(n) && n != b'y') {
            out.push('ん');
            i += if next == Some(b'n') && b.get(i + 2).is_none_or(|n| !is_vowel(*n) && *n != b'y') {
                2
            } else {
                1
            };
            continue;
        }
        if c == b'm' && matches!(next, Some(b'b' | b'm' | b'p')) && starts_syllable(&run[i + 1..]) {
            out.push('ん');
            i += 1;
            continue;
        }
        // Passport spelling "oh" before a consonant or at the end is a long o (Ohno).
        if c == b'h' && i > 0 && b[i - 1] == b'o' && next.is_none_or(|n| !is_vowel(n) && n != b'y')
        {
            out.push('お');
            i += 1;
            continue;
        }
        // Doubled consonant (kk, tt, tch) before a syllable is っ. Letters that begin
        // no syllable stay letters, so a key read again is the same key ("qq").
        if !is_vowel(c)
            && c != b'n'
            && (next == Some(c) || (c == b't' && next == Some(b'c')))
            && starts_syllable(&run[i + 1..])
        {
            out.push('っ');
            i += 1;
            continue;
        }
        match SYLLABLES.iter().find(|(r, _)| rest.starts_with(r)) {
            Some((r, k)) => {
                out.push_str(k);
                i += r.len();
            }
            None => {
                out.push(char::from(c));
                i += 1;
            }
        }
    }
}

/// Whether a romaji syllable begins `rest`.
fn starts_syllable(rest: &str) -> bool {
    SYLLABLES.iter().any(|(r, _)| rest.starts_with(r))
}

/// The vowel a hiragana ends in, for the long-vowel fold.
fn vowel_of(c: char) -> Option<char> {
    const ROWS: [(&str, char); 5] = [
        ("あかさたなはまやらわがざだばぱぁゃゎ", 'a'),
        ("いきしちにひみりゐぎじぢびぴぃ", 'i'),
        ("うくすつぬふむゆるぐずづぶぷゔぅゅ", 'u'),
        ("えけせてねへめれゑげぜでべぺぇ", 'e'),
        ("おこそとのほもよろをごぞどぼぽぉょ", 'o'),
    ];
    ROWS.iter()
        .find(|(row, _)| row.contains(c))
        .map(|(_, v)| *v)
}

/// Hiragana with the spelling variants folded as they are pushed: ぢ→じ, づ→ず, を→お,
/// ゐ→い, ゑ→え, long-vowel marks and wave dashes dropped, and a long お or う after an
/// o-row or u-row kana dropped (おう/おお/うう).
struct FoldedKana {
    out: String,
    prev: Option<char>,
}

impl FoldedKana {
    fn with_capacity(capacity: usize) -> FoldedKana {
        FoldedKana {
            out: String::with_capacity(capacity),
            prev: None,
        }
    }

    fn push(&mut self, c: char) {
        let c = match c {
            'ぢ' => 'じ',
            'づ' => 'ず',
            'を' => 'お',
            'ゐ' => 'い',
            'ゑ' => 'え',
            'ー' | '〜' | '～' => return,
            other => other,
        };
        // Only う and お can lengthen a vowel: the previous kana's vowel is looked up
        // for them alone.
        let long = (c == 'う' || c == 'お')
            && match self.prev.and_then(vowel_of) {
                Some('o') => true,
                Some('u') => c == 'う',
                _ => false,
            };
        if long {
            return;
        }
        self.out.push(c);
        self.prev = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(search_key(input), expected, "{input:?}");
    }

    #[test]
    fn folds_scripts_and_widths() {
        check("見本 太郎", "見本太郎");
        check("見本　太郎", "見本太郎");
        check("ミホン タロウ", "みほんたろ");
        check("ﾐﾎﾝ ﾀﾛｳ", "みほんたろ");
        check("mihon tarou", "みほんたろ");
        check("Mihon Taro", "みほんたろ");
        check("ＭＩＨＯＮ　ＴＡＲＯ", "みほんたろ");
        check("ﾐﾎﾝﾀﾛｰ", "みほんたろ");
        check("Ōno", "おの");
        check("Ohno", "おの");
        check("オオノ", "おの");
        check("Ono", "おの");
        check("ｶﾞｸ", "がく");
        check("Shinbashi", "しんばし");
        check("Shimbashi", "しんばし");
        check("Kyouko", "きょこ");
        check("Kyoko", "きょこ");
        check("Yuuki", "ゆき");
        check("Hattori", "はっとり");
        check("Ken'ichi", "けんいち");
        check("Mihon Ichiro", "みほんいちろ");
        check("Kenichi", "けにち");
        check("Tsuzuki", "つずき");
        check("ツヅキ", "つずき");
        check("葛󠄂西 辻󠄀", "葛西辻");
        // Letters that form no syllable stay letters, and stay so when read again.
        check("q q", "qq");
        check("qq", "qq");
        check("m b", "mb");
        check("mb", "mb");
        check("Hatt", "はtt");
    }

    #[test]
    fn queries_match_either_order() {
        let q = NameQuery::parse("Taro Mihon").unwrap();
        assert!(q.matches("見本太郎", &search_key("ミホン タロウ"), None));
        let q = NameQuery::parse("みほん").unwrap();
        assert!(q.matches("見本太郎", &search_key("ミホン タロウ"), None));
        assert!(!q.matches("山田花子", &search_key("ヤマダ ハナコ"), None));
        let q = NameQuery::parse("見本").unwrap();
        assert!(q.matches("見本太郎", "みほんたろ", None));
        let q = NameQuery::parse("スミス").unwrap();
        assert!(q.matches("smith", "すみす", None));
        let q = NameQuery::parse("譲").unwrap();
        assert!(!q.matches("smithjohn", "すみすじょん", None));
        assert!(NameQuery::parse("スミス 譲").unwrap().matches(
            "smithjohn",
            "すみすじょん",
            Some(&search_key("スミス 譲"))
        ));
        assert!(NameQuery::parse("  　").is_none());
    }

    const HALF: &[(char, &str)] = &[
        ('ア', "ｱ"),
        ('イ', "ｲ"),
        ('ウ', "ｳ"),
        ('カ', "ｶ"),
        ('ガ', "ｶﾞ"),
        ('キ', "ｷ"),
        ('シ', "ｼ"),
        ('ジ', "ｼﾞ"),
        ('タ', "ﾀ"),
        ('ツ', "ﾂ"),
        ('ナ', "ﾅ"),
        ('ハ', "ﾊ"),
        ('パ', "ﾊﾟ"),
        ('マ', "ﾏ"),
        ('ヤ', "ﾔ"),
        ('ラ', "ﾗ"),
        ('ワ', "ﾜ"),
        ('ン', "ﾝ"),
        ('ッ', "ｯ"),
        ('ョ', "ｮ"),
        ('オ', "ｵ"),
        ('ー', "ｰ"),
    ];

    fn to_half_width(s: &str) -> String {
        s.chars()
            .map(|c| {
                HALF.iter()
                    .find(|(k, _)| *k == c)
                    .map_or_else(|| c.to_string(), |(_, h)| (*h).to_string())
            })
            .collect()
    }

    fn to_full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                ' ' => '\u{3000}',
                other => other,
            })
            .collect()
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        pieces_strategy(PIECES)
    }

    /// Names without romaji, where a space never separates words.
    fn kana_kanji_strategy() -> impl Strategy<Value = String> {
        let pieces: Vec<&'static str> = PIECES
            .iter()
            .copied()
            .filter(|p| !p.bytes().any(|b| b.is_ascii_alphabetic()))
            .collect();
        pieces_strategy(&pieces)
    }

    fn pieces_strategy(pieces: &[&'static str]) -> impl Strategy<Value = String> + use<> {
        let pieces = prop::sample::select(pieces.to_vec());
        prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
    }

    const PIECES: &[&str] = &[
        "a",
        "ka",
        "shi",
        "tsu",
        "n",
        "kyo",
        "tt",
        "Oh",
        "ou",
        "uu",
        " ",
        "ア",
        "ガ",
        "シ",
        "ジ",
        "ツ",
        "ッ",
        "ョ",
        "ン",
        "ー",
        "オ",
        "見",
        "本",
        "葛\u{E0102}",
        "辻\u{E0100}",
        "ゆ",
        "う",
        "を",
        "ぢ",
        "X",
        "q",
        "m",
        "b",
    ];

    proptest! {
        #[test]
        fn idempotent(s in name_strategy()) {
            let k = search_key(&s);
            prop_assert_eq!(search_key(&k), k);
        }

        #[test]
        fn width_insensitive(s in name_strategy()) {
            let k = search_key(&s);
            prop_assert_eq!(search_key(&to_full_width(&s)), k.clone());
            prop_assert_eq!(search_key(&to_half_width(&s)), k);
        }

        #[test]
        /// Input already in NFKC takes the quick path; it must give what normalizing does.
        fn normalized_input_gives_the_same_key(s in prop_oneof![name_strategy(), "\\PC{0,12}"]) {
            let normalized: String = s.nfkc().collect();
            prop_assert_eq!(search_key(&normalized), search_key(&s));
        }

        #[test]
        /// A name's key from its parts is the key of the parts written together, also
        /// where the second part opens with a combining mark or continues a romaji word.
        fn parts_give_the_key_of_the_whole(
            a in prop_oneof![name_strategy(), "\\PC{0,8}"],
            b in prop_oneof![name_strategy(), "\\PC{0,8}", "[\u{3099}\u{309A}\u{0301}][a-zｶﾞ]{0,3}"],
        ) {
            prop_assert_eq!(search_key_of(&[&a, &b]), search_key(&format!("{a}{b}")));
        }

        #[test]
        /// Names of kanji and full-width kana alone take the short way; it must give
        /// what the full folding does.
        fn kanji_and_kana_alone_give_the_full_key(
            a in "[\u{4E00}-\u{9FFF}々\u{3041}-\u{3096}\u{30A1}-\u{30F6}]{0,8}",
            b in prop_oneof![kana_kanji_strategy(), "[\u{3041}-\u{3096}\u{30A1}-\u{30F6}ー]{0,8}"],
        ) {
            prop_assert!(a.chars().all(folds_alone));
            let len = a.len() + b.len();
            prop_assert_eq!(search_key_of(&[&a, &b]), full_key_of(&[&a, &b], len));
            prop_assert_eq!(search_key(&a), full_key_of(&[&a], a.len()));
        }

        #[test]
        /// Outside romaji (where a space separates words), spaces never matter.
        fn spaces_do_not_matter(s in kana_kanji_strategy(), at in 0usize..20) {
            let chars: Vec<char> = s.chars().collect();
            let at = at.min(chars.len());
            let spaced: String = chars[..at].iter().chain(['　'].iter()).chain(chars[at..].iter()).collect();
            prop_assert_eq!(search_key(&spaced), search_key(&s));
        }
    }
}
