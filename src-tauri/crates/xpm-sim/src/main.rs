//! `xpm-sim serve --port … --fixture DIR | --generate … [--auto-approve] [--time-scale N]`
//! and `xpm-sim export --generate … --out DIR` (a generated practice as a fixture folder):
//! runs the simulator for the demo and benchmarks (always on 127.0.0.1). Prints one JSON
//! line (`ready`, `startup_ms`, URLs, practices, users) on stdout when listening; logs every
//! request on stderr (`RUST_LOG` filters).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use xpm_sim::{AutoApprove, GenSpec, PracticeSource, SimConfig};

#[derive(Parser)]
#[command(
    name = "xpm-sim",
    about = "Simulator of Xero identity and XPM 3.1 (loopback only)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve on 127.0.0.1.
    Serve {
        /// Port (0 = any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Fixture folder(s) (repeatable).
        #[arg(long)]
        fixture: Vec<PathBuf>,
        /// Generate a practice, e.g. `groups=300,clients=2000,seed=7` (repeatable).
        #[arg(long)]
        generate: Vec<String>,
        /// Skip the consent page: sign in as the first user and choose their first practice.
        #[arg(long)]
        auto_approve: bool,
        /// Clock speed (1 = real time, 60 = a minute per second).
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Daily limit per tenant (default 5000; 1000 for the Starter tier).
        #[arg(long)]
        day_limit: Option<u32>,
        /// Minute limit per tenant (default 60).
        #[arg(long)]
        minute_limit: Option<u32>,
        /// Extra redirect URI(s) for the default app (repeatable).
        #[arg(long)]
        redirect_uri: Vec<String>,
    },
    /// Write a generated practice as a fixture folder (XPM XML files + practice.json).
    Export {
        /// What to generate, e.g. `groups=300,clients=2000,seed=7`.
        #[arg(long)]
        generate: String,
        /// Folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let (port, fixture, generate, auto_approve, time_scale, day_limit, minute_limit, redirect_uri) =
        match Cli::parse().cmd {
            Cmd::Export { generate, out } => {
                let spec: GenSpec = generate.parse().map_err(|e: String| anyhow::anyhow!(e))?;
                let lp = xpm_sim::generate::generate(&spec, chrono::Utc::now());
                xpm_sim::fixture::write_dir(&lp, &out)?;
                println!("{}", out.display());
                return Ok(());
            }
            Cmd::Serve {
                port,
                fixture,
                generate,
                auto_approve,
                time_scale,
                day_limit,
                minute_limit,
                redirect_uri,
            } => (
                port,
                fixture,
                generate,
                auto_approve,
                time_scale,
                day_limit,
                minute_limit,
                redirect_uri,
            ),
        };
    let t0 = std::time::Instant::now();
    let mut practices: Vec<PracticeSource> =
        fixture.into_iter().map(PracticeSource::Fixture).collect();
    for g in generate {
        let spec: GenSpec = g.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        practices.push(PracticeSource::Generate(spec));
    }
    if practices.is_empty() {
        practices.push(PracticeSource::Fixture(xpm_sim::small_practice_fixture()));
    }
    let mut cfg = SimConfig {
        port,
        practices,
        auto_approve: auto_approve.then(AutoApprove::default),
        time_scale,
        ..SimConfig::default()
    };
    if let Some(d) = day_limit {
        cfg.settings.day_limit = d;
    }
    if let Some(m) = minute_limit {
        cfg.settings.minute_limit = m;
    }
    let server = xpm_sim::start(cfg).await?;
    for u in redirect_uri {
        server
            .admin
            .register_redirect_uri(xpm_sim::DEFAULT_CLIENT_ID, &u)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let summary = server.admin.practices();
    println!(
        "{}",
        serde_json::json!({
            "ready": true,
            "startup_ms": t0.elapsed().as_millis() as u64,
            "urls": server.urls,
            "client_id": xpm_sim::DEFAULT_CLIENT_ID,
            "practices": summary,
            "users": server.admin.users().iter().map(|u| serde_json::json!({"email": u.email, "password": u.password})).collect::<Vec<_>>(),
        })
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = server.wait() => {}
    }
    Ok(())
}
