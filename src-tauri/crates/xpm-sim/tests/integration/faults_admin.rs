//! Faults, data changes, counters and the HTTP admin API (issue 3 item 4), fixture loading
//! and the generator at full size (item 5).

use std::time::Instant;

use reqwest::StatusCode;
use xpm_sim::xml::Node;
use xpm_sim::{FaultKind, GenSpec, PracticeSource, SimConfig};

use crate::common::*;

#[tokio::test]
async fn status_faults_then_recovery() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    s.admin
        .inject(FaultKind::Status500, 2, Some("clientgroup.api/list"));
    s.admin.inject(FaultKind::Status503, 1, Some("staff.api"));
    for _ in 0..2 {
        assert_eq!(
            get(&s, &c, &t, "clientgroup.api/list").await.status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(
        get(&s, &c, &t, "clientgroup.api/list").await.status,
        StatusCode::OK,
        "only N× 500"
    );
    let r = get(&s, &c, &t, "staff.api/list").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("ServiceNotAvailable"));
}

#[tokio::test]
async fn lost_add_response_is_applied_on_the_server() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let before = s.admin.practices()[0].clients;
    s.admin
        .inject(FaultKind::LoseResponse, 1, Some("client.api/add"));
    let r = c
        .post(format!("{}/client.api/add", s.urls.xpm_base))
        .bearer_auth(&t)
        .header("Xero-Tenant-Id", SMALL_TENANT)
        .body("<Client><Name>Lost Response Pty Ltd</Name></Client>")
        .send()
        .await;
    let failed = r.is_err();
    assert!(failed, "the client never sees the answer");
    assert!(
        s.admin
            .find_client(SMALL_TENANT, "Lost Response Pty Ltd")
            .unwrap()
            .is_some(),
        "but the add was applied"
    );
    assert_eq!(s.admin.practices()[0].clients, before + 1, "exactly once");
    assert_eq!(
        s.admin.counters().per_endpoint.get("POST client.api/add"),
        Some(&1),
        "one add reached the server"
    );
}

#[tokio::test]
async fn lost_refresh_response_then_grace_retry() {
    let s = sim().await;
    let c = http();
    let tk = login_with(&s, &c, SCOPE).await;
    let rt = tk["refresh_token"].as_str().unwrap();
    s.admin
        .inject(FaultKind::LoseResponse, 1, Some("/connect/token"));
    let r = c
        .post(&s.urls.token_url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", xpm_sim::DEFAULT_CLIENT_ID),
            ("refresh_token", rt),
        ])
        .send()
        .await;
    let failed = r.is_err();
    assert!(failed, "refresh response lost");
    let (st, t2) = refresh(&s, &c, rt).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "retry with the old token inside the grace period"
    );
    assert!(t2["refresh_token"].as_str().is_some());
}

#[tokio::test]
async fn truncated_malformed_and_dropped() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    s.admin
        .inject(FaultKind::Truncate, 1, Some("clientgroup.api/list"));
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        Node::parse(&r.body).is_err(),
        "truncated XML does not parse"
    );
    s.admin
        .inject(FaultKind::Malformed, 1, Some("clientgroup.api/list"));
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert!(
        Node::parse(&r.body).is_err(),
        "malformed XML does not parse"
    );
    s.admin.inject(FaultKind::Drop, 1, None);
    let r = c
        .get(format!("{}/clientgroup.api/list", s.urls.xpm_base))
        .bearer_auth(&t)
        .header("Xero-Tenant-Id", SMALL_TENANT)
        .send()
        .await;
    let failed = r.is_err();
    assert!(failed, "dropped connection");
    assert_eq!(
        get(&s, &c, &t, "clientgroup.api/list").await.status,
        StatusCode::OK,
        "then normal"
    );
}

#[tokio::test]
async fn admin_revoke_and_expire_tokens() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    s.admin.expire_access_tokens();
    assert_eq!(
        get(&s, &c, &t, "clientgroup.api/list").await.status,
        StatusCode::UNAUTHORIZED
    );
    let t = login(&s, &c).await;
    s.admin.revoke_user("ivy@smallpractice.example");
    assert_eq!(
        get(&s, &c, &t, "clientgroup.api/list").await.status,
        StatusCode::UNAUTHORIZED,
        "revoked grant"
    );
}

#[tokio::test]
async fn counters_and_http_admin_api() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    get(&s, &c, &t, "clientgroup.api/list").await;
    get(&s, &c, &t, "clientgroup.api/list").await;
    let k = s.admin.counters();
    assert_eq!(k.per_endpoint.get("GET clientgroup.api/list"), Some(&2));
    assert_eq!(k.per_tenant.get(SMALL_TENANT), Some(&2));
    assert_eq!(k.per_endpoint.get("POST /connect/token"), Some(&1));
    // Same controls over HTTP.
    let a = &s.urls.admin_base;
    let r = c
        .post(format!("{a}/faults"))
        .json_body(r#"{"kind":"status500","count":1,"path":"staff.api"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        get(&s, &c, &t, "staff.api/list").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let r = c
        .put(format!("{a}/settings"))
        .json_body(r#"{"day_limit":1000}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.admin.settings().day_limit,
        1000,
        "settings patched over HTTP"
    );
    let r = c
        .post(format!("{a}/data/{SMALL_TENANT}/rename"))
        .json_body(r#"{"client":"00000000-aaaa-4bbb-8ccc-000000000002","name":"Rowan J Fernhill"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(get(
        &s,
        &c,
        &t,
        "client.api/get/00000000-aaaa-4bbb-8ccc-000000000002"
    )
    .await
    .body
    .contains("Rowan J Fernhill"));
    let k: serde_json::Value = serde_json::from_str(
        &c.get(format!("{a}/counters"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(k["per_endpoint"]["GET staff.api/list"].as_u64().is_some());
    let before = s.admin.now();
    c.post(format!("{a}/clock/advance"))
        .json_body(r#"{"seconds":3600}"#)
        .send()
        .await
        .unwrap();
    assert!(
        s.admin.now() - before >= chrono::Duration::seconds(3600),
        "clock advanced over HTTP"
    );
}

trait JsonBody {
    fn json_body(self, s: &str) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, s: &str) -> Self {
        self.header("Content-Type", "application/json")
            .body(s.to_string())
    }
}

#[tokio::test]
async fn admin_data_changes_for_reconciliation() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let rowan = "00000000-aaaa-4bbb-8ccc-000000000002";
    let anna = "00000000-aaaa-4bbb-8ccc-000000000009";
    let g1 = "00000000-aaaa-4bbb-8ccc-0000000000f1";
    let g2 = "00000000-aaaa-4bbb-8ccc-0000000000f2";
    s.admin
        .set_client_field(
            SMALL_TENANT,
            rowan,
            "BusinessNumber",
            Some("51 824 753 556"),
        )
        .unwrap();
    let rel = s
        .admin
        .add_relationship(SMALL_TENANT, anna, rowan, "Spouse", 0, "0", None, None)
        .unwrap();
    s.admin
        .end_relationship(
            SMALL_TENANT,
            &rel,
            chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        )
        .unwrap();
    s.admin
        .move_group_member(SMALL_TENANT, anna, Some(g2), Some(g1))
        .unwrap();
    s.admin.set_archived(SMALL_TENANT, rowan, true).unwrap();
    let b = get(&s, &c, &t, &format!("client.api/get/{rowan}"))
        .await
        .body;
    assert!(
        b.contains("<BusinessNumber>51 824 753 556</BusinessNumber>")
            && b.contains("<IsArchived>Yes</IsArchived>")
    );
    assert!(
        b.contains("<EndDate>2025-06-30</EndDate>"),
        "ended relationship visible"
    );
    let g = get(&s, &c, &t, &format!("clientgroup.api/get/{g1}"))
        .await
        .body;
    assert!(
        g.contains(anna) && !g.contains(rowan),
        "moved in; archived dropped"
    );
    assert_eq!(
        s.admin.set_archived(SMALL_TENANT, "nope", true),
        Err(xpm_sim::AdminError::UnknownClient("nope".into()))
    );

    // The same changes read back over the admin HTTP API, as a test outside the process sees them.
    let a = &s.urls.admin_base;
    let read = |path: String| {
        let c = c.clone();
        async move {
            let v: serde_json::Value =
                serde_json::from_str(&c.get(path).send().await.unwrap().text().await.unwrap())
                    .unwrap();
            assert_eq!(v["ok"], true, "{v}");
            v["result"].as_array().unwrap().clone()
        }
    };
    let clients = read(format!("{a}/data/{SMALL_TENANT}/clients")).await;
    assert_eq!(
        clients.len(),
        9,
        "the fixture's nine clients, archived included"
    );
    let rowan_view = clients.iter().find(|c| c["uuid"] == rowan).unwrap();
    assert_eq!(rowan_view["name"], "Rowan Fernhill");
    assert_eq!(rowan_view["archived"], true);
    assert_eq!(rowan_view["fields"]["BusinessNumber"], "51 824 753 556");
    let rels = read(format!("{a}/data/{SMALL_TENANT}/relationships")).await;
    let added: Vec<_> = rels.iter().filter(|r| r["uuid"] == rel.as_str()).collect();
    assert_eq!(added.len(), 1, "the added relationship is listed once");
    assert_eq!(added[0]["clientName"], "Anna Kowalski");
    assert_eq!(added[0]["relatedName"], "Rowan Fernhill");
    assert_eq!(added[0]["type"], "Spouse");
    assert_eq!(added[0]["end"], "2025-06-30");
    assert_eq!(
        rels.len(),
        12,
        "the fixture's eleven relationships and the added one"
    );
}

#[tokio::test]
async fn fixture_loads_and_merges_both_sides() {
    let s = sim().await;
    let p = &s.admin.practices()[0];
    assert_eq!(p.tenant_id, SMALL_TENANT);
    assert_eq!(p.clients, 9);
    assert_eq!(p.archived, 1);
    assert_eq!(p.groups, 2);
    assert_eq!(
        p.relationships, 11,
        "both sides of each relationship merged into one"
    );
    assert_eq!(p.staff, 2);
}

#[tokio::test]
async fn generated_practice_serves_300_groups() {
    let spec: GenSpec = "groups=300,clients=2000,seed=7".parse().unwrap();
    let t0 = Instant::now();
    let cfg = SimConfig {
        practices: vec![PracticeSource::Generate(spec)],
        ..SimConfig::for_tests()
    };
    let s = xpm_sim::start(cfg).await.unwrap();
    let started = t0.elapsed();
    assert!(
        started.as_secs() < 5,
        "starts in under 5 s (took {started:?})"
    );
    let c = http();
    let code = {
        let r = c
            .get(authorize_url(&s, REDIRECT, SCOPE, "g"))
            .send()
            .await
            .unwrap();
        param(&location_params(r.headers()), "code").unwrap()
    };
    let (_, tk) = exchange(&s, &c, &code, VERIFIER).await;
    let at = tk["access_token"].as_str().unwrap();
    let tenant = s.admin.practices()[0].tenant_id.clone();
    let r = call(
        &s,
        &c,
        at,
        Some(&tenant),
        reqwest::Method::GET,
        "clientgroup.api/list",
        None,
    )
    .await;
    let n = Node::parse(&r.body).unwrap();
    assert_eq!(
        n.child("Groups").unwrap().children.len(),
        300,
        "300 groups served"
    );
    let r = call(
        &s,
        &c,
        at,
        Some(&tenant),
        reqwest::Method::GET,
        "client.api/list?detailed=true",
        None,
    )
    .await;
    let n = Node::parse(&r.body).expect("large detailed list is well-formed");
    assert!(
        n.child("Clients").unwrap().children.len() > 1800,
        "non-archived clients listed"
    );
}

#[tokio::test]
async fn binary_serves_generated_practice_quickly() {
    use std::io::BufRead;
    let t0 = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xpm-sim"))
        .args([
            "serve",
            "--port",
            "0",
            "--generate",
            "groups=300,clients=2000,seed=7",
            "--auto-approve",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary runs");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut l = String::new();
        std::io::BufReader::new(stdout).read_line(&mut l).map(|_| l)
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), line).await;
    let ready = t0.elapsed();
    let info: serde_json::Value = match line {
        Ok(Ok(Ok(l))) => serde_json::from_str(&l).expect("ready line is JSON"),
        _ => {
            let _ = child.kill();
            panic!("no ready line");
        }
    };
    let base = info["urls"]["base"].as_str().unwrap().to_string();
    let tenant = info["practices"][0]["tenant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = http();
    let mut u = url::Url::parse(&format!("{base}/identity/connect/authorize")).unwrap();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", xpm_sim::DEFAULT_CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid offline_access practicemanager.client")
        .append_pair("code_challenge", &challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    let r = c.get(u.as_str()).send().await.unwrap();
    let code = param(&location_params(r.headers()), "code").unwrap();
    let tok: serde_json::Value = serde_json::from_str(
        &c.post(format!("{base}/connect/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", xpm_sim::DEFAULT_CLIENT_ID),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let body = c
        .get(format!("{base}/practicemanager/3.1/clientgroup.api/list"))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .header("Xero-Tenant-Id", &tenant)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let n = Node::parse(&body).unwrap();
    assert_eq!(n.child("Groups").unwrap().children.len(), 300, "300 groups");
    assert!(
        ready.as_secs() < 5,
        "binary ready in under 5 s (took {ready:?})"
    );
    eprintln!("xpm-sim serve --generate groups=300,clients=2000,seed=7 ready in {ready:?} (startup_ms {})", info["startup_ms"]);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let s = sim().await;
    let c = http();
    let url = s.urls.connections_url.clone();
    assert_eq!(
        c.get(&url).send().await.expect("running").status(),
        StatusCode::UNAUTHORIZED,
        "up: answers (no token)"
    );
    s.shutdown().await;
    let fresh = http(); // no pooled connection
    assert!(
        fresh.get(&url).send().await.is_err(),
        "down: connection refused"
    );
}
