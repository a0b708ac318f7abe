//! Issues 6 to 9 in the real window, against the demo's in-process simulator of Xero: turn on
//! two-factor authentication, connect by signing in and clicking *Allow access* on the
//! simulator's consent page, see the Connected badge and the practice's name, test the
//! Organisation API, open Import Groups, link one XPM group as a new group and one to an existing
//! group, pull the first (resolving a needs-input item and seeing its diagram), preview and push
//! the second, edit one of its entities and add a relationship and push both (then see them in the
//! simulator through its admin API), reconcile a change made in XPM (an ABN, through the
//! simulator's admin API) and one made here (a start date), unlink it from its XPM tab, disconnect
//! (links kept) and reconnect. Throughout, every IPC message the page receives is recorded; at the end neither
//! they, nor the data folder (database, log file, vault) hold a Xero token in plain text, and
//! the TOTP secret appears only in the one enrolment response that shows it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{ensure, Context, Result};
use structuregram_e2e::{AppSession, SimAdmin};

const USERNAME: &str = "sam";
const PASSWORD: &str = "correct horse battery";
/// The start of every token the simulator issues: a JWT whose header is
/// `{"typ":"JWT","alg":"HS256"}`, base64url-encoded (RFC 7519 §3.1).
const JWT_HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.";

/// The authenticator's code for the shown key at `unix_secs`.
fn code_at(manual_key: &str, unix_secs: u64) -> Result<String> {
    structuregram_e2e::totp_code(manual_key, USERNAME, unix_secs)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[tokio::test]
async fn connect_test_import_link_unlink_disconnect_reconnect_in_the_window() -> Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_str().unwrap().to_owned();
    let app = AppSession::launch(&["--demo", "--data-dir", &data_dir]).await?;
    let outcome = walk(&app).await;
    if let Err(e) = &outcome {
        eprintln!("end-to-end walk failed: {e:?}");
        let _ = app.screenshot("xero-failure").await;
    }
    app.close().await;
    let secret = outcome?;
    no_secret_at_rest(data.path(), &secret)
}

/// Every file under the data folder — the database and its WAL, the log file, the TFN key, the
/// vault snapshot (encrypted) — is free of Xero tokens and of the TOTP secret in plain text.
fn no_secret_at_rest(dir: &std::path::Path, totp_secret: &str) -> Result<()> {
    let log = walkdir(dir)?
        .into_iter()
        .find(|p| p.ends_with("logs/structuregram.log"))
        .context("the window writes its log file into the data folder")?;
    let log_text = std::fs::read_to_string(&log)?;
    ensure!(
        log_text.contains("opening window"),
        "the log file holds the window's log: {log_text}"
    );
    let mut files = 0;
    for path in walkdir(dir)? {
        let bytes = std::fs::read(&path)?;
        for (what, needle) in [
            ("a Xero token", JWT_HEADER),
            ("the TOTP secret", totp_secret),
        ] {
            ensure!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds {what} in plain text",
                path.display()
            );
        }
        files += 1;
    }
    ensure!(
        files >= 3,
        "searched the database, log and vault: {files} files"
    );
    Ok(())
}

fn walkdir(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    let mut stack = vec![dir.to_owned()];
    let mut files = Vec::new();
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// The IPC messages the page received hold no Xero token, and the TOTP secret only in the one
/// response that shows it for enrolment (with its `otpauth://` link).
fn no_secret_over_ipc(app: &AppSession, totp_secret: &str) -> Result<()> {
    let log = app.ipc_log();
    ensure!(
        log.len() > 100,
        "the run recorded the page's IPC messages: {}",
        log.len()
    );
    for message in &log {
        ensure!(
            !message.contains(JWT_HEADER),
            "an IPC message holds a Xero token: {message}"
        );
    }
    let showing: Vec<&String> = log.iter().filter(|m| m.contains(totp_secret)).collect();
    ensure!(
        showing.len() == 1 && showing[0].contains("otpauth://"),
        "the TOTP secret reaches the page once, in the enrolment response: {showing:?}"
    );
    Ok(())
}

// Badges are upper-cased by CSS, and `innerText` reports them so: compare in lower case.

/// Clicks the option called `name` of the open Mantine Select whose input matches `css`.
async fn choose(app: &AppSession, css: &str, name: &str) -> Result<()> {
    app.click_css(css).await?;
    let clicked = app
        .client
        .execute(
            "const input = document.querySelector(arguments[0]);
             const list = document.getElementById(input.getAttribute('aria-controls'));
             const option = list && Array.from(list.querySelectorAll('[role=option]'))
               .find(o => o.innerText.trim() === arguments[1]);
             if (option) option.click();
             return !!option;",
            vec![css.into(), name.into()],
        )
        .await?;
    ensure!(
        clicked == serde_json::Value::Bool(true),
        "{css} offers {name}"
    );
    Ok(())
}

/// Chooses the action starting with `option` in the first reconciliation item matching the XPath
/// `item`, unless it is chosen already. Items re-render as decisions land, so the input is
/// looked up afresh on each of up to three tries.
async fn pick_action(app: &AppSession, item: &str, option: &str) -> Result<()> {
    let mut last = None;
    for _ in 0..3 {
        let attempt = async {
            let input = app
                .client
                .find(fantoccini::Locator::XPath(&format!(
                    "({item})[1]//input[@data-testid='reconcile-action']"
                )))
                .await?;
            if input
                .prop("value")
                .await?
                .unwrap_or_default()
                .starts_with(option)
            {
                return Ok(());
            }
            app.click(&input).await?;
            let picked = app
                .client
                .execute(
                    "const input = arguments[0];
                     const list = document.getElementById(input.getAttribute('aria-controls'));
                     const option = list && Array.from(list.querySelectorAll('[role=option]'))
                       .find(o => o.innerText.trim().startsWith(arguments[1]));
                     if (option) option.click();
                     return !!option;",
                    vec![serde_json::to_value(&input)?, option.into()],
                )
                .await?;
            ensure!(
                picked == serde_json::Value::Bool(true),
                "{option} is offered"
            );
            Ok(())
        }
        .await;
        match attempt {
            Ok(()) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                return Ok(());
            }
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt")))
}

/// Walks the guide; returns the TOTP secret the window showed.
async fn walk(app: &AppSession) -> Result<String> {
    app.record_ipc_when_ready().await?;
    app.sign_up(USERNAME, PASSWORD).await?;
    let app_url = app.client.current_url().await?.to_string();

    // Two-factor authentication first (Account → Security).
    let key = app.turn_on_mfa(USERNAME).await?;

    // Integrations: the card says the demo's Xero is a simulator; connect.
    app.click_css("[data-testid=nav-integrations]").await?;
    app.wait_for("[data-testid=xpm-simulated]", 30).await?;
    let status = app.text_of("[data-testid=xpm-status]", 30).await?;
    ensure!(
        status.trim().eq_ignore_ascii_case("not connected"),
        "a new organisation is not connected: {status:?}"
    );
    app.screenshot("xero-01-integrations").await?;
    let consent_url = app
        .connect_xpm(
            &app_url,
            Some(code_at(&key, now_secs() + 30)?),
            Some("xero"),
        )
        .await?;
    let sim = SimAdmin::for_url(&consent_url)?;
    let tenant = sim.first_tenant().await?;
    let practice = app.text_of("[data-testid=xpm-tenant]", 30).await?;
    ensure!(
        practice.contains("Connected to "),
        "the card names the practice: {practice}"
    );
    let summary = app.text_of("[data-testid=xpm-summary]", 30).await?;
    ensure!(
        summary.contains("Linked groups: 0") && !summary.contains("never"),
        "discovery ran after connecting: {summary}"
    );
    app.screenshot("xero-06-connected").await?;

    // Test Organisation API.
    app.click_css("[data-testid=xpm-test]").await?;
    let result = app.text_of("[data-testid=xpm-test-result]", 60).await?;
    ensure!(
        result.to_lowercase().contains("organisation api: success"),
        "the test call succeeds: {result}"
    );
    app.screenshot("xero-07-test-success").await?;

    // Import Groups: the simulator's groups; link one as new, one to Harrington Family.
    app.click_css("[data-testid=nav-import-groups]").await?;
    let names = app.visible_texts("[data-testid=catalog-name]", 60).await?;
    ensure!(
        names.len() == 12,
        "the demo practice's 12 XPM groups: {names:?}"
    );
    app.screenshot("xero-08-import-groups").await?;
    let rows = app
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=catalog-row]"))
        .await?;
    let first = rows.first().context("a first row")?;
    let link_new = first
        .find(fantoccini::Locator::Css("[data-testid=catalog-link-new]"))
        .await?;
    app.click(&link_new).await?;
    let linked_to = app.text_of("[data-testid=catalog-linked-to]", 60).await?;
    ensure!(
        linked_to == names[0],
        "Link created a group named after the XPM group: {linked_to} vs {}",
        names[0]
    );
    choose(
        app,
        "[data-testid=catalog-row]:nth-child(2) [data-testid=catalog-existing-select]",
        "Harrington Family",
    )
    .await?;
    app.click_css("[data-testid=catalog-row]:nth-child(2) [data-testid=catalog-link-existing]")
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let linked = app.texts("[data-testid=catalog-linked-to]").await?;
        if linked.iter().any(|t| t == "Harrington Family") {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "Harrington Family shows as linked: {linked:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.screenshot("xero-09-linked").await?;

    // Pull the XPM group linked as new: its clients arrive, with a summary and the run listed.
    let new_group = app
        .client
        .find(fantoccini::Locator::XPath(&format!(
            "//a[@data-testid='catalog-linked-to'][normalize-space()=\"{}\"]",
            names[0]
        )))
        .await?;
    app.click(&new_group).await?;
    app.click_css("[data-testid=pull-from-xpm]").await?;
    let summary = app.text_of("[data-testid=pull-summary]", 120).await?;
    ensure!(!summary.is_empty(), "the pull reports what it did");
    app.wait_for("[data-testid=sync-run]", 30).await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.screenshot("xero-10-pulled").await?;
    let tab = app.text_of("[data-testid=tab-entities]", 10).await?;
    ensure!(
        !tab.contains("(0)"),
        "the pulled group has entities now: {tab}"
    );

    // Resolve a needs-input item (a shareholding XPM gave no class: it is "Ordinary"; or an
    // unknown business structure: a company), pull again, then see the pulled structure.
    let counts_before = app.text_of("[data-testid=review-counts]", 30).await?;
    ensure!(
        counts_before.contains("need your input"),
        "the pull left items for review: {counts_before}"
    );
    if app
        .texts("[data-testid=review-share-class]")
        .await?
        .is_empty()
    {
        choose(app, "[data-testid=review-kind]", "Company").await?;
        app.click_css("[data-testid=review-apply]").await?;
        app.wait_for("[data-testid=review-decision]", 30)
            .await
            .context("the decision is recorded on the item")?;
    } else {
        app.fill("[data-testid=review-share-class]", "Ordinary")
            .await?;
        app.click_css("[data-testid=review-set-class]").await?;
    }
    app.click_css("[data-testid=pull-from-xpm]").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let counts = app.text_of("[data-testid=review-counts]", 30).await?;
        if counts != counts_before {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "pulling again applies the decision: still {counts}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    app.click_css("[data-testid=tab-diagram]").await?;
    app.wait_for("[data-testid=diagram][data-state=ready]", 120)
        .await
        .context("the pulled group's diagram lays out")?;
    let nodes = app.visible_texts("[data-testid=diagram-node]", 30).await?;
    let labels = app.visible_texts("[data-testid=edge-label]", 30).await?;
    ensure!(
        nodes.len() >= 5 && !labels.is_empty(),
        "the diagram shows the pulled entities and labelled relationships: {nodes:?} {labels:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.screenshot("xero-10b-pulled-diagram").await?;

    // Push Harrington Family into the XPM group it was linked to: preview, then push.
    app.click_css("[data-testid=nav-import-groups]").await?;
    let harrington = app
        .client
        .find(fantoccini::Locator::XPath(
            "//a[@data-testid='catalog-linked-to'][normalize-space()='Harrington Family']",
        ))
        .await?;
    app.click(&harrington).await?;
    app.click_css("[data-testid=push-preview]").await?;
    let plan = app.text_of("[data-testid=push-plan-summary]", 60).await?;
    ensure!(
        plan.starts_with("27 to create"),
        "9 clients and 18 relationships to create: {plan}"
    );
    app.click_css("[data-testid=push-run]").await?;
    let report = app
        .text_of("[data-testid=push-report-summary]", 180)
        .await?;
    ensure!(
        report.starts_with("9 clients created") && report.contains("0 failed"),
        "the push created Harrington Family's nine clients in XPM: {report}"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.screenshot("xero-11-pushed").await?;
    app.click_css("[data-testid=push-preview]").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !app
        .text_of("[data-testid=push-plan-summary]", 30)
        .await?
        .contains("0 to create, 0 to update, 0 to add")
        || !app
            .texts("[data-testid=push-run]")
            .await?
            .concat()
            .contains("Nothing to push")
    {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "after the push, a new preview has nothing to send"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Edit one entity here, preview (one update), push, and the re-preview is empty again.
    app.click_css("[data-testid=tab-entities]").await?;
    let row = app.wait_for("[data-testid=entity-row]", 30).await?;
    app.client
        .execute(
            "arguments[0].dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));",
            vec![serde_json::to_value(&row)?],
        )
        .await?;
    app.fill("[data-testid=entity-email]", "office@harrington.example")
        .await?;
    app.click_css("[data-testid=entity-submit]").await?;
    app.wait_gone("[data-testid=entity-submit]", 30)
        .await
        .context("the edit is saved")?;
    app.click_css("[data-testid=tab-xpm]").await?;
    app.click_css("[data-testid=push-preview]").await?;
    let plan = app.text_of("[data-testid=push-plan-summary]", 60).await?;
    ensure!(
        plan.starts_with("0 to create, 1 to update"),
        "the edited entity is the one update: {plan}"
    );
    let changes = app.texts("[data-testid=push-plan-items]").await?.concat();
    ensure!(
        changes.contains("office@harrington.example"),
        "the preview shows the new email: {changes}"
    );
    app.screenshot("xero-11b-edit-preview").await?;
    app.click_css("[data-testid=push-run]").await?;
    app.wait_text(
        "[data-testid=push-report-summary]",
        &["0 clients created, 1 updated", "0 failed"],
        120,
    )
    .await
    .context("the push updates the one client")?;

    // Add a relationship here: Claire is an appointor of the testamentary trust. Preview (one
    // relationship to create), push, and the re-preview is empty.
    app.click_css("[data-testid=tab-relationships]").await?;
    app.click_css("[data-testid=create-relationship]").await?;
    choose(app, "[data-testid=rel-from]", "Claire Harrington").await?;
    choose(app, "[data-testid=rel-kind]", "Appointor").await?;
    choose(
        app,
        "[data-testid=rel-to]",
        "George Harrington Testamentary Trust",
    )
    .await?;
    app.click_css("[data-testid=relationship-submit]").await?;
    app.wait_gone("[data-testid=relationship-submit]", 30)
        .await
        .context("the relationship is saved")?;
    app.click_css("[data-testid=tab-xpm]").await?;
    app.click_css("[data-testid=push-preview]").await?;
    let plan = app.text_of("[data-testid=push-plan-summary]", 60).await?;
    ensure!(
        plan.starts_with("1 to create, 0 to update"),
        "the new relationship is the one thing to create: {plan}"
    );
    app.screenshot("xero-11c-relationship-preview").await?;
    app.click_css("[data-testid=push-run]").await?;
    app.wait_text(
        "[data-testid=push-report-summary]",
        &["1 relationship created", "0 failed"],
        120,
    )
    .await
    .context("the push creates the one relationship")?;
    app.screenshot("xero-11d-relationship-pushed").await?;

    // XPM really changed: the simulator holds the new email and the new relationship, once.
    let relationships = sim.get(&format!("data/{tenant}/relationships")).await?;
    let appointers: Vec<_> = relationships
        .as_array()
        .context("a list of relationships")?
        .iter()
        .filter(|r| {
            r["type"] == "Appointer"
                && [&r["clientName"], &r["relatedName"]]
                    .iter()
                    .any(|n| *n == "Claire Harrington")
                && [&r["clientName"], &r["relatedName"]]
                    .iter()
                    .any(|n| *n == "George Harrington Testamentary Trust")
        })
        .collect();
    ensure!(
        appointers.len() == 1,
        "XPM has Claire as the trust's appointer, once: {appointers:?}"
    );
    let clients = sim.get(&format!("data/{tenant}/clients")).await?;
    let emailed: Vec<_> = clients
        .as_array()
        .context("a list of clients")?
        .iter()
        .filter(|c| c["fields"]["Email"] == "office@harrington.example")
        .collect();
    ensure!(
        emailed.len() == 1,
        "the edited client has its new email in XPM: {emailed:?}"
    );

    // Reconcile: someone changes the trust's ABN in XPM, and here Claire's appointment gets a
    // start date. The preview shows both; take XPM's ABN and send our date; apply; and a new
    // preview shows no differences.
    let trust = clients
        .as_array()
        .context("a list of clients")?
        .iter()
        .find(|c| c["name"] == "George Harrington Testamentary Trust")
        .and_then(|c| c["uuid"].as_str())
        .context("the trust is in XPM")?
        .to_owned();
    sim.post(
        &format!("data/{tenant}/set-field"),
        serde_json::json!({ "client": trust, "field": "BusinessNumber", "value": "51 824 753 556" }),
    )
    .await?;
    app.click_css("[data-testid=tab-relationships]").await?;
    let appointor = app
        .client
        .find(fantoccini::Locator::XPath(
            "//tr[@data-testid='relationship-row'][td[normalize-space()='Claire Harrington']][td[normalize-space()='Appointor']]",
        ))
        .await
        .context("Claire's appointment in the relationships list")?;
    app.client
        .execute(
            "arguments[0].dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));",
            vec![serde_json::to_value(&appointor)?],
        )
        .await?;
    app.fill("[data-testid=rel-start]", "2024-07-01").await?;
    app.click_css("[data-testid=relationship-submit]").await?;
    app.wait_gone("[data-testid=relationship-submit]", 30)
        .await
        .context("the start date is saved")?;
    app.click_css("[data-testid=tab-xpm]").await?;
    app.click_css("[data-testid=reconcile-preview]").await?;
    let counts = app.text_of("[data-testid=reconcile-counts]", 120).await?;
    let subjects = app.texts("[data-testid=reconcile-item-subject]").await?;
    let types = app.texts("[data-testid=reconcile-item-type]").await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.screenshot("xero-11e-reconcile-preview").await?;
    // The two changes are there, beside what the XPM group held before Harrington Family was
    // pushed into it (its own clients and relationships, only in XPM).
    let about = |subject: &str, kind: &str| {
        subjects
            .iter()
            .zip(&types)
            .any(|(s, t)| s == subject && t.trim().eq_ignore_ascii_case(kind))
    };
    ensure!(
        about("George Harrington Testamentary Trust", "details differ")
            && about(
                "Claire Harrington → George Harrington Testamentary Trust (Appointor)",
                "relationship details differ"
            ),
        "the preview shows the ABN and the start date: {counts} {subjects:?} {types:?}"
    );
    app.click_css("[data-testid=reconcile-helper-acceptRecommendations]")
        .await?;
    // Each decision re-renders its item: give the helper's answer a moment to land.
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The ABN: XPM's value.
    let abn = app
        .client
        .find(fantoccini::Locator::XPath(
            "(//*[@data-testid='reconcile-field-BusinessNumber']//label[starts-with(normalize-space(), 'XPM: 51')])[1]",
        ))
        .await
        .context("the ABN's XPM value to choose")?;
    app.click(&abn).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The start date: StructureGram's value (the recommendation when only this side changed).
    pick_action(
        app,
        "//*[@data-testid='reconcile-item'][.//*[@data-testid='reconcile-item-subject'][contains(., '(Appointor)')]]",
        "Use StructureGram's values",
    )
    .await?;
    // A client whose business structure maps to no type: a discretionary trust.
    for _ in 0..5 {
        let unknown = "//*[@data-testid='reconcile-item'][.//*[@data-testid='reconcile-item-type'][contains(translate(., 'ENTITYPUNKOW', 'entitypunkow'), 'entity type unknown')]][.//*[@data-testid='reconcile-item-status'][contains(translate(., 'NEDSYOURIPT', 'nedsyouript'), 'needs your input')]]";
        if app
            .client
            .find_all(fantoccini::Locator::XPath(unknown))
            .await?
            .is_empty()
        {
            break;
        }
        pick_action(app, unknown, "Choose the entity type").await?;
        choose(app, "[data-testid=reconcile-kind]", "Trust").await?;
        choose(app, "[data-testid=reconcile-trust-type]", "Discretionary").await?;
        app.click_css("[data-testid=reconcile-set-type]").await?;
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let counts = app.text_of("[data-testid=reconcile-counts]", 30).await?;
        if counts.contains(" 0 need your input · 0 waiting") {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "every difference is decided: {counts}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.screenshot("xero-11f-reconcile-decided").await?;
    app.click_css("[data-testid=reconcile-apply]").await?;
    let results = app
        .text_of("[data-testid=reconcile-results-summary]", 180)
        .await?;
    ensure!(
        results.contains(" 0 blocked · 0 failed"),
        "every decision applied: {results}"
    );
    app.screenshot("xero-11g-reconcile-applied").await?;
    app.click_css("[data-testid=reconcile-preview]").await?;
    app.wait_for("[data-testid=reconcile-no-differences]", 120)
        .await
        .context("after applying, a new preview shows no differences")?;
    app.screenshot("xero-11h-reconcile-empty").await?;
    // Both sides now agree: XPM has the start date, StructureGram the ABN.
    let relationships = sim.get(&format!("data/{tenant}/relationships")).await?;
    ensure!(
        relationships
            .as_array()
            .context("a list of relationships")?
            .iter()
            .any(|r| r["type"] == "Appointer" && r["start"] == "2024-07-01"),
        "XPM has the appointment's start date"
    );

    // Its XPM tab, then Unlink: the group and its entities stay.
    app.click_css("[data-testid=nav-import-groups]").await?;
    let harrington = app
        .client
        .find(fantoccini::Locator::XPath(
            "//a[@data-testid='catalog-linked-to'][normalize-space()='Harrington Family']",
        ))
        .await?;
    app.click(&harrington).await?;
    let xpm_name = app.text_of("[data-testid=group-xpm-name]", 30).await?;
    ensure!(
        xpm_name == names[1],
        "the XPM tab names the linked XPM group"
    );
    app.screenshot("xero-12-group-xpm-tab").await?;
    app.click_css("[data-testid=group-xpm-unlink]").await?;
    app.click_css("[data-testid=confirm-action]").await?;
    app.wait_for("[data-testid=group-xpm-unlinked]", 60).await?;
    app.click_css("[data-testid=tab-entities]").await?;
    ensure!(
        !app.visible_texts("table tbody tr", 30).await?.is_empty(),
        "Harrington Family keeps its entities after unlinking"
    );

    // Disconnect: links kept.
    app.click_css("[data-testid=nav-integrations]").await?;
    app.click_css("[data-testid=xpm-disconnect]").await?;
    app.click_css("[data-testid=confirm-action]").await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !app
        .text_of("[data-testid=xpm-status]", 30)
        .await?
        .trim()
        .eq_ignore_ascii_case("not connected")
    {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "disconnect ends the connection"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let summary = app.text_of("[data-testid=xpm-summary]", 30).await?;
    ensure!(
        summary.contains("Linked groups: 1"),
        "the link survives the disconnect: {summary}"
    );
    app.screenshot("xero-13-disconnected").await?;

    // Reconnect: same practice, the link is still there. The session was verified already.
    app.connect_xpm(&app_url, None, Some("xero")).await?;
    let summary = app.text_of("[data-testid=xpm-summary]", 30).await?;
    ensure!(
        summary.contains("Linked groups: 1"),
        "reconnecting resumes with the link: {summary}"
    );
    app.screenshot("xero-14-reconnected").await?;
    app.drain_ipc().await?;
    no_secret_over_ipc(app, key.trim())?;
    Ok(key.trim().to_owned())
}
