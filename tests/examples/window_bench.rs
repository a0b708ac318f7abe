//! Benchmark, not a test (issue #11 (d)): in the real window under Xvfb, how long the app takes
//! from launch to its first screen, how long a 300-entity group's diagram takes to lay out and
//! paint, and the app's peak memory. Prints one table.
//!
//! Run: `xvfb-run -a cargo run -p structuregram-e2e --example window_bench` after building the
//! app (`cargo build -p structuregram`), or `.ci/bench`. Uses the `structuregram` binary next to
//! this program (debug by default; `STRUCTUREGRAM_BIN` to point at a release build) and the
//! built UI it embeds.
//!
//! The group is generated: 60 families of five (two spouses; their company, of which one is
//! director and both hold 50 shares; their family trust with the company as trustee and both as
//! beneficiaries; their SMSF with both as members), each family's company also a beneficiary of
//! the next family's trust, so the diagram is one connected structure of 300 entities and 599
//! relationships. It is imported with the CLI, then opened in the window.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use structuregram_e2e::{app_binary, AppSession};

const USERNAME: &str = "bench";
const PASSWORD: &str = "bench password";
const FAMILIES: usize = 60;
/// Diagram runs: the first is cold (fresh window), the rest reopen the tab.
const RUNS: usize = 3;

/// A `structuregram.group/1` document (core `transfer`) with [`FAMILIES`] × 5 entities.
fn group_document() -> Value {
    let mut entities = Vec::new();
    let mut relationships = Vec::new();
    let entity = |key: String, kind: &str, trust: Option<&str>, name: String| {
        // Individuals need their first and last names (core `entities` validation).
        let (first, last) = match (kind, name.split_once(' ')) {
            ("individual", Some((first, last))) => (Some(first.to_owned()), Some(last.to_owned())),
            _ => (None, None),
        };
        json!({
            "key": key, "kind": kind, "trustType": trust, "name": name,
            "firstName": first, "middleName": null, "lastName": last, "otherName": null,
            "dateOfBirth": null, "dateOfDeath": null, "abn": null, "acn": null, "email": null,
            "phone": null, "address": null, "postalAddress": null,
            // An SMSF holds assets rather than trades (core `entities` refuses an active one).
            "status": if kind == "smsf" { "passive" } else { "active" },
            "notes": null, "joinDate": null, "exitDate": null
        })
    };
    let rel = |kind: &str, from: &str, to: &str, shares: Option<i64>| {
        json!({
            "kind": kind, "from": from, "to": to, "shares": shares,
            "shareClass": shares.map(|_| "Ordinary"), "percentage": null,
            "startDate": null, "endDate": null, "label": null
        })
    };
    for f in 0..FAMILIES {
        let key = |i: usize| format!("e{}", f * 5 + i + 1);
        let (a, b, company, trust, smsf) = (key(0), key(1), key(2), key(3), key(4));
        entities.push(entity(
            a.clone(),
            "individual",
            None,
            format!("Alex Family{f:02}"),
        ));
        entities.push(entity(
            b.clone(),
            "individual",
            None,
            format!("Blair Family{f:02}"),
        ));
        entities.push(entity(
            company.clone(),
            "company",
            None,
            format!("Family{f:02} Holdings Pty Ltd"),
        ));
        entities.push(entity(
            trust.clone(),
            "trust",
            Some("discretionary"),
            format!("Family{f:02} Family Trust"),
        ));
        entities.push(entity(
            smsf.clone(),
            "smsf",
            None,
            format!("Family{f:02} Super Fund"),
        ));
        relationships.push(rel("spouse", &a, &b, None));
        relationships.push(rel("director", &a, &company, None));
        relationships.push(rel("shareholder", &a, &company, Some(50)));
        relationships.push(rel("shareholder", &b, &company, Some(50)));
        relationships.push(rel("trustee", &company, &trust, None));
        relationships.push(rel("beneficiary", &a, &trust, None));
        relationships.push(rel("beneficiary", &b, &trust, None));
        relationships.push(rel("smsfMember", &a, &smsf, None));
        relationships.push(rel("smsfMember", &b, &smsf, None));
        if f + 1 < FAMILIES {
            let next_trust = format!("e{}", (f + 1) * 5 + 4);
            relationships.push(rel("beneficiary", &company, &next_trust, None));
        }
    }
    json!({
        "format": "structuregram.group/1",
        "group": { "name": "Benchmark 300" },
        "entities": entities,
        "relationships": relationships,
    })
}

fn cli(data_dir: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(app_binary()?)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("STRUCTUREGRAM_PASSWORD", PASSWORD)
        .output()?;
    ensure!(
        out.status.success(),
        "structuregram {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Peak resident memory (`VmHWM`, KiB) of the app process running on `data_dir` and of every
/// process below it (WebKit's web and network processes), summed: an upper bound of the peak.
fn peak_memory_kib(data_dir: &str) -> Result<(u64, usize)> {
    let mut parents = std::collections::HashMap::new();
    let mut app = None;
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(data_dir) && cmdline.contains("structuregram") {
            app = Some(pid);
        }
        parents.insert(
            pid,
            (
                field("PPid:").unwrap_or(0) as u32,
                field("VmHWM:").unwrap_or(0),
            ),
        );
    }
    let app = app.context("the app's process is running")?;
    let (mut total, mut count) = (0, 0);
    for (&pid, &(_, hwm)) in &parents {
        let mut at = pid;
        // Walk up to the root; bounded by the process count.
        for _ in 0..parents.len() {
            if at == app {
                total += hwm;
                count += 1;
                break;
            }
            match parents.get(&at) {
                Some(&(ppid, _)) if ppid != 0 => at = ppid,
                _ => break,
            }
        }
    }
    Ok((total, count))
}

#[tokio::main]
async fn main() -> Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data
        .path()
        .to_str()
        .context("a UTF-8 temp path")?
        .to_owned();
    cli(&data_dir, &["user", "create", "--username", USERNAME])?;
    let file = data.path().join("benchmark-300.json");
    let doc = group_document();
    let (n_entities, n_relationships) = (
        doc["entities"].as_array().map_or(0, Vec::len),
        doc["relationships"].as_array().map_or(0, Vec::len),
    );
    std::fs::write(&file, serde_json::to_string_pretty(&doc)?)?;
    cli(
        &data_dir,
        &["import", "--file", file.to_str().context("UTF-8 path")?],
    )?;

    let launched = Instant::now();
    let app = AppSession::launch(&["--data-dir", &data_dir]).await?;
    app.wait_for("[data-testid=signin-password]", 120)
        .await
        .context("the sign-in screen")?;
    let first_screen = launched.elapsed();
    let outcome = measure(&app).await;
    let memory = peak_memory_kib(&data_dir);
    app.close().await;
    let diagram_runs = outcome?;
    let (memory_kib, processes) = memory?;

    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    let cold = diagram_runs.first().copied().unwrap_or_default();
    let mut warm: Vec<Duration> = diagram_runs.iter().skip(1).copied().collect();
    warm.sort();
    println!();
    println!(
        "| window benchmark ({n_entities} entities, {n_relationships} relationships) | measured |"
    );
    println!("|---|---|");
    println!(
        "| launch to first screen (incl. WebDriver session start) | {} |",
        ms(first_screen)
    );
    println!(
        "| diagram: open tab to laid out and painted, first time | {} |",
        ms(cold)
    );
    if let Some(median) = warm.get(warm.len() / 2) {
        println!(
            "| diagram: the same, reopened (median of {}) | {} |",
            warm.len(),
            ms(*median)
        );
    }
    println!(
        "| peak memory, app + {} WebKit processes (sum of VmHWM) | {:.0} MiB |",
        processes.saturating_sub(1),
        memory_kib as f64 / 1024.0
    );
    Ok(())
}

/// Signs in, opens the group, and times the diagram tab [`RUNS`] times.
async fn measure(app: &AppSession) -> Result<Vec<Duration>> {
    app.sign_in(USERNAME, PASSWORD).await?;
    let group = app
        .client
        .find(fantoccini::Locator::XPath(
            "//*[normalize-space()='Benchmark 300']",
        ))
        .await
        .context("the imported group in the list")?;
    app.click(&group).await?;
    app.wait_for("[data-testid=tab-entities]", 60).await?;
    let mut runs = Vec::new();
    for run in 0..RUNS {
        if run > 0 {
            app.click_css("[data-testid=tab-entities]").await?;
            app.wait_for("[data-testid=entity-row]", 60).await?;
        }
        let started = Instant::now();
        app.click_css("[data-testid=tab-diagram]").await?;
        app.wait_for("[data-testid=diagram][data-state=ready]", 300)
            .await
            .context("the diagram lays out")?;
        // Painted: the browser has rendered a frame with the nodes in it.
        app.client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done(
                   document.querySelectorAll('[data-testid=diagram-node]').length)));",
                vec![],
            )
            .await?;
        runs.push(started.elapsed());
        if run == 0 {
            app.screenshot("bench-300-diagram").await?;
        }
    }
    // Above its culling threshold the diagram draws only the nodes in view; the group's count
    // says all 300 are in it.
    let tab = app.text_of("[data-testid=tab-entities]", 10).await?;
    ensure!(
        tab.contains(&format!("({})", FAMILIES * 5)),
        "the group holds all {} entities: {tab}",
        FAMILIES * 5
    );
    ensure!(
        !app.texts("[data-testid=diagram-node]").await?.is_empty(),
        "the diagram draws nodes"
    );
    Ok(runs)
}
