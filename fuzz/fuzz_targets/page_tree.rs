//! Fuzzes the page-binding check of kofu-render (`check_bindings`), whose reader of a
//! PDF's page tree runs on every certificate before it is released.
//!
//! Properties: the check never panics and always ends, whatever the bytes; when it
//! accepts a file for request `r` and subject `s`, the same file is refused for any
//! other request or subject.

#![no_main]

use kofu_render::check_bindings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|pdf: &[u8]| {
    if let Ok(pages) = check_bindings(pdf, "r", "s") {
        assert!(pages >= 1, "accepted a document without pages");
        assert!(check_bindings(pdf, "r2", "s").is_err(), "accepted for another request");
        assert!(check_bindings(pdf, "r", "s2").is_err(), "accepted for another subject");
    }
});
