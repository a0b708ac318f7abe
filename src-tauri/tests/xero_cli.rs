//! The headless Xero commands of the real binary against the simulator: connect through the
//! loopback callback, discover the practice's groups, link one as new and one to an existing
//! group, refuse a second link of the same XPM group, unlink keeping the data, disconnect.

use std::io::{BufRead, BufReader};

mod common;

use common::{command, enrolled_user, ok, run, DataDir};

/// The start of every token the simulator issues: a JWT whose header is
/// `{"typ":"JWT","alg":"HS256"}`, base64url-encoded (RFC 7519 §3.1).
const JWT_HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.";

/// No file under `dir` (the database and its WAL, the TFN key, the vault) holds a token in plain
/// text.
fn assert_no_token_in(dir: &std::path::Path) {
    let mut stack = vec![dir.to_owned()];
    let mut files = 0;
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(JWT_HEADER.len())
                    .any(|w| w == JWT_HEADER.as_bytes()),
                "{} holds a Xero token in plain text",
                path.display()
            );
        }
    }
    assert!(
        files >= 3,
        "the database, the key and the vault were searched"
    );
}

#[test]
fn connect_discover_link_unlink_and_disconnect_headless() {
    let data = tempfile::tempdir().unwrap();
    let dir = &DataDir::new(data.path(), true);
    let mut codes = enrolled_user(dir).into_iter();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(xpm_sim::start(xpm_sim::SimConfig::for_tests()))
        .unwrap();
    let tenant = sim.admin.tenants()[0].clone();
    let xpm_groups = sim.admin.groups(&tenant.tenant_id).unwrap();
    assert!(xpm_groups.len() >= 2, "the fixture has groups to link");

    // Before any connection the gate is the first thing a connect meets… after settings.
    ok(
        dir,
        &[
            "xero",
            "settings",
            "--client-id",
            xpm_sim::DEFAULT_CLIENT_ID,
            "--base",
            &sim.urls.base,
        ],
    );

    // Connect: the binary prints Xero's URL and waits on the loopback port; the "browser"
    // (reqwest, following the simulator's auto-approving redirect) comes back to it.
    let code = codes.next().unwrap();
    let mut connect = command(
        dir,
        &["xero", "connect", "--username", "ana", "--code", &code],
    )
    .spawn()
    .unwrap();
    drop(connect.stdin.take());
    let mut stdout = BufReader::new(connect.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    assert!(
        url.starts_with(&sim.urls.authorize_url),
        "connect prints the simulator's authorize URL: {url}"
    );
    let landing = rt
        .block_on(async { reqwest::get(url.trim()).await?.text().await })
        .unwrap();
    assert!(
        landing.contains("StructureGram"),
        "the loopback page tells the user to return to the app: {landing}"
    );
    let out = connect.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains(JWT_HEADER) && !String::from_utf8_lossy(&out.stdout).contains(JWT_HEADER),
        "connect prints no token"
    );
    assert!(out.status.success(), "connect succeeds: {err}");
    assert!(
        err.contains(&format!(
            "Connected to \u{201c}{}\u{201d}",
            tenant.tenant_name
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("Found {} XPM client groups", xpm_groups.len())),
        "discovery runs after connecting: {err}"
    );

    let status: serde_json::Value = serde_json::from_str(&ok(dir, &["xero", "status"])).unwrap();
    assert_eq!(status["state"], "connected");
    // The tokens are in the vault (encrypted), nowhere else.
    assert_no_token_in(data.path());
    assert_eq!(status["tenantName"], tenant.tenant_name.as_str());

    let catalog: serde_json::Value =
        serde_json::from_str(&ok(dir, &["xpm", "groups", "--json"])).unwrap();
    let mut names: Vec<&str> = catalog["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = xpm_groups.iter().map(|(_, n)| n.as_str()).collect();
    names.sort_unstable();
    expected.sort_unstable();
    assert_eq!(names, expected, "the catalog is the simulator's groups");

    // Link the first as a new group, the second to the demo's Harrington Family.
    let (first, second) = (expected[0].to_owned(), expected[1].to_owned());
    let code = codes.next().unwrap();
    ok(
        dir,
        &[
            "xpm",
            "link",
            "--xpm-group",
            &first,
            "--new",
            "--username",
            "ana",
            "--code",
            &code,
        ],
    );
    let code = codes.next().unwrap();
    ok(
        dir,
        &[
            "xpm",
            "link",
            "--xpm-group",
            &second,
            "--group",
            "Harrington Family",
            "--username",
            "ana",
            "--code",
            &code,
        ],
    );
    let groups_before = ok(dir, &["groups", "--json"]);
    assert!(
        groups_before.contains(&format!("\"name\": \"{first}\"")),
        "link --new created a group named after the XPM group: {groups_before}"
    );

    // Push Harrington Family (9 entities, none in XPM yet) into the XPM group it is linked to.
    let second_uuid = xpm_groups
        .iter()
        .find(|(_, n)| *n == second)
        .map(|(u, _)| u.clone())
        .unwrap();
    let members_before = sim
        .admin
        .group_members(&tenant.tenant_id, &second_uuid)
        .unwrap()
        .len();
    let before = sim.admin.practices()[0].clone();
    let plan: serde_json::Value = serde_json::from_str(&ok(
        dir,
        &[
            "xpm",
            "push",
            "--group",
            "Harrington Family",
            "--dry-run",
            "--json",
        ],
    ))
    .unwrap();
    let client_creates = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["phase"] == "entities" && i["action"] == "create")
        .count();
    assert_eq!(client_creates, 9, "the preview creates a client per entity");
    assert_eq!(
        sim.admin.practices()[0].clients,
        before.clients,
        "a preview changes nothing in XPM"
    );
    let code = codes.next().unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(
        dir,
        &[
            "xpm",
            "push",
            "--group",
            "Harrington Family",
            "--json",
            "--username",
            "ana",
            "--code",
            &code,
        ],
    ))
    .unwrap();
    let after = sim.admin.practices()[0].clone();
    assert_eq!(report["counts"]["clientsCreated"], 9, "{report}");
    assert_eq!(report["counts"]["failed"], 0, "{report}");
    assert_eq!(
        after.clients,
        before.clients + 9,
        "XPM has the nine new clients"
    );
    assert_eq!(
        sim.admin
            .group_members(&tenant.tenant_id, &second_uuid)
            .unwrap()
            .len(),
        members_before + 9,
        "and they are members of the linked XPM group"
    );
    let created = report["counts"]["relationshipsCreated"].as_u64().unwrap() as usize;
    assert!(
        created > 0,
        "the family's relationships were sent: {report}"
    );
    assert_eq!(after.relationships, before.relationships + created);
    let again: serde_json::Value = serde_json::from_str(&ok(
        dir,
        &[
            "xpm",
            "push",
            "--group",
            "Harrington Family",
            "--dry-run",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(
        (again["creates"].as_u64(), again["updates"].as_u64()),
        (Some(0), Some(0)),
        "after the push nothing is left to send: {again}"
    );

    // The same XPM group cannot be linked twice.
    let code = codes.next().unwrap();
    let twice = run(
        dir,
        &[
            "xpm",
            "link",
            "--xpm-group",
            &second,
            "--group",
            "Nguyen Family Group",
            "--username",
            "ana",
            "--code",
            &code,
        ],
    );
    assert!(!twice.status.success(), "a second link is refused");
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("already linked"),
        "and says why: {}",
        String::from_utf8_lossy(&twice.stderr)
    );

    // Unlink keeps the group and its entities.
    let code = codes.next().unwrap();
    ok(
        dir,
        &[
            "xpm",
            "unlink",
            "--group",
            "Harrington Family",
            "--username",
            "ana",
            "--code",
            &code,
        ],
    );
    assert_eq!(
        ok(dir, &["groups", "--json"]),
        groups_before,
        "unlinking changed no group or count"
    );
    let catalog: serde_json::Value =
        serde_json::from_str(&ok(dir, &["xpm", "groups", "--json"])).unwrap();
    let linked: Vec<&str> = catalog["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["linkedGroupId"].is_null())
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(linked, vec![first.as_str()], "only the first stays linked");

    // Disconnect: revoked at the simulator, links kept.
    let code = codes.next().unwrap();
    ok(
        dir,
        &["xero", "disconnect", "--username", "ana", "--code", &code],
    );
    let status: serde_json::Value = serde_json::from_str(&ok(dir, &["xero", "status"])).unwrap();
    assert_eq!(status["state"], "disconnected");
    let catalog_after = ok(dir, &["xpm", "groups", "--json"]);
    assert!(catalog_after.contains(&first), "links survive a disconnect");

    rt.block_on(sim.shutdown());
}
