//! The integration gate: the one check every integration action (connect to Xero, sync, push)
//! makes first, and the in-memory app session it checks.
//!
//! An integration action needs (a) two-factor authentication to be on for the user and (b) this
//! app session to have been verified with a code once. The session lives only in memory —
//! restarting the app, or signing out, forgets the verification. The integration-MFA flag on
//! the user records that an integration was connected under 2FA (issue 6 sets and clears it).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, IntoActiveModel, Set};

use crate::accounts::{user_model, UserId};
use crate::error::{Error, Result};
use crate::mfa::{self, Accepted};
use crate::secrets::SecretStore;

/// A signed-in user's app session. Create it at sign-in, drop it at sign-out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    user: UserId,
    mfa_verified_at: Option<DateTime<Utc>>,
}

impl Session {
    /// A new, unverified session for `user` (who has just signed in).
    pub fn new(user: UserId) -> Self {
        Self {
            user,
            mfa_verified_at: None,
        }
    }

    /// Whose session it is.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// When the session was verified with a two-factor code, if it was.
    pub fn mfa_verified_at(&self) -> Option<DateTime<Utc>> {
        self.mfa_verified_at
    }
}

/// Verifies the session with a two-factor code (see [`mfa::verify`]); on success the session
/// counts as verified until it is dropped.
///
/// # Errors
/// As for [`mfa::verify`]; the session is unchanged on error.
pub async fn verify_session(
    db: &DatabaseConnection,
    store: &dyn SecretStore,
    session: &mut Session,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Accepted> {
    let accepted = mfa::verify(db, store, session.user, code, now).await?;
    session.mfa_verified_at = Some(now);
    Ok(accepted)
}

/// The gate: `Ok` only when the session's user has two-factor authentication on and the session
/// has been verified with a code.
///
/// # Errors
/// [`Error::MfaRequired`] ("Enable two-factor authentication to connect to Xero") if 2FA is off
/// — checked first, so turning 2FA off closes the gate for verified sessions too;
/// [`Error::MfaCodeRequired`] if the session has not been verified; [`Error::NotFound`] /
/// [`Error::Db`] as they come.
pub async fn require_integration_session(db: &DatabaseConnection, session: &Session) -> Result<()> {
    let row = user_model(db, session.user).await?;
    if !row.mfa_enrolled {
        return Err(Error::MfaRequired);
    }
    if session.mfa_verified_at.is_none() {
        return Err(Error::MfaCodeRequired);
    }
    Ok(())
}

/// Sets or clears the user's integration-MFA flag (connect sets it, disconnect clears it).
///
/// # Errors
/// [`Error::NotFound`] / [`Error::Db`].
pub async fn set_integration_mfa<C: ConnectionTrait>(
    db: &C,
    user: UserId,
    on: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut active = user_model(db, user).await?.into_active_model();
    active.integration_mfa = Set(on);
    active.updated_at = Set(now);
    active.update(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts;
    use crate::db;
    use crate::mfa::{PENDING_TOTP_SECRET, TOTP_SECRET};
    use crate::secrets::{MemorySecretStore, Secret};
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[tokio::test]
    async fn the_gate_needs_2fa_then_a_verified_session() {
        let db = db::open_in_memory().await.unwrap();
        let store = MemorySecretStore::new();
        let u = accounts::create_user(&db, "ana", &Secret::new("12345678"), None, at(0))
            .await
            .unwrap();
        let mut session = Session::new(u.id);
        let err = require_integration_session(&db, &session)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::MfaRequired), "no 2FA yet: {err:?}");
        assert_eq!(
            err.to_string(),
            "Enable two-factor authentication to connect to Xero",
            "the UI shows exactly the guide's words"
        );

        let secret = totp_rs::Secret::from(b"12345678901234567890".to_vec()).to_base32();
        store
            .put(PENDING_TOTP_SECRET, &Secret::new(secret))
            .unwrap();
        mfa::confirm(&db, &store, u.id, "287082", at(59))
            .await
            .unwrap();
        assert!(store.get(TOTP_SECRET).unwrap().is_some());
        assert!(
            matches!(
                require_integration_session(&db, &session).await,
                Err(Error::MfaCodeRequired)
            ),
            "enrolling elsewhere does not verify this session"
        );
        assert!(
            verify_session(&db, &store, &mut session, "000000", at(120))
                .await
                .is_err(),
            "a wrong code does not verify"
        );
        assert_eq!(session.mfa_verified_at(), None);
        let code = mfa::totp(b"12345678901234567890", "ana")
            .unwrap()
            .generate(120)
            .to_string();
        verify_session(&db, &store, &mut session, &code, at(120))
            .await
            .unwrap();
        require_integration_session(&db, &session)
            .await
            .expect("2FA on and the session verified: the gate opens");
        assert!(
            matches!(
                require_integration_session(&db, &Session::new(u.id)).await,
                Err(Error::MfaCodeRequired)
            ),
            "a new session (restart, sign-in again) must verify again"
        );
    }

    #[tokio::test]
    async fn the_integration_mfa_flag_is_set_and_cleared() {
        let db = db::open_in_memory().await.unwrap();
        let u = accounts::create_user(&db, "ana", &Secret::new("12345678"), None, at(0))
            .await
            .unwrap();
        set_integration_mfa(&db, u.id, true, at(1)).await.unwrap();
        assert!(accounts::get_user(&db, u.id).await.unwrap().integration_mfa);
        set_integration_mfa(&db, u.id, false, at(2)).await.unwrap();
        assert!(!accounts::get_user(&db, u.id).await.unwrap().integration_mfa);
    }
}
