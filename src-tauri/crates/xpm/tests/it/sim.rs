//! End-to-end against the xpm-sim simulator (random loopback port, frozen sim clock): the OAuth
//! flow, every call on the small fixture practice, error envelopes via the simulator's faults,
//! and the limiter against the simulator's own limits.

use std::sync::Arc;
use std::time::Duration;

use xpm::oauth::Scopes;
use xpm::{
    ClientGroupInput, ClientInput, Error, Field, ListClientsOptions, RateLimitProblem,
    RelationshipInput, RelationshipType, RelationshipUpdate, Session, Settings, TenantId,
    XpmClient,
};
use xpm_sim::{start, FaultKind, SimConfig, SimServer, DEFAULT_CLIENT_ID};

const TENANT: &str = "5a1e0000-0000-4000-8000-000000000001";
const REDIRECT: &str = "http://localhost:47615/callback";

fn u(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).expect("uuid")
}

const FERNHILL_CO: &str = "00000000-aaaa-4bbb-8ccc-000000000001";
const ROWAN: &str = "00000000-aaaa-4bbb-8ccc-000000000002";
const ZOE: &str = "00000000-aaaa-4bbb-8ccc-000000000006";
const OLD_ORCHARD: &str = "00000000-aaaa-4bbb-8ccc-000000000007";
const GROUP_F: &str = "00000000-aaaa-4bbb-8ccc-0000000000f1";

fn settings_for(sim: &SimServer) -> Settings {
    let b = &sim.urls.base;
    let mut s = Settings::new(DEFAULT_CLIENT_ID, REDIRECT).with_urls(b, b, b);
    s.retry.min_delay = Duration::from_millis(1);
    s.retry.max_delay = Duration::from_millis(5);
    s.retry.max_retries = 2;
    s.request_timeout = Duration::from_secs(5);
    s.list_timeout = Duration::from_secs(10);
    // Our own minute pacing (50/min, proven on paused time in the limiter's unit tests) would
    // make these tests take real minutes; here only the in-flight limit and the simulator's
    // limits shape the traffic.
    s.limits.per_minute = 6_000;
    s.limits.burst = 100;
    s
}

/// Runs the real authorize → redirect → exchange flow (the sim auto-approves) and returns the
/// client, the token set and a session on the practice's tenant.
async fn signed_in(settings: Settings) -> (XpmClient, xpm::oauth::TokenSet, Session) {
    let client = XpmClient::new(settings).expect("client");
    let auth = client.authorize(&Scopes::default()).expect("authorize url");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let resp = http
        .get(auth.url.clone())
        .send()
        .await
        .expect("authorize reachable");
    assert_eq!(resp.status().as_u16(), 302, "auto-approve redirects back");
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let back = url::Url::parse(&location).expect("redirect url");
    assert!(
        location.starts_with(REDIRECT),
        "redirected to our redirect URI: {location}"
    );
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(
        q.get("state"),
        Some(auth.state.secret()),
        "state round-trips (CSRF check)"
    );
    let code = q.get("code").expect("code").clone();
    let tokens = client
        .exchange_code(&code, auth.pkce_verifier)
        .await
        .expect("exchange");
    let tenants = client
        .connections(&tokens.access_token)
        .await
        .expect("connections");
    assert_eq!(
        tenants.len(),
        1,
        "one PRACTICEMANAGER tenant of this consent: {tenants:?}"
    );
    assert_eq!(tenants[0].tenant_id, TenantId::new(TENANT));
    let session = Session::new(tokens.access_token.clone(), tenants[0].tenant_id.clone());
    (client, tokens, session)
}

async fn sim() -> SimServer {
    start(SimConfig::for_tests())
        .await
        .expect("simulator starts")
}

#[tokio::test]
async fn oauth_flow_identity_refresh_and_revoke() {
    let sim = sim().await;
    let (client, tokens, _) = signed_in(settings_for(&sim)).await;
    let who = tokens.identity.clone().expect("id_token claims");
    assert_eq!(who.email.as_deref(), Some("ivy@smallpractice.example"));
    assert_eq!(
        who.display_name().as_deref(),
        Some("Ivy Marsh"),
        "name for display"
    );
    let all = client
        .all_connections(&tokens.access_token)
        .await
        .expect("all");
    assert!(
        all.iter().any(|c| c.tenant_type == "ORGANISATION"),
        "the org tenant is filtered out later"
    );
    let rt = tokens
        .refresh_token
        .clone()
        .expect("offline_access gives a refresh token");
    let fresh = client.refresh(&rt).await.expect("refresh");
    let rt2 = fresh.refresh_token.clone().expect("rotated");
    assert_ne!(rt2.secret(), rt.secret(), "refresh tokens rotate");
    client.revoke(&rt2).await.expect("revoke");
    let err = client
        .refresh(&rt2)
        .await
        .expect_err("revoked token cannot refresh");
    assert!(
        matches!(&err, Error::OAuth { error, .. } if error == "invalid_grant"),
        "got {err:?}"
    );
}

#[tokio::test]
async fn reads_of_the_small_practice() {
    let sim = sim().await;
    let (client, _, s) = signed_in(settings_for(&sim)).await;
    let groups = client.list_client_groups(&s).await.expect("groups");
    assert_eq!(groups.len(), 2, "two groups in the fixture");
    let g = client
        .get_client_group(&s, &u(GROUP_F))
        .await
        .expect("group");
    assert!(!g.members.is_empty(), "group has members");

    let summary = sim
        .admin
        .practices()
        .into_iter()
        .find(|p| p.tenant_id == TENANT)
        .expect("practice");
    let plain = client
        .list_clients(&s, &ListClientsOptions::default())
        .await
        .expect("list");
    assert_eq!(
        plain.len() as u64,
        summary.clients as u64 - summary.archived as u64,
        "archived excluded"
    );
    assert!(
        plain.iter().all(|c| c.relationships.is_none()),
        "non-detailed: no Relationships element"
    );
    let detailed = client
        .list_clients(
            &s,
            &ListClientsOptions {
                detailed: true,
                ..Default::default()
            },
        )
        .await
        .expect("detailed");
    assert!(detailed
        .iter()
        .any(|c| c.relationships.as_ref().is_some_and(|r| !r.is_empty())));

    let zoe = client.get_client(&s, &u(ZOE)).await.expect("zoe").client;
    assert_eq!(
        zoe.name, "Zoë Müller & Søn <Trading> \"Quotes\"",
        "escaped text and UTF-8"
    );
    let co = client
        .get_client(&s, &u(FERNHILL_CO))
        .await
        .expect("company");
    assert!(co.web_url.is_some(), "get carries WebUrl");
    let rels = co.client.relationships.clone().expect("relationships");
    assert!(rels.iter().all(|r| !r.label.is_empty()), "labels present");
    let found = client
        .search_clients(&s, "fernhill", false)
        .await
        .expect("search");
    assert!(found.len() >= 2, "case-insensitive name search");
    let old = client
        .get_client(&s, &u(OLD_ORCHARD))
        .await
        .expect("archived still readable");
    assert_eq!(old.client.is_archived, Field::Value(true));
}

#[tokio::test]
async fn writes_round_trip_and_never_echo_masked_tax_number() {
    let sim = sim().await;
    let (client, _, s) = signed_in(settings_for(&sim)).await;
    let added = client
        .add_client(
            &s,
            &ClientInput {
                name: "Quince Holdings Pty Ltd".into(),
                website: Field::Value("https://quince.example".into()),
                tax_number: Field::Value("123456789".into()),
                business_structure: Field::Value("Company".into()),
                gst_period: Field::Value(xpm::GstPeriod::SixMonthly),
                balance_month: Field::Value(6),
                prepare_gst: Field::Value(true),
                ..Default::default()
            },
        )
        .await
        .expect("added");
    let id = added.client.uuid.expect("new uuid");
    assert_eq!(
        added.client.website.value().map(String::as_str),
        Some("https://quince.example"),
        "WebSite sent, Website read"
    );
    assert_eq!(
        added.client.gst_period,
        Field::Value(xpm::GstPeriod::SixMonthly),
        "6 → 6 Monthly"
    );
    assert_eq!(
        added.client.tax_number_masked,
        Field::Value("******789".into())
    );

    let mut merged =
        ClientInput::from_client(&client.get_client(&s, &id).await.expect("get").client);
    merged.name = "Quince Holdings Ltd".into();
    let updated = client
        .update_client(&s, &id, &merged)
        .await
        .expect("updated");
    assert_eq!(updated.client.name, "Quince Holdings Ltd");
    assert_eq!(
        updated.client.website, added.client.website,
        "merged body keeps other fields"
    );
    assert_eq!(
        sim.admin
            .client_field(TENANT, &id.to_string(), "TaxNumber")
            .ok()
            .flatten()
            .as_deref(),
        Some("123456789"),
        "the real TaxNumber survives a GET-merge-PUT"
    );

    client
        .add_relationship(
            &s,
            &RelationshipInput {
                client: id,
                related_client: u(ROWAN),
                relationship_type: RelationshipType::Shareholder,
                number_of_shares: Field::Value(500),
                percentage: Field::Missing,
                start_date: Field::Value(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("d")),
                end_date: Field::Missing,
            },
        )
        .await
        .expect("relationship added");
    let rel = client
        .get_client(&s, &id)
        .await
        .expect("re-read")
        .client
        .relationships
        .expect("rels");
    assert_eq!(rel.len(), 1, "new relationship visible on re-read");
    assert_eq!(
        RelationshipType::parse(&rel[0].label),
        (RelationshipType::Shareholder, false)
    );
    let rowan = client
        .get_client(&s, &u(ROWAN))
        .await
        .expect("rowan")
        .client;
    assert!(
        rowan
            .relationships
            .unwrap_or_default()
            .iter()
            .any(|r| r.related_client.uuid == id
                && RelationshipType::parse(&r.label) == (RelationshipType::Shareholder, true)),
        "the other side shows the 'Of' label"
    );
    client
        .update_relationship(
            &s,
            &rel[0].uuid,
            &RelationshipUpdate {
                number_of_shares: Field::Value(750),
                ..Default::default()
            },
        )
        .await
        .expect("relationship updated");
    client
        .delete_relationship(&s, &rel[0].uuid)
        .await
        .expect("relationship deleted");

    let group = client
        .add_client_group(
            &s,
            &ClientGroupInput {
                name: "Quince Group".into(),
                taxable: Field::Missing,
                client: id,
            },
        )
        .await
        .expect("group added");
    assert_eq!(group.members.len(), 1);
    let group = client
        .update_client_group_members(&s, &group.uuid, &[u(ROWAN)], &[])
        .await
        .expect("member added");
    assert_eq!(group.members.len(), 2);
    client
        .delete_client_group(&s, &group.uuid)
        .await
        .expect("group deleted");

    let archived = client.archive_client(&s, &id).await.expect("archived");
    assert_eq!(archived.client.is_archived, Field::Value(true));
    client.delete_client(&s, &id).await.expect("deleted");
    let err = client.get_client(&s, &id).await.expect_err("gone");
    assert!(
        matches!(&err, Error::Api { description } if description.contains("not found")),
        "got {err:?}"
    );
}

#[tokio::test]
async fn error_envelopes_from_the_simulator() {
    let sim = sim().await;
    let (client, _, s) = signed_in(settings_for(&sim)).await;

    let bad_tenant = Session::new(
        s.access_token.clone(),
        TenantId::new("5a1e0000-0000-4000-8000-0000000000b1"),
    );
    let err = client
        .list_client_groups(&bad_tenant)
        .await
        .expect_err("org tenant");
    assert!(
        matches!(err, Error::Forbidden { .. }),
        "ORGANISATION tenant is 403: {err:?}"
    );

    sim.admin
        .inject(FaultKind::Status500, 1, Some("clientgroup.api/list"));
    client
        .list_client_groups(&s)
        .await
        .expect("a read is retried past one 500");

    sim.admin
        .inject(FaultKind::Status503, 5, Some("clientgroup.api/list"));
    let err = client
        .list_client_groups(&s)
        .await
        .expect_err("persistent 503");
    assert!(matches!(err, Error::Server { status: 503 }), "got {err:?}");
    sim.admin.clear_faults();

    sim.admin
        .inject(FaultKind::Malformed, 1, Some("clientgroup.api/list"));
    let err = client.list_client_groups(&s).await.expect_err("malformed");
    assert!(
        matches!(err, Error::MalformedResponse { .. }),
        "got {err:?}"
    );

    sim.admin
        .inject(FaultKind::Truncate, 1, Some("client.api/list"));
    let err = client
        .list_clients(&s, &ListClientsOptions::default())
        .await
        .expect_err("truncated");
    assert!(
        matches!(err, Error::MalformedResponse { .. }),
        "got {err:?}"
    );

    sim.admin
        .inject(FaultKind::LoseResponse, 1, Some("client.api/add"));
    let err = client
        .add_client(
            &s,
            &ClientInput {
                name: "Lost Response Pty Ltd".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("lost");
    assert!(
        matches!(
            err,
            Error::OutcomeUnknown {
                operation: "client.api/add",
                ..
            }
        ),
        "got {err:?}"
    );
    assert!(
        sim.admin
            .find_client(TENANT, "Lost Response Pty Ltd")
            .ok()
            .flatten()
            .is_some(),
        "the write did happen: that is why it must not be retried blindly"
    );
    let found = client
        .search_clients(&s, "Lost Response", false)
        .await
        .expect("look before retrying");
    assert_eq!(found.len(), 1, "exactly one copy: no blind retry");

    sim.admin.inject(FaultKind::Drop, 1, Some("client.api/add"));
    client
        .add_client(
            &s,
            &ClientInput {
                name: "Dropped Once Pty Ltd".into(),
                ..Default::default()
            },
        )
        .await
        .map(|_| ())
        .or_else(|e| match e {
            // A drop before any response byte may look like a lost response to the client.
            Error::OutcomeUnknown { .. } => Ok(()),
            other => Err(other),
        })
        .expect("dropped connection is retried or reported as outcome unknown");

    let err = client
        .get_client(&s, &u("00000000-aaaa-4bbb-8ccc-00000000dead"))
        .await
        .expect_err("unknown");
    assert!(
        matches!(err, Error::Api { .. }),
        "HTTP 200 Status ERROR: {err:?}"
    );

    sim.admin.expire_access_tokens();
    let err = client.list_client_groups(&s).await.expect_err("expired");
    assert!(
        matches!(&err, Error::Unauthorized { detail } if detail.contains("TokenExpired")),
        "got {err:?}"
    );
}

#[tokio::test]
async fn at_most_five_in_flight_against_the_simulator() {
    let sim = sim().await;
    let (client, _, s) = signed_in(settings_for(&sim)).await;
    sim.admin.reset_counters();
    sim.admin.inject(
        FaultKind::Latency { ms: 150 },
        15,
        Some("clientgroup.api/list"),
    );
    let s = Arc::new(s);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..15 {
        let (c, s) = (client.clone(), s.clone());
        tasks.push(tokio::spawn(async move { c.list_client_groups(&s).await }));
    }
    for t in tasks {
        t.await
            .expect("task")
            .expect("every call succeeds without a concurrency 429");
    }
    assert_eq!(
        sim.admin.counters().throttled,
        0,
        "the simulator never had to refuse a 6th call"
    );
    assert!(
        started.elapsed() < Duration::from_millis(15 * 150),
        "calls overlapped (5 at a time), they were not run one by one: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn low_minute_remaining_stops_us_before_the_simulator_must_refuse() {
    let sim = sim().await;
    let mut st = settings_for(&sim);
    // Let the simulator's minute window, not our pacing, be the limit reached.
    st.limits.per_minute = 10_000;
    st.limits.burst = 1_000;
    st.limits.min_remaining_low_water = 0;
    st.limits.max_wait = Duration::from_secs(5);
    let (client, _, s) = signed_in(st.clone()).await;
    sim.admin.reset_limits();
    sim.admin.reset_counters();
    let mut refused_at = None;
    for i in 0..80 {
        match client.list_client_groups(&s).await {
            Ok(_) => {}
            Err(Error::RateLimited {
                problem,
                retry_after,
            }) => {
                refused_at = Some((i, problem, retry_after));
                break;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let (i, problem, retry_after) = refused_at.expect("the minute window is used up");
    assert_eq!(i, 60, "60 calls fit in the simulator's minute");
    assert_eq!(problem, RateLimitProblem::Minute);
    assert!(
        retry_after.is_some_and(|d| d > Duration::from_secs(5)),
        "{retry_after:?}"
    );
    assert_eq!(
        sim.admin.counters().throttled,
        0,
        "X-MinLimit-Remaining: 0 made us stop before the simulator had to send a 429"
    );

    // A second client instance (its own limiter, same tenant) does not know the window is
    // used: it gets the simulator's 429, honours Retry-After, and sends nothing more.
    let other = XpmClient::new(st).expect("second client");
    let err = other.list_client_groups(&s).await.expect_err("429");
    assert!(
        matches!(err, Error::RateLimited { problem: RateLimitProblem::Minute, retry_after: Some(d) } if d > Duration::from_secs(5)),
        "Retry-After parsed from the simulator: {err:?}"
    );
    for _ in 0..5 {
        let err = other.list_client_groups(&s).await.expect_err("paused");
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "refused locally: {err:?}"
        );
    }
    assert_eq!(
        sim.admin.counters().throttled,
        1,
        "after one 429 nothing more is sent"
    );
}

#[tokio::test]
async fn detailed_list_agrees_with_get_for_every_client() {
    let sim = sim().await;
    let (client, _, s) = signed_in(settings_for(&sim)).await;
    let listed = client
        .list_clients(
            &s,
            &ListClientsOptions {
                detailed: true,
                ..Default::default()
            },
        )
        .await
        .expect("detailed list");
    assert!(!listed.is_empty(), "the fixture has clients");
    for c in &listed {
        let id = c.uuid.expect("listed clients have UUIDs");
        let got = client.get_client(&s, &id).await.expect("get").client;
        assert_eq!(
            c, &got,
            "detailed=true should return the get/{{uuid}} detail (dates in either form) for {}",
            c.name
        );
    }
}

#[tokio::test]
async fn modifiedsince_returns_only_clients_changed_after_it() {
    let sim = sim().await;
    let (client, _, s) = signed_in(settings_for(&sim)).await;
    sim.admin.advance(chrono::Duration::minutes(10));
    let since = sim.admin.now();
    sim.admin.advance(chrono::Duration::minutes(1));
    sim.admin
        .rename_client(TENANT, ROWAN, "Rowan J Fernhill")
        .expect("rename as an XPM user would");
    let changed = client
        .list_clients(
            &s,
            &ListClientsOptions {
                detailed: false,
                modified_since: Some(since),
            },
        )
        .await
        .expect("incremental list");
    let names: Vec<_> = changed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["Rowan J Fernhill"], "only the renamed client");
}
