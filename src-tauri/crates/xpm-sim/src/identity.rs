//! Xero identity: authorize (consent page), token, revocation, userinfo and `/connections`
//! (reference §5). Paths mirror Xero's: `/identity/connect/authorize` (login.xero.com),
//! `/connect/token`, `/connect/revocation`, `/connect/userinfo` (identity.xero.com) and
//! `/connections` (api.xero.com), all on the simulator's one loopback port.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::faults;
use crate::state::{
    lock, AccessRec, CodeRec, Connection, Grant, Identity, PendingAuth, RefreshRec, Settings, Sim,
};

type Shared = Arc<Sim>;

/// JWT issuer (reference §5.5).
pub const ISSUER: &str = "https://identity.xero.com";
/// Access-token audience (reference §5.5).
pub const AUDIENCE: &str = "https://identity.xero.com/resources";

fn esc(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t} - Xero (SIMULATOR)</title></head>\
         <body><p id=\"simulator-banner\"><strong>This is the xpm-sim SIMULATOR of Xero identity, \
         not the real Xero.</strong> Nothing you enter here leaves this machine.</p>\
         <h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    )
}

/// The error page shown instead of redirecting (reference §5.3/§5.7: bad client id,
/// redirect_uri or scope never redirect; Xero shows "a 500 screen", so HTTP 500).
fn error_page(code: &str, detail: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(page(
            "Sorry, something went wrong",
            &format!(
                "<p>Error: <code id=\"error\">{}</code></p><p id=\"error-detail\">{}</p>",
                esc(code),
                esc(detail)
            ),
        )),
    )
        .into_response()
}

/// Checks the shape rule of §5.3: https, or `http://localhost` (127.0.0.1 only if allowed).
/// Custom schemes are refused.
pub fn redirect_shape_ok(uri: &str, s: &Settings) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    match u.scheme() {
        "https" => u.host_str().is_some(),
        "http" => match u.host_str() {
            Some("localhost") => true,
            Some("127.0.0.1") => s.allow_loopback_ip,
            _ => false,
        },
        _ => false,
    }
}

/// True when `uri` matches a registered URI exactly (or, for localhost with
/// `localhost_any_port`, everything but the port).
pub fn redirect_registered(uri: &str, registered: &[String], s: &Settings) -> bool {
    if registered.iter().any(|r| r == uri) {
        return true;
    }
    if !s.localhost_any_port {
        return false;
    }
    let Ok(mut u) = url::Url::parse(uri) else {
        return false;
    };
    if u.scheme() != "http" {
        return false;
    }
    let _ = u.set_port(None);
    registered.iter().any(|r| {
        url::Url::parse(r)
            .map(|mut ru| {
                let _ = ru.set_port(None);
                ru == u
            })
            .unwrap_or(false)
    })
}

fn redirect_to(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut u = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return error_page("invalid_request", "bad redirect_uri"),
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, u.to_string())]).into_response()
}

/// `GET /identity/connect/authorize` (reference §5.1–§5.3).
pub async fn authorize(
    State(sim): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    sim.count("GET /identity/connect/authorize", None);
    let s = sim.settings();
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let client_id = get("client_id");
    let redirect_uri = get("redirect_uri");
    let scope: Vec<String> = get("scope").split_whitespace().map(String::from).collect();
    let pending = {
        let id = lock(&sim.identity);
        let Some(app) = id.apps.get(client_id) else {
            return error_page(
                "unauthorized_client",
                "Unknown client or client not enabled",
            );
        };
        if !redirect_shape_ok(redirect_uri, &s) {
            return error_page(
                "invalid_request",
                "Invalid redirect_uri: must be https, or http://localhost; custom URL schemes are not supported",
            );
        }
        if !redirect_registered(redirect_uri, &app.redirect_uris, &s) {
            return error_page(
                "invalid_request",
                "Invalid redirect_uri: not registered for this app",
            );
        }
        if get("response_type") != "code" {
            return error_page("unsupported_response_type", "response_type must be code");
        }
        if scope.is_empty() {
            return error_page("invalid_scope", "No scope requested");
        }
        if let Some(bad) = scope.iter().find(|sc| !app.allowed_scopes.contains(sc)) {
            return error_page(
                "invalid_scope",
                &format!("Scope not allowed for this app: {bad}"),
            );
        }
        if get("code_challenge").is_empty() || get("code_challenge_method") != "S256" {
            return error_page(
                "invalid_request",
                "PKCE required: code_challenge with code_challenge_method=S256",
            );
        }
        PendingAuth {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope,
            state: q.get("state").cloned(),
            challenge: get("code_challenge").into(),
            nonce: q.get("nonce").cloned(),
            user: None,
        }
    };
    let auto = lock(&sim.auto_approve).clone();
    if let Some(a) = auto {
        let (user, tenant) = {
            let id = lock(&sim.identity);
            let user = match &a.email {
                Some(e) => id.users.iter().find(|u| u.email.eq_ignore_ascii_case(e)),
                None => id.users.first(),
            };
            let Some(user) = user else {
                return error_page("server_error", "auto-approve: no such user");
            };
            let tenant = a.tenant_id.clone().or_else(|| {
                user.tenants
                    .iter()
                    .find(|t| {
                        id.tenants
                            .get(*t)
                            .map(|t| t.tenant_type == "PRACTICEMANAGER")
                            .unwrap_or(false)
                    })
                    .cloned()
            });
            let Some(tenant) = tenant else {
                return error_page("server_error", "auto-approve: user has no practice");
            };
            (user.user_id.clone(), tenant)
        };
        return approve(&sim, pending, &user, &tenant);
    }
    let rid = crate::state::new_uuid();
    lock(&sim.identity).pending.insert(rid.clone(), pending);
    Html(signin_page(&sim, &rid, None)).into_response()
}

fn signin_page(sim: &Sim, rid: &str, err: Option<&str>) -> String {
    let users: String = lock(&sim.identity)
        .users
        .iter()
        .map(|u| {
            format!(
                "<li><code>{}</code> / password <code>{}</code></li>",
                esc(&u.email),
                esc(&u.password)
            )
        })
        .collect();
    page(
        "Log in to Xero",
        &format!(
            "{err}<form method=\"post\" action=\"/identity/connect/authorize/signin\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\
             <label>Email <input id=\"email\" name=\"email\" type=\"email\"></label>\
             <label>Password <input id=\"password\" name=\"password\" type=\"password\"></label>\
             <button id=\"sign-in\" type=\"submit\">Log in</button></form>\
             <p>Simulator fixture users:</p><ul id=\"fixture-users\">{users}</ul>",
            err = err
                .map(|e| format!("<p id=\"signin-error\">{}</p>", esc(e)))
                .unwrap_or_default(),
            rid = esc(rid)
        ),
    )
}

/// `POST /identity/connect/authorize/signin`: checks the fixture user and shows consent.
pub async fn signin(State(sim): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    sim.count("POST /identity/connect/authorize/signin", None);
    let rid = f.get("request_id").cloned().unwrap_or_default();
    let email = f.get("email").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let mut id = lock(&sim.identity);
    if !id.pending.contains_key(&rid) {
        return error_page("invalid_request", "Unknown or finished sign-in request");
    }
    let Some(user) = id
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email.trim()) && u.password == password)
        .cloned()
    else {
        drop(id);
        return Html(signin_page(
            &sim,
            &rid,
            Some("Your email or password is incorrect"),
        ))
        .into_response();
    };
    let (app, scope) = {
        let p = id.pending.get_mut(&rid).expect("checked above");
        p.user = Some(user.user_id.clone());
        (p.client_id.clone(), p.scope.join(" "))
    };
    let practices: Vec<_> = user
        .tenants
        .iter()
        .filter_map(|t| id.tenants.get(t))
        .filter(|t| t.tenant_type == "PRACTICEMANAGER")
        .collect();
    let mut choices = String::new();
    for (i, t) in practices.iter().enumerate() {
        choices.push_str(&format!(
            "<li><label><input type=\"radio\" name=\"tenant_id\" id=\"tenant-{id}\" value=\"{id}\"{chk}> {name}</label></li>",
            id = esc(&t.tenant_id),
            name = esc(&t.tenant_name),
            chk = if i == 0 { " checked" } else { "" }
        ));
    }
    let body = if practices.is_empty() {
        format!(
            "<p id=\"no-practices\">You don't have any Xero Practice Manager accounts you can connect \
             (the \"Connect third-party add-ons\" privilege is needed).</p>\
             <form method=\"post\" action=\"/identity/connect/authorize/consent\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\
             <button id=\"deny\" name=\"decision\" value=\"deny\">Cancel</button></form>",
            rid = esc(&rid)
        )
    } else {
        format!(
            "<p>Signed in as <span id=\"user-email\">{email}</span>.</p>\
             <p><code id=\"client-id\">{app}</code> wants access to: <code id=\"scopes\">{scope}</code></p>\
             <form method=\"post\" action=\"/identity/connect/authorize/consent\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{rid}\">\
             <p>Choose a practice:</p><ul id=\"tenants\">{choices}</ul>\
             <button id=\"allow\" name=\"decision\" value=\"allow\" type=\"submit\">Allow access</button>\
             <button id=\"deny\" name=\"decision\" value=\"deny\" type=\"submit\">Cancel</button></form>",
            email = esc(&user.email),
            app = esc(&app),
            scope = esc(&scope),
            rid = esc(&rid)
        )
    };
    Html(page("Allow access to your practice", &body)).into_response()
}

/// `POST /identity/connect/authorize/consent`: Allow → redirect with `code` and `state`;
/// Deny → `error=access_denied` (or a page, per `deny_redirects`).
pub async fn consent(
    State(sim): State<Shared>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    sim.count("POST /identity/connect/authorize/consent", None);
    let rid = f.get("request_id").cloned().unwrap_or_default();
    let Some(p) = lock(&sim.identity).pending.remove(&rid) else {
        return error_page("invalid_request", "Unknown or finished sign-in request");
    };
    let Some(user) = p.user.clone() else {
        return error_page("invalid_request", "Not signed in");
    };
    if f.get("decision").map(String::as_str) != Some("allow") {
        if sim.settings().deny_redirects {
            let mut params = vec![("error", "access_denied")];
            if let Some(st) = &p.state {
                params.push(("state", st));
            }
            return redirect_to(&p.redirect_uri, &params);
        }
        return Html(page(
            "Access denied",
            "<p id=\"denied\">You cancelled the connection.</p>",
        ))
        .into_response();
    }
    let tenant = f.get("tenant_id").cloned().unwrap_or_default();
    {
        let id = lock(&sim.identity);
        let ok = id
            .users
            .iter()
            .find(|u| u.user_id == user)
            .map(|u| u.tenants.contains(&tenant))
            .unwrap_or(false);
        if !ok {
            return error_page("invalid_request", "Choose one of your practices");
        }
    }
    approve(&sim, p, &user, &tenant)
}

/// Issues a code for a consent and records the connections (reference §5.6).
fn approve(sim: &Sim, p: PendingAuth, user_id: &str, tenant_id: &str) -> Response {
    let s = sim.settings();
    let now = sim.now();
    let auth_event_id = crate::state::new_uuid();
    let code = random_token(32);
    {
        let mut id = lock(&sim.identity);
        let mut targets = vec![tenant_id.to_string()];
        if s.connect_organisations {
            if let Some(u) = id.users.iter().find(|u| u.user_id == user_id) {
                for t in &u.tenants {
                    if id.tenants.get(t).map(|t| t.tenant_type == "ORGANISATION") == Some(true) {
                        targets.push(t.clone());
                    }
                }
            }
        }
        for t in targets {
            let Some(tenant) = id.tenants.get(&t).cloned() else {
                continue;
            };
            upsert_connection(&mut id, user_id, &p.client_id, &tenant, &auth_event_id, now);
        }
        id.codes.insert(
            code.clone(),
            CodeRec {
                client_id: p.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                challenge: p.challenge.clone(),
                user_id: user_id.into(),
                scope: p.scope.clone(),
                auth_event_id,
                nonce: p.nonce.clone(),
                expires: now + Duration::seconds(s.code_secs),
                used: false,
            },
        );
    }
    let scope = p.scope.join(" ");
    let mut params = vec![("code", code.as_str()), ("scope", scope.as_str())];
    if let Some(st) = &p.state {
        params.push(("state", st));
    }
    redirect_to(&p.redirect_uri, &params)
}

fn fmt_utc(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    format!(
        "{}.{:07}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.nanosecond() % 1_000_000_000 / 100
    )
}

fn upsert_connection(
    id: &mut Identity,
    user_id: &str,
    client_id: &str,
    tenant: &crate::state::Tenant,
    auth_event_id: &str,
    now: DateTime<Utc>,
) {
    if let Some(c) = id.connections.iter_mut().find(|c| {
        c.user_id == user_id && c.client_id == client_id && c.tenant_id == tenant.tenant_id
    }) {
        c.auth_event_id = auth_event_id.into();
        c.updated_date_utc = fmt_utc(now);
        return;
    }
    id.connections.push(Connection {
        id: crate::state::new_uuid(),
        auth_event_id: auth_event_id.into(),
        tenant_id: tenant.tenant_id.clone(),
        tenant_type: tenant.tenant_type.clone(),
        tenant_name: tenant.tenant_name.clone(),
        created_date_utc: fmt_utc(now),
        updated_date_utc: fmt_utc(now),
        user_id: user_id.into(),
        client_id: client_id.into(),
    });
}

/// A URL-safe random string of `n` bytes of entropy.
pub fn random_token(n: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// BASE64URL(SHA256(verifier)) (RFC 7636 S256, reference §5.2).
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn verifier_ok(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

/// A token/revocation endpoint error: HTTP 400 with `{"error","error_description"}` (§5.7).
fn oauth_error(code: &str, desc: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({"error": code, "error_description": desc}).to_string(),
    )
        .into_response()
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    nbf: i64,
    exp: i64,
    iat: i64,
    iss: &'a str,
    aud: &'a str,
    client_id: &'a str,
    sub: &'a str,
    auth_time: i64,
    xero_userid: &'a str,
    global_session_id: &'a str,
    jti: &'a str,
    authentication_event_id: &'a str,
    scope: &'a [String],
}

#[derive(Serialize)]
struct IdClaims<'a> {
    nbf: i64,
    exp: i64,
    iat: i64,
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    auth_time: i64,
    xero_userid: &'a str,
    global_session_id: &'a str,
    preferred_username: &'a str,
    email: &'a str,
    given_name: &'a str,
    family_name: &'a str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

/// Claims read back from an access token.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReadClaims {
    /// Token id.
    pub jti: String,
    /// Auth event.
    pub authentication_event_id: String,
    /// Scopes.
    pub scope: Vec<String>,
    /// User.
    pub xero_userid: String,
    /// App.
    pub client_id: String,
}

fn sign<T: Serialize>(sim: &Sim, claims: &T) -> String {
    let Ok(key) = jsonwebtoken::EncodingKey::from_secret(&sim.jwt_secret) else {
        return String::new();
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &key,
    )
    .unwrap_or_default()
}

/// Mints a token response for a grant (reference §5.5).
fn issue(sim: &Sim, id: &mut Identity, grant_idx: usize, nonce: Option<&str>) -> serde_json::Value {
    let s = sim.settings();
    let now = sim.now();
    let g = id.grants[grant_idx].clone();
    let jti = crate::state::new_uuid();
    let user = id.users.iter().find(|u| u.user_id == g.user_id).cloned();
    let sub = format!("{:x}", Sha256::digest(g.user_id.as_bytes()));
    let sub = &sub[..32];
    let session = g.auth_event_id.replace('-', "");
    let exp = now + Duration::seconds(s.access_token_secs);
    let access = sign(
        sim,
        &AccessClaims {
            nbf: now.timestamp(),
            exp: exp.timestamp(),
            iat: now.timestamp(),
            iss: ISSUER,
            aud: AUDIENCE,
            client_id: &g.client_id,
            sub,
            auth_time: now.timestamp(),
            xero_userid: &g.user_id,
            global_session_id: &session,
            jti: &jti,
            authentication_event_id: &g.auth_event_id,
            scope: &g.scope,
        },
    );
    id.access.insert(
        jti,
        AccessRec {
            grant: grant_idx,
            expires: exp,
            forced_expired: false,
        },
    );
    let mut out = serde_json::json!({
        "access_token": access,
        "expires_in": s.access_token_secs,
        "token_type": "Bearer",
        "scope": g.scope.join(" "),
    });
    if g.scope.iter().any(|x| x == "offline_access") {
        let rt = random_token(32);
        id.refresh.insert(
            rt.clone(),
            RefreshRec {
                grant: grant_idx,
                issued: now,
                rotated_at: None,
                dead: false,
            },
        );
        out["refresh_token"] = rt.into();
    }
    if g.scope.iter().any(|x| x == "openid") {
        if let Some(u) = user {
            let idt = sign(
                sim,
                &IdClaims {
                    nbf: now.timestamp(),
                    exp: (now + Duration::minutes(5)).timestamp(),
                    iat: now.timestamp(),
                    iss: ISSUER,
                    aud: &g.client_id,
                    sub,
                    auth_time: now.timestamp(),
                    xero_userid: &u.user_id,
                    global_session_id: &session,
                    preferred_username: &u.email,
                    email: &u.email,
                    given_name: &u.given_name,
                    family_name: &u.family_name,
                    name: format!("{} {}", u.given_name, u.family_name),
                    nonce,
                },
            );
            out["id_token"] = idt.into();
        }
    }
    out
}

/// The `client_id` of a token/revocation request: the form field, else the user part of an
/// HTTP Basic `Authorization` header (what OAuth libraries send for confidential clients).
fn form_client_id(f: &mut HashMap<String, String>, headers: &HeaderMap) {
    if f.contains_key("client_id") {
        return;
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    if let Some(user) = basic.as_deref().and_then(|s| s.split(':').next()) {
        let id = url::form_urlencoded::parse(format!("x={user}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        f.insert("client_id".into(), id);
    }
}

/// `POST /connect/token` (reference §5.2, §5.5, §5.7).
pub async fn token(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Form(mut f): Form<HashMap<String, String>>,
) -> Response {
    sim.count("POST /connect/token", None);
    form_client_id(&mut f, &headers);
    let fault = sim.take_fault("/connect/token");
    if let Some(r) = faults::before(&fault).await {
        return r;
    }
    let resp = token_inner(&sim, &f);
    faults::after(fault, resp).await
}

fn token_inner(sim: &Sim, f: &HashMap<String, String>) -> Response {
    let s = sim.settings();
    let now = sim.now();
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let client_id = get("client_id");
    let mut id = lock(&sim.identity);
    if !id.apps.contains_key(client_id) {
        return oauth_error("invalid_client", "Unknown client");
    }
    let body = match get("grant_type") {
        "authorization_code" => {
            let code = get("code");
            let Some(rec) = id.codes.get_mut(code) else {
                return oauth_error("invalid_grant", "Invalid authorization code");
            };
            if rec.used {
                return oauth_error("invalid_grant", "Authorization code already used");
            }
            if now > rec.expires {
                return oauth_error("invalid_grant", "Authorization code expired");
            }
            if rec.client_id != client_id || rec.redirect_uri != get("redirect_uri") {
                return oauth_error("invalid_grant", "client_id or redirect_uri mismatch");
            }
            let v = get("code_verifier");
            if !verifier_ok(v) || s256(v) != rec.challenge {
                return oauth_error("invalid_grant", "Invalid code_verifier");
            }
            rec.used = true;
            let rec = rec.clone();
            let mut scope = rec.scope.clone();
            if s.accumulate_scopes {
                // Scopes add up across consents until revoked (§5.4).
                for g in id.grants.iter().filter(|g| {
                    !g.revoked && g.user_id == rec.user_id && g.client_id == rec.client_id
                }) {
                    for sc in &g.scope {
                        if !scope.contains(sc) {
                            scope.push(sc.clone());
                        }
                    }
                }
            }
            id.grants.push(Grant {
                user_id: rec.user_id,
                client_id: rec.client_id,
                scope,
                auth_event_id: rec.auth_event_id,
                revoked: false,
            });
            let gi = id.grants.len() - 1;
            issue(sim, &mut id, gi, rec.nonce.as_deref())
        }
        "refresh_token" => {
            let rt = get("refresh_token");
            let Some(rec) = id.refresh.get(rt).cloned() else {
                return oauth_error("invalid_grant", "Token has been expired or revoked.");
            };
            let g = &id.grants[rec.grant];
            if rec.dead || g.revoked || g.client_id != client_id {
                return oauth_error("invalid_grant", "Token has been expired or revoked.");
            }
            if now > rec.issued + Duration::days(s.refresh_token_days) {
                return oauth_error("invalid_grant", "Token has been expired or revoked.");
            }
            if let Some(at) = rec.rotated_at {
                if now > at + Duration::seconds(s.refresh_grace_secs) {
                    return oauth_error("invalid_grant", "Token has been expired or revoked.");
                }
                // Grace retry: the successors issued from this token are superseded.
                let gi = rec.grant;
                for (k, r) in id.refresh.iter_mut() {
                    if r.grant == gi && k != rt && r.rotated_at.is_none() {
                        r.dead = true;
                    }
                }
            }
            if let Some(r) = id.refresh.get_mut(rt) {
                r.rotated_at.get_or_insert(now);
            }
            issue(sim, &mut id, rec.grant, None)
        }
        "" => return oauth_error("invalid_request", "grant_type missing"),
        _ => return oauth_error("unsupported_grant_type", "Unsupported grant_type"),
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// Revokes every grant of (user, app) and drops that user's connections for the app.
pub fn revoke_user_app(id: &mut Identity, user_id: &str, client_id: &str) {
    for g in id
        .grants
        .iter_mut()
        .filter(|g| g.user_id == user_id && g.client_id == client_id)
    {
        g.revoked = true;
    }
    id.connections
        .retain(|c| !(c.user_id == user_id && c.client_id == client_id));
}

/// `POST /connect/revocation` with `token=<refresh_token>` (and `client_id`, §5.5).
pub async fn revocation(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Form(mut f): Form<HashMap<String, String>>,
) -> Response {
    sim.count("POST /connect/revocation", None);
    form_client_id(&mut f, &headers);
    let s = sim.settings();
    let token = f.get("token").cloned().unwrap_or_default();
    let client_id = f.get("client_id").cloned();
    let mut id = lock(&sim.identity);
    match &client_id {
        Some(c) if id.apps.contains_key(c) => {}
        Some(_) => return oauth_error("invalid_client", "Unknown client"),
        None if s.revocation_requires_client_id => {
            return oauth_error("invalid_client", "client_id is required")
        }
        None => {}
    }
    let grant =
        id.refresh.get(&token).map(|r| r.grant).or_else(|| {
            jwt_claims(&sim, &token).and_then(|c| id.access.get(&c.jti).map(|a| a.grant))
        });
    if let Some(gi) = grant {
        let g = id.grants[gi].clone();
        if client_id
            .as_deref()
            .map(|c| c == g.client_id)
            .unwrap_or(true)
        {
            revoke_user_app(&mut id, &g.user_id, &g.client_id);
        }
    }
    StatusCode::OK.into_response()
}

/// Decodes and verifies a simulator JWT (signature only; times are checked on the sim clock).
pub fn jwt_claims(sim: &Sim, token: &str) -> Option<ReadClaims> {
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[ISSUER]);
    v.required_spec_claims.clear();
    let key = jsonwebtoken::DecodingKey::from_secret(&sim.jwt_secret).ok()?;
    jsonwebtoken::decode::<ReadClaims>(token, &key, &v)
        .ok()
        .map(|d| d.claims)
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AuthFail {
    /// Missing, malformed, unknown or revoked.
    Invalid,
    /// Past its 30-minute life (or forced expired).
    Expired,
}

/// The caller behind a valid bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `xero_userid`.
    pub user_id: String,
    /// App.
    pub client_id: String,
    /// Granted scopes.
    pub scope: Vec<String>,
}

/// Checks `Authorization: Bearer …` against issued, unexpired, unrevoked access tokens.
pub fn check_bearer(sim: &Sim, headers: &HeaderMap) -> Result<Caller, AuthFail> {
    let h = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let tok = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
        .ok_or(AuthFail::Invalid)?;
    let c = jwt_claims(sim, tok.trim()).ok_or(AuthFail::Invalid)?;
    let id = lock(&sim.identity);
    let a = id.access.get(&c.jti).ok_or(AuthFail::Invalid)?;
    let g = &id.grants[a.grant];
    if g.revoked {
        return Err(AuthFail::Invalid);
    }
    if a.forced_expired || sim.now() >= a.expires {
        return Err(AuthFail::Expired);
    }
    Ok(Caller {
        user_id: g.user_id.clone(),
        client_id: g.client_id.clone(),
        scope: g.scope.clone(),
    })
}

/// The 401 problem body (reference §1.4 item 2).
pub fn unauthorized(fail: AuthFail) -> Response {
    let detail = match fail {
        AuthFail::Invalid => "AuthenticationUnsuccessful",
        AuthFail::Expired => "TokenExpired: token expired",
    };
    problem(StatusCode::UNAUTHORIZED, "Unauthorized", detail, true)
}

/// A JSON problem-details response (`Type`, `Title`, `Status`, `Detail`, `Instance`, `Extensions`).
pub fn problem(status: StatusCode, title: &str, detail: &str, www_auth: bool) -> Response {
    let body = serde_json::json!({
        "Type": null,
        "Title": title,
        "Status": status.as_u16(),
        "Detail": detail,
        "Instance": crate::state::new_uuid(),
        "Extensions": {}
    })
    .to_string();
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response();
    if www_auth {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer error=invalid_token"),
        );
    }
    r
}

/// `GET /connections[?authEventId=…]` (reference §5.6).
pub async fn connections(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    sim.count("GET /connections", None);
    let fault = sim.take_fault("GET /connections");
    if let Some(r) = faults::before(&fault).await {
        return r;
    }
    let caller = match check_bearer(&sim, &headers) {
        Ok(c) => c,
        Err(e) => return unauthorized(e),
    };
    if sim.settings().connections_count_app_limit {
        if let Err(r) = crate::limits::app_only(&sim) {
            return *r;
        }
    }
    let body = {
        let id = lock(&sim.identity);
        let mut list: Vec<&Connection> = id
            .connections
            .iter()
            .filter(|c| c.user_id == caller.user_id && c.client_id == caller.client_id)
            .filter(|c| {
                q.get("authEventId")
                    .map(|a| a.eq_ignore_ascii_case(&c.auth_event_id))
                    .unwrap_or(true)
            })
            .collect();
        if sim.settings().shuffle_connections {
            use rand::seq::SliceRandom;
            list.shuffle(&mut rand::thread_rng());
        }
        serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
    };
    let r = (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response();
    faults::after(fault, r).await
}

/// `DELETE /connections/{id}` → 204 (reference §5.1).
pub async fn delete_connection(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Path(cid): Path<String>,
) -> Response {
    sim.count("DELETE /connections", None);
    let caller = match check_bearer(&sim, &headers) {
        Ok(c) => c,
        Err(e) => return unauthorized(e),
    };
    let mut id = lock(&sim.identity);
    let before = id.connections.len();
    id.connections.retain(|c| {
        !(c.id == cid && c.user_id == caller.user_id && c.client_id == caller.client_id)
    });
    if id.connections.len() == before {
        return problem(
            StatusCode::NOT_FOUND,
            "NotFound",
            "Connection not found",
            false,
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /connect/userinfo` (reference §5.1, UNCONFIRMED path): name and email of the caller.
pub async fn userinfo(State(sim): State<Shared>, headers: HeaderMap) -> Response {
    sim.count("GET /connect/userinfo", None);
    let caller = match check_bearer(&sim, &headers) {
        Ok(c) => c,
        Err(e) => return unauthorized(e),
    };
    let id = lock(&sim.identity);
    let Some(u) = id.users.iter().find(|u| u.user_id == caller.user_id) else {
        return unauthorized(AuthFail::Invalid);
    };
    axum::Json(serde_json::json!({
        "sub": u.user_id, "xero_userid": u.user_id, "email": u.email,
        "given_name": u.given_name, "family_name": u.family_name,
        "name": format!("{} {}", u.given_name, u.family_name),
    }))
    .into_response()
}
