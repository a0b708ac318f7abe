//! XPM 3.1 endpoints under `/practicemanager/3.1/` (reference §1–§3): the request gate
//! (bearer token → 401, app limit, `Xero-Tenant-Id` → 403, scope → 403, tenant limits → 429,
//! faults) and the client, relationship, client-group and staff handlers.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::identity::{check_bearer, problem, unauthorized};
use crate::model::{self, Client, Group, Practice, Relationship, View};
use crate::state::{lock, new_uuid, Settings, Sim};
use crate::xml::{Node, XmlOut};
use crate::{faults, limits};

type Shared = Arc<Sim>;

/// The XPM API path prefix.
pub const PREFIX: &str = "/practicemanager/3.1";

/// Which scope family an endpoint needs (reference §2, §5.4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Need {
    /// `practicemanager.client` or `.client.read` (or legacy `practicemanager`/`.read`).
    ClientRead,
    /// `practicemanager.client` (or legacy `practicemanager`).
    ClientWrite,
    /// `practicemanager.staff` or `.staff.read` (or legacy broad scopes).
    StaffRead,
}

fn scope_ok(need: Need, scope: &[String]) -> bool {
    let has = |s: &str| scope.iter().any(|x| x == s);
    match need {
        Need::ClientRead => {
            has("practicemanager.client")
                || has("practicemanager.client.read")
                || has("practicemanager")
                || has("practicemanager.read")
        }
        Need::ClientWrite => has("practicemanager.client") || has("practicemanager"),
        Need::StaffRead => {
            has("practicemanager.staff")
                || has("practicemanager.staff.read")
                || has("practicemanager")
                || has("practicemanager.read")
        }
    }
}

/// What a handler produced: a payload fragment for an OK envelope, or a business error.
type Outcome = Result<String, String>;

/// Runs one XPM call through the gate and wraps its outcome in the `<Response>` envelope.
#[allow(clippy::too_many_arguments)]
async fn xpm<F>(
    sim: Shared,
    headers: HeaderMap,
    endpoint: &'static str,
    api_method: &'static str,
    need: Need,
    body_write: bool,
    f: F,
) -> Response
where
    F: FnOnce(&mut Practice, &Settings, DateTime<Utc>) -> Outcome,
{
    let tenant_hdr = headers
        .get("xero-tenant-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase());
    sim.count(endpoint, None);
    let caller = match check_bearer(&sim, &headers) {
        Ok(c) => c,
        Err(e) => return unauthorized(e),
    };
    let app_rem = match limits::app_only(&sim) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let forbidden = |detail: &str| {
        let mut r = problem(StatusCode::FORBIDDEN, "Forbidden", detail, false);
        limits::Remaining {
            app_minute: Some(app_rem),
            ..Default::default()
        }
        .apply(r.headers_mut());
        r
    };
    let Some(tenant) = tenant_hdr.filter(|t| !t.is_empty()) else {
        return forbidden("AuthenticationUnsuccessful");
    };
    let connected = lock(&sim.identity).connections.iter().any(|c| {
        c.user_id == caller.user_id
            && c.client_id == caller.client_id
            && c.tenant_id.eq_ignore_ascii_case(&tenant)
            && c.tenant_type == "PRACTICEMANAGER"
    });
    if !connected || !lock(&sim.practices).contains_key(&tenant) {
        return forbidden("AuthenticationUnsuccessful");
    }
    if !scope_ok(need, &caller.scope) {
        return forbidden("AuthenticationUnsuccessful: insufficient scope");
    }
    let s = sim.settings();
    if body_write {
        let strict = s.strict_content_type
            || headers
                .get("xero-features")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("practice-strict-content-type"))
                .unwrap_or(false);
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if strict && !(ct.starts_with("application/xml") || ct.starts_with("text/xml")) {
            return problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                "Content-Type must be application/xml",
                false,
            );
        }
    }
    let (_permit, rem) = match limits::tenant_acquire(&sim, &tenant, app_rem) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    {
        let mut c = lock(&sim.counters);
        *c.per_tenant.entry(tenant.clone()).or_default() += 1;
    }
    let fault = sim.take_fault(endpoint);
    if let Some(r) = faults::before(&fault).await {
        return r;
    }
    let now = sim.now();
    let outcome = {
        let mut ps = lock(&sim.practices);
        let Some(p) = ps.get_mut(&tenant) else {
            return forbidden("AuthenticationUnsuccessful");
        };
        f(p, &s, now)
    };
    let mut x = XmlOut::new();
    x.open("Response", &[("api-method", api_method)]);
    let body = match outcome {
        Ok(payload) => {
            x.el("Status", "OK");
            let head = x.finish();
            format!("{head}{payload}</Response>")
        }
        Err(desc) => {
            x.el("Status", "ERROR").el("ErrorDescription", &desc);
            x.close("Response");
            x.finish()
        }
    };
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response();
    let mut rem = rem;
    if endpoint == "POST client.api/add" && s.omit_app_header_on_add {
        rem.app_minute = None;
    }
    rem.apply(r.headers_mut());
    faults::after(fault, r).await
}

fn parse_body(body: &str, root: &str) -> Result<Node, String> {
    let n = Node::parse(body).map_err(|e| format!("Invalid XML: {e}"))?;
    if n.name != root {
        return Err(format!("Expected <{root}> element"));
    }
    Ok(n)
}

fn view(s: &Settings, detailed: bool, in_list: bool) -> View {
    View {
        detailed,
        in_list,
        archived_drop_from_groups: s.archived_drop_from_groups,
    }
}

fn web_url(uuid: &str) -> String {
    let n: u64 = uuid
        .bytes()
        .fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64))
        % 9_000_000
        + 1_000_000;
    format!("https://practicemanager.xero.com/Client/{n}/Detail")
}

fn client_out(p: &Practice, c: &Client, s: &Settings, with_url: bool) -> String {
    let mut x = XmlOut::new();
    if with_url {
        x.el("WebUrl", &web_url(&c.uuid));
    }
    p.write_client(&mut x, c, view(s, true, false));
    x.finish()
}

fn clients_out<'a>(
    p: &Practice,
    it: impl Iterator<Item = &'a Client>,
    s: &Settings,
    detailed: bool,
) -> String {
    let mut v: Vec<&Client> = it.collect();
    v.sort_by_key(|a| a.name().to_lowercase());
    let mut x = XmlOut::new();
    let idx = detailed.then(|| p.index());
    x.open("Clients", &[]);
    for c in v {
        p.write_client_indexed(&mut x, c, view(s, detailed, true), idx.as_ref());
    }
    x.close("Clients");
    x.finish()
}

fn listed(c: &Client, s: &Settings) -> bool {
    !c.deleted && (s.list_includes_archived || !c.archived)
}

/// `GET client.api/list?detailed=&modifiedsince=` (reference §2.1).
async fn client_list(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let detailed = q.get("detailed").map(|v| v.eq_ignore_ascii_case("true")) == Some(true);
    let since = q.get("modifiedsince").cloned();
    xpm(
        sim,
        headers,
        "GET client.api/list",
        "List",
        Need::ClientRead,
        false,
        move |p, s, _| {
            let since = match since {
                None => None,
                Some(t) => Some(
                    NaiveDateTime::parse_from_str(t.trim(), "%Y-%m-%dT%H:%M:%S")
                        .map_err(|_| {
                            "Invalid modifiedsince: expected yyyy-MM-ddTHH:mm:ss".to_string()
                        })?
                        .and_utc(),
                ),
            };
            Ok(clients_out(
                p,
                p.clients
                    .values()
                    .filter(|c| listed(c, s))
                    .filter(|c| since.map(|t| c.modified >= t).unwrap_or(true)),
                s,
                detailed,
            ))
        },
    )
    .await
}

/// `GET client.api/search?query=&detailed=` (reference §2.1).
async fn client_search(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let detailed = q.get("detailed").map(|v| v.eq_ignore_ascii_case("true")) == Some(true);
    let query = q.get("query").cloned().unwrap_or_default().to_lowercase();
    xpm(
        sim,
        headers,
        "GET client.api/search",
        "Search",
        Need::ClientRead,
        false,
        move |p, s, _| {
            if query.trim().is_empty() {
                return Err("A search query is required".into());
            }
            Ok(clients_out(
                p,
                p.clients
                    .values()
                    .filter(|c| listed(c, s))
                    .filter(|c| c.name().to_lowercase().contains(query.trim())),
                s,
                detailed,
            ))
        },
    )
    .await
}

/// `GET client.api/get/{uuid}` (reference §2.1; `WebUrl` sibling of `Client`).
async fn client_get(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let id = id.to_ascii_lowercase();
    xpm(
        sim,
        headers,
        "GET client.api/get",
        "Get",
        Need::ClientRead,
        false,
        move |p, s, _| {
            let c = p.live_client(&id).ok_or("Client not found")?;
            Ok(client_out(p, c, s, true))
        },
    )
    .await
}

/// Request names of the simple fields (`WebSite` instead of `Website`, reference §3).
fn request_name(resp: &str) -> &str {
    if resp == "Website" {
        "WebSite"
    } else {
        resp
    }
}

fn normalise(field: &str, v: &str, s: &Settings) -> Result<String, String> {
    if v.trim().is_empty() {
        return Ok(String::new());
    }
    if model::BOOL_FIELDS.contains(&field) {
        return model::parse_yes_no(v)
            .map(|b| if b { "Yes" } else { "No" }.to_string())
            .ok_or_else(|| format!("Invalid value for {field}: expected Yes or No"));
    }
    match field {
        "GSTPeriod" => model::gst_period_from_request(v)
            .map(String::from)
            .ok_or_else(|| "Invalid GSTPeriod: expected 1, 2 or 6".into()),
        "BalanceMonth" => model::balance_month_from_request(v)
            .map(|m| m.to_string())
            .ok_or_else(|| "Invalid BalanceMonth".into()),
        "DateOfBirth" => {
            let d = if s.strict_request_dates {
                chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok()
            } else {
                model::parse_date(v)
            };
            d.map(|d| d.format("%Y-%m-%d").to_string())
                .ok_or_else(|| "Invalid DateOfBirth: expected yyyy-MM-dd".into())
        }
        "GSTBasis" => ["Invoice", "Payment", "Hybrid"]
            .iter()
            .find(|b| b.eq_ignore_ascii_case(v.trim()))
            .map(|b| b.to_string())
            .ok_or_else(|| "Invalid GSTBasis: expected Invoice, Payment or Hybrid".into()),
        _ => Ok(v.to_string()),
    }
}

/// Applies an add/update `<Client>` body to `c` (reference §2.1 request example, §3 table).
fn apply_client(
    p: &Practice,
    c: &mut Client,
    n: &Node,
    is_update: bool,
    s: &Settings,
) -> Result<(), String> {
    for f in model::HEAD_FIELDS.iter().chain(model::TAIL_FIELDS) {
        let rn = request_name(f);
        match n.child_text(rn) {
            Some(v) => {
                if *f == "Name" && v.trim().is_empty() {
                    return Err("Client name is required".into());
                }
                let v = normalise(f, v, s)?;
                c.fields.insert(f.to_string(), v);
            }
            None => {
                let keep = matches!(*f, "Name" | "TaxNumber");
                if is_update && s.update_clears_omitted && !keep && c.fields.contains_key(*f) {
                    c.fields.insert(f.to_string(), String::new());
                }
            }
        }
    }
    let staff_ref = |name: &str, cur: &model::Ref| -> Result<model::Ref, String> {
        match n.child_text(name) {
            Some(v) if v.trim().is_empty() => Ok(Some(None)),
            Some(v) => {
                let v = v.trim().to_ascii_lowercase();
                if p.staff.iter().any(|x| x.uuid == v) {
                    Ok(Some(Some(v)))
                } else {
                    Err(format!("Invalid {name}: staff member not found"))
                }
            }
            None if is_update && s.update_clears_omitted && cur.is_some() => Ok(Some(None)),
            None => Ok(cur.clone()),
        }
    };
    c.account_manager = staff_ref("AccountManagerUUID", &c.account_manager)?;
    c.job_manager = staff_ref("JobManagerUUID", &c.job_manager)?;
    c.billing_client = match n.child_text("BillingClientUUID") {
        Some(v) if v.trim().is_empty() => Some(None),
        Some(v) => {
            let v = v.trim().to_ascii_lowercase();
            if p.live_client(&v).is_some() || v == c.uuid {
                Some(Some(v))
            } else {
                return Err("Invalid BillingClientUUID: client not found".into());
            }
        }
        None if is_update && s.update_clears_omitted && c.billing_client.is_some() => Some(None),
        None => c.billing_client.clone(),
    };
    if !is_update {
        if let Some(cs) = n.child("Contacts") {
            let mut primary_seen = None;
            for (i, ct) in cs
                .children
                .iter()
                .filter(|x| x.name == "Contact")
                .enumerate()
            {
                if model::parse_yes_no(ct.child_text("IsPrimary").unwrap_or("")) == Some(true) {
                    primary_seen = Some(i);
                }
            }
            for (i, ct) in cs
                .children
                .iter()
                .filter(|x| x.name == "Contact")
                .enumerate()
            {
                let mut x = Node {
                    name: "Contact".into(),
                    ..Node::default()
                };
                let mut push = |k: &str, v: &str| {
                    x.children.push(Node {
                        name: k.into(),
                        text: v.into(),
                        ..Node::default()
                    })
                };
                push("UUID", &new_uuid());
                for k in [
                    "Name",
                    "Salutation",
                    "Addressee",
                    "Mobile",
                    "Email",
                    "Phone",
                ] {
                    push(k, ct.child_text(k).unwrap_or(""));
                }
                push("IsDeleted", "No");
                push(
                    "IsPrimary",
                    if primary_seen == Some(i) { "Yes" } else { "No" },
                );
                push("Position", ct.child_text("Position").unwrap_or(""));
                c.contacts.push(x);
            }
        }
    }
    Ok(())
}

fn check_structure_still_fits(p: &Practice, c: &Client, s: &Settings) -> Result<(), String> {
    if !s.strict_relationship_types {
        return Ok(());
    }
    let bad = p.relationships.iter().any(|r| {
        r.client == c.uuid && model::ENTITY_TYPES.contains(&r.rtype.as_str()) && c.is_individual()
    });
    if bad {
        return Err(
            "BusinessStructure cannot be changed: existing relationships require a non-individual structure"
                .into(),
        );
    }
    Ok(())
}

/// `POST client.api/add` (reference §2.1: only `Name` required; response = full client).
async fn client_add(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "POST client.api/add",
        "Add",
        Need::ClientWrite,
        true,
        move |p, s, now| {
            let n = parse_body(&body, "Client")?;
            if n.child_value("Name").is_none() {
                return Err("Client name is required".into());
            }
            let mut c = Client {
                uuid: new_uuid(),
                modified: now,
                ..Client::default()
            };
            apply_client(p, &mut c, &n, false, s)?;
            let id = c.uuid.clone();
            p.clients.insert(id.clone(), c);
            let stored = p.clients.get(&id).ok_or("Client not found")?;
            Ok(client_out(p, stored, s, false))
        },
    )
    .await
}

/// `PUT client.api/update` (reference §2.1; omitted elements cleared per setting, §7 item 1).
async fn client_update(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "PUT client.api/update",
        "Update",
        Need::ClientWrite,
        true,
        move |p, s, now| {
            let n = parse_body(&body, "Client")?;
            let id = n
                .child_value("UUID")
                .ok_or("Client not found")?
                .to_ascii_lowercase();
            let mut c = p.live_client(&id).ok_or("Client not found")?.clone();
            apply_client(p, &mut c, &n, true, s)?;
            check_structure_still_fits(p, &c, s)?;
            c.modified = now;
            p.clients.insert(id.clone(), c);
            let c = p.clients.get(&id).ok_or("Client not found")?;
            Ok(client_out(p, c, s, false))
        },
    )
    .await
}

/// `PUT client.api/archive` (reference §2.1; response = full client).
async fn client_archive(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "PUT client.api/archive",
        "Archive",
        Need::ClientWrite,
        true,
        move |p, s, now| {
            let n = parse_body(&body, "Client")?;
            let id = n
                .child_value("UUID")
                .ok_or("Client not found")?
                .to_ascii_lowercase();
            let c = p
                .clients
                .get_mut(&id)
                .filter(|c| !c.deleted)
                .ok_or("Client not found")?;
            c.archived = true;
            c.modified = now;
            let c = p.clients.get(&id).ok_or("Client not found")?;
            Ok(client_out(p, c, s, false))
        },
    )
    .await
}

/// `POST client.api/delete` (reference §2.1).
async fn client_delete(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "POST client.api/delete",
        "Delete",
        Need::ClientWrite,
        true,
        move |p, _s, now| {
            let n = parse_body(&body, "Client")?;
            let id = n
                .child_value("UUID")
                .ok_or("Client not found")?
                .to_ascii_lowercase();
            let c = p
                .clients
                .get_mut(&id)
                .filter(|c| !c.deleted)
                .ok_or("Client not found")?;
            c.deleted = true;
            c.modified = now;
            Ok(String::new())
        },
    )
    .await
}

fn parse_shares(n: &Node) -> Result<Option<i64>, String> {
    match n.child_text("NumberOfShares") {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(Some(0)),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| "Invalid NumberOfShares: expected an integer".into()),
    }
}

fn parse_pct(n: &Node) -> Result<Option<String>, String> {
    match n.child_text("Percentage") {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(Some("0".into())),
        Some(v) => {
            let f: f64 = v
                .trim()
                .parse()
                .map_err(|_| "Invalid Percentage: expected a decimal".to_string())?;
            if !(0.0..=100.0).contains(&f) {
                return Err("Invalid Percentage: must be between 0 and 100".into());
            }
            Ok(Some(v.trim().to_string()))
        }
    }
}

fn parse_rel_date(n: &Node, k: &str) -> Result<Option<Option<chrono::NaiveDate>>, String> {
    match n.child_text(k) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(Some(None)),
        Some(v) => chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map(|d| Some(Some(d)))
            .map_err(|_| format!("Invalid {k}: expected yyyy-MM-dd")),
    }
}

fn check_amounts(rtype: &str, shares: i64, pct: &str, s: &Settings) -> Result<(), String> {
    if !s.reject_inapplicable_shares {
        return Ok(());
    }
    if shares != 0 && !matches!(rtype, "Shareholder" | "Owner") {
        return Err(format!(
            "NumberOfShares does not apply to relationship type {rtype}"
        ));
    }
    if pct.parse::<f64>().unwrap_or(0.0) != 0.0 && rtype != "Partner" {
        return Err(format!(
            "Percentage does not apply to relationship type {rtype}"
        ));
    }
    Ok(())
}

fn touch(p: &mut Practice, ids: &[&str], now: DateTime<Utc>, s: &Settings) {
    if !s.modified_on_relationship_change {
        return;
    }
    for id in ids {
        if let Some(c) = p.clients.get_mut(*id) {
            c.modified = now;
        }
    }
}

/// `POST client.api/addrelationship` (reference §2.2). Response: `Status` only (UNCONFIRMED
/// body; re-read the client for the new UUIDs).
async fn rel_add(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(sim, headers, "POST client.api/addrelationship", "Add", Need::ClientWrite, true, move |p, s, now| {
        let n = parse_body(&body, "Relationship")?;
        let cid = n.child_value("ClientUUID").ok_or("Client not found")?.to_ascii_lowercase();
        let rid = n
            .child_value("RelatedClientUUID")
            .ok_or("Related client not found")?
            .to_ascii_lowercase();
        let c = p.live_client(&cid).ok_or("Client not found")?;
        p.live_client(&rid).ok_or("Related client not found")?;
        if cid == rid {
            return Err("A client cannot be related to itself".into());
        }
        let t = n.child_value("Type").unwrap_or("");
        let rtype = model::ADD_TYPES
            .iter()
            .find(|x| x.eq_ignore_ascii_case(t))
            .ok_or_else(|| format!("Invalid relationship type: {t}"))?
            .to_string();
        if s.strict_relationship_types {
            if c.structure().is_empty() {
                return Err("The client must have a Business Structure before relationships can be added".into());
            }
            if c.is_individual() && model::ENTITY_TYPES.contains(&rtype.as_str()) {
                return Err(format!(
                    "Relationship type {rtype} is not valid for business structure {}",
                    c.structure()
                ));
            }
        }
        let shares = parse_shares(&n)?.unwrap_or(0);
        let pct = parse_pct(&n)?.unwrap_or_else(|| "0".into());
        check_amounts(&rtype, shares, &pct, s)?;
        let start = parse_rel_date(&n, "StartDate")?.flatten();
        let end = parse_rel_date(&n, "EndDate")?.flatten();
        if p
            .relationships
            .iter()
            .any(|r| r.client == cid && r.related == rid && r.rtype == rtype)
        {
            return Err("This relationship already exists".into());
        }
        let uuid = new_uuid();
        let reverse_uuid = if s.relationship_uuid_per_side { new_uuid() } else { uuid.clone() };
        p.relationships.push(Relationship {
            uuid,
            reverse_uuid,
            client: cid.clone(),
            related: rid.clone(),
            rtype,
            shares,
            percentage: pct,
            start,
            end,
        });
        touch(p, &[&cid, &rid], now, s);
        Ok(String::new())
    })
    .await
}

/// `PUT client.api/updaterelationship` (reference §2.2: shares, percentage, dates only).
async fn rel_update(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "PUT client.api/updaterelationship",
        "Update",
        Need::ClientWrite,
        true,
        move |p, s, now| {
            let n = parse_body(&body, "Relationship")?;
            let id = n
                .child_value("UUID")
                .ok_or("Relationship not found")?
                .to_ascii_lowercase();
            let i = p.relationship_index(&id).ok_or("Relationship not found")?;
            let r = p.relationships[i].clone();
            if let Some(t) = n.child_value("Type") {
                let same = t.eq_ignore_ascii_case(&r.rtype)
                    || t.eq_ignore_ascii_case(&model::reverse_label(&r.rtype));
                if !same {
                    return Err(
                        "The relationship type cannot be changed; delete it and add a new one"
                            .into(),
                    );
                }
            }
            for (k, cur) in [("ClientUUID", &r.client), ("RelatedClientUUID", &r.related)] {
                if let Some(v) = n.child_value(k) {
                    let v = v.to_ascii_lowercase();
                    if &v != cur && !(v == r.client || v == r.related) {
                        return Err("The clients of a relationship cannot be changed".into());
                    }
                }
            }
            let mut r2 = r.clone();
            if let Some(sh) = parse_shares(&n)? {
                r2.shares = sh;
            }
            if let Some(pc) = parse_pct(&n)? {
                r2.percentage = pc;
            }
            if let Some(d) = parse_rel_date(&n, "StartDate")? {
                r2.start = d;
            }
            if let Some(d) = parse_rel_date(&n, "EndDate")? {
                r2.end = d;
            }
            check_amounts(&r2.rtype, r2.shares, &r2.percentage, s)?;
            p.relationships[i] = r2;
            touch(p, &[&r.client, &r.related], now, s);
            Ok(String::new())
        },
    )
    .await
}

/// `POST client.api/deleterelationship` (reference §2.2).
async fn rel_delete(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "POST client.api/deleterelationship",
        "Delete",
        Need::ClientWrite,
        true,
        move |p, s, now| {
            let n = parse_body(&body, "Relationship")?;
            let id = n
                .child_value("UUID")
                .ok_or("Relationship not found")?
                .to_ascii_lowercase();
            let i = p.relationship_index(&id).ok_or("Relationship not found")?;
            let r = p.relationships.remove(i);
            touch(p, &[&r.client, &r.related], now, s);
            Ok(String::new())
        },
    )
    .await
}

fn group_out(p: &Practice, g: &Group, s: &Settings) -> String {
    let mut x = XmlOut::new();
    p.write_group(&mut x, g, true, s.archived_drop_from_groups);
    x.finish()
}

/// `GET clientgroup.api/list` (reference §2.3).
async fn group_list(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    xpm(
        sim,
        headers,
        "GET clientgroup.api/list",
        "List",
        Need::ClientRead,
        false,
        move |p, s, _| {
            let mut gs: Vec<&Group> = p.groups.values().collect();
            gs.sort_by_key(|a| a.name.to_lowercase());
            let mut x = XmlOut::new();
            x.open("Groups", &[]);
            for g in gs {
                p.write_group(&mut x, g, false, s.archived_drop_from_groups);
            }
            x.close("Groups");
            Ok(x.finish())
        },
    )
    .await
}

/// `GET clientgroup.api/get/{uuid}` (reference §2.3).
async fn group_get(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let id = id.to_ascii_lowercase();
    xpm(
        sim,
        headers,
        "GET clientgroup.api/get",
        "Get",
        Need::ClientRead,
        false,
        move |p, s, _| {
            let g = p.groups.get(&id).ok_or("Group not found")?;
            Ok(group_out(p, g, s))
        },
    )
    .await
}

/// `POST clientgroup.api/add` (reference §2.3: `ClientUUID` effectively required).
async fn group_add(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "POST clientgroup.api/add",
        "Add",
        Need::ClientWrite,
        true,
        move |p, s, now| {
            let n = parse_body(&body, "Group")?;
            let name = n
                .child_value("Name")
                .ok_or("Group name is required")?
                .to_string();
            let cid = n
                .child_value("ClientUUID")
                .ok_or("A client group must contain at least one client: ClientUUID is required")?
                .to_ascii_lowercase();
            p.live_client(&cid).ok_or("Client not found")?;
            let taxable = match n.child_text("Taxable") {
                Some(v) if !v.trim().is_empty() => Some(
                    model::parse_yes_no(v)
                        .ok_or("Invalid value for Taxable: expected Yes or No")?,
                ),
                _ => Some(false),
            };
            let g = Group {
                uuid: new_uuid(),
                name,
                taxable,
                members: vec![cid.clone()],
            };
            let out = group_out(p, &g, s);
            p.groups.insert(g.uuid.clone(), g);
            touch(p, &[&cid], now, s);
            Ok(out)
        },
    )
    .await
}

/// `PUT clientgroup.api/members` with `<add uuid>` / `<remove uuid>` (reference §2.3).
async fn group_members(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "PUT clientgroup.api/members",
        "Update",
        Need::ClientWrite,
        true,
        move |p, s, now| {
            let n = parse_body(&body, "Group")?;
            let id = n
                .child_value("UUID")
                .ok_or("Group not found")?
                .to_ascii_lowercase();
            if !p.groups.contains_key(&id) {
                return Err("Group not found".into());
            }
            let mut adds = Vec::new();
            let mut removes = Vec::new();
            for c in &n.children {
                let target = match c.name.as_str() {
                    "add" => &mut adds,
                    "remove" => &mut removes,
                    _ => continue,
                };
                let u = c
                    .attr("uuid")
                    .ok_or("Missing uuid attribute")?
                    .trim()
                    .to_ascii_lowercase();
                target.push(u);
            }
            for u in &adds {
                p.live_client(u)
                    .ok_or_else(|| format!("Client not found: {u}"))?;
            }
            let g = p.groups.get_mut(&id).ok_or("Group not found")?;
            for u in &adds {
                if !g.members.contains(u) {
                    g.members.push(u.clone());
                }
            }
            g.members.retain(|m| !removes.contains(m));
            let touched: Vec<String> = adds.iter().chain(removes.iter()).cloned().collect();
            let refs: Vec<&str> = touched.iter().map(String::as_str).collect();
            touch(p, &refs, now, s);
            let g = p.groups.get(&id).ok_or("Group not found")?;
            Ok(group_out(p, g, s))
        },
    )
    .await
}

/// `POST clientgroup.api/delete` (reference §2.3).
async fn group_delete(State(sim): State<Shared>, headers: HeaderMap, body: String) -> Response {
    xpm(
        sim,
        headers,
        "POST clientgroup.api/delete",
        "Delete",
        Need::ClientWrite,
        true,
        move |p, s, _| {
            let n = parse_body(&body, "Group")?;
            let id = n
                .child_value("UUID")
                .ok_or("Group not found")?
                .to_ascii_lowercase();
            let g = p.groups.remove(&id).ok_or("Group not found")?;
            Ok(group_out(p, &g, s))
        },
    )
    .await
}

/// `GET staff.api/list` (reference §2.4; needs a staff scope).
async fn staff_list(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    xpm(
        sim,
        headers,
        "GET staff.api/list",
        "List",
        Need::StaffRead,
        false,
        move |p, _, _| {
            let mut x = XmlOut::new();
            x.open("StaffList", &[]);
            for st in &p.staff {
                x.open("Staff", &[])
                    .el("UUID", &st.uuid)
                    .el("Name", &st.name)
                    .el("Email", &st.email)
                    .el("Phone", &st.phone)
                    .el("Mobile", &st.mobile)
                    .el("Address", &st.address)
                    .el("PayrollCode", &st.payroll_code)
                    .close("Staff");
            }
            x.close("StaffList");
            Ok(x.finish())
        },
    )
    .await
}

/// The XPM router (mounted at the server root; paths include [`PREFIX`]).
pub fn router() -> Router<Shared> {
    let p = |s: &str| format!("{PREFIX}/{s}");
    Router::new()
        .route(&p("client.api/list"), get(client_list))
        .route(&p("client.api/search"), get(client_search))
        .route(&p("client.api/get/{uuid}"), get(client_get))
        .route(&p("client.api/add"), post(client_add))
        .route(&p("client.api/update"), put(client_update))
        .route(&p("client.api/archive"), put(client_archive))
        .route(&p("client.api/delete"), post(client_delete))
        .route(&p("client.api/addrelationship"), post(rel_add))
        .route(&p("client.api/updaterelationship"), put(rel_update))
        .route(&p("client.api/deleterelationship"), post(rel_delete))
        .route(&p("clientgroup.api/list"), get(group_list))
        .route(&p("clientgroup.api/get/{uuid}"), get(group_get))
        .route(&p("clientgroup.api/add"), post(group_add))
        .route(&p("clientgroup.api/members"), put(group_members))
        .route(&p("clientgroup.api/delete"), post(group_delete))
        .route(&p("staff.api/list"), get(staff_list))
}
