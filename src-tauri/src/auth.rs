//! Account commands: first-run sign-up, sign-in, sign-out and lock, organisations, two-factor
//! authentication and the integration gate (issue 5). Thin adapters like `commands.rs`: the rules
//! live in core (`accounts`, `mfa`, `gate`); this module only holds the signed-in session in
//! [`AppState::session`] and opens or drops the user's vault.
//!
//! What crosses IPC: usernames, organisation names, two-factor *state*, and — once, at the
//! moment they are made — the enrolment key (QR, manual key, `otpauth://` URI) and the ten
//! recovery codes. Never a password, a vault key, a token, or a TOTP secret after enrolment.
//!
//! Commands that check a code hold the session's write lock until they finish, so this window's
//! code checks run one at a time: the replay check reads the last accepted step and then writes
//! it, and two interleaved checks of the same code must not both pass. (Data commands wait for
//! the lock meanwhile; a vault write takes about a second.)
//!
//! Refusals here (a wrong password, a wrong code, the gate asking for a code) are part of the
//! normal flow, so they are logged at `info`, not `error`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use structuregram_core::accounts::{self, Organisation};
use structuregram_core::gate;
use structuregram_core::mfa::{self, Accepted};
use structuregram_core::secrets::Secret;
use structuregram_core::OrgId;
use tauri::State;
use ts_rs::TS;

use crate::ipc::IpcError;
use crate::state::{sign_in_first, AppState, SignedIn};
use crate::vault;

type CmdResult<T> = Result<T, IpcError>;

/// An organisation as the UI lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OrganisationInfo {
    /// Its id.
    pub id: i32,
    /// Its name.
    pub name: String,
}

impl From<Organisation> for OrganisationInfo {
    fn from(o: Organisation) -> Self {
        Self {
            id: o.id.0,
            name: o.name,
        }
    }
}

/// The signed-in user, without secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UserInfo {
    /// The user's id.
    pub id: i32,
    /// The name they sign in with.
    pub username: String,
    /// Whether two-factor authentication is on.
    pub mfa_enrolled: bool,
    /// Whether this app session has been verified with a two-factor code.
    pub session_verified: bool,
}

/// Who is signed in, and what the sign-in or first-run page needs to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuthStatus {
    /// No account exists on this device yet: show "Create your account".
    pub first_run: bool,
    /// The signed-in user; `None` when signed out or locked.
    pub user: Option<UserInfo>,
    /// The organisation every list and action is scoped to (signed in only).
    pub active_organisation: Option<OrganisationInfo>,
    /// Signed in: the user's organisations (the switcher). First run: the organisation the new
    /// account will join when no name is typed (the demo practice, or existing data), if any.
    pub organisations: Vec<OrganisationInfo>,
    /// The username of the session last locked, to prefill the unlock form.
    pub locked_username: Option<String>,
}

/// A user's two-factor state, without secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MfaState {
    /// Whether two-factor authentication is on.
    pub enrolled: bool,
    /// Whether an integration was connected under two-factor authentication.
    pub integration_mfa: bool,
    /// Whether this app session has been verified with a code.
    pub session_verified: bool,
    /// Unused recovery codes left (0 when two-factor authentication is off).
    pub recovery_codes_remaining: u32,
    /// When codes are accepted again, if locked out after too many wrong codes.
    pub locked_until: Option<DateTime<Utc>>,
}

/// What an authenticator app needs, shown once when enrolment starts.
#[derive(Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct MfaEnrolment {
    /// The `otpauth://totp/…` URI (Key Uri Format).
    pub otpauth_uri: String,
    /// The key in base32, for typing into the app by hand.
    pub manual_key: String,
    /// The QR code of the URI as a `data:image/png;base64,…` URL.
    pub qr_data_url: String,
}

impl std::fmt::Debug for MfaEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaEnrolment(<redacted>)")
    }
}

/// Which kind of code verified the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
#[ts(export)]
pub enum CodeAccepted {
    /// A code from the authenticator app.
    Totp,
    /// A recovery code, now used up.
    RecoveryCode {
        /// Recovery codes left.
        remaining: u32,
    },
}

impl From<Accepted> for CodeAccepted {
    fn from(a: Accepted) -> Self {
        match a {
            Accepted::Totp => Self::Totp,
            Accepted::RecoveryCode { remaining } => Self::RecoveryCode {
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            },
        }
    }
}

/// Builds the status for the current session (or the first-run / signed-out page).
async fn status_of(state: &AppState, signed_in: Option<&SignedIn>) -> CmdResult<AuthStatus> {
    let locked_username = state.locked_username.lock().await.clone();
    let Some(s) = signed_in else {
        let first_run = !accounts::any_user(&state.db).await?;
        let organisations = if first_run {
            accounts::default_organisation(&state.db)
                .await?
                .into_iter()
                .map(OrganisationInfo::from)
                .collect()
        } else {
            Vec::new()
        };
        return Ok(AuthStatus {
            first_run,
            user: None,
            active_organisation: None,
            organisations,
            locked_username,
        });
    };
    let user = accounts::get_user(&state.db, s.user.id).await?;
    let organisations: Vec<OrganisationInfo> = accounts::list_memberships(&state.db, s.user.id)
        .await?
        .into_iter()
        .map(OrganisationInfo::from)
        .collect();
    let active_organisation = organisations.iter().find(|o| o.id == s.org.0).cloned();
    Ok(AuthStatus {
        first_run: false,
        user: Some(UserInfo {
            id: user.id.0,
            username: user.username,
            mfa_enrolled: user.mfa_enrolled,
            session_verified: s.session.mfa_verified_at().is_some(),
        }),
        active_organisation,
        organisations,
        locked_username: None,
    })
}

/// Opens the vault of `username` and makes them the signed-in user, in their active
/// organisation (the device's active one if they belong to it, else their first).
async fn start_session(state: &AppState, username: &str, password: &Secret) -> CmdResult<()> {
    let opened = vault::sign_in(&state.db, &state.data_dir, username, password).await?;
    let memberships = accounts::list_memberships(&state.db, opened.user.id).await?;
    let device = accounts::active_organisation(&state.db).await?;
    let org: OrgId = match device.filter(|d| memberships.iter().any(|m| m.id == *d)) {
        Some(org) => org,
        None => match memberships.first() {
            Some(first) => {
                accounts::use_organisation(&state.db, first.id).await?;
                first.id
            }
            None => {
                return Err(structuregram_core::Error::Validation(format!(
                    "{} is not a member of any organisation. Ask a colleague to add you, or add one with `structuregram org create`.",
                    opened.user.username
                ))
                .into())
            }
        },
    };
    let signed_in = SignedIn {
        user: opened.user,
        session: opened.session,
        vault: Arc::new(opened.vault),
        org,
    };
    *state.session.write().await = Some(signed_in);
    *state.locked_username.lock().await = None;
    Ok(())
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "info", Debug))]
pub async fn auth_status(state: State<'_, AppState>) -> CmdResult<AuthStatus> {
    let current = state.session.read().await.clone();
    status_of(&state, current.as_ref()).await
}

// The password is never logged: skip(password).
#[tauri::command]
#[tracing::instrument(skip(state, password), err(level = "info", Debug))]
pub async fn sign_up(
    state: State<'_, AppState>,
    username: String,
    password: String,
    organisation_name: Option<String>,
) -> CmdResult<AuthStatus> {
    let password = Secret::new(password);
    let (user, _) = accounts::sign_up(
        &state.db,
        &username,
        &password,
        organisation_name.as_deref(),
        Utc::now(),
    )
    .await?;
    start_session(&state, &user.username, &password).await?;
    let current = state.session.read().await.clone();
    status_of(&state, current.as_ref()).await
}

#[tauri::command]
#[tracing::instrument(skip(state, password), err(level = "info", Debug))]
pub async fn sign_in(
    state: State<'_, AppState>,
    username: String,
    password: String,
) -> CmdResult<AuthStatus> {
    start_session(&state, username.trim(), &Secret::new(password)).await?;
    let current = state.session.read().await.clone();
    status_of(&state, current.as_ref()).await
}

/// Drops the session and, with it, the open vault.
#[tauri::command]
#[tracing::instrument(skip(state, xero), err(level = "info", Debug))]
pub async fn sign_out(
    state: State<'_, AppState>,
    xero: State<'_, crate::xero::XeroState>,
) -> CmdResult<AuthStatus> {
    // A Xero sign-in still waiting for its answer belongs to this session: end it, so a late
    // answer cannot store tokens while nobody is signed in.
    xero.connector.cancel().await;
    *state.session.write().await = None;
    *state.locked_username.lock().await = None;
    status_of(&state, None).await
}

/// Signs out but remembers the username, so unlocking needs only the password.
#[tauri::command]
#[tracing::instrument(skip(state, xero), err(level = "info", Debug))]
pub async fn lock(
    state: State<'_, AppState>,
    xero: State<'_, crate::xero::XeroState>,
) -> CmdResult<AuthStatus> {
    xero.connector.cancel().await;
    let previous = state.session.write().await.take();
    *state.locked_username.lock().await = previous.map(|s| s.user.username);
    status_of(&state, None).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "info", Debug))]
pub async fn create_organisation(
    state: State<'_, AppState>,
    name: String,
) -> CmdResult<AuthStatus> {
    let mut guard = state.session.write().await;
    let current = guard.as_mut().ok_or_else(sign_in_first)?;
    let org =
        accounts::create_organisation_for(&state.db, current.user.id, &name, Utc::now()).await?;
    current.org = org.id;
    let current = current.clone();
    drop(guard);
    status_of(&state, Some(&current)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "info", Debug))]
pub async fn switch_organisation(
    state: State<'_, AppState>,
    organisation_id: i32,
) -> CmdResult<AuthStatus> {
    let mut guard = state.session.write().await;
    let current = guard.as_mut().ok_or_else(sign_in_first)?;
    let org = OrgId(organisation_id);
    accounts::switch_organisation(&state.db, current.user.id, org).await?;
    current.org = org;
    let current = current.clone();
    drop(guard);
    status_of(&state, Some(&current)).await
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "info", Debug))]
pub async fn mfa_status(state: State<'_, AppState>) -> CmdResult<MfaState> {
    let s = state.signed_in().await?;
    let status = mfa::status(&state.db, s.user.id, Utc::now()).await?;
    let remaining = if status.enrolled {
        mfa::recovery_codes_remaining(s.vault.as_ref())?
    } else {
        0
    };
    Ok(MfaState {
        enrolled: status.enrolled,
        integration_mfa: status.integration_mfa,
        session_verified: s.session.mfa_verified_at().is_some(),
        recovery_codes_remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
        locked_until: status.locked_until,
    })
}

/// Starts enrolment; the only response that carries the new TOTP key (to its owner, once).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "info", Debug))]
pub async fn mfa_begin_enrolment(state: State<'_, AppState>) -> CmdResult<MfaEnrolment> {
    let s = state.signed_in().await?;
    let e = mfa::enrol(&state.db, s.vault.as_ref(), s.user.id).await?;
    Ok(MfaEnrolment {
        otpauth_uri: e.otpauth_uri.expose().to_owned(),
        manual_key: e.manual_key.expose().to_owned(),
        qr_data_url: format!("data:image/png;base64,{}", e.qr_png_base64.expose()),
    })
}

/// Confirms enrolment with a code and returns the ten recovery codes, the only time they are
/// shown. The session is not verified by it: the gate asks for a (newer) code.
#[tauri::command]
#[tracing::instrument(skip(state, code), err(level = "info", Debug))]
pub async fn mfa_confirm(state: State<'_, AppState>, code: String) -> CmdResult<Vec<String>> {
    let mut guard = state.session.write().await;
    let current = guard.as_mut().ok_or_else(sign_in_first)?;
    let codes = mfa::confirm(
        &state.db,
        current.vault.as_ref(),
        current.user.id,
        &code,
        Utc::now(),
    )
    .await?;
    current.user.mfa_enrolled = true;
    Ok(codes.iter().map(|c| c.expose().to_owned()).collect())
}

/// Turns two-factor authentication off (needs a code); the session is no longer verified.
#[tauri::command]
#[tracing::instrument(skip(state, code), err(level = "info", Debug))]
pub async fn mfa_disable(state: State<'_, AppState>, code: String) -> CmdResult<()> {
    let mut guard = state.session.write().await;
    let current = guard.as_mut().ok_or_else(sign_in_first)?;
    mfa::disable(
        &state.db,
        current.vault.as_ref(),
        current.user.id,
        &code,
        Utc::now(),
    )
    .await?;
    current.user.mfa_enrolled = false;
    current.session = gate::Session::new(current.user.id);
    Ok(())
}

/// Verifies this app session with a code (the prompt before integration actions).
#[tauri::command]
#[tracing::instrument(skip(state, code), err(level = "info", Debug))]
pub async fn verify_session(state: State<'_, AppState>, code: String) -> CmdResult<CodeAccepted> {
    let mut guard = state.session.write().await;
    let current = guard.as_mut().ok_or_else(sign_in_first)?;
    let vault = Arc::clone(&current.vault);
    let accepted = gate::verify_session(
        &state.db,
        vault.as_ref(),
        &mut current.session,
        &code,
        Utc::now(),
    )
    .await?;
    Ok(accepted.into())
}

/// The integration gate every Xero action runs first: 2FA on and this session verified.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "info", Debug))]
pub async fn integration_gate(state: State<'_, AppState>) -> CmdResult<()> {
    let s = state.signed_in().await?;
    Ok(gate::require_integration_session(&state.db, &s.session).await?)
}
