//! The shell's side of the Xero integration: the one [`Connector`] of the process, the demo's
//! in-process simulator, and the Tauri commands of Account → Integrations, Import Groups and the
//! group XPM tab. Every command is a thin adapter: the flows (gate, OAuth, tokens, discovery,
//! links) live in `structuregram_core::{xero, discovery, links}`.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use structuregram_core::discovery::{self, Catalog, CatalogFilter};
use structuregram_core::links::{self, GroupLink, ImportEstimate};
use structuregram_core::xero::{
    self, Attempt, Completion, ConnectionStatus, Connector, DisconnectOutcome, TestOutcome,
    XeroContext, XeroSettings,
};
use structuregram_core::DatabaseConnection;
use tauri::State;
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use crate::ipc::IpcError;
use crate::state::AppState;

type CmdResult<T> = Result<T, IpcError>;

/// How long the app waits for Xero's answer after opening the browser, in seconds. The attempt
/// itself expires after ten minutes (`xero::ATTEMPT_TTL_MINUTES`); waiting as long lets a user
/// who is slow on Xero's page still finish.
pub const CALLBACK_WAIT_SECS: u64 = 10 * 60;

/// The process's Xero integration: the connector (one HTTP client, one limiter per tenant) and,
/// in the demo, the simulator it talks to.
pub struct XeroState {
    /// Connects, refreshes tokens, tests and disconnects.
    pub connector: Connector,
    /// Whether the connector points at the demo's in-process simulator.
    pub simulated: bool,
    /// Keeps the demo's simulator running for the life of the window.
    #[cfg(feature = "demo")]
    _sim: Option<xpm_sim::SimServer>,
}

impl std::fmt::Debug for XeroState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XeroState")
            .field("simulated", &self.simulated)
            .finish_non_exhaustive()
    }
}

impl XeroState {
    /// The connector for this data folder: its saved Xero settings; with `demo` (and the `demo`
    /// cargo feature) an in-process simulator of Xero on a loopback port instead, with a
    /// generated practice, so the whole guide can be walked without a Xero account.
    ///
    /// # Errors
    /// The settings cannot be read, or the simulator cannot start.
    pub async fn open(db: &DatabaseConnection, demo: bool) -> anyhow::Result<Self> {
        #[cfg(feature = "demo")]
        if demo {
            let (sim, settings) = start_demo_simulator().await?;
            return Ok(Self {
                connector: Connector::new(settings)?,
                simulated: true,
                _sim: Some(sim),
            });
        }
        let _ = demo;
        let settings = xero::load_settings(db).await?;
        Ok(Self {
            connector: Connector::new(settings)?,
            simulated: false,
            #[cfg(feature = "demo")]
            _sim: None,
        })
    }
}

/// Starts the demo's simulator: a generated practice (12 groups, 60 clients, fixed seed) whose
/// consent page names its user (`demo@practice.example`, password `demo`) and says plainly that
/// it is a simulator. Its data lives in memory, so it starts afresh with each launch.
#[cfg(feature = "demo")]
async fn start_demo_simulator() -> anyhow::Result<(xpm_sim::SimServer, XeroSettings)> {
    use xpm_sim::generate::GenSpec;
    let config = xpm_sim::SimConfig {
        port: 0,
        practices: vec![xpm_sim::PracticeSource::Generate(GenSpec {
            groups: 12,
            clients: 60,
            seed: 7,
        })],
        // The real consent page, not auto-approval: the demo shows the user what Xero shows.
        auto_approve: None,
        ..xpm_sim::SimConfig::default()
    };
    let sim = xpm_sim::start(config).await?;
    let settings = XeroSettings::with_base(xpm_sim::DEFAULT_CLIENT_ID, &sim.urls.base);
    tracing::info!(base = %sim.urls.base, "demo: Xero is the in-process simulator");
    Ok((sim, settings))
}

/// The signed-in user's integration context and app session.
async fn context(state: &AppState) -> CmdResult<(XeroContext, structuregram_core::gate::Session)> {
    let signed_in = state.signed_in().await?;
    let ctx = XeroContext {
        db: state.db.clone(),
        secrets: signed_in.vault.clone(),
        org: signed_in.org,
        user: signed_in.user.id,
    };
    Ok((ctx, signed_in.session))
}

/// An authenticated XPM session for an integration action, after the integration gate.
pub(crate) async fn xpm_session(
    state: &AppState,
    xero: &XeroState,
) -> CmdResult<(XeroContext, xpm::XpmClient, xpm::Session)> {
    let (ctx, session) = context(state).await?;
    structuregram_core::gate::require_integration_session(&state.db, &session).await?;
    let xpm_session = xero.connector.session(&ctx).await?;
    Ok((ctx, xero.connector.client(), xpm_session))
}

/// What Account → Integrations shows.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct IntegrationOverview {
    /// The connection's state.
    pub status: ConnectionStatus,
    /// Whether a Xero client id is configured (always true in the demo).
    pub configured: bool,
    /// Whether "Xero" is the demo's simulator.
    pub simulated: bool,
    /// Linked groups in this organisation.
    pub linked_groups: u32,
    /// When the XPM group catalog was last refreshed (ISO 8601), if ever.
    pub catalog_refreshed_at: Option<chrono::DateTime<Utc>>,
}

/// What a finished connection did next.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConnectResult {
    /// How the callback (or tenant choice) ended.
    pub completion: Completion,
    /// After `connected`: the XPM groups discovered, or `None` if discovery failed.
    pub discovered: Option<u32>,
    /// After `connected`: why discovery failed (the connection itself stands).
    pub discovery_error: Option<String>,
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Debug))]
pub async fn xero_overview(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
) -> CmdResult<IntegrationOverview> {
    let org = state.org().await?;
    let status = xero.connector.status(&state.db, org).await?;
    let catalog = discovery::catalog(&state.db, org, &CatalogFilter::default()).await?;
    Ok(IntegrationOverview {
        status,
        configured: !xero.connector.settings().client_id.trim().is_empty(),
        simulated: xero.simulated,
        linked_groups: catalog
            .rows
            .iter()
            .filter(|r| r.linked_group_id.is_some())
            .count() as u32,
        catalog_refreshed_at: catalog.refreshed_at,
    })
}

/// Starts a connection: the gate, then a new attempt (PKCE + state + loopback listener), then
/// the system browser on Xero's consent page. The UI then calls [`xero_wait`].
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Debug))]
pub async fn xero_connect(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
) -> CmdResult<Attempt> {
    let (ctx, session) = context(&state).await?;
    let attempt = xero.connector.begin(ctx, &session).await?;
    if let Err(e) = app.opener().open_url(&attempt.authorize_url, None::<&str>) {
        // The UI shows the URL to copy when the browser cannot be opened.
        tracing::warn!(error = %e, "could not open the system browser");
    }
    Ok(attempt)
}

/// Waits for Xero's answer to the newest attempt (loopback or deep link); once connected, runs
/// discovery so the Import Groups page is ready.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Debug))]
pub async fn xero_wait(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
) -> CmdResult<ConnectResult> {
    let completion = xero
        .connector
        .wait(Duration::from_secs(CALLBACK_WAIT_SECS))
        .await?;
    after_completion(&state, &xero, completion).await
}

/// Finishes a consent that covers several practices, or confirms switching practice.
#[tauri::command]
#[tracing::instrument(skip(state, xero), err(level = "warn", Debug))]
pub async fn xero_choose_tenant(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    tenant_id: String,
    confirm_switch: bool,
) -> CmdResult<ConnectResult> {
    let completion = xero
        .connector
        .choose_tenant(&tenant_id, confirm_switch)
        .await?;
    after_completion(&state, &xero, completion).await
}

async fn after_completion(
    state: &AppState,
    xero: &XeroState,
    completion: Completion,
) -> CmdResult<ConnectResult> {
    let mut result = ConnectResult {
        completion,
        discovered: None,
        discovery_error: None,
    };
    if matches!(result.completion, Completion::Connected { .. }) {
        match refresh_catalog(state, xero).await {
            Ok(catalog) => result.discovered = Some(catalog.rows.len() as u32),
            Err(e) => result.discovery_error = Some(e.message),
        }
    }
    Ok(result)
}

/// Abandons the pending attempt (the user closed the browser, say).
#[tauri::command]
pub async fn xero_cancel(xero: State<'_, XeroState>) -> CmdResult<()> {
    xero.connector.cancel().await;
    Ok(())
}

/// *Test Organisation API*.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Debug))]
pub async fn xero_test(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
) -> CmdResult<TestOutcome> {
    let (ctx, session) = context(&state).await?;
    Ok(xero.connector.test(&ctx, &session).await?)
}

/// *Disconnect*: revoke at Xero, forget the tokens, keep every group, link and mapping.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Debug))]
pub async fn xero_disconnect(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
) -> CmdResult<DisconnectOutcome> {
    let (ctx, session) = context(&state).await?;
    Ok(xero.connector.disconnect(&ctx, &session).await?)
}

/// The Xero settings (client id, ports, base URLs, scopes); no secrets exist among them.
#[tauri::command]
pub async fn xero_settings(xero: State<'_, XeroState>) -> CmdResult<XeroSettings> {
    Ok(xero.connector.settings())
}

/// Saves the Xero settings and rebuilds the client with them.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Debug))]
pub async fn xero_save_settings(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    settings: XeroSettings,
) -> CmdResult<XeroSettings> {
    settings.validate()?;
    xero::save_settings(&state.db, &settings).await?;
    xero.connector.set_settings(settings).await?;
    Ok(xero.connector.settings())
}

/// The cached XPM group catalog (no XPM call).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_catalog(state: State<'_, AppState>, filter: CatalogFilter) -> CmdResult<Catalog> {
    Ok(discovery::catalog(&state.db, state.org().await?, &filter).await?)
}

async fn refresh_catalog(state: &AppState, xero: &XeroState) -> CmdResult<Catalog> {
    let (ctx, client, session) = xpm_session(state, xero).await?;
    Ok(discovery::refresh(&state.db, ctx.org, &client, &session, Utc::now()).await?)
}

/// *Refresh*: re-reads the practice's client groups from XPM.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "warn", Debug))]
pub async fn xpm_refresh_catalog(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
) -> CmdResult<Catalog> {
    refresh_catalog(&state, &xero).await
}

/// Calls and time the first pull of the selected groups would take.
#[tauri::command]
pub fn xpm_estimate(groups: u32, avg_clients: u32) -> ImportEstimate {
    links::estimate(groups, avg_clients)
}

/// *Link*: a new StructureGram group named after the XPM group, linked to it.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_link_new(state: State<'_, AppState>, xpm_uuid: String) -> CmdResult<GroupLink> {
    let (ctx, session) = context(&state).await?;
    structuregram_core::gate::require_integration_session(&state.db, &session).await?;
    Ok(links::link_new(&state.db, ctx.org, &xpm_uuid, Utc::now()).await?)
}

/// *Link to Existing*.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_link_existing(
    state: State<'_, AppState>,
    xpm_uuid: String,
    group_id: i32,
) -> CmdResult<GroupLink> {
    let (ctx, session) = context(&state).await?;
    structuregram_core::gate::require_integration_session(&state.db, &session).await?;
    Ok(links::link_existing(&state.db, ctx.org, &xpm_uuid, group_id, Utc::now()).await?)
}

/// *Unlink*: removes the link only; the group, its entities and their XPM mappings stay.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_unlink(state: State<'_, AppState>, group_id: i32) -> CmdResult<()> {
    let (ctx, session) = context(&state).await?;
    structuregram_core::gate::require_integration_session(&state.db, &session).await?;
    Ok(links::unlink(&state.db, ctx.org, group_id, Utc::now()).await?)
}

/// The group's link (its XPM tab), if any.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_group_link(
    state: State<'_, AppState>,
    group_id: i32,
) -> CmdResult<Option<GroupLink>> {
    Ok(links::link_of(&state.db, state.org().await?, group_id).await?)
}

/// Routes a `structuregram://oauth/callback?…` deep link to the pending attempt, exactly as the
/// loopback listener does; other deep links only focus the window.
pub fn handle_deep_link(connector: Connector, url: String) {
    if !url.starts_with(&format!("{}://oauth/callback", crate::SCHEME)) {
        return;
    }
    tauri::async_runtime::spawn(async move {
        // The UI's `xero_wait` receives the outcome; a failure here is logged for support.
        if let Err(e) = connector.complete_authorization(&url).await {
            tracing::warn!(error = %e, "deep-link callback refused");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use chrono::{DateTime, TimeZone};
    use structuregram_core::secrets::{MemorySecretStore, Secret, SecretStore};
    use structuregram_core::{accounts, db, gate, mfa};

    /// RFC 6238 appendix B's SHA-1 key; it gives 287082 at T = 59 s.
    const TOTP_KEY: &[u8] = b"12345678901234567890";
    /// An https forwarder page registered with the simulator's default app.
    const FORWARDER: &str = "https://structuregram.example/oauth/callback";

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// The OS hands the app `structuregram://oauth/callback?code=…&state=…` (from the https
    /// forwarder page); the app's deep-link handler completes the pending attempt with it.
    #[tokio::test]
    async fn the_deep_link_handler_completes_a_pending_connection() {
        let sim = xpm_sim::start(xpm_sim::SimConfig::for_tests())
            .await
            .unwrap();
        let db = db::open_in_memory().await.unwrap();
        let org = db::ensure_organisation(&db, "Harbour Accountants", at(0))
            .await
            .unwrap();
        let store = Arc::new(MemorySecretStore::new());
        let user =
            accounts::create_user(&db, "ana", &Secret::new("correct horse"), Some(org), at(0))
                .await
                .unwrap();
        store
            .put(
                mfa::PENDING_TOTP_SECRET,
                &Secret::new(totp_rs::Secret::from(TOTP_KEY.to_vec()).to_base32()),
            )
            .unwrap();
        mfa::confirm(&db, &*store, user.id, "287082", at(59))
            .await
            .unwrap();
        let mut session = gate::Session::new(user.id);
        let code = mfa::totp(TOTP_KEY, "ana")
            .unwrap()
            .generate(120)
            .to_string();
        gate::verify_session(&db, &*store, &mut session, &code, at(120))
            .await
            .unwrap();

        let mut settings = XeroSettings::with_base(xpm_sim::DEFAULT_CLIENT_ID, &sim.urls.base);
        settings.https_redirect_uri = Some(FORWARDER.into());
        let admin = sim.admin.clone();
        let connector = Connector::with_clock(settings, Arc::new(move || admin.now())).unwrap();
        let ctx = XeroContext {
            db: db.clone(),
            secrets: store.clone(),
            org,
            user: user.id,
        };
        let attempt = connector.begin(ctx, &session).await.unwrap();
        let answer = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(&attempt.authorize_url)
            .send()
            .await
            .unwrap();
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        let query = location
            .strip_prefix(&format!("{FORWARDER}?"))
            .expect("the simulator answers the registered forwarder page");

        // Other structuregram:// links only focus the window; the callback completes.
        handle_deep_link(connector.clone(), "structuregram://open".into());
        handle_deep_link(
            connector.clone(),
            format!("structuregram://oauth/callback?{query}"),
        );
        let done = connector.wait(Duration::from_secs(10)).await.unwrap();
        assert!(
            matches!(&done, Completion::Connected { tenant } if !tenant.tenant_name.is_empty()),
            "{done:?}"
        );
        assert!(
            matches!(
                connector.status(&db, org).await.unwrap(),
                ConnectionStatus::Connected { .. }
            ),
            "the organisation is connected"
        );
    }
}
