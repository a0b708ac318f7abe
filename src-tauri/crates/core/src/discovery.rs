//! Discovery (issue 7, product-spec §8.4 stage 1): the catalog of the practice's XPM client
//! groups, read with `clientgroup.api/list` (xpm-api.md §2.3, one call) and cached in
//! `xpm_group` with the time of the last refresh, so the Import Groups page and the group XPM
//! tab work offline and cost no calls.
//!
//! Rules: a refresh replaces the catalog in one transaction, and only after the call succeeded
//! (a failed call leaves the previous catalog and records the failure, so the page can say what
//! happened and offer Refresh); a group gone from XPM is dropped from the catalog unless it is
//! linked, in which case it is kept and marked `missing_since`, so a link never silently loses
//! its XPM side.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::runs::{self, RunKind, RunStatus};
use crate::schema::{group, sync_run, xpm_group, xpm_group_link};

/// One XPM client group in the catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CatalogRow {
    /// The XPM group's UUID (lower case).
    pub xpm_uuid: String,
    /// Its name in XPM at the last refresh.
    pub name: String,
    /// Members, when known (from the last pull; `clientgroup.api/list` does not say).
    pub member_count: Option<u32>,
    /// Set when the group no longer appeared in XPM at a refresh (only linked groups are kept).
    pub missing_since: Option<DateTime<Utc>>,
    /// The StructureGram group linked to it.
    pub linked_group_id: Option<i32>,
    /// That group's name.
    pub linked_group_name: Option<String>,
    /// When the linked group was last pulled.
    pub last_pull_at: Option<DateTime<Utc>>,
}

/// The catalog as the Import Groups page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Catalog {
    /// The XPM tenant the catalog belongs to (`None` before the first refresh).
    pub tenant_id: Option<String>,
    /// When the catalog was last refreshed successfully.
    pub refreshed_at: Option<DateTime<Utc>>,
    /// The message of the latest refresh if it failed after the last success (the page shows it
    /// with a Refresh button).
    pub last_error: Option<String>,
    /// Groups ordered by name (case-insensitive), then UUID.
    pub rows: Vec<CatalogRow>,
}

/// Which rows [`catalog`] returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CatalogFilter {
    /// Keep rows whose name contains this text (case-insensitive); empty = all.
    pub search: Option<String>,
    /// `Some(true)` linked only, `Some(false)` unlinked only, `None` both.
    pub linked: Option<bool>,
}

/// Reads the practice's client groups from XPM (`clientgroup.api/list`, one call) and replaces
/// the catalog of `session.tenant` with them in one transaction: new groups are added, renamed
/// ones updated, vanished unlinked ones dropped, vanished linked ones marked `missing_since`
/// (cleared again if they come back). Records the run in the history.
///
/// # Errors
/// [`Error::XpmCall`] when the call fails — the previous catalog is kept untouched and the
/// failure is recorded (see [`Catalog::last_error`]); [`Error::Db`].
pub async fn refresh(
    db: &DatabaseConnection,
    org: OrgId,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    now: DateTime<Utc>,
) -> Result<Catalog> {
    let tenant = session.tenant.as_str().to_owned();
    let run = runs::start(db, org, None, &tenant, RunKind::Discovery, now).await?;
    let groups = match client.list_client_groups(session).await {
        Ok(groups) => groups,
        Err(e) => {
            let err = Error::xpm("Refreshing the XPM group list", e);
            runs::finish(
                db,
                run,
                RunStatus::Failed,
                1,
                None,
                Some(err.to_string()),
                now,
            )
            .await?;
            return Err(err);
        }
    };
    let txn = db.begin().await?;
    let existing: HashMap<String, xpm_group::Model> = xpm_group::Entity::find()
        .filter(xpm_group::Column::OrganisationId.eq(org.0))
        .filter(xpm_group::Column::TenantId.eq(&tenant))
        .all(&txn)
        .await?
        .into_iter()
        .map(|g| (g.xpm_uuid.clone(), g))
        .collect();
    let linked: HashSet<String> = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::TenantId.eq(&tenant))
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| l.xpm_uuid)
        .collect();
    let mut seen = HashSet::new();
    for g in &groups {
        let uuid = g.uuid.hyphenated().to_string();
        seen.insert(uuid.clone());
        match existing.get(&uuid) {
            Some(row) => {
                let mut active = row.clone().into_active_model();
                active.name = Set(g.name.clone());
                active.refreshed_at = Set(now);
                active.missing_since = Set(None);
                active.update(&txn).await?;
            }
            None => {
                xpm_group::ActiveModel {
                    organisation_id: Set(org.0),
                    tenant_id: Set(tenant.clone()),
                    xpm_uuid: Set(uuid),
                    name: Set(g.name.clone()),
                    member_count: Set(None),
                    refreshed_at: Set(now),
                    missing_since: Set(None),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    for (uuid, row) in existing {
        if seen.contains(&uuid) {
            continue;
        }
        if linked.contains(&uuid) {
            if row.missing_since.is_none() {
                let mut active = row.into_active_model();
                active.missing_since = Set(Some(now));
                active.update(&txn).await?;
            }
        } else {
            xpm_group::Entity::delete_by_id(row.id).exec(&txn).await?;
        }
    }
    runs::finish(
        &txn,
        run,
        RunStatus::Succeeded,
        1,
        Some(serde_json::json!({ "groups": groups.len() })),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    catalog(db, org, &CatalogFilter::default()).await
}

/// The cached catalog of the tenant last refreshed, with each row's linked group; no XPM call.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn catalog(
    db: &DatabaseConnection,
    org: OrgId,
    filter: &CatalogFilter,
) -> Result<Catalog> {
    let last_ok = sync_run::Entity::find()
        .filter(sync_run::Column::OrganisationId.eq(org.0))
        .filter(sync_run::Column::Kind.eq("discovery"))
        .filter(sync_run::Column::Status.eq("succeeded"))
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await?;
    let last_ended = runs::last_discovery(db, org, None).await?;
    let tenant = last_ok
        .as_ref()
        .map(|r| r.tenant_id.clone())
        .or_else(|| last_ended.as_ref().map(|r| r.tenant_id.clone()));
    let last_error = last_ended
        .filter(|r| r.status == RunStatus::Failed)
        .filter(|r| last_ok.as_ref().is_none_or(|ok| r.id > ok.id))
        .and_then(|r| r.error);
    let Some(tenant) = tenant else {
        return Ok(Catalog {
            tenant_id: None,
            refreshed_at: None,
            last_error,
            rows: Vec::new(),
        });
    };
    let links: HashMap<String, xpm_group_link::Model> = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::TenantId.eq(&tenant))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.xpm_uuid.clone(), l))
        .collect();
    let names: HashMap<i32, String> = group::Entity::find()
        .filter(group::Column::OrganisationId.eq(org.0))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let search = filter
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let mut rows: Vec<CatalogRow> = xpm_group::Entity::find()
        .filter(xpm_group::Column::OrganisationId.eq(org.0))
        .filter(xpm_group::Column::TenantId.eq(&tenant))
        .all(db)
        .await?
        .into_iter()
        .map(|g| {
            let link = links.get(&g.xpm_uuid);
            CatalogRow {
                linked_group_id: link.map(|l| l.group_id),
                linked_group_name: link.and_then(|l| names.get(&l.group_id).cloned()),
                last_pull_at: link.and_then(|l| l.last_pull_at),
                xpm_uuid: g.xpm_uuid,
                name: g.name,
                member_count: g.member_count.and_then(|n| u32::try_from(n).ok()),
                missing_since: g.missing_since,
            }
        })
        .filter(|r| {
            search
                .as_ref()
                .is_none_or(|s| r.name.to_lowercase().contains(s))
        })
        .filter(|r| {
            filter
                .linked
                .is_none_or(|want| want == r.linked_group_id.is_some())
        })
        .collect();
    rows.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.xpm_uuid.cmp(&b.xpm_uuid))
    });
    Ok(Catalog {
        tenant_id: Some(tenant),
        refreshed_at: last_ok.and_then(|r| r.finished_at),
        last_error,
        rows,
    })
}
