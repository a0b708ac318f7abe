//! The group document: a stable JSON form of one group for scripting, backup and exchange
//! (`structuregram export` / `structuregram import`).
//!
//! Shape (format `"structuregram.group/1"`; fields in this order, `null` for empty values):
//!
//! ```json
//! {
//!   "format": "structuregram.group/1",
//!   "group": { "name": "Nguyen Family Group" },
//!   "entities": [
//!     { "key": "e1", "kind": "individual", "trustType": null, "name": "Minh Nguyen",
//!       "firstName": "Minh", …, "status": "active", "notes": null,
//!       "joinDate": null, "exitDate": null }
//!   ],
//!   "relationships": [
//!     { "kind": "director", "from": "e1", "to": "e3", "shares": null, "shareClass": null,
//!       "percentage": null, "startDate": "2012-07-01", "endDate": null, "label": null }
//!   ]
//! }
//! ```
//!
//! Entities are the group's members in id order, keyed `e1`, `e2`, … by position; relationships
//! are those with both ends in the group, in id order. TFNs are never exported. Importing a
//! document and exporting the new group gives the same bytes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::model::{
    EntityInput, EntityKind, EntityStatus, RelationshipInput, RelationshipKind, TrustType,
};
use crate::schema::{entity, group_member};
use crate::tfn::TfnCipher;
use crate::{entities, groups, relationships};

/// The format tag written into, and required of, every document.
pub const FORMAT: &str = "structuregram.group/1";

/// A whole group document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// The group itself.
    pub group: GroupPart,
    /// Member entities, keyed for the relationships.
    pub entities: Vec<EntityPart>,
    /// Relationships between members.
    pub relationships: Vec<RelationshipPart>,
}

/// The group's own fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupPart {
    /// Group name.
    pub name: String,
}

/// One member entity with its membership dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(missing_docs)]
pub struct EntityPart {
    /// Document-local key, `e1`, `e2` …
    pub key: String,
    pub kind: EntityKind,
    pub trust_type: Option<TrustType>,
    pub name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub other_name: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub date_of_death: Option<NaiveDate>,
    pub abn: Option<String>,
    pub acn: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub postal_address: Option<String>,
    pub status: EntityStatus,
    pub notes: Option<String>,
    /// Group join date.
    pub join_date: Option<NaiveDate>,
    /// Group exit date.
    pub exit_date: Option<NaiveDate>,
}

/// One relationship, its ends named by entity key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(missing_docs)]
pub struct RelationshipPart {
    pub kind: RelationshipKind,
    /// Key of the source entity.
    pub from: String,
    /// Key of the target entity.
    pub to: String,
    pub shares: Option<i64>,
    pub share_class: Option<String>,
    pub percentage: Option<f64>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub label: Option<String>,
}

impl GroupDocument {
    /// Pretty JSON with a final newline: the exact bytes `structuregram export` prints.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("documents always serialise");
        text.push('\n');
        text
    }

    /// Parses a document, checking its format tag.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the line and column of a syntax error, or a wrong format.
    pub fn from_json(text: &str) -> Result<Self> {
        let doc: Self = serde_json::from_str(text).map_err(|e| {
            Error::Validation(format!("This is not a StructureGram group file: {e}."))
        })?;
        if doc.format != FORMAT {
            return Err(Error::Validation(format!(
                "Unsupported group file format \u{201c}{}\u{201d}; expected \u{201c}{FORMAT}\u{201d}.",
                doc.format
            )));
        }
        Ok(doc)
    }
}

/// Builds the document of a group.
///
/// # Errors
/// [`Error::NotFound`] if the group does not exist.
pub async fn export(db: &DatabaseConnection, org: OrgId, group_id: i32) -> Result<GroupDocument> {
    let group = groups::get(db, org, group_id).await?;
    let members: HashMap<i32, group_member::Model> = group_member::Entity::find()
        .filter(group_member::Column::GroupId.eq(group_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.entity_id, m))
        .collect();
    let rows = entity::Entity::find()
        .filter(entity::Column::Id.is_in(members.keys().copied()))
        .order_by_asc(entity::Column::Id)
        .all(db)
        .await?;
    let keys: HashMap<i32, String> = rows
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, format!("e{}", i + 1)))
        .collect();
    let entities = rows
        .into_iter()
        .map(|e| {
            let m = &members[&e.id];
            EntityPart {
                key: keys[&e.id].clone(),
                kind: e.kind,
                trust_type: e.trust_type,
                name: e.name,
                first_name: e.first_name,
                middle_name: e.middle_name,
                last_name: e.last_name,
                other_name: e.other_name,
                date_of_birth: e.date_of_birth,
                date_of_death: e.date_of_death,
                abn: e.abn,
                acn: e.acn,
                email: e.email,
                phone: e.phone,
                address: e.address,
                postal_address: e.postal_address,
                status: e.status,
                notes: e.notes,
                join_date: m.join_date,
                exit_date: m.exit_date,
            }
        })
        .collect();
    let ids: Vec<i32> = keys.keys().copied().collect();
    let relationships = relationships::touching(db, org, &ids)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(RelationshipPart {
                kind: r.kind,
                from: keys.get(&r.from_entity_id)?.clone(),
                to: keys.get(&r.to_entity_id)?.clone(),
                shares: r.shares,
                share_class: r.share_class,
                percentage: r.percentage,
                start_date: r.start_date,
                end_date: r.end_date,
                label: r.label,
            })
        })
        .collect();
    Ok(GroupDocument {
        format: FORMAT.to_owned(),
        group: GroupPart { name: group.name },
        entities,
        relationships,
    })
}

/// Creates a new group from a document, in one transaction: all of it or nothing.
///
/// # Errors
/// [`Error::Conflict`] if a group of that name exists; [`Error::Validation`] for an entity or
/// relationship that breaks a rule (the message says which one) or a relationship naming an
/// unknown key.
pub async fn import(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    doc: &GroupDocument,
    now: DateTime<Utc>,
) -> Result<i32> {
    let txn = db.begin().await?;
    let group = groups::insert(&txn, org, &doc.group.name, now).await?;
    let mut ids: HashMap<&str, i32> = HashMap::new();
    for e in &doc.entities {
        if ids.contains_key(e.key.as_str()) {
            return Err(Error::Validation(format!(
                "Entity key {} appears twice.",
                e.key
            )));
        }
        let input = EntityInput {
            kind: e.kind,
            trust_type: e.trust_type,
            name: e.name.clone(),
            first_name: e.first_name.clone(),
            middle_name: e.middle_name.clone(),
            last_name: e.last_name.clone(),
            other_name: e.other_name.clone(),
            date_of_birth: e.date_of_birth,
            date_of_death: e.date_of_death,
            abn: e.abn.clone(),
            acn: e.acn.clone(),
            tfn: None,
            email: e.email.clone(),
            phone: e.phone.clone(),
            address: e.address.clone(),
            postal_address: e.postal_address.clone(),
            status: Some(e.status),
            notes: e.notes.clone(),
        };
        let id = entities::insert(&txn, org, cipher, &input, now)
            .await
            .map_err(|err| in_context(err, &format!("Entity {} ({})", e.key, shorten(&e.name))))?;
        groups::add_member(&txn, group.id, id, e.join_date, e.exit_date).await?;
        ids.insert(&e.key, id);
    }
    for (i, r) in doc.relationships.iter().enumerate() {
        let end = |key: &str| {
            ids.get(key).copied().ok_or_else(|| {
                Error::Validation(format!(
                    "Relationship {} names unknown entity {key}.",
                    i + 1
                ))
            })
        };
        let input = RelationshipInput {
            kind: r.kind,
            from_id: end(&r.from)?,
            to_id: end(&r.to)?,
            shares: r.shares,
            share_class: r.share_class.clone(),
            percentage: r.percentage,
            start_date: r.start_date,
            end_date: r.end_date,
            label: r.label.clone(),
        };
        relationships::insert(&txn, org, &input, now)
            .await
            .map_err(|err| {
                in_context(
                    err,
                    &format!("Relationship {} ({} → {})", i + 1, r.from, r.to),
                )
            })?;
    }
    txn.commit().await?;
    Ok(group.id)
}

/// At most 60 characters of a name, for messages (a pasted 10 MB name must not fill the screen).
fn shorten(name: &str) -> String {
    match name.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_owned(),
    }
}

fn in_context(err: Error, what: &str) -> Error {
    match err {
        Error::Validation(msg) => Error::Validation(format!("{what}: {msg}")),
        other => other,
    }
}
