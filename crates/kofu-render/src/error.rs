//! The crate's one error type, [`RenderError`].
//!
//! Every failure names what the clerk (or the kiosk operator reading the alert) has to
//! fix: the field whose value did not fit, the character no font can draw, the font
//! that could not be loaded. Nothing is ever printed "as best we can" instead.

use crate::fonts::FontFace;

/// Everything that can go wrong while loading fonts, laying out or writing a PDF.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A font could not be obtained from the [`crate::FontSource`] or is not a usable
    /// TrueType/OpenType font.
    #[error("font {face:?} unavailable: {reason}")]
    Font {
        /// Which face was requested.
        face: FontFace,
        /// What went wrong, in words.
        reason: String,
    },

    /// No font in the fallback chain has a glyph for this character (or this
    /// character + variation selector sequence): a 外字 that must be registered
    /// before the certificate can be printed.
    #[error("field `{field}`: no font has a glyph for {} (「{ch}」)", codepoints(.ch))]
    MissingGlyph {
        /// The layout field whose value contains the character.
        field: String,
        /// The character as given, including its variation selector if any.
        ch: String,
    },

    /// The value does not fit its box even at the minimum size on the most lines the
    /// box can hold. Text is never truncated.
    #[error("field `{field}`: text does not fit its box even shrunk to the floor size and wrapped")]
    Overflow {
        /// The layout field that overflowed.
        field: String,
    },

    /// An image could not be decoded or violates a rule (e.g. official seal larger
    /// than 25 mm).
    #[error("image `{name}`: {reason}")]
    Image {
        /// The image's name (e.g. `official-seal`).
        name: String,
        /// What went wrong.
        reason: String,
    },

    /// The caller asked for something the layout cannot express (negative sizes,
    /// unknown page, a document without pages, inconsistent certificate data…).
    #[error("invalid layout input: {0}")]
    Invalid(String),

    /// Writing the PDF objects failed (font subsetting, serialisation).
    #[error("PDF writing failed: {0}")]
    Pdf(String),
}

/// `"U+845B U+E0102"` for a character sequence: a clerk can look these up in the MJ
/// character table, whereas the glyph itself may not display anywhere.
pub fn codepoints(s: &str) -> String {
    s.chars()
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_glyph_names_field_and_codepoints() {
        let e = RenderError::MissingGlyph {
            field: "氏名".into(),
            ch: "\u{845B}\u{E0102}".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("氏名"), "{msg}");
        assert!(msg.contains("U+845B U+E0102"), "{msg}");
    }
}
