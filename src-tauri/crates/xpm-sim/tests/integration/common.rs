//! Helpers shared by the integration tests: start a simulator, run the PKCE flow, call XPM.

use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use xpm_sim::{start, SimConfig, SimServer, DEFAULT_CLIENT_ID};

/// Tenant id of the shipped small fixture.
pub const SMALL_TENANT: &str = "5a1e0000-0000-4000-8000-000000000001";
/// Tenant id of the second shipped fixture (same user).
pub const SECOND_TENANT: &str = "5a1e0000-0000-4000-8000-000000000002";
/// A valid 43-character PKCE verifier (RFC 7636 appendix B).
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// A registered redirect URI of the default app.
pub const REDIRECT: &str = "http://localhost:47615/callback";
/// The scopes the desktop app asks for (reference §5.4 suggestion, plus staff.read).
pub const SCOPE: &str =
    "openid profile email offline_access practicemanager.client practicemanager.staff.read";

pub async fn sim() -> SimServer {
    start(SimConfig::for_tests())
        .await
        .expect("simulator starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}

pub fn challenge(v: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}

pub fn authorize_url(s: &SimServer, redirect: &str, scope: &str, state: &str) -> String {
    let mut u = url::Url::parse(&s.urls.authorize_url).expect("url");
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", DEFAULT_CLIENT_ID)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("code_challenge", &challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    u.to_string()
}

/// Query parameters of a redirect's Location.
pub fn location_params(h: &HeaderMap) -> Vec<(String, String)> {
    let loc = h
        .get("location")
        .expect("a redirect has a Location")
        .to_str()
        .expect("ascii");
    url::Url::parse(loc)
        .expect("absolute Location")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(p: &[(String, String)], k: &str) -> Option<String> {
    p.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone())
}

/// Auto-approve authorize → code.
pub async fn code(s: &SimServer, c: &reqwest::Client, scope: &str) -> String {
    let r = c
        .get(authorize_url(s, REDIRECT, scope, "st-1"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND, "auto-approve redirects");
    let p = location_params(r.headers());
    assert_eq!(param(&p, "state").as_deref(), Some("st-1"), "state echoed");
    param(&p, "code").expect("code in redirect")
}

pub async fn token_form(
    s: &SimServer,
    c: &reqwest::Client,
    form: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let r = c
        .post(&s.urls.token_url)
        .form(form)
        .send()
        .await
        .expect("token call");
    let st = r.status();
    let t = r.text().await.expect("body");
    (
        st,
        serde_json::from_str(&t).unwrap_or(serde_json::Value::Null),
    )
}

pub async fn exchange(
    s: &SimServer,
    c: &reqwest::Client,
    code: &str,
    verifier: &str,
) -> (StatusCode, serde_json::Value) {
    token_form(
        s,
        c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub async fn refresh(
    s: &SimServer,
    c: &reqwest::Client,
    rt: &str,
) -> (StatusCode, serde_json::Value) {
    token_form(
        s,
        c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("refresh_token", rt),
        ],
    )
    .await
}

/// Full login with `scope`; returns the token response.
pub async fn login_with(s: &SimServer, c: &reqwest::Client, scope: &str) -> serde_json::Value {
    let code = code(s, c, scope).await;
    let (st, t) = exchange(s, c, &code, VERIFIER).await;
    assert_eq!(st, StatusCode::OK, "exchange succeeds: {t}");
    t
}

pub async fn login(s: &SimServer, c: &reqwest::Client) -> String {
    login_with(s, c, SCOPE).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

pub fn jwt_payload(t: &str) -> serde_json::Value {
    let mid = t.split('.').nth(1).expect("JWT has 3 parts");
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(mid)
        .expect("base64url payload");
    serde_json::from_slice(&b).expect("JSON payload")
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, k: &str) -> Option<String> {
        self.headers
            .get(k)
            .map(|v| v.to_str().unwrap_or("").to_string())
    }
}

pub async fn call(
    s: &SimServer,
    c: &reqwest::Client,
    token: &str,
    tenant: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> Resp {
    let mut rb = c
        .request(method, format!("{}/{}", s.urls.xpm_base, path))
        .bearer_auth(token)
        .header("Accept", "application/xml");
    if let Some(t) = tenant {
        rb = rb.header("Xero-Tenant-Id", t);
    }
    if let Some(b) = body {
        rb = rb
            .header("Content-Type", "application/xml")
            .body(b.to_string());
    }
    let r = rb.send().await.expect("XPM call");
    Resp {
        status: r.status(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap_or_default(),
    }
}

pub async fn get(s: &SimServer, c: &reqwest::Client, token: &str, path: &str) -> Resp {
    call(
        s,
        c,
        token,
        Some(SMALL_TENANT),
        reqwest::Method::GET,
        path,
        None,
    )
    .await
}

pub async fn post(s: &SimServer, c: &reqwest::Client, token: &str, path: &str, body: &str) -> Resp {
    call(
        s,
        c,
        token,
        Some(SMALL_TENANT),
        reqwest::Method::POST,
        path,
        Some(body),
    )
    .await
}

pub async fn put(s: &SimServer, c: &reqwest::Client, token: &str, path: &str, body: &str) -> Resp {
    call(
        s,
        c,
        token,
        Some(SMALL_TENANT),
        reqwest::Method::PUT,
        path,
        Some(body),
    )
    .await
}

pub fn status_of(body: &str) -> String {
    let n = xpm_sim::xml::Node::parse(body).expect("well-formed XML envelope");
    assert_eq!(n.name, "Response", "root is <Response>");
    n.child_text("Status").unwrap_or("").to_string()
}
