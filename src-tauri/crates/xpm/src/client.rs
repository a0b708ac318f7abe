//! The shared client and the request pipeline every XPM call goes through.
//!
//! Owns: the one `reqwest::Client` (redirects off, user agent, gzip), the per-tenant limiters,
//! the retry policy, the mapping of HTTP statuses and error envelopes onto [`Error`], logging of
//! `xero-correlation-id`, and the streaming body reader for long lists. The per-endpoint methods
//! live in `clients.rs`, `groups.rs`, `relationships.rs` and `oauth.rs`.
//!
//! Retry rules: reads are retried with exponential backoff (backon) on timeouts, transport
//! errors, 5xx and short 429s. Writes are retried only when the request provably was not
//! processed (connection never made, or 429); any other lost response becomes
//! [`Error::OutcomeUnknown`] so the caller can look before trying again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_util::TryStreamExt;
use oauth2::AccessToken;
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::error::{Error, RateLimitProblem, Result};
use crate::limiter::{DayBudget, LimitHeaders, Permit, TenantLimiter};
use crate::model::TenantId;
use crate::settings::Settings;
use crate::xml::{self, Element, ListReader, Step};

/// Who is calling: an access token and the tenant it is used for.
///
/// `Debug` redacts the token (it is an [`oauth2::AccessToken`]); there is no `Serialize`.
#[derive(Debug, Clone)]
pub struct Session {
    /// The bearer token.
    pub access_token: AccessToken,
    /// The PRACTICEMANAGER tenant (`Xero-Tenant-Id`).
    pub tenant: TenantId,
}

impl Session {
    /// Pairs a token with a tenant.
    pub fn new(access_token: AccessToken, tenant: TenantId) -> Self {
        Session {
            access_token,
            tenant,
        }
    }
}

/// Typed client for XPM 3.1 and Xero identity. Cheap to clone: clones share one HTTP connection
/// pool and one limiter per tenant, so every part of the app draws from the same limits.
#[derive(Clone)]
pub struct XpmClient {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    http: reqwest::Client,
    api_base: Url,
    limiters: Mutex<HashMap<TenantId, Arc<TenantLimiter>>>,
}

impl std::fmt::Debug for XpmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XpmClient")
            .field("api_base", &self.inner.api_base.as_str())
            .finish_non_exhaustive()
    }
}

/// Whether a call may be repeated blindly.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A GET: safe to retry.
    Read,
    /// A POST/PUT that changes data; the name is reported in [`Error::OutcomeUnknown`].
    Write(&'static str),
}

/// One failed attempt and whether the retry layer may try again.
#[derive(Debug)]
struct Attempt {
    error: Error,
    retry: bool,
}

impl Attempt {
    fn fatal(error: Error) -> Self {
        Attempt {
            error,
            retry: false,
        }
    }
}

/// Lost response: retryable for reads, "outcome unknown" for writes.
fn lost(kind: Kind, error: Error, nothing_delivered: bool) -> Attempt {
    match kind {
        Kind::Read => Attempt {
            retry: nothing_delivered && error.is_transient(),
            error,
        },
        Kind::Write(operation) => Attempt::fatal(Error::OutcomeUnknown {
            operation,
            source: Box::new(error),
        }),
    }
}

fn header_str<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn header_u32(h: &HeaderMap, name: &str) -> Option<u32> {
    header_str(h, name).and_then(|v| v.trim().parse().ok())
}

/// `Retry-After` as whole seconds (what Xero sends) or an HTTP date; `None` if absent or unreadable.
fn retry_after(value: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// `Detail` (or `Title`) from a gateway problem-details body, else the body's start.
fn problem_detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in [
            "Detail",
            "detail",
            "Title",
            "title",
            "errorDescription",
            "ErrorDescription",
        ] {
            if let Some(s) = v.get(key).and_then(|d| d.as_str()) {
                return s.to_owned();
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    text.chars().take(200).collect()
}

impl XpmClient {
    /// Builds the client and its one HTTP connection pool.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an unparsable API base URL; [`Error::Transport`] if the TLS
    /// backend cannot start.
    pub fn new(settings: Settings) -> Result<Self> {
        let api_base = settings.api_base()?;
        let http = reqwest::Client::builder()
            // No redirects anywhere: the token endpoint must never follow one (SSRF), and XPM
            // does not use them.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        Ok(XpmClient {
            inner: Arc::new(Inner {
                settings,
                http,
                api_base,
                limiters: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The settings this client was built with.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    fn limiter(&self, tenant: &TenantId) -> Arc<TenantLimiter> {
        let mut map = self
            .inner
            .limiters
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(tenant.clone())
            .or_insert_with(|| Arc::new(TenantLimiter::new(&self.inner.settings.limits)))
            .clone()
    }

    /// Calls counted against `tenant`'s day budget today, for the caller to persist.
    pub fn day_budget(&self, tenant: &TenantId) -> DayBudget {
        self.limiter(tenant).day_budget()
    }

    /// Restores a persisted day-budget count (ignored if it is from another UTC day).
    pub fn restore_day_budget(&self, tenant: &TenantId, saved: &DayBudget) {
        self.limiter(tenant)
            .restore_day_budget(saved, chrono::Utc::now());
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let mut url = self
            .inner
            .api_base
            .join(path)
            .map_err(|e| Error::invalid(format!("path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    async fn retrying<T, F, Fut>(&self, what: &str, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = std::result::Result<T, Attempt>>,
    {
        let r = &self.inner.settings.retry;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(r.min_delay)
            .with_max_delay(r.max_delay)
            .with_max_times(r.max_retries)
            .with_jitter();
        op.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|a: &Attempt| a.retry)
            .notify(|a: &Attempt, d: Duration| {
                tracing::warn!(call = what, error = %a.error, delay = ?d, "retrying XPM call");
            })
            .await
            .map_err(|a| a.error)
    }

    /// Sends one request under the tenant's limiter and maps non-2xx statuses.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        limiter: &TenantLimiter,
        session: &Session,
        method: &Method,
        url: &Url,
        body: Option<&str>,
        kind: Kind,
        timeout: Duration,
    ) -> std::result::Result<(reqwest::Response, Permit), Attempt> {
        let permit = limiter.acquire().await.map_err(Attempt::fatal)?;
        let mut req = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(session.access_token.secret())
            .header("Xero-Tenant-Id", session.tenant.as_str())
            .header(ACCEPT, "application/xml")
            .timeout(timeout);
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/xml; charset=utf-8")
                .body(b.to_owned());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = Error::from_reqwest(&e);
                tracing::warn!(%method, path = url.path(), %error, "XPM request failed");
                if e.is_connect() {
                    // The request never reached the server: safe to retry, even a write.
                    return Err(Attempt { error, retry: true });
                }
                return Err(lost(kind, error, true));
            }
        };
        let resp = self.check_status(limiter, method, url, resp, kind).await?;
        Ok((resp, permit))
    }

    async fn check_status(
        &self,
        limiter: &TenantLimiter,
        method: &Method,
        url: &Url,
        resp: reqwest::Response,
        kind: Kind,
    ) -> std::result::Result<reqwest::Response, Attempt> {
        let status = resp.status();
        let headers = resp.headers();
        tracing::debug!(
            %method,
            path = url.path(),
            status = status.as_u16(),
            correlation_id = %header_str(headers, "xero-correlation-id").unwrap_or("-"),
            min_remaining = %header_str(headers, "x-minlimit-remaining").unwrap_or("-"),
            day_remaining = %header_str(headers, "x-daylimit-remaining").unwrap_or("-"),
            "XPM response"
        );
        let limited = status == StatusCode::TOO_MANY_REQUESTS;
        limiter.on_headers(&LimitHeaders {
            // On a 429 the Retry-After is authoritative; its `X-MinLimit-Remaining: 0` would
            // otherwise add a second, longer pause.
            min_remaining: header_u32(headers, "x-minlimit-remaining").filter(|_| !limited),
            day_remaining: header_u32(headers, "x-daylimit-remaining"),
        });
        if status.is_success() {
            return Ok(resp);
        }
        if limited {
            let problem =
                RateLimitProblem::from_header(header_str(headers, "x-rate-limit-problem"));
            let retry_after = retry_after(header_str(headers, "retry-after"), chrono::Utc::now());
            limiter.on_rate_limited(&problem, retry_after);
            tracing::warn!(?problem, ?retry_after, "XPM rate limit hit; tenant paused");
            // A 429 was not processed, so even a write may go again once the pause is over,
            // provided the pause is short enough to wait out.
            let retry = !matches!(problem, RateLimitProblem::Day)
                && retry_after.unwrap_or(Duration::from_secs(60))
                    <= self.inner.settings.limits.max_wait;
            return Err(Attempt {
                error: Error::RateLimited {
                    problem,
                    retry_after,
                },
                retry,
            });
        }
        let www_auth = header_str(headers, WWW_AUTHENTICATE.as_str()).map(str::to_owned);
        let body = resp.bytes().await.unwrap_or_default();
        let detail = problem_detail(&body);
        Err(match status.as_u16() {
            401 => Attempt::fatal(Error::Unauthorized {
                detail: if detail.is_empty() {
                    www_auth.unwrap_or_default()
                } else {
                    detail
                },
            }),
            403 => Attempt::fatal(Error::Forbidden { detail }),
            s @ 500..=599 => lost(kind, Error::Server { status: s }, true),
            s => Attempt::fatal(Error::Http { status: s, detail }),
        })
    }

    /// One whole-body call: sends, reads, parses the `<Response>` envelope and checks `Status`.
    pub(crate) async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<String>,
        kind: Kind,
    ) -> Result<Element> {
        let url = self.url(path, query)?;
        let limiter = self.limiter(&session.tenant);
        let timeout = self.inner.settings.request_timeout;
        self.retrying(path, || async {
            let (resp, _permit) = self
                .send(
                    &limiter,
                    session,
                    &method,
                    &url,
                    body.as_deref(),
                    kind,
                    timeout,
                )
                .await?;
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| lost(kind, Error::from_reqwest(&e), true))?;
            match xml::parse_envelope(&bytes) {
                Ok(root) => Ok(root),
                Err(e @ Error::Api { .. }) => Err(Attempt::fatal(e)),
                Err(e) => Err(match kind {
                    Kind::Read => Attempt::fatal(e),
                    Kind::Write(_) => lost(kind, e, true),
                }),
            }
        })
        .await
    }

    /// A streamed list call: hands each `<{item}>` under `<{container}>` to `each` as it
    /// arrives, never holding the whole body. Retried only if nothing was delivered yet.
    /// Returns how many items were delivered.
    pub(crate) async fn call_stream<F>(
        &self,
        session: &Session,
        path: &str,
        query: &[(&str, String)],
        container: &'static str,
        item: &'static str,
        each: F,
    ) -> Result<usize>
    where
        F: FnMut(Element) -> Result<()> + Send,
    {
        let url = self.url(path, query)?;
        let limiter = self.limiter(&session.tenant);
        let timeout = self.inner.settings.list_timeout;
        let each = Mutex::new(each);
        let delivered = AtomicUsize::new(0);
        self.retrying(path, || async {
            let (resp, _permit) = self
                .send(
                    &limiter,
                    session,
                    &Method::GET,
                    &url,
                    None,
                    Kind::Read,
                    timeout,
                )
                .await?;
            let stream = Box::pin(resp.bytes_stream().map_err(std::io::Error::other));
            let body = tokio::io::BufReader::with_capacity(
                64 * 1024,
                tokio_util::io::StreamReader::new(stream),
            );
            let mut reader = quick_xml::Reader::from_reader(body);
            let mut list = ListReader::new(container, item);
            let mut buf = Vec::with_capacity(8 * 1024);
            let fail = |error: Error, delivered: &AtomicUsize| {
                lost(Kind::Read, error, delivered.load(Ordering::SeqCst) == 0)
            };
            loop {
                let ev = match reader.read_event_into_async(&mut buf).await {
                    Ok(ev) => ev,
                    Err(quick_xml::Error::Io(io)) => {
                        let error = io
                            .get_ref()
                            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                            .map(Error::from_reqwest)
                            .unwrap_or_else(|| Error::Transport(io.to_string()));
                        return Err(fail(error, &delivered));
                    }
                    Err(e) => {
                        return Err(Attempt::fatal(Error::malformed(format!(
                            "XML at byte {}: {e}",
                            reader.buffer_position()
                        ))))
                    }
                };
                if matches!(ev, quick_xml::events::Event::Eof) && list.is_done() {
                    break;
                }
                match list.feed(ev).map_err(Attempt::fatal)? {
                    Step::Item(el) => {
                        let mut f = each.lock().unwrap_or_else(|p| p.into_inner());
                        (f)(el).map_err(Attempt::fatal)?;
                        delivered.fetch_add(1, Ordering::SeqCst);
                    }
                    Step::Continue | Step::Done => {}
                }
                buf.clear();
            }
            list.finish().map_err(Attempt::fatal)?;
            Ok(delivered.load(Ordering::SeqCst))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn call_futures_are_send_for_async_commands() {
        let client = XpmClient::new(Settings::new("id", "http://localhost:1/cb")).expect("client");
        let s = Session::new(AccessToken::new("t".into()), TenantId::new("t"));
        let opts = crate::ListClientsOptions::default();
        let id = uuid::Uuid::nil();
        assert_send(&client.list_client_groups(&s));
        assert_send(&client.for_each_client(&s, &opts, |_| {}));
        assert_send(&client.get_client(&s, &id));
        assert_send(&client.refresh(&oauth2::RefreshToken::new("r".into())));
        assert_send(&client.connections(&s.access_token));
        fn assert_sync_clone<T: Send + Sync + Clone>() {}
        assert_sync_clone::<XpmClient>();
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T07:28:00Z")
            .expect("t")
            .with_timezone(&chrono::Utc);
        assert_eq!(retry_after(Some("22"), now), Some(Duration::from_secs(22)));
        assert_eq!(
            retry_after(Some("66975"), now),
            Some(Duration::from_secs(66_975))
        );
        assert_eq!(
            retry_after(Some("Sun, 29 Nov 2026 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(Some("soon"), now), None, "unreadable = unknown");
        assert_eq!(retry_after(None, now), None);
    }

    #[test]
    fn problem_details_detail_is_extracted() {
        assert_eq!(
            problem_detail(
                br#"{"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: token expired"}"#
            ),
            "TokenExpired: token expired"
        );
        assert_eq!(problem_detail(b""), "", "empty 429-style body");
    }
}
