//! The Stronghold vault with its production settings (snapshot work factor included): planted
//! secrets never appear in clear on disk, and how long opening a vault takes in this build.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use structuregram_app::vault::{sign_in, snapshot_path, StrongholdVault};
use structuregram_core::accounts::{self, UserId};
use structuregram_core::secrets::{Secret, SecretStore};
use structuregram_core::{db, gate, mfa};

/// RFC 6238's SHA1 seed "12345678901234567890" in base32.
const KNOWN_TOTP_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const FAKE_TOKEN: &str = "fake-xero-access-token-5b9e2c71d04f4a8e";

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).unwrap()
}

fn pw(s: &str) -> Secret {
    Secret::new(s)
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn planted_secrets_are_in_neither_the_database_nor_the_snapshot_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::open(dir.path()).await.unwrap();
    let user = accounts::create_user(&db, "ana", &pw("correct horse"), None, at(0))
        .await
        .unwrap();
    let mut signed_in = sign_in(&db, dir.path(), "ana", &pw("correct horse"))
        .await
        .unwrap();
    let vault = &signed_in.vault;
    vault
        .put(mfa::PENDING_TOTP_SECRET, &pw(KNOWN_TOTP_SECRET))
        .unwrap();
    vault.put("xero.tokens", &pw(FAKE_TOKEN)).unwrap();
    // The real flow moves the secret into place and writes recovery codes to the vault.
    let recovery = mfa::confirm(&db, vault, user.id, "287082", at(59))
        .await
        .unwrap();
    gate::verify_session(
        &db,
        vault,
        &mut signed_in.session,
        recovery[0].expose(),
        at(60),
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    drop(signed_in);

    let snapshot = snapshot_path(dir.path(), user.id);
    let all = files(dir.path());
    assert!(
        all.iter().any(|(p, _)| *p == snapshot),
        "the vault was written to {}",
        snapshot.display()
    );
    assert!(
        all.iter().any(|(p, _)| p.ends_with(db::DATABASE_FILE)),
        "the database is searched too"
    );
    let mut needles: Vec<Vec<u8>> = vec![
        KNOWN_TOTP_SECRET.into(),
        b"12345678901234567890".to_vec(),
        FAKE_TOKEN.into(),
    ];
    needles.extend(recovery.iter().map(|c| c.expose().as_bytes().to_vec()));
    for (path, bytes) in &all {
        for needle in &needles {
            assert!(
                !contains(bytes, needle),
                "{} holds a secret in clear ({} bytes searched)",
                path.display(),
                bytes.len()
            );
        }
    }

    // And the secrets are really there, for the right key.
    let db = db::open(dir.path()).await.unwrap();
    let again = sign_in(&db, dir.path(), "ana", &pw("correct horse"))
        .await
        .unwrap();
    assert_eq!(
        again.vault.get("xero.tokens").unwrap(),
        Some(pw(FAKE_TOKEN))
    );
    assert_eq!(
        again.vault.get(mfa::TOTP_SECRET).unwrap(),
        Some(pw(KNOWN_TOTP_SECRET))
    );
    assert_eq!(mfa::recovery_codes_remaining(&again.vault).unwrap(), 9);
}

/// Not a timed test: prints how long signing in (password check, key derivation, snapshot
/// load) takes in this build, for the README. Run with `--nocapture`.
#[tokio::test]
async fn report_how_long_opening_the_vault_takes() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::open(dir.path()).await.unwrap();
    accounts::create_user(&db, "ana", &pw("correct horse"), None, at(0))
        .await
        .unwrap();
    sign_in(&db, dir.path(), "ana", &pw("correct horse"))
        .await
        .unwrap()
        .vault
        .put("x", &pw("y"))
        .unwrap();
    let started = std::time::Instant::now();
    let signed_in = sign_in(&db, dir.path(), "ana", &pw("correct horse"))
        .await
        .unwrap();
    let total = started.elapsed();
    let started = std::time::Instant::now();
    let key = accounts::vault_key(&db, signed_in.user.id, &pw("correct horse"))
        .await
        .unwrap();
    let derive = started.elapsed();
    drop(signed_in);
    let started = std::time::Instant::now();
    StrongholdVault::open(&snapshot_path(dir.path(), UserId(1)), &key).unwrap();
    let open = started.elapsed();
    eprintln!(
        "vault timing ({}): sign-in total {total:?} (argon2id key derivation {derive:?}, snapshot open {open:?})",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
}
