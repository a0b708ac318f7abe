//! The StructureGram desktop shell: the window, its plugins (single instance, deep link,
//! opener), the Tauri commands, and the headless command line of the same binary.
//!
//! Business logic lives in `structuregram-core`; this crate only adapts it to Tauri and to the
//! terminal. Tauri and the WebView stop here: nothing below imports them.

#![deny(missing_docs)]

#[allow(missing_docs)] // Tauri commands are documented by the IPC contract in ui/src/ipc/.
pub mod auth;
pub mod bulk;
pub mod cli;
#[allow(missing_docs)] // Tauri commands are documented by the IPC contract in ui/src/ipc/.
pub mod commands;
pub mod ipc;
#[allow(missing_docs)] // Tauri commands are documented by the IPC contract in ui/src/ipc/.
pub mod push;
pub mod reconcile;
pub mod state;
#[allow(missing_docs)] // Tauri commands are documented by the IPC contract in ui/src/ipc/.
pub mod sync;
pub mod vault;
#[allow(missing_docs)] // Tauri commands are documented by the IPC contract in ui/src/ipc/.
pub mod xero;

use std::path::{Path, PathBuf};

use clap::Parser;
use tauri::Manager;

/// The app identifier (tauri.conf.json), also the app-data folder name.
pub const IDENTIFIER: &str = "com.structuregram.desktop";
/// The custom URL scheme the app registers for deep links.
pub const SCHEME: &str = "structuregram";

/// Entry point of the binary: headless subcommand, or the window.
pub fn main_entry() -> std::process::ExitCode {
    // The OS launches the app with a deep link as its only argument; that opens the window.
    let args: Vec<String> = std::env::args().collect();
    let deep_link = args
        .get(1)
        .is_some_and(|a| a.starts_with(&format!("{SCHEME}://")));
    let cli = if deep_link {
        Cli::parse_from(&args[..1])
    } else {
        Cli::parse()
    };
    // Scripts want only their output and their one error line on the terminal (retries and
    // refusals logged at WARN are noise there; `STRUCTUREGRAM_LOG=warn` shows them); the window
    // logs its progress, also into the data folder's log file (what a user sends for help).
    if cli.command.is_some() {
        init_logging("error", None);
    } else {
        init_logging("info", Some(&cli.resolved_data_dir()));
    }
    let runtime = tokio::runtime::Runtime::new().expect("cannot start the async runtime");
    match &cli.command {
        Some(command) => match runtime.block_on(cli::run(&cli, command)) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            // The reader went away (`structuregram groups | head`): nothing more to say.
            Err(e)
                if e.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
            {
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::debug!(error = format!("{e:#}"), "command failed");
                eprintln!("error: {}", user_message(&e));
                std::process::ExitCode::FAILURE
            }
        },
        None => {
            let data_dir = cli.resolved_data_dir();
            let state = match runtime.block_on(state::AppState::open(&data_dir, cli.demo)) {
                Ok(state) => state,
                Err(e) => {
                    eprintln!(
                        "error: cannot open the data folder {}: {e:#}",
                        data_dir.display()
                    );
                    return std::process::ExitCode::FAILURE;
                }
            };
            tauri::async_runtime::set(runtime.handle().clone());
            let xero = match runtime.block_on(xero::XeroState::open(&state.db, cli.demo)) {
                Ok(xero) => xero,
                Err(e) => {
                    eprintln!("error: cannot set up the Xero connection: {e:#}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            run_window(state, xero);
            std::process::ExitCode::SUCCESS
        }
    }
}

use cli::Cli;

/// A command's error for the person who ran it: each layer of context down to the first
/// StructureGram error, whose message already says what happened and what to do next. What
/// lies beneath it (HTTP statuses, parser details) only repeats that in technical words; it is
/// logged at debug (`STRUCTUREGRAM_LOG=debug`).
fn user_message(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        parts.push(cause.to_string());
        if cause.downcast_ref::<structuregram_core::Error>().is_some() {
            break;
        }
    }
    parts.join(": ")
}

/// Logs to standard error at `default_level`, or as `STRUCTUREGRAM_LOG` says (an `EnvFilter`);
/// with a data folder, also into its log file ([`log_file`]). A log file that cannot be opened
/// is reported on standard error and skipped: logging never stops the app.
fn init_logging(default_level: &str, data_dir: Option<&Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRUCTUREGRAM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let file = data_dir.and_then(|dir| match open_log_file(dir) {
        Ok(file) => Some(file),
        Err(e) => {
            eprintln!("warning: no log file in {}: {e}", dir.display());
            None
        }
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_writer(std::io::stderr),
        )
        .with(file.map(|file| {
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
        }))
        .try_init();
}

/// The window's log file: `<data folder>/logs/structuregram.log`. It holds what the app did
/// (never a secret: tokens, codes and keys are redacted types) for a user to send when asking
/// for help.
pub fn log_file(data_dir: &Path) -> PathBuf {
    data_dir.join("logs").join("structuregram.log")
}

/// Largest log file kept before it is moved aside to `structuregram.log.1` at the next start.
const LOG_FILE_LIMIT_BYTES: u64 = 10 * 1024 * 1024;

/// Opens [`log_file`] for appending, readable by its owner only; a file over
/// [`LOG_FILE_LIMIT_BYTES`] is first moved aside (replacing the previous one).
fn open_log_file(data_dir: &Path) -> std::io::Result<std::fs::File> {
    let path = log_file(data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_FILE_LIMIT_BYTES) {
        std::fs::rename(&path, path.with_extension("log.1"))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn run_window(state: state::AppState, xero: xero::XeroState) {
    let connector = xero.connector.clone();
    tracing::info!(data_dir = %state.data_dir.display(), demo = state.demo, "opening window");
    tauri::Builder::default()
        // Single instance first: a second launch (e.g. by a deep link) hands its arguments to
        // this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!(?argv, "second launch forwarded");
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .manage(state)
        .manage(xero)
        .manage(push::PushJobs::default())
        .manage(bulk::BulkJobs::default())
        .manage(reconcile::ReconcileJobs::default())
        .manage(sync::SyncState::default())
        .setup(|app| {
            use tauri_plugin_deep_link::DeepLinkExt;
            #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
            if let Err(e) = app.deep_link().register_all() {
                tracing::warn!(error = %e, "could not register the structuregram:// scheme");
            }
            // `structuregram://oauth/callback?…` completes a pending Xero connection, exactly
            // like the loopback listener; a second launch's link arrives here too (the
            // single-instance plugin's deep-link feature forwards it).
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                for url in urls {
                    xero::handle_deep_link(connector.clone(), url.to_string());
                }
            }
            app.deep_link().on_open_url(move |event| {
                let urls = event.urls();
                tracing::info!(urls = urls.len(), "deep link received");
                for url in urls {
                    xero::handle_deep_link(connector.clone(), url.to_string());
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_groups,
            commands::create_group,
            commands::rename_group,
            commands::delete_group,
            commands::set_group_entities,
            commands::list_entities,
            commands::create_entity,
            commands::update_entity,
            commands::delete_entity,
            commands::list_relationships,
            commands::create_relationship,
            commands::update_relationship,
            commands::delete_relationship,
            commands::get_diagram,
            commands::save_export,
            auth::auth_status,
            auth::sign_up,
            auth::sign_in,
            auth::sign_out,
            auth::lock,
            auth::create_organisation,
            auth::switch_organisation,
            auth::mfa_status,
            auth::mfa_begin_enrolment,
            auth::mfa_confirm,
            auth::mfa_disable,
            auth::verify_session,
            auth::integration_gate,
            xero::xero_overview,
            xero::xero_connect,
            xero::xero_wait,
            xero::xero_choose_tenant,
            xero::xero_cancel,
            xero::xero_test,
            xero::xero_disconnect,
            xero::xero_settings,
            xero::xero_save_settings,
            xero::xpm_catalog,
            xero::xpm_refresh_catalog,
            xero::xpm_estimate,
            xero::xpm_link_new,
            xero::xpm_link_existing,
            xero::xpm_unlink,
            xero::xpm_group_link,
            bulk::xpm_bulk_status,
            bulk::xpm_bulk_start,
            bulk::xpm_bulk_cancel,
            push::xpm_push_plan,
            push::xpm_push,
            push::xpm_push_cancel,
            push::xpm_push_entity,
            reconcile::xpm_reconcile_preview,
            reconcile::xpm_reconcile_current,
            reconcile::xpm_reconcile_decide,
            reconcile::xpm_reconcile_helper,
            reconcile::xpm_reconcile_apply,
            sync::xpm_pull,
            sync::xpm_pull_cancel,
            sync::review_list,
            sync::review_decide,
            sync::structure_rules_list,
            sync::structure_rule_delete,
            sync::sync_runs,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running the StructureGram window");
}

/// Where exported diagrams go: the user's Downloads folder, else `<data dir>/exports`.
pub fn export_folder(data_dir: &Path) -> PathBuf {
    dirs::download_dir().unwrap_or_else(|| data_dir.join("exports"))
}

/// Writes an export under `folder` with a safe file name (path separators and control characters
/// replaced), never overwriting: `name.png`, then `name (2).png` … Returns the path written.
///
/// # Errors
/// Any I/O failure creating the folder or the file.
pub fn write_export(folder: &Path, file_name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(folder)?;
    let safe: String = file_name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.').trim();
    let safe = if safe.is_empty() { "diagram" } else { safe };
    let (stem, ext) = match safe.rsplit_once('.') {
        Some((stem, ext)) => (stem.to_owned(), format!(".{ext}")),
        None => (safe.to_owned(), String::new()),
    };
    for n in 1..=1000 {
        let name = if n == 1 {
            format!("{stem}{ext}")
        } else {
            format!("{stem} ({n}){ext}")
        };
        let path = folder.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                use std::io::Write;
                file.write_all(bytes)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "too many exports with this name; tidy the folder and retry",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_error_stops_at_structuregrams_own_words() {
        let failed = structuregram_core::Error::XpmCall {
            message: "Xero had a problem answering (HTTP 500). Wait a few minutes and try again."
                .to_owned(),
            source: xpm::Error::Server { status: 500 },
        };
        let e =
            anyhow::Error::new(failed).context("Syncing \u{201c}Fernhill Family\u{201d} failed");
        assert_eq!(
            user_message(&e),
            "Syncing \u{201c}Fernhill Family\u{201d} failed: Xero had a problem answering (HTTP 500). Wait a few minutes and try again.",
            "the HTTP detail beneath core's message is not repeated"
        );
        let plain = anyhow::anyhow!("no such group").context("cannot export");
        assert_eq!(user_message(&plain), "cannot export: no such group");
    }

    #[test]
    fn exports_never_overwrite_and_never_escape_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_export(dir.path(), "../Nguyen/Group.png", b"one").unwrap();
        let second = write_export(dir.path(), "../Nguyen/Group.png", b"two").unwrap();
        assert_eq!(
            first.parent().unwrap(),
            dir.path(),
            "a path in the name must not escape"
        );
        assert_eq!(first.file_name().unwrap(), "_Nguyen_Group.png");
        assert_eq!(second.file_name().unwrap(), "_Nguyen_Group (2).png");
        assert_eq!(
            std::fs::read(&first).unwrap(),
            b"one",
            "the first export is kept"
        );
    }
}
