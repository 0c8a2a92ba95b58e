//! Text to glyphs: cluster segmentation (base character + variation selector), glyph
//! resolution through the face's fallback chain, and line breaking.
//!
//! There is deliberately no shaping engine: certificate text is Japanese set solid
//! (every kana/kanji one em) plus digits and the odd Latin name, none of which needs
//! GSUB/GPOS. What does matter is that an Ideographic Variation Sequence stays one
//! unit from lookup to the ToUnicode map, so that is what a cluster is here.

use std::ops::Range;

use crate::error::RenderError;
use crate::fonts::{Faces, FontFace};

/// How a glyph behaves at a line break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BreakClass {
    /// Ordinary character: a break may come before it.
    Normal,
    /// A space: a break may replace it; dropped at line ends and starts.
    Space,
    /// Must not start a line (、。」） small kana, prolonged sound mark…) — 行頭禁則.
    NoStart,
    /// Must not end a line (「（ …) — 行末禁則.
    NoEnd,
    /// Part of an ASCII word: breaks inside a word are avoided when possible.
    Word,
    /// An explicit line feed in the value.
    Newline,
}

/// One resolved cluster.
#[derive(Debug, Clone)]
pub(crate) struct Glyph {
    pub(crate) face: FontFace,
    pub(crate) gid: u16,
    /// Advance in em.
    pub(crate) adv: f32,
    /// Byte range of the cluster in the source text.
    pub(crate) range: Range<usize>,
    pub(crate) class: BreakClass,
}

/// A string resolved to glyphs.
#[derive(Debug, Clone)]
pub(crate) struct Shaped<'t> {
    pub(crate) text: &'t str,
    pub(crate) glyphs: Vec<Glyph>,
}

/// True for the variation selectors that attach to the preceding character:
/// VS1–VS16 (U+FE00–FE0F, standardized variants) and VS17–VS256 (U+E0100–E01EF,
/// Ideographic Variation Sequences as used by the MJ character set).
pub(crate) fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn class_of(c: char) -> BreakClass {
    match c {
        ' ' | '\u{3000}' => BreakClass::Space,
        '\n' => BreakClass::Newline,
        '、' | '。' | '，' | '．' | ',' | '.' | '」' | '』' | '）' | ')' | '】' | '〕' | '〉'
        | '》' | '・' | 'ー' | '々' | '：' | ':' | '；' | ';' | '？' | '！' | '?' | '!' | 'ぁ'
        | 'ぃ' | 'ぅ' | 'ぇ' | 'ぉ' | 'っ' | 'ゃ' | 'ゅ' | 'ょ' | 'ゎ' | 'ァ' | 'ィ' | 'ゥ'
        | 'ェ' | 'ォ' | 'ッ' | 'ャ' | 'ュ' | 'ョ' | 'ヮ' | 'ヵ' | 'ヶ' | '－' | '-' | '〜'
        | '～' => BreakClass::NoStart,
        '「' | '『' | '（' | '(' | '【' | '〔' | '〈' | '《' => BreakClass::NoEnd,
        c if c.is_ascii_alphanumeric() => BreakClass::Word,
        _ => BreakClass::Normal,
    }
}

/// Resolves `text` to glyphs, `face` first, then its fallback chain.
///
/// A character (or sequence) no face has is an error naming `field` and the
/// character: certificates never show a .notdef box or a substitute.
pub(crate) fn shape<'t>(
    faces: &Faces<'_>,
    text: &'t str,
    face: FontFace,
    field: &str,
) -> Result<Shaped<'t>, RenderError> {
    let mut glyphs = Vec::with_capacity(text.len() / 2);
    let mut it = text.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        let selector = match it.peek() {
            Some(&(_, vs)) if is_variation_selector(vs) => {
                it.next();
                Some(vs)
            }
            _ => None,
        };
        let end = it.peek().map_or(text.len(), |&(i, _)| i);
        let class = class_of(c);
        if class == BreakClass::Newline && selector.is_none() {
            glyphs.push(Glyph {
                face,
                gid: 0,
                adv: 0.0,
                range: start..end,
                class,
            });
            continue;
        }
        let found = if is_variation_selector(c) {
            // A selector with nothing to attach to is not a character of the name.
            None
        } else {
            face.fallback_chain()
                .into_iter()
                .find_map(|f| faces.lookup(f, c, selector).map(|(g, a)| (f, g, a)))
        };
        let Some((f, gid, adv)) = found else {
            return Err(RenderError::MissingGlyph {
                field: field.to_owned(),
                ch: text[start..end].to_owned(),
            });
        };
        glyphs.push(Glyph {
            face: f,
            gid,
            adv,
            range: start..end,
            class,
        });
    }
    Ok(Shaped { text, glyphs })
}

impl Shaped<'_> {
    /// Width in em of the glyphs in `r`, excluding spaces at either end.
    pub(crate) fn width(&self, r: Range<usize>) -> f32 {
        let r = self.trim(r);
        self.glyphs[r].iter().map(|g| g.adv).sum()
    }

    /// `r` without leading/trailing spaces and line feeds.
    pub(crate) fn trim(&self, mut r: Range<usize>) -> Range<usize> {
        let skip = |g: &Glyph| matches!(g.class, BreakClass::Space | BreakClass::Newline);
        while r.start < r.end && skip(&self.glyphs[r.start]) {
            r.start += 1;
        }
        while r.end > r.start && skip(&self.glyphs[r.end - 1]) {
            r.end -= 1;
        }
        r
    }

    /// Whether the text has an explicit line feed (then it can never be one line).
    pub(crate) fn has_newline(&self) -> bool {
        self.glyphs.iter().any(|g| g.class == BreakClass::Newline)
    }

    /// Greedy line breaking into lines at most `max_em` wide, with 禁則 and ASCII
    /// words kept whole where possible. `None` when a single cluster is wider than
    /// the line (nothing can make it fit at this size).
    pub(crate) fn wrap(&self, max_em: f32) -> Option<Vec<Range<usize>>> {
        // A hair of tolerance so a value that fits exactly is not broken by
        // float rounding of the advances.
        let max_em = max_em + 1e-4;
        let g = &self.glyphs;
        let mut lines = Vec::new();
        let mut start = 0;
        while start < g.len() {
            // Spaces at the start of a wrapped line are dropped.
            while start < g.len() && g[start].class == BreakClass::Space {
                start += 1;
            }
            if start >= g.len() {
                break;
            }
            let mut width = 0.0f32;
            let mut i = start;
            let mut forced = false;
            while i < g.len() {
                if g[i].class == BreakClass::Newline {
                    forced = true;
                    break;
                }
                if g[i].class != BreakClass::Space && width + g[i].adv > max_em {
                    break;
                }
                width += g[i].adv;
                i += 1;
            }
            if forced {
                lines.push(start..i);
                start = i + 1;
                continue;
            }
            if i >= g.len() {
                lines.push(start..i);
                break;
            }
            if i == start {
                return None;
            }
            let brk = self.adjust_break(start, i);
            lines.push(start..brk);
            start = brk;
        }
        if lines.is_empty() {
            lines.push(0..0);
        }
        Some(lines)
    }

    /// Moves a break at `i` (line `start..i`) back so that it respects 禁則 and does
    /// not split an ASCII word; keeps `i` if no better position exists.
    fn adjust_break(&self, start: usize, i: usize) -> usize {
        let g = &self.glyphs;
        let ok = |b: usize| {
            b > start
                && g[b].class != BreakClass::NoStart
                && g[b - 1].class != BreakClass::NoEnd
                && !(g[b].class == BreakClass::Word && g[b - 1].class == BreakClass::Word)
        };
        if ok(i) {
            return i;
        }
        // Look back a bounded distance (a long word still breaks somewhere).
        let floor = start.max(i.saturating_sub(24));
        (floor + 1..i).rev().find(|&b| ok(b)).unwrap_or(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(text: &str, adv: f32) -> Shaped<'_> {
        let mut glyphs = Vec::new();
        for (i, c) in text.char_indices() {
            glyphs.push(Glyph {
                face: FontFace::Mincho,
                gid: 1,
                adv,
                range: i..i + c.len_utf8(),
                class: class_of(c),
            });
        }
        Shaped { text, glyphs }
    }

    fn lines(s: &Shaped<'_>, max: f32) -> Vec<String> {
        s.wrap(max)
            .expect("wraps")
            .into_iter()
            .map(|r| {
                let r = s.trim(r);
                if r.is_empty() {
                    return String::new();
                }
                s.text[s.glyphs[r.start].range.start..s.glyphs[r.end - 1].range.end].to_owned()
            })
            .collect()
    }

    #[test]
    fn variation_selectors_recognised() {
        assert!(is_variation_selector('\u{E0102}'));
        assert!(is_variation_selector('\u{FE00}'));
        assert!(!is_variation_selector('葛'));
    }

    #[test]
    fn wraps_and_keeps_closing_punctuation_off_line_start() {
        let s = fake("あいう。えお", 1.0);
        // Three per line would start line two with 。: う moves down with it
        // (追い出し) instead of the 。 starting a line.
        assert_eq!(lines(&s, 3.0), vec!["あい", "う。え", "お"]);
    }

    #[test]
    fn forced_newline_breaks() {
        let s = fake("ab\ncd", 0.5);
        assert_eq!(lines(&s, 10.0), vec!["ab", "cd"]);
        assert!(s.has_newline());
    }

    #[test]
    fn ascii_words_stay_whole() {
        let s = fake("SMITH JOHN", 0.5);
        assert_eq!(lines(&s, 4.0), vec!["SMITH", "JOHN"]);
    }

    #[test]
    fn too_wide_single_glyph_is_none() {
        let s = fake("あ", 1.0);
        assert!(s.wrap(0.5).is_none());
    }
}
