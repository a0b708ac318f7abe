//! Bulk sync (issue 11, product-spec §8.15): link many — or all — discovered XPM client groups
//! and pull them through one persisted queue per tenant, within XPM's limits (xpm-api.md §4:
//! 5 calls in flight, 60 a minute, 5,000 a day per tenant), choosing the plan with the fewest
//! calls for the whole queue.
//!
//! # The queue
//! [`enqueue`] (or [`enqueue_linked`]) puts linked groups on their tenant's queue
//! (`xpm_bulk_item`, one row per group; queueing a group again re-opens it). [`run`] pulls the
//! queued groups one after another through the caller's [`xpm::XpmClient`], so every call goes
//! through that client's per-tenant limiter, shared with any other work on the tenant. A group
//! whose pull succeeded is marked `done` at once (in its pull's transaction's wake), so a run
//! that stops — a closed window, a crash, XPM's day limit — resumes with the groups still
//! `queued`, never pulling a finished one again.
//!
//! # Limits are waits
//! A 429 or an exhausted day budget ([`xpm::Error::RateLimited`]) never fails a group: the
//! client waits out short pauses itself; a longer one makes [`run`] wait (up to
//! [`BulkOptions::max_wait_seconds`]) and pull the same group again, or stop with
//! [`BulkOutcome::Waiting`] and the time to resume, leaving the queue as it is.
//!
//! # Fewest calls for the whole queue ([`plan`])
//! - [`FetchStrategy::PerClient`]: each group pulled on its own, as [`crate::pull::pull`] does
//!   (first pull: `clientgroup.api/get` + one `client.api/get` per member; later pulls: the
//!   group + one `modifiedsince` list). Cost `Σ first (1 + members) + Σ later 2`.
//! - [`FetchStrategy::DetailedList`]: one `client.api/list?detailed=true` shared by every
//!   group. Each client's `<Groups>` gives the members (xpm-api.md §2.3: the two views agree;
//!   archived clients drop out of both), so no group is read. Cost 1 call, but the response
//!   grows with the practice: counted as `1 + ⌈practice clients ÷`
//!   [`DETAILED_CLIENTS_PER_CALL`]`⌉` call-equivalents (xpm-api.md §4.1: 15,000 clients take
//!   minutes and 50 MB).
//! - [`FetchStrategy::ModifiedSince`]: one `client.api/list?detailed=true&modifiedsince=` since
//!   the oldest last pull in the queue (less the pull's margin), plus each group's member list
//!   (membership changes do not bump a client's modified time, §7.8) and a `get` per member new
//!   to us. Cost `1 + groups + Σ first members`.
//!
//! The cheapest by call-equivalents wins (ties: the detailed list, then modifiedsince). An
//! unchanged practice therefore re-syncs with the one detailed list, or — for a few groups of a
//! large practice — with `1 + groups` calls. Related clients outside the groups that are not in
//! the list (archived ones) cost one `get` each, once.
//!
//! # Progress
//! [`BulkProgress`] after every group: groups done of total, calls made, calls left (the plan's
//! estimate less the calls made) and the ETA, calls left ÷ the client's pace
//! ([`xpm::LimitSettings::per_minute`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use xpm::Client;

use crate::db::OrgId;
use crate::discovery::{self, CatalogFilter};
use crate::error::{Error, Result};
use crate::links::{self, GroupLink};
use crate::pull::{
    self, FetchStrategy, OutsidePolicy, PullControl, PullOptions, Shared,
    MODIFIED_SINCE_MARGIN_MINUTES,
};
use crate::schema::{group, sync_run, xpm_bulk_item, xpm_bulk_queue, xpm_group, xpm_group_link};
use crate::tfn::TfnCipher;
use crate::words;

/// How many clients of a detailed list cost as much as one call: at the paced 50 calls a
/// minute a call is worth about a second, and XPM serves roughly 80 detailed clients a second
/// (xpm-api.md §4.1: 15,000+ clients "can take several minutes").
pub const DETAILED_CLIENTS_PER_CALL: u32 = 80;

/// Members assumed for a group whose member count is not known yet (never pulled).
pub const UNKNOWN_GROUP_MEMBERS: u32 = 7;

const QUEUED: &str = "queued";
const DONE: &str = "done";
const FAILED: &str = "failed";

/// Choices for one bulk run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkOptions {
    /// Force a fetch strategy instead of the cheapest (benchmarks; `None` = cheapest).
    pub strategy: Option<FetchStrategy>,
    /// Related clients outside the groups.
    pub outside: OutsidePolicy,
    /// The longest XPM rate-limit pause (in XPM's seconds) the run waits out itself; a longer
    /// one (the day limit) stops it with [`BulkOutcome::Waiting`].
    pub max_wait_seconds: u32,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            strategy: None,
            outside: OutsidePolicy::Import,
            max_wait_seconds: 15 * 60,
        }
    }
}

/// The plan for a queue and what each strategy would cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct QueuePlan {
    /// The chosen strategy.
    pub strategy: FetchStrategy,
    /// Groups queued.
    pub groups: u32,
    /// Estimated XPM calls of the chosen strategy.
    pub calls: u32,
    /// Estimated call-equivalents of one `client.api/get` per member (per group).
    pub per_client_cost: u32,
    /// Estimated call-equivalents of one shared detailed list (its size included).
    pub detailed_list_cost: u32,
    /// Estimated call-equivalents of one shared `modifiedsince` list plus the member lists.
    pub modified_since_cost: u32,
}

/// What the cost model knows about one queued group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanGroup {
    /// Pulled before (a later pull can use `modifiedsince`).
    pub pulled_before: bool,
    /// Members, if known from the catalog or the last pull.
    pub members: Option<u32>,
}

/// Chooses the cheapest fetch strategy for a queue (see the module docs for the costs).
/// `practice_clients` is the practice's client count as last listed, if known; otherwise the
/// queued groups' members stand in for it.
pub fn plan(groups: &[PlanGroup], practice_clients: Option<u32>) -> QueuePlan {
    let n = |g: &PlanGroup| g.members.unwrap_or(UNKNOWN_GROUP_MEMBERS);
    let count = groups.len() as u32;
    let first_members: u32 = groups.iter().filter(|g| !g.pulled_before).map(n).sum();
    let firsts = groups.iter().filter(|g| !g.pulled_before).count() as u32;
    let laters = count - firsts;
    let all_members: u32 = groups.iter().map(n).sum();
    let practice = practice_clients.unwrap_or(all_members).max(all_members);
    let per_client = firsts + first_members + 2 * laters;
    let detailed_calls = 1;
    let detailed = detailed_calls + practice.div_ceil(DETAILED_CLIENTS_PER_CALL);
    let modified_calls = 1 + count + first_members;
    // The changed clients' share of the list is small; count the new members' size only.
    let modified = modified_calls + first_members.div_ceil(DETAILED_CLIENTS_PER_CALL);
    let (strategy, calls) = if count == 0 {
        (FetchStrategy::PerClient, 0)
    } else if detailed <= modified && detailed <= per_client {
        (FetchStrategy::DetailedList, detailed_calls)
    } else if modified <= per_client {
        (FetchStrategy::ModifiedSince, modified_calls)
    } else {
        (FetchStrategy::PerClient, per_client)
    };
    QueuePlan {
        strategy,
        groups: count,
        calls,
        per_client_cost: per_client,
        detailed_list_cost: detailed,
        modified_since_cost: modified,
    }
}

/// A tenant's queue as it stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkStatus {
    /// The XPM tenant.
    pub tenant_id: String,
    /// Groups waiting to be pulled.
    pub queued: u32,
    /// Groups pulled since they were queued.
    pub done: u32,
    /// Groups whose last pull failed for another reason than XPM's limits (queue them again
    /// to retry).
    pub failed: u32,
    /// XPM calls the queue has made.
    pub calls_made: u32,
    /// The plan for the groups still queued (`None` when nothing is queued).
    pub plan: Option<QueuePlan>,
    /// Estimated seconds to finish at the client's pace.
    pub eta_seconds: u32,
    /// When the queue last changed (groups queued, a group finished, calls counted): for a
    /// queue with groups left and no run going, when its last run stopped. `None` before the
    /// tenant's first queue.
    pub updated_at: Option<DateTime<Utc>>,
}

/// What a new run ([`prepare`] then [`run`]) would sync and cost, for the window's plan line.
/// No XPM call is made to work it out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NextRun {
    /// Groups linked to a group of the tenant.
    pub linked: u32,
    /// XPM groups of the catalog (the last refresh, same tenant, still in XPM) not linked yet.
    pub unlinked: u32,
    /// Groups still queued from a run that stopped: a new run resumes with them.
    pub resumable: u32,
    /// The plan without linking: the queued groups if any are left, else every linked group;
    /// `None` when there is nothing to sync.
    pub plan: Option<QueuePlan>,
    /// Estimated seconds of [`NextRun::plan`] at XPM's paced 50 calls a minute.
    pub eta_seconds: u32,
    /// The plan when the unlinked groups are linked first (their first pull), plus the one
    /// `clientgroup.api/list` call that refreshes the catalog; `None` when there is nothing.
    pub plan_with_unlinked: Option<QueuePlan>,
    /// Estimated seconds of [`NextRun::plan_with_unlinked`].
    pub eta_with_unlinked_seconds: u32,
}

/// What [`prepare`] did before a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// The XPM groups linked as new StructureGram groups (empty without `link_unlinked`).
    pub linked: Vec<GroupLink>,
    /// Groups that were still queued from an earlier run (the run resumes with them).
    pub resumed: u32,
    /// The queue as the run will find it.
    pub status: BulkStatus,
}

/// Progress of a running bulk sync.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkProgress {
    /// Groups finished (done or failed) in this run.
    pub groups_done: u32,
    /// Groups in this run.
    pub groups_total: u32,
    /// XPM calls made in this run.
    pub calls_made: u32,
    /// XPM calls still expected (the plan's estimate less the calls made; at least one per
    /// group left that must read its members).
    pub calls_left: u32,
    /// Estimated seconds left: calls left ÷ the client's pace.
    pub eta_seconds: u32,
    /// Set while the run waits out an XPM limit: seconds (XPM's clock) to wait.
    pub waiting_seconds: Option<u32>,
    /// Set while the run waits out an XPM limit: when (this computer's clock) it carries on.
    pub waiting_until: Option<DateTime<Utc>>,
}

/// Progress reporting and cancellation for [`run`].
#[derive(Default)]
pub struct BulkControl {
    /// Set to stop before the next group; groups already pulled stay done.
    pub cancel: AtomicBool,
    /// Called after the shared list, after every group and when waiting.
    pub on_progress: Option<Box<dyn Fn(BulkProgress) + Send + Sync>>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum BulkOutcome {
    /// Every queued group was pulled (or failed for a reason shown per group).
    Finished,
    /// XPM's limit needs a longer wait than allowed; run again after `resume_after_seconds`.
    Waiting,
    /// Cancelled; run again to continue.
    Cancelled,
}

/// A group whose pull failed for another reason than XPM's limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkFailure {
    /// The StructureGram group.
    pub group_id: i32,
    /// Its name.
    pub group_name: String,
    /// What went wrong and what to do next.
    pub message: String,
}

/// A group whose pull finished but left pull-review items for the user (possible duplicates,
/// share classes, relationship types; product-spec §8.8): synced, yet not complete until
/// reviewed on the group's XPM tab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkReview {
    /// The StructureGram group.
    pub group_id: i32,
    /// Its name.
    pub group_name: String,
    /// Items the pull recommends, ready to apply once the user checks them.
    pub ready: u32,
    /// Items that need the user's decision.
    pub needs_input: u32,
    /// Items waiting on those decisions.
    pub waiting: u32,
}

/// The result of a bulk run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkReport {
    /// How it ended.
    pub outcome: BulkOutcome,
    /// The plan it followed.
    pub plan: QueuePlan,
    /// Groups pulled in this run.
    pub groups_done: u32,
    /// Groups that failed in this run.
    pub failures: Vec<BulkFailure>,
    /// Groups pulled in this run that left items to review (in queue order).
    pub to_review: Vec<BulkReview>,
    /// Groups still queued.
    pub groups_left: u32,
    /// XPM calls made in this run (the shared list and every pull, failed ones included).
    pub calls: u32,
    /// Rate-limit waits the run sat through itself.
    pub waits: u32,
    /// For [`BulkOutcome::Waiting`]: seconds (XPM's clock) until the limit resets.
    pub resume_after_seconds: Option<u32>,
    /// One sentence for the user: what happened and what to do next.
    pub message: String,
}

/// Links every unlinked, present XPM group of the catalog (the last [`discovery::refresh`]) as a
/// new StructureGram group ([`links::link_new`]). No XPM call.
///
/// # Errors
/// [`Error::Validation`] if the catalog belongs to another tenant than `tenant` (refresh it
/// first); [`Error::Db`]. A group linked meanwhile by someone else is skipped.
pub async fn link_unlinked(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<Vec<GroupLink>> {
    let (catalog_tenant, rows) = unlinked_rows(db, org).await?;
    if catalog_tenant.as_deref().is_some_and(|t| t != tenant) {
        return Err(Error::Validation(
            "The list of XPM groups is from another practice than the one connected. Refresh it, then link again."
                .into(),
        ));
    }
    let mut out = Vec::new();
    for row in &rows {
        match links::link_new(db, org, &row.xpm_uuid, now).await {
            Ok(link) => out.push(link),
            Err(Error::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The catalog's tenant and its unlinked XPM groups still in XPM at the last refresh.
async fn unlinked_rows(
    db: &DatabaseConnection,
    org: OrgId,
) -> Result<(Option<String>, Vec<discovery::CatalogRow>)> {
    let catalog = discovery::catalog(
        db,
        org,
        &CatalogFilter {
            search: None,
            linked: Some(false),
        },
    )
    .await?;
    let rows = catalog
        .rows
        .into_iter()
        .filter(|r| r.missing_since.is_none())
        .collect();
    Ok((catalog.tenant_id, rows))
}

async fn queue_row(
    db: &impl sea_orm::ConnectionTrait,
    org: OrgId,
    tenant: &str,
) -> Result<Option<xpm_bulk_queue::Model>> {
    Ok(xpm_bulk_queue::Entity::find()
        .filter(xpm_bulk_queue::Column::OrganisationId.eq(org.0))
        .filter(xpm_bulk_queue::Column::TenantId.eq(tenant))
        .one(db)
        .await?)
}

/// Puts linked groups on their tenant's queue (again, if they were done or failed), in one
/// transaction.
///
/// # Errors
/// [`Error::Validation`] if a group is not linked to a group of `tenant` (nothing is queued);
/// [`Error::Db`].
pub async fn enqueue(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
    group_ids: &[i32],
    now: DateTime<Utc>,
) -> Result<BulkStatus> {
    let txn = db.begin().await?;
    if queue_row(&txn, org, tenant).await?.is_none() {
        xpm_bulk_queue::ActiveModel {
            organisation_id: Set(org.0),
            tenant_id: Set(tenant.to_owned()),
            practice_clients: Set(None),
            calls: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for &group_id in group_ids {
        let linked = links::link_of(&txn, org, group_id).await?;
        let Some(link) = linked.filter(|l| l.tenant_id == tenant) else {
            return Err(Error::Validation(format!(
                "Group {group_id} is not linked to a group in the connected XPM practice, so it cannot be synced. Link it on the Import Groups page first."
            )));
        };
        let existing = xpm_bulk_item::Entity::find()
            .filter(xpm_bulk_item::Column::GroupId.eq(link.group_id))
            .one(&txn)
            .await?;
        let mut row = match existing {
            Some(m) => m.into_active_model(),
            None => xpm_bulk_item::ActiveModel {
                organisation_id: Set(org.0),
                group_id: Set(link.group_id),
                ..Default::default()
            },
        };
        row.tenant_id = Set(tenant.to_owned());
        row.state = Set(QUEUED.into());
        row.queued_at = Set(now);
        row.finished_at = Set(None);
        row.calls = Set(0);
        row.run_id = Set(None);
        row.error = Set(None);
        row.save(&txn).await?;
    }
    txn.commit().await?;
    status_with(db, org, tenant, 50).await
}

/// Queues every group linked to a group of `tenant` (see [`enqueue`]).
///
/// # Errors
/// As [`enqueue`].
pub async fn enqueue_linked(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
    now: DateTime<Utc>,
) -> Result<BulkStatus> {
    let ids = linked_group_ids(db, org, tenant).await?;
    enqueue(db, org, tenant, &ids, now).await
}

/// The groups linked to a group of `tenant`, in the order they were linked.
async fn linked_group_ids(db: &DatabaseConnection, org: OrgId, tenant: &str) -> Result<Vec<i32>> {
    Ok(xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::TenantId.eq(tenant))
        .order_by_asc(xpm_group_link::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.group_id)
        .collect())
}

/// The tenant's queue, its plan and ETA at XPM's paced 50 calls a minute; no XPM call.
///
/// # Errors
/// [`Error::Db`].
pub async fn status(db: &DatabaseConnection, org: OrgId, tenant: &str) -> Result<BulkStatus> {
    status_with(db, org, tenant, 50).await
}

async fn status_with(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
    per_minute: u32,
) -> Result<BulkStatus> {
    let items = items(db, org, tenant).await?;
    let count = |s: &str| items.iter().filter(|i| i.state == s).count() as u32;
    let queue = queue_row(db, org, tenant).await?;
    let queued: Vec<i32> = items
        .iter()
        .filter(|i| i.state == QUEUED)
        .map(|i| i.group_id)
        .collect();
    let plan = if queued.is_empty() {
        None
    } else {
        let (inputs, _) = plan_inputs(db, org, tenant, &queued).await?;
        Some(plan(
            &inputs,
            queue
                .as_ref()
                .and_then(|q| q.practice_clients)
                .and_then(|n| u32::try_from(n).ok()),
        ))
    };
    Ok(BulkStatus {
        tenant_id: tenant.to_owned(),
        queued: count(QUEUED),
        done: count(DONE),
        failed: count(FAILED),
        calls_made: queue
            .as_ref()
            .map(|q| u32::try_from(q.calls).unwrap_or(0))
            .unwrap_or(0),
        eta_seconds: eta(plan.map(|p| p.calls).unwrap_or(0), per_minute),
        plan,
        updated_at: queue.as_ref().map(|q| q.updated_at),
    })
}

/// What a new run would sync and cost (see [`NextRun`]); no XPM call.
///
/// # Errors
/// [`Error::Db`].
pub async fn next_run(db: &DatabaseConnection, org: OrgId, tenant: &str) -> Result<NextRun> {
    let queued: Vec<i32> = items(db, org, tenant)
        .await?
        .into_iter()
        .filter(|i| i.state == QUEUED)
        .map(|i| i.group_id)
        .collect();
    let linked_ids = linked_group_ids(db, org, tenant).await?;
    let ids = if queued.is_empty() {
        &linked_ids
    } else {
        &queued
    };
    let (mut inputs, _) = plan_inputs(db, org, tenant, ids).await?;
    let (catalog_tenant, rows) = unlinked_rows(db, org).await?;
    let unlinked: Vec<PlanGroup> = if catalog_tenant.as_deref() == Some(tenant) {
        rows.iter()
            .map(|r| PlanGroup {
                pulled_before: false,
                members: r.member_count,
            })
            .collect()
    } else {
        Vec::new()
    };
    let practice = queue_row(db, org, tenant)
        .await?
        .and_then(|q| q.practice_clients)
        .and_then(|n| u32::try_from(n).ok());
    let only = (!inputs.is_empty()).then(|| plan(&inputs, practice));
    inputs.extend(unlinked.iter().copied());
    let with = (!inputs.is_empty()).then(|| {
        let mut p = plan(&inputs, practice);
        if !unlinked.is_empty() {
            // The catalog refresh before linking.
            p.calls += 1;
        }
        p
    });
    Ok(NextRun {
        linked: linked_ids.len() as u32,
        unlinked: unlinked.len() as u32,
        resumable: queued.len() as u32,
        eta_seconds: eta(only.map(|p| p.calls).unwrap_or(0), 50),
        plan: only,
        eta_with_unlinked_seconds: eta(with.map(|p| p.calls).unwrap_or(0), 50),
        plan_with_unlinked: with,
    })
}

/// Gets the queue ready for [`run`], as the window's *Start* and `structuregram xpm sync-all`
/// do: with `link_unlinked`, refreshes the XPM group catalog (one `clientgroup.api/list`) and
/// links every unlinked group as a new group ([`link_unlinked`]); then, if no group is left
/// queued from an earlier run, queues every linked group ([`enqueue_linked`]); otherwise keeps
/// that queue (the run resumes it) and adds only the groups just linked.
///
/// # Errors
/// As [`discovery::refresh`] (XPM unreachable or refusing: nothing is linked or queued),
/// [`link_unlinked`] and [`enqueue`].
pub async fn prepare(
    db: &DatabaseConnection,
    org: OrgId,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    link_unlinked_groups: bool,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let tenant = session.tenant.as_str().to_owned();
    let mut linked = Vec::new();
    if link_unlinked_groups {
        discovery::refresh(db, org, client, session, now).await?;
        linked = link_unlinked(db, org, &tenant, now).await?;
    }
    let before = status(db, org, &tenant).await?;
    let status = if before.queued == 0 {
        enqueue_linked(db, org, &tenant, now).await?
    } else {
        let ids: Vec<i32> = linked.iter().map(|l| l.group_id).collect();
        enqueue(db, org, &tenant, &ids, now).await?
    };
    Ok(Prepared {
        linked,
        resumed: before.queued,
        status,
    })
}

fn eta(calls_left: u32, per_minute: u32) -> u32 {
    (calls_left * 60).div_ceil(per_minute.max(1))
}

async fn items(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
) -> Result<Vec<xpm_bulk_item::Model>> {
    Ok(xpm_bulk_item::Entity::find()
        .filter(xpm_bulk_item::Column::OrganisationId.eq(org.0))
        .filter(xpm_bulk_item::Column::TenantId.eq(tenant))
        .order_by_asc(xpm_bulk_item::Column::Id)
        .all(db)
        .await?)
}

/// The cost model's view of the queued groups, and their links by group id.
async fn plan_inputs(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
    group_ids: &[i32],
) -> Result<(Vec<PlanGroup>, HashMap<i32, xpm_group_link::Model>)> {
    let links: HashMap<i32, xpm_group_link::Model> = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::TenantId.eq(tenant))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.group_id, l))
        .collect();
    let counts: HashMap<String, Option<i32>> = xpm_group::Entity::find()
        .filter(xpm_group::Column::OrganisationId.eq(org.0))
        .filter(xpm_group::Column::TenantId.eq(tenant))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.xpm_uuid, g.member_count))
        .collect();
    let inputs = group_ids
        .iter()
        .filter_map(|id| links.get(id))
        .map(|l| PlanGroup {
            pulled_before: l.last_pull_at.is_some(),
            members: counts
                .get(&l.xpm_uuid)
                .copied()
                .flatten()
                .and_then(|n| u32::try_from(n).ok()),
        })
        .collect();
    Ok((inputs, links))
}

/// Seconds of a rate-limit error, if `e` is one.
fn rate_limited(e: &Error) -> Option<Duration> {
    match e {
        Error::XpmCall {
            source: xpm::Error::RateLimited { retry_after, .. },
            ..
        } => Some(retry_after.unwrap_or(Duration::from_secs(60))),
        _ => None,
    }
}

/// Whether `e` means every later call fails too (the connection is no longer accepted).
fn fatal(e: &Error) -> bool {
    matches!(
        e,
        Error::XpmCall {
            source: xpm::Error::Unauthorized { .. } | xpm::Error::Forbidden { .. },
            ..
        }
    )
}

/// The shared list of a run.
struct SharedList {
    clients: HashMap<String, Client>,
    /// Members by XPM group UUID (full list only).
    members: Option<HashMap<String, Vec<String>>>,
}

/// Pulls the tenant's queued groups (see the module docs): the cheapest plan for the whole
/// queue, every call through `client`'s limiter, each group's pull in its own transaction and
/// marked done at once. `clock` gives the time recorded on runs and links (the simulator's
/// clock in tests).
///
/// # Errors
/// [`Error::XpmCall`] when XPM no longer accepts the connection (the queue is kept; reconnect
/// and run again); [`Error::Db`]. Rate limits are never errors (see [`BulkOutcome::Waiting`]);
/// other per-group failures are listed in [`BulkReport::failures`].
#[allow(clippy::too_many_arguments)]
pub async fn run(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    options: &BulkOptions,
    control: &BulkControl,
    clock: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
) -> Result<BulkReport> {
    let tenant = session.tenant.as_str().to_owned();
    let limits = client.settings().limits.clone();
    let per_minute = limits.per_minute;
    let queued: Vec<xpm_bulk_item::Model> = items(db, org, &tenant)
        .await?
        .into_iter()
        .filter(|i| i.state == QUEUED)
        .collect();
    let ids: Vec<i32> = queued.iter().map(|i| i.group_id).collect();
    let (inputs, links) = plan_inputs(db, org, &tenant, &ids).await?;
    let practice = queue_row(db, org, &tenant)
        .await?
        .and_then(|q| q.practice_clients)
        .and_then(|n| u32::try_from(n).ok());
    let mut the_plan = plan(&inputs, practice);
    if let Some(forced) = options.strategy {
        the_plan.strategy = forced;
        the_plan.calls = match forced {
            FetchStrategy::PerClient => the_plan.per_client_cost,
            FetchStrategy::DetailedList => 1,
            FetchStrategy::ModifiedSince => the_plan.modified_since_cost,
        };
    }
    let names: HashMap<i32, String> = group::Entity::find()
        .filter(group::Column::OrganisationId.eq(org.0))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let total = queued.len() as u32;
    let mut report = BulkReport {
        outcome: BulkOutcome::Finished,
        plan: the_plan,
        groups_done: 0,
        failures: Vec::new(),
        to_review: Vec::new(),
        groups_left: total,
        calls: 0,
        waits: 0,
        resume_after_seconds: None,
        message: String::new(),
    };
    let progress = |report: &BulkReport, waiting: Option<Duration>| {
        if let Some(f) = &control.on_progress {
            let finished = report.groups_done + report.failures.len() as u32;
            let left = report.plan.calls.saturating_sub(report.calls).max(
                if report.plan.strategy == FetchStrategy::DetailedList {
                    0
                } else {
                    total - finished
                },
            );
            f(BulkProgress {
                groups_done: finished,
                groups_total: total,
                calls_made: report.calls,
                calls_left: left,
                eta_seconds: eta(left, per_minute),
                waiting_seconds: waiting.map(|w| u32::try_from(w.as_secs()).unwrap_or(u32::MAX)),
                waiting_until: waiting.and_then(|w| {
                    chrono::Duration::from_std(limits.local(w))
                        .ok()
                        .map(|d| Utc::now() + d)
                }),
            });
        }
    };
    // Waits out `wait` (XPM's seconds) or says the run must stop.
    let max_wait = Duration::from_secs(u64::from(options.max_wait_seconds));
    macro_rules! limit_wait {
        ($wait:expr) => {{
            let wait: Duration = $wait;
            if wait > max_wait {
                report.outcome = BulkOutcome::Waiting;
                report.resume_after_seconds =
                    Some(u32::try_from(wait.as_secs()).unwrap_or(u32::MAX));
                break;
            }
            report.waits += 1;
            progress(&report, Some(wait));
            tokio::time::sleep(limits.local(wait)).await;
        }};
    }

    // 1. The shared list, if the plan has one.
    let mut shared: Option<SharedList> = None;
    if total > 0 && the_plan.strategy != FetchStrategy::PerClient {
        let since = match the_plan.strategy {
            FetchStrategy::ModifiedSince => queued
                .iter()
                .filter_map(|i| links.get(&i.group_id).and_then(|l| l.last_pull_at))
                .min()
                .map(|t| t - chrono::Duration::minutes(MODIFIED_SINCE_MARGIN_MINUTES)),
            _ => None,
        };
        loop {
            if control.cancel.load(Ordering::SeqCst) {
                report.outcome = BulkOutcome::Cancelled;
                break;
            }
            report.calls += 1;
            let listed = pull::list_detailed(client, session, since).await;
            match listed {
                Ok(list) => {
                    shared = Some(shared_list(list, the_plan.strategy));
                    break;
                }
                Err(e) => match rate_limited(&e) {
                    Some(wait) => limit_wait!(wait),
                    None => {
                        add_calls(db, org, &tenant, report.calls, None, clock()).await?;
                        return Err(e);
                    }
                },
            }
        }
        if let Some(s) = shared.as_ref().filter(|s| s.members.is_some()) {
            let n = i32::try_from(s.clients.len()).unwrap_or(i32::MAX);
            add_calls(db, org, &tenant, 0, Some(n), clock()).await?;
        }
        progress(&report, None);
    }

    // 2. Each queued group, in order.
    let pull_options = PullOptions {
        full: false,
        outside: options.outside,
        detailed_list_from: u32::MAX,
    };
    let mut list_calls = report.calls;
    'groups: for item in &queued {
        if report.outcome != BulkOutcome::Finished {
            break;
        }
        let Some(link) = links.get(&item.group_id) else {
            continue;
        };
        loop {
            if control.cancel.load(Ordering::SeqCst) {
                report.outcome = BulkOutcome::Cancelled;
                break 'groups;
            }
            let pull_control = PullControl::default();
            let now = clock();
            let shared_records = shared.as_ref().map(|s| Shared {
                strategy: the_plan.strategy,
                clients: &s.clients,
                members: s
                    .members
                    .as_ref()
                    .map(|m| m.get(&link.xpm_uuid).cloned().unwrap_or_default()),
            });
            let result = pull::pull_with(
                db,
                org,
                cipher,
                client,
                session,
                item.group_id,
                &pull_options,
                &pull_control,
                now,
                shared_records,
            )
            .await;
            match result {
                Ok(pulled) => {
                    report.calls += pulled.plan.calls;
                    let open = &pulled.review;
                    if open.ready + open.needs_input + open.waiting > 0 {
                        report.to_review.push(BulkReview {
                            group_id: item.group_id,
                            group_name: names.get(&item.group_id).cloned().unwrap_or_default(),
                            ready: pulled.review.ready,
                            needs_input: pulled.review.needs_input,
                            waiting: pulled.review.waiting,
                        });
                    }
                    finish_item(
                        db,
                        item,
                        DONE,
                        pulled.plan.calls + list_calls,
                        Some(pulled.run_id),
                        None,
                        now,
                    )
                    .await?;
                    add_calls(db, org, &tenant, pulled.plan.calls + list_calls, None, now).await?;
                    list_calls = 0;
                    report.groups_done += 1;
                    report.groups_left -= 1;
                    progress(&report, None);
                    continue 'groups;
                }
                Err(e) => {
                    let spent = last_run_calls(db, org, item.group_id).await?;
                    report.calls += spent;
                    add_calls(db, org, &tenant, spent + list_calls, None, now).await?;
                    list_calls = 0;
                    if let Some(wait) = rate_limited(&e) {
                        limit_wait!(wait);
                        continue;
                    }
                    if fatal(&e) {
                        return Err(e);
                    }
                    let message = e.to_string();
                    finish_item(db, item, FAILED, spent, None, Some(message.clone()), now).await?;
                    report.failures.push(BulkFailure {
                        group_id: item.group_id,
                        group_name: names.get(&item.group_id).cloned().unwrap_or_default(),
                        message,
                    });
                    report.groups_left -= 1;
                    progress(&report, None);
                    continue 'groups;
                }
            }
        }
    }
    if list_calls > 0 {
        add_calls(db, org, &tenant, list_calls, None, clock()).await?;
    }
    let groups = |n: u32| words::count(n, "group", "groups");
    let review = match report.to_review.len() {
        0 => String::new(),
        1 => " 1 of them has pull items for you to review on its XPM tab.".to_owned(),
        n => format!(" {n} of them have pull items for you to review on their XPM tabs."),
    };
    report.message = match report.outcome {
        BulkOutcome::Finished if report.failures.is_empty() => format!(
            "Synced {} with {}.{review}",
            groups(report.groups_done),
            words::count(report.calls, "XPM call", "XPM calls")
        ),
        BulkOutcome::Finished => format!(
            "Synced {}; {} could not be synced (see each one's message): sync again after fixing it.{review}",
            groups(report.groups_done),
            words::count(report.failures.len(), "group", "groups")
        ),
        BulkOutcome::Waiting => format!(
            "XPM's call limit for the day is used up after {}. {} stay queued: sync again in {} and it carries on where it stopped.{review}",
            groups(report.groups_done),
            groups(report.groups_left),
            words::wait(report.resume_after_seconds.unwrap_or(60))
        ),
        BulkOutcome::Cancelled => format!(
            "Stopped after {}; {} stay queued. Sync again to carry on.{review}",
            groups(report.groups_done),
            groups(report.groups_left)
        ),
    };
    Ok(report)
}

fn shared_list(list: Vec<Client>, strategy: FetchStrategy) -> SharedList {
    let mut clients = HashMap::with_capacity(list.len());
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in list {
        let Some(uuid) = c.uuid.map(|u| u.hyphenated().to_string()) else {
            continue;
        };
        if strategy == FetchStrategy::DetailedList {
            for g in c.groups.iter().flatten() {
                members
                    .entry(g.uuid.hyphenated().to_string())
                    .or_default()
                    .push(uuid.clone());
            }
        }
        clients.insert(uuid, c);
    }
    SharedList {
        clients,
        members: (strategy == FetchStrategy::DetailedList).then(|| {
            members
                .into_iter()
                .map(|(g, mut m)| {
                    m.sort();
                    m.dedup();
                    (g, m)
                })
                .collect()
        }),
    }
}

/// Calls recorded on the group's latest pull run (a failed pull records what it spent).
async fn last_run_calls(db: &DatabaseConnection, org: OrgId, group_id: i32) -> Result<u32> {
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::OrganisationId.eq(org.0))
        .filter(sync_run::Column::GroupId.eq(group_id))
        .filter(sync_run::Column::Kind.eq("pull"))
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await?
        .map(|r| u32::try_from(r.calls).unwrap_or(0))
        .unwrap_or(0))
}

async fn finish_item(
    db: &DatabaseConnection,
    item: &xpm_bulk_item::Model,
    state: &str,
    calls: u32,
    run_id: Option<i32>,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut row = item.clone().into_active_model();
    row.state = Set(state.to_owned());
    row.calls = Set(i32::try_from(calls).unwrap_or(i32::MAX));
    row.run_id = Set(run_id);
    row.error = Set(error);
    row.finished_at = Set(Some(now));
    row.update(db).await?;
    Ok(())
}

async fn add_calls(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
    calls: u32,
    practice_clients: Option<i32>,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(q) = queue_row(db, org, tenant).await? else {
        return Ok(());
    };
    let total = q
        .calls
        .saturating_add(i32::try_from(calls).unwrap_or(i32::MAX));
    let mut row = q.into_active_model();
    row.calls = Set(total);
    if let Some(n) = practice_clients {
        row.practice_clients = Set(Some(n));
    }
    row.updated_at = Set(now);
    row.update(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(members: u32) -> PlanGroup {
        PlanGroup {
            pulled_before: false,
            members: Some(members),
        }
    }

    fn later(members: u32) -> PlanGroup {
        PlanGroup {
            pulled_before: true,
            members: Some(members),
        }
    }

    #[test]
    fn a_whole_practice_is_read_with_one_shared_detailed_list() {
        // 300 groups of about 6.7 members, 2,000 clients: per client 300 + 2,000 calls; one
        // detailed list 1 + ⌈2,000 ÷ 80⌉ = 26 call-equivalents.
        let groups: Vec<PlanGroup> = (0..300)
            .map(|i| first(if i < 200 { 7 } else { 6 }))
            .collect();
        let p = plan(&groups, Some(2_000));
        assert_eq!(p.per_client_cost, 300 + 1_400 + 600);
        assert_eq!(p.detailed_list_cost, 26);
        assert_eq!(p.strategy, FetchStrategy::DetailedList);
        assert_eq!(p.calls, 1);
    }

    #[test]
    fn one_small_group_of_a_big_practice_is_read_client_by_client() {
        // 1 + 5 calls beat a list of 15,000 clients (1 + 188).
        let p = plan(&[first(5)], Some(15_000));
        assert_eq!(p.strategy, FetchStrategy::PerClient);
        assert_eq!(p.calls, 6);
    }

    #[test]
    fn a_few_pulled_groups_of_a_big_practice_resync_with_modifiedsince() {
        // Per group: 2 calls each = 10; modifiedsince shared: 1 + 5 = 6; full list: 1 + 188.
        let groups = vec![later(10); 5];
        let p = plan(&groups, Some(15_000));
        assert_eq!(p.strategy, FetchStrategy::ModifiedSince);
        assert_eq!(p.calls, 6);
        assert_eq!(p.per_client_cost, 10);
        assert_eq!(p.detailed_list_cost, 189);
    }

    #[test]
    fn unknown_practice_size_falls_back_to_the_queued_members() {
        let p = plan(
            &[PlanGroup {
                pulled_before: false,
                members: None,
            }],
            None,
        );
        // 7 assumed members: per client 8, detailed 1 + 1 = 2.
        assert_eq!(p.per_client_cost, 1 + UNKNOWN_GROUP_MEMBERS);
        assert_eq!(p.detailed_list_cost, 2);
        assert_eq!(p.strategy, FetchStrategy::DetailedList);
    }
}
