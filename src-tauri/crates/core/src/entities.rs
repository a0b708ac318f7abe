//! Entities (product-spec §3): validation of form input, create, update, delete, list.
//!
//! Field rules: names ≤ 200 characters, notes ≤ 5,000, ABN 11 digits, ACN 9 digits, TFN 9 digits
//! (product-spec §3.1–§3.3); a trust needs a trust type and only a trust may have one; SMSFs have
//! no Active status (§3.6); a date of death is not before the date of birth. TFNs are sealed
//! ([`crate::tfn`]) and only ever leave core masked.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::audit;
use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::groups;
use crate::model::{Entity, EntityInput, EntityKind, EntityStatus};
use crate::schema::{entity, group_member, relationship};
use crate::tfn::{self, TfnCipher};

/// Longest name accepted, in characters (product-spec §3.1).
pub const MAX_NAME_LEN: usize = 200;
/// Longest notes accepted, in characters (product-spec §3.1).
pub const MAX_NOTES_LEN: usize = 5_000;

/// The message for a name holding line breaks, tabs or other control characters.
pub const CONTROL_CHARACTERS: &str =
    "Names cannot contain line breaks, tabs or other control characters.";

/// What the TFN field of an input asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum TfnChange {
    /// Leave the stored TFN as it is.
    Keep,
    /// Remove the stored TFN.
    Clear,
    /// Store this 9-digit TFN.
    Set(String),
}

/// Input that passed validation: trimmed, empty strings made `None`, digits only in identifiers,
/// the display name worked out and the status defaulted.
#[derive(Clone, Debug, PartialEq)]
pub struct CleanInput {
    /// The validated fields; `name` is the display name, `status` is set, `tfn` is `None`.
    pub input: EntityInput,
    /// The resolved status.
    pub status: EntityStatus,
    /// What to do with the TFN.
    pub tfn: TfnChange,
}

fn tidy(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn digits(field: &str, value: &Option<String>, len: usize) -> Result<Option<String>> {
    let Some(raw) = tidy(value) else {
        return Ok(None);
    };
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() != len || !compact.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::Validation(format!(
            "{field} must be {len} digits (spaces are fine); \u{201c}{raw}\u{201d} is not."
        )));
    }
    Ok(Some(compact))
}

/// Validates and normalises form input (see the module docs for the rules).
///
/// # Errors
/// [`Error::Validation`] with a message naming the field and the rule.
pub fn normalise_input(input: &EntityInput) -> Result<CleanInput> {
    let kind = input.kind;
    let first_name = tidy(&input.first_name);
    let middle_name = tidy(&input.middle_name);
    let last_name = tidy(&input.last_name);
    let name = match kind {
        EntityKind::Individual => {
            let Some(last) = &last_name else {
                return Err(Error::Validation(
                    "Enter the individual's last name.".into(),
                ));
            };
            [
                first_name.as_deref(),
                middle_name.as_deref(),
                Some(last.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
        }
        _ => input.name.trim().to_owned(),
    };
    if [&name, &input.other_name.clone().unwrap_or_default()]
        .iter()
        .any(|n| n.chars().any(char::is_control))
    {
        return Err(Error::Validation(CONTROL_CHARACTERS.into()));
    }
    if name.is_empty() {
        return Err(Error::Validation(format!(
            "Enter the {}'s name.",
            kind.label().to_lowercase()
        )));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Error::Validation(format!(
            "A name may have at most {MAX_NAME_LEN} characters."
        )));
    }
    match (kind, input.trust_type) {
        (EntityKind::Trust, None) => {
            return Err(Error::Validation(
                "Choose the trust type (Unspecified if unknown).".into(),
            ))
        }
        (EntityKind::Trust, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(Error::Validation(format!(
                "Only trusts have a trust type; a {} cannot.",
                kind.label().to_lowercase()
            )))
        }
    }
    let status = input.status.unwrap_or(kind.default_status());
    if kind == EntityKind::Smsf && status == EntityStatus::Active {
        return Err(Error::Validation(
            "An SMSF cannot be Active; choose Passive, Dormant, Vested or Proposed.".into(),
        ));
    }
    if kind != EntityKind::Individual
        && (input.date_of_birth.is_some() || input.date_of_death.is_some())
    {
        return Err(Error::Validation(
            "Only individuals have dates of birth and death.".into(),
        ));
    }
    if let (Some(born), Some(died)) = (input.date_of_birth, input.date_of_death) {
        if died < born {
            return Err(Error::Validation(format!(
                "The date of death ({died}) is before the date of birth ({born})."
            )));
        }
    }
    let notes = tidy(&input.notes);
    if notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTES_LEN)
    {
        return Err(Error::Validation(format!(
            "Notes may have at most {MAX_NOTES_LEN} characters."
        )));
    }
    let tfn = match input.tfn.as_deref().map(str::trim) {
        None => TfnChange::Keep,
        Some("") => TfnChange::Clear,
        Some(_) => TfnChange::Set(
            digits("TFN", &input.tfn, 9)?.expect("a non-empty TFN yields digits or an error"),
        ),
    };
    let is_individual = kind == EntityKind::Individual;
    Ok(CleanInput {
        input: EntityInput {
            kind,
            trust_type: input.trust_type,
            name,
            first_name: first_name.filter(|_| is_individual),
            middle_name: middle_name.filter(|_| is_individual),
            last_name: last_name.filter(|_| is_individual),
            other_name: tidy(&input.other_name).filter(|_| is_individual),
            date_of_birth: input.date_of_birth,
            date_of_death: input.date_of_death,
            abn: digits("ABN", &input.abn, 11)?,
            acn: digits("ACN", &input.acn, 9)?,
            tfn: None,
            email: tidy(&input.email),
            phone: tidy(&input.phone),
            address: tidy(&input.address),
            postal_address: tidy(&input.postal_address),
            status: Some(status),
            notes,
        },
        status,
        tfn,
    })
}

/// Converts a stored row into the public shape (TFN masked).
pub fn to_entity(m: entity::Model, group_ids: Vec<i32>) -> Entity {
    Entity {
        id: m.id,
        kind: m.kind,
        trust_type: m.trust_type,
        name: m.name,
        first_name: m.first_name,
        middle_name: m.middle_name,
        last_name: m.last_name,
        other_name: m.other_name,
        date_of_birth: m.date_of_birth,
        date_of_death: m.date_of_death,
        abn: m.abn,
        acn: m.acn,
        tfn_masked: m.tfn_last3.as_deref().map(tfn::mask),
        email: m.email,
        phone: m.phone,
        address: m.address,
        postal_address: m.postal_address,
        status: m.status,
        notes: m.notes,
        group_ids,
    }
}

async fn group_ids_of<C: ConnectionTrait>(
    db: &C,
    entity_ids: Vec<i32>,
) -> Result<HashMap<i32, Vec<i32>>> {
    let mut map: HashMap<i32, Vec<i32>> = HashMap::new();
    for m in group_member::Entity::find()
        .filter(group_member::Column::EntityId.is_in(entity_ids))
        .order_by_asc(group_member::Column::GroupId)
        .all(db)
        .await?
    {
        map.entry(m.entity_id).or_default().push(m.group_id);
    }
    Ok(map)
}

/// Entities of the organisation ordered by name: all of them, or a group's members.
///
/// # Errors
/// [`Error::NotFound`] if the group does not exist.
pub async fn list(db: &DatabaseConnection, org: OrgId, group: Option<i32>) -> Result<Vec<Entity>> {
    let mut query = entity::Entity::find()
        .filter(entity::Column::OrganisationId.eq(org.0))
        .order_by_asc(entity::Column::Name)
        .order_by_asc(entity::Column::Id);
    if let Some(group_id) = group {
        groups::get(db, org, group_id).await?;
        let ids: Vec<i32> = group_member::Entity::find()
            .filter(group_member::Column::GroupId.eq(group_id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.entity_id)
            .collect();
        query = query.filter(entity::Column::Id.is_in(ids));
    }
    let rows = query.all(db).await?;
    let mut groups_of = group_ids_of(db, rows.iter().map(|e| e.id).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let ids = groups_of.remove(&m.id).unwrap_or_default();
            to_entity(m, ids)
        })
        .collect())
}

/// The stored row of an entity of the organisation.
///
/// # Errors
/// [`Error::NotFound`] if there is none.
pub async fn get_row<C: ConnectionTrait>(db: &C, org: OrgId, id: i32) -> Result<entity::Model> {
    entity::Entity::find_by_id(id)
        .filter(entity::Column::OrganisationId.eq(org.0))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Entity {id} does not exist.")))
}

/// One entity of the organisation.
///
/// # Errors
/// [`Error::NotFound`] if there is none.
pub async fn get<C: ConnectionTrait>(db: &C, org: OrgId, id: i32) -> Result<Entity> {
    let row = get_row(db, org, id).await?;
    let ids = group_ids_of(db, vec![id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(to_entity(row, ids))
}

/// Creates an entity and adds it to `group_ids`, all in one transaction.
///
/// # Errors
/// [`Error::Validation`] for bad input, [`Error::NotFound`] for an unknown group; nothing is
/// written in either case.
pub async fn create(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    input: &EntityInput,
    group_ids: &[i32],
    now: DateTime<Utc>,
) -> Result<Entity> {
    let txn = db.begin().await?;
    let id = insert(&txn, org, cipher, input, now).await?;
    for &group_id in group_ids {
        groups::get(&txn, org, group_id).await?;
        groups::add_member(&txn, group_id, id, None, None).await?;
    }
    let entity = get(&txn, org, id).await?;
    txn.commit().await?;
    Ok(entity)
}

/// Validates and inserts one entity inside the caller's transaction; returns its id.
pub(crate) async fn insert<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    cipher: &TfnCipher,
    input: &EntityInput,
    now: DateTime<Utc>,
) -> Result<i32> {
    let clean = normalise_input(input)?;
    let mut row = entity::ActiveModel {
        organisation_id: Set(org.0),
        created_at: Set(now),
        ..Default::default()
    };
    apply(&mut row, &clean, cipher, now);
    let row = row.insert(db).await?;
    audit::record(db, org, "create", "entity", Some(row.id), &row.name, now).await?;
    Ok(row.id)
}

fn apply(
    row: &mut entity::ActiveModel,
    clean: &CleanInput,
    cipher: &TfnCipher,
    now: DateTime<Utc>,
) {
    let i = &clean.input;
    row.kind = Set(i.kind);
    row.trust_type = Set(i.trust_type);
    row.name = Set(i.name.clone());
    row.first_name = Set(i.first_name.clone());
    row.middle_name = Set(i.middle_name.clone());
    row.last_name = Set(i.last_name.clone());
    row.other_name = Set(i.other_name.clone());
    row.date_of_birth = Set(i.date_of_birth);
    row.date_of_death = Set(i.date_of_death);
    row.abn = Set(i.abn.clone());
    row.acn = Set(i.acn.clone());
    row.email = Set(i.email.clone());
    row.phone = Set(i.phone.clone());
    row.address = Set(i.address.clone());
    row.postal_address = Set(i.postal_address.clone());
    row.status = Set(clean.status);
    row.notes = Set(i.notes.clone());
    row.updated_at = Set(now);
    match &clean.tfn {
        TfnChange::Keep => {
            if row.tfn_sealed.is_not_set() {
                row.tfn_sealed = Set(None);
                row.tfn_last3 = Set(None);
            }
        }
        TfnChange::Clear => {
            row.tfn_sealed = Set(None);
            row.tfn_last3 = Set(None);
        }
        TfnChange::Set(tfn) => {
            row.tfn_sealed = Set(Some(cipher.seal(tfn)));
            row.tfn_last3 = Set(Some(tfn[tfn.len() - 3..].to_owned()));
        }
    }
}

/// Updates an entity's fields. Its kind cannot change.
///
/// # Errors
/// [`Error::Validation`] for bad input or a change of kind, [`Error::NotFound`].
pub async fn update(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    id: i32,
    input: &EntityInput,
    now: DateTime<Utc>,
) -> Result<Entity> {
    let txn = db.begin().await?;
    update_in(&txn, org, cipher, id, input, now).await?;
    let entity = get(&txn, org, id).await?;
    txn.commit().await?;
    Ok(entity)
}

/// Validates and applies an update inside the caller's transaction (also used by the XPM pull).
pub(crate) async fn update_in<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    cipher: &TfnCipher,
    id: i32,
    input: &EntityInput,
    now: DateTime<Utc>,
) -> Result<()> {
    let clean = normalise_input(input)?;
    let row = get_row(db, org, id).await?;
    if row.kind != input.kind {
        return Err(Error::Validation(format!(
            "An entity's type cannot change ({} to {}); create a new entity instead.",
            row.kind.label(),
            input.kind.label()
        )));
    }
    let mut active = row.into_active_model();
    apply(&mut active, &clean, cipher, now);
    let row = active.update(db).await?;
    audit::record(db, org, "update", "entity", Some(id), &row.name, now).await?;
    Ok(())
}

/// Deletes an entity with its memberships and every relationship it is part of.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn delete(
    db: &DatabaseConnection,
    org: OrgId,
    id: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    let row = get_row(&txn, org, id).await?;
    relationship::Entity::delete_many()
        .filter(
            Condition::any()
                .add(relationship::Column::FromEntityId.eq(id))
                .add(relationship::Column::ToEntityId.eq(id)),
        )
        .exec(&txn)
        .await?;
    group_member::Entity::delete_many()
        .filter(group_member::Column::EntityId.eq(id))
        .exec(&txn)
        .await?;
    entity::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(&txn, org, "delete", "entity", Some(id), &row.name, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Whether any entity in the database (any organisation) holds a sealed TFN: then the key that
/// sealed it must be found, never replaced.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn any_sealed_tfn(db: &DatabaseConnection) -> Result<bool> {
    Ok(entity::Entity::find()
        .filter(entity::Column::TfnSealed.is_not_null())
        .one(db)
        .await?
        .is_some())
}

/// The clear TFN of an entity, for code that must send it on (never for display).
///
/// # Errors
/// [`Error::NotFound`], or [`Error::Crypto`] if the sealed value cannot be opened.
pub async fn reveal_tfn(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    id: i32,
) -> Result<Option<String>> {
    let row = get_row(db, org, id).await?;
    row.tfn_sealed
        .as_deref()
        .map(|s| cipher.open(s))
        .transpose()
}
