//! Rebuilds the crate when the message catalogue changes: `rust_i18n::i18n!` reads
//! `locales/*.json` at compile time but does not tell cargo about the files.

fn main() {
    println!("cargo:rerun-if-changed=../../locales");
    println!("cargo:rerun-if-changed=build.rs");
}
