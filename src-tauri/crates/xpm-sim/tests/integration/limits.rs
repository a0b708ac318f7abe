//! Rate limits (reference §4): 60/min, 5,000/day (1,000 Starter), 5 concurrent, 10,000/min app;
//! 429 shape; fixed windows on the simulator clock.

use chrono::Duration;
use reqwest::StatusCode;
use xpm_sim::FaultKind;

use crate::common::*;

#[tokio::test]
async fn minute_limit_is_60_in_a_fixed_window() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    for i in 0..60 {
        let r = get(&s, &c, &t, "clientgroup.api/list").await;
        assert_eq!(r.status, StatusCode::OK, "call {i} of 60 allowed");
        assert_eq!(r.header("x-minlimit-remaining"), Some((59 - i).to_string()));
    }
    s.admin.advance(Duration::seconds(38));
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "61st call in the minute"
    );
    assert_eq!(r.body, "", "429 has an empty body");
    assert_eq!(r.header("content-length").as_deref(), Some("0"));
    assert_eq!(r.header("x-rate-limit-problem").as_deref(), Some("minute"));
    assert_eq!(
        r.header("retry-after").as_deref(),
        Some("22"),
        "seconds left in the fixed window (60 - 38)"
    );
    assert_eq!(r.header("x-minlimit-remaining").as_deref(), Some("0"));
    s.admin.advance(Duration::seconds(22));
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(r.status, StatusCode::OK, "new window after the minute");
    assert_eq!(r.header("x-minlimit-remaining").as_deref(), Some("59"));
    assert_eq!(s.admin.counters().throttled, 1, "one 429 served");
}

#[tokio::test]
async fn day_limit_default_and_starter_tier() {
    let s = sim().await;
    assert_eq!(
        s.admin.settings().day_limit,
        5000,
        "default daily limit (§4)"
    );
    assert_eq!(s.admin.settings().minute_limit, 60);
    assert_eq!(s.admin.settings().concurrent_limit, 5);
    assert_eq!(s.admin.settings().app_minute_limit, 10_000);
    s.admin.update_settings(|st| st.day_limit = 1000);
    let c = http();
    let t = login(&s, &c).await;
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(
        r.header("x-daylimit-remaining").as_deref(),
        Some("999"),
        "Starter tier: 1,000/day"
    );
    s.admin.update_settings(|st| st.day_limit = 3);
    for _ in 0..2 {
        s.admin.advance(Duration::minutes(1));
        assert_eq!(
            get(&s, &c, &t, "clientgroup.api/list").await.status,
            StatusCode::OK
        );
    }
    s.admin.advance(Duration::minutes(1));
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("x-rate-limit-problem").as_deref(), Some("day"));
    let ra: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(ra, 86400 - 180, "until the fixed day window ends");
    s.admin.advance(Duration::seconds(ra));
    let t = login(&s, &c).await; // the old access token expired during the day
    assert_eq!(
        get(&s, &c, &t, "clientgroup.api/list").await.status,
        StatusCode::OK,
        "next day window"
    );
}

#[tokio::test]
async fn concurrent_limit_is_5_per_tenant() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    s.admin.inject(
        FaultKind::Latency { ms: 3000 },
        5,
        Some("clientgroup.api/list"),
    );
    let mut hs = Vec::new();
    for _ in 0..5 {
        let (s2, c2, t2) = (s.urls.xpm_base.clone(), c.clone(), t.clone());
        hs.push(tokio::spawn(async move {
            c2.get(format!("{s2}/clientgroup.api/list"))
                .bearer_auth(t2)
                .header("Xero-Tenant-Id", SMALL_TENANT)
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    let mut waited = 0;
    while s.admin.in_flight(SMALL_TENANT) < 5 && waited < 500 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        waited += 1;
    }
    assert_eq!(s.admin.in_flight(SMALL_TENANT), 5, "five calls in progress");
    let r = get(&s, &c, &t, "staff.api/list").await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "sixth concurrent call refused"
    );
    assert_eq!(
        r.header("x-rate-limit-problem").as_deref(),
        Some("concurrent")
    );
    assert!(
        r.header("retry-after").is_none(),
        "no Retry-After on a concurrent 429 (UNCONFIRMED, demanding)"
    );
    for h in hs {
        assert_eq!(h.await.unwrap().unwrap(), StatusCode::OK);
    }
    assert_eq!(
        get(&s, &c, &t, "staff.api/list").await.status,
        StatusCode::OK,
        "slot freed"
    );
}

#[tokio::test]
async fn app_wide_minute_limit() {
    let s = sim().await;
    s.admin.update_settings(|st| st.app_minute_limit = 2);
    let c = http();
    let t = login(&s, &c).await; // no /connections call in login, so both calls are XPM
    assert_eq!(
        get(&s, &c, &t, "clientgroup.api/list").await.status,
        StatusCode::OK
    );
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(r.header("x-appminlimit-remaining").as_deref(), Some("0"));
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.header("x-rate-limit-problem").as_deref(),
        Some("appminute")
    );
}

#[tokio::test]
async fn windows_are_per_tenant() {
    let cfg = xpm_sim::SimConfig {
        practices: vec![
            xpm_sim::PracticeSource::Fixture(xpm_sim::small_practice_fixture()),
            xpm_sim::PracticeSource::Fixture(xpm_sim::second_practice_fixture()),
        ],
        ..xpm_sim::SimConfig::for_tests()
    };
    let s = xpm_sim::start(cfg).await.unwrap();
    s.admin.update_settings(|st| st.minute_limit = 2);
    let c = http();
    // Consent to each practice in turn (auto-approve picks the tenant).
    let mut tokens = Vec::new();
    for tenant in [SMALL_TENANT, SECOND_TENANT] {
        s.admin.set_auto_approve(Some(xpm_sim::AutoApprove {
            email: None,
            tenant_id: Some(tenant.into()),
        }));
        tokens.push(login(&s, &c).await);
    }
    let t = tokens.pop().unwrap();
    let list = |tenant: &'static str| {
        let (s, c, t) = (&s, &c, &t);
        async move {
            call(
                s,
                c,
                t,
                Some(tenant),
                reqwest::Method::GET,
                "clientgroup.api/list",
                None,
            )
            .await
            .status
        }
    };
    assert_eq!(
        list(SMALL_TENANT).await,
        StatusCode::OK,
        "earlier consent's tenant is still connected"
    );
    s.admin.advance(Duration::seconds(30));
    assert_eq!(list(SMALL_TENANT).await, StatusCode::OK);
    assert_eq!(
        list(SMALL_TENANT).await,
        StatusCode::TOO_MANY_REQUESTS,
        "small practice used its 2"
    );
    assert_eq!(
        list(SECOND_TENANT).await,
        StatusCode::OK,
        "second practice has its own window"
    );
    s.admin.advance(Duration::seconds(30));
    assert_eq!(
        list(SMALL_TENANT).await,
        StatusCode::OK,
        "small practice's window (started 60 s ago) reset"
    );
    assert_eq!(list(SECOND_TENANT).await, StatusCode::OK);
    assert_eq!(
        list(SECOND_TENANT).await,
        StatusCode::TOO_MANY_REQUESTS,
        "second's window started 30 s later and has not reset"
    );
}
