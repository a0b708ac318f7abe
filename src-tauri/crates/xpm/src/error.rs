//! The crate's one error type.
//!
//! Owns the mapping from every failure XPM and Xero identity can produce (HTTP status, gateway
//! "problem details" JSON, `Status` ERROR envelopes, 429 headers, transport failures, OAuth error
//! codes) onto a small set of variants that callers branch on. It deliberately keeps no HTTP or XML
//! types in the variants, so the core crate never depends on reqwest or quick-xml.

use std::time::Duration;

/// Result alias used by every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which Xero limit a 429 (or our own day budget) reported.
///
/// Parsed from `X-Rate-Limit-Problem`, case-insensitively on the prefix (`min`, `day`/`dai`, `conc`,
/// `app`), because Xero has sent `minute`, `Minute`, `day` and `Daily` over the years.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateLimitProblem {
    /// The per-tenant minute limit (60 calls).
    Minute,
    /// The per-tenant day limit (5,000 calls; 1,000 on Starter), or our own persisted day budget.
    Day,
    /// The per-tenant concurrent-call limit (5 in flight).
    Concurrent,
    /// The app-wide minute limit (10,000 calls across all tenants).
    AppMinute,
    /// A header value we do not recognise, kept verbatim.
    Other(String),
    /// No `X-Rate-Limit-Problem` header came with the 429.
    Unknown,
}

impl RateLimitProblem {
    /// Parses an `X-Rate-Limit-Problem` header value (missing header gives [`Self::Unknown`]).
    pub fn from_header(value: Option<&str>) -> Self {
        let Some(raw) = value else {
            return Self::Unknown;
        };
        let lower = raw.trim().to_ascii_lowercase();
        if lower.starts_with("min") {
            Self::Minute
        } else if lower.starts_with("day") || lower.starts_with("dai") {
            Self::Day
        } else if lower.starts_with("conc") {
            Self::Concurrent
        } else if lower.starts_with("app") {
            Self::AppMinute
        } else if lower.is_empty() {
            Self::Unknown
        } else {
            Self::Other(raw.trim().to_owned())
        }
    }
}

/// Everything that can go wrong talking to XPM or Xero identity.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401: the access token is missing, invalid or expired. Refresh the token set (or sign in
    /// again) and retry. `detail` is the gateway's `Detail` (e.g. `AuthenticationUnsuccessful`,
    /// `TokenExpired`) or the `WWW-Authenticate` error.
    #[error("unauthorized (token invalid or expired): {detail}")]
    Unauthorized {
        /// What the gateway said, for logs.
        detail: String,
    },
    /// 403: the tenant id is wrong or no longer authorised, or the token lacks the XPM scope.
    #[error("forbidden (tenant or scope): {detail}")]
    Forbidden {
        /// What the gateway said, for logs.
        detail: String,
    },
    /// 429 from Xero, or a call refused locally because the tenant is still in a Retry-After
    /// pause or has used its day budget. Nothing was sent to (or processed by) XPM.
    #[error("rate limited ({problem:?}); retry after {retry_after:?}")]
    RateLimited {
        /// Which limit was hit.
        problem: RateLimitProblem,
        /// How long to wait before the next call, when known.
        retry_after: Option<Duration>,
    },
    /// HTTP 200 with `<Status>ERROR</Status>`: XPM refused the request (e.g. "Client not
    /// found"). `description` is XPM's free-text `ErrorDescription`.
    #[error("XPM refused the request: {description}")]
    Api {
        /// XPM's `ErrorDescription`, verbatim.
        description: String,
    },
    /// A 5xx from XPM or identity.
    #[error("server error (HTTP {status})")]
    Server {
        /// The HTTP status code.
        status: u16,
    },
    /// Any other unexpected HTTP status (400, 404, 409, …).
    #[error("unexpected HTTP {status}: {detail}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The start of the body or a problem-details `Detail`, for logs.
        detail: String,
    },
    /// The request or the response body took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// A connection-level failure (DNS, TLS, reset, body stream broken).
    #[error("transport error: {0}")]
    Transport(String),
    /// The response could not be read as the expected XML or JSON. `detail` names the element
    /// path, e.g. `Response/Client/Relationships/Relationship/StartDate`.
    #[error("malformed response: {detail}")]
    MalformedResponse {
        /// Where and why parsing failed.
        detail: String,
    },
    /// A non-idempotent write (add, delete, relationship change, …) was sent but its response
    /// was lost (timeout, 5xx, broken connection). XPM may or may not have applied it: read the
    /// affected records before retrying, or the write may happen twice.
    #[error("outcome unknown for {operation}: {source}")]
    OutcomeUnknown {
        /// The operation, e.g. `client.api/add`.
        operation: &'static str,
        /// What happened to the response.
        #[source]
        source: Box<Error>,
    },
    /// The token endpoint refused a code exchange, refresh or revocation. `error` is the OAuth
    /// error code: `invalid_grant` means the code or refresh token is expired, revoked or
    /// already rotated, so the user has to sign in again.
    #[error("OAuth error {error}: {description:?}")]
    OAuth {
        /// The OAuth `error` code (`invalid_grant`, `invalid_client`, …).
        error: String,
        /// The optional `error_description`.
        description: Option<String>,
    },
    /// The caller passed something this crate refuses to send (e.g. a masked `TaxNumber`, an
    /// empty client name) or the settings hold an invalid URL.
    #[error("invalid input: {detail}")]
    InvalidInput {
        /// What was wrong.
        detail: String,
    },
}

impl Error {
    /// True when the same request may be sent again safely later (rate limits, timeouts,
    /// transport errors and 5xx on reads). Never true for [`Error::OutcomeUnknown`].
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::Server { .. } | Error::Timeout | Error::Transport(_)
        )
    }

    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        Error::MalformedResponse {
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Error::InvalidInput {
            detail: detail.into(),
        }
    }

    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Error::Timeout
        } else if e.is_decode() {
            Error::malformed(e.to_string())
        } else {
            // reqwest's Display omits the cause chain; include it for logs.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            Error::Transport(msg)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_problem_matches_prefixes_case_insensitively() {
        assert_eq!(
            RateLimitProblem::from_header(Some("minute")),
            RateLimitProblem::Minute
        );
        assert_eq!(
            RateLimitProblem::from_header(Some("Minute")),
            RateLimitProblem::Minute
        );
        assert_eq!(
            RateLimitProblem::from_header(Some("Daily")),
            RateLimitProblem::Day
        );
        assert_eq!(
            RateLimitProblem::from_header(Some("day")),
            RateLimitProblem::Day
        );
        assert_eq!(
            RateLimitProblem::from_header(Some("Concurrent")),
            RateLimitProblem::Concurrent
        );
        assert_eq!(
            RateLimitProblem::from_header(Some("AppMinute")),
            RateLimitProblem::AppMinute
        );
        assert_eq!(
            RateLimitProblem::from_header(None),
            RateLimitProblem::Unknown
        );
        assert_eq!(
            RateLimitProblem::from_header(Some("weekly")),
            RateLimitProblem::Other("weekly".into()),
            "unknown values are kept verbatim, not dropped"
        );
    }
}
