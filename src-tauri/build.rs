//! Build script: compiles the Tauri context from the one tauri.conf.json at the repository root.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri-build failed: check ../tauri.conf.json and the capabilities folder");
}
