//! Client settings: where Xero lives, how long to wait, and how hard to push the limits.
//!
//! Owns the defaults (Xero's real URLs, the reference's rate-limit policy with head-room) and
//! lets tests and the demo point every URL at the simulator. It does not hold tokens or
//! tenant state; those belong to the caller and to [`crate::XpmClient`]'s limiters.

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};

/// Xero's authorize endpoint.
pub const XERO_AUTHORIZE_URL: &str = "https://login.xero.com/identity/connect/authorize";
/// Xero's token endpoint (code exchange and refresh).
pub const XERO_TOKEN_URL: &str = "https://identity.xero.com/connect/token";
/// Xero's revocation endpoint.
pub const XERO_REVOCATION_URL: &str = "https://identity.xero.com/connect/revocation";
/// Xero's connections endpoint (tenants).
pub const XERO_CONNECTIONS_URL: &str = "https://api.xero.com/connections";
/// XPM 3.1's base URL (with the trailing slash).
pub const XPM_API_BASE_URL: &str = "https://api.xero.com/practicemanager/3.1/";

/// Everything [`crate::XpmClient::new`] needs. Build with [`Settings::new`] and adjust the pub
/// fields (or [`Settings::with_urls`] to point at a simulator).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The app's OAuth client id (PKCE app: there is no secret).
    pub client_id: String,
    /// The registered redirect URI, e.g. `http://localhost:53682/callback`.
    pub redirect_uri: String,
    /// Authorize (login) URL.
    pub authorize_url: String,
    /// Token URL (code exchange and refresh).
    pub token_url: String,
    /// Revocation URL.
    pub revocation_url: String,
    /// Connections URL (`GET` lists tenants).
    pub connections_url: String,
    /// XPM API base, ending in `/`.
    pub api_base_url: String,
    /// `User-Agent` on every request.
    pub user_agent: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout for ordinary calls and identity calls.
    pub request_timeout: Duration,
    /// Whole-request timeout for `client.api/list` (a detailed list of 15,000 clients can take
    /// minutes and 50 MB).
    pub list_timeout: Duration,
    /// Rate-limit policy per tenant.
    pub limits: LimitSettings,
    /// Retry policy for reads.
    pub retry: RetrySettings,
}

/// Per-tenant rate-limit policy. Defaults keep head-room under Xero's 5 in flight, 60 a minute
/// and 5,000 a day.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Calls in flight at once (Xero allows 5).
    pub max_in_flight: usize,
    /// Steady calls a minute. With `burst`, at most `burst + per_minute` calls fit in any
    /// 60-second window, so keep the sum ≤ 60 (default 50 + 10).
    pub per_minute: u32,
    /// Calls allowed back to back before pacing starts.
    pub burst: u32,
    /// Calls a day (5,000; 1,000 on Xero's Starter tier). Counted per UTC day.
    pub per_day: u32,
    /// When `X-MinLimit-Remaining` drops to this or lower, pause the tenant (see
    /// [`crate::limiter`]).
    pub min_remaining_low_water: u32,
    /// The longest a call waits on its own for a Retry-After pause before failing with
    /// [`Error::RateLimited`] instead.
    pub max_wait: Duration,
    /// Xero seconds per local second: `1.0` against Xero. A simulator whose clock runs faster
    /// (xpm-sim's `time_scale`) sets the same factor here, so pacing, `Retry-After` pauses and
    /// `max_wait` (all in Xero's seconds) shrink to match. Values ≤ 0 count as `1.0`.
    pub time_scale: f64,
}

impl LimitSettings {
    /// A Xero duration in local time (divided by [`LimitSettings::time_scale`]).
    pub fn local(&self, xero: Duration) -> Duration {
        xero.div_f64(self.scale())
    }

    /// A local duration in Xero's time (multiplied by [`LimitSettings::time_scale`]).
    pub fn xero(&self, local: Duration) -> Duration {
        local.mul_f64(self.scale())
    }

    fn scale(&self) -> f64 {
        if self.time_scale.is_finite() && self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        }
    }
}

/// Backoff for retried reads (and writes refused before processing, i.e. 429).
#[derive(Debug, Clone)]
pub struct RetrySettings {
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// First backoff delay.
    pub min_delay: Duration,
    /// Largest backoff delay.
    pub max_delay: Duration,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            max_in_flight: 5,
            per_minute: 50,
            burst: 10,
            per_day: 5_000,
            min_remaining_low_water: 2,
            max_wait: Duration::from_secs(65),
            time_scale: 1.0,
        }
    }
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_retries: 3,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl Settings {
    /// Settings for Xero's real endpoints.
    pub fn new(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        Settings {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            authorize_url: XERO_AUTHORIZE_URL.into(),
            token_url: XERO_TOKEN_URL.into(),
            revocation_url: XERO_REVOCATION_URL.into(),
            connections_url: XERO_CONNECTIONS_URL.into(),
            api_base_url: XPM_API_BASE_URL.into(),
            user_agent: concat!("StructureGram-Desktop/", env!("CARGO_PKG_VERSION")).into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            list_timeout: Duration::from_secs(600),
            limits: LimitSettings::default(),
            retry: RetrySettings::default(),
        }
    }

    /// Points every endpoint at other hosts (a simulator or mock): `login` serves
    /// `/identity/connect/authorize`, `identity` serves `/connect/token` and
    /// `/connect/revocation`, and `api` serves `/connections` and `/practicemanager/3.1/`,
    /// mirroring Xero's layout. Trailing slashes on the bases are ignored.
    pub fn with_urls(mut self, login: &str, identity: &str, api: &str) -> Self {
        let (login, identity, api) = (
            login.trim_end_matches('/'),
            identity.trim_end_matches('/'),
            api.trim_end_matches('/'),
        );
        self.authorize_url = format!("{login}/identity/connect/authorize");
        self.token_url = format!("{identity}/connect/token");
        self.revocation_url = format!("{identity}/connect/revocation");
        self.connections_url = format!("{api}/connections");
        self.api_base_url = format!("{api}/practicemanager/3.1/");
        self
    }

    pub(crate) fn api_base(&self) -> Result<Url> {
        let mut base = self.api_base_url.clone();
        if !base.ends_with('/') {
            base.push('/');
        }
        Url::parse(&base).map_err(|e| Error::invalid(format!("api_base_url {base:?}: {e}")))
    }
}
