//! XPM 3.1 calls: envelopes, errors, scopes, tenant header, field quirks, writes,
//! relationships and client groups (reference §1–§3).

use chrono::Duration;
use reqwest::{Method, StatusCode};
use xpm_sim::xml::Node;

use crate::common::*;

const FERNHILL: &str = "00000000-aaaa-4bbb-8ccc-000000000001";
const ROWAN: &str = "00000000-aaaa-4bbb-8ccc-000000000002";
const MAEVE: &str = "00000000-aaaa-4bbb-8ccc-000000000003";
const ZOE: &str = "00000000-aaaa-4bbb-8ccc-000000000006";
const NOMINEES: &str = "00000000-aaaa-4bbb-8ccc-000000000005";
const OLD: &str = "00000000-aaaa-4bbb-8ccc-000000000007";
const GROUP1: &str = "00000000-aaaa-4bbb-8ccc-0000000000f1";

fn client_of(body: &str) -> Node {
    let n = Node::parse(body).expect("XML");
    n.child("Client")
        .cloned()
        .expect("<Client> in the envelope")
}

fn rels(c: &Node) -> Vec<(String, String, String)> {
    c.child("Relationships")
        .expect("<Relationships>")
        .children
        .iter()
        .map(|r| {
            (
                r.child_text("Type").unwrap().to_string(),
                r.child("RelatedClient")
                    .unwrap()
                    .child_text("UUID")
                    .unwrap()
                    .to_string(),
                r.child_text("UUID").unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn envelope_headers_and_group_list() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let r = get(&s, &c, &t, "clientgroup.api/list").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/xml; charset=utf-8"),
        "§1.3"
    );
    assert!(
        r.body
            .starts_with("<Response api-method=\"List\"><Status>OK</Status>"),
        "envelope: {}",
        r.body
    );
    assert_eq!(
        r.header("x-minlimit-remaining").as_deref(),
        Some("59"),
        "one call used of 60"
    );
    assert_eq!(
        r.header("x-daylimit-remaining").as_deref(),
        Some("4999"),
        "one call used of 5,000"
    );
    assert!(r.header("x-appminlimit-remaining").is_some());
    assert!(r.header("xero-correlation-id").is_some(), "§1.4");
    let n = Node::parse(&r.body).unwrap();
    let groups = n.child("Groups").unwrap();
    assert_eq!(groups.children.len(), 2);
    assert_eq!(
        groups.children[0].child_text("Name"),
        Some("Fernhill Family")
    );
    assert_eq!(groups.children[0].child_text("Taxable"), Some("No"));
}

#[tokio::test]
async fn client_get_quirks() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let r = get(&s, &c, &t, &format!("client.api/get/{FERNHILL}")).await;
    let n = Node::parse(&r.body).unwrap();
    assert_eq!(n.attr("api-method"), Some("Get"));
    assert!(
        n.child_value("WebUrl")
            .unwrap()
            .starts_with("https://practicemanager.xero.com/Client/"),
        "WebUrl is a sibling of Client"
    );
    let cl = n.child("Client").unwrap();
    assert_eq!(
        cl.child_text("TaxNumber"),
        Some("******321"),
        "masked except last 3 (§2.1)"
    );
    assert_eq!(
        cl.child_text("Website"),
        Some("https://fernhill.example"),
        "response uses Website"
    );
    assert!(cl.child("WebSite").is_none());
    assert_eq!(
        cl.child_text("GSTPeriod"),
        Some("2 Monthly"),
        "response value set"
    );
    assert_eq!(cl.child_text("IsArchived"), Some("No"), "Yes/No booleans");
    assert_eq!(cl.child_text("PrepareGST"), Some("Yes"));
    let rs = rels(cl);
    assert!(
        rs.iter().any(|(t, r, _)| t == "Director" && r == ROWAN),
        "plain label on the company: {rs:?}"
    );
    let rowan = client_of(
        &get(&s, &c, &t, &format!("client.api/get/{ROWAN}"))
            .await
            .body,
    );
    let rr = rels(&rowan);
    assert!(
        rr.iter()
            .any(|(t, r, _)| t == "Director Of" && r == FERNHILL),
        "reverse label on the person: {rr:?}"
    );
    assert!(rr.iter().any(|(t, r, _)| t == "Husband" && r == MAEVE));
    let maeve = client_of(
        &get(&s, &c, &t, &format!("client.api/get/{MAEVE}"))
            .await
            .body,
    );
    assert!(
        rels(&maeve)
            .iter()
            .any(|(t, r, _)| t == "Wife" && r == ROWAN),
        "Husband/Wife pair"
    );
    assert_eq!(
        rowan.child_text("DateOfBirth"),
        Some("1970-11-26"),
        "get: date form"
    );
    assert_eq!(
        rowan.child_text("Fax"),
        Some(""),
        "empty optional element present"
    );
    let zoe = client_of(&get(&s, &c, &t, &format!("client.api/get/{ZOE}")).await.body);
    assert!(
        zoe.child("Fax").is_none(),
        "same optional element missing on another client"
    );
    assert_eq!(
        zoe.child_text("Name"),
        Some("Zoë Müller & Søn <Trading> \"Quotes\""),
        "escaped and non-ASCII"
    );
    let rel_dates: Vec<_> = rowan
        .child("Relationships")
        .unwrap()
        .children
        .iter()
        .filter_map(|r| r.child_value("StartDate"))
        .collect();
    assert!(
        rel_dates.contains(&"2019-07-01"),
        "relationship dates yyyy-MM-dd"
    );
    // List writes DateOfBirth with a time part.
    let l = get(&s, &c, &t, "client.api/list").await;
    assert!(
        l.body
            .contains("<DateOfBirth>1970-11-26T00:00:00</DateOfBirth>"),
        "list: date-time form"
    );
    assert!(
        !l.body.contains("<Relationships>"),
        "plain list has no relationships"
    );
    let d = get(&s, &c, &t, "client.api/list?detailed=true").await;
    assert!(
        d.body.contains("<Relationships>") && d.body.contains("<Groups>"),
        "detailed list has them"
    );
}

#[tokio::test]
async fn business_error_is_http_200() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let r = get(
        &s,
        &c,
        &t,
        "client.api/get/00000000-0000-4000-8000-00000000dead",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "business errors are 200 (§1.4)");
    assert_eq!(status_of(&r.body), "ERROR");
    assert!(
        r.body
            .contains("<ErrorDescription>Client not found</ErrorDescription>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn auth_tenant_and_scope_errors() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let r = call(
        &s,
        &c,
        "garbage",
        Some(SMALL_TENANT),
        Method::GET,
        "clientgroup.api/list",
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(j["Detail"], "AuthenticationUnsuccessful");
    let r = call(&s, &c, &t, None, Method::GET, "clientgroup.api/list", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "missing Xero-Tenant-Id");
    let j: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (j["Title"].as_str(), j["Status"].as_i64()),
        (Some("Forbidden"), Some(403))
    );
    assert!(
        r.header("x-appminlimit-remaining").is_some() && r.header("x-minlimit-remaining").is_none(),
        "403 carries only the app header (§4)"
    );
    let r = call(
        &s,
        &c,
        &t,
        Some("5a1e0000-0000-4000-8000-0000000000b1"),
        Method::GET,
        "clientgroup.api/list",
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "ORGANISATION tenant is not an XPM tenant"
    );
    let r = call(
        &s,
        &c,
        &t,
        Some(&SMALL_TENANT.to_uppercase()),
        Method::GET,
        "clientgroup.api/list",
        None,
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "tenant id compared case-insensitively"
    );
    // Scopes add up across consents (§5.4): a later read-only consent still writes…
    let more = login_with(&s, &c, "openid offline_access practicemanager.client.read").await;
    let scopes = jwt_payload(more["access_token"].as_str().unwrap())["scope"].clone();
    assert!(
        scopes
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "practicemanager.client"),
        "accumulated: {scopes}"
    );
    // …until revoked. Read-only scope cannot write; staff needs a staff scope.
    s.admin.revoke_user("ivy@smallpractice.example");
    let ro = login_with(&s, &c, "openid offline_access practicemanager.client.read").await
        ["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get(&s, &c, &ro, "clientgroup.api/list").await.status,
        StatusCode::OK,
        "read scope reads groups"
    );
    let r = post(
        &s,
        &c,
        &ro,
        "client.api/add",
        "<Client><Name>X</Name></Client>",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "read scope cannot add");
    assert_eq!(
        get(&s, &c, &ro, "staff.api/list").await.status,
        StatusCode::FORBIDDEN,
        "staff.api needs practicemanager.staff.read"
    );
    let t = login(&s, &c).await;
    let st = get(&s, &c, &t, "staff.api/list").await;
    assert_eq!(st.status, StatusCode::OK);
    assert!(st.body.contains("<StaffList><Staff><UUID>"), "{}", st.body);
}

#[tokio::test]
async fn add_update_archive_delete_client() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let r = post(
        &s,
        &c,
        &t,
        "client.api/add",
        "<Client><Email>x@y</Email></Client>",
    )
    .await;
    assert_eq!(status_of(&r.body), "ERROR", "Name is required");
    let r = post(
        &s,
        &c,
        &t,
        "client.api/add",
        "<Client><Name>N</Name><GSTPeriod>Monthly</GSTPeriod></Client>",
    )
    .await;
    assert_eq!(
        status_of(&r.body),
        "ERROR",
        "request GSTPeriod set is 1, 2, 6"
    );
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Client><Name>Birch &amp; Co</Name><WebSite>https://birch.example</WebSite>\
        <GSTPeriod>1</GSTPeriod><BalanceMonth>Jun</BalanceMonth><PrepareGST>yes</PrepareGST><TaxNumber>123456789</TaxNumber>\
        <BusinessStructure>Company</BusinessStructure><Phone>1</Phone>\
        <Contacts><Contact><Name>A</Name><IsPrimary>Yes</IsPrimary></Contact><Contact><Name>B</Name><IsPrimary>Yes</IsPrimary></Contact></Contacts></Client>";
    let r = post(&s, &c, &t, "client.api/add", body).await;
    assert_eq!(status_of(&r.body), "OK", "{}", r.body);
    let n = Node::parse(&r.body).unwrap();
    assert_eq!(n.attr("api-method"), Some("Add"));
    assert!(
        r.header("x-minlimit-remaining").is_some(),
        "tenant headers present on add"
    );
    assert!(
        r.header("x-appminlimit-remaining").is_none(),
        "recorded add had no app header (§4)"
    );
    let cl = n.child("Client").unwrap();
    let id = cl.child_text("UUID").unwrap().to_string();
    assert_eq!(
        cl.child_text("Website"),
        Some("https://birch.example"),
        "WebSite in, Website out"
    );
    assert_eq!(cl.child_text("GSTPeriod"), Some("Monthly"), "1 → Monthly");
    assert_eq!(cl.child_text("BalanceMonth"), Some("6"), "Jun → 6");
    assert_eq!(cl.child_text("PrepareGST"), Some("Yes"));
    assert_eq!(
        cl.child_text("TaxNumber"),
        Some("******789"),
        "masked in the response"
    );
    let contacts = cl.child("Contacts").unwrap();
    let prim: Vec<_> = contacts
        .children
        .iter()
        .map(|x| x.child_text("IsPrimary").unwrap())
        .collect();
    assert_eq!(prim, vec!["No", "Yes"], "last IsPrimary=Yes wins (§2.1)");
    assert_eq!(
        s.admin
            .client_field(SMALL_TENANT, &id, "TaxNumber")
            .unwrap()
            .as_deref(),
        Some("123456789"),
        "stored unmasked"
    );
    // Update: omitted elements are cleared (UNCONFIRMED, demanding default); TaxNumber kept; Website ignored.
    let r = put(
        &s,
        &c,
        &t,
        "client.api/update",
        &format!(
            "<Client><UUID>{id}</UUID><Name>Birch Ltd</Name><Website>https://x</Website></Client>"
        ),
    )
    .await;
    assert_eq!(status_of(&r.body), "OK", "{}", r.body);
    let cl = client_of(&r.body);
    assert_eq!(cl.child_text("Name"), Some("Birch Ltd"));
    assert_eq!(cl.child_text("Phone"), Some(""), "omitted Phone cleared");
    assert_eq!(
        cl.child_text("Website"),
        Some(""),
        "response name Website is not a request field"
    );
    assert_eq!(
        cl.child_text("TaxNumber"),
        Some("******789"),
        "TaxNumber kept when omitted"
    );
    s.admin
        .update_settings(|st| st.update_clears_omitted = false);
    let r = put(
        &s,
        &c,
        &t,
        "client.api/update",
        &format!("<Client><UUID>{id}</UUID><Phone>2</Phone></Client>"),
    )
    .await;
    let r = put(
        &s,
        &c,
        &t,
        "client.api/update",
        &format!("<Client><UUID>{id}</UUID><Name>Birch Ltd</Name></Client>"),
    )
    .await
    .body
    .len()
    .max(r.body.len());
    assert!(r > 0);
    assert_eq!(
        s.admin
            .client_field(SMALL_TENANT, &id, "Phone")
            .unwrap()
            .as_deref(),
        Some("2"),
        "knob off: omitted kept"
    );
    let r = put(
        &s,
        &c,
        &t,
        "client.api/update",
        "<Client><UUID>00000000-0000-4000-8000-000000000999</UUID><Name>x</Name></Client>",
    )
    .await;
    assert!(r.body.contains("Client not found"));
    // Archive → hidden from list (UNCONFIRMED default), still readable by get.
    let r = put(
        &s,
        &c,
        &t,
        "client.api/archive",
        &format!("<Client><UUID>{id}</UUID></Client>"),
    )
    .await;
    assert_eq!(client_of(&r.body).child_text("IsArchived"), Some("Yes"));
    assert!(
        !get(&s, &c, &t, "client.api/list").await.body.contains(&id),
        "archived not listed"
    );
    assert!(
        !get(&s, &c, &t, "client.api/list").await.body.contains(OLD),
        "fixture's archived client not listed"
    );
    s.admin
        .update_settings(|st| st.list_includes_archived = true);
    assert!(
        get(&s, &c, &t, "client.api/list").await.body.contains(&id),
        "knob: archived listed"
    );
    let r = post(
        &s,
        &c,
        &t,
        "client.api/delete",
        &format!("<Client><UUID>{id}</UUID></Client>"),
    )
    .await;
    assert_eq!(status_of(&r.body), "OK");
    assert_eq!(
        status_of(&get(&s, &c, &t, &format!("client.api/get/{id}")).await.body),
        "ERROR",
        "deleted client is gone"
    );
    let r = post(
        &s,
        &c,
        &t,
        "client.api/add",
        "<Client><Name>broken</Client>",
    )
    .await;
    assert_eq!(
        (r.status, status_of(&r.body).as_str()),
        (StatusCode::OK, "ERROR"),
        "malformed XML is a business error"
    );
}

#[tokio::test]
async fn list_modifiedsince_and_search() {
    let s = sim().await;
    let c = http();
    s.admin.advance(Duration::hours(2));
    let t = login(&s, &c).await;
    let since = s.admin.now().format("%Y-%m-%dT%H:%M:%S").to_string();
    s.admin.advance(Duration::seconds(5));
    s.admin
        .rename_client(SMALL_TENANT, ZOE, "Zoë Renamed")
        .unwrap();
    let r = get(
        &s,
        &c,
        &t,
        &format!("client.api/list?modifiedsince={since}"),
    )
    .await;
    let n = Node::parse(&r.body).unwrap();
    let names: Vec<_> = n
        .child("Clients")
        .unwrap()
        .children
        .iter()
        .map(|x| x.child_text("Name").unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        vec!["Zoë Renamed"],
        "only the client changed since (UTC, no zone)"
    );
    // A relationship change does not bump modified time (UNCONFIRMED, demanding)…
    s.admin.advance(Duration::seconds(5));
    let since2 = s.admin.now().format("%Y-%m-%dT%H:%M:%S").to_string();
    s.admin.advance(Duration::seconds(5));
    let ends = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
    s.admin
        .end_relationship(SMALL_TENANT, "00000000-aaaa-4bbb-8ccc-000000000104", ends)
        .unwrap();
    let r = get(
        &s,
        &c,
        &t,
        &format!("client.api/list?modifiedsince={since2}"),
    )
    .await;
    assert!(
        !r.body.contains(ROWAN),
        "relationship change not a modification by default"
    );
    // …unless the knob says so.
    s.admin
        .update_settings(|st| st.modified_on_relationship_change = true);
    s.admin
        .end_relationship(SMALL_TENANT, "00000000-aaaa-4bbb-8ccc-000000000104", ends)
        .unwrap();
    let r = get(
        &s,
        &c,
        &t,
        &format!("client.api/list?modifiedsince={since2}"),
    )
    .await;
    assert!(
        r.body.contains(ROWAN) && r.body.contains(MAEVE),
        "both sides bumped with the knob on"
    );
    let r = get(&s, &c, &t, "client.api/list?modifiedsince=2024-01-01").await;
    assert_eq!(status_of(&r.body), "ERROR", "format is yyyy-MM-ddTHH:mm:ss");
    let r = get(&s, &c, &t, "client.api/search?query=fernhill").await;
    let n = Node::parse(&r.body).unwrap();
    assert!(
        n.child("Clients").unwrap().children.len() >= 4,
        "search finds by name"
    );
}

#[tokio::test]
async fn relationships_both_sides_rules_and_type_immutable() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let add = |cid: &str, rid: &str, ty: &str, sh: i64| {
        format!("<Relationship><ClientUUID>{cid}</ClientUUID><RelatedClientUUID>{rid}</RelatedClientUUID><Type>{ty}</Type><NumberOfShares>{sh}</NumberOfShares><Percentage>0</Percentage><StartDate>2021-07-01</StartDate><EndDate /></Relationship>")
    };
    let r = post(
        &s,
        &c,
        &t,
        "client.api/addrelationship",
        &add(NOMINEES, MAEVE, "Director", 0),
    )
    .await;
    assert_eq!(status_of(&r.body), "OK", "{}", r.body);
    let r = post(
        &s,
        &c,
        &t,
        "client.api/addrelationship",
        &add(NOMINEES, MAEVE, "Director", 0),
    )
    .await;
    assert_eq!(status_of(&r.body), "ERROR", "duplicate relationship");
    let r = post(
        &s,
        &c,
        &t,
        "client.api/addrelationship",
        &add(MAEVE, NOMINEES, "Director", 0),
    )
    .await;
    assert_eq!(
        status_of(&r.body),
        "ERROR",
        "an Individual cannot be the entity side of Director (UNCONFIRMED, demanding)"
    );
    let r = post(
        &s,
        &c,
        &t,
        "client.api/addrelationship",
        &add(FERNHILL, MAEVE, "Director", 10),
    )
    .await;
    assert_eq!(
        status_of(&r.body),
        "ERROR",
        "shares only for Shareholder/Owner"
    );
    let r = post(
        &s,
        &c,
        &t,
        "client.api/addrelationship",
        &add(FERNHILL, MAEVE, "Chairperson", 0),
    )
    .await;
    assert_eq!(
        status_of(&r.body),
        "ERROR",
        "type outside the documented list"
    );
    let r = post(
        &s,
        &c,
        &t,
        "client.api/addrelationship",
        &add(FERNHILL, ZOE, "Shareholder", 250),
    )
    .await;
    assert_eq!(status_of(&r.body), "OK");
    let f = client_of(
        &get(&s, &c, &t, &format!("client.api/get/{FERNHILL}"))
            .await
            .body,
    );
    let z = client_of(&get(&s, &c, &t, &format!("client.api/get/{ZOE}")).await.body);
    let (_, _, plain_uuid) = rels(&f)
        .into_iter()
        .find(|(ty, r, _)| ty == "Shareholder" && r == ZOE)
        .expect("plain side");
    let (_, _, rev_uuid) = rels(&z)
        .into_iter()
        .find(|(ty, r, _)| ty == "Shareholder Of" && r == FERNHILL)
        .expect("reverse side");
    assert_ne!(
        plain_uuid, rev_uuid,
        "each side has its own UUID (UNCONFIRMED, demanding)"
    );
    let upd = format!("<Relationship><UUID>{rev_uuid}</UUID><NumberOfShares>750</NumberOfShares><EndDate>2025-06-30</EndDate></Relationship>");
    let r = put(&s, &c, &t, "client.api/updaterelationship", &upd).await;
    assert_eq!(
        status_of(&r.body),
        "OK",
        "update via either side's UUID: {}",
        r.body
    );
    let f = get(&s, &c, &t, &format!("client.api/get/{FERNHILL}"))
        .await
        .body;
    assert!(
        f.contains("<NumberOfShares>750</NumberOfShares>")
            && f.contains("<EndDate>2025-06-30</EndDate>")
    );
    let r = put(
        &s,
        &c,
        &t,
        "client.api/updaterelationship",
        &format!("<Relationship><UUID>{plain_uuid}</UUID><Type>Director</Type></Relationship>"),
    )
    .await;
    assert_eq!(status_of(&r.body), "ERROR", "Type is immutable");
    let r = post(
        &s,
        &c,
        &t,
        "client.api/deleterelationship",
        &format!("<Relationship><UUID>{plain_uuid}</UUID></Relationship>"),
    )
    .await;
    assert_eq!(status_of(&r.body), "OK");
    let z = client_of(&get(&s, &c, &t, &format!("client.api/get/{ZOE}")).await.body);
    assert!(
        !rels(&z).iter().any(|(ty, _, _)| ty == "Shareholder Of"),
        "deleted on both sides"
    );
}

#[tokio::test]
async fn client_groups_add_members_delete() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let r = post(
        &s,
        &c,
        &t,
        "clientgroup.api/add",
        "<Group><Name>No Members</Name><Taxable>No</Taxable></Group>",
    )
    .await;
    assert_eq!(
        status_of(&r.body),
        "ERROR",
        "ClientUUID effectively required (§2.3)"
    );
    let r = post(&s, &c, &t, "clientgroup.api/add", &format!("<Group><Name>New &amp; Shiny</Name><Taxable>Yes</Taxable><ClientUUID>{ZOE}</ClientUUID></Group>")).await;
    assert_eq!(status_of(&r.body), "OK", "{}", r.body);
    let g = Node::parse(&r.body)
        .unwrap()
        .child("Group")
        .cloned()
        .unwrap();
    let gid = g.child_text("UUID").unwrap().to_string();
    assert_eq!(g.child_text("Name"), Some("New & Shiny"));
    assert_eq!(g.child("Clients").unwrap().children.len(), 1);
    let m = format!("<Group><UUID>{gid}</UUID><add uuid=\"{ROWAN}\" /><add uuid=\"{MAEVE}\" /><remove uuid=\"{ZOE}\" /></Group>");
    let r = put(&s, &c, &t, "clientgroup.api/members", &m).await;
    assert_eq!(status_of(&r.body), "OK", "{}", r.body);
    let g = get(&s, &c, &t, &format!("clientgroup.api/get/{gid}"))
        .await
        .body;
    assert!(
        g.contains(ROWAN) && g.contains(MAEVE) && !g.contains(ZOE),
        "members changed: {g}"
    );
    let rowan = client_of(
        &get(&s, &c, &t, &format!("client.api/get/{ROWAN}"))
            .await
            .body,
    );
    let gs: Vec<_> = rowan
        .child("Groups")
        .unwrap()
        .children
        .iter()
        .map(|x| x.child_text("UUID").unwrap().to_string())
        .collect();
    assert!(
        gs.contains(&gid) && gs.contains(&GROUP1.to_string()),
        "client Groups agrees with group members"
    );
    let r = put(&s, &c, &t, "clientgroup.api/members", &format!("<Group><UUID>{gid}</UUID><add uuid=\"00000000-0000-4000-8000-000000000bad\" /></Group>")).await;
    assert_eq!(status_of(&r.body), "ERROR", "unknown member");
    let r = post(
        &s,
        &c,
        &t,
        "clientgroup.api/delete",
        &format!("<Group><UUID>{gid}</UUID></Group>"),
    )
    .await;
    assert_eq!(status_of(&r.body), "OK");
    assert_eq!(
        status_of(
            &get(&s, &c, &t, &format!("clientgroup.api/get/{gid}"))
                .await
                .body
        ),
        "ERROR"
    );
    // Archived members drop out of group views (UNCONFIRMED, demanding).
    let g1 = get(&s, &c, &t, &format!("clientgroup.api/get/{GROUP1}"))
        .await
        .body;
    assert!(
        !g1.contains(OLD),
        "archived fixture client not in member list"
    );
}

#[tokio::test]
async fn strict_content_type_opt_in_header() {
    let s = sim().await;
    let c = http();
    let t = login(&s, &c).await;
    let body = "<Client><Name>Form Encoded Pty Ltd</Name></Client>";
    let send = |strict: bool| {
        let mut rb = c
            .post(format!("{}/client.api/add", s.urls.xpm_base))
            .bearer_auth(&t)
            .header("Xero-Tenant-Id", SMALL_TENANT)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if strict {
            rb = rb.header("Xero-Features", "practice-strict-content-type");
        }
        rb.send()
    };
    let r = send(false).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "form content type with an XML body works (§1.2, recorded)"
    );
    assert_eq!(status_of(&r.text().await.unwrap()), "OK");
    let r = send(true).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "strict mode wants application/xml"
    );
}
