//! The Xero connection service against the simulator (`xpm-sim`) on a random loopback port, with
//! the real migrations on in-memory SQLite and an in-memory vault. The connector reads the
//! simulator's clock, so "10 minutes later" and "the access token expired" are clock advances.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use structuregram_core::accounts::{self, UserId};
use structuregram_core::secrets::{MemorySecretStore, Secret, SecretStore};
use structuregram_core::xero::{
    self, tokens::token_key, Completion, ConnectionStatus, Connector, TestOutcome, XeroContext,
    XeroError, XeroSettings,
};
use structuregram_core::{db, gate, groups, mfa, Error, OrgId};
use xpm_sim::{AutoApprove, FaultKind, PracticeSource, SimConfig, SimServer, DEFAULT_CLIENT_ID};

const SMALL_PRACTICE: &str = "Small Practice (Simulated)";
const SMALL_TENANT: &str = "5a1e0000-0000-4000-8000-000000000001";
const SMALL_LEDGER_ORG: &str = "5a1e0000-0000-4000-8000-0000000000b1";
const FORWARDER: &str = "https://structuregram.example/oauth/callback";
const TOTP_KEY: &[u8] = b"12345678901234567890";

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

struct Fixture {
    sim: SimServer,
    db: structuregram_core::DatabaseConnection,
    store: Arc<MemorySecretStore>,
    org: OrgId,
    user: UserId,
    gate: gate::Session,
    connector: Connector,
    port: u16,
}

impl Fixture {
    fn ctx(&self) -> XeroContext {
        XeroContext {
            db: self.db.clone(),
            secrets: self.store.clone(),
            org: self.org,
            user: self.user,
        }
    }

    fn vault_has_tokens(&self) -> bool {
        self.store.get(&token_key(self.org)).unwrap().is_some()
    }

    fn token_calls(&self) -> u64 {
        self.sim
            .admin
            .counters()
            .per_endpoint
            .get("POST /connect/token")
            .copied()
            .unwrap_or(0)
    }

    /// Starts an attempt and asks the simulator's authorize endpoint, returning the redirect it
    /// answers with (auto-approve: at once).
    async fn authorize(&self) -> String {
        let attempt = self
            .connector
            .begin(self.ctx(), &self.gate)
            .await
            .expect("begin");
        redirect_of(&attempt.authorize_url).await
    }

    /// Connects through the loopback listener, as the browser would.
    async fn connect(&self) -> Completion {
        let callback = self.authorize().await;
        let page = http()
            .get(&callback)
            .send()
            .await
            .expect("loopback answers");
        assert_eq!(page.status(), 200, "the loopback page loads");
        self.connector
            .wait(Duration::from_secs(10))
            .await
            .expect("connected")
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn redirect_of(url: &str) -> String {
    let resp = http().get(url).send().await.expect("authorize answers");
    assert_eq!(resp.status(), 302, "authorize redirects: {url}");
    resp.headers()["location"].to_str().unwrap().to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn fixture_with(config: SimConfig, enrol_2fa: bool) -> Fixture {
    let sim = xpm_sim::start(config).await.expect("simulator starts");
    let db = db::open_in_memory().await.unwrap();
    let org = db::ensure_organisation(&db, "Harbour Accountants", at(0))
        .await
        .unwrap();
    let store = Arc::new(MemorySecretStore::new());
    let user = accounts::create_user(&db, "ana", &Secret::new("correct horse"), Some(org), at(0))
        .await
        .unwrap();
    let mut gate = gate::Session::new(user.id);
    if enrol_2fa {
        let secret = totp_rs::Secret::from(TOTP_KEY.to_vec()).to_base32();
        store
            .put(mfa::PENDING_TOTP_SECRET, &Secret::new(secret))
            .unwrap();
        // RFC 6238 appendix B: this key gives 287082 at T = 59 s (6 digits).
        mfa::confirm(&db, &*store, user.id, "287082", at(59))
            .await
            .unwrap();
        let code = mfa::totp(TOTP_KEY, "ana")
            .unwrap()
            .generate(120)
            .to_string();
        gate::verify_session(&db, &*store, &mut gate, &code, at(120))
            .await
            .unwrap();
    }
    let port = free_port();
    sim.admin
        .register_redirect_uri(
            DEFAULT_CLIENT_ID,
            &XeroSettings::loopback_redirect_uri(port),
        )
        .unwrap();
    let mut settings = XeroSettings::with_base(DEFAULT_CLIENT_ID, &sim.urls.base);
    settings.redirect_ports = vec![port];
    let admin = sim.admin.clone();
    let connector = Connector::with_clock(settings, Arc::new(move || admin.now())).unwrap();
    Fixture {
        sim,
        db,
        store,
        org,
        user: user.id,
        gate,
        connector,
        port,
    }
}

async fn fixture() -> Fixture {
    fixture_with(SimConfig::for_tests(), true).await
}

fn xero_error(result: Result<impl std::fmt::Debug, Error>) -> XeroError {
    match result {
        Err(Error::Xero(e)) => e,
        other => panic!("expected a Xero error, got {other:?}"),
    }
}

#[tokio::test]
async fn connects_through_the_loopback_and_stores_tokens_only_in_the_vault() {
    let f = fixture().await;
    let attempt = f.connector.begin(f.ctx(), &f.gate).await.unwrap();
    assert_eq!(
        attempt.redirect_uri,
        format!("http://localhost:{}/callback", f.port),
        "the literal localhost on the first free port"
    );
    assert_eq!(
        attempt.expires_at,
        f.sim.admin.now() + chrono::Duration::minutes(10),
        "an attempt lives 10 minutes"
    );
    let callback = redirect_of(&attempt.authorize_url).await;
    assert!(callback.starts_with(&attempt.redirect_uri), "{callback}");
    let page = http().get(&callback).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Connected to Xero Practice Manager")
            && html.contains(SMALL_PRACTICE)
            && html.contains("return to StructureGram")
            && html.contains("href=\"structuregram://open\""),
        "the loopback page sends the user back to the app: {html}"
    );
    let done = f.connector.wait(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        done,
        Completion::Connected {
            tenant: xero::Tenant {
                tenant_id: SMALL_TENANT.into(),
                tenant_name: SMALL_PRACTICE.into()
            }
        },
        "the consent's PRACTICEMANAGER tenant, not its ORGANISATION"
    );
    let now = f.sim.admin.now();
    assert_eq!(
        xero::status(&f.db, f.org).await.unwrap(),
        ConnectionStatus::Connected {
            tenant_name: SMALL_PRACTICE.into(),
            connected_at: now,
            refresh_expires_at: Some(now + chrono::Duration::days(60)),
        },
        "the refresh token expires 60 days after its last use"
    );
    assert!(f.vault_has_tokens(), "tokens are in the vault");
    assert!(
        accounts::get_user(&f.db, f.user)
            .await
            .unwrap()
            .integration_mfa,
        "connecting under 2FA sets the integration-MFA flag"
    );
    assert!(
        http().get(&callback).send().await.is_err(),
        "the listener is one-shot: the port is closed after the callback"
    );
    assert_eq!(
        f.connector.test(&f.ctx(), &f.gate).await.unwrap(),
        TestOutcome::Success {
            tenant_name: SMALL_PRACTICE.into(),
            client_groups: 2
        },
        "the test call lists the fixture's two client groups"
    );
}

#[tokio::test]
async fn connects_through_the_deep_link_forwarded_by_an_https_page() {
    let f = fixture().await;
    let mut settings = f.connector.settings();
    settings.https_redirect_uri = Some(FORWARDER.into());
    f.connector.set_settings(settings).await.unwrap();
    let attempt = f.connector.begin(f.ctx(), &f.gate).await.unwrap();
    assert_eq!(attempt.redirect_uri, FORWARDER);
    let forwarded = redirect_of(&attempt.authorize_url).await;
    let query = forwarded
        .strip_prefix(&format!("{FORWARDER}?"))
        .expect("Xero answers the registered https page");
    // What the forwarder page does, and what the OS hands the app.
    let deep_link = format!("structuregram://oauth/callback?{query}");
    let done = f
        .connector
        .complete_authorization(&deep_link)
        .await
        .unwrap();
    assert!(
        matches!(&done, Completion::Connected { tenant } if tenant.tenant_name == SMALL_PRACTICE),
        "{done:?}"
    );
    assert_eq!(
        f.connector.wait(Duration::from_secs(1)).await.unwrap(),
        done,
        "a waiter sees the deep link's outcome too"
    );
    assert!(f.vault_has_tokens());
    assert!(
        matches!(
            xero_error(f.connector.complete_authorization(&deep_link).await),
            XeroError::SecurityValidationFailed
        ),
        "the same callback twice is refused"
    );
}

#[tokio::test]
async fn cancelling_on_xeros_page_is_authorization_was_denied() {
    let f = fixture().await;
    f.sim.admin.set_auto_approve(None);
    let attempt = f.connector.begin(f.ctx(), &f.gate).await.unwrap();
    // Walk the simulator's sign-in and consent pages as the user would, and press Cancel.
    let signin = http()
        .get(&attempt.authorize_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let request_id = signin
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("sign-in form")
        .to_owned();
    let consent = http()
        .post(format!(
            "{}/identity/connect/authorize/signin",
            f.sim.urls.base
        ))
        .form(&[
            ("request_id", request_id.as_str()),
            ("email", "ivy@smallpractice.example"),
            ("password", "sim-password"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(consent.contains("id=\"deny\""), "consent page: {consent}");
    let denied = http()
        .post(format!(
            "{}/identity/connect/authorize/consent",
            f.sim.urls.base
        ))
        .form(&[("request_id", request_id.as_str()), ("decision", "deny")])
        .send()
        .await
        .unwrap();
    let callback = denied.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.contains("error=access_denied"), "{callback}");
    let page = http()
        .get(&callback)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Authorization was denied"), "{page}");
    let err = xero_error(f.connector.wait(Duration::from_secs(5)).await);
    assert_eq!(err, XeroError::AuthorizationDenied);
    assert!(
        err.to_string().starts_with("Authorization was denied"),
        "the guide's words first: {err}"
    );
    assert!(!f.vault_has_tokens(), "nothing stored");
    assert_eq!(
        xero::status(&f.db, f.org).await.unwrap(),
        ConnectionStatus::Disconnected
    );
}

#[tokio::test]
async fn a_callback_after_ten_minutes_fails_security_validation() {
    let f = fixture().await;
    let callback = f.authorize().await;
    f.sim
        .admin
        .advance(chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    let err = xero_error(f.connector.complete_authorization(&callback).await);
    assert_eq!(err, XeroError::SecurityValidationFailed);
    assert!(err.to_string().starts_with("Security validation failed"));
    assert_eq!(f.token_calls(), 0, "the code was never exchanged");
}

#[tokio::test]
async fn only_the_newest_attempt_is_valid() {
    let f = fixture().await;
    let older = f.authorize().await;
    let newer = f.authorize().await;
    assert_ne!(older, newer);
    let err = xero_error(f.connector.complete_authorization(&older).await);
    assert_eq!(
        err,
        XeroError::SecurityValidationFailed,
        "the older attempt's state no longer matches"
    );
    let missing = older
        .split('?')
        .next()
        .map(|base| format!("{base}?code=abc"))
        .unwrap();
    assert_eq!(
        xero_error(f.connector.complete_authorization(&missing).await),
        XeroError::SecurityValidationFailed,
        "a callback without state is refused"
    );
    assert_eq!(f.token_calls(), 0, "no code was exchanged");
    // Neither stray callback ended the attempt the user is in the middle of.
    let done = f.connector.complete_authorization(&newer).await.unwrap();
    assert!(
        matches!(&done, Completion::Connected { .. }),
        "the newest attempt still completes after stray callbacks: {done:?}"
    );
    assert!(f.vault_has_tokens());
}

#[tokio::test]
async fn a_consent_without_a_practice_finds_no_xero_organizations() {
    let f = fixture().await;
    // The user consents to the practice's accounting organisation only.
    f.sim.admin.set_auto_approve(Some(AutoApprove {
        email: None,
        tenant_id: Some(SMALL_LEDGER_ORG.into()),
    }));
    let callback = f.authorize().await;
    let err = xero_error(f.connector.complete_authorization(&callback).await);
    assert_eq!(err, XeroError::NoOrganizations);
    assert!(err.to_string().starts_with("No Xero organizations found"));
    assert!(!f.vault_has_tokens());
}

#[tokio::test]
async fn a_token_endpoint_failure_fails_to_complete_the_connection() {
    let f = fixture().await;
    f.sim
        .admin
        .inject(FaultKind::Status500, 1, Some("/connect/token"));
    let callback = f.authorize().await;
    let err = xero_error(f.connector.complete_authorization(&callback).await);
    assert_eq!(err, XeroError::ConnectionFailed);
    assert!(err.to_string().starts_with("Failed to complete connection"));
    assert!(
        !err.to_string().contains("500"),
        "details go to the log, not the user"
    );
    assert!(!f.vault_has_tokens());
}

#[tokio::test]
async fn no_callback_in_time_cancels_the_attempt() {
    let f = fixture().await;
    let callback = f.authorize().await;
    let err = xero_error(f.connector.wait(Duration::from_millis(300)).await);
    assert_eq!(err, XeroError::TimedOut { minutes: 1 });
    assert!(
        err.to_string().contains("cancelled"),
        "the message says the attempt is over: {err}"
    );
    assert!(
        http().get(&callback).send().await.is_err(),
        "the listener is closed"
    );
    assert_eq!(
        xero_error(f.connector.complete_authorization(&callback).await),
        XeroError::SecurityValidationFailed,
        "a late answer is refused"
    );
}

#[tokio::test]
async fn ten_concurrent_sessions_after_expiry_refresh_once() {
    let f = fixture().await;
    f.connect().await;
    let before = f.connector.session(&f.ctx()).await.unwrap();
    f.sim.admin.reset_counters();
    f.sim.admin.advance(chrono::Duration::minutes(31));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (c, ctx) = (f.connector.clone(), f.ctx());
        calls.spawn(async move {
            c.session(&ctx)
                .await
                .map(|s| s.access_token.secret().clone())
        });
    }
    let mut tokens = Vec::new();
    while let Some(r) = calls.join_next().await {
        tokens.push(r.unwrap().expect("a session"));
    }
    assert_eq!(f.token_calls(), 1, "one refresh for ten callers");
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "everyone got the refreshed token"
    );
    assert_ne!(
        &tokens[0],
        before.access_token.secret(),
        "a new access token"
    );
    let session = f.connector.session(&f.ctx()).await.unwrap();
    let groups = f.connector.client().list_client_groups(&session).await;
    assert_eq!(groups.expect("the refreshed token works").len(), 2);
    match xero::status(&f.db, f.org).await.unwrap() {
        ConnectionStatus::Connected {
            refresh_expires_at, ..
        } => assert_eq!(
            refresh_expires_at,
            Some(f.sim.admin.now() + chrono::Duration::days(60)),
            "the 60 days count from the last refresh"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_lost_refresh_response_is_retried_within_the_grace_period() {
    let f = fixture().await;
    f.connect().await;
    f.sim.admin.reset_counters();
    f.sim.admin.advance(chrono::Duration::minutes(31));
    f.sim
        .admin
        .inject(FaultKind::LoseResponse, 1, Some("/connect/token"));
    let session = f.connector.session(&f.ctx()).await.expect("recovers");
    assert_eq!(
        f.token_calls(),
        2,
        "the lost refresh and its retry with the same refresh token"
    );
    assert!(f
        .connector
        .client()
        .list_client_groups(&session)
        .await
        .is_ok());
    f.sim.admin.advance(chrono::Duration::minutes(31));
    f.connector
        .session(&f.ctx())
        .await
        .expect("the stored refresh token is the live one: the next refresh works too");
}

#[tokio::test]
async fn a_refused_refresh_token_asks_to_reconnect() {
    let f = fixture().await;
    f.connect().await;
    f.sim.admin.expire_refresh_tokens();
    f.sim.admin.advance(chrono::Duration::minutes(31));
    let err = xero_error(f.connector.session(&f.ctx()).await);
    assert_eq!(err, XeroError::ReconnectRequired);
    assert!(err.to_string().contains("Reconnect to Xero"), "{err}");
    assert_eq!(
        xero::status(&f.db, f.org).await.unwrap(),
        ConnectionStatus::NeedsReconnect {
            tenant_name: SMALL_PRACTICE.into()
        }
    );
    f.connect().await;
    assert!(
        matches!(
            xero::status(&f.db, f.org).await.unwrap(),
            ConnectionStatus::Connected { .. }
        ),
        "reconnecting clears the state"
    );
}

#[tokio::test]
async fn disconnect_revokes_at_xero_keeps_data_and_reconnect_resumes() {
    let f = fixture().await;
    f.connect().await;
    groups::create(&f.db, f.org, "Harrington Family", at(200))
        .await
        .unwrap();
    let old_refresh = {
        let json = f.store.get(&token_key(f.org)).unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(json.expose()).unwrap();
        v["refreshToken"].as_str().unwrap().to_owned()
    };
    let out = f.connector.disconnect(&f.ctx(), &f.gate).await.unwrap();
    assert!(out.revoked_at_xero, "{out:?}");
    assert!(out.message.contains("kept"), "{}", out.message);
    assert!(
        matches!(
            f.connector
                .client()
                .refresh(&xpm::RefreshToken::new(old_refresh))
                .await,
            Err(xpm::Error::OAuth { ref error, .. }) if error == "invalid_grant"
        ),
        "the grant is gone at Xero"
    );
    assert!(!f.vault_has_tokens(), "tokens deleted from the vault");
    assert!(
        !accounts::get_user(&f.db, f.user)
            .await
            .unwrap()
            .integration_mfa
    );
    assert_eq!(
        xero::status(&f.db, f.org).await.unwrap(),
        ConnectionStatus::Disconnected
    );
    assert_eq!(
        xero_error(f.connector.session(&f.ctx()).await),
        XeroError::NotConnected
    );
    assert_eq!(
        groups::list(&f.db, f.org).await.unwrap().len(),
        1,
        "groups are kept"
    );
    assert_eq!(
        xero::last_tenant(&f.db, f.org)
            .await
            .unwrap()
            .unwrap()
            .tenant_id,
        SMALL_TENANT,
        "the practice is remembered for links"
    );

    let again = f.connect().await;
    assert!(
        matches!(&again, Completion::Connected { tenant } if tenant.tenant_id == SMALL_TENANT),
        "the same practice reconnects without a warning: {again:?}"
    );
    assert!(matches!(
        f.connector.test(&f.ctx(), &f.gate).await.unwrap(),
        TestOutcome::Success { .. }
    ));
    assert!(
        accounts::get_user(&f.db, f.user)
            .await
            .unwrap()
            .integration_mfa
    );
}

#[tokio::test]
async fn disconnect_clears_locally_when_xero_is_unreachable_and_says_so() {
    let f = fixture().await;
    f.connect().await;
    let mut settings = f.connector.settings();
    settings.identity_base = format!("http://127.0.0.1:{}", free_port());
    f.connector.set_settings(settings).await.unwrap();
    let out = f.connector.disconnect(&f.ctx(), &f.gate).await.unwrap();
    assert!(!out.revoked_at_xero);
    assert!(
        out.message.contains("Xero could not be told"),
        "{}",
        out.message
    );
    assert!(!f.vault_has_tokens());
    assert_eq!(
        xero::status(&f.db, f.org).await.unwrap(),
        ConnectionStatus::Disconnected
    );
}

#[tokio::test]
async fn a_different_practice_needs_confirmation_before_anything_changes() {
    let mut config = SimConfig::for_tests();
    config.practices.push(PracticeSource::Generate(
        "groups=2,clients=10,seed=1".parse().unwrap(),
    ));
    let f = fixture_with(config, true).await;
    f.connect().await;
    f.sim.admin.set_auto_approve(Some(AutoApprove {
        email: Some("demo@practice.example".into()),
        tenant_id: None,
    }));
    let callback = f.authorize().await;
    let out = f.connector.complete_authorization(&callback).await.unwrap();
    let Completion::ConfirmSwitch { previous, chosen } = out else {
        panic!("expected a warning, got {out:?}");
    };
    assert_eq!(previous.tenant_name, SMALL_PRACTICE);
    assert_eq!(chosen.tenant_name, "Generated Practice (seed 1)");
    assert!(
        matches!(
            xero::status(&f.db, f.org).await.unwrap(),
            ConnectionStatus::Connected { ref tenant_name, .. } if tenant_name == SMALL_PRACTICE
        ),
        "nothing changes before the user confirms"
    );
    let done = f
        .connector
        .choose_tenant(&chosen.tenant_id, true)
        .await
        .unwrap();
    assert_eq!(done, Completion::Connected { tenant: chosen });
    assert!(matches!(
        xero::status(&f.db, f.org).await.unwrap(),
        ConnectionStatus::Connected { ref tenant_name, .. } if tenant_name == "Generated Practice (seed 1)"
    ));
    assert!(
        matches!(
            f.connector.test(&f.ctx(), &f.gate).await.unwrap(),
            TestOutcome::Success {
                client_groups: 2,
                ..
            }
        ),
        "the generated practice's two groups"
    );
}

#[tokio::test]
async fn the_gate_refuses_integration_actions_without_2fa() {
    let f = fixture_with(SimConfig::for_tests(), false).await;
    assert!(matches!(
        f.connector.begin(f.ctx(), &f.gate).await,
        Err(Error::MfaRequired)
    ));
    assert!(matches!(
        f.connector.test(&f.ctx(), &f.gate).await,
        Err(Error::MfaRequired)
    ));
    assert!(matches!(
        f.connector.disconnect(&f.ctx(), &f.gate).await,
        Err(Error::MfaRequired)
    ));
    assert_eq!(f.sim.admin.counters().total, 0, "nothing reached Xero");

    let enrolled = fixture().await;
    let fresh = gate::Session::new(enrolled.user);
    assert!(
        matches!(
            enrolled.connector.begin(enrolled.ctx(), &fresh).await,
            Err(Error::MfaCodeRequired)
        ),
        "2FA on but this session has not entered a code"
    );
}
