//! The one error type of `core`, with the variants callers branch on.

/// Everything a core operation can fail with.
///
/// `Validation`, `NotFound` and `Conflict` carry a message written for the user (it names the
/// rule that failed and, where it helps, what to do next); the UI shows it verbatim.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input breaks a rule (product-spec §3, §4.3); nothing was written.
    #[error("{0}")]
    Validation(String),
    /// The thing asked for does not exist in the active organisation.
    #[error("{0}")]
    NotFound(String),
    /// The change clashes with existing data (a duplicate name, say); nothing was written.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A file could not be read or written.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// A sealed value could not be opened (wrong key or damaged data).
    #[error("could not decrypt a protected field: {0}")]
    Crypto(String),
    /// Sign-in failed: no such user, or the password is wrong (deliberately not saying which).
    #[error("The username or password is wrong.")]
    InvalidCredentials,
    /// Too many wrong passwords for this user in a row: no password is checked before `until`
    /// (the same growing lock-outs as two-factor codes, [`crate::mfa::lockout_after`]). Shown in
    /// the computer's own time zone.
    #[error("Too many wrong passwords. Try again after {}.", .until.with_timezone(&chrono::Local).format("%H:%M:%S"))]
    SignInLockedOut {
        /// When passwords are checked again.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// An integration action needs two-factor authentication, and the user has not enrolled.
    /// The UI offers to turn it on.
    #[error("Enable two-factor authentication to connect to Xero")]
    MfaRequired,
    /// The user has two-factor authentication, but this app session has not been verified with
    /// a code yet. The UI asks for one.
    #[error("Enter a code from your authenticator app to continue.")]
    MfaCodeRequired,
    /// A two-factor or recovery code was wrong, expired or already used; the failure counted
    /// towards the lock-out.
    #[error("That code is not valid. Enter the newest code from your authenticator app (check the device's clock), or one of your recovery codes.")]
    InvalidCode,
    /// A code from the authenticator app that was already accepted (or is older than the last
    /// one accepted): RFC 6238 §5.2 says a verifier must not accept the second attempt of the
    /// same OTP. It counts towards the lock-out like a wrong code.
    #[error("That code was already used. Wait for the next code in your authenticator app (a new one comes every 30 seconds), or use one of your recovery codes.")]
    CodeAlreadyUsed,
    /// Too many wrong codes: no code is checked before `until` (RFC 6238 §5.2 throttling). The
    /// message gives the time on this computer's clock and zone (an adviser in Sydney would
    /// otherwise read a UTC time half a day off).
    #[error("Too many wrong codes. Try again after {}.", .until.with_timezone(&chrono::Local).format("%H:%M:%S"))]
    LockedOut {
        /// When codes are accepted again.
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The secret store (vault) failed: it could not be opened with this key, or could not be
    /// read or written.
    #[error("vault error: {0}")]
    Vault(String),
    /// Connecting to Xero, or using the connection, failed in a way the user can act on; the
    /// message starts with the guide's words ("Security validation failed", …) and says what to
    /// do next. The UI branches on the [`crate::xero::XeroError`] kind (reconnect, choose again).
    #[error("{0}")]
    Xero(#[from] crate::xero::XeroError),
    /// A call to XPM failed. `message` says what happened and what to do next (reconnect, wait
    /// for the call limit, try again); the UI branches on `source` (`Unauthorized`/`Forbidden`
    /// → reconnect, `RateLimited` → wait). Nothing was written locally.
    #[error("{message}")]
    XpmCall {
        /// The user-facing message.
        message: String,
        /// What the XPM client reported.
        #[source]
        source: xpm::Error,
    },
}

impl Error {
    /// Wraps an XPM client error with a message for the user; `action` names what was being
    /// done, e.g. "Refreshing the XPM group list".
    pub fn xpm(action: &str, source: xpm::Error) -> Self {
        let next = match &source {
            xpm::Error::Unauthorized { .. } => {
                "Xero no longer accepts this connection's sign-in. Reconnect to Xero under Integrations and try again.".to_owned()
            }
            xpm::Error::Forbidden { .. } => {
                "the practice no longer lets StructureGram read its clients. Reconnect to Xero under Integrations and try again.".to_owned()
            }
            xpm::Error::RateLimited { retry_after, .. } => match retry_after {
                Some(wait) => format!(
                    "XPM's call limit was reached. Try again in {}.",
                    crate::words::wait(u32::try_from(wait.as_secs()).unwrap_or(u32::MAX))
                ),
                None => "XPM's call limit was reached. Try again in a minute.".to_owned(),
            },
            xpm::Error::Api { description } => {
                format!("XPM refused the request (\u{201c}{description}\u{201d}). Check the group in XPM and try again.")
            }
            // The cause (refused, DNS, TLS…) stays in `source` for the log: the user can act only
            // on "offline".
            xpm::Error::Timeout | xpm::Error::Transport(_) => {
                crate::xero::UNREACHABLE_MESSAGE.to_owned()
            }
            xpm::Error::Server { status } => server_trouble(*status),
            xpm::Error::MalformedResponse { detail } => format!(
                "XPM sent a response StructureGram could not read ({detail}). Try again; if it keeps happening, report it."
            ),
            other => format!("{other}. Try again."),
        };
        Error::XpmCall {
            message: format!("{action} failed: {next}"),
            source,
        }
    }
}

/// What a 5xx from Xero or XPM means to the user: Xero was reached but failed, so waiting helps
/// and the internet connection is not the problem.
pub(crate) fn server_trouble(status: u16) -> String {
    format!("Xero had a problem answering (HTTP {status}). Wait a few minutes and try again; your StructureGram data is unaffected.")
}

/// Shorthand for results of core operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Offline, every XPM action (pull, push, Import Groups refresh) says the same plain thing:
    /// what was being done, that Xero cannot be reached, what to do, and that the local data is
    /// safe — never reqwest's chain of causes.
    #[test]
    fn an_unreachable_xero_reads_as_offline_not_as_a_transport_error() {
        let refused = xpm::Error::Transport(
            "error sending request for url (http://127.0.0.1:9/practicemanager/3.1/clientgroup.api/list): \
             client error (Connect): tcp connect error: Connection refused (os error 111)"
                .to_owned(),
        );
        let message = Error::xpm("Pulling from XPM", refused).to_string();
        assert_eq!(
            message,
            "Pulling from XPM failed: Can't reach Xero. Check your internet connection and try \
             again; your StructureGram data is unaffected."
        );
        assert_eq!(
            Error::xpm("Refreshing the XPM group list", xpm::Error::Timeout).to_string(),
            "Refreshing the XPM group list failed: Can't reach Xero. Check your internet \
             connection and try again; your StructureGram data is unaffected."
        );
    }

    /// A 5xx means Xero answered: the message says Xero had a problem, not to check the network.
    #[test]
    fn a_server_error_says_xero_had_a_problem() {
        let message =
            Error::xpm("Pulling from XPM", xpm::Error::Server { status: 503 }).to_string();
        assert_eq!(
            message,
            "Pulling from XPM failed: Xero had a problem answering (HTTP 503). Wait a few \
             minutes and try again; your StructureGram data is unaffected."
        );
        assert!(!message.contains("internet"));
    }
}
