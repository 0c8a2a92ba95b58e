//! Reads the page tree of a PDF written by [`crate::pdf`]: its cross-reference table,
//! its trailer, and the dictionaries of the catalog, the page-tree nodes and the pages,
//! and nothing else (no stream is read).
//!
//! Why not a general PDF library: the page-binding check ([`crate::check_bindings`])
//! runs on every certificate before it leaves the office, and parsing the whole file
//! (fonts' width arrays, every stream's dictionary) took about a tenth of the server's
//! time per kiosk issuance. The check needs only the pages, in page-tree order, and
//! each page's `/KofuBinding`. Anything unexpected (a cross-reference stream, an
//! incremental update, a malformed object, a key given twice) is an error, never a
//! guess: the check then refuses the document.

use std::collections::{HashMap, HashSet};

/// Nesting deeper than this (arrays, dictionaries, page-tree levels) is refused.
const MAX_DEPTH: usize = 32;

/// A PDF object as far as the page tree needs it.
#[derive(Clone, Debug, PartialEq)]
enum Object {
    Null,
    Bool(bool),
    Number,
    Name(Vec<u8>),
    String(Vec<u8>),
    Array(Vec<Object>),
    Dictionary(Vec<(Vec<u8>, Object)>),
    Reference(u32),
}

impl Object {
    fn get(&self, key: &[u8]) -> Option<&Object> {
        match self {
            Object::Dictionary(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// The `/KofuBinding` string of every page, in page-tree order (`None`: the page has
/// none). An error says what in the file could not be read.
pub(crate) fn page_bindings(pdf: &[u8]) -> Result<Vec<Option<Vec<u8>>>, String> {
    let file = File::open(pdf)?;
    let root = file.trailer.get(b"Root").ok_or("trailer without /Root")?;
    let catalog = file.resolve(root)?;
    let pages = catalog.get(b"Pages").ok_or("catalog without /Pages")?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    file.walk(pages, 0, &mut seen, &mut out)?;
    Ok(out)
}

/// A PDF's bytes with its cross-reference table and trailer read.
struct File<'a> {
    bytes: &'a [u8],
    /// Object number → byte offset of `N G obj`.
    offsets: HashMap<u32, usize>,
    trailer: Object,
}

impl<'a> File<'a> {
    fn open(bytes: &'a [u8]) -> Result<File<'a>, String> {
        let tail_from = bytes.len().saturating_sub(1024);
        let at = find_last(&bytes[tail_from..], b"startxref")
            .map(|i| tail_from + i + b"startxref".len())
            .ok_or("no startxref")?;
        let mut p = Parser { bytes, pos: at };
        let xref = p.unsigned().ok_or("startxref without an offset")?;
        let mut p = Parser { bytes, pos: xref };
        if !p.keyword(b"xref") {
            return Err("startxref does not point at a cross-reference table".into());
        }
        let mut offsets = HashMap::new();
        loop {
            if p.keyword(b"trailer") {
                break;
            }
            let first = p.expect_unsigned("cross-reference subsection without a start")?;
            let count = p.expect_unsigned("cross-reference subsection without a count")?;
            for i in 0..count {
                let offset = p.expect_unsigned("cross-reference entry without an offset")?;
                let _generation =
                    p.expect_unsigned("cross-reference entry without a generation")?;
                let number = u32::try_from(first + i).map_err(|_| "object number too large")?;
                if p.keyword(b"n") {
                    offsets.insert(number, offset);
                } else if !p.keyword(b"f") {
                    return Err(format!(
                        "cross-reference entry of object {number}: not n or f"
                    ));
                }
            }
        }
        let trailer = p.object(0)?;
        if trailer.get(b"Prev").is_some() {
            return Err("incremental update (/Prev) not expected".into());
        }
        Ok(File {
            bytes,
            offsets,
            trailer,
        })
    }

    /// The object `reference` points to (or `object` itself if it is direct).
    fn resolve(&self, object: &Object) -> Result<Object, String> {
        let Object::Reference(number) = object else {
            return Ok(object.clone());
        };
        let offset = *self
            .offsets
            .get(number)
            .ok_or_else(|| format!("object {number} is not in the cross-reference table"))?;
        let mut p = Parser {
            bytes: self.bytes,
            pos: offset,
        };
        let found = p.unsigned();
        let _generation = p.unsigned();
        if found != Some(*number as usize) || !p.keyword(b"obj") {
            return Err(format!("object {number} is not where the table says"));
        }
        p.object(0)
    }

    /// Appends the pages under `node`, in order, refusing cycles and deep trees.
    fn walk(
        &self,
        node: &Object,
        depth: usize,
        seen: &mut HashSet<u32>,
        out: &mut Vec<Option<Vec<u8>>>,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("page tree too deep".into());
        }
        if let Object::Reference(n) = node
            && !seen.insert(*n)
        {
            return Err(format!("page tree visits object {n} twice"));
        }
        let dict = self.resolve(node)?;
        match dict.get(b"Type") {
            Some(Object::Name(t)) if t == b"Pages" => {
                let Some(Object::Array(kids)) =
                    dict.get(b"Kids").map(|k| self.resolve(k)).transpose()?
                else {
                    return Err("page-tree node without /Kids".into());
                };
                for kid in &kids {
                    self.walk(kid, depth + 1, seen, out)?;
                }
                Ok(())
            }
            Some(Object::Name(t)) if t == b"Page" => {
                let binding = match dict.get(b"KofuBinding") {
                    Some(Object::String(s)) => Some(s.clone()),
                    _ => None,
                };
                out.push(binding);
                Ok(())
            }
            _ => Err("page-tree entry that is neither /Pages nor /Page".into()),
        }
    }
}

/// The offset of the last occurrence of `needle` in `hay`.
fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// A cursor over the file's bytes.
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> &[u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    /// Skips whitespace and comments.
    fn skip(&mut self) {
        while let Some(b) = self.peek() {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(b) = self.peek() {
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Consumes `word` if it comes next as a whole token.
    fn keyword(&mut self, word: &[u8]) -> bool {
        self.skip();
        let rest = self.rest();
        let whole = rest.starts_with(word)
            && rest
                .get(word.len())
                .is_none_or(|&b| is_white(b) || is_delimiter(b));
        if whole {
            self.pos += word.len();
        }
        whole
    }

    /// [`Parser::unsigned`], or the error `missing` says.
    fn expect_unsigned(&mut self, missing: &str) -> Result<usize, String> {
        self.unsigned().ok_or_else(|| missing.to_owned())
    }

    /// An unsigned decimal integer, if one comes next.
    fn unsigned(&mut self) -> Option<usize> {
        self.skip();
        let digits = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 18 {
            return None;
        }
        let text = std::str::from_utf8(&self.rest()[..digits]).ok()?;
        let value = text.parse().ok()?;
        self.pos += digits;
        Some(value)
    }

    fn object(&mut self, depth: usize) -> Result<Object, String> {
        if depth > MAX_DEPTH {
            return Err("objects nested too deep".into());
        }
        self.skip();
        let at = self.pos;
        let rest = self.rest();
        match rest.first() {
            None => Err("file ends inside an object".into()),
            Some(b'<') if rest.get(1) == Some(&b'<') => {
                self.pos += 2;
                let mut entries = Vec::new();
                loop {
                    self.skip();
                    if self.rest().starts_with(b">>") {
                        self.pos += 2;
                        return Ok(Object::Dictionary(entries));
                    }
                    let key_at = self.pos;
                    let Object::Name(key) = self.object(depth + 1)? else {
                        return Err(format!(
                            "dictionary key that is not a name at byte {key_at}"
                        ));
                    };
                    let value = self.object(depth + 1)?;
                    // Readers differ on which of two equal keys counts: refuse both.
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(format!("dictionary key repeated at byte {key_at}"));
                    }
                    entries.push((key, value));
                }
            }
            Some(b'<') => {
                self.pos += 1;
                let mut out = Vec::new();
                let mut high: Option<u8> = None;
                loop {
                    let b = self.peek().ok_or("file ends inside a hex string")?;
                    self.pos += 1;
                    if b == b'>' {
                        break;
                    }
                    if is_white(b) {
                        continue;
                    }
                    let digit = (b as char)
                        .to_digit(16)
                        .ok_or_else(|| format!("bad hex digit at byte {}", self.pos - 1))?
                        as u8;
                    match high.take() {
                        Some(h) => out.push(h << 4 | digit),
                        None => high = Some(digit),
                    }
                }
                if let Some(h) = high {
                    out.push(h << 4);
                }
                Ok(Object::String(out))
            }
            Some(b'(') => {
                self.pos += 1;
                self.literal_string().map(Object::String)
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Object::Array(items));
                    }
                    items.push(self.object(depth + 1)?);
                }
            }
            Some(b'/') => {
                self.pos += 1;
                let mut name = Vec::new();
                while let Some(b) = self.peek() {
                    if is_white(b) || is_delimiter(b) {
                        break;
                    }
                    self.pos += 1;
                    if b == b'#' {
                        let hex = self
                            .bytes
                            .get(self.pos..self.pos + 2)
                            .ok_or("bad # in name")?;
                        let hex = std::str::from_utf8(hex).map_err(|_| "bad # in name")?;
                        name.push(u8::from_str_radix(hex, 16).map_err(|_| "bad # in name")?);
                        self.pos += 2;
                    } else {
                        name.push(b);
                    }
                }
                Ok(Object::Name(name))
            }
            Some(b) if b.is_ascii_digit() => {
                // An integer, or the start of a reference `N G R`.
                let n = self.unsigned().ok_or("number too long")?;
                let after_number = self.pos;
                if let Some(_generation) = self.unsigned()
                    && self.keyword(b"R")
                {
                    let n = u32::try_from(n).map_err(|_| "object number too large")?;
                    return Ok(Object::Reference(n));
                }
                self.pos = after_number;
                self.number_tail();
                Ok(Object::Number)
            }
            Some(b'+' | b'-' | b'.') => {
                self.pos += 1;
                self.number_tail();
                Ok(Object::Number)
            }
            Some(_) => {
                for (word, object) in [
                    (&b"true"[..], Object::Bool(true)),
                    (b"false", Object::Bool(false)),
                    (b"null", Object::Null),
                ] {
                    if self.keyword(word) {
                        return Ok(object);
                    }
                }
                Err(format!("unexpected byte at {at}"))
            }
        }
    }

    /// Skips the rest of a number (digits and a decimal point).
    fn number_tail(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
            self.pos += 1;
        }
    }

    /// A literal string after its `(`: balanced parentheses, escapes decoded.
    fn literal_string(&mut self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut open = 1usize;
        loop {
            let b = self.peek().ok_or("file ends inside a string")?;
            self.pos += 1;
            match b {
                b'(' => {
                    open += 1;
                    out.push(b);
                }
                b')' => {
                    open -= 1;
                    if open == 0 {
                        return Ok(out);
                    }
                    out.push(b);
                }
                b'\\' => {
                    let e = self.peek().ok_or("file ends inside a string")?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        // A backslash at the end of a line continues the string.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PDF with the objects given (numbered from 1) and a trailer pointing at object 1
    /// as the catalog, with a correct cross-reference table.
    fn pdf(objects: &[&str]) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<</Root 1 0 R/Size {}>>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn check(objects: &[&str], expected: Result<Vec<Option<&str>>, &str>) {
        let got = page_bindings(&pdf(objects));
        let expected = expected
            .map(|pages| {
                pages
                    .into_iter()
                    .map(|p| p.map(|s| s.as_bytes().to_vec()))
                    .collect()
            })
            .map_err(str::to_owned);
        assert_eq!(got, expected, "{objects:?}");
    }

    #[test]
    fn pages_come_in_page_tree_order_with_their_bindings() {
        // A nested tree: the second leaf comes before the first in object order.
        check(
            &[
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [5 0 R 3 0 R] /Count 3 >>",
                "<< /Type /Pages /Kids [4 0 R 6 0 R] /Count 2 >>",
                "<< /Type /Page /KofuBinding <4B 4f4> /MediaBox [0 0 595.28 841.89] >>",
                "<</Type/Page/KofuBinding(first \\(1\\) \\101\\n)/Rotate -90>>",
                "<< /Type /Page /Resources << /Font << /F1 7 0 R >> >> /Annots [] /X null /Y true >>",
                "<< /W [1 [500 1000.5 -3]] >>",
            ],
            Ok(vec![Some("first (1) A\n"), Some("KO@"), None]),
        );
    }

    #[test]
    fn names_with_escapes_and_comments_are_read() {
        check(
            &[
                "<< /Type /Catalog % a comment\n /Pages 2 0 R >>",
                "<< /Type /Pages /Kids 3 0 R /Count 1 >>",
                "[4 0 R]",
                "<< /Type /P#61ge /KofuBinding <> >>",
            ],
            Ok(vec![Some("")]),
        );
    }

    #[test]
    fn broken_trees_are_refused_not_guessed() {
        let catalog = "<< /Type /Catalog /Pages 2 0 R >>";
        check(
            &[catalog, "<< /Type /Pages /Kids [2 0 R] >>"],
            Err("page tree visits object 2 twice"),
        );
        check(
            &[catalog, "<< /Type /Pages /Kids [9 0 R] >>"],
            Err("object 9 is not in the cross-reference table"),
        );
        check(
            &[catalog, "<< /Type /Pages >>"],
            Err("page-tree node without /Kids"),
        );
        check(
            &[
                catalog,
                "<< /Type /Pages /Kids [3 0 R] >>",
                "<< /Type /Font >>",
            ],
            Err("page-tree entry that is neither /Pages nor /Page"),
        );
        check(
            &[
                catalog,
                "<< /Type /Pages /Kids [3 0 R] >>",
                "<< /Type /Page /KofuBinding (open",
            ],
            Err("file ends inside a string"),
        );
        check(
            &[catalog, "<< /Type /Pages /Kids [3 0 R] /Kids [2 0 R] >>"],
            Err("dictionary key repeated at byte 102"),
        );
        check(
            &[
                catalog,
                "<< /Type /Pages /Kids [3 0 R] >>",
                "<< /Type /Page 5 >>",
            ],
            Err("dictionary key that is not a name at byte 135"),
        );
    }

    #[test]
    fn files_it_was_not_written_for_are_refused() {
        assert_eq!(page_bindings(b"%PDF-1.7\n"), Err("no startxref".into()));
        let mut incremental = pdf(&["<< /Type /Catalog /Pages 2 0 R >>"]);
        let at = find_last(&incremental, b"/Size").unwrap();
        incremental.splice(at..at, b"/Prev 9 ".iter().copied());
        assert_eq!(
            page_bindings(&incremental),
            Err("incremental update (/Prev) not expected".into())
        );
        // startxref pointing elsewhere (as at a cross-reference stream).
        let mut moved = pdf(&["<< /Type /Catalog /Pages 2 0 R >>"]);
        let at = find_last(&moved, b"startxref\n").unwrap() + b"startxref\n".len();
        moved.splice(at..at, b"1".iter().copied());
        assert!(page_bindings(&moved).is_err());
    }

    #[test]
    fn the_binding_check_reads_its_pages_and_refuses_an_empty_tree() {
        let binding = |s: &str| {
            let units: String = s.encode_utf16().map(|u| format!("{u:04X}")).collect();
            format!("<< /Type /Page /KofuBinding <FEFF{units}> >>")
        };
        let catalog = "<< /Type /Catalog /Pages 2 0 R >>";
        let two = pdf(&[
            catalog,
            "<< /Type /Pages /Kids [3 0 R 4 0 R] >>",
            &binding("kofu-binding/1|r|s|1/2|n 1/2"),
            &binding("kofu-binding/1|r|s|2/2|n 2/2"),
        ]);
        assert_eq!(crate::check_bindings(&two, "r", "s"), Ok(2));
        assert!(crate::check_bindings(&two, "r2", "s").is_err());
        assert!(crate::check_bindings(&two, "r", "s2").is_err());
        let empty = pdf(&[catalog, "<< /Type /Pages /Kids [] >>"]);
        assert_eq!(
            crate::check_bindings(&empty, "r", "s"),
            Err(crate::RenderError::Invalid(
                "the document has no pages".into()
            ))
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        check(
            &["<< /Type /Catalog /Pages 2 0 R >>", &deep],
            Err("objects nested too deep"),
        );
    }
}
