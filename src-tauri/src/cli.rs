//! The command line: the window by default, or headless subcommands for scripting.
//!
//! ```text
//! structuregram [--data-dir DIR] [--demo]                      open the window
//! structuregram groups [--json]                                 list groups
//! structuregram export --group <id|name> --format json [--output FILE]
//! structuregram import --file FILE [--name NAME]
//! ```
//! `--data-dir` (or `STRUCTUREGRAM_DATA_DIR`) and `--demo` work with every subcommand.

use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use clap::{Parser, Subcommand, ValueEnum};
use structuregram_core::groups;
use structuregram_core::transfer::{self, GroupDocument};

use crate::state::{default_data_dir, AppState};

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
    match command {
        Command::Groups { json } => {
            let list = groups::list(&state.db, state.org).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("No groups yet. Create one in the app, or import one with `structuregram import --file FILE`.");
            } else {
                println!(
                    "{:>5}  {:<40} {:>8} {:>13}",
                    "ID", "NAME", "ENTITIES", "RELATIONSHIPS"
                );
                for g in list {
                    println!(
                        "{:>5}  {:<40} {:>8} {:>13}",
                        g.id, g.name, g.entity_count, g.relationship_count
                    );
                }
            }
        }
        Command::Export {
            group,
            format: Format::Json,
            output,
        } => {
            let g = groups::find(&state.db, state.org, group).await?;
            let text = transfer::export(&state.db, state.org, g.id)
                .await?
                .to_json();
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
            let id = match transfer::import(&state.db, state.org, &state.cipher, &doc, Utc::now())
                .await
            {
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
    }
    Ok(())
}
