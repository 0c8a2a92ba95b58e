//! Build script: lets `tauri-build` read tauri.conf.json and the capabilities,
//! generate the permission schemas and embed the icons.

fn main() {
    tauri_build::build();
}
