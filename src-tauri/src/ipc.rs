//! The IPC error shape: `{ code, message }`, with a small code enum the UI branches on.

use serde::Serialize;
use ts_rs::TS;

/// What kind of failure the UI is looking at. Add a code only when the UI branches on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ErrorCode {
    /// The input broke a rule; the message names it. Keep the user's input and show it.
    Validation,
    /// The thing no longer exists (deleted elsewhere); refresh the view.
    NotFound,
    /// The change clashes with existing data (e.g. a duplicate group name).
    Conflict,
    /// An integration action needs two-factor authentication, which is off: offer to turn it on.
    MfaRequired,
    /// Two-factor authentication is on but this session has not entered a code yet: ask for one.
    MfaCodeRequired,
    /// Nobody is signed in (signed out or locked): show the sign-in page.
    SignedOut,
    /// Xero or XPM refused, failed or could not be reached; the message says what happened and
    /// what to do next (connect again, reconnect, wait for the call limit). Nothing was saved.
    Xero,
    /// The Xero connection expired or was revoked: offer *Reconnect*.
    ReconnectRequired,
    /// Anything else; the details are in the log.
    Internal,
}

/// Every rejected command rejects with this object.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct IpcError {
    /// For branching.
    pub code: ErrorCode,
    /// For showing, verbatim.
    pub message: String,
}

impl From<structuregram_core::Error> for IpcError {
    fn from(err: structuregram_core::Error) -> Self {
        use structuregram_core::Error as E;
        let code = match &err {
            E::Validation(_) => ErrorCode::Validation,
            E::NotFound(_) => ErrorCode::NotFound,
            E::Conflict(_) => ErrorCode::Conflict,
            E::MfaRequired => ErrorCode::MfaRequired,
            E::MfaCodeRequired => ErrorCode::MfaCodeRequired,
            // Wrong password, wrong code, locked out: the message says what to do.
            E::InvalidCredentials
            | E::InvalidCode
            | E::CodeAlreadyUsed
            | E::LockedOut { .. }
            | E::SignInLockedOut { .. } => ErrorCode::Validation,
            E::Xero(structuregram_core::xero::XeroError::ReconnectRequired) => {
                ErrorCode::ReconnectRequired
            }
            E::Xero(_) | E::XpmCall { .. } => ErrorCode::Xero,
            _ => ErrorCode::Internal,
        };
        let message = match code {
            ErrorCode::Internal => {
                tracing::error!(error = %err, "command failed");
                "Something went wrong on this computer: the change was not saved. Try again; if it keeps happening, the log file has the details.".to_owned()
            }
            _ => err.to_string(),
        };
        Self { code, message }
    }
}

impl From<std::io::Error> for IpcError {
    fn from(err: std::io::Error) -> Self {
        structuregram_core::Error::Io(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_keeps_its_message_and_serialises_camel_case() {
        let err: IpcError =
            structuregram_core::Error::Validation("Enter a group name.".into()).into();
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"code": "validation", "message": "Enter a group name."}),
            "the UI reads exactly this shape"
        );
    }

    #[test]
    fn the_integration_gate_has_its_own_code_and_the_guide_s_words() {
        let err: IpcError = structuregram_core::Error::MfaRequired.into();
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({
                "code": "mfaRequired",
                "message": "Enable two-factor authentication to connect to Xero"
            }),
            "the UI branches on the code and shows the message verbatim"
        );
        let err: IpcError = structuregram_core::Error::MfaCodeRequired.into();
        assert_eq!(err.code, ErrorCode::MfaCodeRequired);
    }

    #[test]
    fn vault_errors_are_internal() {
        let err: IpcError = structuregram_core::Error::Vault("snapshot at /home/x".into()).into();
        assert_eq!(
            err.code,
            ErrorCode::Internal,
            "vault details stay in the log"
        );
    }

    #[test]
    fn internal_errors_do_not_leak_details_to_the_ui() {
        let err: IpcError =
            structuregram_core::Error::Crypto("authentication failed for key at /secret".into())
                .into();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(
            !err.message.contains("/secret"),
            "internal details stay in the log"
        );
    }
}
