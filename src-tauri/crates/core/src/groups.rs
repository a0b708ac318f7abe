//! Groups (product-spec §2.2): create, rename, delete, list with counts, and membership.
//!
//! Deleting a group or removing an entity from it changes membership only; entities are never
//! deleted with their group.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::audit;
use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::model::GroupSummary;
use crate::schema::{entity, group, group_member, relationship};

/// Longest group name accepted, in characters.
pub const MAX_NAME_LEN: usize = 200;

/// Every group of the organisation, ordered by name, with member and relationship counts.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn list(db: &DatabaseConnection, org: OrgId) -> Result<Vec<GroupSummary>> {
    let groups = group::Entity::find()
        .filter(group::Column::OrganisationId.eq(org.0))
        .order_by_asc(group::Column::Name)
        .all(db)
        .await?;
    let ids: Vec<i32> = groups.iter().map(|g| g.id).collect();
    let members = group_member::Entity::find()
        .filter(group_member::Column::GroupId.is_in(ids))
        .all(db)
        .await?;
    let relationships = relationship::Entity::find()
        .filter(relationship::Column::OrganisationId.eq(org.0))
        .all(db)
        .await?;
    let mut by_group: HashMap<i32, HashSet<i32>> = HashMap::new();
    for m in members {
        by_group.entry(m.group_id).or_default().insert(m.entity_id);
    }
    Ok(groups
        .into_iter()
        .map(|g| {
            let members = by_group.remove(&g.id).unwrap_or_default();
            let relationship_count = relationships
                .iter()
                .filter(|r| {
                    members.contains(&r.from_entity_id) && members.contains(&r.to_entity_id)
                })
                .count();
            summary(&g, members.len(), relationship_count)
        })
        .collect())
}

fn summary(g: &group::Model, entity_count: usize, relationship_count: usize) -> GroupSummary {
    GroupSummary {
        id: g.id,
        name: g.name.clone(),
        entity_count: u32::try_from(entity_count).unwrap_or(u32::MAX),
        relationship_count: u32::try_from(relationship_count).unwrap_or(u32::MAX),
        updated_at: g.updated_at,
    }
}

/// The group with this id in the organisation.
///
/// # Errors
/// [`Error::NotFound`] if there is none.
pub async fn get<C: ConnectionTrait>(db: &C, org: OrgId, id: i32) -> Result<group::Model> {
    group::Entity::find_by_id(id)
        .filter(group::Column::OrganisationId.eq(org.0))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Group {id} does not exist.")))
}

/// Finds a group by id (all digits) or else by exact name, as the command line names groups.
///
/// # Errors
/// [`Error::NotFound`] naming what was looked for.
pub async fn find(db: &DatabaseConnection, org: OrgId, id_or_name: &str) -> Result<group::Model> {
    if let Ok(id) = id_or_name.parse::<i32>() {
        if let Ok(g) = get(db, org, id).await {
            return Ok(g);
        }
    }
    group::Entity::find()
        .filter(group::Column::OrganisationId.eq(org.0))
        .filter(group::Column::Name.eq(id_or_name))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "No group is called \u{201c}{id_or_name}\u{201d}. List groups with `structuregram groups`."
            ))
        })
}

/// Checks and trims a group name.
fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Validation("Enter a group name.".into()));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Validation(
            crate::entities::CONTROL_CHARACTERS.into(),
        ));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Error::Validation(format!(
            "A group name may have at most {MAX_NAME_LEN} characters."
        )));
    }
    Ok(name.to_owned())
}

async fn ensure_name_free<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    name: &str,
    except: Option<i32>,
) -> Result<()> {
    let clash = group::Entity::find()
        .filter(group::Column::OrganisationId.eq(org.0))
        .filter(group::Column::Name.eq(name))
        .one(db)
        .await?;
    match clash {
        Some(g) if Some(g.id) != except => Err(Error::Conflict(format!(
            "A group named \u{201c}{name}\u{201d} already exists. Choose another name."
        ))),
        _ => Ok(()),
    }
}

/// Creates an empty group.
///
/// # Errors
/// [`Error::Validation`] for an empty or over-long name, [`Error::Conflict`] if the name is taken.
pub async fn create(
    db: &DatabaseConnection,
    org: OrgId,
    name: &str,
    now: DateTime<Utc>,
) -> Result<GroupSummary> {
    let txn = db.begin().await?;
    let g = insert(&txn, org, name, now).await?;
    txn.commit().await?;
    Ok(summary(&g, 0, 0))
}

/// Inserts a group inside the caller's transaction (also used by import and the demo).
pub(crate) async fn insert<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    name: &str,
    now: DateTime<Utc>,
) -> Result<group::Model> {
    let name = clean_name(name)?;
    ensure_name_free(db, org, &name, None).await?;
    let g = group::ActiveModel {
        organisation_id: Set(org.0),
        name: Set(name.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(db, org, "create", "group", Some(g.id), &name, now).await?;
    Ok(g)
}

/// Renames a group.
///
/// # Errors
/// As [`create`], plus [`Error::NotFound`].
pub async fn rename(
    db: &DatabaseConnection,
    org: OrgId,
    id: i32,
    name: &str,
    now: DateTime<Utc>,
) -> Result<GroupSummary> {
    let name = clean_name(name)?;
    let txn = db.begin().await?;
    let g = get(&txn, org, id).await?;
    ensure_name_free(&txn, org, &name, Some(id)).await?;
    let old = g.name.clone();
    let mut active = g.into_active_model();
    active.name = Set(name.clone());
    active.updated_at = Set(now);
    active.update(&txn).await?;
    audit::record(
        &txn,
        org,
        "rename",
        "group",
        Some(id),
        &format!("{old} → {name}"),
        now,
    )
    .await?;
    txn.commit().await?;
    let summaries = list(db, org).await?;
    summaries
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| Error::NotFound(format!("Group {id} does not exist.")))
}

/// Deletes a group and its memberships; its entities stay (they become ungrouped if they were in
/// no other group).
///
/// # Errors
/// [`Error::NotFound`] if the group does not exist.
pub async fn delete(
    db: &DatabaseConnection,
    org: OrgId,
    id: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    let g = get(&txn, org, id).await?;
    group_member::Entity::delete_many()
        .filter(group_member::Column::GroupId.eq(id))
        .exec(&txn)
        .await?;
    group::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(&txn, org, "delete", "group", Some(id), &g.name, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Makes `entity_ids` exactly the group's members: adds the missing, removes the others, keeps
/// the join and exit dates of those that stay. The Assign Entities dialog.
///
/// # Errors
/// [`Error::NotFound`] if the group or any entity is not in the organisation; nothing changes.
pub async fn set_members(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    entity_ids: &[i32],
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    let g = get(&txn, org, group_id).await?;
    let wanted: HashSet<i32> = entity_ids.iter().copied().collect();
    let known: HashSet<i32> = entity::Entity::find()
        .filter(entity::Column::OrganisationId.eq(org.0))
        .filter(entity::Column::Id.is_in(wanted.iter().copied()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    if let Some(missing) = wanted.iter().find(|id| !known.contains(id)) {
        return Err(Error::NotFound(format!("Entity {missing} does not exist.")));
    }
    let current: HashSet<i32> = group_member::Entity::find()
        .filter(group_member::Column::GroupId.eq(group_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.entity_id)
        .collect();
    let to_remove: Vec<i32> = current.difference(&wanted).copied().collect();
    if !to_remove.is_empty() {
        group_member::Entity::delete_many()
            .filter(group_member::Column::GroupId.eq(group_id))
            .filter(group_member::Column::EntityId.is_in(to_remove))
            .exec(&txn)
            .await?;
    }
    let mut to_add: Vec<i32> = wanted.difference(&current).copied().collect();
    to_add.sort_unstable();
    for entity_id in to_add {
        add_member(&txn, group_id, entity_id, None, None).await?;
    }
    let mut active = g.into_active_model();
    active.updated_at = Set(now);
    active.update(&txn).await?;
    audit::record(
        &txn,
        org,
        "assign",
        "group",
        Some(group_id),
        &format!("{} members", wanted.len()),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Adds one membership inside the caller's transaction.
pub(crate) async fn add_member<C: ConnectionTrait>(
    db: &C,
    group_id: i32,
    entity_id: i32,
    join_date: Option<chrono::NaiveDate>,
    exit_date: Option<chrono::NaiveDate>,
) -> Result<()> {
    if let (Some(join), Some(exit)) = (join_date, exit_date) {
        if exit < join {
            return Err(Error::Validation(format!(
                "The group exit date ({exit}) must be after the join date ({join})."
            )));
        }
    }
    group_member::ActiveModel {
        group_id: Set(group_id),
        entity_id: Set(entity_id),
        join_date: Set(join_date),
        exit_date: Set(exit_date),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
