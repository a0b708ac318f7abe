//! The headless Xero commands of the real binary against the simulator: connect through the
//! loopback callback, discover the practice's groups, link one as new and one to an existing
//! group, refuse a second link of the same XPM group, unlink keeping the data, disconnect.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "correct horse";

fn command(dir: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_structuregram"));
    command
        .arg("--data-dir")
        .arg(dir)
        .arg("--demo")
        .args(args)
        .env_remove("STRUCTUREGRAM_DATA_DIR")
        .env("STRUCTUREGRAM_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn run(dir: &str, args: &[&str]) -> Output {
    let mut child = command(dir, args).spawn().expect("the binary runs");
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(dir: &str, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A user with two-factor authentication on; returns their ten recovery codes (each verifies
/// one command's session once, so the test needs no clock games with TOTP replay).
fn enrolled_user(dir: &str) -> Vec<String> {
    ok(dir, &["user", "create", "--username", "ana"]);
    let enrol = ok(dir, &["mfa", "enrol", "--username", "ana"]);
    let key = enrol
        .lines()
        .find_map(|l| l.strip_prefix("Key (enter it by hand): "))
        .expect("enrol prints the manual key");
    let secret = structuregram_core::mfa::manual_key_bytes(
        &structuregram_core::secrets::Secret::new(key.to_owned()),
    )
    .unwrap();
    let code = structuregram_core::mfa::totp(&secret, "ana")
        .unwrap()
        .generate(chrono::Utc::now().timestamp() as u64)
        .to_string();
    let codes = ok(
        dir,
        &["mfa", "confirm", "--username", "ana", "--code", &code],
    );
    let codes: Vec<String> = codes.lines().map(str::to_owned).collect();
    assert_eq!(codes.len(), 10, "ten recovery codes: {codes:?}");
    codes
}

#[test]
fn connect_discover_link_unlink_and_disconnect_headless() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
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
