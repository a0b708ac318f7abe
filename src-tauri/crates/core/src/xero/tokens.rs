//! The token pair of an organisation's Xero connection, kept in the connecting user's vault.
//!
//! Key: `xero.tokens.org-<organisation id>` (see [`token_key`]); value: a small JSON object
//! (`tenantId`, `accessToken`, `refreshToken`, `expiresAt`) wrapped in a [`Secret`]. Nothing
//! here touches the database, logs or IPC. `expiresAt` is on the connector's clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::secrets::{Secret, SecretStore};

/// The vault key of `org`'s Xero tokens.
pub fn token_key(org: OrgId) -> String {
    format!("xero.tokens.org-{}", org.0)
}

/// A stored token pair. No `Debug` of the values: see the manual impl.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredTokens {
    pub tenant_id: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("tenant_id", &self.tenant_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub(crate) fn load(store: &dyn SecretStore, org: OrgId) -> Result<Option<StoredTokens>> {
    let Some(secret) = store.get(&token_key(org))? else {
        return Ok(None);
    };
    serde_json::from_str(secret.expose())
        .map(Some)
        .map_err(|e| Error::Vault(format!("the stored Xero tokens are unreadable: {e}")))
}

pub(crate) fn save(store: &dyn SecretStore, org: OrgId, tokens: &StoredTokens) -> Result<()> {
    let json = serde_json::to_string(tokens)
        .map_err(|e| Error::Vault(format!("the Xero tokens cannot be encoded: {e}")))?;
    store.put(&token_key(org), &Secret::new(json))
}

pub(crate) fn delete(store: &dyn SecretStore, org: OrgId) -> Result<()> {
    store.delete(&token_key(org))
}
