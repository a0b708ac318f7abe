//! xpm-sim: a faithful simulator of Xero identity (OAuth 2 + PKCE, `/connections`) and the
//! XPM 3.1 XML API, written only from `shared/reference/xpm-api.md`.
//!
//! Use [`start`] with a [`SimConfig`] to run it on `127.0.0.1` (port 0 = random); the returned
//! [`SimServer`] gives the [`SimUrls`] and an [`AdminHandle`] for faults, clock, data changes
//! and counters. Dropping the server (or [`SimServer::shutdown`]) stops it. See README.md for
//! every behaviour, its reference section and its knob.

#![deny(missing_docs)]

pub mod admin;
pub mod api;
pub mod clock;
pub mod faults;
pub mod fixture;
pub mod generate;
pub mod identity;
pub mod limits;
pub mod model;
pub mod state;
pub mod xml;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{DateTime, Utc};

pub use admin::{AdminError, AdminHandle, PracticeSummary};
pub use fixture::LoadedPractice;
pub use generate::GenSpec;
pub use state::{App, AutoApprove, Counters, FaultKind, FaultRule, Settings, Tenant, User};

/// The default app's `client_id`.
pub const DEFAULT_CLIENT_ID: &str = "xpm-sim-desktop-client";

/// Redirect URIs registered for the default app (exact, reference §5.3).
pub const DEFAULT_REDIRECT_URIS: &[&str] = &[
    "http://localhost:47615/callback",
    "http://localhost:47616/callback",
    "http://localhost:47617/callback",
    "https://structuregram.example/oauth/callback",
];

/// Every scope string of reference §5.4 (the default app may request all of them).
pub const ALL_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "practicemanager.client",
    "practicemanager.client.read",
    "practicemanager.job",
    "practicemanager.job.read",
    "practicemanager.staff",
    "practicemanager.staff.read",
    "practicemanager.time",
    "practicemanager.time.read",
    "practicemanager",
    "practicemanager.read",
];

/// Path of the small hand-written fixture shipped with the crate.
pub fn small_practice_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-practice")
}

/// Path of the second shipped fixture (another practice of the same user, for multi-practice
/// consent and per-tenant limit tests).
pub fn second_practice_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/second-practice")
}

/// Where a practice comes from.
#[derive(Debug, Clone)]
pub enum PracticeSource {
    /// A fixture folder (see [`fixture`]).
    Fixture(PathBuf),
    /// A generated practice (see [`generate`]).
    Generate(GenSpec),
    /// Already-built data.
    Loaded(Box<LoadedPractice>),
}

/// Everything [`start`] needs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port on 127.0.0.1; `0` picks a free one.
    pub port: u16,
    /// Practices to serve (users with the same email across practices are merged, so one
    /// user can see several PRACTICEMANAGER tenants).
    pub practices: Vec<PracticeSource>,
    /// Registered apps; empty = one default app ([`DEFAULT_CLIENT_ID`],
    /// [`DEFAULT_REDIRECT_URIS`], [`ALL_SCOPES`]).
    pub apps: Vec<App>,
    /// Rules and limits.
    pub settings: Settings,
    /// `Some` = authorize redirects at once (tests); `None` = the consent page.
    pub auto_approve: Option<AutoApprove>,
    /// Clock speed (1.0 = real time; 0.0 = frozen until advanced).
    pub time_scale: f64,
    /// Clock start; `None` = now.
    pub start_time: Option<DateTime<Utc>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            practices: vec![PracticeSource::Fixture(small_practice_fixture())],
            apps: vec![],
            settings: Settings::default(),
            auto_approve: Some(AutoApprove::default()),
            time_scale: 1.0,
            start_time: None,
        }
    }
}

impl SimConfig {
    /// The shipped small fixture, auto-approve on, clock frozen (advance it by hand).
    pub fn for_tests() -> Self {
        SimConfig {
            time_scale: 0.0,
            ..SimConfig::default()
        }
    }
}

/// URLs of a running simulator (no trailing slashes).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SimUrls {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Identity base (stands for both login.xero.com and identity.xero.com).
    pub identity_base: String,
    /// API base (stands for api.xero.com).
    pub api_base: String,
    /// Admin base, `…/__admin`.
    pub admin_base: String,
    /// `…/identity/connect/authorize`.
    pub authorize_url: String,
    /// `…/connect/token`.
    pub token_url: String,
    /// `…/connect/revocation`.
    pub revocation_url: String,
    /// `…/connect/userinfo`.
    pub userinfo_url: String,
    /// `…/connections`.
    pub connections_url: String,
    /// `…/practicemanager/3.1` (append `/client.api/list` etc.).
    pub xpm_base: String,
}

impl SimUrls {
    fn new(addr: SocketAddr) -> Self {
        let base = format!("http://{addr}");
        SimUrls {
            identity_base: base.clone(),
            api_base: base.clone(),
            admin_base: format!("{base}/__admin"),
            authorize_url: format!("{base}/identity/connect/authorize"),
            token_url: format!("{base}/connect/token"),
            revocation_url: format!("{base}/connect/revocation"),
            userinfo_url: format!("{base}/connect/userinfo"),
            connections_url: format!("{base}/connections"),
            xpm_base: format!("{base}{}", api::PREFIX),
            base,
        }
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimServer {
    /// Its URLs.
    pub urls: SimUrls,
    /// Its controls.
    pub admin: AdminHandle,
    /// The bound address.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimServer {
    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Waits until the server stops (for the binary).
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Per-connection switch: notified to close the connection without a response.
#[derive(Clone)]
struct KillSwitch(Arc<tokio::sync::Notify>);

/// Closes the connection (no response bytes) when a handler returns [`faults::dropped`].
async fn drop_connections(req: Request, next: Next) -> Response {
    let kill = req.extensions().get::<KillSwitch>().cloned();
    let resp = next.run(req).await;
    if resp.extensions().get::<faults::DropConnection>().is_some() {
        if let Some(k) = kill {
            k.0.notify_one();
            std::future::pending::<()>().await;
        }
    }
    resp
}

async fn log_requests(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let t = Instant::now();
    let mut resp = next.run(req).await;
    if !path.starts_with("/__admin") {
        if let Ok(v) = axum::http::HeaderValue::from_str(&state::new_uuid()) {
            resp.headers_mut().insert("xero-correlation-id", v);
        }
    }
    tracing::info!(
        target: "xpm_sim",
        %method,
        %path,
        status = resp.status().as_u16(),
        ms = t.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

/// Builds the simulator state from a config (loads fixtures, generates practices).
///
/// Errors: unreadable or malformed fixtures.
pub fn build_state(cfg: &SimConfig) -> anyhow::Result<Arc<state::Sim>> {
    use rand::RngCore;
    let clock = clock::SimClock::new(cfg.start_time, cfg.time_scale);
    let now = clock.now();
    let mut identity = state::Identity::default();
    let apps = if cfg.apps.is_empty() {
        vec![App {
            client_id: DEFAULT_CLIENT_ID.into(),
            redirect_uris: DEFAULT_REDIRECT_URIS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            allowed_scopes: ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
        }]
    } else {
        cfg.apps.clone()
    };
    for a in apps {
        identity.apps.insert(a.client_id.clone(), a);
    }
    let mut practices = HashMap::new();
    for src in &cfg.practices {
        let lp = match src {
            PracticeSource::Fixture(p) => fixture::load_dir(p, now)?,
            PracticeSource::Generate(g) => generate::generate(g, now),
            PracticeSource::Loaded(l) => (**l).clone(),
        };
        for t in lp.tenants {
            identity.tenants.insert(t.tenant_id.clone(), t);
        }
        for u in lp.users {
            match identity
                .users
                .iter_mut()
                .find(|x| x.email.eq_ignore_ascii_case(&u.email))
            {
                Some(x) => {
                    for t in u.tenants {
                        if !x.tenants.contains(&t) {
                            x.tenants.push(t);
                        }
                    }
                }
                None => identity.users.push(u),
            }
        }
        practices.insert(lp.practice.tenant_id.clone(), lp.practice);
    }
    let mut secret = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    Ok(Arc::new(state::Sim {
        settings: Mutex::new(cfg.settings.clone()),
        clock,
        identity: Mutex::new(identity),
        practices: Mutex::new(practices),
        limits: Mutex::new(Default::default()),
        faults: Mutex::new(vec![]),
        counters: Mutex::new(Default::default()),
        jwt_secret: secret,
        auto_approve: Mutex::new(cfg.auto_approve.clone()),
        base_url: Mutex::new(String::new()),
    }))
}

/// The full router (identity + XPM + admin).
pub fn router(sim: Arc<state::Sim>) -> Router {
    Router::new()
        .route("/identity/connect/authorize", get(identity::authorize))
        .route("/identity/connect/authorize/signin", post(identity::signin))
        .route(
            "/identity/connect/authorize/consent",
            post(identity::consent),
        )
        .route("/connect/token", post(identity::token))
        .route("/connect/revocation", post(identity::revocation))
        .route("/connect/userinfo", get(identity::userinfo))
        .route("/connections", get(identity::connections))
        .route("/connections/{id}", delete(identity::delete_connection))
        .merge(api::router())
        .merge(admin::router())
        .layer(axum::middleware::from_fn(drop_connections))
        .layer(axum::middleware::from_fn(log_requests))
        .with_state(sim)
}

/// Starts the simulator on `127.0.0.1:cfg.port` and returns once it is listening.
///
/// Errors: fixture loading, or the port cannot be bound.
pub async fn start(cfg: SimConfig) -> anyhow::Result<SimServer> {
    let sim = build_state(&cfg)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    let addr = listener.local_addr()?;
    *state::lock(&sim.base_url) = format!("http://{addr}");
    let app = router(sim.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut rx = rx;
        loop {
            let (stream, remote) = tokio::select! {
                _ = &mut rx => break,
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                },
            };
            let app = app.clone();
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let kill = KillSwitch(Arc::new(tokio::sync::Notify::new()));
                let k2 = kill.clone();
                let svc = tower::service_fn(
                    move |mut req: axum::http::Request<hyper::body::Incoming>| {
                        req.extensions_mut()
                            .insert(axum::extract::ConnectInfo(remote));
                        req.extensions_mut().insert(k2.clone());
                        tower::ServiceExt::oneshot(app.clone(), req.map(axum::body::Body::new))
                    },
                );
                let conn = hyper::server::conn::http1::Builder::new().serve_connection(
                    hyper_util::rt::TokioIo::new(stream),
                    hyper_util::service::TowerToHyperService::new(svc),
                );
                tokio::select! {
                    _ = conn => {}
                    _ = kill.0.notified() => {
                        tracing::info!(target: "xpm_sim", %remote, "fault: connection dropped");
                    }
                    _ = stop.changed() => {}
                }
            });
        }
        let _ = stop_tx.send(true);
    });
    tracing::info!(target: "xpm_sim", %addr, "xpm-sim listening");
    Ok(SimServer {
        urls: SimUrls::new(addr),
        admin: AdminHandle { sim },
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}
