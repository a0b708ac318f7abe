//! Control of a running simulator: the Rust [`AdminHandle`] and the same controls over HTTP
//! under `/__admin/` (loopback callers only). Owns fault injection, clock control, setting
//! changes, token revocation/expiry, "as an XPM user would" data edits and counters
//! (issue 3 item 4).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{self, Client, Relationship};
use crate::state::{
    lock, new_uuid, App, AutoApprove, Counters, FaultKind, FaultRule, Settings, Sim, Tenant, User,
};

/// Errors from admin operations.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AdminError {
    /// No practice with that tenant id.
    #[error("unknown tenant {0}")]
    UnknownTenant(String),
    /// No live client with that UUID.
    #[error("unknown client {0}")]
    UnknownClient(String),
    /// No group with that UUID.
    #[error("unknown group {0}")]
    UnknownGroup(String),
    /// No relationship with that UUID.
    #[error("unknown relationship {0}")]
    UnknownRelationship(String),
    /// No app with that client id.
    #[error("unknown app {0}")]
    UnknownApp(String),
    /// A value the simulator cannot accept.
    #[error("invalid: {0}")]
    Invalid(String),
}

/// Summary of one practice for tests and the admin API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PracticeSummary {
    /// Tenant id.
    pub tenant_id: String,
    /// Practice name.
    pub name: String,
    /// Clients not deleted (archived included).
    pub clients: usize,
    /// Archived clients.
    pub archived: usize,
    /// Groups.
    pub groups: usize,
    /// Relationships.
    pub relationships: usize,
    /// Staff.
    pub staff: usize,
}

/// Handle to a running simulator's controls. Cheap to clone; every method is synchronous and
/// takes effect immediately.
#[derive(Clone)]
pub struct AdminHandle {
    pub(crate) sim: Arc<Sim>,
}

impl AdminHandle {
    // ---- clock ----

    /// The simulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim.now()
    }

    /// Moves the simulator clock forward (minute/day windows, token and code expiry follow).
    pub fn advance(&self, by: Duration) {
        self.sim.clock.advance(by);
    }

    /// Sets the clock speed (`1.0` real time, `60.0` = a simulated minute per real second).
    pub fn set_time_scale(&self, scale: f64) {
        self.sim.clock.set_scale(scale);
    }

    // ---- settings ----

    /// A copy of the current settings.
    pub fn settings(&self) -> Settings {
        self.sim.settings()
    }

    /// Changes settings in place, e.g. `admin.update_settings(|s| s.day_limit = 1000)`.
    pub fn update_settings(&self, f: impl FnOnce(&mut Settings)) {
        f(&mut lock(&self.sim.settings));
    }

    /// Forgets all rate-limit windows (counts restart at zero).
    pub fn reset_limits(&self) {
        *lock(&self.sim.limits) = Default::default();
    }

    /// Calls of `tenant` in progress right now (for concurrency tests).
    pub fn in_flight(&self, tenant: &str) -> u32 {
        lock(&self.sim.limits)
            .tenants
            .get(&tenant.to_ascii_lowercase())
            .map(|w| w.in_flight)
            .unwrap_or(0)
    }

    /// Turns auto-approve on (`Some`) or off (`None`; the consent page is shown).
    pub fn set_auto_approve(&self, a: Option<AutoApprove>) {
        *lock(&self.sim.auto_approve) = a;
    }

    // ---- apps, users, tenants ----

    /// Registers (or replaces) an app.
    pub fn add_app(&self, app: App) {
        lock(&self.sim.identity)
            .apps
            .insert(app.client_id.clone(), app);
    }

    /// Adds an exact redirect URI to an app (Xero allows up to 50, reference §5.3).
    pub fn register_redirect_uri(&self, client_id: &str, uri: &str) -> Result<(), AdminError> {
        let mut id = lock(&self.sim.identity);
        let app = id
            .apps
            .get_mut(client_id)
            .ok_or_else(|| AdminError::UnknownApp(client_id.into()))?;
        if app.redirect_uris.len() >= 50 {
            return Err(AdminError::Invalid("at most 50 redirect URIs".into()));
        }
        if !app.redirect_uris.iter().any(|u| u == uri) {
            app.redirect_uris.push(uri.into());
        }
        Ok(())
    }

    /// All users.
    pub fn users(&self) -> Vec<User> {
        lock(&self.sim.identity).users.clone()
    }

    /// All tenants (PRACTICEMANAGER and ORGANISATION).
    pub fn tenants(&self) -> Vec<Tenant> {
        lock(&self.sim.identity).tenants.values().cloned().collect()
    }

    /// Summaries of every practice, sorted by name.
    pub fn practices(&self) -> Vec<PracticeSummary> {
        let ps = lock(&self.sim.practices);
        let mut v: Vec<_> = ps
            .values()
            .map(|p| PracticeSummary {
                tenant_id: p.tenant_id.clone(),
                name: p.name.clone(),
                clients: p.clients.values().filter(|c| !c.deleted).count(),
                archived: p
                    .clients
                    .values()
                    .filter(|c| c.archived && !c.deleted)
                    .count(),
                groups: p.groups.len(),
                relationships: p.relationships.len(),
                staff: p.staff.len(),
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    // ---- tokens ----

    /// Revokes every grant of the user with this email (all apps) and drops their connections,
    /// as if the user disconnected the app in Xero.
    pub fn revoke_user(&self, email: &str) {
        let mut id = lock(&self.sim.identity);
        let Some(uid) = id
            .users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .map(|u| u.user_id.clone())
        else {
            return;
        };
        let apps: Vec<String> = id.apps.keys().cloned().collect();
        for a in apps {
            crate::identity::revoke_user_app(&mut id, &uid, &a);
        }
    }

    /// Revokes every grant and connection of every user.
    pub fn revoke_all(&self) {
        let mut id = lock(&self.sim.identity);
        for g in id.grants.iter_mut() {
            g.revoked = true;
        }
        id.connections.clear();
    }

    /// Makes every access token issued so far expired (next API call → 401 `TokenExpired`);
    /// refresh tokens keep working.
    pub fn expire_access_tokens(&self) {
        for a in lock(&self.sim.identity).access.values_mut() {
            a.forced_expired = true;
        }
    }

    /// Makes every refresh token issued so far unusable (next refresh → `invalid_grant`), as
    /// when a token expired or was revoked elsewhere; connections are kept.
    pub fn expire_refresh_tokens(&self) {
        for r in lock(&self.sim.identity).refresh.values_mut() {
            r.dead = true;
        }
    }

    // ---- faults ----

    /// Queues a fault for the next `count` requests whose path contains `path`
    /// (`None` = any XPM or token request).
    pub fn inject(&self, kind: FaultKind, count: u32, path: Option<&str>) {
        lock(&self.sim.faults).push(FaultRule {
            kind,
            count,
            path: path.map(String::from),
        });
    }

    /// Removes all queued faults.
    pub fn clear_faults(&self) {
        lock(&self.sim.faults).clear();
    }

    /// Faults still queued.
    pub fn faults(&self) -> Vec<FaultRule> {
        lock(&self.sim.faults).clone()
    }

    // ---- counters ----

    /// Request counters (per endpoint key, per tenant, 429s served).
    pub fn counters(&self) -> Counters {
        lock(&self.sim.counters).clone()
    }

    /// Sets all counters to zero.
    pub fn reset_counters(&self) {
        *lock(&self.sim.counters) = Counters::default();
    }

    // ---- data changes "as an XPM user would" ----

    fn with_practice<T>(
        &self,
        tenant: &str,
        f: impl FnOnce(&mut model::Practice, DateTime<Utc>) -> Result<T, AdminError>,
    ) -> Result<T, AdminError> {
        let now = self.sim.now();
        let mut ps = lock(&self.sim.practices);
        let p = ps
            .get_mut(&tenant.to_ascii_lowercase())
            .ok_or_else(|| AdminError::UnknownTenant(tenant.into()))?;
        f(p, now)
    }

    /// Bumps the clients' modified time when relationship/group changes count as
    /// modifications (`modified_on_relationship_change`).
    fn touch(&self, p: &mut model::Practice, ids: &[String], now: DateTime<Utc>) {
        if !self.sim.settings().modified_on_relationship_change {
            return;
        }
        for id in ids {
            if let Some(c) = p.clients.get_mut(id) {
                c.modified = now;
            }
        }
    }

    fn client_mut<'a>(
        p: &'a mut model::Practice,
        uuid: &str,
    ) -> Result<&'a mut Client, AdminError> {
        p.clients
            .get_mut(&uuid.to_ascii_lowercase())
            .filter(|c| !c.deleted)
            .ok_or_else(|| AdminError::UnknownClient(uuid.into()))
    }

    /// Sets a client's `Name`.
    pub fn rename_client(&self, tenant: &str, client: &str, name: &str) -> Result<(), AdminError> {
        self.set_client_field(tenant, client, "Name", Some(name))
    }

    /// Sets (`Some`) or removes (`None`, element absent) a simple client element by its
    /// response name, e.g. `BusinessNumber` (ABN), `TaxNumber` (stored unmasked), `Website`.
    pub fn set_client_field(
        &self,
        tenant: &str,
        client: &str,
        field: &str,
        value: Option<&str>,
    ) -> Result<(), AdminError> {
        if !model::HEAD_FIELDS.contains(&field) && !model::TAIL_FIELDS.contains(&field) {
            return Err(AdminError::Invalid(format!("unknown field {field}")));
        }
        self.with_practice(tenant, |p, now| {
            let c = Self::client_mut(p, client)?;
            match value {
                Some(v) => c.fields.insert(field.into(), v.into()),
                None => c.fields.remove(field),
            };
            c.modified = now;
            Ok(())
        })
    }

    /// The stored (unmasked) value of a simple client element; `None` if absent.
    pub fn client_field(
        &self,
        tenant: &str,
        client: &str,
        field: &str,
    ) -> Result<Option<String>, AdminError> {
        self.with_practice(tenant, |p, _| {
            Ok(Self::client_mut(p, client)?.fields.get(field).cloned())
        })
    }

    /// Archives (or un-archives) a client.
    pub fn set_archived(
        &self,
        tenant: &str,
        client: &str,
        archived: bool,
    ) -> Result<(), AdminError> {
        self.with_practice(tenant, |p, now| {
            let c = Self::client_mut(p, client)?;
            c.archived = archived;
            c.modified = now;
            Ok(())
        })
    }

    /// Adds a client with a name and business structure; returns its UUID.
    pub fn add_client(
        &self,
        tenant: &str,
        name: &str,
        structure: Option<&str>,
    ) -> Result<String, AdminError> {
        self.with_practice(tenant, |p, now| {
            let mut c = Client {
                uuid: new_uuid(),
                modified: now,
                ..Client::default()
            };
            c.fields.insert("Name".into(), name.into());
            if let Some(s) = structure {
                c.fields.insert("BusinessStructure".into(), s.into());
            }
            let id = c.uuid.clone();
            p.clients.insert(id.clone(), c);
            Ok(id)
        })
    }

    /// Adds a relationship (no structure checks: an XPM user may do anything in the UI);
    /// returns the UUID shown on `client`'s record.
    #[allow(clippy::too_many_arguments)]
    pub fn add_relationship(
        &self,
        tenant: &str,
        client: &str,
        related: &str,
        rtype: &str,
        shares: i64,
        percentage: &str,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<String, AdminError> {
        let per_side = self.sim.settings().relationship_uuid_per_side;
        self.with_practice(tenant, |p, now| {
            let (c, r) = (client.to_ascii_lowercase(), related.to_ascii_lowercase());
            Self::client_mut(p, &c)?;
            Self::client_mut(p, &r)?;
            self.touch(p, &[c.clone(), r.clone()], now);
            let uuid = new_uuid();
            p.relationships.push(Relationship {
                uuid: uuid.clone(),
                reverse_uuid: if per_side { new_uuid() } else { uuid.clone() },
                client: c,
                related: r,
                rtype: rtype.into(),
                shares,
                percentage: percentage.into(),
                start,
                end,
            });
            Ok(uuid)
        })
    }

    /// Ends a relationship (sets `EndDate`), found by either side's UUID.
    pub fn end_relationship(
        &self,
        tenant: &str,
        rel: &str,
        end: NaiveDate,
    ) -> Result<(), AdminError> {
        self.with_practice(tenant, |p, now| {
            let i = p
                .relationship_index(&rel.to_ascii_lowercase())
                .ok_or_else(|| AdminError::UnknownRelationship(rel.into()))?;
            p.relationships[i].end = Some(end);
            let ids = [
                p.relationships[i].client.clone(),
                p.relationships[i].related.clone(),
            ];
            self.touch(p, &ids, now);
            Ok(())
        })
    }

    /// Deletes a relationship, found by either side's UUID.
    pub fn delete_relationship(&self, tenant: &str, rel: &str) -> Result<(), AdminError> {
        self.with_practice(tenant, |p, now| {
            let i = p
                .relationship_index(&rel.to_ascii_lowercase())
                .ok_or_else(|| AdminError::UnknownRelationship(rel.into()))?;
            let r = p.relationships.remove(i);
            self.touch(p, &[r.client, r.related], now);
            Ok(())
        })
    }

    /// Moves a client between groups: removed from `from` (if given), added to `to` (if given).
    pub fn move_group_member(
        &self,
        tenant: &str,
        client: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<(), AdminError> {
        self.with_practice(tenant, |p, now| {
            let c = client.to_ascii_lowercase();
            Self::client_mut(p, &c)?;
            self.touch(p, std::slice::from_ref(&c), now);
            for g in [from, to].into_iter().flatten() {
                if !p.groups.contains_key(&g.to_ascii_lowercase()) {
                    return Err(AdminError::UnknownGroup(g.into()));
                }
            }
            if let Some(f) = from {
                if let Some(g) = p.groups.get_mut(&f.to_ascii_lowercase()) {
                    g.members.retain(|m| m != &c);
                }
            }
            if let Some(t) = to {
                if let Some(g) = p.groups.get_mut(&t.to_ascii_lowercase()) {
                    if !g.members.contains(&c) {
                        g.members.push(c.clone());
                    }
                }
            }
            Ok(())
        })
    }

    /// Group UUIDs and names of a practice, sorted by name.
    pub fn groups(&self, tenant: &str) -> Result<Vec<(String, String)>, AdminError> {
        self.with_practice(tenant, |p, _| {
            let mut v: Vec<_> = p
                .groups
                .values()
                .map(|g| (g.uuid.clone(), g.name.clone()))
                .collect();
            v.sort_by(|a, b| a.1.cmp(&b.1));
            Ok(v)
        })
    }

    /// Member UUIDs of a group.
    pub fn group_members(&self, tenant: &str, group: &str) -> Result<Vec<String>, AdminError> {
        self.with_practice(tenant, |p, _| {
            p.groups
                .get(&group.to_ascii_lowercase())
                .map(|g| g.members.clone())
                .ok_or_else(|| AdminError::UnknownGroup(group.into()))
        })
    }

    /// Every live client of a practice (archived ones included), sorted by name, with its simple
    /// elements as stored (`TaxNumber` unmasked): what an XPM user would see on each record.
    pub fn clients(&self, tenant: &str) -> Result<Vec<ClientView>, AdminError> {
        self.with_practice(tenant, |p, _| {
            let mut v: Vec<_> = p
                .clients
                .values()
                .filter(|c| !c.deleted)
                .map(|c| ClientView {
                    uuid: c.uuid.clone(),
                    name: c.name().to_owned(),
                    archived: c.archived,
                    fields: c.fields.clone(),
                })
                .collect();
            v.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.uuid.cmp(&b.uuid)));
            Ok(v)
        })
    }

    /// Every relationship of a practice, in the order they were added, with both clients' names.
    pub fn relationships(&self, tenant: &str) -> Result<Vec<RelationshipView>, AdminError> {
        self.with_practice(tenant, |p, _| {
            let name = |uuid: &str| {
                p.clients
                    .get(uuid)
                    .map(|c| c.name().to_owned())
                    .unwrap_or_default()
            };
            Ok(p.relationships
                .iter()
                .map(|r| RelationshipView {
                    uuid: r.uuid.clone(),
                    client: r.client.clone(),
                    client_name: name(&r.client),
                    related: r.related.clone(),
                    related_name: name(&r.related),
                    rtype: r.rtype.clone(),
                    shares: r.shares,
                    percentage: r.percentage.clone(),
                    start: r.start,
                    end: r.end,
                })
                .collect())
        })
    }

    /// UUID of the first live client with this exact name.
    pub fn find_client(&self, tenant: &str, name: &str) -> Result<Option<String>, AdminError> {
        self.with_practice(tenant, |p, _| {
            let mut v: Vec<_> = p
                .clients
                .values()
                .filter(|c| !c.deleted && c.name() == name)
                .map(|c| c.uuid.clone())
                .collect();
            v.sort();
            Ok(v.into_iter().next())
        })
    }
}

/// One client as the admin API reads it (`GET /__admin/data/{tenant}/clients`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    /// The client's UUID.
    pub uuid: String,
    /// Its `Name`.
    pub name: String,
    /// `IsArchived`.
    pub archived: bool,
    /// Simple elements by response name (`Email`, `BusinessNumber`, `TaxNumber` unmasked…).
    pub fields: std::collections::BTreeMap<String, String>,
}

/// One relationship as the admin API reads it (`GET /__admin/data/{tenant}/relationships`):
/// `client_name` is the `rtype` of `related_name` (e.g. a Director of the company).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipView {
    /// The UUID shown on `client`'s record.
    pub uuid: String,
    /// `ClientUUID` of the add call.
    pub client: String,
    /// That client's name.
    pub client_name: String,
    /// `RelatedClientUUID`.
    pub related: String,
    /// That client's name.
    pub related_name: String,
    /// The plain type label, e.g. `Director`, `Appointer`.
    #[serde(rename = "type")]
    pub rtype: String,
    /// `NumberOfShares`.
    pub shares: i64,
    /// `Percentage` as decimal text.
    pub percentage: String,
    /// `StartDate`.
    pub start: Option<NaiveDate>,
    /// `EndDate`.
    pub end: Option<NaiveDate>,
}

// ---------------------------------------------------------------- HTTP

type Shared = Arc<Sim>;

async fn loopback_only(
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    if !addr.ip().is_loopback() {
        return (StatusCode::FORBIDDEN, "admin API is loopback-only").into_response();
    }
    next.run(req).await
}

fn h(sim: &Shared) -> AdminHandle {
    AdminHandle { sim: sim.clone() }
}

fn res<T: Serialize>(r: Result<T, AdminError>) -> Response {
    match r {
        Ok(v) => Json(serde_json::json!({"ok": true, "result": v})).into_response(),
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"ok": false, "error": e.to_string()})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct FaultReq {
    #[serde(flatten)]
    kind: FaultKind,
    #[serde(default = "one")]
    count: u32,
    path: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
struct DataReq {
    client: Option<String>,
    related: Option<String>,
    name: Option<String>,
    field: Option<String>,
    value: Option<String>,
    #[serde(rename = "type")]
    rtype: Option<String>,
    shares: Option<i64>,
    percentage: Option<String>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    relationship: Option<String>,
    from: Option<String>,
    to: Option<String>,
    structure: Option<String>,
    archived: Option<bool>,
}

fn need(v: &Option<String>, what: &str) -> Result<String, AdminError> {
    v.clone()
        .ok_or_else(|| AdminError::Invalid(format!("{what} is required")))
}

async fn data_op(
    State(sim): State<Shared>,
    Path((tenant, op)): Path<(String, String)>,
    Json(d): Json<DataReq>,
) -> Response {
    let a = h(&sim);
    let r: Result<serde_json::Value, AdminError> = (|| {
        let client = || need(&d.client, "client");
        Ok(match op.as_str() {
            "rename" => {
                a.rename_client(&tenant, &client()?, &need(&d.name, "name")?)?;
                serde_json::Value::Null
            }
            "set-field" => {
                a.set_client_field(
                    &tenant,
                    &client()?,
                    &need(&d.field, "field")?,
                    d.value.as_deref(),
                )?;
                serde_json::Value::Null
            }
            "archive" => {
                a.set_archived(&tenant, &client()?, d.archived.unwrap_or(true))?;
                serde_json::Value::Null
            }
            "add-client" => a
                .add_client(&tenant, &need(&d.name, "name")?, d.structure.as_deref())?
                .into(),
            "add-relationship" => a
                .add_relationship(
                    &tenant,
                    &client()?,
                    &need(&d.related, "related")?,
                    &need(&d.rtype, "type")?,
                    d.shares.unwrap_or(0),
                    d.percentage.as_deref().unwrap_or("0"),
                    d.start,
                    d.end,
                )?
                .into(),
            "end-relationship" => {
                let end = d
                    .end
                    .ok_or_else(|| AdminError::Invalid("end is required".into()))?;
                a.end_relationship(&tenant, &need(&d.relationship, "relationship")?, end)?;
                serde_json::Value::Null
            }
            "delete-relationship" => {
                a.delete_relationship(&tenant, &need(&d.relationship, "relationship")?)?;
                serde_json::Value::Null
            }
            "move-member" => {
                a.move_group_member(&tenant, &client()?, d.from.as_deref(), d.to.as_deref())?;
                serde_json::Value::Null
            }
            other => {
                return Err(AdminError::Invalid(format!(
                    "unknown data operation {other}"
                )))
            }
        })
    })();
    res(r)
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

#[derive(Deserialize)]
struct Scale {
    scale: f64,
}

#[derive(Deserialize)]
struct RedirectReq {
    uri: String,
}

#[derive(Deserialize)]
struct RevokeReq {
    email: Option<String>,
}

fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    if let (Some(b), serde_json::Value::Object(p)) = (base.as_object_mut(), patch) {
        for (k, v) in p {
            b.insert(k, v);
        }
    }
}

/// The admin router (mounted at `/__admin`, loopback callers only).
pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/__admin/state",
            get(|State(s): State<Shared>| async move {
                let a = h(&s);
                Json(serde_json::json!({
                    "now": a.now(), "timeScale": s.clock.scale(), "practices": a.practices(),
                    "tenants": a.tenants(), "users": a.users(), "settings": a.settings(),
                }))
            }),
        )
        .route(
            "/__admin/counters",
            get(|State(s): State<Shared>| async move { Json(h(&s).counters()) }),
        )
        .route(
            "/__admin/counters/reset",
            post(|State(s): State<Shared>| async move {
                h(&s).reset_counters();
                res::<()>(Ok(()))
            }),
        )
        .route(
            "/__admin/faults",
            get(|State(s): State<Shared>| async move { Json(h(&s).faults()) })
                .post(|State(s): State<Shared>, Json(f): Json<FaultReq>| async move {
                    h(&s).inject(f.kind, f.count, f.path.as_deref());
                    res::<()>(Ok(()))
                })
                .delete(|State(s): State<Shared>| async move {
                    h(&s).clear_faults();
                    res::<()>(Ok(()))
                }),
        )
        .route(
            "/__admin/clock/advance",
            post(|State(s): State<Shared>, Json(a): Json<Advance>| async move {
                h(&s).advance(Duration::seconds(a.seconds));
                res(Ok(h(&s).now()))
            }),
        )
        .route(
            "/__admin/clock/scale",
            post(|State(s): State<Shared>, Json(a): Json<Scale>| async move {
                h(&s).set_time_scale(a.scale);
                res(Ok(h(&s).now()))
            }),
        )
        .route(
            "/__admin/settings",
            get(|State(s): State<Shared>| async move { Json(h(&s).settings()) }).put(
                |State(s): State<Shared>, Json(patch): Json<serde_json::Value>| async move {
                    let mut cur = serde_json::to_value(h(&s).settings()).unwrap_or_default();
                    merge(&mut cur, patch);
                    match serde_json::from_value::<Settings>(cur) {
                        Ok(new) => {
                            *lock(&s.settings) = new.clone();
                            res(Ok(new))
                        }
                        Err(e) => res::<()>(Err(AdminError::Invalid(e.to_string()))),
                    }
                },
            ),
        )
        .route(
            "/__admin/limits/reset",
            post(|State(s): State<Shared>| async move {
                h(&s).reset_limits();
                res::<()>(Ok(()))
            }),
        )
        .route(
            "/__admin/auto-approve",
            post(|State(s): State<Shared>, Json(a): Json<AutoApprove>| async move {
                h(&s).set_auto_approve(Some(a));
                res::<()>(Ok(()))
            })
            .delete(|State(s): State<Shared>| async move {
                h(&s).set_auto_approve(None);
                res::<()>(Ok(()))
            }),
        )
        .route(
            "/__admin/apps/{client_id}/redirect-uris",
            post(
                |State(s): State<Shared>, Path(c): Path<String>, Json(r): Json<RedirectReq>| async move {
                    res(h(&s).register_redirect_uri(&c, &r.uri))
                },
            ),
        )
        .route(
            "/__admin/tokens/revoke",
            post(|State(s): State<Shared>, Json(r): Json<RevokeReq>| async move {
                match r.email {
                    Some(e) => h(&s).revoke_user(&e),
                    None => h(&s).revoke_all(),
                }
                res::<()>(Ok(()))
            }),
        )
        .route(
            "/__admin/tokens/expire",
            post(|State(s): State<Shared>| async move {
                h(&s).expire_access_tokens();
                res::<()>(Ok(()))
            }),
        )
        .route(
            "/__admin/tokens/expire-refresh",
            post(|State(s): State<Shared>| async move {
                h(&s).expire_refresh_tokens();
                res::<()>(Ok(()))
            }),
        )
        .route("/__admin/data/{tenant}/{op}", post(data_op))
        .route(
            "/__admin/data/{tenant}/clients",
            get(|State(s): State<Shared>, Path(t): Path<String>| async move {
                res(h(&s).clients(&t))
            }),
        )
        .route(
            "/__admin/data/{tenant}/relationships",
            get(|State(s): State<Shared>, Path(t): Path<String>| async move {
                res(h(&s).relationships(&t))
            }),
        )
        .route(
            "/__admin/data/{tenant}/groups",
            get(|State(s): State<Shared>, Path(t): Path<String>| async move {
                res(h(&s).groups(&t).map(|v| {
                    v.into_iter().collect::<HashMap<String, String>>()
                }))
            }),
        )
        .layer(axum::middleware::from_fn(loopback_only))
}
