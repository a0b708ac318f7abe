//! Identity: authorize, consent page, redirect rules, PKCE, codes, tokens, refresh rotation and
//! grace, expiry on the simulator clock, revocation, /connections (reference §5).

use chrono::Duration;
use reqwest::StatusCode;
use xpm_sim::DEFAULT_CLIENT_ID;

use crate::common::*;

#[tokio::test]
async fn code_flow_issues_xero_shaped_tokens() {
    let s = sim().await;
    let c = http();
    let t = login_with(&s, &c, SCOPE).await;
    assert_eq!(
        t["expires_in"], 1800,
        "access token lives 30 minutes (§5.5)"
    );
    assert_eq!(t["token_type"], "Bearer");
    assert!(
        t["refresh_token"].as_str().is_some(),
        "offline_access gives a refresh token"
    );
    let at = jwt_payload(t["access_token"].as_str().expect("access_token"));
    assert_eq!(
        at["exp"].as_i64().unwrap() - at["nbf"].as_i64().unwrap(),
        1800,
        "exp - nbf = 1800 as in the recorded token (§5.5)"
    );
    assert_eq!(at["iss"], "https://identity.xero.com");
    assert_eq!(at["aud"], "https://identity.xero.com/resources");
    assert!(
        at["authentication_event_id"].as_str().is_some(),
        "auth event claim"
    );
    assert!(at["xero_userid"].as_str().is_some(), "xero_userid claim");
    let scopes: Vec<&str> = at["scope"]
        .as_array()
        .expect("scope is an array")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        scopes.contains(&"practicemanager.client"),
        "scope array carries the granted scopes"
    );
    let idt = jwt_payload(t["id_token"].as_str().expect("openid gives an id_token"));
    assert_eq!(idt["email"], "ivy@smallpractice.example");
    assert_eq!(idt["name"], "Ivy Marsh");
    assert_eq!(idt["aud"], DEFAULT_CLIENT_ID);
}

#[tokio::test]
async fn redirect_uri_rules() {
    let s = sim().await;
    let c = http();
    s.admin
        .register_redirect_uri(DEFAULT_CLIENT_ID, "myapp://callback")
        .expect("registered anyway");
    s.admin
        .register_redirect_uri(DEFAULT_CLIENT_ID, "http://example.com/cb")
        .expect("registered anyway");
    s.admin
        .register_redirect_uri(DEFAULT_CLIENT_ID, "http://127.0.0.1:47615/callback")
        .expect("registered");
    for bad in [
        "myapp://callback",
        "http://example.com/cb",
        "http://127.0.0.1:47615/callback",
        "http://localhost:9999/callback",
        "https://evil.example/callback",
    ] {
        let r = c
            .get(authorize_url(&s, bad, SCOPE, "x"))
            .send()
            .await
            .expect("authorize");
        assert_eq!(
            r.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{bad}: error page, not a redirect (§5.3)"
        );
        assert!(r.headers().get("location").is_none(), "{bad}: no redirect");
        let body = r.text().await.unwrap_or_default();
        assert!(
            body.contains("id=\"error\""),
            "{bad}: the error page names the error"
        );
    }
    for good in [
        "http://localhost:47616/callback",
        "https://structuregram.example/oauth/callback",
    ] {
        let r = c
            .get(authorize_url(&s, good, SCOPE, "x"))
            .send()
            .await
            .expect("authorize");
        assert_eq!(
            r.status(),
            StatusCode::FOUND,
            "{good}: registered https or exact localhost port redirects"
        );
        assert!(r.headers()["location"].to_str().unwrap().starts_with(good));
    }
    s.admin.update_settings(|st| st.localhost_any_port = true);
    let r = c
        .get(authorize_url(
            &s,
            "http://localhost:9999/callback",
            SCOPE,
            "x",
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        r.status(),
        StatusCode::FOUND,
        "localhost_any_port knob relaxes the port rule"
    );
}

#[tokio::test]
async fn authorize_refuses_bad_client_scope_and_missing_pkce() {
    let s = sim().await;
    let c = http();
    let u = authorize_url(&s, REDIRECT, SCOPE, "x").replace(DEFAULT_CLIENT_ID, "nope");
    let r = c.get(u).send().await.expect("authorize");
    assert_eq!(
        r.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "unknown client: error page"
    );
    let r = c
        .get(authorize_url(
            &s,
            REDIRECT,
            "openid accounting.transactions",
            "x",
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(
        r.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "scope not granted to the app: invalid_scope page"
    );
    assert!(r.text().await.unwrap().contains("invalid_scope"));
    let u = authorize_url(&s, REDIRECT, SCOPE, "x")
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let r = c.get(u).send().await.expect("authorize");
    assert_eq!(
        r.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "PKCE S256 is required"
    );
}

#[tokio::test]
async fn pkce_code_reuse_and_code_expiry() {
    let s = sim().await;
    let c = http();
    let code1 = code(&s, &c, SCOPE).await;
    let (st, e) = exchange(
        &s,
        &c,
        &code1,
        "wrong-verifier-wrong-verifier-wrong-verifier-x",
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "PKCE mismatch fails");
    assert_eq!(e["error"], "invalid_grant");
    let (st, _) = exchange(&s, &c, &code1, VERIFIER).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "a failed verifier does not burn the code"
    );
    let (st, e) = exchange(&s, &c, &code1, VERIFIER).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "codes are single-use"
    );
    let code2 = code(&s, &c, SCOPE).await;
    s.admin.advance(Duration::seconds(31));
    let (st, e) = exchange(&s, &c, &code2, VERIFIER).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "codes live 30 s"
    );
    let (st, e) = token_form(
        &s,
        &c,
        &[("grant_type", "password"), ("client_id", DEFAULT_CLIENT_ID)],
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let (_, e) = token_form(
        &s,
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "nope"),
            ("refresh_token", "x"),
        ],
    )
    .await;
    assert_eq!(e["error"], "invalid_client");
}

#[tokio::test]
async fn refresh_rotation_and_grace() {
    let s = sim().await;
    let c = http();
    let t = login_with(&s, &c, SCOPE).await;
    let r0 = t["refresh_token"].as_str().unwrap().to_string();
    let (st, t1) = refresh(&s, &c, &r0).await;
    assert_eq!(st, StatusCode::OK);
    let r1 = t1["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(
        r0, r1,
        "every refresh returns a new refresh token (rotation)"
    );
    s.admin.advance(Duration::minutes(29));
    let (st, t2) = refresh(&s, &c, &r0).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "old token retried within the 30-minute grace works"
    );
    let r2 = t2["refresh_token"].as_str().unwrap().to_string();
    s.admin.advance(Duration::minutes(2));
    let (st, e) = refresh(&s, &c, &r0).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "after 30 minutes: invalid_grant"
    );
    let (st, _) = refresh(&s, &c, &r2).await;
    assert_eq!(st, StatusCode::OK, "the newest token keeps working");
}

#[tokio::test]
async fn refresh_accepts_client_id_in_basic_auth_and_admin_expiry() {
    use base64::Engine;
    let s = sim().await;
    let c = http();
    let t = login_with(&s, &c, SCOPE).await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{DEFAULT_CLIENT_ID}:"));
    let r = c
        .post(&s.urls.token_url)
        .header("Authorization", format!("Basic {basic}"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "client_id from HTTP Basic works too"
    );
    let t2: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    s.admin.expire_refresh_tokens();
    let (st, e) = refresh(&s, &c, t2["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "admin expiry"
    );
}

#[tokio::test]
async fn refresh_token_expires_after_60_days_unused() {
    let s = sim().await;
    let c = http();
    let t = login_with(&s, &c, SCOPE).await;
    let r0 = t["refresh_token"].as_str().unwrap().to_string();
    s.admin.advance(Duration::days(59));
    let (st, t1) = refresh(&s, &c, &r0).await;
    assert_eq!(st, StatusCode::OK, "59 days unused: still valid");
    let r1 = t1["refresh_token"].as_str().unwrap().to_string();
    s.admin.advance(Duration::days(60) + Duration::minutes(1));
    let (st, e) = refresh(&s, &c, &r1).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "60 days unused: expired"
    );
}

#[tokio::test]
async fn access_token_expires_after_30_minutes() {
    let s = sim().await;
    let c = http();
    let tok = login(&s, &c).await;
    assert_eq!(
        get(&s, &c, &tok, "clientgroup.api/list").await.status,
        StatusCode::OK
    );
    s.admin.advance(Duration::minutes(30));
    let r = get(&s, &c, &tok, "clientgroup.api/list").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "expired after 1800 s");
    assert_eq!(
        r.header("www-authenticate").as_deref(),
        Some("Bearer error=invalid_token")
    );
    let j: serde_json::Value =
        serde_json::from_str(&r.body).expect("401 body is JSON problem details");
    assert_eq!(j["Status"], 401);
    assert_eq!(j["Title"], "Unauthorized");
    assert!(j["Detail"].as_str().unwrap().contains("TokenExpired"));
}

#[tokio::test]
async fn revocation_drops_connections() {
    let s = sim().await;
    let c = http();
    let t = login_with(&s, &c, SCOPE).await;
    let rt = t["refresh_token"].as_str().unwrap();
    let at = t["access_token"].as_str().unwrap();
    let r = c
        .post(&s.urls.revocation_url)
        .form(&[("token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "client_id required for a PKCE app (UNCONFIRMED, demanding)"
    );
    let r = c
        .post(&s.urls.revocation_url)
        .form(&[("token", rt), ("client_id", DEFAULT_CLIENT_ID)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, e) = refresh(&s, &c, rt).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "revoked refresh token"
    );
    let r = c
        .get(&s.urls.connections_url)
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "access tokens of the revoked grant stop working"
    );
    // Log in again: the earlier connection is gone; a fresh one appears.
    let at2 = login(&s, &c).await;
    let r = c
        .get(&s.urls.connections_url)
        .bearer_auth(&at2)
        .send()
        .await
        .unwrap();
    let list: serde_json::Value = r.json_or_panic().await;
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "one PRACTICEMANAGER + one ORGANISATION connection"
    );
}

trait JsonOrPanic {
    async fn json_or_panic(self) -> serde_json::Value;
}

impl JsonOrPanic for reqwest::Response {
    async fn json_or_panic(self) -> serde_json::Value {
        let t = self.text().await.expect("body");
        serde_json::from_str(&t).expect("JSON body")
    }
}

#[tokio::test]
async fn connections_list_types_and_auth_event_filter() {
    let s = sim().await;
    let c = http();
    let at = login(&s, &c).await;
    let ev = jwt_payload(&at)["authentication_event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = c
        .get(&s.urls.connections_url)
        .bearer_auth(&at)
        .send()
        .await
        .unwrap()
        .json_or_panic()
        .await;
    let arr = list.as_array().expect("array");
    let types: Vec<&str> = arr
        .iter()
        .map(|x| x["tenantType"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"PRACTICEMANAGER") && types.contains(&"ORGANISATION"),
        "both tenant types: {types:?}"
    );
    for x in arr {
        for k in [
            "id",
            "authEventId",
            "tenantId",
            "tenantType",
            "tenantName",
            "createdDateUtc",
            "updatedDateUtc",
        ] {
            assert!(x.get(k).is_some(), "connection has {k} (§5.6)");
        }
    }
    let pm = arr
        .iter()
        .find(|x| x["tenantType"] == "PRACTICEMANAGER")
        .unwrap();
    assert_eq!(pm["tenantId"], SMALL_TENANT);
    assert_ne!(
        pm["id"], pm["tenantId"],
        "connection id is not the tenant id"
    );
    let u = format!("{}?authEventId={ev}", s.urls.connections_url);
    let f = c
        .get(&u)
        .bearer_auth(&at)
        .send()
        .await
        .unwrap()
        .json_or_panic()
        .await;
    assert_eq!(
        f.as_array().unwrap().len(),
        2,
        "filter by this consent's event"
    );
    let u = format!(
        "{}?authEventId=00000000-0000-0000-0000-000000000000",
        s.urls.connections_url
    );
    let f = c
        .get(&u)
        .bearer_auth(&at)
        .send()
        .await
        .unwrap()
        .json_or_panic()
        .await;
    assert_eq!(f.as_array().unwrap().len(), 0, "other events filtered out");
    let r = c.get(&s.urls.connections_url).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "no token, no connections"
    );
    // DELETE a connection → 204, and the tenant becomes forbidden.
    let id = pm["id"].as_str().unwrap();
    let r = c
        .delete(format!("{}/{id}", s.urls.connections_url))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&s, &c, &at, "clientgroup.api/list").await.status,
        StatusCode::FORBIDDEN,
        "tenant no longer connected"
    );
}

#[tokio::test]
async fn consent_page_sign_in_allow_and_deny() {
    let s = sim().await;
    s.admin.set_auto_approve(None);
    let c = http();
    let page = c
        .get(authorize_url(&s, REDIRECT, SCOPE, "st-9"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("SIMULATOR"),
        "the page says it is a simulator"
    );
    assert!(
        html.contains("id=\"email\"")
            && html.contains("id=\"password\"")
            && html.contains("id=\"sign-in\"")
    );
    let rid = html
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let bad = c
        .post(format!("{}/signin", s.urls.authorize_url))
        .form(&[
            ("request_id", rid.as_str()),
            ("email", "ivy@smallpractice.example"),
            ("password", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        bad.text().await.unwrap().contains("id=\"signin-error\""),
        "wrong password is refused"
    );
    let consent = c
        .post(format!("{}/signin", s.urls.authorize_url))
        .form(&[
            ("request_id", rid.as_str()),
            ("email", "ivy@smallpractice.example"),
            ("password", "sim-password"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        consent.contains("id=\"allow\"") && consent.contains("id=\"deny\""),
        "stable button ids"
    );
    assert!(
        consent.contains(&format!("id=\"tenant-{SMALL_TENANT}\"")),
        "the user's practice is offered"
    );
    let r = c
        .post(format!("{}/consent", s.urls.authorize_url))
        .form(&[
            ("request_id", rid.as_str()),
            ("tenant_id", SMALL_TENANT),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let p = location_params(r.headers());
    assert_eq!(param(&p, "state").as_deref(), Some("st-9"));
    let (st, _) = exchange(&s, &c, &param(&p, "code").unwrap(), VERIFIER).await;
    assert_eq!(st, StatusCode::OK, "the consent page's code exchanges");
    // Deny.
    let html = c
        .get(authorize_url(&s, REDIRECT, SCOPE, "st-10"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rid = html
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    c.post(format!("{}/signin", s.urls.authorize_url))
        .form(&[
            ("request_id", rid.as_str()),
            ("email", "ivy@smallpractice.example"),
            ("password", "sim-password"),
        ])
        .send()
        .await
        .unwrap();
    let r = c
        .post(format!("{}/consent", s.urls.authorize_url))
        .form(&[("request_id", rid.as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let p = location_params(r.headers());
    assert_eq!(param(&p, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&p, "state").as_deref(), Some("st-10"));
    assert!(param(&p, "code").is_none());
}

#[tokio::test]
async fn consent_page_offers_each_of_the_users_practices() {
    let cfg = xpm_sim::SimConfig {
        practices: vec![
            xpm_sim::PracticeSource::Fixture(xpm_sim::small_practice_fixture()),
            xpm_sim::PracticeSource::Fixture(xpm_sim::second_practice_fixture()),
        ],
        auto_approve: None,
        ..xpm_sim::SimConfig::for_tests()
    };
    let s = xpm_sim::start(cfg).await.unwrap();
    let c = http();
    let html = c
        .get(authorize_url(&s, REDIRECT, SCOPE, "m"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rid = html
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let consent = c
        .post(format!("{}/signin", s.urls.authorize_url))
        .form(&[
            ("request_id", rid.as_str()),
            ("email", "IVY@smallpractice.example"),
            ("password", "sim-password"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        consent.contains(&format!("id=\"tenant-{SMALL_TENANT}\""))
            && consent.contains(&format!("id=\"tenant-{SECOND_TENANT}\"")),
        "both practices offered"
    );
    let r = c
        .post(format!("{}/consent", s.urls.authorize_url))
        .form(&[
            ("request_id", rid.as_str()),
            ("tenant_id", SECOND_TENANT),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let code = param(&location_params(r.headers()), "code").unwrap();
    let (_, t) = exchange(&s, &c, &code, VERIFIER).await;
    let at = t["access_token"].as_str().unwrap();
    let ev = jwt_payload(at)["authentication_event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = c
        .get(format!("{}?authEventId={ev}", s.urls.connections_url))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json_or_panic()
        .await;
    let pm: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["tenantType"] == "PRACTICEMANAGER")
        .map(|x| x["tenantId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        pm,
        vec![SECOND_TENANT.to_string()],
        "only the chosen practice is connected by this consent"
    );
    assert_eq!(
        call(
            &s,
            &c,
            at,
            Some(SMALL_TENANT),
            reqwest::Method::GET,
            "clientgroup.api/list",
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN,
        "the practice not chosen is not connected"
    );
    let g = call(
        &s,
        &c,
        at,
        Some(SECOND_TENANT),
        reqwest::Method::GET,
        "clientgroup.api/get/00000000-bbbb-4bbb-8ccc-0000000000f1",
        None,
    )
    .await;
    assert!(g.body.contains("Tama Ngata"), "second practice's data");
}

#[tokio::test]
async fn deny_without_redirect_when_configured() {
    let s = sim().await;
    s.admin.set_auto_approve(None);
    s.admin.update_settings(|st| st.deny_redirects = false);
    let c = http();
    let html = c
        .get(authorize_url(&s, REDIRECT, SCOPE, "d"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rid = html
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    c.post(format!("{}/signin", s.urls.authorize_url))
        .form(&[
            ("request_id", rid.as_str()),
            ("email", "ivy@smallpractice.example"),
            ("password", "sim-password"),
        ])
        .send()
        .await
        .unwrap();
    let r = c
        .post(format!("{}/consent", s.urls.authorize_url))
        .form(&[("request_id", rid.as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "no callback at all (§5.7: handle both)"
    );
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("id=\"denied\""));
}
