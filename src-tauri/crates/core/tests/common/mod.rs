//! Shared set-up for the XPM sync tests: the simulator with its small fixture practice, a signed-in
//! `XpmClient` + `Session` (the real PKCE flow, auto-approved by the simulator) and a database.
#![allow(dead_code)]

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use structuregram_core::{db, DatabaseConnection, OrgId};
use xpm::oauth::Scopes;
use xpm::{Session, Settings, XpmClient};
use xpm_sim::{start, SimConfig, SimServer, DEFAULT_CLIENT_ID};

/// The small fixture practice's tenant.
pub const TENANT: &str = "5a1e0000-0000-4000-8000-000000000001";
/// Fixture groups.
pub const FERNHILL_GROUP: &str = "00000000-aaaa-4bbb-8ccc-0000000000f1";
pub const KOWALSKI_GROUP: &str = "00000000-aaaa-4bbb-8ccc-0000000000f2";
/// Fixture clients.
pub const FERNHILL_CO: &str = "00000000-aaaa-4bbb-8ccc-000000000001";
pub const ROWAN: &str = "00000000-aaaa-4bbb-8ccc-000000000002";
pub const MAEVE: &str = "00000000-aaaa-4bbb-8ccc-000000000003";
pub const FAMILY_TRUST: &str = "00000000-aaaa-4bbb-8ccc-000000000004";
pub const NOMINEES: &str = "00000000-aaaa-4bbb-8ccc-000000000005";
pub const ZOE: &str = "00000000-aaaa-4bbb-8ccc-000000000006";
pub const OLD_ORCHARD: &str = "00000000-aaaa-4bbb-8ccc-000000000007";
pub const PARTNERSHIP: &str = "00000000-aaaa-4bbb-8ccc-000000000008";
pub const ANNA: &str = "00000000-aaaa-4bbb-8ccc-000000000009";

const REDIRECT: &str = "http://localhost:47615/callback";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
}

pub struct Xpm {
    pub sim: SimServer,
    pub client: XpmClient,
    pub session: Session,
}

/// Starts the simulator (small fixture, frozen clock) and signs in through the real
/// authorize → redirect → token exchange, auto-approved by the simulator.
pub async fn xpm() -> Xpm {
    let x = xpm_with(SimConfig::for_tests(), |settings| {
        // The client's own 50/min pacing would make these tests wait real minutes; the
        // simulator still enforces XPM's limits.
        settings.limits.per_minute = 6_000;
        settings.limits.burst = 100;
    })
    .await;
    assert_eq!(x.session.tenant.as_str(), TENANT);
    x
}

/// [`xpm`] with another simulator configuration and client settings (`tune` adjusts the
/// settings after the tests' short retry delays are set).
pub async fn xpm_with(config: SimConfig, tune: impl FnOnce(&mut Settings)) -> Xpm {
    let sim = start(config).await.expect("simulator starts");
    // Tests move the simulator's clock by hours between pulls; token expiry is not what they
    // test (the connection service owns refreshing), so access tokens last a week here.
    sim.admin
        .update_settings(|s| s.access_token_secs = 7 * 24 * 3600);
    let b = &sim.urls.base;
    let mut settings = Settings::new(DEFAULT_CLIENT_ID, REDIRECT).with_urls(b, b, b);
    settings.retry.min_delay = Duration::from_millis(1);
    settings.retry.max_delay = Duration::from_millis(5);
    settings.retry.max_retries = 1;
    tune(&mut settings);
    let client = XpmClient::new(settings).expect("client");
    let auth = client.authorize(&Scopes::default()).expect("authorize url");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(auth.url.clone()).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let back = url::Url::parse(&location).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("auto-approve returns a code");
    let tokens = client
        .exchange_code(&code, auth.pkce_verifier)
        .await
        .expect("exchange");
    let tenants = client.connections(&tokens.access_token).await.unwrap();
    let session = Session::new(tokens.access_token.clone(), tenants[0].tenant_id.clone());
    Xpm {
        sim,
        client,
        session,
    }
}

pub async fn memory_db() -> (DatabaseConnection, OrgId) {
    let db = db::open_in_memory().await.unwrap();
    let org = db::ensure_organisation(&db, "Test Practice", now())
        .await
        .unwrap();
    (db, org)
}
