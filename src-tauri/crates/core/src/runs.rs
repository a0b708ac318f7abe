//! The history of XPM sync runs (discovery, pulls and pushes): when each ran, how it ended, how
//! many XPM calls it made and what it changed, for the run history of issue 8 and the "last
//! refresh failed" line of the Import Groups page.
//!
//! A run is recorded as `running` before its first XPM call, in its own small transaction, and
//! finished in the transaction that applies its changes (or marked `failed` when a call fails),
//! so a run killed half-way stays `running` until the next run of the same kind marks it
//! `interrupted`. A push writes as it goes, so its summary is its progress, saved after every
//! item ([`crate::push`]): an interrupted push's changes up to then are kept.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::OrgId;
use crate::error::Result;
use crate::schema::sync_run;

/// What a run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum RunKind {
    /// `clientgroup.api/list` into the catalog ([`crate::discovery::refresh`]).
    Discovery,
    /// A linked group's pull ([`crate::pull::pull`]).
    Pull,
    /// A push to XPM ([`crate::push::push`], [`crate::push::push_entity`]); its summary holds
    /// the progress (phase, counts, creates whose outcome is not known yet).
    Push,
}

impl RunKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Pull => "pull",
            Self::Push => "push",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "discovery" => Self::Discovery,
            "push" => Self::Push,
            _ => Self::Pull,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum RunStatus {
    /// Still running (or killed: see [`RunStatus::Interrupted`]).
    Running,
    /// Finished; its changes are saved.
    Succeeded,
    /// An XPM call or the database failed; nothing was changed (a push keeps what it sent and
    /// stopped). `error` says why.
    Failed,
    /// Cancelled by the user; nothing was changed (a push keeps what it sent).
    Cancelled,
    /// The app stopped while it ran; nothing was changed (a push keeps what it sent), found by
    /// the next run.
    Interrupted,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "interrupted" => Self::Interrupted,
            _ => Self::Running,
        }
    }
}

/// One run as the history lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SyncRun {
    /// Database id.
    pub id: i32,
    /// The group pulled; `None` for discovery.
    pub group_id: Option<i32>,
    /// The XPM tenant id.
    pub tenant_id: String,
    /// Discovery or pull.
    pub kind: RunKind,
    /// How it ended.
    pub status: RunStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended (`None` while running or if it was killed).
    pub finished_at: Option<DateTime<Utc>>,
    /// XPM calls it made.
    pub calls: u32,
    /// Counts of what it changed (a pull's [`crate::pull::PullCounts`] as JSON), when it succeeded.
    #[ts(type = "Record<string, number> | null")]
    pub summary: Option<serde_json::Value>,
    /// Why it failed, in the words shown to the user.
    pub error: Option<String>,
}

fn to_run(m: sync_run::Model) -> SyncRun {
    SyncRun {
        id: m.id,
        group_id: m.group_id,
        tenant_id: m.tenant_id,
        kind: RunKind::parse(&m.kind),
        status: RunStatus::parse(&m.status),
        started_at: m.started_at,
        finished_at: m.finished_at,
        calls: u32::try_from(m.calls).unwrap_or(0),
        summary: m.summary.and_then(|s| serde_json::from_str(&s).ok()),
        error: m.error,
    }
}

/// Records the start of a run, first marking any earlier run of the same kind and group that is
/// still `running` as `interrupted` (its process died; its transaction never committed).
pub(crate) async fn start<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    group_id: Option<i32>,
    tenant: &str,
    kind: RunKind,
    now: DateTime<Utc>,
) -> Result<i32> {
    let mut stale = sync_run::Entity::find()
        .filter(sync_run::Column::OrganisationId.eq(org.0))
        .filter(sync_run::Column::Kind.eq(kind.as_str()))
        .filter(sync_run::Column::Status.eq(RunStatus::Running.as_str()));
    stale = match group_id {
        Some(g) => stale.filter(sync_run::Column::GroupId.eq(g)),
        None => stale.filter(sync_run::Column::GroupId.is_null()),
    };
    for run in stale.all(db).await? {
        let mut active: sync_run::ActiveModel = run.into();
        active.status = Set(RunStatus::Interrupted.as_str().to_owned());
        active.update(db).await?;
    }
    let row = sync_run::ActiveModel {
        organisation_id: Set(org.0),
        group_id: Set(group_id),
        tenant_id: Set(tenant.to_owned()),
        kind: Set(kind.as_str().to_owned()),
        status: Set(RunStatus::Running.as_str().to_owned()),
        started_at: Set(now),
        finished_at: Set(None),
        calls: Set(0),
        summary: Set(None),
        error: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// Records how a run ended.
pub(crate) async fn finish<C: ConnectionTrait>(
    db: &C,
    id: i32,
    status: RunStatus,
    calls: u32,
    summary: Option<serde_json::Value>,
    error: Option<String>,
    now: DateTime<Utc>,
) -> Result<()> {
    sync_run::ActiveModel {
        id: Set(id),
        status: Set(status.as_str().to_owned()),
        finished_at: Set(Some(now)),
        calls: Set(i32::try_from(calls).unwrap_or(i32::MAX)),
        summary: Set(summary.map(|v| v.to_string())),
        error: Set(error),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// The organisation's runs, newest first: a group's pulls (`Some(group)`), or discovery runs
/// (`None`); at most `limit`.
///
/// # Errors
/// [`crate::Error::Db`] on database failure.
pub async fn list(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: Option<i32>,
    limit: u64,
) -> Result<Vec<SyncRun>> {
    let mut query = sync_run::Entity::find().filter(sync_run::Column::OrganisationId.eq(org.0));
    query = match group_id {
        Some(g) => query.filter(sync_run::Column::GroupId.eq(g)),
        None => query.filter(sync_run::Column::GroupId.is_null()),
    };
    Ok(query
        .order_by_desc(sync_run::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_run)
        .collect())
}

/// The latest discovery run of `tenant` that ended (succeeded or failed), if any.
pub(crate) async fn last_discovery<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    tenant: Option<&str>,
) -> Result<Option<SyncRun>> {
    let mut query = sync_run::Entity::find()
        .filter(sync_run::Column::OrganisationId.eq(org.0))
        .filter(sync_run::Column::Kind.eq(RunKind::Discovery.as_str()))
        .filter(
            sync_run::Column::Status
                .is_in([RunStatus::Succeeded.as_str(), RunStatus::Failed.as_str()]),
        );
    if let Some(t) = tenant {
        query = query.filter(sync_run::Column::TenantId.eq(t));
    }
    Ok(query
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await?
        .map(to_run))
}
