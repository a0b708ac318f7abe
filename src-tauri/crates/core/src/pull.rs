//! Pull (issue 8, product-spec §8.4–§8.8, §8.11): sync a linked group's clients and
//! relationships from XPM into StructureGram.
//!
//! # The run
//! 1. **Fetch** (xpm-api.md §2, §6), the cheapest correct plan, every call through the shared
//!    rate-limited [`xpm::XpmClient`]:
//!    - always `clientgroup.api/get/{group}` — the member list is re-read on every pull (1 call);
//!    - first pull (or [`PullOptions::full`]): the members' details, by one `client.api/get`
//!      per member (N calls), or — from [`PullOptions::detailed_list_from`] members up — by one
//!      `client.api/list?detailed=true` (1 call, but a large response on big practices);
//!    - later pulls: one `client.api/list?detailed=true&modifiedsince=<last pull − 10 min>`
//!      (1 call; the margin absorbs clock differences with XPM) plus one `get` per member not
//!      yet mapped and not in that list. Members unchanged since the last pull are not read.
//!      XPM does not bump a client's modified time for relationship or membership changes
//!      (xpm-api.md §7.8), so a relationship-only change is picked up when either client
//!      changes, or by a full pull;
//!    - related clients outside the group that are not yet mapped: one `get` each (unless the
//!      detailed list already had them), or none when they are flagged instead
//!      ([`OutsidePolicy::Flag`]).
//!
//!    Cost: first pull `1 + N` calls (or 2), a later pull `2 + new members`, plus unmapped
//!    related clients. [`PullReport::plan`] gives the numbers of each run.
//! 2. **Map** each client's business structure ([`crate::structures`]): standard table, saved
//!    rule, keyword (applied, flagged), else a *needs input* review item.
//! 3. **Duplicate safeguards** (§8.8): an unmapped incoming client that matches an existing
//!    unmapped entity of the same kind — individual: first + last name + date of birth → high,
//!    first + last name → medium; company, trust, partnership, SMSF: same name → medium; same
//!    ABN or ACN → high — is not created; it becomes a review item (link to it, or create new).
//! 4. **Relationships** (§8.11): XPM shows each relationship on both clients — the plain label
//!    on one ("Director" on the company, related client = the director), "… Of" on the other
//!    ("Director Of" on the person) — so both sides merge into one directed relationship keyed
//!    by (source client, type, target client). Types map as: Director, Secretary, Public
//!    Officer, Trustee (→ Executor when the target is a deceased estate), Appointer/Appointor
//!    (→ Appointor), Beneficiary, Settlor, Partner, Shareholder (→ Unitholder when the target is
//!    a trust), Unit Holder (→ Unitholder), Member (→ SMSF member), Husband/Wife/Spouse (→ one
//!    Spouse), Parent Of/Child Of (→ Parent, parent to child), Associate, Auditor, Owner. Shares
//!    come from `NumberOfShares` (Shareholder, Unitholder, Owner), percentages from `Percentage`
//!    (Partner, Shareholder, Unitholder, Owner), and the start and end dates. Unknown labels,
//!    ambiguous direction (both sides plain), broken rules (e.g. partner totals over 100%) and
//!    ends that are not imported become review items — never silent drops. XPM has no share
//!    class, so each holding imported without one asks for it; a mapped relationship that XPM
//!    no longer shows on a re-read member asks whether to delete it here too.
//! 5. **Apply** in one database transaction: entities (created, or updated when XPM's values
//!    changed since the last pull), group memberships, relationships, their XPM mappings, the
//!    review items, the link's last-pull time and the run record. A pull that fails or is
//!    killed half-way changes nothing; the next one starts clean. A second pull of an unchanged
//!    group changes nothing. A client that left the XPM group becomes a review item, never a
//!    delete; a mapped client whose business structure now means another entity kind becomes a
//!    review item (an entity's kind cannot change). XPM's `TaxNumber` is masked, so it is never
//!    stored: a stored TFN stays.
//!
//! Re-running the pull after deciding review items ([`crate::review::decide`]) is *Retry with
//! decisions*: the clients those items are about are read again and the decisions carried out
//! in that run's transaction. An item closes only when a run looked at its clients again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use xpm::{Client, Field, RelationshipType};

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::model::{
    EntityInput, EntityKind, EntityStatus, RelationshipInput, RelationshipKind, TrustType,
};
use crate::review::{
    Decision, DuplicateCandidate, ReviewKind, ReviewPayload, ReviewState, ReviewSummary,
};
use crate::runs::{self, RunKind, RunStatus};
use crate::schema::{
    entity, group_member, relationship, review_item, xpm_client_map, xpm_group, xpm_group_link,
    xpm_relationship_map,
};
use crate::structures::{self, MatchSource};
use crate::tfn::TfnCipher;
use crate::{entities, groups, relationships};

/// From this many clients to read, one `client.api/list?detailed=true` is used instead of one
/// `client.api/get` per client (xpm-api.md §6: worth it above about one minute's budget).
pub const DETAILED_LIST_FROM: usize = 50;

/// How far before the last pull `modifiedsince` reaches, to absorb clock differences between
/// this computer and XPM.
pub const MODIFIED_SINCE_MARGIN_MINUTES: i64 = 10;

/// What to do with related clients outside the group (product-spec §8.4, issue 8 §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum OutsidePolicy {
    /// Import them as entities in no group (one `get` each the first time).
    #[default]
    Import,
    /// Do not read them; raise a review item for each instead.
    Flag,
}

/// Choices for one pull.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PullOptions {
    /// Re-read every member in detail, ignoring `modifiedsince`.
    pub full: bool,
    /// Related clients outside the group.
    pub outside: OutsidePolicy,
    /// From this many clients to read, use one detailed list ([`DETAILED_LIST_FROM`]).
    pub detailed_list_from: u32,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            full: false,
            outside: OutsidePolicy::Import,
            detailed_list_from: DETAILED_LIST_FROM as u32,
        }
    }
}

/// The phase a pull is in, for the progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum PullPhase {
    /// Reading the group's member list.
    Members,
    /// Reading the members' details.
    Clients,
    /// Reading related clients outside the group.
    Related,
    /// Writing the changes (one transaction).
    Applying,
}

/// Progress of a running pull: `done` of `total` XPM calls planned so far, and the time left at
/// XPM's 60 calls a minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PullProgress {
    /// The phase.
    pub phase: PullPhase,
    /// XPM calls made.
    pub done: u32,
    /// XPM calls planned (grows when related clients are found).
    pub total: u32,
    /// Estimated seconds left (one second per remaining call).
    pub eta_seconds: u32,
}

/// Progress reporting and cancellation for [`pull`].
#[derive(Default)]
pub struct PullControl {
    /// Set to stop the pull before its next XPM call; nothing is written.
    pub cancel: AtomicBool,
    /// Called after every XPM call and when applying starts.
    pub on_progress: Option<Box<dyn Fn(PullProgress) + Send + Sync>>,
}

impl PullControl {
    fn report(&self, phase: PullPhase, done: u32, total: u32) {
        if let Some(f) = &self.on_progress {
            f(PullProgress {
                phase,
                done,
                total,
                eta_seconds: total.saturating_sub(done),
            });
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// How the members' details were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum FetchStrategy {
    /// One `client.api/get` per client.
    PerClient,
    /// One `client.api/list?detailed=true` for all.
    DetailedList,
    /// One `client.api/list?detailed=true&modifiedsince=…`, plus a `get` per new member.
    ModifiedSince,
}

/// The fetch plan of a run and its cost in XPM calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PullPlan {
    /// How members were read.
    pub strategy: FetchStrategy,
    /// Members of the XPM group.
    pub members: u32,
    /// Member records read in detail.
    pub members_read: u32,
    /// Related clients outside the group read with `get`.
    pub related_read: u32,
    /// XPM calls made in total.
    pub calls: u32,
}

/// What a pull changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PullCounts {
    /// Entities created.
    pub entities_created: u32,
    /// Entities updated from XPM.
    pub entities_updated: u32,
    /// Existing entities newly mapped to their XPM client (a duplicate linked by decision).
    pub entities_linked: u32,
    /// Entities added to the group.
    pub members_added: u32,
    /// Entities removed from the group (by decision).
    pub members_removed: u32,
    /// Relationships created.
    pub relationships_created: u32,
    /// Relationships updated from XPM.
    pub relationships_updated: u32,
    /// Relationships deleted because XPM no longer has them (by decision).
    pub relationships_deleted: u32,
    /// Review items raised or still open after the run.
    pub review_open: u32,
}

/// The result of a pull.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PullReport {
    /// The run in the history.
    pub run_id: i32,
    /// What was read and what it cost.
    pub plan: PullPlan,
    /// What changed.
    pub counts: PullCounts,
    /// The open review items by state.
    pub review: ReviewSummary,
}

/// An XPM client as read, with where it came from.
pub(crate) struct Incoming {
    pub(crate) client: Client,
    pub(crate) uuid: String,
    pub(crate) member: bool,
}

/// One merged XPM relationship.
#[derive(Clone, Debug)]
pub(crate) struct Fact {
    pub(crate) key: String,
    pub(crate) base: RelationshipType,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) labels: Vec<String>,
    pub(crate) uuids: Vec<String>,
    pub(crate) shares: Option<i64>,
    pub(crate) percentage: Option<f64>,
    pub(crate) start: Option<chrono::NaiveDate>,
    pub(crate) end: Option<chrono::NaiveDate>,
    symmetric: bool,
}

pub(crate) fn uuid_text(u: &uuid::Uuid) -> String {
    u.hyphenated().to_string()
}

pub(crate) fn hash<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).expect("values serialise");
    Sha256::digest(json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A unique index refusing a write means another pull (or a link or an edit) saved the same
/// clients at the same moment: say so, rather than showing a database error.
fn clash(e: Error) -> Error {
    match &e {
        Error::Db(db)
            if matches!(
                db.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Error::Conflict(
                "Another pull saved some of these clients at the same time, so this one changed nothing. Pull again."
                    .into(),
            )
        }
        Error::Db(db) if crate::links::is_busy(db) => Error::Conflict(
            "Another change to the database was being saved at the same moment, so this pull changed nothing. Pull again."
                .into(),
        ),
        _ => e,
    }
}

fn call_failed(action: &str, e: xpm::Error) -> Error {
    Error::xpm(action, e)
}

/// Pulls a linked group from XPM (see the module docs for the plan, the mapping and the
/// rules), applying everything decidable — and every decision recorded on the group's review
/// items — in one transaction. Run it again after deciding review items: that is *Retry with
/// decisions*.
///
/// # Errors
/// [`Error::NotFound`] for an unknown group; [`Error::Validation`] if the group is not linked,
/// is linked in another XPM practice than `session`'s, or the run was cancelled;
/// [`Error::XpmCall`] when a call fails (the run is recorded as failed with the message;
/// nothing else changes); [`Error::Db`].
#[allow(clippy::too_many_arguments)]
pub async fn pull(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    group_id: i32,
    options: &PullOptions,
    control: &PullControl,
    now: DateTime<Utc>,
) -> Result<PullReport> {
    pull_with(
        db, org, cipher, client, session, group_id, options, control, now, None,
    )
    .await
}

/// Client records read once for several groups: the bulk scheduler's one shared
/// `client.api/list?detailed=true` ([`crate::bulk`]). A pull given one takes its members'
/// details from it instead of making its own list call; everything after the fetch (mapping,
/// duplicates, relationships, apply) is the same code.
pub(crate) struct Shared<'a> {
    /// How the list was read: [`FetchStrategy::DetailedList`] (every non-archived client) or
    /// [`FetchStrategy::ModifiedSince`] (only the clients changed since a time).
    pub strategy: FetchStrategy,
    /// The listed clients by lower-case hyphenated UUID.
    pub clients: &'a HashMap<String, Client>,
    /// The group's members, when the full list gives them (each client's `<Groups>`,
    /// xpm-api.md §2.3); `None` = read them with `clientgroup.api/get`.
    pub members: Option<Vec<String>>,
}

/// [`pull`], optionally with client records already read for the whole queue.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn pull_with(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    group_id: i32,
    options: &PullOptions,
    control: &PullControl,
    now: DateTime<Utc>,
    shared: Option<Shared<'_>>,
) -> Result<PullReport> {
    let g = groups::get(db, org, group_id).await?;
    let link = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::GroupId.eq(group_id))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::Validation(format!(
                "The group \u{201c}{}\u{201d} is not linked to an XPM group. Link it on the Import Groups page first.",
                g.name
            ))
        })?;
    let tenant = session.tenant.as_str().to_owned();
    if link.tenant_id != tenant {
        return Err(Error::Validation(format!(
            "The group \u{201c}{}\u{201d} is linked to a group in another XPM practice than the one connected. Connect that practice, or unlink the group.",
            g.name
        )));
    }
    let run = runs::start(db, org, Some(group_id), &tenant, RunKind::Pull, now).await?;
    let mut calls = 0u32;
    let fetched = fetch(
        db, org, client, session, &link, &tenant, options, control, &mut calls, shared,
    )
    .await;
    let (incoming, members, plan) = match fetched {
        Ok(f) => f,
        Err(e) => {
            let status = if control.cancelled() {
                RunStatus::Cancelled
            } else {
                RunStatus::Failed
            };
            runs::finish(db, run, status, calls, None, Some(e.to_string()), now).await?;
            return Err(e);
        }
    };
    control.report(PullPhase::Applying, calls, calls);
    if control.cancelled() {
        let message = "The pull was cancelled; nothing was changed.".to_owned();
        runs::finish(
            db,
            run,
            RunStatus::Cancelled,
            calls,
            None,
            Some(message.clone()),
            now,
        )
        .await?;
        return Err(Error::Validation(message));
    }
    let txn = db.begin().await?;
    let applied = {
        let mut apply = Apply {
            txn: &txn,
            org,
            cipher,
            tenant: tenant.clone(),
            group_id,
            run,
            now,
            counts: PullCounts::default(),
            raised: HashSet::new(),
            items: HashMap::new(),
            maps: HashMap::new(),
            read: HashSet::new(),
        };
        apply
            .run(incoming, &members, options.outside)
            .await
            .map(|()| apply.counts)
    };
    let counts = match applied {
        Ok(counts) => counts,
        Err(e) => {
            let e = clash(e);
            txn.rollback().await?;
            runs::finish(
                db,
                run,
                RunStatus::Failed,
                calls,
                None,
                Some(e.to_string()),
                now,
            )
            .await?;
            return Err(e);
        }
    };
    let mut active = link.into_active_model();
    active.last_pull_at = Set(Some(now));
    active.update(&txn).await?;
    if let Some(row) = xpm_group::Entity::find()
        .filter(xpm_group::Column::OrganisationId.eq(org.0))
        .filter(xpm_group::Column::TenantId.eq(&tenant))
        .filter(xpm_group::Column::XpmUuid.eq(&members.group_uuid))
        .one(&txn)
        .await?
    {
        let mut active = row.into_active_model();
        active.member_count = Set(Some(i32::try_from(members.len()).unwrap_or(i32::MAX)));
        active.update(&txn).await?;
    }
    let plan = PullPlan { calls, ..plan };
    runs::finish(
        &txn,
        run,
        RunStatus::Succeeded,
        calls,
        Some(serde_json::to_value(counts).expect("counts serialise")),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    let (_, review) = crate::review::list(db, org, group_id, false).await?;
    Ok(PullReport {
        run_id: run,
        plan,
        counts: PullCounts {
            review_open: review.ready + review.needs_input + review.waiting,
            ..counts
        },
        review,
    })
}

/// The member list with the group's UUID carried alongside.
struct Members {
    group_uuid: String,
    uuids: Vec<String>,
}

impl Members {
    fn len(&self) -> usize {
        self.uuids.len()
    }
}

#[allow(clippy::too_many_arguments)]
async fn fetch(
    db: &DatabaseConnection,
    org: OrgId,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    link: &xpm_group_link::Model,
    tenant: &str,
    options: &PullOptions,
    control: &PullControl,
    calls: &mut u32,
    shared: Option<Shared<'_>>,
) -> Result<(Vec<Incoming>, Members, PullPlan)> {
    let cancelled = || Error::Validation("The pull was cancelled; nothing was changed.".into());
    let group_uuid: uuid::Uuid = link.xpm_uuid.parse().map_err(|_| {
        Error::Validation(format!(
            "The link holds an invalid XPM group id ({}).",
            link.xpm_uuid
        ))
    })?;
    let members: Vec<String> = match shared.as_ref().and_then(|s| s.members.clone()) {
        Some(members) => members,
        None => {
            control.report(PullPhase::Members, 0, 1);
            *calls += 1;
            let group = client
                .get_client_group(session, &group_uuid)
                .await
                .map_err(|e| call_failed("Reading the XPM group's members", e))?;
            group.members.iter().map(|m| uuid_text(&m.uuid)).collect()
        }
    };
    let mapped: HashSet<String> = xpm_client_map::Entity::find()
        .filter(xpm_client_map::Column::OrganisationId.eq(org.0))
        .filter(xpm_client_map::Column::TenantId.eq(tenant))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.xpm_uuid)
        .collect();
    let mut read: BTreeMap<String, Client> = BTreeMap::new();
    let mut own_list: HashMap<String, Client> = HashMap::new();
    let first = link.last_pull_at.is_none() || options.full;
    let strategy;
    let mut to_get: Vec<String>;
    if let Some(s) = &shared {
        strategy = s.strategy;
        to_get = Vec::new();
    } else if first {
        if members.len() >= options.detailed_list_from as usize && !members.is_empty() {
            strategy = FetchStrategy::DetailedList;
            to_get = Vec::new();
        } else {
            strategy = FetchStrategy::PerClient;
            to_get = members.clone();
        }
    } else {
        strategy = FetchStrategy::ModifiedSince;
        to_get = Vec::new();
    }
    if strategy != FetchStrategy::PerClient && shared.is_none() {
        if control.cancelled() {
            return Err(cancelled());
        }
        let since = match strategy {
            FetchStrategy::ModifiedSince => link
                .last_pull_at
                .map(|t| t - Duration::minutes(MODIFIED_SINCE_MARGIN_MINUTES)),
            _ => None,
        };
        control.report(PullPhase::Clients, *calls, *calls + 1);
        *calls += 1;
        let list = list_detailed(client, session, since).await?;
        for c in list {
            if let Some(u) = &c.uuid {
                own_list.insert(uuid_text(u), c);
            }
        }
    }
    let by_list: &HashMap<String, Client> = match &shared {
        Some(s) => s.clients,
        None => &own_list,
    };
    if strategy != FetchStrategy::PerClient {
        for m in &members {
            match by_list.get(m) {
                Some(c) => {
                    read.insert(m.clone(), c.clone());
                }
                // Not in the list: unchanged (later pulls) — read it only if it is new to us;
                // or archived (the list leaves archived clients out) — read it.
                None if strategy == FetchStrategy::DetailedList || !mapped.contains(m) => {
                    to_get.push(m.clone())
                }
                None => {}
            }
        }
    }
    // Clients that open review items are about: read them again so their decisions can be
    // carried out (keyword matches and removed members need no read).
    let mut item_outside: Vec<String> = Vec::new();
    let member_set: HashSet<&String> = members.iter().collect();
    for (uuid, outside_ok) in open_item_clients(db, org, link.group_id).await? {
        if member_set.contains(&uuid) {
            if !read.contains_key(&uuid) && !to_get.contains(&uuid) {
                to_get.push(uuid);
            }
        } else if outside_ok && !mapped.contains(&uuid) && !item_outside.contains(&uuid) {
            item_outside.push(uuid);
        }
    }
    let mut total = *calls + to_get.len() as u32;
    let mut members_read = read.len() as u32;
    for uuid in &to_get {
        if control.cancelled() {
            return Err(cancelled());
        }
        control.report(PullPhase::Clients, *calls, total);
        *calls += 1;
        let c = get(client, session, uuid).await?;
        read.insert(uuid.clone(), c);
        members_read += 1;
    }
    // Related clients outside the group that we cannot resolve from the database.
    let mut outside: Vec<String> = Vec::new();
    for c in read.values() {
        for r in c.relationships.iter().flatten() {
            let u = uuid_text(&r.related_client.uuid);
            if !member_set.contains(&u) && !outside.contains(&u) {
                outside.push(u);
            }
        }
    }
    let mut incoming: Vec<Incoming> = read
        .into_iter()
        .map(|(uuid, client)| Incoming {
            client,
            uuid,
            member: true,
        })
        .collect();
    let mut related_read = 0;
    {
        let mut need: Vec<String> = match options.outside {
            OutsidePolicy::Import => outside
                .into_iter()
                .filter(|u| by_list.contains_key(u) || !mapped.contains(u))
                .collect(),
            OutsidePolicy::Flag => Vec::new(),
        };
        for u in item_outside {
            if !need.contains(&u) {
                need.push(u);
            }
        }
        total += need.iter().filter(|u| !by_list.contains_key(*u)).count() as u32;
        for uuid in need {
            let c = match by_list.get(&uuid) {
                Some(c) => c.clone(),
                None => {
                    if control.cancelled() {
                        return Err(cancelled());
                    }
                    control.report(PullPhase::Related, *calls, total);
                    *calls += 1;
                    related_read += 1;
                    get(client, session, &uuid).await?
                }
            };
            incoming.push(Incoming {
                client: c,
                uuid,
                member: false,
            });
        }
    }
    Ok((
        incoming,
        Members {
            group_uuid: link.xpm_uuid.clone(),
            uuids: members.clone(),
        },
        PullPlan {
            strategy,
            members: members.len() as u32,
            members_read,
            related_read,
            calls: *calls,
        },
    ))
}

/// XPM client UUIDs that the group's open review items need read again: the ends of
/// relationship items, the client of type, duplicate and invalid-client items, and flagged
/// outside clients the user chose to create.
async fn open_item_clients(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
) -> Result<Vec<(String, bool)>> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for row in review_item::Entity::find()
        .filter(review_item::Column::OrganisationId.eq(org.0))
        .filter(review_item::Column::GroupId.eq(group_id))
        .filter(review_item::Column::State.ne(ReviewState::Resolved.as_str()))
        .all(db)
        .await?
    {
        let item = crate::review::to_item(row);
        // (client, whether it may be read even if it is outside the group)
        let uuids = match item.kind {
            ReviewKind::KeywordMatch | ReviewKind::MemberRemoved | ReviewKind::HoldingClass => {
                vec![]
            }
            ReviewKind::OutsideClient if item.decision != Some(Decision::CreateNew) => vec![],
            // A relationship's ends are re-read only as members: an outside end is read when
            // the outside client itself is wanted (imported, or chosen to be created).
            ReviewKind::Relationship | ReviewKind::RelationshipGone => vec![
                (item.payload.from_uuid, false),
                (item.payload.to_uuid, false),
            ],
            _ => vec![(item.payload.xpm_uuid, true)],
        };
        for (u, outside_ok) in uuids {
            if let Some(u) = u {
                if !out.iter().any(|(o, _)| o == &u) {
                    out.push((u, outside_ok));
                }
            }
        }
    }
    Ok(out)
}

/// One `client.api/list?detailed=true`, of the clients modified since `since` if given (a
/// pull's own list, and the bulk scheduler's shared one).
pub(crate) async fn list_detailed(
    client: &xpm::XpmClient,
    session: &xpm::Session,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Client>> {
    client
        .list_clients(
            session,
            &xpm::ListClientsOptions {
                detailed: true,
                modified_since: since,
            },
        )
        .await
        .map_err(|e| call_failed("Reading the clients from XPM", e))
}

async fn get(client: &xpm::XpmClient, session: &xpm::Session, uuid: &str) -> Result<Client> {
    let parsed: uuid::Uuid = uuid
        .parse()
        .map_err(|_| Error::Validation(format!("XPM sent an invalid client id ({uuid}).")))?;
    Ok(client
        .get_client(session, &parsed)
        .await
        .map_err(|e| call_failed("Reading a client from XPM", e))?
        .client)
}

// ---------------------------------------------------------------------------------------------
// Mapping an XPM client onto entity fields.

pub(crate) fn text(f: &Field<String>) -> Option<String> {
    f.value()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// Missing keeps `existing`; empty clears; a value replaces.
pub(crate) fn pick(f: &Field<String>, existing: Option<String>) -> Option<String> {
    match f {
        Field::Missing => existing,
        _ => text(f),
    }
}

pub(crate) fn address(parts: [&Field<String>; 5], existing: Option<String>) -> Option<String> {
    if parts.iter().all(|p| p.is_missing()) {
        return existing;
    }
    let joined: Vec<String> = parts.iter().filter_map(|p| text(p)).collect();
    Some(joined.join(", ")).filter(|s| !s.is_empty())
}

pub(crate) fn identifier(
    f: &Field<String>,
    len: usize,
    existing: Option<String>,
) -> Option<String> {
    match f {
        Field::Missing => existing,
        _ => text(f)
            .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect::<String>())
            // A value that is not a valid ABN/ACN is left out rather than failing the client.
            .filter(|s| s.len() == len && s.chars().all(|c| c.is_ascii_digit())),
    }
}

/// The entity input for an XPM client: `base` is the existing entity's input (kept where XPM
/// says nothing), or a fresh one of `kind`.
pub(crate) fn entity_input(
    c: &Client,
    kind: EntityKind,
    trust_type: Option<TrustType>,
    base: Option<EntityInput>,
) -> EntityInput {
    let fresh = base.is_none();
    let b = base.unwrap_or(EntityInput {
        kind,
        trust_type,
        ..Default::default()
    });
    let mut input = EntityInput {
        kind: b.kind,
        trust_type: b.trust_type,
        name: c.name.split_whitespace().collect::<Vec<_>>().join(" "),
        first_name: None,
        middle_name: b.middle_name.clone(),
        last_name: None,
        other_name: None,
        date_of_birth: None,
        date_of_death: b.date_of_death,
        abn: identifier(&c.business_number, 11, b.abn.clone()),
        acn: identifier(&c.company_number, 9, b.acn.clone()),
        // XPM masks TaxNumber (xpm-api.md §3): never taken, so a stored TFN stays.
        tfn: None,
        email: pick(&c.email, b.email.clone()),
        phone: pick(&c.phone, b.phone.clone()),
        address: address(
            [&c.address, &c.city, &c.region, &c.post_code, &c.country],
            b.address.clone(),
        ),
        postal_address: address(
            [
                &c.postal_address,
                &c.postal_city,
                &c.postal_region,
                &c.postal_post_code,
                &c.postal_country,
            ],
            b.postal_address.clone(),
        ),
        status: if c.is_archived.value() == Some(&true) {
            Some(EntityStatus::Archived)
        } else if fresh || b.status == Some(EntityStatus::Archived) {
            None
        } else {
            b.status
        },
        notes: b.notes.clone(),
    };
    if input.kind == EntityKind::Individual {
        let words: Vec<&str> = c.name.split_whitespace().collect();
        let (first_guess, last_guess) = match words.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                (Some(rest.join(" ")), Some((*last).to_owned()))
            }
            Some((last, _)) => (None, Some((*last).to_owned())),
            None => (None, None),
        };
        input.first_name = text(&c.first_name).or(if c.last_name.value().is_some() {
            None
        } else {
            first_guess
        });
        input.last_name = text(&c.last_name).or(last_guess);
        input.other_name = pick(&c.other_name, b.other_name.clone());
        input.date_of_birth = match &c.date_of_birth {
            Field::Missing => b.date_of_birth,
            f => f.value().copied(),
        };
    }
    input
}

/// An individual renamed in XPM through its `Name` alone: the first and last name to apply.
///
/// Here an individual's name is always its first, middle and last name (see
/// [`entities::normalise_input`]), while XPM keeps `Name` (the display name) apart from
/// `FirstName` and `LastName` (xpm-api.md §3), and an update that sends only `<Name>` leaves
/// them as they were (§2, [VCR update.yml]). So when, since the last sync (`known`, the
/// baseline in `xpm_client_map.xpm_values`), XPM's `Name` changed but `FirstName` and
/// `LastName` did not, and the old `Name` was spelled from them, the new `Name` is what the XPM
/// user changed and wins (product-spec §8.4: an entity is updated when XPM's values changed):
/// XPM's first name is kept when the new name still starts with it (the rest, less the middle
/// name kept here, is the last name), else its last name when the new name still ends with it,
/// else the name is split as for a client without first and last names (last word = last
/// name). `None` when that is not the case: the fields are taken as they are.
fn renamed(
    c: &Client,
    known: Option<&crate::push::Values>,
    middle: &Option<String>,
) -> Option<(Option<String>, String)> {
    let known = known?;
    let now = crate::push::values_of(c);
    let (first, last) = (now.first_name.as_deref(), now.last_name.as_deref()?);
    let name = now.name.as_deref()?;
    if now.name == known.name
        || now.first_name != known.first_name
        || now.last_name != known.last_name
        || known.name.as_deref() != Some(spelled(first, None, last).as_str())
            && known.name.as_deref() != Some(spelled(first, middle.as_deref(), last).as_str())
        || name == spelled(first, middle.as_deref(), last)
    {
        return None;
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let middle: Vec<&str> = middle.as_deref().unwrap_or("").split_whitespace().collect();
    let first_words: Vec<&str> = first.unwrap_or("").split_whitespace().collect();
    let last_words: Vec<&str> = last.split_whitespace().collect();
    let join = |w: &[&str]| Some(w.join(" ")).filter(|s| !s.is_empty());
    if !first_words.is_empty() && words.len() > first_words.len() && words.starts_with(&first_words)
    {
        let mut rest = &words[first_words.len()..];
        if !middle.is_empty() && rest.len() > middle.len() && rest.starts_with(&middle) {
            rest = &rest[middle.len()..];
        }
        return Some((join(&first_words), rest.join(" ")));
    }
    if words.len() > last_words.len() && words.ends_with(&last_words) {
        let mut rest = &words[..words.len() - last_words.len()];
        if !middle.is_empty() && rest.len() > middle.len() && rest.ends_with(&middle) {
            rest = &rest[..rest.len() - middle.len()];
        }
        return Some((join(rest), last.to_owned()));
    }
    let (last, rest) = words.split_last()?;
    Some((join(rest), (*last).to_owned()))
}

/// First, middle and last name as one name, the way an individual's name is spelled here.
fn spelled(first: Option<&str>, middle: Option<&str>, last: &str) -> String {
    [first, middle, Some(last)]
        .into_iter()
        .flatten()
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn input_of(m: &entity::Model) -> EntityInput {
    EntityInput {
        kind: m.kind,
        trust_type: m.trust_type,
        name: m.name.clone(),
        first_name: m.first_name.clone(),
        middle_name: m.middle_name.clone(),
        last_name: m.last_name.clone(),
        other_name: m.other_name.clone(),
        date_of_birth: m.date_of_birth,
        date_of_death: m.date_of_death,
        abn: m.abn.clone(),
        acn: m.acn.clone(),
        tfn: None,
        email: m.email.clone(),
        phone: m.phone.clone(),
        address: m.address.clone(),
        postal_address: m.postal_address.clone(),
        status: Some(m.status),
        notes: m.notes.clone(),
    }
}

/// What of an XPM client a pull takes, hashed to tell whether XPM changed it.
pub(crate) fn client_hash(c: &Client) -> String {
    let mut probe = entity_input(c, EntityKind::Individual, None, None);
    probe.kind = EntityKind::Individual;
    hash(&(
        &probe,
        c.business_structure.value(),
        c.first_name.value(),
        c.last_name.value(),
    ))
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    }
}

/// Duplicate candidates for an unmapped client among unmapped entities of its kind (§8.8).
pub(crate) fn duplicates(input: &EntityInput, pool: &[entity::Model]) -> Vec<DuplicateCandidate> {
    let mut out = Vec::new();
    for e in pool.iter().filter(|e| e.kind == input.kind) {
        let (confidence, reason) = if input.abn.is_some() && input.abn == e.abn {
            ("high", "same ABN")
        } else if input.acn.is_some() && input.acn == e.acn {
            ("high", "same ACN")
        } else if input.kind == EntityKind::Individual {
            if !(same(&input.first_name, &e.first_name) && same(&input.last_name, &e.last_name)) {
                continue;
            }
            if input.date_of_birth.is_some() && input.date_of_birth == e.date_of_birth {
                ("high", "same first name, last name and date of birth")
            } else {
                ("medium", "same first and last name")
            }
        } else if input.name.trim().eq_ignore_ascii_case(e.name.trim()) {
            ("medium", "same name")
        } else {
            continue;
        };
        out.push(DuplicateCandidate {
            entity_id: e.id,
            name: e.name.clone(),
            confidence: confidence.into(),
            reason: reason.into(),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Relationships.

pub(crate) fn merge_relationships(incoming: &[Incoming]) -> Vec<Fact> {
    let mut facts: BTreeMap<String, Fact> = BTreeMap::new();
    for inc in incoming.iter().filter(|i| i.member) {
        for r in inc.client.relationships.iter().flatten() {
            let (base, of_side) = RelationshipType::parse(&r.label);
            let other = uuid_text(&r.related_client.uuid);
            let here = inc.uuid.clone();
            let (base, from, to, symmetric) = match base {
                RelationshipType::Husband | RelationshipType::Wife | RelationshipType::Spouse => {
                    let (a, b) = if here < other {
                        (here, other)
                    } else {
                        (other, here)
                    };
                    (RelationshipType::Spouse, a, b, true)
                }
                RelationshipType::ParentOf => (RelationshipType::ParentOf, here, other, false),
                RelationshipType::ChildOf => (RelationshipType::ParentOf, other, here, false),
                // "X Of" on this client: this client is X of the related one.
                b if of_side => (b, here, other, false),
                // Plain "X" on this client: the related client is X of this one.
                b => (b, other, here, false),
            };
            let key = format!("{from}|{}|{to}", base.as_str().to_lowercase());
            let entry = facts.entry(key.clone()).or_insert_with(|| Fact {
                key,
                base,
                from,
                to,
                labels: Vec::new(),
                uuids: Vec::new(),
                shares: None,
                percentage: None,
                start: None,
                end: None,
                symmetric,
            });
            if !entry.labels.contains(&r.label) {
                entry.labels.push(r.label.clone());
            }
            let u = uuid_text(&r.uuid);
            if !entry.uuids.contains(&u) {
                entry.uuids.push(u);
                entry.uuids.sort();
            }
            entry.shares = entry
                .shares
                .or(r.number_of_shares.value().copied().filter(|n| *n > 0));
            entry.percentage =
                entry
                    .percentage
                    .or(r.percentage.value().copied().filter(|p| *p > 0.0));
            entry.start = entry.start.or(r.start_date.value().copied());
            entry.end = entry.end.or(r.end_date.value().copied());
        }
    }
    facts.into_values().collect()
}

/// The StructureGram type of an XPM relationship, given its target; `None` = unknown label.
fn map_kind(base: &RelationshipType, to: &entity::Model) -> Option<RelationshipKind> {
    map_kind_for(base, to.kind, to.trust_type)
}

/// [`map_kind`] from the target's kind and trust type (reconciliation maps XPM relationships
/// whose target is not imported yet).
pub(crate) fn map_kind_for(
    base: &RelationshipType,
    to_kind: EntityKind,
    to_trust: Option<TrustType>,
) -> Option<RelationshipKind> {
    use RelationshipKind as K;
    let trust_of = |t: TrustType| to_kind == EntityKind::Trust && to_trust == Some(t);
    Some(match base {
        RelationshipType::Director => K::Director,
        RelationshipType::Secretary => K::Secretary,
        RelationshipType::PublicOfficer => K::PublicOfficer,
        RelationshipType::Trustee if trust_of(TrustType::DeceasedEstate) => K::Executor,
        RelationshipType::Trustee => K::Trustee,
        RelationshipType::Appointer => K::Appointor,
        RelationshipType::Beneficiary => K::Beneficiary,
        RelationshipType::Settlor => K::Settlor,
        RelationshipType::Partner => K::Partner,
        RelationshipType::Shareholder if to_kind == EntityKind::Trust => K::Unitholder,
        RelationshipType::Shareholder => K::Shareholder,
        RelationshipType::Member if to_kind == EntityKind::Smsf => K::SmsfMember,
        RelationshipType::Spouse | RelationshipType::Husband | RelationshipType::Wife => K::Spouse,
        RelationshipType::ParentOf | RelationshipType::ChildOf => K::Parent,
        RelationshipType::Associate => K::Associate,
        RelationshipType::Auditor => K::Auditor,
        RelationshipType::Owner => K::Owner,
        RelationshipType::Other(label) => match label.to_lowercase().replace(' ', "").as_str() {
            "unitholder" => K::Unitholder,
            "executor" => K::Executor,
            "appointor" => K::Appointor,
            _ => return None,
        },
        RelationshipType::Member => return None,
    })
}

pub(crate) fn relationship_input(
    f: &Fact,
    kind: RelationshipKind,
    from: i32,
    to: i32,
) -> RelationshipInput {
    use RelationshipKind as K;
    let holds_shares = matches!(kind, K::Shareholder | K::Unitholder | K::Owner);
    let holds_percent = matches!(kind, K::Partner | K::Shareholder | K::Unitholder | K::Owner);
    RelationshipInput {
        kind,
        from_id: from,
        to_id: to,
        shares: f.shares.filter(|_| holds_shares),
        share_class: None,
        percentage: f.percentage.filter(|_| holds_percent),
        start_date: f.start,
        end_date: f.end,
        label: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Applying.

struct Apply<'a> {
    txn: &'a DatabaseTransaction,
    org: OrgId,
    cipher: &'a TfnCipher,
    tenant: String,
    group_id: i32,
    run: i32,
    now: DateTime<Utc>,
    counts: PullCounts,
    /// Item keys raised (or kept open) by this run.
    raised: HashSet<String>,
    /// The group's items by key, as they were before this run.
    items: HashMap<String, review_item::Model>,
    /// XPM client UUID → mapping.
    maps: HashMap<String, xpm_client_map::Model>,
    /// XPM clients read by this run.
    read: HashSet<String>,
}

impl Apply<'_> {
    async fn run(
        &mut self,
        incoming: Vec<Incoming>,
        members: &Members,
        outside: OutsidePolicy,
    ) -> Result<()> {
        self.items = review_item::Entity::find()
            .filter(review_item::Column::OrganisationId.eq(self.org.0))
            .filter(review_item::Column::GroupId.eq(self.group_id))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|i| (i.item_key.clone(), i))
            .collect();
        self.maps = self.load_maps().await?;
        self.read = incoming.iter().map(|i| i.uuid.clone()).collect();
        let rules = structures::load_rules(self.txn, self.org).await?;

        // Entities.
        for inc in &incoming {
            self.client(inc, &rules).await?;
        }
        // Memberships.
        let current: HashSet<i32> = group_member::Entity::find()
            .filter(group_member::Column::GroupId.eq(self.group_id))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|m| m.entity_id)
            .collect();
        for uuid in &members.uuids {
            if let Some(map) = self.maps.get(uuid) {
                if !current.contains(&map.entity_id) {
                    groups::add_member(self.txn, self.group_id, map.entity_id, None, None).await?;
                    self.counts.members_added += 1;
                }
            }
        }
        self.removed_members(members, &current).await?;
        // Related clients outside the group, when flagged rather than imported.
        let member_set: HashSet<&String> = members.uuids.iter().collect();
        if outside == OutsidePolicy::Flag {
            for inc in incoming.iter().filter(|i| i.member) {
                for r in inc.client.relationships.iter().flatten() {
                    let u = uuid_text(&r.related_client.uuid);
                    if member_set.contains(&u) || self.maps.contains_key(&u) {
                        continue;
                    }
                    self.raise(
                        format!("outside:{u}"),
                        ReviewKind::OutsideClient,
                        ReviewState::NeedsInput,
                        format!("{} (outside the group)", r.related_client.name),
                        ReviewPayload {
                            xpm_uuid: Some(u.clone()),
                            name: Some(r.related_client.name.clone()),
                            reason: format!(
                                "{} is related to {} but is not in the XPM group; it was not imported.",
                                r.related_client.name, inc.client.name
                            ),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            }
        }
        // Relationships.
        let names: HashMap<String, String> = incoming
            .iter()
            .map(|i| (i.uuid.clone(), i.client.name.clone()))
            .chain(incoming.iter().flat_map(|i| {
                i.client.relationships.iter().flatten().map(|r| {
                    (
                        uuid_text(&r.related_client.uuid),
                        r.related_client.name.clone(),
                    )
                })
            }))
            .collect();
        let facts = merge_relationships(&incoming);
        let directed: HashSet<(String, String, String)> = facts
            .iter()
            .map(|f| (f.from.clone(), f.base.as_str().to_lowercase(), f.to.clone()))
            .collect();
        for fact in &facts {
            self.relationship(fact, &names, &directed).await?;
        }
        self.gone_relationships(&facts, members, &names).await?;
        self.close_stale_items().await
    }

    /// Mapped relationships XPM no longer shows on a member record read by this run: a review
    /// item (delete here too, or keep), never a silent delete.
    async fn gone_relationships(
        &mut self,
        facts: &[Fact],
        members: &Members,
        names: &HashMap<String, String>,
    ) -> Result<()> {
        let present: HashSet<&str> = facts.iter().map(|f| f.key.as_str()).collect();
        let maps = xpm_relationship_map::Entity::find()
            .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
            .all(self.txn)
            .await?;
        for map in maps {
            if present.contains(map.xpm_key.as_str()) {
                continue;
            }
            let parts: Vec<&str> = map.xpm_key.splitn(3, '|').collect();
            let [from, _, to] = parts.as_slice() else {
                continue;
            };
            let seen = [from, to].iter().any(|u| {
                let u = (**u).to_owned();
                members.uuids.contains(&u) && self.read.contains(&u)
            });
            if !seen {
                continue;
            }
            let key = format!("gone:{}", map.xpm_key);
            match self.decision(&key) {
                Some(Decision::DeleteHere) => {
                    let row =
                        relationships::get_row(self.txn, self.org, map.relationship_id).await?;
                    xpm_relationship_map::Entity::delete_by_id(map.id)
                        .exec(self.txn)
                        .await?;
                    relationship::Entity::delete_by_id(row.id)
                        .exec(self.txn)
                        .await?;
                    crate::audit::record(
                        self.txn,
                        self.org,
                        "delete",
                        "relationship",
                        Some(row.id),
                        row.kind.label(),
                        self.now,
                    )
                    .await?;
                    self.counts.relationships_deleted += 1;
                }
                Some(Decision::Keep) => {}
                _ => {
                    let row =
                        relationships::get_row(self.txn, self.org, map.relationship_id).await?;
                    let name = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_owned());
                    let (from_name, to_name) = (name(from), name(to));
                    self.raise(
                        key,
                        ReviewKind::RelationshipGone,
                        ReviewState::NeedsInput,
                        format!(
                            "{from_name} \u{2192} {to_name} ({}) is gone from XPM",
                            row.kind.label()
                        ),
                        ReviewPayload {
                            from_uuid: Some((*from).to_owned()),
                            from_name: Some(from_name.clone()),
                            to_uuid: Some((*to).to_owned()),
                            to_name: Some(to_name.clone()),
                            relationship_kind: Some(row.kind),
                            relationship_id: Some(row.id),
                            reason: format!(
                                "XPM no longer shows the {} relationship between {from_name} and {to_name}. Delete it here too, or keep it.",
                                row.kind.label().to_lowercase()
                            ),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn load_maps(&self) -> Result<HashMap<String, xpm_client_map::Model>> {
        Ok(xpm_client_map::Entity::find()
            .filter(xpm_client_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_client_map::Column::TenantId.eq(&self.tenant))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|m| (m.xpm_uuid.clone(), m))
            .collect())
    }

    fn decision(&self, key: &str) -> Option<Decision> {
        self.items
            .get(key)
            .filter(|i| ReviewState::parse(&i.state) != ReviewState::Resolved)
            .and_then(|i| i.decision.as_deref())
            .and_then(|d| serde_json::from_str(d).ok())
    }

    /// Raises (or refreshes) an open item; keeps its decision. A deferred item stays ready.
    async fn raise(
        &mut self,
        key: String,
        kind: ReviewKind,
        state: ReviewState,
        subject: String,
        payload: ReviewPayload,
    ) -> Result<()> {
        if self.items.get(&key).is_some_and(|i| {
            ReviewState::parse(&i.state) == ReviewState::Resolved
                && i.decision
                    .as_deref()
                    .and_then(|d| serde_json::from_str(d).ok())
                    == Some(Decision::Keep)
        }) {
            // "Keep" means: do not ask again.
            return Ok(());
        }
        self.raised.insert(key.clone());
        let payload_json = serde_json::to_string(&payload).expect("payload serialises");
        match self.items.get(&key) {
            Some(row) => {
                let was = ReviewState::parse(&row.state);
                let decided = row.decision.is_some() && was != ReviewState::Resolved;
                let mut active = row.clone().into_active_model();
                active.kind = Set(kind.as_str().to_owned());
                active.state = Set(if decided { ReviewState::Ready } else { state }
                    .as_str()
                    .to_owned());
                if was == ReviewState::Resolved {
                    active.decision = Set(None);
                    active.resolved_at = Set(None);
                }
                active.subject = Set(subject);
                active.payload = Set(payload_json);
                active.run_id = Set(Some(self.run));
                active.updated_at = Set(self.now);
                active.update(self.txn).await?;
            }
            None => {
                review_item::ActiveModel {
                    organisation_id: Set(self.org.0),
                    group_id: Set(self.group_id),
                    run_id: Set(Some(self.run)),
                    item_key: Set(key),
                    kind: Set(kind.as_str().to_owned()),
                    state: Set(state.as_str().to_owned()),
                    subject: Set(subject),
                    payload: Set(payload_json),
                    decision: Set(None),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                    resolved_at: Set(None),
                    ..Default::default()
                }
                .insert(self.txn)
                .await?;
            }
        }
        Ok(())
    }

    /// Items not raised again by this run are resolved: their decision was carried out or the
    /// situation went away. Deferred items stay.
    async fn close_stale_items(&mut self) -> Result<()> {
        for (key, row) in &self.items {
            if self.raised.contains(key) || ReviewState::parse(&row.state) == ReviewState::Resolved
            {
                continue;
            }
            // Only items this run looked at again can be found to have gone away.
            let item = crate::review::to_item(row.clone());
            let p = &item.payload;
            let was_read = |u: &Option<String>| u.as_ref().is_some_and(|u| self.read.contains(u));
            let evaluated = match item.kind {
                ReviewKind::MemberRemoved => true,
                // A keyword match stays open until the user confirms it.
                ReviewKind::KeywordMatch => item.decision.is_some(),
                ReviewKind::OutsideClient => p
                    .xpm_uuid
                    .as_ref()
                    .is_some_and(|u| self.maps.contains_key(u)),
                ReviewKind::Relationship
                | ReviewKind::HoldingClass
                | ReviewKind::RelationshipGone => was_read(&p.from_uuid) || was_read(&p.to_uuid),
                ReviewKind::EntityType | ReviewKind::Duplicate | ReviewKind::InvalidClient => {
                    was_read(&p.xpm_uuid)
                }
            };
            if !evaluated {
                continue;
            }
            let mut active = row.clone().into_active_model();
            active.state = Set(ReviewState::Resolved.as_str().to_owned());
            active.resolved_at = Set(Some(self.now));
            active.updated_at = Set(self.now);
            active.update(self.txn).await?;
        }
        Ok(())
    }

    /// Keeps an item open without changing it (a deferred decision).
    fn keep_open(&mut self, key: &str) -> bool {
        if matches!(self.decision(key), Some(Decision::Defer)) {
            self.raised.insert(key.to_owned());
            return true;
        }
        false
    }

    async fn client(&mut self, inc: &Incoming, rules: &structures::Rules) -> Result<()> {
        let c = &inc.client;
        let structure = c.business_structure.value().cloned().unwrap_or_default();
        let values_hash = client_hash(c);
        if let Some(map) = self.maps.get(&inc.uuid).cloned() {
            let row = entities::get_row(self.txn, self.org, map.entity_id).await?;
            // An entity's kind cannot change; if XPM's structure now means another kind, say so.
            if let Some(r) = structures::resolve(rules, &structure).filter(|r| r.kind != row.kind) {
                let key = format!("kind:{}", inc.uuid);
                if !self.keep_open(&key) {
                    self.raise(
                        key,
                        ReviewKind::InvalidClient,
                        ReviewState::NeedsInput,
                        c.name.clone(),
                        ReviewPayload {
                            xpm_uuid: Some(inc.uuid.clone()),
                            name: Some(c.name.clone()),
                            business_structure: Some(structure.clone()),
                            kind: Some(r.kind),
                            entity_id: Some(row.id),
                            reason: format!(
                                "XPM's business structure is now \u{201c}{structure}\u{201d} ({}), but {} is {} {} here, and an entity's type cannot change. Correct the structure in XPM, or create the right entity here and link it; or defer this.",
                                r.kind.label(),
                                row.name,
                                if row.kind == EntityKind::Individual { "an" } else { "a" },
                                row.kind.label()
                            ),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            }
            // Known client: update the entity when XPM's values changed since the last pull.
            if map.values_hash.as_deref() == Some(values_hash.as_str()) {
                return Ok(());
            }
            let mut input = entity_input(c, row.kind, row.trust_type, Some(input_of(&row)));
            if row.kind == EntityKind::Individual {
                let known = crate::push::parse_values(&map.xpm_values);
                if let Some((first, last)) = renamed(c, known.as_ref(), &input.middle_name) {
                    input.first_name = first;
                    input.last_name = Some(last);
                }
            }
            let key = format!("invalid:{}", inc.uuid);
            match entities::update_in(self.txn, self.org, self.cipher, row.id, &input, self.now)
                .await
            {
                Ok(()) => self.counts.entities_updated += 1,
                Err(Error::Validation(m)) => {
                    return self.invalid(inc, key, m).await;
                }
                Err(e) => return Err(e),
            }
            let previous = map.xpm_values.clone();
            let mut active = map.into_active_model();
            active.xpm_name = Set(c.name.clone());
            active.business_structure = Set(Some(structure));
            active.values_hash = Set(Some(values_hash));
            active.xpm_values = Set(Some(crate::push::values_json(c, previous.as_deref())));
            active.last_seen_at = Set(self.now);
            let map = active.update(self.txn).await?;
            self.maps.insert(inc.uuid.clone(), map);
            return Ok(());
        }

        // New to us: resolve the structure (or use the user's decision).
        let type_key = format!("client:{}", inc.uuid);
        let resolved = match self.decision(&type_key) {
            Some(Decision::SetKind {
                kind, trust_type, ..
            }) => Some((kind, trust_type, MatchSource::Rule)),
            _ => structures::resolve(rules, &structure).map(|r| (r.kind, r.trust_type, r.source)),
        };
        let Some((kind, trust_type, source)) = resolved else {
            if self.keep_open(&type_key) {
                return Ok(());
            }
            return self
                .raise(
                    type_key,
                    ReviewKind::EntityType,
                    ReviewState::NeedsInput,
                    format!("{} ({})", c.name, or_none(&structure)),
                    ReviewPayload {
                        xpm_uuid: Some(inc.uuid.clone()),
                        name: Some(c.name.clone()),
                        business_structure: Some(structure.clone()),
                        reason: format!(
                            "XPM's business structure \u{201c}{}\u{201d} is not one StructureGram knows. Choose the entity type{}.",
                            or_none(&structure),
                            ", and remember it as a rule if it always means the same"
                        ),
                        ..Default::default()
                    },
                )
                .await;
        };
        let input = entity_input(c, kind, trust_type, None);

        // Duplicate safeguards.
        let dup_key = format!("duplicate:{}", inc.uuid);
        let decision = self.decision(&dup_key);
        let entity_id = match decision {
            Some(Decision::LinkExisting { entity_id }) => {
                let row = entities::get_row(self.txn, self.org, entity_id).await?;
                let merged = entity_input(c, row.kind, row.trust_type, Some(input_of(&row)));
                match entities::update_in(
                    self.txn,
                    self.org,
                    self.cipher,
                    row.id,
                    &merged,
                    self.now,
                )
                .await
                {
                    Ok(()) => {}
                    Err(Error::Validation(m)) => {
                        return self.invalid(inc, format!("invalid:{}", inc.uuid), m).await
                    }
                    Err(e) => return Err(e),
                }
                self.counts.entities_linked += 1;
                row.id
            }
            Some(Decision::Defer) => {
                self.raised.insert(dup_key);
                return Ok(());
            }
            other => {
                if other != Some(Decision::CreateNew) {
                    let mapped: HashSet<i32> = self.maps.values().map(|m| m.entity_id).collect();
                    let pool: Vec<entity::Model> = entity::Entity::find()
                        .filter(entity::Column::OrganisationId.eq(self.org.0))
                        .filter(entity::Column::Kind.eq(kind))
                        .all(self.txn)
                        .await?
                        .into_iter()
                        .filter(|e| !mapped.contains(&e.id))
                        .collect();
                    let candidates = duplicates(&input, &pool);
                    if !candidates.is_empty() {
                        return self
                            .raise(
                                dup_key,
                                ReviewKind::Duplicate,
                                ReviewState::NeedsInput,
                                format!("{} may already exist", c.name),
                                ReviewPayload {
                                    xpm_uuid: Some(inc.uuid.clone()),
                                    name: Some(c.name.clone()),
                                    business_structure: Some(structure.clone()),
                                    kind: Some(kind),
                                    trust_type,
                                    candidates,
                                    reason: format!(
                                        "{} looks like an entity that is already here, so it was not created. Link it to that entity, or create a new one.",
                                        c.name
                                    ),
                                    ..Default::default()
                                },
                            )
                            .await;
                    }
                }
                match entities::insert(self.txn, self.org, self.cipher, &input, self.now).await {
                    Ok(id) => {
                        self.counts.entities_created += 1;
                        id
                    }
                    Err(Error::Validation(m)) => {
                        return self.invalid(inc, format!("invalid:{}", inc.uuid), m).await
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let map = xpm_client_map::ActiveModel {
            organisation_id: Set(self.org.0),
            tenant_id: Set(self.tenant.clone()),
            entity_id: Set(entity_id),
            xpm_uuid: Set(inc.uuid.clone()),
            xpm_name: Set(c.name.clone()),
            business_structure: Set(Some(structure.clone())),
            values_hash: Set(Some(values_hash)),
            xpm_values: Set(Some(crate::push::values_json(c, None))),
            last_seen_at: Set(self.now),
            ..Default::default()
        }
        .insert(self.txn)
        .await?;
        self.maps.insert(inc.uuid.clone(), map);
        if source == MatchSource::Keyword {
            self.raise(
                format!("keyword:{}", inc.uuid),
                ReviewKind::KeywordMatch,
                ReviewState::Ready,
                format!(
                    "{} ({} → {})",
                    c.name,
                    structure,
                    kind_label(kind, trust_type)
                ),
                ReviewPayload {
                    xpm_uuid: Some(inc.uuid.clone()),
                    name: Some(c.name.clone()),
                    business_structure: Some(structure.clone()),
                    kind: Some(kind),
                    trust_type,
                    entity_id: Some(entity_id),
                    reason: format!(
                        "\u{201c}{structure}\u{201d} was matched by its words to {}; check it.",
                        kind_label(kind, trust_type)
                    ),
                    ..Default::default()
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn invalid(&mut self, inc: &Incoming, key: String, message: String) -> Result<()> {
        if self.keep_open(&key) {
            return Ok(());
        }
        self.raise(
            key,
            ReviewKind::InvalidClient,
            ReviewState::NeedsInput,
            inc.client.name.clone(),
            ReviewPayload {
                xpm_uuid: Some(inc.uuid.clone()),
                name: Some(inc.client.name.clone()),
                reason: format!("{message} Fix the client in XPM and pull again."),
                ..Default::default()
            },
        )
        .await
    }

    async fn removed_members(&mut self, members: &Members, current: &HashSet<i32>) -> Result<()> {
        let in_xpm: HashSet<&String> = members.uuids.iter().collect();
        let gone: Vec<xpm_client_map::Model> = self
            .maps
            .values()
            .filter(|m| current.contains(&m.entity_id) && !in_xpm.contains(&m.xpm_uuid))
            .cloned()
            .collect();
        for map in gone {
            let key = format!("removed:{}", map.xpm_uuid);
            match self.decision(&key) {
                Some(Decision::RemoveFromGroup) => {
                    group_member::Entity::delete_many()
                        .filter(group_member::Column::GroupId.eq(self.group_id))
                        .filter(group_member::Column::EntityId.eq(map.entity_id))
                        .exec(self.txn)
                        .await?;
                    self.counts.members_removed += 1;
                }
                Some(Decision::Keep) => {}
                _ => {
                    self.raise(
                        key,
                        ReviewKind::MemberRemoved,
                        ReviewState::NeedsInput,
                        format!("{} left the XPM group", map.xpm_name),
                        ReviewPayload {
                            xpm_uuid: Some(map.xpm_uuid.clone()),
                            name: Some(map.xpm_name.clone()),
                            entity_id: Some(map.entity_id),
                            reason: format!(
                                "{} is no longer a member of the group in XPM. Remove it from this group too (the entity is kept), or keep it here.",
                                map.xpm_name
                            ),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn relationship(
        &mut self,
        f: &Fact,
        names: &HashMap<String, String>,
        directed: &HashSet<(String, String, String)>,
    ) -> Result<()> {
        let key = format!("relationship:{}", f.key);
        let name = |u: &String| names.get(u).cloned().unwrap_or_else(|| u.clone());
        let label = f.labels.join(" / ");
        let subject = format!("{} \u{2192} {} ({label})", name(&f.from), name(&f.to));
        let payload = |reason: String, kind: Option<RelationshipKind>| ReviewPayload {
            label: Some(label.clone()),
            from_uuid: Some(f.from.clone()),
            from_name: Some(name(&f.from)),
            to_uuid: Some(f.to.clone()),
            to_name: Some(name(&f.to)),
            relationship_kind: kind,
            reason,
            ..Default::default()
        };
        // Both ends must be imported.
        let ends = (
            self.maps.get(&f.from).cloned(),
            self.maps.get(&f.to).cloned(),
        );
        let (Some(from_map), Some(to_map)) = ends else {
            let waiting_on: Vec<String> = [&f.from, &f.to]
                .into_iter()
                .filter(|u| !self.maps.contains_key(*u))
                .map(name)
                .collect();
            return self
                .raise(
                    key,
                    ReviewKind::Relationship,
                    ReviewState::Waiting,
                    subject,
                    payload(
                        format!("Waits until {} is imported.", waiting_on.join(" and ")),
                        None,
                    ),
                )
                .await;
        };
        let decision = self.decision(&key);
        if decision == Some(Decision::Defer) {
            self.raised.insert(key);
            return Ok(());
        }
        let from_row = entities::get_row(self.txn, self.org, from_map.entity_id).await?;
        let to_row = entities::get_row(self.txn, self.org, to_map.entity_id).await?;
        let reverse_seen = !f.symmetric
            && directed.contains(&(f.to.clone(), f.base.as_str().to_lowercase(), f.from.clone()));
        let (kind, from_id, to_id) = match decision {
            Some(Decision::ImportAs { kind, from_uuid }) => {
                if from_uuid.eq_ignore_ascii_case(&f.from) {
                    (kind, from_row.id, to_row.id)
                } else {
                    (kind, to_row.id, from_row.id)
                }
            }
            _ if reverse_seen => {
                return self
                    .raise(
                        key,
                        ReviewKind::Relationship,
                        ReviewState::NeedsInput,
                        subject,
                        payload(
                            format!(
                                "XPM shows \u{201c}{}\u{201d} both ways between {} and {}, so its direction is unclear. Choose who holds the role.",
                                f.base.as_str(),
                                name(&f.from),
                                name(&f.to)
                            ),
                            None,
                        ),
                    )
                    .await;
            }
            _ => match map_kind(&f.base, &to_row) {
                Some(kind) => (kind, from_row.id, to_row.id),
                None => {
                    return self
                        .raise(
                            key,
                            ReviewKind::Relationship,
                            ReviewState::NeedsInput,
                            subject,
                            payload(
                                format!(
                                    "StructureGram has no relationship type for XPM's \u{201c}{label}\u{201d} between these two. Choose the type and direction, or defer it."
                                ),
                                None,
                            ),
                        )
                        .await;
                }
            },
        };
        let input = relationship_input(f, kind, from_id, to_id);
        let values_hash = hash(&(
            &input.kind,
            input.from_id,
            input.to_id,
            input.shares,
            input.percentage,
            input.start_date,
            input.end_date,
        ));
        let existing = xpm_relationship_map::Entity::find()
            .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
            .filter(xpm_relationship_map::Column::XpmKey.eq(&f.key))
            .one(self.txn)
            .await?;
        let result = match &existing {
            Some(map) if map.values_hash.as_deref() == Some(values_hash.as_str()) => {
                return self
                    .holding_class(f, map.relationship_id, kind, &subject)
                    .await;
            }
            Some(map) => {
                // Keep what only StructureGram holds (share class, label).
                let row = relationships::get_row(self.txn, self.org, map.relationship_id).await?;
                let input = RelationshipInput {
                    share_class: row.share_class.clone(),
                    label: row.label.clone(),
                    ..input.clone()
                };
                relationships::update_in(self.txn, self.org, map.relationship_id, &input, self.now)
                    .await
                    .map(|r| (r.id, false))
            }
            None => match self.same_local(&input).await? {
                // The same fact entered by hand (or via a linked duplicate): adopt it.
                Some(id) => Ok((id, false)),
                None => relationships::insert(self.txn, self.org, &input, self.now)
                    .await
                    .map(|r| (r.id, true)),
            },
        };
        let (rel_id, created) = match result {
            Ok(r) => r,
            Err(Error::Validation(rule)) => {
                if self.keep_open(&key) {
                    return Ok(());
                }
                return self
                    .raise(
                        key,
                        ReviewKind::Relationship,
                        ReviewState::NeedsInput,
                        subject,
                        payload(
                            format!("It breaks a structure rule: {rule} Fix it in XPM or here, then pull again; or defer it."),
                            Some(kind),
                        ),
                    )
                    .await;
            }
            Err(e) => return Err(e),
        };
        if created {
            self.counts.relationships_created += 1;
        } else if existing.is_some() {
            self.counts.relationships_updated += 1;
        }
        let uuids = f.uuids.join(",");
        match existing {
            Some(map) => {
                let mut active = map.into_active_model();
                active.relationship_id = Set(rel_id);
                active.xpm_uuids = Set(uuids);
                active.values_hash = Set(Some(values_hash));
                active.last_seen_at = Set(self.now);
                active.update(self.txn).await?;
            }
            None => {
                xpm_relationship_map::ActiveModel {
                    organisation_id: Set(self.org.0),
                    tenant_id: Set(self.tenant.clone()),
                    relationship_id: Set(rel_id),
                    xpm_key: Set(f.key.clone()),
                    xpm_uuids: Set(uuids),
                    values_hash: Set(Some(values_hash)),
                    last_seen_at: Set(self.now),
                    ..Default::default()
                }
                .insert(self.txn)
                .await?;
            }
        }
        self.holding_class(f, rel_id, kind, &subject).await
    }

    /// XPM has no share or unit class (product-spec §8.4, §8.11), so a holding imported without
    /// one raises a *needs input* item: set the class (done at once by [`crate::review::decide`])
    /// or keep it unset. A class set here is never overwritten by a pull.
    async fn holding_class(
        &mut self,
        f: &Fact,
        rel_id: i32,
        kind: RelationshipKind,
        subject: &str,
    ) -> Result<()> {
        if !matches!(
            kind,
            RelationshipKind::Shareholder | RelationshipKind::Unitholder
        ) {
            return Ok(());
        }
        let row = relationships::get_row(self.txn, self.org, rel_id).await?;
        if row.share_class.is_some() {
            return Ok(());
        }
        self.raise(
            format!("class:{}", f.key),
            ReviewKind::HoldingClass,
            ReviewState::NeedsInput,
            subject.to_owned(),
            ReviewPayload {
                from_uuid: Some(f.from.clone()),
                to_uuid: Some(f.to.clone()),
                relationship_kind: Some(kind),
                relationship_id: Some(rel_id),
                label: Some(f.labels.join(" / ")),
                reason: format!(
                    "XPM does not record the {} class. Enter it (e.g. Ordinary), or keep it unset.",
                    if kind == RelationshipKind::Unitholder {
                        "unit"
                    } else {
                        "share"
                    }
                ),
                ..Default::default()
            },
        )
        .await
    }

    /// An unmapped local relationship stating the same fact (same type and ends; Spouse either
    /// way round).
    async fn same_local(&self, input: &RelationshipInput) -> Result<Option<i32>> {
        let mapped: HashSet<i32> = xpm_relationship_map::Entity::find()
            .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|m| m.relationship_id)
            .collect();
        let found = relationship::Entity::find()
            .filter(relationship::Column::OrganisationId.eq(self.org.0))
            .filter(relationship::Column::Kind.eq(input.kind))
            .all(self.txn)
            .await?
            .into_iter()
            .filter(|r| !mapped.contains(&r.id))
            .find(|r| same_relationship(r, input));
        Ok(found.map(|r| r.id))
    }
}

/// Whether a local relationship row is the fact `input` describes: the same kind between the
/// same two entities (a spouse either way round). Pull and reconciliation adopt such a row
/// instead of creating a second one.
pub(crate) fn same_relationship(r: &relationship::Model, input: &RelationshipInput) -> bool {
    r.kind == input.kind
        && ((r.from_entity_id == input.from_id && r.to_entity_id == input.to_id)
            || (input.kind == RelationshipKind::Spouse
                && r.from_entity_id == input.to_id
                && r.to_entity_id == input.from_id))
}

fn or_none(s: &str) -> &str {
    if s.trim().is_empty() {
        "no business structure"
    } else {
        s
    }
}

fn kind_label(kind: EntityKind, trust_type: Option<TrustType>) -> String {
    match trust_type {
        Some(t) => format!("{} trust", t.label()),
        None => kind.label().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An individual as XPM shows it: `Name`, `FirstName`, `LastName`.
    fn client(name: &str, first: &str, last: &str) -> Client {
        Client {
            name: name.into(),
            first_name: Field::Value(first.into()),
            last_name: Field::Value(last.into()),
            ..Default::default()
        }
    }

    /// The baseline a sync stored for `client(name, first, last)`.
    fn known(name: &str, first: &str, last: &str) -> crate::push::Values {
        crate::push::values_of(&client(name, first, last))
    }

    fn parts(first: &str, last: &str) -> Option<(Option<String>, String)> {
        Some((Some(first.into()), last.into()))
    }

    #[test]
    fn a_name_changed_alone_in_xpm_gives_the_first_and_last_name_to_apply() {
        let was = known("Rowan Fernhill", "Rowan", "Fernhill");
        let renamed_to = |name: &str, middle: Option<&str>| {
            renamed(
                &client(name, "Rowan", "Fernhill"),
                Some(&was),
                &middle.map(str::to_owned),
            )
        };
        // The first name still leads: the rest is the new last name.
        assert_eq!(
            renamed_to("Rowan Fernhill-O'Brien", None),
            parts("Rowan", "Fernhill-O'Brien")
        );
        assert_eq!(
            renamed_to("Rowan  van der Berg", None),
            parts("Rowan", "van der Berg")
        );
        // The last name still ends it: the rest is the new first name.
        assert_eq!(
            renamed_to("Ro Anne Fernhill", None),
            parts("Ro Anne", "Fernhill")
        );
        // Neither: split as a client without first and last names.
        assert_eq!(
            renamed_to("Maeve Kowalski", None),
            parts("Maeve", "Kowalski")
        );
        // The middle name kept here is not doubled.
        assert_eq!(
            renamed_to("Rowan James Fernhill-O'Brien", Some("James")),
            parts("Rowan", "Fernhill-O'Brien")
        );
        // Unchanged, or only spaced differently: the fields as they are.
        assert_eq!(renamed_to("Rowan Fernhill", None), None);
        assert_eq!(renamed_to(" Rowan   Fernhill ", None), None);
        // XPM's name spelled with the middle name kept here: nothing to change.
        assert_eq!(renamed_to("Rowan James Fernhill", Some("James")), None);
    }

    #[test]
    fn first_and_last_names_from_xpm_are_taken_as_they_are_otherwise() {
        let rowan = client("Rowan Fernhill-O'Brien", "Rowan", "Fernhill");
        // No baseline (first pull of this client).
        assert_eq!(renamed(&rowan, None, &None), None);
        // XPM's last name changed as well: the fields say what XPM means.
        let was = known("Rowan Fernhill", "Rowan", "Fernhill-Smith");
        assert_eq!(renamed(&rowan, Some(&was), &None), None);
        // A practice whose names are spelled "Last, First": the name was never spelled from
        // the fields, so a change to it says nothing about them.
        let was = known("Fernhill, Rowan", "Rowan", "Fernhill");
        let now = client("Fernhill-O'Brien, Rowan", "Rowan", "Fernhill");
        assert_eq!(renamed(&now, Some(&was), &None), None);
        // No last name in XPM: the name is split by entity_input already.
        let bare = Client {
            name: "Rowan Fernhill-O'Brien".into(),
            ..Default::default()
        };
        let was = crate::push::values_of(&Client {
            name: "Rowan Fernhill".into(),
            ..Default::default()
        });
        assert_eq!(renamed(&bare, Some(&was), &None), None);
    }
}
