//! Issue 12, item 2: offline review in the real window. A data folder is prepared headless
//! against the simulator of Xero — an account with two-factor authentication, connected, the
//! fixture's "Fernhill Family" XPM group linked as a new group and pulled — then the simulator is
//! stopped, so every Xero URL in the settings is a closed loopback port. The window opens on that
//! data folder (not the demo) and, with Xero unreachable:
//!
//! - the synced group opens, its Entities tab lists the pulled members, its diagram draws them,
//!   and both exports (PNG and SVG) write their files;
//! - *Test Organisation API*, Import Groups' *Refresh* and the group's *Pull from XPM* each say
//!   plainly that Xero cannot be reached, what to do, and that the local data is unaffected
//!   (`structuregram_core::xero::UNREACHABLE_MESSAGE`), with no transport jargon.
//!
//! Screenshots: `tests/screenshots/offline-*.png`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::Locator;
use structuregram_e2e::{app_binary, totp_code, AppSession};
use tokio::io::{AsyncBufReadExt, BufReader};

const USERNAME: &str = "ana";
const PASSWORD: &str = "correct horse battery";
/// The simulator's small fixture's Fernhill Family XPM group (see `src-tauri/tests/pull_cli.rs`).
const FERNHILL_XPM_GROUP: &str = "00000000-aaaa-4bbb-8ccc-0000000000f1";
const GROUP: &str = "Fernhill Family";
/// What every integration action says offline (core's `xero::UNREACHABLE_MESSAGE`, written out
/// here as the user reads it).
const UNREACHABLE: &str = "Can't reach Xero. Check your internet connection and try again; your StructureGram data is unaffected.";

/// Runs the real binary's CLI on `data` with the test user's password; returns its stdout.
async fn cli(data: &Path, args: &[&str]) -> Result<String> {
    let out = cli_command(data, args)?
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running structuregram {args:?}"))?;
    ensure!(
        out.status.success(),
        "structuregram {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

fn cli_command(data: &Path, args: &[&str]) -> Result<tokio::process::Command> {
    let mut command = tokio::process::Command::new(app_binary()?);
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("STRUCTUREGRAM_DATA_DIR")
        .env("STRUCTUREGRAM_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok(command)
}

/// The code an authenticator app shows for `manual_key` now.
fn code_now(manual_key: &str) -> Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    totp_code(manual_key, USERNAME, now)
}

/// What the headless preparation leaves: the pulled group's member names (sorted) and the
/// recovery codes not used yet.
struct Prepared {
    members: Vec<String>,
    codes: Vec<String>,
}

/// Prepares `data` against a running simulator: account, two-factor authentication, Xero
/// settings pointing at the simulator, connect, link Fernhill Family as a new group, pull it.
/// Each integration command verifies its session with one recovery code.
async fn prepare(data: &Path, sim: &xpm_sim::SimServer) -> Result<Prepared> {
    cli(data, &["user", "create", "--username", USERNAME]).await?;
    let enrol = cli(data, &["mfa", "enrol", "--username", USERNAME]).await?;
    let key = enrol
        .lines()
        .find_map(|l| l.strip_prefix("Key (enter it by hand): "))
        .context("mfa enrol prints the manual key")?
        .to_owned();
    let confirmed = cli(
        data,
        &[
            "mfa",
            "confirm",
            "--username",
            USERNAME,
            "--code",
            &code_now(&key)?,
        ],
    )
    .await?;
    let mut codes: Vec<String> = confirmed.lines().map(str::to_owned).collect();
    ensure!(codes.len() == 10, "ten recovery codes: {codes:?}");

    cli(
        data,
        &[
            "xero",
            "settings",
            "--client-id",
            xpm_sim::DEFAULT_CLIENT_ID,
            "--base",
            &sim.urls.base,
        ],
    )
    .await?;

    // Connect: the binary prints Xero's URL and waits on its loopback port; the "browser" here is
    // reqwest, following the simulator's auto-approving redirect back to that port.
    let code = codes.pop().context("a recovery code")?;
    let mut connect = cli_command(
        data,
        &["xero", "connect", "--username", USERNAME, "--code", &code],
    )?
    .stdin(Stdio::null())
    .spawn()?;
    let stdout = connect.stdout.take().context("connect's stdout")?;
    let url = BufReader::new(stdout)
        .lines()
        .next_line()
        .await?
        .context("connect prints Xero's URL")?;
    reqwest::get(url.trim()).await?.error_for_status()?;
    let out = connect.wait_with_output().await?;
    ensure!(
        out.status.success(),
        "connect succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let code = codes.pop().context("a recovery code")?;
    cli(
        data,
        &[
            "xpm",
            "link",
            "--xpm-group",
            FERNHILL_XPM_GROUP,
            "--new",
            "--username",
            USERNAME,
            "--code",
            &code,
        ],
    )
    .await?;
    let code = codes.pop().context("a recovery code")?;
    cli(
        data,
        &[
            "xpm",
            "pull",
            "--group",
            GROUP,
            "--json",
            "--username",
            USERNAME,
            "--code",
            &code,
        ],
    )
    .await?;

    let doc: serde_json::Value =
        serde_json::from_str(&cli(data, &["export", "--group", GROUP, "--format", "json"]).await?)?;
    let mut members: Vec<String> = doc["entities"]
        .as_array()
        .context("the export lists entities")?
        .iter()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    members.sort();
    ensure!(
        members.len() >= 3,
        "the pull brought the group's members: {members:?}"
    );
    Ok(Prepared { members, codes })
}

#[tokio::test(flavor = "multi_thread")]
async fn synced_groups_open_draw_and_export_while_xero_is_unreachable() -> Result<()> {
    // fantoccini and reqwest meet in this binary: pick one rustls provider (build-notes).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let data = tempfile::tempdir()?;
    let sim = xpm_sim::start(xpm_sim::SimConfig::for_tests()).await?;
    let sim_addr = sim.addr;
    let prepared = prepare(data.path(), &sim).await?;
    sim.shutdown().await;
    // Every Xero URL in the settings points at this address: nothing listens there any more.
    ensure!(
        tokio::net::TcpStream::connect(sim_addr).await.is_err(),
        "the simulator's port {sim_addr} is closed"
    );

    let data_dir = data
        .path()
        .to_str()
        .context("a UTF-8 temp path")?
        .to_owned();
    let app = AppSession::launch(&["--data-dir", &data_dir]).await?;
    let mut exported = Vec::new();
    let outcome = walk(&app, &prepared, &mut exported).await;
    if let Err(e) = &outcome {
        eprintln!("offline walk failed: {e:?}");
        let _ = app.screenshot("offline-failure").await;
    }
    app.close().await;
    // The exports may have gone to the user's Downloads folder: leave nothing behind.
    for file in exported {
        let _ = std::fs::remove_file(file);
    }
    outcome
}

async fn walk(app: &AppSession, prepared: &Prepared, exported: &mut Vec<PathBuf>) -> Result<()> {
    app.sign_in(USERNAME, PASSWORD).await?;

    // The synced group is listed and opens.
    app.wait_for("[data-testid=group-row]", 60).await?;
    let rows = app
        .client
        .find_all(Locator::Css("[data-testid=group-row]"))
        .await?;
    let mut row = None;
    for r in rows {
        if r.text().await?.contains(GROUP) {
            row = Some(r);
            break;
        }
    }
    let row = row.with_context(|| format!("{GROUP} is listed"))?;
    app.screenshot("offline-01-groups").await?;
    app.click(&row).await?;

    // Entities: exactly the pulled members.
    app.click_css("[data-testid=tab-entities]").await?;
    app.wait_for("[data-testid=entity-row]", 30).await?;
    let entity_rows = app.visible_texts("[data-testid=entity-row]", 30).await?;
    ensure!(
        entity_rows.len() == prepared.members.len(),
        "one row per member: {entity_rows:?} vs {:?}",
        prepared.members
    );
    for name in &prepared.members {
        ensure!(
            entity_rows.iter().any(|r| r.contains(name.as_str())),
            "{name} is listed: {entity_rows:?}"
        );
    }
    app.screenshot("offline-02-entities").await?;

    // Diagram: every member drawn.
    app.click_css("[data-testid=tab-diagram]").await?;
    app.wait_for("[data-testid=diagram][data-state=ready]", 120)
        .await
        .context("the diagram lays out offline")?;
    let nodes = app.visible_texts("[data-testid=diagram-node]", 30).await?;
    for name in &prepared.members {
        ensure!(
            nodes.iter().any(|n| n.contains(name.as_str())),
            "{name} is drawn: {nodes:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.screenshot("offline-03-diagram").await?;

    // Export both formats; the notification names the file written.
    let png = export(app, "png").await?;
    exported.push(png.clone());
    let bytes = std::fs::read(&png).with_context(|| format!("reading {}", png.display()))?;
    // A PNG signature, then the IHDR chunk's width and height (big-endian u32 at 16 and 20).
    ensure!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 24,
        "{} is a PNG",
        png.display()
    );
    let width = u32::from_be_bytes(bytes[16..20].try_into()?);
    let height = u32::from_be_bytes(bytes[20..24].try_into()?);
    ensure!(
        width >= 200 && height >= 100,
        "the PNG holds a drawn diagram, not an empty frame: {width}×{height}"
    );
    app.screenshot("offline-04-exported").await?;
    let svg = export(app, "svg").await?;
    exported.push(svg.clone());
    let text =
        std::fs::read_to_string(&svg).with_context(|| format!("reading {}", svg.display()))?;
    ensure!(text.starts_with("<svg"), "{} is an SVG", svg.display());
    for name in &prepared.members {
        // html-to-image keeps the labels as text (XML-escaped).
        let escaped = name.replace('&', "&amp;").replace('\'', "&#39;");
        ensure!(
            text.contains(name.as_str()) || text.contains(&escaped),
            "the SVG names {name}"
        );
    }

    // Pull on the group's XPM tab: passes the two-factor prompt, then says Xero is unreachable.
    let code = prepared.codes.first().context("a recovery code left")?;
    app.click_css("[data-testid=tab-xpm]").await?;
    app.click_css("[data-testid=pull-from-xpm]").await?;
    app.fill("[data-testid=verify-code-input]", code).await?;
    app.click_css("[data-testid=verify-code-submit]").await?;
    let error = app.text_of("[data-testid=integration-error]", 120).await?;
    ensure!(
        error.contains(UNREACHABLE),
        "the pull says Xero is unreachable and what to do: {error}"
    );
    no_jargon(&error)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.screenshot("offline-05-pull").await?;
    // Nothing changed locally: still every member.
    app.click_css("[data-testid=tab-entities]").await?;
    ensure!(
        app.visible_texts("[data-testid=entity-row]", 30)
            .await?
            .len()
            == prepared.members.len(),
        "the failed pull left the entities as they were"
    );

    // Test Organisation API on Account → Integrations (the session is verified already).
    app.click_css("[data-testid=nav-integrations]").await?;
    app.click_css("[data-testid=xpm-test]").await?;
    let result = app.text_of("[data-testid=xpm-test-result]", 120).await?;
    ensure!(
        result.contains("Organisation API: Failed"),
        "the test reports a failure: {result}"
    );
    ensure!(
        result.contains(UNREACHABLE),
        "the test says Xero is unreachable and what to do: {result}"
    );
    no_jargon(&result)?;
    ensure!(
        !result.contains("Check that"),
        "offline, the XPM subscription and privilege checks would mislead: {result}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.screenshot("offline-06-test-api").await?;

    // Import Groups → Refresh: the same words, and the last list stays.
    app.click_css("[data-testid=nav-import-groups]").await?;
    let before = app.visible_texts("[data-testid=catalog-name]", 60).await?;
    app.click_css("[data-testid=catalog-refresh]").await?;
    let error = app.text_of("[data-testid=integration-error]", 120).await?;
    ensure!(
        error.contains(UNREACHABLE),
        "Refresh says Xero is unreachable and what to do: {error}"
    );
    no_jargon(&error)?;
    let after = app.visible_texts("[data-testid=catalog-name]", 30).await?;
    ensure!(
        after == before,
        "the last list of XPM groups is kept: {before:?} → {after:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.screenshot("offline-07-import-refresh").await?;
    Ok(())
}

/// The message is for an accountant: no HTTP client's cause chain in it.
fn no_jargon(message: &str) -> Result<()> {
    for word in ["tcp", "reqwest", "os error", "transport error", "127.0.0.1"] {
        ensure!(
            !message.to_lowercase().contains(word),
            "the message shows {word:?}: {message}"
        );
    }
    Ok(())
}

/// Clicks the diagram's export button for `format` and returns the path the notification names.
async fn export(app: &AppSession, format: &str) -> Result<PathBuf> {
    app.click_css(&format!("[data-testid=export-{format}]"))
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let suffix = format!(".{format}");
    loop {
        let notes = app.texts(".mantine-Notification-description").await?;
        if let Some(path) = notes
            .iter()
            .map(|n| n.trim())
            .find(|n| n.starts_with('/') && n.ends_with(&suffix))
        {
            let path = PathBuf::from(path);
            ensure!(path.is_file(), "{} was written", path.display());
            return Ok(path);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("no notification named the exported {format} file: {notes:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
