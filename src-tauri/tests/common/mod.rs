//! What the shell's CLI tests share: running the real binary on a data folder (optionally the
//! demo's) with the test user's password, and a user with two-factor authentication on.

#![allow(dead_code)] // Each test file uses its own subset.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

/// A data folder for the binary, and whether to open it as the demo (`--demo`).
pub struct DataDir {
    /// The folder.
    pub path: String,
    /// Pass `--demo` with every command.
    pub demo: bool,
}

impl DataDir {
    /// `path` as a data folder, the demo's or not.
    pub fn new(path: &std::path::Path, demo: bool) -> Self {
        Self {
            path: path.to_str().unwrap().to_owned(),
            demo,
        }
    }
}

pub const PASSWORD: &str = "correct horse";

pub fn command(dir: &DataDir, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_structuregram"));
    command
        .arg("--data-dir")
        .arg(&dir.path)
        .args(dir.demo.then_some("--demo"))
        .args(args)
        .env_remove("STRUCTUREGRAM_DATA_DIR")
        .env("STRUCTUREGRAM_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

pub fn run(dir: &DataDir, args: &[&str]) -> Output {
    let mut child = command(dir, args).spawn().expect("the binary runs");
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

pub fn ok(dir: &DataDir, args: &[&str]) -> String {
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
pub fn enrolled_user(dir: &DataDir) -> Vec<String> {
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

/// Starts the simulator (its small fixture practice), points the data folder's Xero settings at
/// it and connects through the loopback (the "browser" follows the auto-approving redirect).
/// Keep the runtime alive as long as the simulator is used.
pub fn connected(
    dir: &DataDir,
    codes: &mut impl Iterator<Item = String>,
) -> (tokio::runtime::Runtime, xpm_sim::SimServer) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(xpm_sim::start(xpm_sim::SimConfig::for_tests()))
        .unwrap();
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
    rt.block_on(async { reqwest::get(url.trim()).await?.text().await })
        .unwrap();
    let out = connect.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "connect succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (rt, sim)
}

/// [`connected`], then links the XPM group `xpm_group` as a new group (shared by the pull and
/// reconcile CLI tests). Keep the runtime alive as long as the simulator is used.
pub fn connected_and_linked(
    dir: &DataDir,
    codes: &mut impl Iterator<Item = String>,
    xpm_group: &str,
) -> (tokio::runtime::Runtime, xpm_sim::SimServer) {
    let (rt, sim) = connected(dir, codes);
    let code = codes.next().unwrap();
    ok(
        dir,
        &[
            "xpm",
            "link",
            "--xpm-group",
            xpm_group,
            "--new",
            "--username",
            "ana",
            "--code",
            &code,
        ],
    );

    (rt, sim)
}
