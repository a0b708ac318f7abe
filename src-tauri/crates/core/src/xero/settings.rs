//! Where StructureGram finds Xero: the app's OAuth client id, the loopback ports registered as
//! redirect URIs, an optional https forwarder page, the base URLs and the scopes.
//!
//! The settings are **device-wide** (one row, key [`SETTINGS_KEY`], in the `setting` table),
//! not per organisation: the client id belongs to the firm's one Xero app registration and the
//! ports are this computer's, whichever organisation connects. Each organisation still has its
//! own connection (tenant and tokens).

use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::schema::setting;

/// The `setting` key holding the JSON of [`XeroSettings`].
pub const SETTINGS_KEY: &str = "xero.settings";

/// Xero's login host (serves `/identity/connect/authorize`), reference §5.1.
pub const XERO_LOGIN_BASE: &str = "https://login.xero.com";
/// Xero's identity host (serves `/connect/token` and `/connect/revocation`), reference §5.1.
pub const XERO_IDENTITY_BASE: &str = "https://identity.xero.com";
/// Xero's API host (serves `/connections` and `/practicemanager/3.1/`), reference §1.1, §5.1.
pub const XERO_API_BASE: &str = "https://api.xero.com";
/// The loopback ports tried in order by default. Register each as
/// `http://localhost:<port>/callback` with the Xero app (reference §5.3: exact URIs only).
pub const DEFAULT_REDIRECT_PORTS: [u16; 3] = [47615, 47616, 47617];

/// How StructureGram reaches Xero. Serialised camelCase for the settings page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct XeroSettings {
    /// The Xero app's OAuth client id ("Auth Code with PKCE" app: there is no secret). Empty
    /// until the firm enters it; connecting refuses until then.
    pub client_id: String,
    /// Loopback ports, tried in order; the first free one receives the callback on
    /// `http://localhost:<port>/callback`. Each must be registered with the Xero app.
    pub redirect_ports: Vec<u16>,
    /// An https page registered with the Xero app that forwards Xero's answer to
    /// `structuregram://oauth/callback?…` (for firms that cannot register localhost). When set,
    /// it is sent as the redirect URI and no loopback listener is started; the deep link
    /// completes the connection.
    pub https_redirect_uri: Option<String>,
    /// Login host (authorize), without a trailing slash. Xero by default; the simulator in tests
    /// and the demo.
    pub login_base: String,
    /// Identity host (token, revocation).
    pub identity_base: String,
    /// API host (connections, XPM).
    pub api_base: String,
    /// Ask for `practicemanager.client.read` instead of `practicemanager.client`.
    pub read_only: bool,
    /// Scopes asked for on top of `openid profile email offline_access practicemanager.client`
    /// (reference §5.4), e.g. `practicemanager.staff.read`.
    pub extra_scopes: Vec<String>,
}

impl Default for XeroSettings {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            redirect_ports: DEFAULT_REDIRECT_PORTS.to_vec(),
            https_redirect_uri: None,
            login_base: XERO_LOGIN_BASE.to_owned(),
            identity_base: XERO_IDENTITY_BASE.to_owned(),
            api_base: XERO_API_BASE.to_owned(),
            read_only: false,
            extra_scopes: Vec::new(),
        }
    }
}

impl XeroSettings {
    /// The default settings pointed at other hosts: one base for login, identity and API, as
    /// the simulator serves them all (`xpm_sim::SimUrls::base`).
    pub fn with_base(client_id: impl Into<String>, base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        Self {
            client_id: client_id.into(),
            login_base: base.clone(),
            identity_base: base.clone(),
            api_base: base,
            ..Self::default()
        }
    }

    /// The loopback redirect URI for `port`: `http://localhost:<port>/callback` (the literal
    /// `localhost`, reference §5.3; Xero and the simulator refuse `127.0.0.1`).
    pub fn loopback_redirect_uri(port: u16) -> String {
        format!("http://localhost:{port}/callback")
    }

    /// The scopes to ask for.
    pub fn scopes(&self) -> xpm::oauth::Scopes {
        xpm::oauth::Scopes {
            read_only: self.read_only,
            extra: self.extra_scopes.clone(),
        }
    }

    /// The XPM client settings for a callback on loopback `port`.
    pub fn to_xpm_settings(&self, port: u16) -> xpm::Settings {
        self.to_xpm_settings_for(&Self::loopback_redirect_uri(port))
    }

    /// The XPM client settings for any redirect URI (the https forwarder page, say).
    pub fn to_xpm_settings_for(&self, redirect_uri: &str) -> xpm::Settings {
        xpm::Settings::new(self.client_id.trim(), redirect_uri).with_urls(
            &self.login_base,
            &self.identity_base,
            &self.api_base,
        )
    }

    /// The redirect URI sent when no attempt is running: the forwarder page if set, else the
    /// first loopback port's.
    pub fn default_redirect_uri(&self) -> String {
        match &self.https_redirect_uri {
            Some(uri) => uri.clone(),
            None => Self::loopback_redirect_uri(
                self.redirect_ports
                    .first()
                    .copied()
                    .unwrap_or(DEFAULT_REDIRECT_PORTS[0]),
            ),
        }
    }

    /// Checks the settings before they are saved.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field: no ports (without a forwarder page), port 0, a
    /// base URL that is not http(s), a forwarder page that is not https.
    pub fn validate(&self) -> Result<()> {
        if self.redirect_ports.is_empty() && self.https_redirect_uri.is_none() {
            return Err(Error::Validation(
                "Give at least one callback port for Xero (for example 47615), registered with your Xero app as http://localhost:<port>/callback.".to_owned(),
            ));
        }
        if self.redirect_ports.contains(&0) {
            return Err(Error::Validation(
                "Callback ports must be between 1 and 65535.".to_owned(),
            ));
        }
        for (name, value) in [
            ("login", &self.login_base),
            ("identity", &self.identity_base),
            ("API", &self.api_base),
        ] {
            let ok = url::Url::parse(value)
                .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(Error::Validation(format!(
                    "The Xero {name} address \u{201c}{value}\u{201d} is not a web address; use for example https://{}.xero.com.",
                    if name == "API" { "api" } else { name }
                )));
            }
        }
        if let Some(uri) = &self.https_redirect_uri {
            let ok = url::Url::parse(uri)
                .map(|u| u.scheme() == "https")
                .unwrap_or(false);
            if !ok {
                return Err(Error::Validation(
                    "The forwarding page must be an https address registered with your Xero app."
                        .to_owned(),
                ));
            }
        }
        Ok(())
    }
}

/// The saved settings, or the defaults (real Xero, no client id) if none were saved.
///
/// # Errors
/// [`Error::Db`] on database failure; [`Error::Validation`] if the stored JSON is unreadable.
pub async fn load_settings(db: &DatabaseConnection) -> Result<XeroSettings> {
    match setting::Entity::find_by_id(SETTINGS_KEY.to_owned())
        .one(db)
        .await?
    {
        None => Ok(XeroSettings::default()),
        Some(row) => serde_json::from_str(&row.value).map_err(|e| {
            Error::Validation(format!(
                "The saved Xero settings cannot be read ({e}); enter them again."
            ))
        }),
    }
}

/// Validates and saves the settings (replacing any saved ones). Call
/// [`super::Connector::set_settings`] too so the running app uses them.
///
/// # Errors
/// As [`XeroSettings::validate`]; [`Error::Db`] on database failure.
pub async fn save_settings(db: &DatabaseConnection, settings: &XeroSettings) -> Result<()> {
    settings.validate()?;
    let value = serde_json::to_string(settings)
        .map_err(|e| Error::Validation(format!("The Xero settings cannot be saved: {e}")))?;
    match setting::Entity::find_by_id(SETTINGS_KEY.to_owned())
        .one(db)
        .await?
    {
        Some(row) => {
            let mut active = row.into_active_model();
            active.value = Set(value);
            active.update(db).await?;
        }
        None => {
            setting::ActiveModel {
                key: Set(SETTINGS_KEY.to_owned()),
                value: Set(value),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_real_xero_with_the_three_registered_ports() {
        let s = XeroSettings::default();
        let x = s.to_xpm_settings(47616);
        assert_eq!(x.authorize_url, xpm::settings::XERO_AUTHORIZE_URL);
        assert_eq!(x.token_url, xpm::settings::XERO_TOKEN_URL);
        assert_eq!(x.revocation_url, xpm::settings::XERO_REVOCATION_URL);
        assert_eq!(x.connections_url, xpm::settings::XERO_CONNECTIONS_URL);
        assert_eq!(x.api_base_url, xpm::settings::XPM_API_BASE_URL);
        assert_eq!(
            x.redirect_uri, "http://localhost:47616/callback",
            "the literal localhost, never 127.0.0.1"
        );
        assert_eq!(s.redirect_ports, vec![47615, 47616, 47617]);
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut s = XeroSettings::default();
        s.redirect_ports.clear();
        assert!(matches!(s.validate(), Err(Error::Validation(m)) if m.contains("callback port")));
        s.https_redirect_uri = Some("http://example.com/cb".into());
        assert!(
            matches!(s.validate(), Err(Error::Validation(m)) if m.contains("https")),
            "a forwarder page must be https"
        );
        let s = XeroSettings {
            api_base: "api.xero.com".into(),
            ..XeroSettings::default()
        };
        assert!(matches!(s.validate(), Err(Error::Validation(m)) if m.contains("API")));
    }

    #[tokio::test]
    async fn settings_round_trip_through_the_setting_table() {
        let db = crate::db::open_in_memory().await.unwrap();
        assert_eq!(load_settings(&db).await.unwrap(), XeroSettings::default());
        let mut s = XeroSettings::with_base("cid", "http://127.0.0.1:9/");
        s.extra_scopes = vec!["practicemanager.staff.read".into()];
        save_settings(&db, &s).await.unwrap();
        save_settings(&db, &s).await.unwrap();
        let back = load_settings(&db).await.unwrap();
        assert_eq!(back, s, "saved twice, read back the same");
        assert_eq!(
            back.api_base, "http://127.0.0.1:9",
            "trailing slash dropped"
        );
    }
}
