//! Local accounts: users, sign-in, organisations, memberships and the active organisation.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults: m = 19 MiB, t = 2, p = 1,
//! a random 16-byte salt per hash, stored as a PHC string). Each user also has a random
//! *vault salt*; [`vault_key`] derives the key of the user's vault from the password and that
//! salt, so the vault opens only with the password and re-keys when it changes.
//!
//! This module does not open vaults (the shell does, see `src-tauri/src/vault.rs`) and keeps
//! no session: signing in returns the [`User`], and the caller holds it (see [`crate::gate`]).
//! Users are device-wide; organisations are tenancies they belong to through memberships. The
//! *active* organisation is a device setting, so the window keeps opening straight onto its
//! data; with none chosen, it is the first organisation (the one existing data belongs to).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::schema::{membership, organisation, setting, user};
use crate::secrets::Secret;

/// The id of a local user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserId(pub i32);

/// Longest username accepted, in characters.
pub const MAX_USERNAME_LEN: usize = 64;
/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest organisation name accepted, in characters.
pub const MAX_ORGANISATION_NAME_LEN: usize = 200;
/// The setting that holds the active organisation's id.
const ACTIVE_ORGANISATION: &str = "active_organisation_id";

/// A local user, without anything secret (no hash, no salt).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The name it signs in with (unique on this device, case as typed).
    pub username: String,
    /// Whether two-factor authentication is on (confirmed with a code).
    pub mfa_enrolled: bool,
    /// Whether an integration (Xero) was connected under two-factor authentication.
    pub integration_mfa: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<&user::Model> for User {
    fn from(m: &user::Model) -> Self {
        Self {
            id: UserId(m.id),
            username: m.username.clone(),
            mfa_enrolled: m.mfa_enrolled,
            integration_mfa: m.integration_mfa,
            created_at: m.created_at,
        }
    }
}

/// An organisation (a practice's tenancy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    /// Its id.
    pub id: OrgId,
    /// Its name (unique on this device).
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<organisation::Model> for Organisation {
    fn from(m: organisation::Model) -> Self {
        Self {
            id: OrgId(m.id),
            name: m.name,
            created_at: m.created_at,
        }
    }
}

/// The 32-byte key of a user's vault, derived by [`vault_key`]. `Debug` is redacted.
#[derive(Clone)]
pub struct VaultKey([u8; 32]);

impl VaultKey {
    /// The key bytes, for handing to the vault engine.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}

fn crypto(e: impl std::fmt::Display) -> Error {
    Error::Crypto(e.to_string())
}

fn hash_password(password: &Secret) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map_err(crypto)?
        .to_string())
}

fn password_matches(password: &Secret, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(crypto)?;
    Ok(Argon2::default()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok())
}

fn check_password_rules(password: &Secret) -> Result<()> {
    if password.expose().chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::Validation(format!(
            "Choose a password of at least {MIN_PASSWORD_LEN} characters."
        )));
    }
    Ok(())
}

/// Derives a vault key from `password` and `salt` with argon2id (the crate's default cost).
///
/// # Errors
/// [`Error::Crypto`] if `salt` is shorter than 8 bytes.
pub fn derive_vault_key(password: &Secret, salt: &[u8]) -> Result<VaultKey> {
    let mut key = [0u8; 32];
    Argon2::default()
        .hash_password_into(password.expose().as_bytes(), salt, &mut key)
        .map_err(crypto)?;
    Ok(VaultKey(key))
}

/// Creates a user with `password` (argon2id-hashed) and a fresh vault salt, and makes it a
/// member of `join` if given.
///
/// # Errors
/// [`Error::Validation`] for an empty, over-long or space-containing username or a password
/// shorter than [`MIN_PASSWORD_LEN`]; [`Error::Conflict`] if the username is taken;
/// [`Error::NotFound`] if `join` does not exist; [`Error::Db`] on database failure.
pub async fn create_user(
    db: &impl ConnectionTrait,
    username: &str,
    password: &Secret,
    join: Option<OrgId>,
    now: DateTime<Utc>,
) -> Result<User> {
    let username = username.trim();
    if username.is_empty()
        || username.chars().count() > MAX_USERNAME_LEN
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::Validation(format!(
            "Choose a username of 1 to {MAX_USERNAME_LEN} characters, without spaces."
        )));
    }
    check_password_rules(password)?;
    if user_row(db, username).await?.is_some() {
        return Err(Error::Conflict(format!(
            "The username \u{201c}{username}\u{201d} is taken. Choose another."
        )));
    }
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let row = user::ActiveModel {
        username: Set(username.to_owned()),
        password_hash: Set(hash_password(password)?),
        vault_salt: Set(base64::engine::general_purpose::STANDARD.encode(salt)),
        mfa_enrolled: Set(false),
        mfa_last_step: Set(None),
        mfa_failed_attempts: Set(0),
        mfa_locked_until: Set(None),
        integration_mfa: Set(false),
        sign_in_failed_attempts: Set(0),
        sign_in_locked_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let created = User::from(&row);
    if let Some(org) = join {
        add_membership(db, created.id, org, now).await?;
    }
    Ok(created)
}

/// The user called `username`: the exact name, else the one user whose name differs only in
/// letter case (people type "Ana" for "ana"). Names made before this rule that differ only in
/// case match exactly or not at all. The user table holds a handful of rows, so the case-folded
/// comparison (Unicode, which SQLite's `lower()` is not) runs here.
async fn user_row(db: &impl ConnectionTrait, username: &str) -> Result<Option<user::Model>> {
    if let Some(row) = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?
    {
        return Ok(Some(row));
    }
    let folded = username.to_lowercase();
    let mut same = user::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|row| row.username.to_lowercase() == folded);
    Ok(match (same.next(), same.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    })
}

pub(crate) async fn user_model<C: ConnectionTrait>(db: &C, id: UserId) -> Result<user::Model> {
    user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("That user no longer exists.".to_owned()))
}

/// The user with this id.
///
/// # Errors
/// [`Error::NotFound`] if there is none; [`Error::Db`] on database failure.
pub async fn get_user(db: &DatabaseConnection, id: UserId) -> Result<User> {
    Ok(User::from(&user_model(db, id).await?))
}

/// The user called `username` (letter case aside, see `user_row`).
///
/// # Errors
/// [`Error::NotFound`] if there is none; [`Error::Db`] on database failure.
pub async fn find_user(db: &DatabaseConnection, username: &str) -> Result<User> {
    user_row(db, username.trim())
        .await?
        .map(|m| User::from(&m))
        .ok_or_else(|| {
            Error::NotFound(format!(
                "There is no user \u{201c}{}\u{201d} on this computer.",
                username.trim()
            ))
        })
}

/// Every user, ordered by username.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn list_users(db: &DatabaseConnection) -> Result<Vec<User>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?
        .iter()
        .map(User::from)
        .collect())
}

/// Signs in at `now`: the user, if `password` is theirs.
///
/// An unknown username costs a hash too, so timing does not reveal which usernames exist.
/// Wrong passwords are throttled per user like wrong two-factor codes: after
/// [`crate::mfa::FREE_ATTEMPTS`] in a row no password is checked for a lock-out that doubles
/// with each further wrong one ([`crate::mfa::lockout_after`]); a right password resets the
/// count. The count is in the database, so restarting the app does not reset it.
///
/// # Errors
/// [`Error::InvalidCredentials`] for an unknown user or a wrong password (the same error for
/// both); [`Error::SignInLockedOut`] while locked out (the password is not even checked);
/// [`Error::Db`] on database failure.
pub async fn sign_in(
    db: &DatabaseConnection,
    username: &str,
    password: &Secret,
    now: DateTime<Utc>,
) -> Result<User> {
    let Some(row) = user_row(db, username.trim()).await? else {
        let _ = hash_password(password)?;
        return Err(Error::InvalidCredentials);
    };
    if let Some(until) = row.sign_in_locked_until.filter(|until| *until > now) {
        return Err(Error::SignInLockedOut { until });
    }
    let right = password_matches(password, &row.password_hash)?;
    let user = User::from(&row);
    let failures = if right {
        0
    } else {
        row.sign_in_failed_attempts.saturating_add(1)
    };
    if failures != row.sign_in_failed_attempts || (right && row.sign_in_locked_until.is_some()) {
        let mut active = row.into_active_model();
        active.sign_in_failed_attempts = Set(failures);
        active.sign_in_locked_until = Set(crate::mfa::lockout_after(failures).map(|d| now + d));
        active.update(db).await?;
    }
    if right {
        Ok(user)
    } else {
        Err(Error::InvalidCredentials)
    }
}

/// Changes a user's password after checking the current one. The vault key changes with it:
/// the shell re-keys the vault (under a temporary name) *before* calling this, and moves it into
/// place after, so a failure leaves the old password opening the old vault.
///
/// # Errors
/// [`Error::InvalidCredentials`] if `current` is wrong; [`Error::Validation`] if `new` is too
/// short; [`Error::NotFound`] / [`Error::Db`] as for [`get_user`].
pub async fn change_password(
    db: &DatabaseConnection,
    id: UserId,
    current: &Secret,
    new: &Secret,
    now: DateTime<Utc>,
) -> Result<()> {
    check_password_rules(new)?;
    let row = user_model(db, id).await?;
    if !password_matches(current, &row.password_hash)? {
        return Err(Error::InvalidCredentials);
    }
    let mut active = row.into_active_model();
    active.password_hash = Set(hash_password(new)?);
    active.updated_at = Set(now);
    active.update(db).await?;
    Ok(())
}

/// The key of `id`'s vault for `password`: argon2id over the password and the user's vault
/// salt. It does not check the password; a wrong one yields a key that does not open the vault.
///
/// # Errors
/// [`Error::NotFound`] / [`Error::Db`] as for [`get_user`]; [`Error::Crypto`] if the stored salt
/// is damaged.
pub async fn vault_key(db: &DatabaseConnection, id: UserId, password: &Secret) -> Result<VaultKey> {
    let row = user_model(db, id).await?;
    let salt = base64::engine::general_purpose::STANDARD
        .decode(&row.vault_salt)
        .map_err(crypto)?;
    derive_vault_key(password, &salt)
}

fn clean_organisation_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_ORGANISATION_NAME_LEN {
        return Err(Error::Validation(format!(
            "Enter an organisation name of 1 to {MAX_ORGANISATION_NAME_LEN} characters."
        )));
    }
    // As for group and entity names: a control character would reach terminals (`org list`)
    // and exports as-is.
    if name.chars().any(char::is_control) {
        return Err(Error::Validation(
            crate::entities::CONTROL_CHARACTERS.to_owned(),
        ));
    }
    Ok(name.to_owned())
}

/// Creates an organisation.
///
/// # Errors
/// [`Error::Validation`] for an empty or over-long name; [`Error::Conflict`] if an organisation
/// already has this name; [`Error::Db`] on database failure.
pub async fn create_organisation(
    db: &impl ConnectionTrait,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Organisation> {
    let name = clean_organisation_name(name)?;
    let taken = organisation::Entity::find()
        .filter(organisation::Column::Name.eq(name.as_str()))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(Error::Conflict(format!(
            "An organisation called \u{201c}{name}\u{201d} already exists."
        )));
    }
    Ok(organisation::ActiveModel {
        name: Set(name),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?
    .into())
}

/// Every organisation, oldest first.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn list_organisations(db: &DatabaseConnection) -> Result<Vec<Organisation>> {
    Ok(organisation::Entity::find()
        .order_by_asc(organisation::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Organisation::from)
        .collect())
}

/// The organisation with this exact name, or with this id if `name_or_id` is a number and no
/// organisation has that name.
///
/// # Errors
/// [`Error::NotFound`] if there is none; [`Error::Db`] on database failure.
pub async fn find_organisation(db: &DatabaseConnection, name_or_id: &str) -> Result<Organisation> {
    let wanted = name_or_id.trim();
    let by_name = organisation::Entity::find()
        .filter(organisation::Column::Name.eq(wanted))
        .one(db)
        .await?;
    let found = match (by_name, wanted.parse::<i32>()) {
        (Some(org), _) => Some(org),
        (None, Ok(id)) => organisation::Entity::find_by_id(id).one(db).await?,
        (None, Err(_)) => None,
    };
    found.map(Organisation::from).ok_or_else(|| {
        Error::NotFound(format!(
            "There is no organisation \u{201c}{wanted}\u{201d}."
        ))
    })
}

/// The organisation chosen with [`use_organisation`], if it still exists; `None` means "the
/// first organisation" (what the app opened before accounts existed).
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn active_organisation(db: &impl ConnectionTrait) -> Result<Option<OrgId>> {
    let Some(row) = setting::Entity::find_by_id(ACTIVE_ORGANISATION.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Ok(id) = row.value.parse::<i32>() else {
        return Ok(None);
    };
    Ok(organisation::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|o| OrgId(o.id)))
}

/// Makes `org` the active organisation on this device (the one the app and the command line
/// open). Use [`switch_organisation`] on behalf of a signed-in user.
///
/// # Errors
/// [`Error::NotFound`] if `org` does not exist; [`Error::Db`] on database failure.
pub async fn use_organisation(db: &impl ConnectionTrait, org: OrgId) -> Result<()> {
    if organisation::Entity::find_by_id(org.0)
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::NotFound(
            "That organisation no longer exists.".to_owned(),
        ));
    }
    let value = org.0.to_string();
    match setting::Entity::find_by_id(ACTIVE_ORGANISATION.to_owned())
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
                key: Set(ACTIVE_ORGANISATION.to_owned()),
                value: Set(value),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Makes `org` active for a signed-in user, who must be a member of it.
///
/// # Errors
/// [`Error::NotFound`] if the user is not a member (or `org` does not exist); [`Error::Db`] on
/// database failure.
pub async fn switch_organisation(db: &DatabaseConnection, id: UserId, org: OrgId) -> Result<()> {
    let member = membership::Entity::find()
        .filter(membership::Column::UserId.eq(id.0))
        .filter(membership::Column::OrganisationId.eq(org.0))
        .one(db)
        .await?;
    if member.is_none() {
        return Err(Error::NotFound(
            "You are not a member of that organisation.".to_owned(),
        ));
    }
    use_organisation(db, org).await
}

/// Makes a user a member of an organisation; already being one is fine.
///
/// # Errors
/// [`Error::NotFound`] if the user or organisation does not exist; [`Error::Db`] on database
/// failure.
pub async fn add_membership(
    db: &impl ConnectionTrait,
    id: UserId,
    org: OrgId,
    now: DateTime<Utc>,
) -> Result<()> {
    user_model(db, id).await?;
    if organisation::Entity::find_by_id(org.0)
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::NotFound(
            "That organisation no longer exists.".to_owned(),
        ));
    }
    let existing = membership::Entity::find()
        .filter(membership::Column::UserId.eq(id.0))
        .filter(membership::Column::OrganisationId.eq(org.0))
        .one(db)
        .await?;
    if existing.is_none() {
        membership::ActiveModel {
            user_id: Set(id.0),
            organisation_id: Set(org.0),
            role: Set("member".to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The organisations a user belongs to, oldest first.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn list_memberships(db: &DatabaseConnection, id: UserId) -> Result<Vec<Organisation>> {
    let org_ids: Vec<i32> = membership::Entity::find()
        .filter(membership::Column::UserId.eq(id.0))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.organisation_id)
        .collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .order_by_asc(organisation::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Organisation::from)
        .collect())
}

/// Whether any user exists on this device (`false` means first run: the app asks to create the
/// first account).
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn any_user(db: &DatabaseConnection) -> Result<bool> {
    Ok(user::Entity::find().count(db).await? > 0)
}

/// The organisation the first account joins when no name is given: the active organisation,
/// else the first (the one existing data, such as the demo practice, belongs to); `None` when
/// the data folder has no organisation yet.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn default_organisation(db: &impl ConnectionTrait) -> Result<Option<Organisation>> {
    let id = match active_organisation(db).await? {
        Some(id) => Some(id.0),
        None => organisation::Entity::find()
            .order_by_asc(organisation::Column::Id)
            .one(db)
            .await?
            .map(|o| o.id),
    };
    Ok(match id {
        Some(id) => organisation::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(Organisation::from),
        None => None,
    })
}

/// First run: creates the device's first user and makes them a member of an organisation, which
/// becomes the active one — all in one transaction, so a failure leaves no half-made account and
/// the form can simply be sent again.
///
/// With `organisation_name`, a new organisation of that name is created. Without it (or with a
/// blank one), the user joins [`default_organisation`] — the demo practice, or data created
/// before accounts existed.
///
/// # Errors
/// [`Error::Conflict`] if a user already exists (later accounts are added by a signed-in user or
/// with `structuregram user create`), or the username or organisation name is taken;
/// [`Error::Validation`] as for [`create_user`] and [`create_organisation`], or when no name is
/// given and there is no organisation to join; [`Error::Db`] on database failure.
pub async fn sign_up(
    db: &DatabaseConnection,
    username: &str,
    password: &Secret,
    organisation_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(User, Organisation)> {
    let txn = db.begin().await?;
    if user::Entity::find().count(&txn).await? > 0 {
        return Err(Error::Conflict(
            "An account already exists on this computer. Sign in with it; another account is added with `structuregram user create`."
                .to_owned(),
        ));
    }
    let wanted = organisation_name.map(str::trim).filter(|n| !n.is_empty());
    let org = match wanted {
        Some(name) => create_organisation(&txn, name, now).await?,
        None => default_organisation(&txn).await?.ok_or_else(|| {
            Error::Validation("Enter a name for your organisation (your practice).".to_owned())
        })?,
    };
    let user = create_user(&txn, username, password, Some(org.id), now).await?;
    use_organisation(&txn, org.id).await?;
    txn.commit().await?;
    Ok((user, org))
}

/// Creates an organisation on behalf of a signed-in user, makes them a member and makes it the
/// active organisation — in one transaction.
///
/// # Errors
/// As for [`create_organisation`]; [`Error::NotFound`] if the user no longer exists.
pub async fn create_organisation_for(
    db: &DatabaseConnection,
    id: UserId,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Organisation> {
    let txn = db.begin().await?;
    let org = create_organisation(&txn, name, now).await?;
    add_membership(&txn, id, org.id, now).await?;
    use_organisation(&txn, org.id).await?;
    txn.commit().await?;
    Ok(org)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap()
    }

    fn pw(s: &str) -> Secret {
        Secret::new(s)
    }

    #[tokio::test]
    async fn an_organisation_name_with_a_control_character_is_refused_and_nothing_is_made() {
        let db = db::open_in_memory().await.unwrap();
        // An escape sequence would recolour the terminal of whoever runs `org list`.
        let refused = create_organisation(&db, "Bad\u{7}\u{1b}[31mRed", now()).await;
        assert!(
            matches!(&refused, Err(Error::Validation(m)) if m == crate::entities::CONTROL_CHARACTERS),
            "{refused:?}"
        );
        assert!(list_organisations(&db).await.unwrap().is_empty());
        create_organisation(&db, "Smith & Co", now()).await.unwrap();
    }

    #[tokio::test]
    async fn a_user_signs_in_with_their_password_and_not_another() {
        let db = db::open_in_memory().await.unwrap();
        let created = create_user(&db, "ana", &pw("correct horse"), None, now())
            .await
            .unwrap();
        let row = user_model(&db, created.id).await.unwrap();
        assert!(
            row.password_hash.starts_with("$argon2id$"),
            "the stored hash is an argon2id PHC string, not the password"
        );
        assert!(!row.password_hash.contains("correct horse"));
        let signed_in = sign_in(&db, "ana", &pw("correct horse"), now())
            .await
            .unwrap();
        assert_eq!(signed_in.id, created.id, "the right password signs in");
        assert!(
            matches!(
                sign_in(&db, "ana", &pw("wrong horse"), now()).await,
                Err(Error::InvalidCredentials)
            ),
            "a wrong password is refused"
        );
        assert!(
            matches!(
                sign_in(&db, "bob", &pw("correct horse"), now()).await,
                Err(Error::InvalidCredentials)
            ),
            "an unknown user gets the same error as a wrong password"
        );
    }

    #[tokio::test]
    async fn a_username_is_found_whatever_its_letter_case_and_is_taken_in_every_case() {
        let db = db::open_in_memory().await.unwrap();
        let ana = create_user(&db, "Ana.Lee", &pw("correct horse"), None, now())
            .await
            .unwrap();
        let signed_in = sign_in(&db, "ana.lee", &pw("correct horse"), now())
            .await
            .unwrap();
        assert_eq!(
            signed_in.id, ana.id,
            "typed in lower case, the same user signs in"
        );
        assert_eq!(
            signed_in.username, "Ana.Lee",
            "the name keeps the case it was made with"
        );
        assert_eq!(find_user(&db, "ANA.LEE").await.unwrap().id, ana.id);
        assert!(
            matches!(
                create_user(&db, "ana.lee", &pw("12345678"), None, now()).await,
                Err(Error::Conflict(_))
            ),
            "a name differing only in case is taken"
        );
        assert!(
            matches!(
                sign_in(&db, "ana.lee", &pw("wrong horse"), now()).await,
                Err(Error::InvalidCredentials)
            ),
            "the password still has to be right"
        );
    }

    #[tokio::test]
    async fn wrong_passwords_lock_the_user_out_for_growing_periods_and_a_right_one_resets() {
        let db = db::open_in_memory().await.unwrap();
        let ana = create_user(&db, "ana", &pw("correct horse"), None, now())
            .await
            .unwrap();
        let t = |secs: i64| now() + chrono::Duration::seconds(secs);
        for attempt in 1..=5 {
            assert!(
                matches!(
                    sign_in(&db, "ana", &pw("wrong horse"), t(0)).await,
                    Err(Error::InvalidCredentials)
                ),
                "attempt {attempt} is just wrong"
            );
        }
        // mfa::FREE_ATTEMPTS = 5 wrong ones are free; the 5th locks for FIRST_LOCKOUT_SECS = 30 s.
        assert!(
            matches!(
                sign_in(&db, "ana", &pw("correct horse"), t(29)).await,
                Err(Error::SignInLockedOut { until }) if until == t(30)
            ),
            "while locked, even the right password is not checked"
        );
        assert!(
            matches!(
                sign_in(&db, "ana", &pw("wrong horse"), t(30)).await,
                Err(Error::InvalidCredentials)
            ),
            "after the lock-out a wrong password is checked again"
        );
        assert!(
            matches!(
                sign_in(&db, "ana", &pw("correct horse"), t(89)).await,
                Err(Error::SignInLockedOut { until }) if until == t(90)
            ),
            "the 6th wrong password doubles the lock-out to 60 s (from t = 30 s)"
        );
        let signed_in = sign_in(&db, "ana", &pw("correct horse"), t(90))
            .await
            .unwrap();
        assert_eq!(signed_in.id, ana.id);
        let row = user_model(&db, ana.id).await.unwrap();
        assert_eq!(
            (row.sign_in_failed_attempts, row.sign_in_locked_until),
            (0, None),
            "a right password resets the count"
        );
        assert!(
            matches!(
                sign_in(&db, "bob", &pw("x"), t(90)).await,
                Err(Error::InvalidCredentials)
            ),
            "an unknown user is never locked (there is nothing to lock)"
        );
    }

    #[tokio::test]
    async fn each_user_gets_its_own_password_salt_and_vault_salt() {
        let db = db::open_in_memory().await.unwrap();
        let a = create_user(&db, "a", &pw("same password"), None, now())
            .await
            .unwrap();
        let b = create_user(&db, "b", &pw("same password"), None, now())
            .await
            .unwrap();
        let (a, b) = (
            user_model(&db, a.id).await.unwrap(),
            user_model(&db, b.id).await.unwrap(),
        );
        assert_ne!(a.password_hash, b.password_hash, "salts differ per user");
        assert_ne!(a.vault_salt, b.vault_salt, "vault salts differ per user");
    }

    #[tokio::test]
    async fn usernames_are_unique_and_passwords_have_a_minimum_length() {
        let db = db::open_in_memory().await.unwrap();
        create_user(&db, "ana", &pw("12345678"), None, now())
            .await
            .unwrap();
        assert!(
            matches!(
                create_user(&db, " ana ", &pw("12345678"), None, now()).await,
                Err(Error::Conflict(_))
            ),
            "a taken username (after trimming) is a conflict"
        );
        assert!(
            matches!(
                create_user(&db, "bob", &pw("short"), None, now()).await,
                Err(Error::Validation(_))
            ),
            "a short password is refused"
        );
        assert!(
            matches!(
                create_user(&db, "two words", &pw("12345678"), None, now()).await,
                Err(Error::Validation(_))
            ),
            "usernames have no spaces"
        );
    }

    #[tokio::test]
    async fn changing_the_password_needs_the_old_one_and_changes_the_vault_key() {
        let db = db::open_in_memory().await.unwrap();
        let u = create_user(&db, "ana", &pw("old password"), None, now())
            .await
            .unwrap();
        let old_key = vault_key(&db, u.id, &pw("old password")).await.unwrap();
        assert!(
            matches!(
                change_password(&db, u.id, &pw("not it"), &pw("new password"), now()).await,
                Err(Error::InvalidCredentials)
            ),
            "the current password is required"
        );
        change_password(&db, u.id, &pw("old password"), &pw("new password"), now())
            .await
            .unwrap();
        assert!(sign_in(&db, "ana", &pw("new password"), now())
            .await
            .is_ok());
        assert!(sign_in(&db, "ana", &pw("old password"), now())
            .await
            .is_err());
        let new_key = vault_key(&db, u.id, &pw("new password")).await.unwrap();
        assert_ne!(
            old_key.expose(),
            new_key.expose(),
            "a new password derives a new vault key"
        );
        let again = vault_key(&db, u.id, &pw("new password")).await.unwrap();
        assert_eq!(
            new_key.expose(),
            again.expose(),
            "the derivation is deterministic for one salt"
        );
        assert_eq!(format!("{new_key:?}"), "VaultKey(<redacted>)");
    }

    #[tokio::test]
    async fn existing_data_stays_in_its_organisation_and_users_switch_only_to_their_own() {
        let db = db::open_in_memory().await.unwrap();
        let demo = db::ensure_organisation(&db, "Demo Practice (fictitious)", now())
            .await
            .unwrap();
        assert_eq!(
            active_organisation(&db).await.unwrap(),
            None,
            "nothing chosen: the app keeps opening the first organisation"
        );
        let u = create_user(&db, "ana", &pw("12345678"), Some(demo), now())
            .await
            .unwrap();
        let other = create_organisation(&db, "Second Practice", now())
            .await
            .unwrap();
        assert!(matches!(
            create_organisation(&db, "Second Practice", now()).await,
            Err(Error::Conflict(_))
        ));
        let names: Vec<String> = list_organisations(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, ["Demo Practice (fictitious)", "Second Practice"]);
        assert!(
            matches!(
                switch_organisation(&db, u.id, other.id).await,
                Err(Error::NotFound(_))
            ),
            "a user cannot switch to an organisation they do not belong to"
        );
        add_membership(&db, u.id, other.id, now()).await.unwrap();
        add_membership(&db, u.id, other.id, now()).await.unwrap();
        assert_eq!(list_memberships(&db, u.id).await.unwrap().len(), 2);
        switch_organisation(&db, u.id, other.id).await.unwrap();
        assert_eq!(active_organisation(&db).await.unwrap(), Some(other.id));
        use_organisation(&db, demo).await.unwrap();
        assert_eq!(active_organisation(&db).await.unwrap(), Some(demo));
        assert_eq!(
            find_organisation(&db, "Second Practice").await.unwrap().id,
            other.id
        );
        assert_eq!(
            find_organisation(&db, &other.id.0.to_string())
                .await
                .unwrap()
                .id,
            other.id,
            "an id works too"
        );
    }

    #[tokio::test]
    async fn first_run_sign_up_creates_user_organisation_and_membership_once() {
        let db = db::open_in_memory().await.unwrap();
        assert!(!any_user(&db).await.unwrap(), "a fresh device has no user");
        assert!(
            matches!(
                sign_up(&db, "ana", &pw("12345678"), None, now()).await,
                Err(Error::Validation(_))
            ),
            "no organisation to join and none named"
        );
        assert!(
            matches!(
                sign_up(&db, "ana", &pw("short"), Some("Ana & Co"), now()).await,
                Err(Error::Validation(_))
            ),
            "the password rule applies"
        );
        assert!(
            list_organisations(&db).await.unwrap().is_empty(),
            "a refused sign-up leaves no organisation behind (one transaction)"
        );
        let (user, org) = sign_up(&db, "ana", &pw("12345678"), Some(" Ana & Co "), now())
            .await
            .unwrap();
        assert_eq!(org.name, "Ana & Co");
        assert_eq!(
            list_memberships(&db, user.id).await.unwrap(),
            vec![org.clone()]
        );
        assert_eq!(active_organisation(&db).await.unwrap(), Some(org.id));
        assert!(any_user(&db).await.unwrap());
        assert!(
            matches!(
                sign_up(&db, "bob", &pw("12345678"), Some("Bob"), now()).await,
                Err(Error::Conflict(_))
            ),
            "sign-up is for the first account only"
        );
        assert_eq!(list_organisations(&db).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn first_run_without_a_name_joins_the_existing_demo_organisation() {
        let db = db::open_in_memory().await.unwrap();
        let demo = db::ensure_organisation(&db, "Demo Practice (fictitious)", now())
            .await
            .unwrap();
        assert_eq!(
            default_organisation(&db).await.unwrap().map(|o| o.id),
            Some(demo)
        );
        let (user, org) = sign_up(&db, "newcomer", &pw("12345678"), Some("  "), now())
            .await
            .unwrap();
        assert_eq!(org.id, demo, "a blank name joins the existing organisation");
        assert_eq!(list_memberships(&db, user.id).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_new_organisation_belongs_to_its_creator_and_becomes_active() {
        let db = db::open_in_memory().await.unwrap();
        let (user, _) = sign_up(&db, "ana", &pw("12345678"), Some("First"), now())
            .await
            .unwrap();
        let second = create_organisation_for(&db, user.id, "Second", now())
            .await
            .unwrap();
        assert_eq!(active_organisation(&db).await.unwrap(), Some(second.id));
        let names: Vec<String> = list_memberships(&db, user.id)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(names, ["First", "Second"]);
        assert!(matches!(
            create_organisation_for(&db, user.id, "First", now()).await,
            Err(Error::Conflict(_))
        ));
        assert_eq!(
            active_organisation(&db).await.unwrap(),
            Some(second.id),
            "a refused create changes nothing"
        );
    }
}
