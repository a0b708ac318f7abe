//! OAuth 2 with PKCE against Xero identity, and the tenant list (`GET /connections`).
//!
//! Owns: building the authorize URL (S256 challenge, `state`, scopes), the code exchange,
//! refresh and revocation (through the `oauth2` crate, with no client secret), reading the
//! access token's and id_token's claims for display and tenant matching, and keeping only the
//! PRACTICEMANAGER tenants of *this* consent. It does not store tokens, run the loopback
//! listener, or serialise locks around refresh: the caller owns one token set per user and
//! refreshes it under its own lock (refresh tokens rotate).
//!
//! Claims are decoded, not verified: they are used only for display and to match
//! `authEventId`; the token itself is verified by Xero on every call.
//!
//! Follows <https://developer.xero.com/documentation/oauth2/pkce-flow> and
//! <https://developer.xero.com/documentation/guides/oauth2/scopes>.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use serde::Deserialize;
use url::Url;

use crate::client::XpmClient;
use crate::error::{Error, Result};
use crate::model::TenantId;

/// The scopes to ask for. The default is read/write:
/// `openid profile email offline_access practicemanager.client`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    /// Ask for `practicemanager.client.read` instead of `practicemanager.client`.
    pub read_only: bool,
    /// Further scopes (e.g. `practicemanager.staff.read`), sent as given.
    pub extra: Vec<String>,
}

impl Scopes {
    /// The scope strings, in the order sent.
    pub fn to_vec(&self) -> Vec<String> {
        let mut v: Vec<String> = ["openid", "profile", "email", "offline_access"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        v.push(if self.read_only {
            "practicemanager.client.read".into()
        } else {
            "practicemanager.client".into()
        });
        v.extend(self.extra.iter().cloned());
        v
    }
}

/// What to send the user to, and what to keep until the redirect comes back.
///
/// `state` and `pkce_verifier` are redacting secret types (Debug prints `[redacted]`, no
/// Serialize). Compare the callback's `state` with [`CsrfToken::secret`] before exchanging.
#[derive(Debug)]
pub struct AuthorizationRequest {
    /// The authorize URL to open in the browser.
    pub url: Url,
    /// The CSRF `state` sent in the URL.
    pub state: CsrfToken,
    /// The PKCE verifier for [`XpmClient::exchange_code`].
    pub pkce_verifier: PkceCodeVerifier,
}

/// Display claims from the id_token (`name`, `email`, …). Missing claims are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IdentityClaims {
    /// `sub`.
    pub sub: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `given_name`.
    pub given_name: Option<String>,
    /// `family_name`.
    pub family_name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `xero_userid`.
    pub xero_userid: Option<String>,
}

impl IdentityClaims {
    /// The best display name: `name`, else given + family name, else email.
    pub fn display_name(&self) -> Option<String> {
        if let Some(n) = self.name.as_ref().filter(|n| !n.trim().is_empty()) {
            return Some(n.clone());
        }
        let joined = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if joined.is_empty() {
            self.email.clone()
        } else {
            Some(joined)
        }
    }
}

/// A token set from a code exchange or refresh. Secrets are redacting types; persist them
/// through the app's token store (never over IPC).
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The access token (30 minutes).
    pub access_token: AccessToken,
    /// The refresh token. It rotates: always replace the stored one, and persist it before
    /// doing anything else.
    pub refresh_token: Option<RefreshToken>,
    /// When the access token expires (receipt time + `expires_in`).
    pub expires_at: DateTime<Utc>,
    /// Granted scopes, when the server said.
    pub scopes: Vec<String>,
    /// The access token's `authentication_event_id`, used to pick this consent's tenants.
    pub authentication_event_id: Option<String>,
    /// The id_token's display claims (code exchange; usually absent on refresh).
    pub identity: Option<IdentityClaims>,
}

/// A Xero connection (tenant) from `GET /connections`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The connection id (only for `DELETE /connections/{id}`; never a tenant header).
    pub id: String,
    /// `authEventId`: the consent that created or updated the connection.
    pub auth_event_id: Option<String>,
    /// `tenantId`: send this as `Xero-Tenant-Id`.
    pub tenant_id: TenantId,
    /// `tenantType`, e.g. `PRACTICEMANAGER`.
    pub tenant_type: String,
    /// `tenantName`.
    pub tenant_name: String,
    /// `createdDateUtc`, verbatim.
    pub created: Option<String>,
    /// `updatedDateUtc`, verbatim.
    pub updated: Option<String>,
}

/// The token response's extra field: the id_token.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
struct IdTokenField {
    #[serde(default)]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type XeroTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

type XeroOAuth = oauth2::Client<
    BasicErrorResponse,
    XeroTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireConnection {
    id: Option<String>,
    auth_event_id: Option<String>,
    tenant_id: Option<String>,
    tenant_type: Option<String>,
    tenant_name: Option<String>,
    created_date_utc: Option<String>,
    updated_date_utc: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct AccessClaims {
    authentication_event_id: Option<String>,
}

/// Decodes a JWT's payload without verifying it. `None` if it is not a JWT.
fn jwt_claims<T: serde::de::DeserializeOwned>(jwt: &str) -> Option<T> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The access token's `authentication_event_id`, if it is a JWT that carries one.
pub fn authentication_event_id(access_token: &AccessToken) -> Option<String> {
    jwt_claims::<AccessClaims>(access_token.secret()).and_then(|c| c.authentication_event_id)
}

fn url_err(what: &str) -> impl Fn(url::ParseError) -> Error + '_ {
    move |e| Error::invalid(format!("{what}: {e}"))
}

fn token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<oauth2::HttpClientError<RE>, BasicErrorResponse>,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => Error::OAuth {
            error: r.error().as_ref().to_owned(),
            description: r.error_description().cloned(),
        },
        RequestTokenError::Request(oauth2::HttpClientError::Reqwest(inner)) => {
            let inner: &dyn std::error::Error = &*inner;
            match inner.downcast_ref::<reqwest::Error>() {
                Some(re) => Error::from_reqwest(re),
                None => Error::Transport(inner.to_string()),
            }
        }
        RequestTokenError::Request(other) => Error::Transport(other.to_string()),
        RequestTokenError::Parse(e, body) => Error::malformed(format!(
            "token response at {}: {} (body starts {:?})",
            e.path(),
            e.inner(),
            String::from_utf8_lossy(&body)
                .chars()
                .take(120)
                .collect::<String>()
        )),
        RequestTokenError::Other(s) => Error::malformed(format!("token endpoint: {s}")),
    }
}

impl XpmClient {
    fn oauth(&self) -> Result<XeroOAuth> {
        let s = self.settings();
        Ok(oauth2::Client::new(ClientId::new(s.client_id.clone()))
            .set_auth_uri(AuthUrl::new(s.authorize_url.clone()).map_err(url_err("authorize_url"))?)
            .set_token_uri(TokenUrl::new(s.token_url.clone()).map_err(url_err("token_url"))?)
            .set_redirect_uri(
                RedirectUrl::new(s.redirect_uri.clone()).map_err(url_err("redirect_uri"))?,
            ))
    }

    async fn with_timeout<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::time::timeout(self.settings().request_timeout, fut)
            .await
            .map_err(|_| Error::Timeout)?
    }

    /// Builds the authorize URL: `response_type=code`, `client_id`, `redirect_uri`, `scope`,
    /// a random `state`, and an S256 PKCE challenge.
    ///
    /// Follows Xero's *PKCE flow* page.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a configured URL does not parse.
    pub fn authorize(&self, scopes: &Scopes) -> Result<AuthorizationRequest> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .oauth()?
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.to_vec().into_iter().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationRequest {
            url,
            state,
            pkce_verifier: verifier,
        })
    }

    fn token_set(&self, r: &XeroTokenResponse, previous: Option<&RefreshToken>) -> TokenSet {
        let expires_in = r.expires_in().unwrap_or(Duration::from_secs(1800));
        let expires_at = Utc::now()
            + chrono::Duration::from_std(expires_in).unwrap_or(chrono::Duration::minutes(30));
        TokenSet {
            access_token: r.access_token().clone(),
            refresh_token: r.refresh_token().cloned().or_else(|| previous.cloned()),
            expires_at,
            scopes: r
                .scopes()
                .map(|v| v.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            authentication_event_id: authentication_event_id(r.access_token()),
            identity: r.extra_fields().id_token.as_deref().and_then(jwt_claims),
        }
    }

    /// Exchanges the authorization code (with the PKCE verifier, no secret) for a token set.
    /// Exchange immediately: codes are short-lived.
    ///
    /// Follows Xero's *PKCE flow* page (token endpoint, `grant_type=authorization_code`).
    ///
    /// # Errors
    /// [`Error::OAuth`] (`invalid_grant` for a bad, expired or reused code), [`Error::Timeout`],
    /// [`Error::Transport`], [`Error::MalformedResponse`].
    pub async fn exchange_code(&self, code: &str, verifier: PkceCodeVerifier) -> Result<TokenSet> {
        let client = self.oauth()?;
        let http = self.http().clone();
        let resp = self
            .with_timeout(async {
                client
                    .exchange_code(AuthorizationCode::new(code.to_owned()))
                    .set_pkce_verifier(verifier)
                    .request_async(&http)
                    .await
                    .map_err(token_error)
            })
            .await?;
        Ok(self.token_set(&resp, None))
    }

    /// Refreshes a token set (`grant_type=refresh_token`, no secret). The result carries the
    /// **new** refresh token (or the old one if the server sent none); persist it at once.
    /// On a timeout the old refresh token stays usable for about 30 minutes, so retrying with
    /// it is safe within that window.
    ///
    /// Follows Xero's *PKCE flow* page and the OAuth 2 FAQ (refresh token rotation).
    ///
    /// # Errors
    /// [`Error::OAuth`] with `invalid_grant` when the refresh token is expired, revoked or
    /// already rotated (sign in again); transport errors.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet> {
        let client = self.oauth()?;
        let http = self.http().clone();
        let resp = self
            .with_timeout(async {
                client
                    .exchange_refresh_token(refresh_token)
                    .request_async(&http)
                    .await
                    .map_err(token_error)
            })
            .await?;
        Ok(self.token_set(&resp, Some(refresh_token)))
    }

    /// Revokes the refresh token: `POST` form `token`, `token_type_hint=refresh_token` and
    /// `client_id` (a public client has no secret). This disconnects every tenant of this user
    /// and app. Sent directly rather than through `oauth2`, which refuses non-https revocation
    /// URLs and so could not be tested against a loopback simulator.
    ///
    /// Follows the revocation endpoint in the reference (§5.1, RFC 7009).
    ///
    /// # Errors
    /// [`Error::OAuth`] when refused; transport errors.
    pub async fn revoke(&self, refresh_token: &RefreshToken) -> Result<()> {
        let s = self.settings();
        let url = Url::parse(&s.revocation_url).map_err(url_err("revocation_url"))?;
        let form = [
            ("token", refresh_token.secret().as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", s.client_id.as_str()),
        ];
        let http = self.http().clone();
        let resp = self
            .with_timeout(async {
                http.post(url)
                    .form(&form)
                    .send()
                    .await
                    .map_err(|e| Error::from_reqwest(&e))
            })
            .await?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = resp.bytes().await.unwrap_or_default();
        #[derive(Deserialize)]
        struct OAuthError {
            error: String,
            error_description: Option<String>,
        }
        match serde_json::from_slice::<OAuthError>(&body) {
            Ok(e) => Err(Error::OAuth {
                error: e.error,
                description: e.error_description,
            }),
            Err(_) if status >= 500 => Err(Error::Server { status }),
            Err(_) => Err(Error::Http {
                status,
                detail: String::from_utf8_lossy(&body).chars().take(200).collect(),
            }),
        }
    }

    /// Every connection of this user and app (`GET /connections`), unfiltered.
    ///
    /// Follows Xero's identity OpenAPI (`/connections`).
    ///
    /// # Errors
    /// [`Error::Unauthorized`] for a bad token; transport and parse errors.
    pub async fn all_connections(&self, access_token: &AccessToken) -> Result<Vec<Connection>> {
        let url = self.settings().connections_url.clone();
        let http = self.http().clone();
        let resp = self
            .with_timeout(async {
                http.get(&url)
                    .bearer_auth(access_token.secret())
                    .header(reqwest::header::ACCEPT, "application/json")
                    .send()
                    .await
                    .map_err(|e| Error::from_reqwest(&e))
            })
            .await?;
        let status = resp.status().as_u16();
        tracing::debug!(
            status,
            correlation_id = %resp
                .headers()
                .get("xero-correlation-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-"),
            "connections response"
        );
        let body = self
            .with_timeout(async { resp.bytes().await.map_err(|e| Error::from_reqwest(&e)) })
            .await?;
        match status {
            200..=299 => {}
            401 => {
                return Err(Error::Unauthorized {
                    detail: String::from_utf8_lossy(&body).chars().take(200).collect(),
                })
            }
            403 => {
                return Err(Error::Forbidden {
                    detail: String::from_utf8_lossy(&body).chars().take(200).collect(),
                })
            }
            s @ 500..=599 => return Err(Error::Server { status: s }),
            s => {
                return Err(Error::Http {
                    status: s,
                    detail: String::from_utf8_lossy(&body).chars().take(200).collect(),
                })
            }
        }
        let wire: Vec<WireConnection> = serde_json::from_slice(&body)
            .map_err(|e| Error::malformed(format!("connections JSON: {e}")))?;
        wire.into_iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(Connection {
                    id: c.id.unwrap_or_default(),
                    auth_event_id: c.auth_event_id,
                    tenant_id: TenantId(c.tenant_id.filter(|t| !t.is_empty()).ok_or_else(
                        || Error::malformed(format!("connections[{i}].tenantId is missing")),
                    )?),
                    tenant_type: c.tenant_type.unwrap_or_default(),
                    tenant_name: c.tenant_name.unwrap_or_default(),
                    created: c.created_date_utc,
                    updated: c.updated_date_utc,
                })
            })
            .collect()
    }

    /// The PRACTICEMANAGER tenants of *this* consent: `GET /connections`, keeping
    /// `tenantType == PRACTICEMANAGER` (any case) whose `authEventId` equals the access
    /// token's `authentication_event_id`. If the token carries no such claim (not a JWT), every
    /// PRACTICEMANAGER tenant is kept. The order is Xero's and not stable: let the user choose.
    ///
    /// Follows Xero's identity OpenAPI (`/connections`) and the reference §5.6.
    ///
    /// # Errors
    /// As [`XpmClient::all_connections`].
    pub async fn connections(&self, access_token: &AccessToken) -> Result<Vec<Connection>> {
        let event = authentication_event_id(access_token);
        if event.is_none() {
            tracing::warn!("access token has no authentication_event_id; keeping all XPM tenants");
        }
        Ok(self
            .all_connections(access_token)
            .await?
            .into_iter()
            .filter(|c| c.tenant_type.eq_ignore_ascii_case("PRACTICEMANAGER"))
            .filter(|c| match &event {
                Some(e) => c.auth_event_id.as_deref() == Some(e.as_str()),
                None => true,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scopes_are_read_write_with_refresh() {
        assert_eq!(
            Scopes::default().to_vec().join(" "),
            "openid profile email offline_access practicemanager.client"
        );
        let ro = Scopes {
            read_only: true,
            ..Scopes::default()
        };
        assert!(
            ro.to_vec()
                .contains(&"practicemanager.client.read".to_owned()),
            "read-only asks for the .read scope"
        );
    }

    #[test]
    fn jwt_payload_is_decoded_without_verification() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"authentication_event_id":"evt-1","name":"Ivy Marsh"}"#);
        let jwt = format!("eyJhbGciOiJub25lIn0.{payload}.sig");
        assert_eq!(
            authentication_event_id(&AccessToken::new(jwt.clone())).as_deref(),
            Some("evt-1")
        );
        let claims: IdentityClaims = jwt_claims(&jwt).expect("claims");
        assert_eq!(claims.display_name().as_deref(), Some("Ivy Marsh"));
        assert!(
            authentication_event_id(&AccessToken::new("opaque".into())).is_none(),
            "an opaque token has no claims"
        );
    }

    #[test]
    fn authorize_url_carries_pkce_state_and_scopes() {
        let client = XpmClient::new(crate::Settings::new("cid", "http://localhost:5000/cb"))
            .expect("client");
        let req = client.authorize(&Scopes::default()).expect("url");
        let q: std::collections::HashMap<_, _> = req.url.query_pairs().into_owned().collect();
        assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
        assert_eq!(q.get("client_id").map(String::as_str), Some("cid"));
        assert_eq!(
            q.get("code_challenge_method").map(String::as_str),
            Some("S256")
        );
        assert_eq!(
            q.get("state"),
            Some(req.state.secret()),
            "state in URL matches the one kept"
        );
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            <sha2::Sha256 as sha2::Digest>::digest(req.pkce_verifier.secret().as_bytes()),
        );
        assert_eq!(
            q.get("code_challenge"),
            Some(&expected),
            "challenge = S256(verifier)"
        );
        assert!(
            !format!("{req:?}").contains(req.pkce_verifier.secret().as_str()),
            "Debug must redact the verifier"
        );
        assert_eq!(
            req.url.as_str().split('?').next(),
            Some(crate::settings::XERO_AUTHORIZE_URL)
        );
    }
}
