//! The headless account commands of the real binary: users, organisations and two-factor
//! set-up, end to end on a temporary data folder.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn structuregram(dir: &str, args: &[&str], password: Option<&str>, stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_structuregram"));
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("STRUCTUREGRAM_DATA_DIR")
        .env_remove("STRUCTUREGRAM_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        command.env("STRUCTUREGRAM_PASSWORD", p);
    }
    let mut child = command.spawn().expect("the structuregram binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn organisations_are_created_listed_and_switched() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    ok(
        &structuregram(dir, &["org", "create", "Second Practice"], None, ""),
        "org create",
    );
    let list = ok(&structuregram(dir, &["org", "list"], None, ""), "org list");
    assert!(
        list.contains("* ") && list.contains("My practice") && list.contains("Second Practice"),
        "both organisations are listed, one active: {list}"
    );
    let active = |list: &str| {
        list.lines()
            .find(|l| l.starts_with('*'))
            .unwrap()
            .to_owned()
    };
    assert!(active(&list).contains("My practice"), "the first is active");
    ok(
        &structuregram(dir, &["org", "use", "Second Practice"], None, ""),
        "org use",
    );
    let list = ok(&structuregram(dir, &["org", "list"], None, ""), "org list");
    assert!(
        active(&list).contains("Second Practice"),
        "the switch is remembered: {list}"
    );
    let out = structuregram(dir, &["org", "use", "Nope"], None, "");
    assert!(!out.status.success(), "an unknown organisation is an error");
}

#[test]
fn a_user_enrols_in_two_factor_and_gets_recovery_codes_once() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    // Password on standard input.
    ok(
        &structuregram(
            dir,
            &["user", "create", "--username", "ana"],
            None,
            "correct horse\n",
        ),
        "user create",
    );
    let status = ok(
        &structuregram(dir, &["mfa", "status", "--username", "ana"], None, ""),
        "mfa status",
    );
    assert!(
        status.contains("Two-factor authentication: off"),
        "{status}"
    );

    // Password from the environment.
    let qr = std::path::Path::new(dir).join("qr.png");
    let enrol = ok(
        &structuregram(
            dir,
            &[
                "mfa",
                "enrol",
                "--username",
                "ana",
                "--qr-png",
                qr.to_str().unwrap(),
            ],
            Some("correct horse"),
            "",
        ),
        "mfa enrol",
    );
    let key = enrol
        .lines()
        .find_map(|l| l.strip_prefix("Key (enter it by hand): "))
        .expect("enrol prints the manual key")
        .to_owned();
    assert!(
        enrol.contains(&format!("otpauth://totp/StructureGram:ana?secret={key}")),
        "enrol prints the otpauth URI: {enrol}"
    );
    assert!(std::fs::read(&qr).unwrap().starts_with(b"\x89PNG"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&qr).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the QR code is the secret: its owner's only");
    }

    let secret = structuregram_core::mfa::manual_key_bytes(
        &structuregram_core::secrets::Secret::new(key.clone()),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    let code = structuregram_core::mfa::totp(&secret, "ana")
        .unwrap()
        .generate(now)
        .to_string();
    let wrong = structuregram(
        dir,
        &["mfa", "confirm", "--username", "ana", "--code", "12"],
        Some("wrong password"),
        "",
    );
    assert!(
        !wrong.status.success(),
        "a wrong password does not open the vault"
    );
    // Password and code both on standard input, one per line.
    let confirm = ok(
        &structuregram(
            dir,
            &["mfa", "confirm", "--username", "ana"],
            None,
            &format!("correct horse\n{code}\n"),
        ),
        "mfa confirm",
    );
    let codes: Vec<&str> = confirm.lines().collect();
    assert_eq!(codes.len(), 10, "ten recovery codes: {confirm}");
    let status = ok(
        &structuregram(dir, &["mfa", "status", "--username", "ana"], None, ""),
        "mfa status",
    );
    assert!(status.contains("Two-factor authentication: on"), "{status}");
    let again = structuregram(
        dir,
        &["mfa", "confirm", "--username", "ana", "--code", &code],
        Some("correct horse"),
        "",
    );
    assert!(
        !again.status.success() && again.stdout.is_empty(),
        "recovery codes are shown only once"
    );
    let secret_file_hits = std::fs::read(std::path::Path::new(dir).join("structuregram.sqlite"))
        .unwrap()
        .windows(key.len())
        .any(|w| w == key.as_bytes());
    assert!(!secret_file_hits, "the TOTP secret is not in the database");
}
