//! Group links (issue 7, product-spec §8.3): a StructureGram group linked one-to-one to an XPM
//! client group from the discovery catalog ([`crate::discovery`]).
//!
//! Rules: an XPM group links to at most one StructureGram group and a StructureGram group to at
//! most one XPM group — enforced by the unique indexes of `xpm_group_link` *and* here, with
//! messages that name the other side (two links racing for one XPM group: one wins, the other
//! gets the same message as if it had come second). Linking never syncs (no XPM call); unlinking
//! deletes only the link — the group, its entities and their XPM mappings stay, so linking
//! again and pulling does not duplicate anything.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit;
use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::groups;
use crate::schema::{group, xpm_group, xpm_group_link};

/// A link as the group's XPM tab shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GroupLink {
    /// The StructureGram group.
    pub group_id: i32,
    /// Its name.
    pub group_name: String,
    /// The XPM tenant id.
    pub tenant_id: String,
    /// The XPM group's UUID (lower case).
    pub xpm_uuid: String,
    /// The XPM group's name from the catalog (`None` if the catalog no longer lists it).
    pub xpm_name: Option<String>,
    /// Set when the XPM group was missing at the last discovery refresh.
    pub xpm_missing_since: Option<DateTime<Utc>>,
    /// When the link was made.
    pub linked_at: DateTime<Utc>,
    /// When the group was last pulled from XPM (`None`: never).
    pub last_pull_at: Option<DateTime<Utc>>,
}

/// Calls and time an import of several groups would take (the Import Groups page's estimate).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportEstimate {
    /// XPM calls for the first pull of every selected group.
    pub calls: u32,
    /// Minutes at XPM's 60 calls per minute, rounded up.
    pub minutes: u32,
    /// Share of the tenant's 5,000-call day, in percent, rounded up.
    pub day_budget_percent: u32,
    /// Whether the calls exceed one day's budget (the import would stop until the next day).
    pub exceeds_day_budget: bool,
    /// The guide's advice, to show under the numbers.
    pub advice: String,
}

/// XPM calls allowed per tenant per minute (xpm-api.md §4).
pub const CALLS_PER_MINUTE: u32 = 60;
/// XPM calls allowed per tenant per day (xpm-api.md §4; 1,000 on the Starter tier).
pub const CALLS_PER_DAY: u32 = 5_000;

/// Estimates the first pull of `n_groups` groups of about `avg_clients` members each, under
/// XPM's limits (xpm-api.md §4, §6): each group costs one `clientgroup.api/get` plus either one
/// `client.api/get` per member, or — from [`crate::pull::DETAILED_LIST_FROM`] members up — one
/// `client.api/list?detailed=true` (the plan [`crate::pull::pull`] uses). Related clients
/// outside the groups add one call each and are not counted.
pub fn estimate(n_groups: u32, avg_clients: u32) -> ImportEstimate {
    let per_group = if avg_clients as usize >= crate::pull::DETAILED_LIST_FROM {
        2
    } else {
        1 + avg_clients
    };
    let calls = n_groups.saturating_mul(per_group);
    ImportEstimate {
        calls,
        minutes: calls.div_ceil(CALLS_PER_MINUTE),
        day_budget_percent: calls.saturating_mul(100).div_ceil(CALLS_PER_DAY),
        exceeds_day_budget: calls > CALLS_PER_DAY,
        advice: "Import only the groups you need now: every group's first pull reads each of its \
                 clients from XPM, and XPM allows 60 calls a minute and 5,000 a day for the whole \
                 practice (1,000 on the Starter plan)."
            .into(),
    }
}

fn normalise_uuid(xpm_uuid: &str) -> Result<String> {
    uuid::Uuid::parse_str(xpm_uuid.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| {
            Error::Validation(format!(
                "\u{201c}{xpm_uuid}\u{201d} is not an XPM group id (a UUID such as 00000000-aaaa-4bbb-8ccc-0000000000f1)."
            ))
        })
}

/// The catalog row of an XPM group (latest tenant first), or a message saying to refresh.
async fn catalog_row<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    xpm_uuid: &str,
) -> Result<xpm_group::Model> {
    xpm_group::Entity::find()
        .filter(xpm_group::Column::OrganisationId.eq(org.0))
        .filter(xpm_group::Column::XpmUuid.eq(xpm_uuid))
        .order_by_desc(xpm_group::Column::RefreshedAt)
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "XPM group {xpm_uuid} is not in the list of XPM groups. Refresh the list on the Import Groups page and try again."
            ))
        })
}

async fn group_name<C: ConnectionTrait>(db: &C, group_id: i32) -> Result<String> {
    Ok(group::Entity::find_by_id(group_id)
        .one(db)
        .await?
        .map(|g| g.name)
        .unwrap_or_else(|| format!("group {group_id}")))
}

/// `Some(Conflict)` when the XPM group or the StructureGram group is already linked.
async fn taken<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    row: &xpm_group::Model,
    group_id: Option<i32>,
) -> Result<Option<Error>> {
    if let Some(link) = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::TenantId.eq(&row.tenant_id))
        .filter(xpm_group_link::Column::XpmUuid.eq(&row.xpm_uuid))
        .one(db)
        .await?
    {
        let other = group_name(db, link.group_id).await?;
        return Ok(Some(Error::Conflict(format!(
            "XPM group \u{201c}{}\u{201d} is already linked to the group \u{201c}{other}\u{201d}. An XPM group links to one group only; unlink it there first.",
            row.name
        ))));
    }
    if let Some(group_id) = group_id {
        if let Some(link) = xpm_group_link::Entity::find()
            .filter(xpm_group_link::Column::GroupId.eq(group_id))
            .one(db)
            .await?
        {
            let name = group_name(db, group_id).await?;
            let xpm_name = xpm_group::Entity::find()
                .filter(xpm_group::Column::OrganisationId.eq(org.0))
                .filter(xpm_group::Column::XpmUuid.eq(&link.xpm_uuid))
                .one(db)
                .await?
                .map(|g| g.name)
                .unwrap_or(link.xpm_uuid);
            return Ok(Some(Error::Conflict(format!(
                "The group \u{201c}{name}\u{201d} is already linked to XPM group \u{201c}{xpm_name}\u{201d}. A group links to one XPM group only; unlink it first."
            ))));
        }
    }
    Ok(None)
}

/// A group name for an XPM group's name: the same name if free, else the name followed by
/// "(XPM)", "(XPM 2)", … so the user sees where the new group came from.
async fn free_name<C: ConnectionTrait>(db: &C, org: OrgId, xpm_name: &str) -> Result<String> {
    let cleaned: String = xpm_name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut base: String = cleaned.trim().to_owned();
    if base.is_empty() {
        base = "XPM group".into();
    }
    // Leave room for the longest suffix we add.
    let base: String = base.chars().take(groups::MAX_NAME_LEN - 12).collect();
    let taken: std::collections::HashSet<String> = group::Entity::find()
        .filter(group::Column::OrganisationId.eq(org.0))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    if !taken.contains(&base) {
        return Ok(base);
    }
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            format!("{base} (XPM)")
        } else {
            format!("{base} (XPM {n})")
        };
        if !taken.contains(&candidate) {
            return Ok(candidate);
        }
        n += 1;
    }
}

async fn insert_link<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    row: &xpm_group::Model,
    group_id: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    xpm_group_link::ActiveModel {
        organisation_id: Set(org.0),
        group_id: Set(group_id),
        tenant_id: Set(row.tenant_id.clone()),
        xpm_uuid: Set(row.xpm_uuid.clone()),
        linked_at: Set(now),
        last_pull_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        org,
        "link",
        "group",
        Some(group_id),
        &format!("XPM group {} ({})", row.name, row.xpm_uuid),
        now,
    )
    .await
}

/// Whether SQLite refused a write because another connection holds the database (it reports
/// this at once, without waiting, when two transactions both read and then both write).
pub(crate) fn is_busy(e: &sea_orm::DbErr) -> bool {
    let m = e.to_string();
    m.contains("database is locked") || m.contains("database is busy")
}

/// Runs a linking transaction. If SQLite refuses it because another link is being written at
/// the same moment, it is run once more (by then the other has committed, so the checks see
/// it); if it fails because another link won the race (a unique index), the answer is the same
/// Conflict a later attempt would get.
async fn linking<F, Fut>(
    db: &DatabaseConnection,
    org: OrgId,
    xpm_uuid: &str,
    group_id: Option<i32>,
    work: F,
) -> Result<i32>
where
    F: Fn(sea_orm::DatabaseTransaction) -> Fut,
    Fut: std::future::Future<Output = Result<i32>>,
{
    const ATTEMPTS: usize = 3;
    for attempt in 1..=ATTEMPTS {
        let txn = db.begin().await?;
        match work(txn).await {
            Ok(id) => return Ok(id),
            Err(Error::Db(e)) if is_busy(&e) && attempt < ATTEMPTS => continue,
            Err(Error::Db(e)) => {
                let row = catalog_row(db, org, xpm_uuid).await?;
                return match taken(db, org, &row, group_id).await? {
                    Some(conflict) => Err(conflict),
                    None => Err(Error::Db(e)),
                };
            }
            Err(other) => return Err(other),
        }
    }
    unreachable!("the last attempt returns")
}

/// Creates a StructureGram group named after the XPM group (made unique with "(XPM)" if the name
/// is taken) and links the two. No XPM call; pull the group next.
///
/// # Errors
/// [`Error::Validation`] for a malformed UUID or a group missing from XPM; [`Error::NotFound`]
/// if the catalog does not list it (refresh first); [`Error::Conflict`] if it is already linked
/// (including when another link won a race); nothing is written then.
pub async fn link_new(
    db: &DatabaseConnection,
    org: OrgId,
    xpm_uuid: &str,
    now: DateTime<Utc>,
) -> Result<GroupLink> {
    let uuid = normalise_uuid(xpm_uuid)?;
    let group_id = linking(db, org, &uuid, None, |txn| {
        let key = uuid.clone();
        async move {
            let row = catalog_row(&txn, org, &key).await?;
            refuse_missing(&row)?;
            if let Some(conflict) = taken(&txn, org, &row, None).await? {
                return Err(conflict);
            }
            let name = free_name(&txn, org, &row.name).await?;
            let g = groups::insert(&txn, org, &name, now).await?;
            insert_link(&txn, org, &row, g.id, now).await?;
            txn.commit().await?;
            Ok(g.id)
        }
    })
    .await?;
    link_of(db, org, group_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Group {group_id} does not exist.")))
}

fn refuse_missing(row: &xpm_group::Model) -> Result<()> {
    match row.missing_since {
        Some(_) => Err(Error::Validation(format!(
            "XPM group \u{201c}{}\u{201d} no longer exists in XPM (it was missing at the last refresh). Refresh the list; if it is back, link it then.",
            row.name
        ))),
        None => Ok(()),
    }
}

/// Links an existing, unlinked StructureGram group to an unlinked XPM group. No XPM call.
///
/// # Errors
/// As [`link_new`], plus [`Error::NotFound`] for an unknown group and [`Error::Conflict`] if
/// the group is already linked to another XPM group.
pub async fn link_existing(
    db: &DatabaseConnection,
    org: OrgId,
    xpm_uuid: &str,
    group_id: i32,
    now: DateTime<Utc>,
) -> Result<GroupLink> {
    let uuid = normalise_uuid(xpm_uuid)?;
    linking(db, org, &uuid, Some(group_id), |txn| {
        let key = uuid.clone();
        async move {
            groups::get(&txn, org, group_id).await?;
            let row = catalog_row(&txn, org, &key).await?;
            refuse_missing(&row)?;
            if let Some(conflict) = taken(&txn, org, &row, Some(group_id)).await? {
                return Err(conflict);
            }
            insert_link(&txn, org, &row, group_id, now).await?;
            txn.commit().await?;
            Ok(group_id)
        }
    })
    .await?;
    link_of(db, org, group_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Group {group_id} does not exist.")))
}

/// Removes a group's link to XPM. Only the link goes: the group, its entities, their
/// relationships and their XPM mappings stay (so linking again and pulling matches them up).
///
/// # Errors
/// [`Error::NotFound`] if the group does not exist or is not linked.
pub async fn unlink(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    let g = groups::get(&txn, org, group_id).await?;
    let link = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::GroupId.eq(group_id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "The group \u{201c}{}\u{201d} is not linked to XPM.",
                g.name
            ))
        })?;
    xpm_group_link::Entity::delete_by_id(link.id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        org,
        "unlink",
        "group",
        Some(group_id),
        &format!("XPM group {}", link.xpm_uuid),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The group's link to XPM, if it has one.
///
/// # Errors
/// [`Error::NotFound`] if the group does not exist.
pub async fn link_of<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    group_id: i32,
) -> Result<Option<GroupLink>> {
    let g = groups::get(db, org, group_id).await?;
    let Some(link) = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::GroupId.eq(group_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let row = xpm_group::Entity::find()
        .filter(xpm_group::Column::OrganisationId.eq(org.0))
        .filter(xpm_group::Column::TenantId.eq(&link.tenant_id))
        .filter(xpm_group::Column::XpmUuid.eq(&link.xpm_uuid))
        .one(db)
        .await?;
    Ok(Some(GroupLink {
        group_id,
        group_name: g.name,
        tenant_id: link.tenant_id,
        xpm_uuid: link.xpm_uuid,
        xpm_name: row.as_ref().map(|r| r.name.clone()),
        xpm_missing_since: row.and_then(|r| r.missing_since),
        linked_at: link.linked_at,
        last_pull_at: link.last_pull_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_counts_a_group_get_plus_one_get_per_member_below_the_list_threshold() {
        // 10 groups × (1 group get + 8 client gets) = 90 calls → 2 minutes at 60/min;
        // 90 / 5,000 = 1.8 % → 2 %.
        let e = estimate(10, 8);
        assert_eq!((e.calls, e.minutes, e.day_budget_percent), (90, 2, 2));
        assert!(!e.exceeds_day_budget);
    }

    #[test]
    fn estimate_uses_one_detailed_list_per_large_group_and_flags_the_day_budget() {
        // Large groups: 1 group get + 1 detailed list each.
        let e = estimate(300, 60);
        assert_eq!((e.calls, e.minutes), (600, 10));
        // 1,000 groups of 4: 5,000 calls fit the day exactly; 1,001 do not.
        assert!(!estimate(1_000, 4).exceeds_day_budget);
        assert!(estimate(1_001, 4).exceeds_day_budget);
    }
}
