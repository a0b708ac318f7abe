//! The command line: the window by default, or headless subcommands for scripting.
//!
//! ```text
//! structuregram [--data-dir DIR] [--demo]                      open the window
//! structuregram groups [--json]                                 list groups
//! structuregram export --group <id|name> --format json [--output FILE]
//! structuregram import --file FILE [--name NAME]
//! structuregram user create --username U                        password: STRUCTUREGRAM_PASSWORD or stdin
//! structuregram org create NAME | org list | org use NAME
//! structuregram mfa enrol --username U [--qr-png FILE]          prints the manual key and otpauth URI
//! structuregram mfa confirm --username U [--code C]             prints the recovery codes, once
//! structuregram mfa disable --username U [--code C]
//! structuregram mfa status --username U
//! structuregram xero settings [--client-id ID] [--ports P,P] [--base URL]
//! structuregram xero connect --username U [--code C] [--tenant NAME]   prints the URL, waits
//! structuregram xero status | xero test --username U | xero disconnect --username U
//! structuregram xpm groups [--refresh --username U] [--json]
//! structuregram xpm link --xpm-group <uuid|name> (--new | --group <id|name>) --username U
//! structuregram xpm unlink --group <id|name> --username U
//! structuregram xpm pull --group <id|name> [--full] [--decisions FILE] [--json] --username U
//! structuregram xpm sync-all [--link-unlinked] [--json] --username U
//! ```
//! `--data-dir` (or `STRUCTUREGRAM_DATA_DIR`) and `--demo` work with every subcommand. Commands
//! that open a user's vault read the password from `STRUCTUREGRAM_PASSWORD`, else from the first
//! line of standard input; a code not given with `--code` is the next line.

/// `println!` that hands write errors (a closed pipe, as in `| head`) back to the caller instead
/// of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

pub mod xero;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use structuregram_core::secrets::Secret;
use structuregram_core::transfer::{self, GroupDocument};
use structuregram_core::{accounts, groups, mfa, OrgId};

use crate::state::{default_data_dir, AppState};
use crate::vault;

/// The environment variable the password is read from before standard input.
pub const PASSWORD_ENV: &str = "STRUCTUREGRAM_PASSWORD";

/// StructureGram: client structure diagrams for accounting practices, synced with Xero
/// Practice Manager. Without a subcommand it opens the window.
#[derive(Debug, Parser)]
#[command(name = "structuregram", version)]
pub struct Cli {
    /// Data folder (default: the OS app-data folder for StructureGram).
    #[arg(
        long,
        global = true,
        env = "STRUCTUREGRAM_DATA_DIR",
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,
    /// Use the demo practice (kept in a separate `demo/` folder inside the data folder).
    #[arg(long, global = true)]
    pub demo: bool,
    /// What to do; nothing opens the window.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Headless subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List groups with their entity and relationship counts.
    Groups {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a group's entities, memberships and relationships as a group document.
    Export {
        /// The group's id or exact name.
        #[arg(long, value_name = "ID_OR_NAME")]
        group: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Create a new group from a group document (all of it or nothing).
    Import {
        /// The document to read.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Name the new group this instead of the name in the file (e.g. when that name is taken).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Local user accounts.
    User {
        /// What to do with users.
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Organisations (practices) on this computer.
    Org {
        /// What to do with organisations.
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Two-factor authentication (authenticator-app codes).
    Mfa {
        /// What to do with two-factor authentication.
        #[command(subcommand)]
        command: MfaCommand,
    },
    /// The connection to Xero XPM.
    Xero {
        /// What to do with the connection.
        #[command(subcommand)]
        command: xero::XeroCommand,
    },
    /// XPM client groups: the catalog and links.
    Xpm {
        /// What to do with XPM groups.
        #[command(subcommand)]
        command: xero::XpmCommand,
    },
}

/// `structuregram user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (member of the active organisation). The password comes from
    /// STRUCTUREGRAM_PASSWORD or the first line of standard input.
    Create {
        /// The name to sign in with.
        #[arg(long)]
        username: String,
    },
}

/// `structuregram org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        /// Its name.
        name: String,
    },
    /// List organisations; `*` marks the active one.
    List,
    /// Make an organisation active (the one the app and these commands open).
    Use {
        /// Its exact name (or id).
        name: String,
    },
}

/// `structuregram mfa …`
#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Start setting up two-factor authentication: prints the key and otpauth:// URI.
    Enrol {
        /// The user.
        #[arg(long)]
        username: String,
        /// Also write the QR code to this PNG file.
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
    },
    /// Finish setting up with a code from the app; prints the recovery codes once.
    Confirm {
        /// The user.
        #[arg(long)]
        username: String,
        /// The 6-digit code (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Turn two-factor authentication off (needs a code or a recovery code).
    Disable {
        /// The user.
        #[arg(long)]
        username: String,
        /// The code (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Show whether two-factor authentication is on (no password needed).
    Status {
        /// The user.
        #[arg(long)]
        username: String,
    },
}

/// Standard input, read a line at a time as answers are needed.
pub(crate) struct Answers(std::io::StdinLock<'static>);

impl Answers {
    pub(crate) fn new() -> Self {
        Self(std::io::stdin().lock())
    }

    fn line(&mut self, what: &str) -> anyhow::Result<String> {
        let mut line = String::new();
        self.0.read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            anyhow::bail!("Enter the {what} (on standard input).");
        }
        Ok(line)
    }

    pub(crate) fn password(&mut self) -> anyhow::Result<Secret> {
        match std::env::var(PASSWORD_ENV) {
            Ok(p) if !p.is_empty() => Ok(Secret::new(p)),
            _ => Ok(Secret::new(self.line("password")?)),
        }
    }

    pub(crate) fn code(&mut self, given: &Option<String>) -> anyhow::Result<String> {
        match given {
            Some(code) => Ok(code.clone()),
            None => self.line("code"),
        }
    }
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The `structuregram.group/1` JSON document.
    Json,
}

impl Cli {
    /// The data folder this invocation uses.
    pub fn resolved_data_dir(&self) -> PathBuf {
        structuregram_core::db::data_dir(self.data_dir.clone(), default_data_dir(), self.demo)
    }
}

/// Runs a headless subcommand; returns the process exit code.
pub async fn run(cli: &Cli, command: &Command) -> anyhow::Result<()> {
    let state = AppState::open(&cli.resolved_data_dir(), cli.demo).await?;
    let org = state.device_organisation().await?;
    match command {
        Command::Groups { json } => {
            let list = groups::list(&state.db, org).await?;
            if *json {
                outln!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                outln!("No groups yet. Create one in the app, or import one with `structuregram import --file FILE`.");
            } else {
                outln!(
                    "{:>5}  {:<40} {:>8} {:>13}",
                    "ID",
                    "NAME",
                    "ENTITIES",
                    "RELATIONSHIPS"
                );
                for g in list {
                    outln!(
                        "{:>5}  {:<40} {:>8} {:>13}",
                        g.id,
                        g.name,
                        g.entity_count,
                        g.relationship_count
                    );
                }
            }
        }
        Command::Export {
            group,
            format: Format::Json,
            output,
        } => {
            let g = groups::find(&state.db, org, group).await?;
            let text = transfer::export(&state.db, org, g.id).await?.to_json();
            match output {
                Some(path) => std::fs::write(path, text)?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
        }
        Command::Import { file, name } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("Cannot read {}: {e}", file.display()))?;
            let mut doc = GroupDocument::from_json(&text)?;
            if let Some(name) = name {
                doc.group.name.clone_from(name);
            }
            let id = match transfer::import(&state.db, org, &state.cipher, &doc, Utc::now()).await {
                Err(structuregram_core::Error::Conflict(msg)) => {
                    anyhow::bail!("{msg} To import it under another name, add --name \"New name\".")
                }
                other => other?,
            };
            eprintln!(
                "Imported group \u{201c}{}\u{201d} (id {id}): {} entities, {} relationships.",
                doc.group.name,
                doc.entities.len(),
                doc.relationships.len()
            );
        }
        Command::User {
            command: UserCommand::Create { username },
        } => {
            let password = Answers::new().password()?;
            let user = accounts::create_user(&state.db, username, &password, Some(org), Utc::now())
                .await?;
            let org = accounts::find_organisation(&state.db, &org.0.to_string()).await?;
            eprintln!(
                "Created user \u{201c}{}\u{201d} (id {}), a member of \u{201c}{}\u{201d}.",
                user.username, user.id.0, org.name
            );
        }
        Command::Org { command } => run_org(&state, org, command).await?,
        Command::Mfa { command } => run_mfa(&state, command).await?,
        Command::Xero { command } => xero::run_xero(&state, org, command).await?,
        Command::Xpm { command } => xero::run_xpm(&state, org, command).await?,
    }
    Ok(())
}

async fn run_org(state: &AppState, active: OrgId, command: &OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Create { name } => {
            let org = accounts::create_organisation(&state.db, name, Utc::now()).await?;
            eprintln!(
                "Created organisation \u{201c}{}\u{201d} (id {}). Switch to it with `structuregram org use \"{}\"`.",
                org.name, org.id.0, org.name
            );
        }
        OrgCommand::List => {
            for org in accounts::list_organisations(&state.db).await? {
                let mark = if org.id == active { "*" } else { " " };
                outln!("{mark} {:>5}  {}", org.id.0, org.name);
            }
        }
        OrgCommand::Use { name } => {
            let org = accounts::find_organisation(&state.db, name).await?;
            accounts::use_organisation(&state.db, org.id).await?;
            eprintln!("Now using \u{201c}{}\u{201d}.", org.name);
        }
    }
    Ok(())
}

async fn run_mfa(state: &AppState, command: &MfaCommand) -> anyhow::Result<()> {
    let mut answers = Answers::new();
    let now = Utc::now();
    match command {
        MfaCommand::Enrol { username, qr_png } => {
            let password = answers.password()?;
            let signed_in = vault::sign_in(&state.db, &state.data_dir, username, &password).await?;
            let e = mfa::enrol(&state.db, &signed_in.vault, signed_in.user.id).await?;
            outln!("Key (enter it by hand): {}", e.manual_key.expose());
            outln!("URI (or scan it as a QR code): {}", e.otpauth_uri.expose());
            if let Some(path) = qr_png {
                use base64::Engine;
                let png =
                    base64::engine::general_purpose::STANDARD.decode(e.qr_png_base64.expose())?;
                // The QR code is the TOTP secret: readable by its owner only.
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                std::io::Write::write_all(&mut options.open(path)?, &png)?;
                #[cfg(unix)]
                std::fs::set_permissions(
                    path,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )?;
                eprintln!("QR code written to {}.", path.display());
            }
            eprintln!("Then run `structuregram mfa confirm --username {username} --code CODE` with the app's code.");
        }
        MfaCommand::Confirm { username, code } => {
            let password = answers.password()?;
            let code = answers.code(code)?;
            let signed_in = vault::sign_in(&state.db, &state.data_dir, username, &password).await?;
            let codes =
                mfa::confirm(&state.db, &signed_in.vault, signed_in.user.id, &code, now).await?;
            eprintln!("Two-factor authentication is on. Keep these recovery codes somewhere safe; each works once, and they are not shown again:");
            for code in codes {
                outln!("{}", code.expose());
            }
        }
        MfaCommand::Disable { username, code } => {
            let password = answers.password()?;
            let code = answers.code(code)?;
            let signed_in = vault::sign_in(&state.db, &state.data_dir, username, &password).await?;
            mfa::disable(&state.db, &signed_in.vault, signed_in.user.id, &code, now).await?;
            eprintln!("Two-factor authentication is off.");
        }
        MfaCommand::Status { username } => {
            let user = accounts::find_user(&state.db, username).await?;
            let s = mfa::status(&state.db, user.id, now).await?;
            outln!(
                "Two-factor authentication: {}",
                if s.enrolled { "on" } else { "off" }
            );
            outln!(
                "Integration MFA: {}",
                if s.integration_mfa { "yes" } else { "no" }
            );
            if let Some(until) = s.locked_until {
                outln!(
                    "Locked out until {} UTC after {} wrong codes.",
                    until.format("%Y-%m-%d %H:%M:%S"),
                    s.failed_attempts
                );
            }
        }
    }
    Ok(())
}
