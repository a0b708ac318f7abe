//! Shared simulator state: settings (every knob), identity records (apps, users, tenants,
//! codes, grants, tokens, connections), practice data, rate-limit windows, queued faults and
//! counters. One [`Sim`] is shared by the HTTP handlers and the Rust admin handle.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::SimClock;
use crate::model::Practice;

/// Every tunable rule. Defaults are the reference's values; where the reference says
/// UNCONFIRMED the default is the more demanding behaviour (see README).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Concurrent calls in progress per tenant (reference §4: 5).
    pub concurrent_limit: u32,
    /// Calls per fixed minute window per tenant (§4: 60).
    pub minute_limit: u32,
    /// Calls per fixed day window per tenant (§4: 5,000; 1,000 on Starter).
    pub day_limit: u32,
    /// Calls per fixed minute window for the whole app (§4: 10,000).
    pub app_minute_limit: u32,
    /// `Retry-After` seconds on a concurrent-limit 429 (§4 UNCONFIRMED; default none).
    pub concurrent_retry_after: Option<u64>,
    /// Access-token lifetime in seconds (§5.5: 1800).
    pub access_token_secs: i64,
    /// Authorization-code lifetime in seconds (§5.2 UNCONFIRMED "30 seconds").
    pub code_secs: i64,
    /// Refresh token expires after this many days unused (§5.5: 60).
    pub refresh_token_days: i64,
    /// Grace period, seconds, to retry a rotated refresh token (§5.5: 30 minutes).
    pub refresh_grace_secs: i64,
    /// Accept `http://localhost` redirect URIs on any port (§5.3 UNCONFIRMED; default false).
    pub localhost_any_port: bool,
    /// Treat `http://127.0.0.1` like `http://localhost` (§5.3 UNCONFIRMED; default false).
    pub allow_loopback_ip: bool,
    /// Deny redirects back with `error=access_denied` (§5.7 UNCONFIRMED; default true as issue 3
    /// asks); when false the deny shows a page and never calls back.
    pub deny_redirects: bool,
    /// Revocation requires `client_id` in the body (§5.5 UNCONFIRMED; default true).
    pub revocation_requires_client_id: bool,
    /// Connect the user's ORGANISATION tenants too on consent (so `/connections` mixes types).
    pub connect_organisations: bool,
    /// Each side of a relationship has its own UUID (§2.2 UNCONFIRMED; default true).
    pub relationship_uuid_per_side: bool,
    /// Reject relationship types that do not fit the client's structure (§2.2 UNCONFIRMED).
    pub strict_relationship_types: bool,
    /// Reject non-zero NumberOfShares (other than Shareholder/Owner) and Percentage (other
    /// than Partner) (§2.2 UNCONFIRMED; default true).
    pub reject_inapplicable_shares: bool,
    /// `client.api/update` clears optional elements left out of the body, except
    /// `TaxNumber` (§7 item 1 UNCONFIRMED; default true).
    pub update_clears_omitted: bool,
    /// `client.api/list` includes archived clients (§7 item 9 UNCONFIRMED; default false).
    pub list_includes_archived: bool,
    /// Archived clients drop out of group member lists and client Groups (§2.3 UNCONFIRMED).
    pub archived_drop_from_groups: bool,
    /// Relationship and group changes bump the client's modified time (§6 UNCONFIRMED;
    /// default false).
    pub modified_on_relationship_change: bool,
    /// Require `Content-Type: application/xml` on POST/PUT even without the
    /// `Xero-Features: practice-strict-content-type` header (§1.2; default false).
    pub strict_content_type: bool,
    /// `/connections` counts against the app-wide minute limit (§7 item 10 UNCONFIRMED).
    pub connections_count_app_limit: bool,
    /// `/connections` returns its entries in a random order on every call (§5.6 "the order is
    /// not stable"; default true).
    pub shuffle_connections: bool,
    /// Leave `X-AppMinLimit-Remaining` off `client.api/add` responses, as in the recorded
    /// traffic (§4 "not guaranteed on every response"; default true).
    pub omit_app_header_on_add: bool,
    /// A new consent's token carries the union of the scopes of the user's earlier,
    /// unrevoked consents to the app (§5.4 "Scopes add up across consents"; default true).
    pub accumulate_scopes: bool,
    /// Request `DateOfBirth` must be exactly `yyyy-MM-dd` (§3 UNCONFIRMED request format;
    /// default true). When false, `yyyy-MM-ddTHH:mm:ss` is accepted too.
    pub strict_request_dates: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrent_limit: 5,
            minute_limit: 60,
            day_limit: 5000,
            app_minute_limit: 10_000,
            concurrent_retry_after: None,
            access_token_secs: 1800,
            code_secs: 30,
            refresh_token_days: 60,
            refresh_grace_secs: 1800,
            localhost_any_port: false,
            allow_loopback_ip: false,
            deny_redirects: true,
            revocation_requires_client_id: true,
            connect_organisations: true,
            relationship_uuid_per_side: true,
            strict_relationship_types: true,
            reject_inapplicable_shares: true,
            update_clears_omitted: true,
            list_includes_archived: false,
            archived_drop_from_groups: true,
            modified_on_relationship_change: false,
            strict_content_type: false,
            connections_count_app_limit: true,
            shuffle_connections: true,
            omit_app_header_on_add: true,
            accumulate_scopes: true,
            strict_request_dates: true,
        }
    }
}

/// A registered OAuth app (Xero "Auth Code with PKCE" app, reference §5.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    /// `client_id`.
    pub client_id: String,
    /// Exact registered redirect URIs (reference §5.3: up to 50, no wildcards).
    pub redirect_uris: Vec<String>,
    /// Scopes the app may request (others fail with `invalid_scope`, §5.4).
    pub allowed_scopes: Vec<String>,
}

/// A tenant (a connection target).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    /// GUID used as `Xero-Tenant-Id`.
    pub tenant_id: String,
    /// `PRACTICEMANAGER` or `ORGANISATION`.
    pub tenant_type: String,
    /// Display name.
    pub tenant_name: String,
}

/// A fixture user who can sign in on the consent page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// `xero_userid` claim (GUID).
    pub user_id: String,
    /// Email (sign-in name).
    pub email: String,
    /// Password accepted by the sign-in form.
    pub password: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Tenant ids this user can connect.
    pub tenants: Vec<String>,
}

/// A pending authorize request (between the consent page's steps).
#[derive(Debug, Clone)]
pub struct PendingAuth {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: Vec<String>,
    pub(crate) state: Option<String>,
    pub(crate) challenge: String,
    pub(crate) nonce: Option<String>,
    pub(crate) user: Option<String>,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct CodeRec {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) challenge: String,
    pub(crate) user_id: String,
    pub(crate) scope: Vec<String>,
    pub(crate) auth_event_id: String,
    pub(crate) nonce: Option<String>,
    pub(crate) expires: DateTime<Utc>,
    pub(crate) used: bool,
}

/// One consent: a user, an app, scopes and the auth event.
#[derive(Debug, Clone)]
pub struct Grant {
    pub(crate) user_id: String,
    pub(crate) client_id: String,
    pub(crate) scope: Vec<String>,
    pub(crate) auth_event_id: String,
    pub(crate) revoked: bool,
}

/// A refresh token's record.
#[derive(Debug, Clone)]
pub struct RefreshRec {
    pub(crate) grant: usize,
    pub(crate) issued: DateTime<Utc>,
    pub(crate) rotated_at: Option<DateTime<Utc>>,
    pub(crate) dead: bool,
}

/// An access token's record (keyed by `jti`).
#[derive(Debug, Clone)]
pub struct AccessRec {
    pub(crate) grant: usize,
    pub(crate) expires: DateTime<Utc>,
    pub(crate) forced_expired: bool,
}

/// A `/connections` entry (reference §5.6).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Connection id (for DELETE only).
    pub id: String,
    /// Auth event that created or last refreshed this connection.
    pub auth_event_id: String,
    /// Tenant id.
    pub tenant_id: String,
    /// `PRACTICEMANAGER` or `ORGANISATION`.
    pub tenant_type: String,
    /// Tenant name.
    pub tenant_name: String,
    /// Created, UTC.
    pub created_date_utc: String,
    /// Updated, UTC.
    pub updated_date_utc: String,
    #[serde(skip)]
    pub(crate) user_id: String,
    #[serde(skip)]
    pub(crate) client_id: String,
}

/// Identity side of the world.
#[derive(Debug, Default)]
pub struct Identity {
    pub(crate) apps: HashMap<String, App>,
    pub(crate) users: Vec<User>,
    pub(crate) tenants: BTreeMap<String, Tenant>,
    pub(crate) pending: HashMap<String, PendingAuth>,
    pub(crate) codes: HashMap<String, CodeRec>,
    pub(crate) grants: Vec<Grant>,
    pub(crate) refresh: HashMap<String, RefreshRec>,
    pub(crate) access: HashMap<String, AccessRec>,
    pub(crate) connections: Vec<Connection>,
}

/// Fixed-window counters for one tenant.
#[derive(Debug, Default, Clone)]
pub struct TenantWindows {
    pub(crate) minute_start: Option<DateTime<Utc>>,
    pub(crate) minute_count: u32,
    pub(crate) day_start: Option<DateTime<Utc>>,
    pub(crate) day_count: u32,
    pub(crate) in_flight: u32,
}

/// Rate-limit state.
#[derive(Debug, Default)]
pub struct Limits {
    pub(crate) tenants: HashMap<String, TenantWindows>,
    pub(crate) app_start: Option<DateTime<Utc>>,
    pub(crate) app_count: u32,
}

/// A fault to inject (admin API, issue 3 item 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with HTTP 500 (XML error envelope body) without applying the call.
    Status500,
    /// Answer with HTTP 503 `{"Title":"Unavailable",…}` without applying the call.
    Status503,
    /// Delay the response by `ms` real milliseconds (held inside the concurrency slot).
    Latency {
        /// Delay in real milliseconds.
        ms: u64,
    },
    /// Close the connection without applying the call (the client sees headers, then the
    /// connection dies before the body completes).
    Drop,
    /// Apply the call, then send only the first half of the body (valid HTTP, broken XML).
    Truncate,
    /// Apply the call, then send a body that is not well-formed XML.
    Malformed,
    /// Apply the call, then close the connection so the client never sees the answer.
    LoseResponse,
}

/// A queued fault rule: applies to the next `count` requests whose path contains `path`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultRule {
    /// What to do.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many matching requests it applies to.
    pub count: u32,
    /// Substring of the endpoint key to match (e.g. `client.api/add`, `/connect/token`,
    /// `/connections`); `None` or empty matches every XPM, token and connections request.
    pub path: Option<String>,
}

/// Counters for benchmarks.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Counters {
    /// Requests per endpoint key (`GET client.api/get`, `POST /connect/token`, …).
    pub per_endpoint: BTreeMap<String, u64>,
    /// XPM requests per tenant id (those that passed authentication).
    pub per_tenant: BTreeMap<String, u64>,
    /// 429 responses served.
    pub throttled: u64,
    /// All requests seen (admin excluded).
    pub total: u64,
}

/// The whole simulator.
pub struct Sim {
    pub(crate) settings: Mutex<Settings>,
    pub(crate) clock: SimClock,
    pub(crate) identity: Mutex<Identity>,
    pub(crate) practices: Mutex<HashMap<String, Practice>>,
    pub(crate) limits: Mutex<Limits>,
    pub(crate) faults: Mutex<Vec<FaultRule>>,
    pub(crate) counters: Mutex<Counters>,
    pub(crate) jwt_secret: Vec<u8>,
    pub(crate) auto_approve: Mutex<Option<AutoApprove>>,
    pub(crate) base_url: Mutex<String>,
}

/// Auto-approve: authorize redirects at once as this user and tenant (issue 3 item 1).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct AutoApprove {
    /// Email of the user to sign in as; `None` = the first user.
    pub email: Option<String>,
    /// Tenant to consent to; `None` = the user's first PRACTICEMANAGER tenant.
    pub tenant_id: Option<String>,
}

/// Locks a mutex, ignoring poisoning (a panicking handler must not wedge the simulator).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sim {
    /// A snapshot of the settings.
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Takes one matching fault for `path`, if any is queued.
    pub fn take_fault(&self, path: &str) -> Option<FaultKind> {
        let mut f = lock(&self.faults);
        let i = f.iter().position(|r| {
            r.count > 0
                && r.path
                    .as_deref()
                    .map(|p| p.is_empty() || path.contains(p))
                    .unwrap_or(true)
        })?;
        f[i].count -= 1;
        let k = f[i].kind.clone();
        if f[i].count == 0 {
            f.remove(i);
        }
        Some(k)
    }

    /// Adds one to an endpoint counter.
    pub fn count(&self, endpoint: &str, tenant: Option<&str>) {
        let mut c = lock(&self.counters);
        c.total += 1;
        *c.per_endpoint.entry(endpoint.to_string()).or_default() += 1;
        if let Some(t) = tenant {
            *c.per_tenant.entry(t.to_string()).or_default() += 1;
        }
    }
}

/// A fresh random GUID (lower-case, hyphenated).
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
