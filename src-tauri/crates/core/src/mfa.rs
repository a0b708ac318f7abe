//! Two-factor authentication with time-based one-time passwords (TOTP, RFC 6238) and
//! single-use recovery codes.
//!
//! The parameters are the ones every authenticator app understands: HMAC-SHA1, 6 digits, a
//! 30-second step, and codes accepted from one step before to one step after the current one
//! (skew 1, RFC 6238 §5.2). The TOTP arithmetic is `totp-rs`'s; this module adds what the RFC
//! leaves to the caller:
//!
//! - **Replay.** A code is accepted once: the last accepted time step is kept per user in the
//!   database, and a code for that step or an earlier one is refused (§5.2).
//! - **Throttling.** After [`FREE_ATTEMPTS`] wrong codes in a row no code is checked for
//!   [`FIRST_LOCKOUT_SECS`] seconds, doubling with each further wrong code (capped at
//!   [`MAX_LOCKOUT_SECS`]); a right code resets the count. Kept in the database, so restarting
//!   the app does not reset it.
//! - **Recovery codes.** Ten single-use codes, shown once at confirmation.
//!
//! The TOTP secret (pending and confirmed) and the recovery codes live in the user's vault (a
//! [`SecretStore`]), never in the database. The time is always passed in.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, RngCore};
use sea_orm::{ActiveModelTrait, DatabaseConnection, IntoActiveModel, Set};
use totp_rs::{Algorithm, Builder, Totp};

use crate::accounts::{user_model, UserId};
use crate::error::{Error, Result};
use crate::schema::user;
use crate::secrets::{Secret, SecretStore};

/// Seconds per TOTP time step (RFC 6238 `X`).
pub const STEP_SECS: u64 = 30;
/// Steps accepted either side of the current one.
pub const SKEW_STEPS: u16 = 1;
/// Digits in a code.
pub const DIGITS: u8 = 6;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "StructureGram";
/// Wrong codes allowed in a row before the first lock-out.
pub const FREE_ATTEMPTS: i32 = 5;
/// The first lock-out, in seconds; each further wrong code doubles it.
pub const FIRST_LOCKOUT_SECS: i64 = 30;
/// The longest lock-out, in seconds (one day).
pub const MAX_LOCKOUT_SECS: i64 = 24 * 60 * 60;
/// How many recovery codes confirmation hands out.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Vault name of the confirmed TOTP secret (base32, RFC 4648, no padding).
pub const TOTP_SECRET: &str = "mfa.totp";
/// Vault name of a TOTP secret awaiting confirmation.
pub const PENDING_TOTP_SECRET: &str = "mfa.totp.pending";
/// Vault name of the unused recovery codes (one per line).
pub const RECOVERY_CODES: &str = "mfa.recovery";

/// Recovery-code alphabet: no 0/O, 1/I to misread.
const RECOVERY_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// What enrolment hands the user to set up an authenticator app. Every field carries the secret,
/// so every field is a [`Secret`]; show them once and drop them.
#[derive(Clone, Debug)]
pub struct Enrolment {
    /// `otpauth://totp/StructureGram:<username>?secret=…&issuer=StructureGram` (Key Uri Format).
    pub otpauth_uri: Secret,
    /// The secret in base32, for typing in by hand.
    pub manual_key: Secret,
    /// A QR code of [`Self::otpauth_uri`] as a base64-encoded PNG (no `data:` prefix).
    pub qr_png_base64: Secret,
}

/// Which kind of code was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// A code from the authenticator app.
    Totp,
    /// A recovery code, now used up; `remaining` are left.
    RecoveryCode {
        /// Unused recovery codes left.
        remaining: usize,
    },
}

/// A user's two-factor state, without secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaStatus {
    /// Whether two-factor authentication is on.
    pub enrolled: bool,
    /// Whether an integration was connected under two-factor authentication.
    pub integration_mfa: bool,
    /// Wrong codes in a row so far.
    pub failed_attempts: u32,
    /// When codes are accepted again, if locked out at the time asked.
    pub locked_until: Option<DateTime<Utc>>,
}

/// Builds the TOTP of our parameters for a raw secret (at least 16 bytes, RFC 4226 §4).
///
/// # Errors
/// [`Error::Crypto`] if the secret is too short.
pub fn totp(secret: &[u8], account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW_STEPS)
        .with_step_duration(STEP_SECS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| Error::Crypto(e.to_string()))
}

fn unix_secs(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

/// The raw secret behind a base32 manual key (RFC 4648, as [`Enrolment::manual_key`] and the
/// vault hold it).
///
/// # Errors
/// [`Error::Crypto`] if it is not base32.
pub fn manual_key_bytes(secret: &Secret) -> Result<Vec<u8>> {
    totp_rs::Secret::try_from_base32(secret.expose())
        .map(|s| s.as_bytes().to_vec())
        .map_err(|e| Error::Crypto(format!("the stored TOTP secret is damaged: {e}")))
}

/// Starts enrolment: makes a new random 160-bit secret, keeps it in the vault as *pending*, and
/// returns what an authenticator app needs. Two-factor authentication is not on until
/// [`confirm`] sees a code; enrolling again replaces the pending secret.
///
/// # Errors
/// [`Error::Conflict`] if two-factor authentication is already on (turn it off first);
/// [`Error::Vault`], [`Error::Db`], [`Error::NotFound`] as they come.
pub async fn enrol(
    db: &DatabaseConnection,
    store: &dyn SecretStore,
    user: UserId,
) -> Result<Enrolment> {
    let row = user_model(db, user).await?;
    if row.mfa_enrolled {
        return Err(Error::Conflict(
            "Two-factor authentication is already on. Turn it off first to set up another device."
                .to_owned(),
        ));
    }
    let mut raw = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let totp = totp(&raw, &row.username)?;
    let manual_key = Secret::new(totp.secret().to_base32());
    let uri = totp.to_url().map_err(|e| Error::Crypto(e.to_string()))?;
    let png = totp.to_qr_png().map_err(|e| Error::Crypto(e.to_string()))?;
    store.put(PENDING_TOTP_SECRET, &manual_key)?;
    Ok(Enrolment {
        otpauth_uri: Secret::new(uri),
        manual_key,
        qr_png_base64: Secret::new(base64::engine::general_purpose::STANDARD.encode(png)),
    })
}

/// Finishes enrolment with a code from the app: turns two-factor authentication on and returns
/// [`RECOVERY_CODE_COUNT`] recovery codes — the only time they are shown.
///
/// # Errors
/// [`Error::Validation`] if enrolment was not started; [`Error::InvalidCode`] /
/// [`Error::LockedOut`] as for [`verify`]; [`Error::Conflict`] if already on.
pub async fn confirm(
    db: &DatabaseConnection,
    store: &dyn SecretStore,
    user: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Secret>> {
    let row = user_model(db, user).await?;
    if row.mfa_enrolled {
        return Err(Error::Conflict(
            "Two-factor authentication is already on.".to_owned(),
        ));
    }
    let Some(pending) = store.get(PENDING_TOTP_SECRET)? else {
        return Err(Error::Validation(
            "Start setting up two-factor authentication first.".to_owned(),
        ));
    };
    check_not_locked(&row, now)?;
    let secret = manual_key_bytes(&pending)?;
    let step = match totp_step(&secret, &row, code, now)? {
        TotpCheck::Accepted(step) => step,
        refused => {
            record_failure(db, row, now).await?;
            return Err(refused.error());
        }
    };
    let codes = new_recovery_codes();
    let joined = codes
        .iter()
        .map(|c| c.expose())
        .collect::<Vec<_>>()
        .join("\n");
    store.put(TOTP_SECRET, &pending)?;
    store.put(RECOVERY_CODES, &Secret::new(joined))?;
    store.delete(PENDING_TOTP_SECRET)?;
    let mut active = row.into_active_model();
    active.mfa_enrolled = Set(true);
    record_success(&mut active, Some(step), now);
    active.update(db).await?;
    Ok(codes)
}

/// Checks a code — from the authenticator app (6 digits) or a recovery code — for an enrolled
/// user, enforcing replay protection and throttling. A recovery code is used up.
///
/// # Errors
/// [`Error::MfaRequired`] if two-factor authentication is off; [`Error::LockedOut`] while
/// locked out (the code is not even looked at); [`Error::InvalidCode`] for a wrong or expired
/// code, [`Error::CodeAlreadyUsed`] for a replayed one (both count towards the lock-out).
pub async fn verify(
    db: &DatabaseConnection,
    store: &dyn SecretStore,
    user: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Accepted> {
    let row = user_model(db, user).await?;
    if !row.mfa_enrolled {
        return Err(Error::MfaRequired);
    }
    check_not_locked(&row, now)?;
    let normalised: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let is_totp =
        normalised.len() == usize::from(DIGITS) && normalised.bytes().all(|b| b.is_ascii_digit());
    let accepted = if is_totp {
        let secret = store
            .get(TOTP_SECRET)?
            .ok_or_else(|| Error::Vault("the TOTP secret is missing from the vault".to_owned()))?;
        match totp_step(&manual_key_bytes(&secret)?, &row, &normalised, now)? {
            TotpCheck::Accepted(step) => Ok((Accepted::Totp, Some(step))),
            refused => Err(refused.error()),
        }
    } else {
        use_recovery_code(store, &normalised)?
            .map(|remaining| {
                (
                    Accepted::RecoveryCode { remaining },
                    row.mfa_last_step_u64(),
                )
            })
            .ok_or(Error::InvalidCode)
    };
    match accepted {
        Ok((accepted, step)) => {
            let mut active = row.into_active_model();
            record_success(&mut active, step, now);
            active.update(db).await?;
            Ok(accepted)
        }
        Err(refused) => {
            record_failure(db, row, now).await?;
            Err(refused)
        }
    }
}

/// Turns two-factor authentication off, which needs a valid code (or recovery code); removes
/// the secret and recovery codes from the vault and clears the integration-MFA flag.
///
/// # Errors
/// As for [`verify`].
pub async fn disable(
    db: &DatabaseConnection,
    store: &dyn SecretStore,
    user: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    verify(db, store, user, code, now).await?;
    store.delete(TOTP_SECRET)?;
    store.delete(RECOVERY_CODES)?;
    store.delete(PENDING_TOTP_SECRET)?;
    let mut active = user_model(db, user).await?.into_active_model();
    active.mfa_enrolled = Set(false);
    active.mfa_last_step = Set(None);
    active.integration_mfa = Set(false);
    active.updated_at = Set(now);
    active.update(db).await?;
    Ok(())
}

/// The user's two-factor state at `now`.
///
/// # Errors
/// [`Error::NotFound`] / [`Error::Db`].
pub async fn status(
    db: &DatabaseConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<MfaStatus> {
    let row = user_model(db, user).await?;
    Ok(MfaStatus {
        enrolled: row.mfa_enrolled,
        integration_mfa: row.integration_mfa,
        failed_attempts: u32::try_from(row.mfa_failed_attempts).unwrap_or(0),
        locked_until: row.mfa_locked_until.filter(|until| *until > now),
    })
}

/// Unused recovery codes left in the vault.
///
/// # Errors
/// [`Error::Vault`] if the vault cannot be read.
pub fn recovery_codes_remaining(store: &dyn SecretStore) -> Result<usize> {
    Ok(store
        .get(RECOVERY_CODES)?
        .map(|s| s.expose().lines().filter(|l| !l.is_empty()).count())
        .unwrap_or(0))
}

impl user::Model {
    fn mfa_last_step_u64(&self) -> Option<u64> {
        self.mfa_last_step.and_then(|s| u64::try_from(s).ok())
    }
}

fn check_not_locked(row: &user::Model, now: DateTime<Utc>) -> Result<()> {
    match row.mfa_locked_until {
        Some(until) if until > now => Err(Error::LockedOut { until }),
        _ => Ok(()),
    }
}

/// What checking an authenticator code against the secret found.
enum TotpCheck {
    /// Valid within ±1 step, and newer than the last accepted step: the step it belongs to.
    Accepted(u64),
    /// Valid within ±1 step, but its step is not newer than the last accepted one (a replay).
    AlreadyUsed,
    /// Not a code of any step within the skew.
    Wrong,
}

impl TotpCheck {
    /// The error a refused code reports.
    fn error(&self) -> Error {
        match self {
            Self::AlreadyUsed => Error::CodeAlreadyUsed,
            Self::Accepted(_) | Self::Wrong => Error::InvalidCode,
        }
    }
}

/// Which step `code` belongs to at `now` (±1 step of skew), and whether it is newer than the
/// last accepted one.
fn totp_step(
    secret: &[u8],
    row: &user::Model,
    code: &str,
    now: DateTime<Utc>,
) -> Result<TotpCheck> {
    let totp = totp(secret, &row.username)?;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(match totp.check(&code, unix_secs(now)) {
        None => TotpCheck::Wrong,
        Some(step) if row.mfa_last_step_u64().is_some_and(|last| step <= last) => {
            TotpCheck::AlreadyUsed
        }
        Some(step) => TotpCheck::Accepted(step),
    })
}

fn record_success(active: &mut user::ActiveModel, step: Option<u64>, now: DateTime<Utc>) {
    if let Some(step) = step.and_then(|s| i64::try_from(s).ok()) {
        active.mfa_last_step = Set(Some(step));
    }
    active.mfa_failed_attempts = Set(0);
    active.mfa_locked_until = Set(None);
    active.updated_at = Set(now);
}

/// The lock-out after `failures` wrong codes in a row, if any.
pub fn lockout_after(failures: i32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_ATTEMPTS)?;
    let doublings = u32::try_from(over).ok()?.min(20);
    let secs = FIRST_LOCKOUT_SECS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_LOCKOUT_SECS);
    Some(Duration::seconds(secs))
}

async fn record_failure(
    db: &DatabaseConnection,
    row: user::Model,
    now: DateTime<Utc>,
) -> Result<()> {
    let failures = row.mfa_failed_attempts.saturating_add(1);
    let mut active = row.into_active_model();
    active.mfa_failed_attempts = Set(failures);
    active.mfa_locked_until = Set(lockout_after(failures).map(|d| now + d));
    active.updated_at = Set(now);
    active.update(db).await?;
    Ok(())
}

fn new_recovery_codes() -> Vec<Secret> {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let chars: String = (0..10)
                .map(|_| char::from(RECOVERY_ALPHABET[rng.gen_range(0..RECOVERY_ALPHABET.len())]))
                .collect();
            Secret::new(format!("{}-{}", &chars[..5], &chars[5..]))
        })
        .collect()
}

/// Uses up the recovery code `normalised` (upper case, no dashes or spaces); returns how many
/// are left, or `None` if it is not one of them.
fn use_recovery_code(store: &dyn SecretStore, normalised: &str) -> Result<Option<usize>> {
    let Some(stored) = store.get(RECOVERY_CODES)? else {
        return Ok(None);
    };
    let codes: Vec<&str> = stored.expose().lines().filter(|l| !l.is_empty()).collect();
    let Some(index) = codes.iter().position(|c| c.replace('-', "") == normalised) else {
        return Ok(None);
    };
    let remaining: Vec<&str> = codes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, c)| *c)
        .collect();
    store.put(RECOVERY_CODES, &Secret::new(remaining.join("\n")))?;
    Ok(Some(remaining.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts;
    use crate::db;
    use crate::secrets::MemorySecretStore;
    use chrono::TimeZone;

    /// RFC 6238 Appendix B's SHA1 seed, the ASCII string "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// A user whose vault holds the RFC secret as a confirmed TOTP secret, as if enrolled.
    async fn enrolled_user(db: &DatabaseConnection, store: &MemorySecretStore) -> UserId {
        let u = accounts::create_user(db, "ana", &Secret::new("12345678"), None, at(0))
            .await
            .unwrap();
        store
            .put(
                PENDING_TOTP_SECRET,
                &Secret::new(totp_rs::Secret::from(RFC_SECRET.to_vec()).to_base32()),
            )
            .unwrap();
        confirm(db, store, u.id, "287082", at(59)).await.unwrap();
        u.id
    }

    #[test]
    fn totp_rs_reproduces_the_rfc_6238_sha1_vector() {
        let eight = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_step_duration(30)
            .with_secret(RFC_SECRET.to_vec())
            .build()
            .unwrap();
        // RFC 6238 Appendix B, SHA1 column.
        for (t, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(eight.generate(t).to_string(), code, "RFC vector at T={t}");
        }
    }

    #[test]
    fn our_six_digit_codes_are_the_last_six_digits_of_the_rfc_vector() {
        // Truncation is `value mod 10^digits` (RFC 4226 §5.3), so the 6-digit code is the last
        // six digits of the 8-digit one, zero-padded.
        let six = totp(RFC_SECRET, "ana").unwrap();
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(six.generate(t).to_string(), code, "6-digit code at T={t}");
        }
    }

    #[test]
    fn codes_are_accepted_one_step_either_side_and_no_further() {
        let six = totp(RFC_SECRET, "ana").unwrap();
        // "287082" belongs to step 1 (T = 30..=59).
        for t in [0, 29, 30, 59, 60, 89] {
            assert_eq!(six.check("287082", t), Some(1), "within ±1 step at T={t}");
        }
        for t in [90, 120] {
            assert_eq!(six.check("287082", t), None, "two steps late at T={t}");
        }
        assert_eq!(six.check("081804", 59), None, "another step's code");
    }

    #[tokio::test]
    async fn enrolment_returns_a_uri_key_and_qr_and_keeps_the_secret_out_of_the_database() {
        let db = db::open_in_memory().await.unwrap();
        let store = MemorySecretStore::new();
        let u = accounts::create_user(&db, "ana", &Secret::new("12345678"), None, at(0))
            .await
            .unwrap();
        let e = enrol(&db, &store, u.id).await.unwrap();
        let key = e.manual_key.expose();
        assert_eq!(key.len(), 32, "160 bits in base32 are 32 characters");
        assert!(
            e.otpauth_uri
                .expose()
                .starts_with("otpauth://totp/StructureGram:ana?"),
            "{}",
            e.otpauth_uri.expose()
        );
        assert!(e.otpauth_uri.expose().contains(&format!("secret={key}")));
        let png = base64::engine::general_purpose::STANDARD
            .decode(e.qr_png_base64.expose())
            .unwrap();
        assert_eq!(&png[..4], b"\x89PNG", "the QR code is a PNG");
        assert_eq!(
            store.get(PENDING_TOTP_SECRET).unwrap().as_ref(),
            Some(&e.manual_key),
            "the pending secret is in the vault"
        );
        assert!(
            !status(&db, u.id, at(0)).await.unwrap().enrolled,
            "not on until confirmed"
        );
        let row = user_model(&db, u.id).await.unwrap();
        assert!(
            !format!("{row:?}").contains(key),
            "the secret is nowhere in the user row"
        );
    }

    #[tokio::test]
    async fn confirming_turns_mfa_on_and_shows_ten_single_use_recovery_codes() {
        let db = db::open_in_memory().await.unwrap();
        let store = MemorySecretStore::new();
        let u = accounts::create_user(&db, "ana", &Secret::new("12345678"), None, at(0))
            .await
            .unwrap();
        let e = enrol(&db, &store, u.id).await.unwrap();
        let secret = manual_key_bytes(&e.manual_key).unwrap();
        let now = at(1_800_000_000);
        let code = totp(&secret, "ana")
            .unwrap()
            .generate(unix_secs(now))
            .to_string();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert!(
            matches!(
                confirm(&db, &store, u.id, wrong, now).await,
                Err(Error::InvalidCode)
            ),
            "a wrong code does not confirm"
        );
        let codes = confirm(&db, &store, u.id, &code, now).await.unwrap();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        assert!(status(&db, u.id, now).await.unwrap().enrolled);
        assert_eq!(store.get(PENDING_TOTP_SECRET).unwrap(), None);
        assert_eq!(store.get(TOTP_SECRET).unwrap(), Some(e.manual_key.clone()));
        let recovery = codes[3].expose().to_lowercase();
        assert_eq!(
            verify(&db, &store, u.id, &recovery, now).await.unwrap(),
            Accepted::RecoveryCode { remaining: 9 },
            "a recovery code works, in any case"
        );
        assert!(
            matches!(
                verify(&db, &store, u.id, &recovery, now).await,
                Err(Error::InvalidCode)
            ),
            "a recovery code works only once"
        );
        assert_eq!(recovery_codes_remaining(&store).unwrap(), 9);
    }

    #[tokio::test]
    async fn a_code_is_accepted_only_once_and_never_an_older_one() {
        let db = db::open_in_memory().await.unwrap();
        let store = MemorySecretStore::new();
        let u = enrolled_user(&db, &store).await;
        // Confirmation used "287082" (step 1) at T=59: the same code again is a replay.
        assert!(
            matches!(
                verify(&db, &store, u, "287082", at(60)).await,
                Err(Error::CodeAlreadyUsed)
            ),
            "a code accepted once is refused afterwards, even inside its window, and says so"
        );
        let six = totp(RFC_SECRET, "ana").unwrap();
        let step2 = six.generate(60).to_string();
        let step3 = six.generate(90).to_string();
        assert_eq!(
            verify(&db, &store, u, &step3, at(89)).await.unwrap(),
            Accepted::Totp,
            "the next step's code is accepted early (skew)"
        );
        assert!(
            matches!(
                verify(&db, &store, u, &step2, at(89)).await,
                Err(Error::CodeAlreadyUsed)
            ),
            "a code older than the last accepted one is refused"
        );
    }

    #[tokio::test]
    async fn wrong_codes_lock_out_for_growing_periods_and_a_right_code_resets() {
        let db = db::open_in_memory().await.unwrap();
        let store = MemorySecretStore::new();
        let u = enrolled_user(&db, &store).await;
        let six = totp(RFC_SECRET, "ana").unwrap();
        let mut now = 1_000_000_000;
        for attempt in 1..=4 {
            assert!(
                matches!(
                    verify(&db, &store, u, "111111", at(now)).await,
                    Err(Error::InvalidCode)
                ),
                "attempt {attempt} is just wrong"
            );
        }
        assert_eq!(
            status(&db, u, at(now)).await.unwrap().locked_until,
            None,
            "four wrong codes do not lock"
        );
        let _ = verify(&db, &store, u, "111111", at(now)).await;
        assert_eq!(
            status(&db, u, at(now)).await.unwrap().locked_until,
            Some(at(now + 30)),
            "the fifth wrong code locks for 30 s"
        );
        let right = six.generate(u64::try_from(now).unwrap()).to_string();
        assert!(
            matches!(
                verify(&db, &store, u, &right, at(now + 29)).await,
                Err(Error::LockedOut { until }) if until == at(now + 30)
            ),
            "while locked, even a right code is not checked"
        );
        now += 30;
        let _ = verify(&db, &store, u, "111111", at(now)).await;
        assert_eq!(
            status(&db, u, at(now)).await.unwrap().locked_until,
            Some(at(now + 60)),
            "the sixth wrong code doubles the lock-out"
        );
        now += 60;
        let _ = verify(&db, &store, u, "111111", at(now)).await;
        assert_eq!(
            status(&db, u, at(now)).await.unwrap().locked_until,
            Some(at(now + 120)),
            "and the seventh doubles it again"
        );
        now += 120;
        let right = six.generate(u64::try_from(now).unwrap()).to_string();
        assert_eq!(
            verify(&db, &store, u, &right, at(now)).await.unwrap(),
            Accepted::Totp
        );
        let s = status(&db, u, at(now)).await.unwrap();
        assert_eq!(
            (s.failed_attempts, s.locked_until),
            (0, None),
            "success resets"
        );
        assert_eq!(
            lockout_after(100),
            Some(Duration::seconds(MAX_LOCKOUT_SECS))
        );
    }

    #[tokio::test]
    async fn turning_mfa_off_needs_a_code_and_clears_the_vault() {
        let db = db::open_in_memory().await.unwrap();
        let store = MemorySecretStore::new();
        let u = enrolled_user(&db, &store).await;
        assert!(matches!(
            disable(&db, &store, u, "123456", at(100)).await,
            Err(Error::InvalidCode)
        ));
        assert!(status(&db, u, at(100)).await.unwrap().enrolled, "still on");
        let code = totp(RFC_SECRET, "ana").unwrap().generate(100).to_string();
        disable(&db, &store, u, &code, at(100)).await.unwrap();
        assert!(!status(&db, u, at(100)).await.unwrap().enrolled);
        assert_eq!(store.get(TOTP_SECRET).unwrap(), None);
        assert_eq!(recovery_codes_remaining(&store).unwrap(), 0);
        assert!(
            matches!(
                verify(&db, &store, u, &code, at(100)).await,
                Err(Error::MfaRequired)
            ),
            "verifying without 2FA asks to enable it"
        );
    }
}
