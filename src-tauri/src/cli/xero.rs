//! The headless Xero commands: `structuregram xero …` (settings, connect, status, test,
//! disconnect) and `structuregram xpm …` (the group catalog, links, pull, push, reconcile and
//! `sync-all`), for scripts and tests.
//!
//! Integration actions need what the window needs: the user's password (to open the vault that
//! holds the tokens; `STRUCTUREGRAM_PASSWORD` or the first line of standard input) and a
//! two-factor code (`--code` or the next line), which verifies this one-command session.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clap::Subcommand;
use structuregram_core::bulk::{self, BulkControl, BulkOptions, BulkProgress};
use structuregram_core::discovery::{self, CatalogFilter};
use structuregram_core::links;
use structuregram_core::pull::{self, FetchStrategy, PullControl, PullOptions, PullReport};
use structuregram_core::reconcile;
use structuregram_core::review::{self, Decision, ReviewItem, ReviewState};
use structuregram_core::words::count;
use structuregram_core::xero::{self, Completion, Connector, XeroContext, XeroSettings};
use structuregram_core::{gate, groups, push, OrgId};

use super::Answers;
use crate::state::AppState;
use crate::vault;

/// `structuregram xero …`
#[derive(Debug, Subcommand)]
pub enum XeroCommand {
    /// Show the Xero settings, or change them (no secrets are among them).
    Settings {
        /// Your Xero app's client id (a PKCE app: there is no client secret).
        #[arg(long)]
        client_id: Option<String>,
        /// Loopback ports for the callback, comma-separated, each registered with your Xero app
        /// as `http://localhost:<port>/callback`.
        #[arg(long, value_delimiter = ',')]
        ports: Option<Vec<u16>>,
        /// One base URL for Xero's login, identity and API hosts (a simulator, for testing).
        #[arg(long, value_name = "URL")]
        base: Option<String>,
    },
    /// Connect this organisation to Xero XPM: prints Xero's sign-in URL, then waits for the
    /// browser to come back on the loopback port.
    Connect {
        /// The StructureGram user connecting (needs two-factor authentication).
        #[arg(long)]
        username: String,
        /// A code from the user's authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
        /// When the consent covers several practices: which (name or tenant id).
        #[arg(long)]
        tenant: Option<String>,
        /// Minutes to wait for the browser.
        #[arg(long, default_value_t = 10)]
        wait_minutes: u64,
    },
    /// Show the connection's state (no password needed).
    Status,
    /// *Test Organisation API*: one light XPM call.
    Test {
        /// The StructureGram user.
        #[arg(long)]
        username: String,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Revoke the connection at Xero and forget its tokens; groups, links and mappings stay.
    Disconnect {
        /// The StructureGram user.
        #[arg(long)]
        username: String,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
}

/// `structuregram xpm …`
#[derive(Debug, Subcommand)]
pub enum XpmCommand {
    /// List the XPM client groups (the cached catalog; `--refresh` reads XPM first).
    Groups {
        /// Re-read the groups from XPM first (needs --username and a code).
        #[arg(long, requires = "username")]
        refresh: bool,
        /// The StructureGram user (for --refresh).
        #[arg(long)]
        username: Option<String>,
        /// A code from the authenticator app (for --refresh; else read from standard input).
        #[arg(long)]
        code: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Link an XPM client group to a new or an existing StructureGram group (never syncs).
    Link {
        /// The XPM group's UUID or exact name.
        #[arg(long, value_name = "UUID_OR_NAME")]
        xpm_group: String,
        /// Create a StructureGram group named after the XPM group.
        #[arg(long, conflicts_with = "group", required_unless_present = "group")]
        new: bool,
        /// The existing StructureGram group's id or exact name.
        #[arg(long, value_name = "ID_OR_NAME")]
        group: Option<String>,
        /// The StructureGram user.
        #[arg(long)]
        username: String,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Push a linked group to XPM: entities, the group's name, members, then relationships.
    /// `--dry-run` only shows what would change and the calls it takes.
    Push {
        /// The StructureGram group's id or exact name.
        #[arg(long, value_name = "ID_OR_NAME")]
        group: String,
        /// Only show the plan; change nothing (needs no password or code).
        #[arg(long)]
        dry_run: bool,
        /// Also push entities of other groups that a relationship needs.
        #[arg(long)]
        cross_group: bool,
        /// Print JSON instead of a summary.
        #[arg(long)]
        json: bool,
        /// The StructureGram user (not needed with --dry-run).
        #[arg(long, required_unless_present = "dry_run")]
        username: Option<String>,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Pull a linked group from XPM: its clients, memberships and relationships, applied in one
    /// transaction; prints what changed, the plan's cost in calls and the open review items.
    Pull {
        /// The StructureGram group's id or exact name.
        #[arg(long, value_name = "ID_OR_NAME")]
        group: String,
        /// Re-read every member in detail, ignoring XPM's modified times.
        #[arg(long)]
        full: bool,
        /// Decisions to record on review items before pulling (*Retry with decisions*): a JSON
        /// array of `{"item": <review item id>, "decision": {"action": "setKind", …}}`, the
        /// decision shaped as in `--json`'s review items.
        #[arg(long, value_name = "FILE")]
        decisions: Option<std::path::PathBuf>,
        /// Print the report and the open review items as JSON.
        #[arg(long)]
        json: bool,
        /// The StructureGram user.
        #[arg(long)]
        username: String,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Sync every linked group of the connected practice through one persisted queue, within
    /// XPM's limits (60 calls a minute, 5,000 a day), with the plan of fewest calls. A run
    /// stopped by the day limit (or Ctrl-C) resumes with the groups still queued.
    SyncAll {
        /// First refresh the XPM group list and link every unlinked group as a new group.
        #[arg(long)]
        link_unlinked: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The StructureGram user.
        #[arg(long)]
        username: String,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Reconcile a linked group with live XPM (product-spec §8.12): `--preview` lists every
    /// difference (`--json` gives the plan file to edit: set each item's `decision`);
    /// `--apply FILE` saves the file's decisions and applies them in phases. Items of the file
    /// that are no longer differences are reported, not applied.
    Reconcile {
        /// The StructureGram group's id or exact name.
        #[arg(long, value_name = "ID_OR_NAME")]
        group: String,
        /// Read XPM and list the differences (saved as the group's current plan).
        #[arg(long, conflicts_with = "apply", required_unless_present = "apply")]
        preview: bool,
        /// Apply the decisions in this plan file (the `--preview --json` output, edited).
        #[arg(long, value_name = "FILE")]
        apply: Option<std::path::PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The StructureGram user.
        #[arg(long)]
        username: String,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
    /// Remove a group's link (its entities and mappings stay).
    Unlink {
        /// The StructureGram group's id or exact name.
        #[arg(long, value_name = "ID_OR_NAME")]
        group: String,
        /// The StructureGram user.
        #[arg(long)]
        username: String,
        /// A code from the authenticator app (else read from standard input).
        #[arg(long)]
        code: Option<String>,
    },
}

/// A signed-in, two-factor-verified one-command session.
struct Verified {
    ctx: XeroContext,
    session: gate::Session,
}

async fn verify(
    state: &AppState,
    org: OrgId,
    username: &str,
    code: &Option<String>,
) -> anyhow::Result<Verified> {
    let mut answers = Answers::new();
    let password = answers.password()?;
    let code = answers.code(code)?;
    let signed_in = vault::sign_in(&state.db, &state.data_dir, username, &password).await?;
    let secrets: Arc<dyn structuregram_core::secrets::SecretStore> = Arc::new(signed_in.vault);
    let mut session = signed_in.session;
    gate::verify_session(&state.db, secrets.as_ref(), &mut session, &code, Utc::now()).await?;
    Ok(Verified {
        ctx: XeroContext {
            db: state.db.clone(),
            secrets,
            org,
            user: signed_in.user.id,
        },
        session,
    })
}

async fn connector(state: &AppState) -> anyhow::Result<Connector> {
    let settings = xero::load_settings(&state.db).await?;
    // The demo's Xero is the simulator inside the window; its tokens must never go to the real
    // Xero, which is where unchanged settings point.
    if state.demo && settings.api_base == XeroSettings::default().api_base {
        anyhow::bail!("In the demo, Xero is the simulator that runs inside the window, so the command line has no Xero to talk to. Use the window, or point the demo at a simulator you started: `structuregram --demo xero settings --base URL`.");
    }
    Ok(Connector::new(settings)?)
}

/// Runs `structuregram xero …`.
///
/// # Errors
/// Whatever the step fails with, in the user's words (the guide's for connecting).
pub async fn run_xero(state: &AppState, org: OrgId, command: &XeroCommand) -> anyhow::Result<()> {
    match command {
        XeroCommand::Settings {
            client_id,
            ports,
            base,
        } => {
            let mut settings = xero::load_settings(&state.db).await?;
            let changed = client_id.is_some() || ports.is_some() || base.is_some();
            if let Some(base) = base {
                let id = settings.client_id.clone();
                settings = XeroSettings {
                    redirect_ports: settings.redirect_ports.clone(),
                    ..XeroSettings::with_base(id, base)
                };
            }
            if let Some(id) = client_id {
                settings.client_id.clone_from(id);
            }
            if let Some(ports) = ports {
                settings.redirect_ports.clone_from(ports);
            }
            if changed {
                settings.validate()?;
                xero::save_settings(&state.db, &settings).await?;
            }
            outln!("{}", serde_json::to_string_pretty(&settings)?);
        }
        XeroCommand::Connect {
            username,
            code,
            tenant,
            wait_minutes,
        } => {
            let v = verify(state, org, username, code).await?;
            let connector = connector(state).await?;
            let attempt = connector.begin(v.ctx.clone(), &v.session).await?;
            eprintln!("Open this address in a browser, sign in to Xero and allow access:");
            outln!("{}", attempt.authorize_url);
            std::io::Write::flush(&mut std::io::stdout())?;
            let mut completion = connector
                .wait(Duration::from_secs(wait_minutes * 60))
                .await?;
            loop {
                completion = match completion {
                    Completion::Connected { tenant } => {
                        eprintln!("Connected to \u{201c}{}\u{201d}.", tenant.tenant_name);
                        let client = connector.client();
                        let session = connector.session(&v.ctx).await?;
                        match discovery::refresh(&state.db, org, &client, &session, Utc::now())
                            .await
                        {
                            Ok(c) => eprintln!("Found {} XPM client groups.", c.rows.len()),
                            Err(e) => eprintln!("Connected, but discovering groups failed: {e}"),
                        }
                        break;
                    }
                    Completion::ChooseTenant { tenants } => {
                        let Some(wanted) = tenant else {
                            let names: Vec<_> =
                                tenants.iter().map(|t| t.tenant_name.as_str()).collect();
                            connector.cancel().await;
                            anyhow::bail!(
                                "You gave access to several practices ({}). Connect again with --tenant NAME.",
                                names.join(", ")
                            );
                        };
                        let chosen = tenants
                            .iter()
                            .find(|t| &t.tenant_id == wanted || &t.tenant_name == wanted)
                            .ok_or_else(|| {
                                anyhow::anyhow!("No practice called {wanted} was in this consent.")
                            })?;
                        connector.choose_tenant(&chosen.tenant_id, false).await?
                    }
                    Completion::ConfirmSwitch { previous, chosen } => {
                        connector.cancel().await;
                        anyhow::bail!(
                            "This organisation was connected to \u{201c}{}\u{201d}; you chose \u{201c}{}\u{201d}. Its linked groups would mix two practices' data: unlink them first, or connect as a user of the first practice.",
                            previous.tenant_name,
                            chosen.tenant_name
                        );
                    }
                };
            }
        }
        XeroCommand::Status => {
            let status = xero::status(&state.db, org).await?;
            outln!("{}", serde_json::to_string_pretty(&status)?);
        }
        XeroCommand::Test { username, code } => {
            let v = verify(state, org, username, code).await?;
            let outcome = connector(state).await?.test(&v.ctx, &v.session).await?;
            outln!("{}", serde_json::to_string_pretty(&outcome)?);
        }
        XeroCommand::Disconnect { username, code } => {
            let v = verify(state, org, username, code).await?;
            let outcome = connector(state)
                .await?
                .disconnect(&v.ctx, &v.session)
                .await?;
            eprintln!("{}", outcome.message);
        }
    }
    Ok(())
}

/// Runs `structuregram xpm …`.
///
/// # Errors
/// As the core services say: a refused link names the rule; a failed refresh keeps the catalog.
pub async fn run_xpm(state: &AppState, org: OrgId, command: &XpmCommand) -> anyhow::Result<()> {
    let now = Utc::now();
    match command {
        XpmCommand::Groups {
            refresh,
            username,
            code,
            json,
        } => {
            if *refresh {
                let username = username.as_deref().unwrap_or_default();
                let v = verify(state, org, username, code).await?;
                let connector = connector(state).await?;
                let session = connector.session(&v.ctx).await?;
                discovery::refresh(&state.db, org, &connector.client(), &session, now).await?;
            }
            let catalog = discovery::catalog(&state.db, org, &CatalogFilter::default()).await?;
            if *json {
                outln!("{}", serde_json::to_string_pretty(&catalog)?);
            } else if catalog.rows.is_empty() {
                outln!("No XPM groups known. Connect with `structuregram xero connect`, then `structuregram xpm groups --refresh`.");
            } else {
                outln!("{:<36}  {:<40} LINKED TO", "XPM UUID", "NAME");
                for r in catalog.rows {
                    outln!(
                        "{:<36}  {:<40} {}",
                        r.xpm_uuid,
                        r.name,
                        r.linked_group_name.unwrap_or_else(|| "-".into())
                    );
                }
            }
        }
        XpmCommand::Link {
            xpm_group,
            new,
            group,
            username,
            code,
        } => {
            let v = verify(state, org, username, code).await?;
            gate::require_integration_session(&state.db, &v.session).await?;
            let uuid = find_xpm_group(state, org, xpm_group).await?;
            let link = if *new {
                links::link_new(&state.db, org, &uuid, now).await?
            } else {
                let name = group.as_deref().unwrap_or_default();
                let g = groups::find(&state.db, org, name).await?;
                links::link_existing(&state.db, org, &uuid, g.id, now).await?
            };
            eprintln!(
                "Linked the XPM group \u{201c}{}\u{201d} to \u{201c}{}\u{201d} (id {}).",
                link.xpm_name.as_deref().unwrap_or(&link.xpm_uuid),
                link.group_name,
                link.group_id
            );
        }
        XpmCommand::Push {
            group,
            dry_run,
            cross_group,
            json,
            username,
            code,
        } => {
            let g = groups::find(&state.db, org, group).await?;
            let options = push::PushOptions {
                cross_group: *cross_group,
            };
            if *dry_run {
                let plan = push::plan(&state.db, org, &state.cipher, g.id, &options).await?;
                if *json {
                    outln!("{}", serde_json::to_string_pretty(&plan)?);
                } else {
                    for item in &plan.items {
                        outln!(
                            "{:<14} {:<10} {}",
                            format!("{:?}", item.phase),
                            format!("{:?}", item.action),
                            item.subject
                        );
                    }
                    eprintln!(
                        "Would create {}, update {}, link {}; {} unchanged, {} skipped. About {} ({} at 60 a minute).",
                        plan.creates,
                        plan.updates,
                        plan.links,
                        plan.unchanged,
                        plan.skipped,
                        count(plan.calls, "XPM call", "XPM calls"),
                        count(plan.minutes, "minute", "minutes")
                    );
                }
            } else {
                let username = username.as_deref().unwrap_or_default();
                let v = verify(state, org, username, code).await?;
                let connector = connector(state).await?;
                let session = connector.session(&v.ctx).await?;
                let report = push::push(
                    &state.db,
                    org,
                    &state.cipher,
                    &connector.client(),
                    &session,
                    g.id,
                    &options,
                    &push::PushControl::default(),
                    now,
                )
                .await?;
                if *json {
                    outln!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    for item in report.items.iter().filter(|i| i.message.is_some()) {
                        outln!(
                            "{:?} {}: {}",
                            item.outcome,
                            item.subject,
                            item.message.as_deref().unwrap_or_default()
                        );
                    }
                    let c = &report.counts;
                    eprintln!(
                        "Pushed \u{201c}{}\u{201d}: {} clients created, {} adopted, {} updated, {} members added, {} relationships created, {} updated, {} replaced; {} unchanged, {} failed. {} XPM calls.",
                        g.name, c.clients_created, c.clients_adopted, c.clients_updated, c.members_added,
                        c.relationships_created, c.relationships_updated, c.relationships_replaced,
                        c.unchanged, c.failed, report.calls
                    );
                    if let Some(stopped) = &report.stopped {
                        eprintln!("Stopped: {stopped} Push again to carry on where it stopped.");
                    }
                }
                if report.counts.failed > 0 {
                    anyhow::bail!(
                        "{} failed; the others were pushed.",
                        count(report.counts.failed, "item", "items")
                    );
                }
            }
        }
        XpmCommand::Pull {
            group,
            full,
            decisions,
            json,
            username,
            code,
        } => {
            let g = groups::find(&state.db, org, group).await?;
            let decisions = match decisions {
                Some(path) => read_decisions(path)?,
                None => Vec::new(),
            };
            let v = verify(state, org, username, code).await?;
            gate::require_integration_session(&state.db, &v.session).await?;
            for d in &decisions {
                review::decide(&state.db, org, d.item, &d.decision, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("Review item {}: {e}", d.item))?;
            }
            let connector = connector(state).await?;
            let session = connector.session(&v.ctx).await?;
            let options = PullOptions {
                full: *full,
                ..PullOptions::default()
            };
            let report = pull::pull(
                &state.db,
                org,
                &state.cipher,
                &connector.client(),
                &session,
                g.id,
                &options,
                &PullControl::default(),
                now,
            )
            .await?;
            let (items, _) = review::list(&state.db, org, g.id, false).await?;
            if *json {
                let out = serde_json::json!({ "report": report, "review": items });
                outln!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                print_pull(&g.name, decisions.len(), &report, &items)?;
            }
        }
        XpmCommand::SyncAll {
            link_unlinked,
            json,
            username,
            code,
        } => {
            let v = verify(state, org, username, code).await?;
            gate::require_integration_session(&state.db, &v.session).await?;
            let connector = connector(state).await?;
            let session = connector.session(&v.ctx).await?;
            let client = connector.client();
            let prepared =
                bulk::prepare(&state.db, org, &client, &session, *link_unlinked, now).await?;
            if !*json {
                if *link_unlinked {
                    match prepared.linked.len() {
                        0 => eprintln!("No unlinked XPM groups to link."),
                        n => eprintln!(
                            "Linked {} as new groups.",
                            count(n, "XPM group", "XPM groups")
                        ),
                    }
                }
                if prepared.resumed > 0 {
                    eprintln!(
                        "Resuming: {} still queued from an earlier run.",
                        count(prepared.resumed, "group is", "groups are")
                    );
                }
            }
            let status = prepared.status;
            if let (Some(plan), false) = (status.plan, *json) {
                let time = match status.eta_seconds {
                    s if s < 60 => "under a minute".to_owned(),
                    s => format!("about {}", count(s.div_ceil(60), "minute", "minutes")),
                };
                eprintln!(
                    "{} queued; about {} by {}, {time} within XPM's limits.",
                    count(status.queued, "group", "groups"),
                    count(plan.calls, "XPM call", "XPM calls"),
                    strategy_words(plan.strategy),
                );
            }
            let quiet = *json;
            let control = BulkControl {
                on_progress: Some(Box::new(move |p: BulkProgress| {
                    if quiet {
                        return;
                    }
                    match p.waiting_seconds {
                        Some(w) => eprintln!(
                            "XPM's call limit reached: waiting {w} s (groups {}/{}); nothing failed.",
                            p.groups_done, p.groups_total
                        ),
                        None => eprintln!(
                            "Groups {}/{}, {} made, about {} s left.",
                            p.groups_done,
                            p.groups_total,
                            count(p.calls_made, "XPM call", "XPM calls"),
                            p.eta_seconds
                        ),
                    }
                })),
                ..BulkControl::default()
            };
            let report = bulk::run(
                &state.db,
                org,
                &state.cipher,
                &client,
                &session,
                &BulkOptions::default(),
                &control,
                &Utc::now,
            )
            .await?;
            if *json {
                outln!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                outln!("{}", report.message);
                for f in &report.failures {
                    outln!("  \u{201c}{}\u{201d}: {}", f.group_name, f.message);
                }
                for r in &report.to_review {
                    outln!(
                        "  to review: \u{201c}{}\u{201d} (group {}): {} need input, {} waiting",
                        r.group_name,
                        r.group_id,
                        r.needs_input,
                        r.waiting
                    );
                }
            }
            if !report.failures.is_empty() {
                anyhow::bail!(
                    "{} could not be synced; see the messages above.",
                    count(report.failures.len(), "group", "groups")
                );
            }
        }
        XpmCommand::Reconcile {
            group,
            preview: _,
            apply,
            json,
            username,
            code,
        } => {
            let g = groups::find(&state.db, org, group).await?;
            let plan_file = match apply {
                Some(path) => Some(read_plan(path)?),
                None => None,
            };
            let v = verify(state, org, username, code).await?;
            let connector = connector(state).await?;
            let session = connector.session(&v.ctx).await?;
            match plan_file {
                None => {
                    let p = reconcile::preview(
                        &state.db,
                        org,
                        &state.cipher,
                        &connector.client(),
                        &session,
                        g.id,
                        now,
                    )
                    .await?;
                    if *json {
                        outln!("{}", serde_json::to_string_pretty(&p)?);
                    } else {
                        print_reconcile(&p)?;
                    }
                }
                Some(file) => {
                    if file.group_id != g.id {
                        anyhow::bail!(
                            "The plan file is for group {}, not \u{201c}{}\u{201d} (id {}). Use the plan of this group.",
                            file.group_id, g.name, g.id
                        );
                    }
                    let current = reconcile::current(&state.db, org, g.id).await?.ok_or_else(|| {
                        anyhow::anyhow!("There is no preview for \u{201c}{}\u{201d}: run `structuregram xpm reconcile --group {} --preview --json > plan.json` first.", g.name, g.id)
                    })?;
                    let known: std::collections::HashSet<&str> =
                        current.items.iter().map(|i| i.id.as_str()).collect();
                    let done = reconcile::applied(&state.db, org, g.id).await?;
                    let already: Vec<&str> = file
                        .items
                        .iter()
                        .map(|i| i.id.as_str())
                        .filter(|id| done.iter().any(|d| d == id))
                        .collect();
                    if !already.is_empty()
                        && file.items.iter().all(|i| !known.contains(i.id.as_str()))
                    {
                        anyhow::bail!(
                            "This plan was already applied ({} done, nothing of it left to apply); generate a new preview with `structuregram xpm reconcile --group {} --preview --json`.",
                            count(already.len(), "item", "items"),
                            g.id
                        );
                    }
                    for item in &file.items {
                        if already.contains(&item.id.as_str()) {
                            eprintln!(
                                "Already applied: {} (by an earlier apply of this plan).",
                                item.id
                            );
                            continue;
                        }
                        if !known.contains(item.id.as_str()) {
                            eprintln!(
                                "Not applied: {} is not in the current preview (the difference is gone or changed). Preview again to see it.",
                                item.id
                            );
                            continue;
                        }
                        reconcile::decide(
                            &state.db,
                            org,
                            g.id,
                            &item.id,
                            item.decision.clone(),
                            now,
                        )
                        .await
                        .map_err(|e| anyhow::anyhow!("Item {}: {e}", item.id))?;
                    }
                    let report = reconcile::apply(
                        &state.db,
                        org,
                        &state.cipher,
                        &connector.client(),
                        &session,
                        g.id,
                        &reconcile::ApplyControl::default(),
                        now,
                    )
                    .await?;
                    if *json {
                        outln!("{}", serde_json::to_string_pretty(&report)?);
                    } else {
                        for r in &report.results {
                            outln!(
                                "{:<9} {:<24} {}{}",
                                format!("{:?}", r.outcome),
                                r.item_id,
                                r.subject,
                                r.message
                                    .as_deref()
                                    .map(|m| format!(": {m}"))
                                    .unwrap_or_default()
                            );
                        }
                        let c = &report.counts;
                        eprintln!(
                            "Applied {}, ignored {}, deferred {}, blocked {}, failed {}. {} XPM calls. Preview again to check.",
                            c.applied, c.ignored, c.deferred, c.blocked, c.failed, report.calls
                        );
                    }
                    for id in &report.not_in_preview {
                        eprintln!("Not applied: {id} changed since the preview; preview again.");
                    }
                    if report.counts.failed + report.counts.blocked > 0 {
                        anyhow::bail!(
                            "{} failed and {} blocked; the others were applied.",
                            count(report.counts.failed, "item", "items"),
                            count(report.counts.blocked, "was", "were")
                        );
                    }
                }
            }
        }
        XpmCommand::Unlink {
            group,
            username,
            code,
        } => {
            let v = verify(state, org, username, code).await?;
            gate::require_integration_session(&state.db, &v.session).await?;
            let g = groups::find(&state.db, org, group).await?;
            links::unlink(&state.db, org, g.id, now).await?;
            eprintln!(
                "Unlinked \u{201c}{}\u{201d}; its entities and mappings are unchanged.",
                g.name
            );
        }
    }
    Ok(())
}

/// The catalog row named by UUID or exact name.
async fn find_xpm_group(state: &AppState, org: OrgId, wanted: &str) -> anyhow::Result<String> {
    let catalog = discovery::catalog(&state.db, org, &CatalogFilter::default()).await?;
    let lowered = wanted.trim().to_lowercase();
    let matches: Vec<_> = catalog
        .rows
        .iter()
        .filter(|r| r.xpm_uuid == lowered || r.name == wanted.trim())
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.xpm_uuid.clone()),
        [] => anyhow::bail!("No XPM group {wanted} is in the catalog. Run `structuregram xpm groups --refresh` and use a name or UUID it lists."),
        _ => anyhow::bail!("Several XPM groups are called {wanted}: use the UUID instead."),
    }
}

/// One entry of a `--decisions` file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionEntry {
    /// The review item's id (`--json` lists them).
    item: i32,
    /// The decision, e.g. `{"action": "setKind", "kind": "individual", "trustType": null,
    /// "rememberAsRule": true}`.
    decision: Decision,
}

fn read_decisions(path: &std::path::Path) -> anyhow::Result<Vec<DecisionEntry>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "Cannot read the decisions file {}: {e}. Check the path.",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "The decisions file {} is not a JSON array of {{\"item\": ID, \"decision\": {{\"action\": …}}}}: {e}.",
            path.display()
        )
    })
}

/// A reconciliation plan file: the `--preview --json` output; only the group, the item ids and
/// their decisions are read.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlanFile {
    group_id: i32,
    items: Vec<PlanFileItem>,
}

#[derive(Debug, serde::Deserialize)]
struct PlanFileItem {
    id: String,
    #[serde(default)]
    decision: Option<reconcile::ReconcileDecision>,
}

fn read_plan(path: &std::path::Path) -> anyhow::Result<PlanFile> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "Cannot read the plan file {}: {e}. Check the path.",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "The plan file {} is not a reconciliation plan (the output of `xpm reconcile --preview --json`, with decisions edited): {e}.",
            path.display()
        )
    })
}

/// The human-readable preview: one line per difference, then the summary and caveats.
fn print_reconcile(p: &reconcile::ReconcilePreview) -> anyhow::Result<()> {
    for i in &p.items {
        outln!("{}", reconcile_line(i));
    }
    let s = &p.summary;
    eprintln!(
        "{}: {} ready, {} need your input, {} waiting. {}",
        count(s.total, "difference", "differences"),
        s.ready,
        s.needs_input,
        s.waiting,
        if s.ready_to_apply {
            "Ready to apply."
        } else {
            "Decide the rest in the --json plan, then --apply it."
        }
    );
    for c in &s.caveats {
        eprintln!("{c}");
    }
    Ok(())
}

/// A value as the `--json` output and the plan file spell it (`ENTITY_ONLY_IN_SG`,
/// `createInXpm`, `needsInput`), so the table and the file a user edits use one form.
fn wire<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// One difference as a table row: status, type, id, subject, the action apply would take.
fn reconcile_line(i: &reconcile::ReconcileItem) -> String {
    format!(
        "{:<10} {:<22} {:<28} {} [{}]",
        wire(&i.status),
        wire(&i.diff_type),
        i.id,
        i.subject,
        i.effective
            .map(|a| wire(&a))
            .unwrap_or_else(|| "undecided".into())
    )
}

/// How a fetch strategy reads clients, in words.
fn strategy_words(strategy: FetchStrategy) -> &'static str {
    match strategy {
        FetchStrategy::PerClient => "one read per client",
        FetchStrategy::DetailedList => "one detailed client list",
        FetchStrategy::ModifiedSince => "clients changed since the last pull",
    }
}

/// The human-readable pull report: what changed, what it cost, what is left to review.
fn print_pull(
    group: &str,
    decided: usize,
    report: &PullReport,
    items: &[ReviewItem],
) -> anyhow::Result<()> {
    let c = &report.counts;
    let p = &report.plan;
    if decided > 0 {
        outln!(
            "Recorded {} before pulling.",
            count(decided, "decision", "decisions")
        );
    }
    outln!(
        "Pulled \u{201c}{group}\u{201d} from XPM (run {}).",
        report.run_id
    );
    outln!(
        "Entities: {} created, {} updated, {} linked to existing entities.",
        c.entities_created,
        c.entities_updated,
        c.entities_linked
    );
    outln!(
        "Group members: {} added, {} removed.",
        c.members_added,
        c.members_removed
    );
    outln!(
        "Relationships: {} created, {} updated, {} deleted.",
        c.relationships_created,
        c.relationships_updated,
        c.relationships_deleted
    );
    let how = strategy_words(p.strategy);
    outln!(
        "XPM calls: {} ({} members, {} read in detail by {how}, {} related clients outside the group).",
        p.calls,
        p.members,
        p.members_read,
        p.related_read
    );
    let r = &report.review;
    outln!(
        "Review: {} ready, {} need your input, {} waiting on other changes.",
        r.ready,
        r.needs_input,
        r.waiting
    );
    for item in items {
        let state = match item.state {
            ReviewState::Ready => "ready",
            ReviewState::NeedsInput => "needs input",
            ReviewState::Waiting => "waiting",
            ReviewState::Resolved => "resolved",
        };
        outln!(
            "  #{:<5} {:<12} {}: {}",
            item.id,
            state,
            item.subject,
            item.payload.reason
        );
    }
    if r.needs_input > 0 || r.ready > 0 {
        outln!("Decide with --decisions FILE (ids above; shapes in --json), then pull again.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reconcile_table_spells_types_actions_and_statuses_as_the_json_plan_does() {
        let item: reconcile::ReconcileItem = serde_json::from_value(serde_json::json!({
            "id": "sg-only:7",
            "diffType": "ENTITY_ONLY_IN_SG",
            "category": "entities",
            "subject": "Wharf Services Pty Ltd",
            "sgLabel": null, "xpmLabel": null, "entityId": 7, "relationshipId": null,
            "xpmUuid": null, "crossGroup": false, "fields": [],
            "actions": ["createInXpm", "ignore", "deleteInSg"],
            "recommended": "createInXpm", "candidates": [], "decision": null,
            "effective": "createInXpm", "status": "needsInput", "needs": null,
            "waitingOn": [], "guarded": false, "note": null
        }))
        .unwrap();
        let line = reconcile_line(&item);
        assert!(line.starts_with("needsInput ENTITY_ONLY_IN_SG "), "{line}");
        assert!(
            line.ends_with("Wharf Services Pty Ltd [createInXpm]"),
            "{line}"
        );
        assert!(!line.contains("EntityOnlyInSg"), "{line}");
    }
}
