// No console window on Windows release builds; the headless subcommands still print when run
// from a terminal that owns a console.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    structuregram_app::main_entry()
}
