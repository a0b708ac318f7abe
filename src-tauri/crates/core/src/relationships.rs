//! Relationships (product-spec §4): list, create, update, delete, each checked by
//! [`crate::rules`] inside the transaction that writes it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::audit;
use crate::db::OrgId;
use crate::entities;
use crate::error::{Error, Result};
use crate::groups;
use crate::model::{Relationship, RelationshipInput};
use crate::rules::{self, Neighbour, Party};
use crate::schema::{entity, group_member, relationship};

/// Converts a stored row into the public shape.
pub fn to_relationship(m: relationship::Model) -> Relationship {
    Relationship {
        id: m.id,
        details: RelationshipInput {
            kind: m.kind,
            from_id: m.from_entity_id,
            to_id: m.to_entity_id,
            shares: m.shares,
            share_class: m.share_class,
            percentage: m.percentage,
            start_date: m.start_date,
            end_date: m.end_date,
            label: m.label,
        },
    }
}

/// Every relationship touching a member of the group, ordered by id.
///
/// # Errors
/// [`Error::NotFound`] if the group does not exist.
pub async fn list_for_group(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
) -> Result<Vec<Relationship>> {
    groups::get(db, org, group_id).await?;
    let members: Vec<i32> = group_member::Entity::find()
        .filter(group_member::Column::GroupId.eq(group_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.entity_id)
        .collect();
    Ok(touching(db, org, &members)
        .await?
        .into_iter()
        .map(to_relationship)
        .collect())
}

/// Stored relationships with either end among `entity_ids`, ordered by id.
pub(crate) async fn touching<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    entity_ids: &[i32],
) -> Result<Vec<relationship::Model>> {
    Ok(relationship::Entity::find()
        .filter(relationship::Column::OrganisationId.eq(org.0))
        .filter(
            Condition::any()
                .add(relationship::Column::FromEntityId.is_in(entity_ids.iter().copied()))
                .add(relationship::Column::ToEntityId.is_in(entity_ids.iter().copied())),
        )
        .order_by_asc(relationship::Column::Id)
        .all(db)
        .await?)
}

fn party(m: &entity::Model) -> Party {
    Party {
        id: m.id,
        name: m.name.clone(),
        kind: m.kind,
        trust_type: m.trust_type,
    }
}

fn tidy(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Runs the rules for `input` against the database inside the caller's transaction.
async fn validate<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    input: &RelationshipInput,
    except: Option<i32>,
) -> Result<()> {
    let from = entities::get_row(db, org, input.from_id).await?;
    let to = entities::get_row(db, org, input.to_id).await?;
    let nearby: Vec<relationship::Model> = touching(db, org, &[input.from_id, input.to_id])
        .await?
        .into_iter()
        .filter(|r| Some(r.id) != except)
        .collect();
    let source_ids: Vec<i32> = nearby.iter().map(|r| r.from_entity_id).collect();
    let kinds: HashMap<i32, crate::model::EntityKind> = entity::Entity::find()
        .filter(entity::Column::Id.is_in(source_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.kind))
        .collect();
    let neighbours: Vec<Neighbour> = nearby
        .into_iter()
        .filter_map(|r| {
            Some(Neighbour {
                kind: r.kind,
                from_id: r.from_entity_id,
                to_id: r.to_entity_id,
                from_kind: *kinds.get(&r.from_entity_id)?,
                share_class: r.share_class,
                label: r.label,
                percentage: r.percentage,
                start_date: r.start_date,
                end_date: r.end_date,
            })
        })
        .collect();
    rules::check(input, &party(&from), &party(&to), &neighbours).map_err(Error::Validation)
}

fn clean(input: &RelationshipInput) -> RelationshipInput {
    RelationshipInput {
        share_class: tidy(&input.share_class),
        label: tidy(&input.label),
        ..input.clone()
    }
}

fn fill(row: &mut relationship::ActiveModel, input: &RelationshipInput, now: DateTime<Utc>) {
    row.kind = Set(input.kind);
    row.from_entity_id = Set(input.from_id);
    row.to_entity_id = Set(input.to_id);
    row.shares = Set(input.shares);
    row.share_class = Set(input.share_class.clone());
    row.percentage = Set(input.percentage);
    row.start_date = Set(input.start_date);
    row.end_date = Set(input.end_date);
    row.label = Set(input.label.clone());
    row.updated_at = Set(now);
}

/// Creates a relationship after checking every rule.
///
/// # Errors
/// [`Error::Validation`] naming the broken rule, [`Error::NotFound`] for an unknown entity.
pub async fn create(
    db: &DatabaseConnection,
    org: OrgId,
    input: &RelationshipInput,
    now: DateTime<Utc>,
) -> Result<Relationship> {
    let txn = db.begin().await?;
    let created = insert(&txn, org, input, now).await?;
    txn.commit().await?;
    Ok(created)
}

/// Validates and inserts inside the caller's transaction (also used by import and the demo).
pub(crate) async fn insert<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    input: &RelationshipInput,
    now: DateTime<Utc>,
) -> Result<Relationship> {
    let input = clean(input);
    validate(db, org, &input, None).await?;
    let mut row = relationship::ActiveModel {
        organisation_id: Set(org.0),
        created_at: Set(now),
        ..Default::default()
    };
    fill(&mut row, &input, now);
    let row = row.insert(db).await?;
    audit::record(
        db,
        org,
        "create",
        "relationship",
        Some(row.id),
        row.kind.label(),
        now,
    )
    .await?;
    Ok(to_relationship(row))
}

/// Changes a relationship after checking every rule against the others.
///
/// # Errors
/// As [`create`].
pub async fn update(
    db: &DatabaseConnection,
    org: OrgId,
    id: i32,
    input: &RelationshipInput,
    now: DateTime<Utc>,
) -> Result<Relationship> {
    let txn = db.begin().await?;
    let updated = update_in(&txn, org, id, input, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Validates and applies an update inside the caller's transaction (also used by the XPM pull).
pub(crate) async fn update_in<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    id: i32,
    input: &RelationshipInput,
    now: DateTime<Utc>,
) -> Result<Relationship> {
    let input = clean(input);
    let row = get_row(db, org, id).await?;
    validate(db, org, &input, Some(id)).await?;
    let mut active = row.into_active_model();
    fill(&mut active, &input, now);
    let row = active.update(db).await?;
    audit::record(
        db,
        org,
        "update",
        "relationship",
        Some(id),
        row.kind.label(),
        now,
    )
    .await?;
    Ok(to_relationship(row))
}

pub(crate) async fn get_row<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    id: i32,
) -> Result<relationship::Model> {
    relationship::Entity::find_by_id(id)
        .filter(relationship::Column::OrganisationId.eq(org.0))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Relationship {id} does not exist.")))
}

/// Deletes a relationship.
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
    relationship::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        org,
        "delete",
        "relationship",
        Some(id),
        row.kind.label(),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
