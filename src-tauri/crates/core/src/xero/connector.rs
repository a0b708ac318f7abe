//! [`Connector`]: the per-process owner of the shared XPM client, the pending sign-in attempt
//! and the per-organisation refresh locks. See the module docs of [`crate::xero`] for the flow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, IntoActiveModel, Set, TransactionTrait};
use tokio::sync::watch;

use super::loopback::{self, Listener};
use super::tokens::{self, StoredTokens};
use super::{
    connection_row, Attempt, Completion, ConnectionStatus, DisconnectOutcome, LinkState, Tenant,
    TestOutcome, XeroError, XeroSettings, ATTEMPT_TTL_MINUTES, REFRESH_AHEAD_SECS, TEST_CHECKS,
};
use crate::accounts::UserId;
use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::gate;
use crate::schema::xpm_connection;
use crate::secrets::SecretStore;

/// Where the connector reads the time: `Utc::now` in the app; the simulator's clock in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What an integration action needs besides the connector: the database, the signed-in
/// user's vault, the organisation and the user.
#[derive(Clone)]
pub struct XeroContext {
    /// The database.
    pub db: DatabaseConnection,
    /// The signed-in user's vault (the tokens are kept there).
    pub secrets: Arc<dyn SecretStore>,
    /// The organisation whose connection this is.
    pub org: OrgId,
    /// The signed-in user.
    pub user: UserId,
}

impl std::fmt::Debug for XeroContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XeroContext")
            .field("org", &self.org)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

type Outcome = Option<std::result::Result<Completion, XeroError>>;

/// The newest sign-in attempt.
struct Pending {
    id: u64,
    state: xpm::CsrfToken,
    verifier: xpm::PkceCodeVerifier,
    client: xpm::XpmClient,
    ctx: XeroContext,
    expires_at: DateTime<Utc>,
    outcome: watch::Sender<Outcome>,
    listener: Option<Listener>,
}

/// Tokens from a consent, waiting for the user to choose (or confirm) the tenant.
struct Choice {
    ctx: XeroContext,
    tokens: StoredTokens,
    tenants: Vec<Tenant>,
    expires_at: DateTime<Utc>,
    outcome: watch::Sender<Outcome>,
}

struct Inner {
    clock: Clock,
    settings: Mutex<XeroSettings>,
    client: Mutex<xpm::XpmClient>,
    pending: Mutex<Option<Pending>>,
    choice: Mutex<Option<Choice>>,
    /// The receiver of the newest attempt's outcome (kept after the attempt ends, for `wait`).
    latest: Mutex<Option<(u64, watch::Receiver<Outcome>)>>,
    refresh_locks: Mutex<HashMap<OrgId, Arc<tokio::sync::Mutex<()>>>>,
    next_id: AtomicU64,
}

/// The Xero connection service: one per app process, cheap to clone (clones share
/// everything). Holds the shared [`xpm::XpmClient`] (one HTTP connection pool and one rate
/// limiter per tenant for the whole app), the pending attempt, and a refresh lock per
/// organisation.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section only swaps whole values, so a poisoned lock holds consistent data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A failure while connecting: the user sees "Failed to complete connection"; the log gets why.
fn failed(stage: &str, e: &dyn std::fmt::Display) -> XeroError {
    tracing::error!(stage, error = %e, "Xero connection failed");
    XeroError::ConnectionFailed
}

/// Errors of a refresh worth retrying with the same refresh token: the response was lost, so
/// Xero may have rotated it already (it accepts the old one for 30 minutes, reference §5.5).
fn lost_response(e: &xpm::Error) -> bool {
    matches!(
        e,
        xpm::Error::Timeout | xpm::Error::Transport(_) | xpm::Error::Server { .. }
    )
}

impl Connector {
    /// A connector reading the system clock.
    ///
    /// # Errors
    /// [`Error::Validation`] if the settings' URLs are unusable.
    pub fn new(settings: XeroSettings) -> Result<Self> {
        Self::with_clock(settings, Arc::new(Utc::now))
    }

    /// A connector reading `clock` (tests pass the simulator's clock).
    ///
    /// # Errors
    /// [`Error::Validation`] if the settings' URLs are unusable.
    pub fn with_clock(settings: XeroSettings, clock: Clock) -> Result<Self> {
        let client = build_client(&settings, &settings.default_redirect_uri())?;
        Ok(Self {
            inner: Arc::new(Inner {
                clock,
                settings: Mutex::new(settings),
                client: Mutex::new(client),
                pending: Mutex::new(None),
                choice: Mutex::new(None),
                latest: Mutex::new(None),
                refresh_locks: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            }),
        })
    }

    fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    /// The settings in use.
    pub fn settings(&self) -> XeroSettings {
        lock(&self.inner.settings).clone()
    }

    /// Uses new settings from now on: rebuilds the shared client (its rate-limit state starts
    /// afresh) and cancels any attempt in progress. Save them with [`super::save_settings`].
    ///
    /// # Errors
    /// As [`XeroSettings::validate`].
    pub async fn set_settings(&self, settings: XeroSettings) -> Result<()> {
        settings.validate()?;
        let client = build_client(&settings, &settings.default_redirect_uri())?;
        self.cancel().await;
        *lock(&self.inner.client) = client;
        *lock(&self.inner.settings) = settings;
        Ok(())
    }

    /// The shared XPM client, for other integration services (discovery, pull, push). Get the
    /// [`xpm::Session`] for each call from [`Connector::session`].
    pub fn client(&self) -> xpm::XpmClient {
        lock(&self.inner.client).clone()
    }

    /// Starts connecting `ctx.org` to Xero: passes the integration gate, makes a fresh PKCE
    /// verifier and `state` (replacing any earlier attempt, whose callback will then be
    /// refused), starts the loopback listener on the first free port of
    /// [`XeroSettings::redirect_ports`] (none when an https forwarder page is set), and returns
    /// the URL to open in the system browser. The attempt expires after
    /// [`ATTEMPT_TTL_MINUTES`] minutes.
    ///
    /// # Errors
    /// [`Error::MfaRequired`] / [`Error::MfaCodeRequired`] from the gate;
    /// [`XeroError::NotConfigured`] without a client id; [`XeroError::NoFreePort`];
    /// [`Error::Db`].
    pub async fn begin(&self, ctx: XeroContext, gate_session: &gate::Session) -> Result<Attempt> {
        gate::require_integration_session(&ctx.db, gate_session).await?;
        if gate_session.user() != ctx.user {
            return Err(Error::Validation(
                "The signed-in user changed; connect again.".to_owned(),
            ));
        }
        let settings = self.settings();
        if settings.client_id.trim().is_empty() {
            return Err(XeroError::NotConfigured.into());
        }
        self.cancel().await;

        let (redirect_uri, bound) = match &settings.https_redirect_uri {
            Some(uri) => (uri.clone(), None),
            None => {
                let (port, listeners) = loopback::bind_first_free(&settings.redirect_ports)
                    .await
                    .ok_or_else(|| XeroError::NoFreePort {
                    ports: settings
                        .redirect_ports
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                (
                    XeroSettings::loopback_redirect_uri(port),
                    Some((port, listeners)),
                )
            }
        };
        let shared = self.client();
        let client = if shared.settings().redirect_uri == redirect_uri {
            shared
        } else {
            // Another port than the first was free: the code exchange must send the same
            // redirect URI as the authorize request, so this attempt gets its own client.
            build_client(&settings, &redirect_uri)?
        };
        let request = client
            .authorize(&settings.scopes())
            .map_err(|e| Error::from(failed("authorize URL", &e)))?;
        let now = self.now();
        let expires_at = now + chrono::Duration::minutes(ATTEMPT_TTL_MINUTES);
        let id = self.inner.next_id.fetch_add(1, Ordering::SeqCst);
        let (outcome, receiver) = watch::channel(None);
        let listener = bound.map(|(port, listeners)| {
            loopback::serve(
                listeners,
                self.clone(),
                port,
                Duration::from_secs(60 * ATTEMPT_TTL_MINUTES.unsigned_abs()),
            )
        });
        *lock(&self.inner.latest) = Some((id, receiver));
        *lock(&self.inner.pending) = Some(Pending {
            id,
            state: request.state,
            verifier: request.pkce_verifier,
            client,
            ctx,
            expires_at,
            outcome,
            listener,
        });
        tracing::info!(%redirect_uri, "Xero connection attempt started");
        Ok(Attempt {
            authorize_url: request.url.to_string(),
            redirect_uri,
            expires_at,
        })
    }

    /// Cancels the attempt in progress and any tenant choice waiting (a waiter gets
    /// [`XeroError::Cancelled`]); stops the loopback listener. Does nothing if there is none.
    pub async fn cancel(&self) {
        let pending = lock(&self.inner.pending).take();
        if let Some(p) = pending {
            let _ = p.outcome.send(Some(Err(XeroError::Cancelled)));
            if let Some(l) = p.listener {
                l.stop().await;
            }
        }
        if let Some(c) = lock(&self.inner.choice).take() {
            let _ = c.outcome.send(Some(Err(XeroError::Cancelled)));
        }
    }

    /// Completes the attempt in progress from the callback URL — the loopback's
    /// `http://localhost:<port>/callback?code=…&state=…` or the deep link
    /// `structuregram://oauth/callback?code=…&state=…` (only the query is read). A callback
    /// whose `state` is not the newest attempt's is refused and leaves that attempt waiting
    /// (RFC 6749 §10.12: the state binds the answer to this attempt); otherwise the attempt ends
    /// whatever the result (a second callback is refused), and [`Connector::wait`] gets the same
    /// result.
    ///
    /// Checks `state` against the newest attempt and its age, maps `error=access_denied`,
    /// exchanges the code, lists this consent's PRACTICEMANAGER tenants, and with one tenant
    /// finishes (tokens into the vault, the `xpm_connection` row, integration-MFA on).
    ///
    /// # Errors
    /// [`XeroError::SecurityValidationFailed`], [`XeroError::AuthorizationDenied`],
    /// [`XeroError::NoOrganizations`], [`XeroError::ConnectionFailed`] (as [`Error::Xero`]).
    pub async fn complete_authorization(&self, url: &str) -> Result<Completion> {
        let params: HashMap<String, String> = match url::Url::parse(url) {
            Ok(u) => u.query_pairs().into_owned().collect(),
            Err(e) => {
                tracing::warn!(error = %e, "callback URL unreadable");
                HashMap::new()
            }
        };
        let pending = {
            let mut slot = lock(&self.inner.pending);
            match slot.as_ref() {
                None => {
                    tracing::warn!("Xero callback with no attempt in progress");
                    return Err(XeroError::SecurityValidationFailed.into());
                }
                // A callback for another attempt (an old browser tab, a stray or forged request
                // to the loopback port) is refused without ending the attempt in progress:
                // otherwise any page could cancel the user's sign-in by requesting the port.
                Some(p) if params.get("state").map(String::as_str) != Some(p.state.secret()) => {
                    tracing::warn!(
                        present = params.contains_key("state"),
                        "Xero callback state does not match the newest attempt; the attempt goes on"
                    );
                    return Err(XeroError::SecurityValidationFailed.into());
                }
                Some(_) => slot.take(),
            }
        };
        let Some(pending) = pending else {
            return Err(XeroError::SecurityValidationFailed.into());
        };
        let Pending {
            id: _,
            state,
            verifier,
            client,
            ctx,
            expires_at,
            outcome,
            listener,
        } = pending;
        let result = self
            .complete_inner(
                &params, &state, verifier, &client, ctx, expires_at, &outcome,
            )
            .await;
        let _ = outcome.send(Some(result.clone()));
        if let Some(l) = listener {
            // Stopping waits for in-flight requests, and this may run inside the listener's own
            // handler: signal it without waiting.
            tokio::spawn(l.stop());
        }
        result.map_err(Error::from)
    }

    #[allow(clippy::too_many_arguments)]
    async fn complete_inner(
        &self,
        params: &HashMap<String, String>,
        state: &xpm::CsrfToken,
        verifier: xpm::PkceCodeVerifier,
        client: &xpm::XpmClient,
        ctx: XeroContext,
        expires_at: DateTime<Utc>,
        outcome: &watch::Sender<Outcome>,
    ) -> std::result::Result<Completion, XeroError> {
        match params.get("state") {
            Some(s) if s == state.secret() => {}
            other => {
                tracing::warn!(
                    present = other.is_some(),
                    "Xero callback state does not match the newest attempt"
                );
                return Err(XeroError::SecurityValidationFailed);
            }
        }
        if self.now() > expires_at {
            tracing::warn!("Xero callback came after the attempt expired");
            return Err(XeroError::SecurityValidationFailed);
        }
        if let Some(error) = params.get("error") {
            if error == "access_denied" {
                return Err(XeroError::AuthorizationDenied);
            }
            let description = params.get("error_description").cloned().unwrap_or_default();
            return Err(failed("authorize", &format!("{error}: {description}")));
        }
        let Some(code) = params.get("code").filter(|c| !c.is_empty()) else {
            return Err(failed("authorize", &"callback without code"));
        };
        let received = self.now();
        let set = client
            .exchange_code(code, verifier)
            .await
            .map_err(|e| failed("code exchange", &e))?;
        let tenants: Vec<Tenant> = client
            .connections(&set.access_token)
            .await
            .map_err(|e| failed("connections", &e))?
            .into_iter()
            .map(|c| Tenant {
                tenant_id: c.tenant_id.as_str().to_owned(),
                tenant_name: c.tenant_name,
            })
            .collect();
        let Some(first) = tenants.first().cloned() else {
            return Err(XeroError::NoOrganizations);
        };
        let choice = Choice {
            ctx,
            tokens: stored_tokens(&set, &first.tenant_id, received, None),
            tenants,
            expires_at: self.now() + chrono::Duration::minutes(ATTEMPT_TTL_MINUTES),
            outcome: outcome.clone(),
        };
        if choice.tenants.len() > 1 {
            let tenants = choice.tenants.clone();
            *lock(&self.inner.choice) = Some(choice);
            return Ok(Completion::ChooseTenant { tenants });
        }
        self.finish(choice, first, false).await
    }

    /// Finishes a connection that asked to choose (or confirm) the practice.
    ///
    /// # Errors
    /// [`XeroError::NoAttempt`] if nothing is waiting; [`XeroError::SecurityValidationFailed`]
    /// if the choice is older than 10 minutes; [`Error::Validation`] if `tenant_id` is not one
    /// of those offered (the choice stays open); [`XeroError::ConnectionFailed`].
    pub async fn choose_tenant(&self, tenant_id: &str, confirm_switch: bool) -> Result<Completion> {
        let Some(choice) = lock(&self.inner.choice).take() else {
            return Err(XeroError::NoAttempt.into());
        };
        if self.now() > choice.expires_at {
            let _ = choice
                .outcome
                .send(Some(Err(XeroError::SecurityValidationFailed)));
            return Err(XeroError::SecurityValidationFailed.into());
        }
        let Some(tenant) = choice
            .tenants
            .iter()
            .find(|t| t.tenant_id.eq_ignore_ascii_case(tenant_id))
            .cloned()
        else {
            *lock(&self.inner.choice) = Some(choice);
            return Err(Error::Validation(
                "Choose one of the practices listed.".to_owned(),
            ));
        };
        let outcome = choice.outcome.clone();
        let result = self.finish(choice, tenant, confirm_switch).await;
        let _ = outcome.send(Some(result.clone()));
        result.map_err(Error::from)
    }

    /// Stores the connection, unless it switches practice without confirmation.
    async fn finish(
        &self,
        mut choice: Choice,
        tenant: Tenant,
        confirm_switch: bool,
    ) -> std::result::Result<Completion, XeroError> {
        let ctx = choice.ctx.clone();
        let existing = connection_row(&ctx.db, ctx.org)
            .await
            .map_err(|e| failed("read connection", &e))?;
        if let Some(row) = &existing {
            if !row.tenant_id.eq_ignore_ascii_case(&tenant.tenant_id) && !confirm_switch {
                let previous = Tenant {
                    tenant_id: row.tenant_id.clone(),
                    tenant_name: row.tenant_name.clone(),
                };
                choice.tenants = vec![tenant.clone()];
                *lock(&self.inner.choice) = Some(choice);
                return Ok(Completion::ConfirmSwitch {
                    previous,
                    chosen: tenant,
                });
            }
        }
        choice.tokens.tenant_id = tenant.tenant_id.clone();
        // Tokens first: if the database write then fails, a retry overwrites them.
        tokens::save(&*ctx.secrets, ctx.org, &choice.tokens)
            .map_err(|e| failed("store tokens", &e))?;
        let now = self.now();
        write_connected(&ctx, existing, &tenant, now)
            .await
            .map_err(|e| failed("store connection", &e))?;
        tracing::info!(tenant = %tenant.tenant_name, "connected to Xero Practice Manager");
        Ok(Completion::Connected { tenant })
    }

    /// Waits for the newest attempt's outcome (from the loopback or the deep link). If nothing
    /// comes within `timeout`, cancels the attempt.
    ///
    /// # Errors
    /// The attempt's error; [`XeroError::TimedOut`] after `timeout`; [`XeroError::NoAttempt`]
    /// if no attempt was started.
    pub async fn wait(&self, timeout: Duration) -> Result<Completion> {
        let Some((id, mut rx)) = lock(&self.inner.latest).clone() else {
            return Err(XeroError::NoAttempt.into());
        };
        let waited = tokio::time::timeout(timeout, async {
            let seen = rx.wait_for(Option::is_some).await.map(|v| v.clone());
            match seen {
                Ok(v) => v,
                Err(_) => rx.borrow().clone(),
            }
        })
        .await;
        match waited {
            Ok(Some(result)) => result.map_err(Error::from),
            Ok(None) => Err(XeroError::Cancelled.into()),
            Err(_) => {
                let still_newest = lock(&self.inner.pending)
                    .as_ref()
                    .is_some_and(|p| p.id == id);
                if still_newest {
                    self.cancel().await;
                }
                Err(XeroError::TimedOut {
                    minutes: (timeout.as_secs() / 60).max(1),
                }
                .into())
            }
        }
    }

    fn refresh_lock(&self, org: OrgId) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.inner.refresh_locks)
            .entry(org)
            .or_default()
            .clone()
    }

    /// A valid access token and tenant for `ctx.org`'s XPM calls. Refreshes when fewer than
    /// [`REFRESH_AHEAD_SECS`] seconds are left, under the organisation's lock (however many
    /// callers ask, one refresh), storing the new pair before returning it; a refresh whose
    /// response was lost is retried with the same refresh token (Xero's 30-minute grace,
    /// reference §5.5). Does not check the gate: the integration action that asks (connect,
    /// test, a sync job's start) has.
    ///
    /// # Errors
    /// [`XeroError::NotConnected`]; [`XeroError::ReconnectRequired`] (refresh refused with
    /// `invalid_grant`: the row is marked needs-reconnect, or the tokens are gone);
    /// [`XeroError::ConnectedByAnotherUser`]; [`XeroError::Unavailable`]; [`Error::Vault`].
    pub async fn session(&self, ctx: &XeroContext) -> Result<xpm::Session> {
        self.session_inner(ctx, None).await
    }

    /// Like [`Connector::session`], after XPM refused `stale` with 401: refreshes unless the
    /// stored token already differs from `stale` (another caller refreshed meanwhile).
    ///
    /// # Errors
    /// As [`Connector::session`].
    pub async fn renew_session(
        &self,
        ctx: &XeroContext,
        stale: &xpm::Session,
    ) -> Result<xpm::Session> {
        self.session_inner(ctx, Some(stale.access_token.secret().as_str()))
            .await
    }

    async fn session_inner(&self, ctx: &XeroContext, stale: Option<&str>) -> Result<xpm::Session> {
        let org_lock = self.refresh_lock(ctx.org);
        let _guard = org_lock.lock().await;
        let row = connection_row(&ctx.db, ctx.org)
            .await?
            .ok_or(XeroError::NotConnected)?;
        match row.status {
            LinkState::Connected => {}
            LinkState::Disconnected => return Err(XeroError::NotConnected.into()),
            LinkState::NeedsReconnect => return Err(XeroError::ReconnectRequired.into()),
        }
        let Some(stored) = tokens::load(&*ctx.secrets, ctx.org)? else {
            return Err(
                if row.connected_by_user_id.is_some_and(|u| u != ctx.user.0) {
                    XeroError::ConnectedByAnotherUser
                } else {
                    XeroError::ReconnectRequired
                }
                .into(),
            );
        };
        if !stored.tenant_id.eq_ignore_ascii_case(&row.tenant_id) {
            return Err(XeroError::ReconnectRequired.into());
        }
        let now = self.now();
        let fresh = stored.expires_at > now + chrono::Duration::seconds(REFRESH_AHEAD_SECS);
        let refused = stale == Some(stored.access_token.as_str());
        if fresh && !refused {
            return Ok(session_of(&stored));
        }
        let Some(refresh_token) = stored.refresh_token.clone() else {
            self.mark_needs_reconnect(ctx, row).await;
            return Err(XeroError::ReconnectRequired.into());
        };
        let refresh_token = xpm::RefreshToken::new(refresh_token);
        let client = self.client();
        let result = (|| client.refresh(&refresh_token))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(250))
                    .with_max_delay(Duration::from_secs(4))
                    .with_max_times(3),
            )
            .sleep(tokio::time::sleep)
            .when(lost_response)
            .notify(|e, d| tracing::warn!(error = %e, delay = ?d, "Xero refresh lost; retrying with the same refresh token"))
            .await;
        match result {
            Ok(set) => {
                let renewed = stored_tokens(&set, &stored.tenant_id, now, stored.refresh_token);
                // Persist before use: the old refresh token is spent.
                tokens::save(&*ctx.secrets, ctx.org, &renewed)?;
                let mut active = row.into_active_model();
                active.refresh_token_issued_at = Set(Some(now));
                active.updated_at = Set(now);
                if let Err(e) = active.update(&ctx.db).await {
                    tracing::warn!(error = %e, "could not record the refresh time");
                }
                tracing::debug!("Xero access token refreshed");
                Ok(session_of(&renewed))
            }
            Err(xpm::Error::OAuth { error, description }) if error == "invalid_grant" => {
                tracing::warn!(
                    ?description,
                    "Xero refused the refresh token; reconnect needed"
                );
                self.mark_needs_reconnect(ctx, row).await;
                Err(XeroError::ReconnectRequired.into())
            }
            Err(e) => {
                tracing::error!(error = %e, "Xero token refresh failed");
                Err(XeroError::Unavailable.into())
            }
        }
    }

    async fn mark_needs_reconnect(&self, ctx: &XeroContext, row: xpm_connection::Model) {
        let now = self.now();
        let mut active = row.into_active_model();
        active.status = Set(LinkState::NeedsReconnect);
        active.updated_at = Set(now);
        if let Err(e) = active.update(&ctx.db).await {
            tracing::error!(error = %e, "could not mark the Xero connection as needing reconnect");
        }
    }

    /// The "Test Organisation API" button: passes the gate, then one light read
    /// (`clientgroup.api/list`, reference §2.4), refreshing once if XPM says the token expired.
    ///
    /// # Errors
    /// The gate's errors and [`Connector::session`]'s; a failed call is not an error but
    /// [`TestOutcome::Failed`] with the guide's three checks — or none when Xero could not be
    /// reached at all, where they would mislead (the message says to check the connection).
    pub async fn test(
        &self,
        ctx: &XeroContext,
        gate_session: &gate::Session,
    ) -> Result<TestOutcome> {
        gate::require_integration_session(&ctx.db, gate_session).await?;
        let tenant_name = connection_row(&ctx.db, ctx.org)
            .await?
            .map(|r| r.tenant_name)
            .unwrap_or_default();
        let client = self.client();
        let mut session = self.session(ctx).await?;
        let mut result = client.list_client_groups(&session).await;
        if matches!(result, Err(xpm::Error::Unauthorized { .. })) {
            session = self.renew_session(ctx, &session).await?;
            result = client.list_client_groups(&session).await;
        }
        Ok(match result {
            Ok(groups) => TestOutcome::Success {
                tenant_name,
                client_groups: u32::try_from(groups.len()).unwrap_or(u32::MAX),
            },
            Err(e) => {
                tracing::warn!(error = %e, "Xero test call failed");
                let checks = if matches!(e, xpm::Error::Timeout | xpm::Error::Transport(_)) {
                    Vec::new()
                } else {
                    TEST_CHECKS.iter().map(|s| (*s).to_owned()).collect()
                };
                TestOutcome::Failed {
                    message: describe_call_error(&e),
                    checks,
                }
            }
        })
    }

    /// Disconnects `ctx.org` from Xero: passes the gate, revokes the refresh token at Xero
    /// (best effort: if Xero cannot be reached the local side is still cleared, and the message
    /// says so), deletes the tokens from the vault, clears the connecting user's integration-MFA
    /// flag and marks the row disconnected. Every group, link and mapping is kept, and the
    /// tenant is remembered, so reconnecting to the same practice resumes.
    ///
    /// # Errors
    /// The gate's errors; [`XeroError::NotConnected`] if the organisation never connected;
    /// [`Error::Vault`] / [`Error::Db`].
    pub async fn disconnect(
        &self,
        ctx: &XeroContext,
        gate_session: &gate::Session,
    ) -> Result<DisconnectOutcome> {
        gate::require_integration_session(&ctx.db, gate_session).await?;
        let org_lock = self.refresh_lock(ctx.org);
        let _guard = org_lock.lock().await;
        let row = connection_row(&ctx.db, ctx.org)
            .await?
            .ok_or(XeroError::NotConnected)?;
        let stored = tokens::load(&*ctx.secrets, ctx.org)?;
        // Only the user whose vault holds the tokens can revoke them: another user "disconnecting"
        // would leave the grant alive at Xero while the app showed it gone.
        if stored.is_none()
            && row.status == LinkState::Connected
            && row.connected_by_user_id.is_some_and(|by| by != ctx.user.0)
        {
            return Err(XeroError::ConnectedByAnotherUser.into());
        }
        let revoked_at_xero = match stored.and_then(|t| t.refresh_token) {
            Some(rt) => match self.client().revoke(&xpm::RefreshToken::new(rt)).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "could not revoke at Xero; disconnecting locally");
                    false
                }
            },
            None => false,
        };
        tokens::delete(&*ctx.secrets, ctx.org)?;
        let now = self.now();
        let tenant_name = row.tenant_name.clone();
        let flag_user = row.connected_by_user_id.map(UserId).unwrap_or(ctx.user);
        let txn = ctx.db.begin().await?;
        let mut active = row.into_active_model();
        active.status = Set(LinkState::Disconnected);
        active.disconnected_at = Set(Some(now));
        active.updated_at = Set(now);
        active.update(&txn).await?;
        match gate::set_integration_mfa(&txn, flag_user, false, now).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        txn.commit().await?;
        let message = if revoked_at_xero {
            format!("Disconnected from {tenant_name}. Your groups, links and mappings are kept; reconnect to the same practice to carry on where you left off.")
        } else {
            format!("Disconnected from {tenant_name} on this computer, but Xero could not be told: remove StructureGram under Connected apps in your Xero account settings when you can. Your groups, links and mappings are kept.")
        };
        Ok(DisconnectOutcome {
            revoked_at_xero,
            message,
        })
    }

    /// The organisation's connection status (same as [`super::status`]).
    ///
    /// # Errors
    /// [`Error::Db`].
    pub async fn status(&self, db: &DatabaseConnection, org: OrgId) -> Result<ConnectionStatus> {
        super::status(db, org).await
    }
}

fn build_client(settings: &XeroSettings, redirect_uri: &str) -> Result<xpm::XpmClient> {
    xpm::XpmClient::new(settings.to_xpm_settings_for(redirect_uri)).map_err(|e| {
        Error::Validation(format!(
            "The Xero settings cannot be used ({e}); check the addresses in the Xero settings."
        ))
    })
}

/// Stores a token set with its expiry on the connector's clock: Xero's `expires_in` (kept by
/// `xpm` as an instant on the system clock) counted from when the request was sent.
fn stored_tokens(
    set: &xpm::oauth::TokenSet,
    tenant_id: &str,
    sent_at: DateTime<Utc>,
    previous_refresh: Option<String>,
) -> StoredTokens {
    let lifetime = (set.expires_at - Utc::now()).max(chrono::Duration::zero());
    StoredTokens {
        tenant_id: tenant_id.to_owned(),
        access_token: set.access_token.secret().clone(),
        refresh_token: set
            .refresh_token
            .as_ref()
            .map(|r| r.secret().clone())
            .or(previous_refresh),
        expires_at: sent_at + lifetime,
    }
}

fn session_of(t: &StoredTokens) -> xpm::Session {
    xpm::Session::new(
        xpm::AccessToken::new(t.access_token.clone()),
        xpm::TenantId::new(t.tenant_id.clone()),
    )
}

async fn write_connected(
    ctx: &XeroContext,
    existing: Option<xpm_connection::Model>,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = ctx.db.begin().await?;
    let mut active = match existing {
        Some(row) => row.into_active_model(),
        None => xpm_connection::ActiveModel {
            organisation_id: Set(ctx.org.0),
            ..Default::default()
        },
    };
    active.tenant_id = Set(tenant.tenant_id.clone());
    active.tenant_name = Set(tenant.tenant_name.clone());
    active.status = Set(LinkState::Connected);
    active.connected_at = Set(now);
    active.connected_by_user_id = Set(Some(ctx.user.0));
    active.refresh_token_issued_at = Set(Some(now));
    active.disconnected_at = Set(None);
    active.updated_at = Set(now);
    active.save(&txn).await?;
    gate::set_integration_mfa(&txn, ctx.user, true, now).await?;
    txn.commit().await?;
    Ok(())
}

/// A failed XPM call in words, for the test result.
fn describe_call_error(e: &xpm::Error) -> String {
    match e {
        xpm::Error::Unauthorized { .. } => "Xero did not accept the connection's access token. Reconnect to Xero.".to_owned(),
        xpm::Error::Forbidden { .. } => "XPM refused access to the practice (the practice or the scope is no longer authorised).".to_owned(),
        xpm::Error::RateLimited { .. } => "XPM's rate limit was reached. Try again in a minute.".to_owned(),
        xpm::Error::Api { description } => format!("XPM answered with an error: {description}"),
        xpm::Error::Timeout | xpm::Error::Transport(_) => super::UNREACHABLE_MESSAGE.to_owned(),
        xpm::Error::Server { status } => crate::error::server_trouble(*status),
        other => format!("The test call failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    //! The tenant choice, which the simulator cannot produce (each of its consents covers one
    //! practice): a consent's tokens are staged as `complete_authorization` leaves them.
    use super::*;
    use crate::secrets::MemorySecretStore;

    fn tenant(id: &str, name: &str) -> Tenant {
        Tenant {
            tenant_id: id.into(),
            tenant_name: name.into(),
        }
    }

    async fn staged(connector: &Connector, now: DateTime<Utc>) -> XeroContext {
        let db = crate::db::open_in_memory().await.unwrap();
        let org = crate::db::ensure_organisation(&db, "Harbour", now)
            .await
            .unwrap();
        let user = crate::accounts::create_user(
            &db,
            "ana",
            &crate::secrets::Secret::new("correct horse"),
            Some(org),
            now,
        )
        .await
        .unwrap();
        let ctx = XeroContext {
            db,
            secrets: Arc::new(MemorySecretStore::new()),
            org,
            user: user.id,
        };
        let (outcome, receiver) = watch::channel(None);
        *lock(&connector.inner.latest) = Some((7, receiver));
        *lock(&connector.inner.choice) = Some(Choice {
            ctx: ctx.clone(),
            tokens: StoredTokens {
                tenant_id: "t-north".into(),
                access_token: "access".into(),
                refresh_token: Some("refresh".into()),
                expires_at: now + chrono::Duration::minutes(30),
            },
            tenants: vec![
                tenant("t-north", "North Practice"),
                tenant("t-south", "South Practice"),
            ],
            expires_at: now + chrono::Duration::minutes(ATTEMPT_TTL_MINUTES),
            outcome,
        });
        ctx
    }

    fn fixed_clock(at: DateTime<Utc>) -> Clock {
        Arc::new(move || at)
    }

    #[tokio::test]
    async fn choosing_one_of_several_practices_stores_that_one() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let connector = Connector::with_clock(XeroSettings::default(), fixed_clock(now)).unwrap();
        let ctx = staged(&connector, now).await;
        assert!(
            matches!(
                connector.choose_tenant("t-elsewhere", false).await,
                Err(Error::Validation(_))
            ),
            "a practice that was not offered is refused"
        );
        let done = connector.choose_tenant("t-south", false).await.unwrap();
        assert_eq!(
            done,
            Completion::Connected {
                tenant: tenant("t-south", "South Practice")
            },
            "the choice stayed open after the bad pick; a first connection needs no confirmation"
        );
        assert_eq!(
            connector.wait(Duration::from_secs(1)).await.unwrap(),
            done,
            "a waiter learns the choice's outcome"
        );
        let stored = tokens::load(&*ctx.secrets, ctx.org).unwrap().unwrap();
        assert_eq!(
            stored.tenant_id, "t-south",
            "the tokens are for the chosen tenant"
        );
        assert!(matches!(
            super::super::status(&ctx.db, ctx.org).await.unwrap(),
            ConnectionStatus::Connected { ref tenant_name, .. } if tenant_name == "South Practice"
        ));
        assert!(
            matches!(
                connector.choose_tenant("t-south", false).await,
                Err(Error::Xero(XeroError::NoAttempt))
            ),
            "a choice is used once"
        );
    }

    #[tokio::test]
    async fn a_choice_older_than_ten_minutes_is_refused() {
        let start = DateTime::parse_from_rfc3339("2026-11-30T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let later =
            start + chrono::Duration::minutes(ATTEMPT_TTL_MINUTES) + chrono::Duration::seconds(1);
        let connector = Connector::with_clock(XeroSettings::default(), fixed_clock(later)).unwrap();
        let ctx = staged(&connector, start).await;
        assert!(matches!(
            connector.choose_tenant("t-north", false).await,
            Err(Error::Xero(XeroError::SecurityValidationFailed))
        ));
        assert!(
            tokens::load(&*ctx.secrets, ctx.org).unwrap().is_none(),
            "nothing stored"
        );
    }
}
