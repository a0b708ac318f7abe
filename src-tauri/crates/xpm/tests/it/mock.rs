//! Every XPM and identity call against wiremock: exact method + path + query, the headers XPM
//! needs, exact request bodies for writes, and a catch-all that fails loudly naming the call.

use std::time::Duration;

use wiremock::matchers::{any, body_string, body_string_contains, header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};
use xpm::oauth::Scopes;
use xpm::{
    AccessToken, ClientGroupInput, ClientInput, Error, Field, ListClientsOptions, RateLimitProblem,
    RefreshToken, RelationshipInput, RelationshipType, RelationshipUpdate, Session, Settings,
    TenantId, XpmClient,
};

const TENANT: &str = "11111111-2222-4333-8444-555555555555";
const API: &str = "/practicemanager/3.1/";

fn fixture(name: &str) -> &'static str {
    match name {
        "client_get" => include_str!("../../fixtures/client_get.xml"),
        "client_list" => include_str!("../../fixtures/client_list.xml"),
        "client_list_detailed" => include_str!("../../fixtures/client_list_detailed.xml"),
        "client_search" => include_str!("../../fixtures/client_search.xml"),
        "client_add" => include_str!("../../fixtures/client_add.xml"),
        "client_archive" => include_str!("../../fixtures/client_archive.xml"),
        "status_ok" => include_str!("../../fixtures/status_ok.xml"),
        "status_error" => include_str!("../../fixtures/status_error.xml"),
        "group_list" => include_str!("../../fixtures/group_list.xml"),
        "group_get" => include_str!("../../fixtures/group_get.xml"),
        "problem_401" => include_str!("../../fixtures/problem_401.json"),
        "problem_403" => include_str!("../../fixtures/problem_403.json"),
        "problem_503" => include_str!("../../fixtures/problem_503.json"),
        "token_error" => include_str!("../../fixtures/token_error.json"),
        other => panic!("no fixture {other}"),
    }
}

/// Matches the whole query string exactly (wiremock's `query_param` only checks presence).
struct ExactQuery(Vec<(&'static str, &'static str)>);

impl Match for ExactQuery {
    fn matches(&self, req: &Request) -> bool {
        let mut got: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
        let mut want: Vec<(String, String)> = self
            .0
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        got.sort();
        want.sort();
        got == want
    }
}

fn no_query() -> ExactQuery {
    ExactQuery(vec![])
}

fn xml(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml; charset=utf-8")
        .insert_header("xero-correlation-id", "corr-123")
        .insert_header("x-minlimit-remaining", "58")
        .insert_header("x-daylimit-remaining", "4990")
        .set_body_string(fixture(name))
}

async fn server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &Request| {
            eprintln!("UNMATCHED CALL: {} {}", req.method, req.url);
            ResponseTemplate::new(418)
                .set_body_string(format!("no mock for {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(&s)
        .await;
    s
}

fn settings(uri: &str) -> Settings {
    let mut s =
        Settings::new("test-client-id", "http://localhost:5000/callback").with_urls(uri, uri, uri);
    s.retry.min_delay = Duration::from_millis(1);
    s.retry.max_delay = Duration::from_millis(5);
    s.retry.max_retries = 2;
    s.request_timeout = Duration::from_secs(5);
    s.list_timeout = Duration::from_secs(5);
    s
}

fn client(s: &MockServer) -> XpmClient {
    XpmClient::new(settings(&s.uri())).expect("client builds")
}

fn session() -> Session {
    Session::new(AccessToken::new("tok".into()), TenantId::new(TENANT))
}

fn u(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).expect("uuid")
}

fn xpm_get(p: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!("{API}{p}")))
        .and(header("authorization", "Bearer tok"))
        .and(header("xero-tenant-id", TENANT))
        .and(header("accept", "application/xml"))
}

fn xpm_write(m: &str, p: &str, body: &str) -> wiremock::MockBuilder {
    Mock::given(method(m))
        .and(path(format!("{API}{p}")))
        .and(no_query())
        .and(header("authorization", "Bearer tok"))
        .and(header("xero-tenant-id", TENANT))
        .and(header("content-type", "application/xml; charset=utf-8"))
        .and(body_string(body.to_owned()))
}

const C1: &str = "00000000-aaaa-4bbb-8ccc-000000000001";
const C2: &str = "00000000-aaaa-4bbb-8ccc-000000000002";
const G1: &str = "00000000-aaaa-4bbb-8ccc-0000000000f1";
const R1: &str = "00000000-aaaa-4bbb-8ccc-0000000000e1";

#[tokio::test]
async fn list_client_groups_sends_token_tenant_and_accept() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .and(no_query())
        .respond_with(xml("group_list"))
        .expect(1)
        .mount(&s)
        .await;
    let groups = client(&s)
        .list_client_groups(&session())
        .await
        .expect("groups");
    assert_eq!(groups.len(), 2, "both groups from the fixture");
    assert_eq!(groups[1].name, "Smith & Jones Holdings");
}

#[tokio::test]
async fn get_client_group_returns_members() {
    let s = server().await;
    xpm_get(&format!("clientgroup.api/get/{G1}"))
        .and(no_query())
        .respond_with(xml("group_get"))
        .expect(1)
        .mount(&s)
        .await;
    let g = client(&s)
        .get_client_group(&session(), &u(G1))
        .await
        .expect("group");
    assert_eq!(g.members.len(), 2, "two members");
    assert_eq!(g.taxable, Field::Value(true));
}

#[tokio::test]
async fn add_client_group_posts_name_taxable_and_first_client() {
    let s = server().await;
    xpm_write(
        "POST",
        "clientgroup.api/add",
        &format!("<Group><Name>Fernhill Family</Name><Taxable>Yes</Taxable><ClientUUID>{C1}</ClientUUID></Group>"),
    )
    .respond_with(xml("group_get"))
    .expect(1)
    .mount(&s)
    .await;
    let g = client(&s)
        .add_client_group(
            &session(),
            &ClientGroupInput {
                name: "Fernhill Family".into(),
                taxable: Field::Value(true),
                client: u(C1),
            },
        )
        .await
        .expect("added");
    assert_eq!(g.uuid, u(G1));
}

#[tokio::test]
async fn group_members_put_adds_and_removes_in_one_call() {
    let s = server().await;
    xpm_write(
        "PUT",
        "clientgroup.api/members",
        &format!("<Group><UUID>{G1}</UUID><add uuid=\"{C2}\" /><remove uuid=\"{C1}\" /></Group>"),
    )
    .respond_with(xml("group_get"))
    .expect(1)
    .mount(&s)
    .await;
    client(&s)
        .update_client_group_members(&session(), &u(G1), &[u(C2)], &[u(C1)])
        .await
        .expect("members changed");
}

#[tokio::test]
async fn delete_client_group_is_a_post_with_body() {
    let s = server().await;
    xpm_write(
        "POST",
        "clientgroup.api/delete",
        &format!("<Group><UUID>{G1}</UUID></Group>"),
    )
    .respond_with(xml("status_ok"))
    .expect(1)
    .mount(&s)
    .await;
    client(&s)
        .delete_client_group(&session(), &u(G1))
        .await
        .expect("deleted");
}

#[tokio::test]
async fn list_clients_without_options_sends_no_query() {
    let s = server().await;
    xpm_get("client.api/list")
        .and(no_query())
        .respond_with(xml("client_list"))
        .expect(1)
        .mount(&s)
        .await;
    let cs = client(&s)
        .list_clients(&session(), &ListClientsOptions::default())
        .await
        .expect("list");
    assert_eq!(cs.len(), 2);
    assert_eq!(
        cs[0].relationships, None,
        "non-detailed list has no Relationships element"
    );
    assert_eq!(cs[1].email, Field::Empty);
}

#[tokio::test]
async fn detailed_list_since_streams_each_client() {
    let s = server().await;
    xpm_get("client.api/list")
        .and(ExactQuery(vec![
            ("detailed", "true"),
            ("modifiedsince", "2026-11-01T09:30:00"),
        ]))
        .respond_with(xml("client_list_detailed"))
        .expect(1)
        .mount(&s)
        .await;
    let since = chrono::DateTime::parse_from_rfc3339("2026-11-01T09:30:00Z")
        .expect("t")
        .with_timezone(&chrono::Utc);
    let mut names = Vec::new();
    let n = client(&s)
        .for_each_client(
            &session(),
            &ListClientsOptions {
                detailed: true,
                modified_since: Some(since),
            },
            |c| names.push(c.name),
        )
        .await
        .expect("streamed");
    assert_eq!(n, 2, "count returned");
    assert_eq!(
        names,
        vec!["Rowan Fernhill", "Quince Trust"],
        "callback per client, in order"
    );
}

#[tokio::test]
async fn get_client_reads_detail_and_web_url() {
    let s = server().await;
    xpm_get(&format!("client.api/get/{C1}"))
        .and(no_query())
        .respond_with(xml("client_get"))
        .expect(1)
        .mount(&s)
        .await;
    let d = client(&s)
        .get_client(&session(), &u(C1))
        .await
        .expect("client");
    assert!(d.web_url.is_some(), "WebUrl sibling is read");
    assert_eq!(d.client.relationships.as_ref().map(Vec::len), Some(1));
}

#[tokio::test]
async fn search_clients_sends_query_and_detailed() {
    let s = server().await;
    xpm_get("client.api/search")
        .and(ExactQuery(vec![
            ("query", "Fern & Co"),
            ("detailed", "true"),
        ]))
        .respond_with(xml("client_search"))
        .expect(1)
        .mount(&s)
        .await;
    let cs = client(&s)
        .search_clients(&session(), "Fern & Co", true)
        .await
        .expect("search");
    assert_eq!(cs.len(), 1);
}

#[tokio::test]
async fn add_client_posts_request_names() {
    let s = server().await;
    xpm_write(
        "POST",
        "client.api/add",
        "<Client><Name>New Co Pty Ltd</Name><WebSite>https://newco.example</WebSite><TaxNumber>123456789</TaxNumber><GSTPeriod>2</GSTPeriod><Contacts><Contact><Name>Pat New</Name><IsPrimary>Yes</IsPrimary></Contact></Contacts></Client>",
    )
    .respond_with(xml("client_add"))
    .expect(1)
    .mount(&s)
    .await;
    let input = ClientInput {
        name: "New Co Pty Ltd".into(),
        website: Field::Value("https://newco.example".into()),
        tax_number: Field::Value("123456789".into()),
        gst_period: Field::Value(xpm::GstPeriod::TwoMonthly),
        contacts: vec![xpm::ContactInput {
            name: "Pat New".into(),
            is_primary: Field::Value(true),
            ..Default::default()
        }],
        ..Default::default()
    };
    let d = client(&s)
        .add_client(&session(), &input)
        .await
        .expect("added");
    assert_eq!(
        d.client.tax_number_masked,
        Field::Value("******789".into()),
        "response masks it"
    );
}

#[tokio::test]
async fn update_client_after_get_never_echoes_masked_tax_number() {
    let s = server().await;
    xpm_get(&format!("client.api/get/{C1}"))
        .and(no_query())
        .respond_with(xml("client_get"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{API}client.api/update")))
        .and(no_query())
        .and(body_string_contains(format!(
            "<Client><UUID>{C1}</UUID><Name>Fernhill Orchards Ltd</Name>"
        )))
        .and(body_string_contains("<GSTPeriod>2</GSTPeriod>"))
        .respond_with(xml("client_get"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let got = c.get_client(&session(), &u(C1)).await.expect("get");
    let mut input = ClientInput::from_client(&got.client);
    input.name = "Fernhill Orchards Ltd".into();
    c.update_client(&session(), &u(C1), &input)
        .await
        .expect("updated");
    let reqs = s.received_requests().await.expect("recording on");
    let put = reqs
        .iter()
        .find(|r| r.method.as_str() == "PUT")
        .expect("PUT sent");
    let body = String::from_utf8_lossy(&put.body);
    assert!(
        !body.contains("TaxNumber"),
        "masked TaxNumber must not be sent back: {body}"
    );
}

#[tokio::test]
async fn archive_and_delete_client() {
    let s = server().await;
    let body = format!("<Client><UUID>{C1}</UUID></Client>");
    xpm_write("PUT", "client.api/archive", &body)
        .respond_with(xml("client_archive"))
        .expect(1)
        .mount(&s)
        .await;
    xpm_write("POST", "client.api/delete", &body)
        .respond_with(xml("status_ok"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let d = c
        .archive_client(&session(), &u(C1))
        .await
        .expect("archived");
    assert_eq!(d.client.is_archived, Field::Value(true));
    c.delete_client(&session(), &u(C1)).await.expect("deleted");
}

#[tokio::test]
async fn relationship_add_update_delete() {
    let s = server().await;
    xpm_write(
        "POST",
        "client.api/addrelationship",
        &format!("<Relationship><ClientUUID>{C1}</ClientUUID><RelatedClientUUID>{C2}</RelatedClientUUID><Type>Shareholder</Type><NumberOfShares>500</NumberOfShares><StartDate>2019-07-01</StartDate></Relationship>"),
    )
    .respond_with(xml("status_ok"))
    .expect(1)
    .mount(&s)
    .await;
    xpm_write(
        "PUT",
        "client.api/updaterelationship",
        &format!("<Relationship><UUID>{R1}</UUID><NumberOfShares>750</NumberOfShares><EndDate>2025-06-30</EndDate></Relationship>"),
    )
    .respond_with(xml("status_ok"))
    .expect(1)
    .mount(&s)
    .await;
    xpm_write(
        "POST",
        "client.api/deleterelationship",
        &format!("<Relationship><UUID>{R1}</UUID></Relationship>"),
    )
    .respond_with(xml("status_ok"))
    .expect(1)
    .mount(&s)
    .await;
    let c = client(&s);
    let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
    c.add_relationship(
        &session(),
        &RelationshipInput {
            client: u(C1),
            related_client: u(C2),
            relationship_type: RelationshipType::Shareholder,
            number_of_shares: Field::Value(500),
            percentage: Field::Missing,
            start_date: Field::Value(d(2019, 7, 1)),
            end_date: Field::Missing,
        },
    )
    .await
    .expect("added");
    c.update_relationship(
        &session(),
        &u(R1),
        &RelationshipUpdate {
            number_of_shares: Field::Value(750),
            end_date: Field::Value(d(2025, 6, 30)),
            ..Default::default()
        },
    )
    .await
    .expect("updated");
    c.delete_relationship(&session(), &u(R1))
        .await
        .expect("deleted");
}

#[tokio::test]
async fn status_error_on_200_is_an_api_error() {
    let s = server().await;
    xpm_write(
        "PUT",
        "client.api/archive",
        &format!("<Client><UUID>{C1}</UUID></Client>"),
    )
    .respond_with(xml("status_error"))
    .expect(1)
    .mount(&s)
    .await;
    let err = client(&s)
        .archive_client(&session(), &u(C1))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::Api { description } if description == "Client not found"),
        "got {err:?}"
    );
}

#[tokio::test]
async fn problem_401_is_unauthorized_and_not_retried() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Bearer error=invalid_token")
                .set_body_string(fixture("problem_401")),
        )
        .expect(1)
        .mount(&s)
        .await;
    let err = client(&s)
        .list_client_groups(&session())
        .await
        .expect_err("401");
    assert!(
        matches!(&err, Error::Unauthorized { detail } if detail == "AuthenticationUnsuccessful"),
        "got {err:?}"
    );
}

#[tokio::test]
async fn problem_403_is_forbidden() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(ResponseTemplate::new(403).set_body_string(fixture("problem_403")))
        .expect(1)
        .mount(&s)
        .await;
    let err = client(&s)
        .list_client_groups(&session())
        .await
        .expect_err("403");
    assert!(matches!(err, Error::Forbidden { .. }), "got {err:?}");
}

fn too_many(retry_after: &str) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("retry-after", retry_after)
        .insert_header("x-rate-limit-problem", "minute")
        .insert_header("x-minlimit-remaining", "0")
}

#[tokio::test]
async fn long_retry_after_is_reported_and_no_further_call_is_sent() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(too_many("22"))
        .expect(1)
        .mount(&s)
        .await;
    let mut st = settings(&s.uri());
    st.limits.max_wait = Duration::from_secs(5);
    let c = XpmClient::new(st).expect("client");
    let err = c.list_client_groups(&session()).await.expect_err("429");
    assert!(
        matches!(err, Error::RateLimited { problem: RateLimitProblem::Minute, retry_after: Some(d) } if d == Duration::from_secs(22)),
        "got {err:?}"
    );
    let again = c
        .clone()
        .list_client_groups(&session())
        .await
        .expect_err("still paused");
    assert!(
        matches!(again, Error::RateLimited { .. }),
        "a clone shares the pause: {again:?}"
    );
    // `.expect(1)` on the mock proves the second call never reached the server.
}

#[tokio::test]
async fn short_retry_after_is_waited_out_then_retried() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(too_many("0"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&s)
        .await;
    xpm_get("clientgroup.api/list")
        .respond_with(xml("group_list"))
        .expect(1)
        .mount(&s)
        .await;
    let groups = client(&s)
        .list_client_groups(&session())
        .await
        .expect("retried after 429");
    assert_eq!(groups.len(), 2);
}

#[tokio::test]
async fn server_error_on_read_is_retried_with_backoff() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&s)
        .await;
    xpm_get("clientgroup.api/list")
        .respond_with(xml("group_list"))
        .expect(1)
        .mount(&s)
        .await;
    client(&s)
        .list_client_groups(&session())
        .await
        .expect("third attempt succeeds");
}

#[tokio::test]
async fn persistent_503_on_read_gives_server_error_after_bounded_retries() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(ResponseTemplate::new(503).set_body_string(fixture("problem_503")))
        .expect(3)
        .mount(&s)
        .await;
    let err = client(&s)
        .list_client_groups(&session())
        .await
        .expect_err("503");
    assert!(matches!(err, Error::Server { status: 503 }), "got {err:?}");
}

#[tokio::test]
async fn server_error_on_add_is_outcome_unknown_and_not_retried() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(format!("{API}client.api/add")))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&s)
        .await;
    let err = client(&s)
        .add_client(
            &session(),
            &ClientInput {
                name: "X".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("500");
    assert!(
        matches!(&err, Error::OutcomeUnknown { operation: "client.api/add", source } if matches!(**source, Error::Server { status: 500 })),
        "got {err:?}"
    );
}

#[tokio::test]
async fn lost_response_to_relationship_add_is_outcome_unknown() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(format!("{API}client.api/addrelationship")))
        .respond_with(xml("status_ok").set_delay(Duration::from_millis(800)))
        .expect(1)
        .mount(&s)
        .await;
    let mut st = settings(&s.uri());
    st.request_timeout = Duration::from_millis(150);
    let err = XpmClient::new(st)
        .expect("client")
        .add_relationship(
            &session(),
            &RelationshipInput {
                client: u(C1),
                related_client: u(C2),
                relationship_type: RelationshipType::Director,
                number_of_shares: Field::Missing,
                percentage: Field::Missing,
                start_date: Field::Missing,
                end_date: Field::Missing,
            },
        )
        .await
        .expect_err("timed out");
    assert!(
        matches!(&err, Error::OutcomeUnknown { source, .. } if matches!(**source, Error::Timeout)),
        "got {err:?}"
    );
}

#[tokio::test]
async fn read_timeout_is_timeout_after_retries() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(xml("group_list").set_delay(Duration::from_millis(800)))
        .expect(3)
        .mount(&s)
        .await;
    let mut st = settings(&s.uri());
    st.request_timeout = Duration::from_millis(100);
    let err = XpmClient::new(st)
        .expect("client")
        .list_client_groups(&session())
        .await
        .expect_err("timeout");
    assert!(matches!(err, Error::Timeout), "got {err:?}");
}

#[tokio::test]
async fn garbage_body_is_malformed_response() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(ResponseTemplate::new(200).set_body_string("<html><body>Oops"))
        .expect(1)
        .mount(&s)
        .await;
    let err = client(&s)
        .list_client_groups(&session())
        .await
        .expect_err("garbage");
    assert!(
        matches!(err, Error::MalformedResponse { .. }),
        "got {err:?}"
    );
}

#[tokio::test]
async fn status_error_in_streamed_list_is_api_error() {
    let s = server().await;
    xpm_get("client.api/list")
        .respond_with(xml("status_error"))
        .expect(1)
        .mount(&s)
        .await;
    let err = client(&s)
        .list_clients(&session(), &ListClientsOptions::default())
        .await
        .expect_err("error");
    assert!(matches!(err, Error::Api { .. }), "got {err:?}");
}

#[tokio::test]
async fn day_remaining_header_feeds_the_day_budget() {
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(xml("group_list"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    c.list_client_groups(&session()).await.expect("ok");
    assert_eq!(
        c.day_budget(&TenantId::new(TENANT)).used,
        10,
        "5000 - 4990 = 10 used per Xero"
    );
}

// ---------- identity ----------

fn jwt(claims: &str) -> String {
    use base64::Engine as _;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.sig",
        e.encode(br#"{"alg":"RS256"}"#),
        e.encode(claims.as_bytes())
    )
}

#[tokio::test]
async fn exchange_code_sends_pkce_verifier_without_secret() {
    let s = server().await;
    let c = client(&s);
    let auth = c.authorize(&Scopes::default()).expect("url");
    let verifier = auth.pkce_verifier.secret().clone();
    let access = jwt(r#"{"authentication_event_id":"evt-1"}"#);
    let id = jwt(r#"{"name":"Ivy Marsh","email":"ivy@example.test"}"#);
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=the-code"))
        .and(body_string_contains(format!("code_verifier={verifier}")))
        .and(body_string_contains("client_id=test-client-id"))
        .and(body_string_contains("redirect_uri=http%3A%2F%2Flocalhost%3A5000%2Fcallback"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": access, "refresh_token": "r1", "expires_in": 1800,
            "token_type": "Bearer", "id_token": id, "scope": "openid offline_access practicemanager.client"
        })))
        .expect(1)
        .mount(&s)
        .await;
    let t = c
        .exchange_code("the-code", auth.pkce_verifier)
        .await
        .expect("tokens");
    let reqs = s.received_requests().await.expect("recording");
    let sent = String::from_utf8_lossy(&reqs[0].body).to_string();
    assert!(
        !sent.contains("client_secret"),
        "a PKCE app has no secret: {sent}"
    );
    assert!(
        reqs[0].headers.get("authorization").is_none(),
        "no basic auth for a public client"
    );
    assert_eq!(t.authentication_event_id.as_deref(), Some("evt-1"));
    assert_eq!(
        t.refresh_token.as_ref().map(|r| r.secret().as_str()),
        Some("r1")
    );
    let who = t.identity.expect("id_token claims");
    assert_eq!(who.display_name().as_deref(), Some("Ivy Marsh"));
    assert_eq!(who.email.as_deref(), Some("ivy@example.test"));
    assert!(
        t.expires_at > chrono::Utc::now() + chrono::Duration::minutes(29),
        "expires in 30 min"
    );
}

#[tokio::test]
async fn refresh_rotates_and_invalid_grant_is_reported() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=r1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "a2", "refresh_token": "r2", "expires_in": 1800, "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("refresh_token=r0"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(fixture("token_error"))
                .insert_header("content-type", "application/json"),
        )
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let t = c
        .refresh(&RefreshToken::new("r1".into()))
        .await
        .expect("refreshed");
    assert_eq!(
        t.refresh_token.map(|r| r.secret().clone()).as_deref(),
        Some("r2"),
        "rotated"
    );
    let err = c
        .refresh(&RefreshToken::new("r0".into()))
        .await
        .expect_err("rejected");
    assert!(
        matches!(&err, Error::OAuth { error, .. } if error == "invalid_grant"),
        "got {err:?}"
    );
}

#[tokio::test]
async fn revoke_posts_the_refresh_token_and_client_id() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/connect/revocation"))
        .and(body_string_contains("token=r1"))
        .and(body_string_contains("client_id=test-client-id"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&s)
        .await;
    client(&s)
        .revoke(&RefreshToken::new("r1".into()))
        .await
        .expect("revoked");
}

#[tokio::test]
async fn connections_keep_practice_manager_tenants_of_this_consent() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path("/connections"))
        .and(no_query())
        .and(header("authorization", format!("Bearer {}", jwt(r#"{"authentication_event_id":"evt-2"}"#))))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([
            {"id":"c1","authEventId":"evt-1","tenantId":"t-old","tenantType":"PRACTICEMANAGER","tenantName":"Old consent"},
            {"id":"c2","authEventId":"evt-2","tenantId":"t-org","tenantType":"ORGANISATION","tenantName":"Accounting org"},
            {"id":"c3","authEventId":"evt-2","tenantId":"t-xpm","tenantType":"PRACTICEMANAGER","tenantName":"Fernhill Practice","createdDateUtc":"2026-11-29T10:00:00"}
        ])))
        .expect(1)
        .mount(&s)
        .await;
    let token = AccessToken::new(jwt(r#"{"authentication_event_id":"evt-2"}"#));
    let tenants = client(&s).connections(&token).await.expect("connections");
    assert_eq!(
        tenants.len(),
        1,
        "only the XPM tenant of this consent: {tenants:?}"
    );
    assert_eq!(
        tenants[0].tenant_id,
        TenantId::new("t-xpm"),
        "tenantId, not the connection id"
    );
    assert_eq!(tenants[0].tenant_name, "Fernhill Practice");
}

#[tokio::test]
async fn connections_with_bad_token_is_unauthorized() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path("/connections"))
        .respond_with(ResponseTemplate::new(401).set_body_string(fixture("problem_401")))
        .expect(1)
        .mount(&s)
        .await;
    let err = client(&s)
        .connections(&AccessToken::new("x".into()))
        .await
        .expect_err("401");
    assert!(matches!(err, Error::Unauthorized { .. }), "got {err:?}");
}

#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_response_logs_its_correlation_id() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let s = server().await;
    xpm_get("clientgroup.api/list")
        .respond_with(xml("group_list"))
        .expect(1)
        .mount(&s)
        .await;
    xpm_get("clientgroup.api/get/00000000-aaaa-4bbb-8ccc-0000000000f9")
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("xero-correlation-id", "corr-forbidden")
                .set_body_string(fixture("problem_403")),
        )
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    c.list_client_groups(&session()).await.expect("ok");
    let _ = c
        .get_client_group(&session(), &u("00000000-aaaa-4bbb-8ccc-0000000000f9"))
        .await;
    let text =
        String::from_utf8_lossy(&logs.0.lock().unwrap_or_else(|p| p.into_inner())).to_string();
    assert!(
        text.contains("correlation_id=corr-123"),
        "success logged with its id: {text}"
    );
    assert!(
        text.contains("correlation_id=corr-forbidden"),
        "errors too: {text}"
    );
    assert!(!text.contains("Bearer tok"), "the token is never logged");
}
