//! The scale benchmark of issue 11 (a program, not a timed test): links and syncs a generated
//! practice of 2,000 clients in 300 groups against xpm-sim with XPM's **real** limits (60 calls
//! a minute, 5,000 a day, 5 in flight per tenant; xpm-api.md §4) on an accelerated clock, and
//! parses a 50 MB `client.api/list?detailed=true` response with the `xpm` crate's reader beside
//! Python's `xml.etree.ElementTree`. Prints one Markdown table.
//!
//! Run: `.ci/bench` (or `cargo bench -p structuregram-core --bench scale`). Environment:
//! `SCALE_TIME_SCALE_A` (clock speed for (a) and (c), default 1), `SCALE_TIME_SCALE` (for (b),
//! default 60: a simulated minute per real second), `SCALE_PARSE_MB` (default 50).
//!
//! Rows:
//! - (a) `bulk::link_unlinked` + `bulk::run` with the cheapest plan on a fresh database: XPM
//!   calls the simulator served to the tenant (the discovery `clientgroup.api/list` included),
//!   429s it answered, simulated minutes from the first call to the end, the floor (calls ÷ 60
//!   a minute), their ratio, and failures (failed groups, plus 1 if the run did not finish).
//! - (b) the same on a fresh simulator and database with the per-client plan forced (one
//!   `clientgroup.api/get` per group and one `client.api/get` per client): calls, and its calls
//!   ÷ (a)'s.
//! - (c) a re-sync of (a)'s practice with nothing changed: calls.
//! - (d) window timings: measured by the end-to-end suite (see the README).
//! - (e) MB/s and peak resident memory of each parser on the same file, each in its own
//!   process (this program re-run with `--parse-xml FILE`; `python3` with
//!   `resource.getrusage`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{memory_db, xpm_with, Xpm};
use structuregram_core::bulk::{self, BulkControl, BulkOptions, BulkOutcome, BulkReport};
use structuregram_core::discovery;
use structuregram_core::pull::FetchStrategy;
use structuregram_core::tfn::TfnCipher;
use structuregram_core::{DatabaseConnection, OrgId};
use xpm_sim::{PracticeSource, SimConfig};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The generated practice (`SCALE_PRACTICE` overrides it for a quick smoke run).
fn practice() -> String {
    std::env::var("SCALE_PRACTICE").unwrap_or_else(|_| "groups=300,clients=2000,seed=7".into())
}

/// The simulator's clock speed for a row: `SCALE_TIME_SCALE_A` for (a) and (c) (default 1:
/// real time, so the local work between calls is not magnified and the simulated minutes are
/// the minutes a user would wait), `SCALE_TIME_SCALE` for (b) (default 60: a simulated minute
/// per real second, or its 2,600 calls would take 45 real minutes).
fn time_scale(var: &str, default: f64) -> f64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v: &f64| *v > 0.0)
        .unwrap_or(default)
}

/// A simulator serving `practice` with XPM's real limits, and a signed-in client paced on the
/// simulator's clock (50 a minute plus a burst of 10; its retry delays in the same time).
async fn connect(practice: &str, scale: f64) -> Res<Xpm> {
    let config = SimConfig {
        practices: vec![PracticeSource::Generate(practice.parse()?)],
        time_scale: scale,
        ..SimConfig::default()
    };
    let x = xpm_with(config, |s| {
        s.limits = xpm::LimitSettings {
            time_scale: scale,
            ..xpm::LimitSettings::default()
        };
        s.retry = xpm::RetrySettings::default();
        s.retry.min_delay = s.retry.min_delay.div_f64(scale);
        s.retry.max_delay = s.retry.max_delay.div_f64(scale);
    })
    .await;
    let settings = x.sim.admin.settings();
    assert_eq!(
        (
            settings.minute_limit,
            settings.day_limit,
            settings.concurrent_limit
        ),
        (60, 5_000, 5),
        "the benchmark runs at XPM's real limits"
    );
    Ok(x)
}

/// What one sync measured on the simulator.
struct Measured {
    calls: u64,
    throttled: u64,
    minutes: f64,
    failures: usize,
    report: BulkReport,
}

fn served(x: &Xpm) -> (u64, u64) {
    let c = x.sim.admin.counters();
    let tenant = x.session.tenant.as_str();
    (c.per_tenant.get(tenant).copied().unwrap_or(0), c.throttled)
}

/// Optionally refreshes the catalog and links every group, then queues every linked group and
/// runs the queue.
async fn sync(
    x: &Xpm,
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    link_all: bool,
    strategy: Option<FetchStrategy>,
) -> Res<Measured> {
    let admin = x.sim.admin.clone();
    let tenant = x.session.tenant.as_str().to_owned();
    let (calls0, throttled0) = served(x);
    let start = admin.now();
    if link_all {
        discovery::refresh(db, org, &x.client, &x.session, admin.now()).await?;
        let linked = bulk::link_unlinked(db, org, &tenant, admin.now()).await?;
        let spec: xpm_sim::GenSpec = practice().parse()?;
        assert_eq!(linked.len(), spec.groups, "every XPM group linked");
    }
    bulk::enqueue_linked(db, org, &tenant, admin.now()).await?;
    let clock = move || admin.now();
    let report = bulk::run(
        db,
        org,
        cipher,
        &x.client,
        &x.session,
        &BulkOptions {
            strategy,
            ..BulkOptions::default()
        },
        &BulkControl {
            on_progress: Some(Box::new(|p| {
                if p.groups_done % 50 == 0 && p.waiting_seconds.is_none() {
                    eprintln!(
                        "  {}/{} groups, {} calls",
                        p.groups_done, p.groups_total, p.calls_made
                    );
                }
            })),
            ..BulkControl::default()
        },
        &clock,
    )
    .await?;
    let (calls1, throttled1) = served(x);
    let minutes = (x.sim.admin.now() - start).num_milliseconds() as f64 / 60_000.0;
    let failures = report.failures.len() + usize::from(report.outcome != BulkOutcome::Finished);
    Ok(Measured {
        calls: calls1 - calls0,
        throttled: throttled1 - throttled0,
        minutes,
        failures,
        report,
    })
}

/// Peak resident memory of this process (`VmHWM`), in KiB.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// `--parse-xml FILE`: parse with the `xpm` reader (into typed clients, as
/// `XpmClient::for_each_client` does) and print `MB/s peak-KiB clients`.
fn parse_only(path: &str) -> Res<()> {
    let size = std::fs::metadata(path)?.len() as f64;
    let reader = std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open(path)?);
    let start = Instant::now();
    let mut clients = 0u64;
    xpm::__private::read_client_list(reader, |_| clients += 1)?;
    let secs = start.elapsed().as_secs_f64();
    println!("{} {} {clients}", size / 1e6 / secs, vm_hwm_kib());
    Ok(())
}

const PYTHON: &str = r#"
import os, resource, sys, time, xml.etree.ElementTree as ET
path = sys.argv[1]
start = time.perf_counter()
root = ET.parse(path).getroot()
clients = len(root.find("Clients"))
secs = time.perf_counter() - start
print(os.path.getsize(path) / 1e6 / secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, clients)
"#;

/// One parser's figures: MB/s, peak KiB, clients.
fn parse_in_child(mut cmd: std::process::Command) -> Res<(f64, u64, u64)> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!("parser failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let mut f = text.split_whitespace();
    let mut next = || f.next().ok_or("short parser output");
    Ok((next()?.parse()?, next()?.parse()?, next()?.parse()?))
}

/// Writes a `client.api/list?detailed=true` response of about `mb` MB: the simulator's own
/// rendering of a generated practice (its clients ≈ 2.3 KB each), fetched over HTTP.
async fn detailed_list_file(mb: u64, path: &std::path::Path) -> Res<u64> {
    let clients = mb * 1_000_000 / 2_300;
    let practice = format!("groups={},clients={clients},seed=7", clients / 7);
    let x = xpm_with(
        SimConfig {
            practices: vec![PracticeSource::Generate(practice.parse()?)],
            ..SimConfig::for_tests()
        },
        |s| s.request_timeout = Duration::from_secs(600),
    )
    .await;
    let url = format!("{}/client.api/list?detailed=true", x.sim.urls.xpm_base);
    let mut resp = reqwest::Client::new()
        .get(url)
        .bearer_auth(x.session.access_token.secret())
        .header("Xero-Tenant-Id", x.session.tenant.as_str())
        .send()
        .await?
        .error_for_status()?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut size = 0u64;
    while let Some(chunk) = resp.chunk().await? {
        size += chunk.len() as u64;
        file.write_all(&chunk)?;
    }
    file.flush()?;
    Ok(size)
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--parse-xml") {
        return parse_only(args.get(i + 1).ok_or("--parse-xml FILE")?);
    }
    if args.iter().any(|a| a == "--list") {
        // `cargo bench -- --list` (or `cargo test --benches`) probes: nothing to list.
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let scale_a = time_scale("SCALE_TIME_SCALE_A", 1.0);
    let scale_b = time_scale("SCALE_TIME_SCALE", 60.0);
    let wall = Instant::now();

    let (a, c) = rt.block_on(async {
        let x = connect(&practice(), scale_a).await?;
        let (db, org) = memory_db().await;
        let cipher = TfnCipher::random();
        let a = sync(&x, &db, org, &cipher, true, None).await?;
        eprintln!("(a) done: {}", a.report.message);
        let c = sync(&x, &db, org, &cipher, false, None).await?;
        eprintln!("(c) done: {}", c.report.message);
        Res::Ok((a, c))
    })?;
    let b = rt.block_on(async {
        let x = connect(&practice(), scale_b).await?;
        let (db, org) = memory_db().await;
        let cipher = TfnCipher::random();
        let b = sync(&x, &db, org, &cipher, true, Some(FetchStrategy::PerClient)).await?;
        eprintln!("(b) done: {}", b.report.message);
        Res::Ok(b)
    })?;

    let mb: u64 = std::env::var("SCALE_PARSE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("client-list-detailed.xml");
    let size = rt.block_on(detailed_list_file(mb, &file))?;
    let mut ours = std::process::Command::new(std::env::current_exe()?);
    ours.arg("--parse-xml").arg(&file);
    let (our_mbs, our_kib, our_clients) = parse_in_child(ours)?;
    let mut py = std::process::Command::new("python3");
    py.arg("-c").arg(PYTHON).arg(&file);
    let (py_mbs, py_kib, py_clients) = parse_in_child(py)?;
    assert_eq!(our_clients, py_clients, "both parsers see every client");

    let floor = |calls: u64| calls as f64 / 60.0;
    println!();
    let practice = practice();
    println!("Practice `{practice}` on xpm-sim at XPM's real limits (60/min, 5,000/day, 5 in flight); simulator clock ×{scale_a} for (a) and (c), ×{scale_b} for (b).");
    println!();
    println!("| row | figure | value |");
    println!("|---|---|---|");
    println!(
        "| (a) link-all + sync-all, cheapest plan ({:?}) | calls / 429s / simulated min / floor min / ratio / failures | {} / {} / {:.1} / {:.1} / {:.2} / {} |",
        a.report.plan.strategy,
        a.calls,
        a.throttled,
        a.minutes,
        floor(a.calls),
        a.minutes / floor(a.calls),
        a.failures
    );
    println!(
        "| (b) same, naive per-client plan | calls / 429s / simulated min / failures / calls ÷ (a) | {} / {} / {:.1} / {} / {:.1}× |",
        b.calls,
        b.throttled,
        b.minutes,
        b.failures,
        b.calls as f64 / a.calls as f64
    );
    println!(
        "| (c) re-sync, nothing changed ({:?}) | calls | {} |",
        c.report.plan.strategy, c.calls
    );
    println!("| (d) window: layout + paint, cold start, peak memory | – | see README: tests/examples/window_bench.rs |");
    println!(
        "| (e) parse {:.1} MB `list?detailed=true` ({our_clients} clients) | `xpm` reader: MB/s / peak RSS MiB | {our_mbs:.1} / {:.1} |",
        size as f64 / 1e6,
        our_kib as f64 / 1024.0
    );
    println!(
        "| (e) same file | Python `xml.etree.ElementTree.parse`: MB/s / peak RSS MiB | {py_mbs:.1} / {:.1} |",
        py_kib as f64 / 1024.0
    );
    println!();
    println!(
        "(a) spent {} XPM calls on the shared list and pulls, {} on the group list; wall time of the whole benchmark {:.0} s.",
        a.report.calls,
        a.calls - u64::from(a.report.calls),
        wall.elapsed().as_secs_f64()
    );
    if a.failures + b.failures > 0 {
        return Err("a sync failed (see the table)".into());
    }
    Ok(())
}
