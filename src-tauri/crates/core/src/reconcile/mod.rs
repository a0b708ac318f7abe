//! Reconciliation (issue 10, product-spec §8.12–§8.14): compare one linked group with **live**
//! XPM, list every difference, let the user decide each one, and apply the decisions.
//!
//! # Preview ([`preview`])
//! Both sides are read into one canonical form by the code pull and push already use, so the
//! three agree on what "the same" means:
//! - XPM: `clientgroup.api/get` (members), one `client.api/get` per member, per mapped entity
//!   whose client is not a member (to tell a membership gap from a deleted or archived client),
//!   and per unmapped related client outside the group (cross-group endpoints are included by
//!   default, §8.14). Cost `1 + N + extra` calls, through the rate-limited [`xpm::XpmClient`].
//! - Entities compare as push compares them before an update (`push::desired` against
//!   `push::values_of`: words trimmed, e-mail and business structure case-folded, ABN/ACN digits
//!   only, dates as ISO dates, a custom structure that means the same kept, a TFN by what was
//!   last sent or its last three digits), and phone numbers by their digits. XPM clients map to
//!   entity kinds by [`crate::structures`] and to entity fields by the pull's mapping.
//! - Relationships merge XPM's two labels per relationship as the pull does
//!   (`pull::merge_relationships`) and StructureGram's rows get the same key as push sends
//!   (`push::rel_spec`: `holder|type|target`); only what XPM can hold is compared (shares for
//!   holdings, a percentage for partners, start and end dates). Custom links are not compared
//!   (XPM has no equivalent; push skips them too).
//! - Pairing goes through the mappings, and falls back on what is already here: an XPM
//!   relationship whose two ends are mapped pairs with the local row mapped to its key, else
//!   with an unmapped row of the same kind between the same entities (as the pull adopts one,
//!   `pull::same_relationship`), even when the row touches none of this group's members (a
//!   second group linked but never pulled); apply adopts such a row instead of importing a
//!   copy. Unmapped clients match unmapped entities by the pull's duplicate rules (§8.8) and
//!   need the user's choice there too. A relationship here is also looked for on the records
//!   read of mapped clients outside the XPM group (archived, which XPM may drop from its
//!   groups, or moved to another group): XPM keeps it on both clients, so one between two
//!   such clients is on no member's record and is not "deleted in XPM". Those records only
//!   pair what is here; their other relationships are not offered for import.
//! - A mapping to a client archived in XPM (while the entity is active) is its own item
//!   (`archived:<entity>`, a [`DiffType::StaleMapping`]): keep the mapping (the default) or
//!   clear it; XPM's API cannot unarchive. The mapping keeps working for relationships, and the
//!   client's fields and membership are not compared while it is archived.
//! - A member missing from the XPM group whose client XPM has in another client group is not
//!   recommended for adding back (it may have moved); the item's note names the group.
//!
//! The differences are the twelve [`DiffType`]s; each item has a stable id, its allowed
//! [`Action`]s with a recommendation (never a deletion), and a status: ready, needs input or
//! waiting on another item (a relationship whose end is not created or imported yet). The
//! recommendation for a field or relationship-value conflict is the side that changed since
//! the last sync (the values XPM showed then are kept on the mapping); when both changed, or it
//! is not known, the field needs input.
//!
//! # Decisions ([`decide`], [`helper`])
//! Saved per item id in `reconcile_decision`, so they survive closing the app and a re-preview
//! where the same difference remains; the last preview is kept in `reconcile_plan`, so deciding
//! needs no XPM call. Guarded (destructive) actions need `confirmed`, else they stay "Ignore
//! this round"; the summary says so in a caveat line. A new preview forgets guarded and
//! "Ignore this round" decisions (they hold for one round); the others carry over.
//!
//! # Apply ([`apply`])
//! XPM is read again; only items that were in the reviewed preview and are still there are
//! applied (the rest are listed in [`ApplyReport::not_in_preview`]), and only when nothing needs
//! input or waits. Items run one by one in the phases of §8.12 ([`ApplyPhase`]); a failure
//! blocks only the items that depend on it. XPM writes go through the push's per-item code
//! (`push::Pusher`): creates with lost-response safety, forced field updates, membership adds
//! and relationship create/update, each mapping saved as soon as its call succeeds; the run is
//! recorded as a push run so a create whose answer was lost is found again by the next push or
//! apply. XPM clients are archived, never deleted, and not when they belong to other XPM groups.
//! Creating a relationship XPM deleted since the last sync first forgets what that sync
//! recorded of it, so the push looks it up and adds it rather than sending nothing; an item
//! whose push found nothing to send is applied with a message saying so.
//! Applied items leave the stored plan and are remembered ([`applied`]) until the next preview,
//! so applying the same plan again can say "already applied".

mod types;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use xpm::Client;

pub use types::*;

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::model::{EntityKind, EntityStatus, RelationshipKind, TrustType};
use crate::pull::{self, Fact, Incoming};
use crate::push::{self, ItemOutcome, PushControl, PushPhase, Pusher};
use crate::schema::{
    entity, group_member, reconcile_decision, reconcile_plan, relationship, xpm_client_map,
    xpm_relationship_map,
};
use crate::structures::{self, Rules};
use crate::tfn::TfnCipher;
use crate::{entities, groups, relationships};

// ---------------------------------------------------------------------------------------------
// Building the differences.

/// What apply needs beyond the item's public shape.
#[derive(Clone, Debug, Default)]
struct Extra {
    /// The live XPM client.
    client: Option<Box<Client>>,
    /// The client's entity type, when its structure resolves.
    resolved: Option<(EntityKind, Option<TrustType>)>,
    /// The XPM relationship.
    fact: Option<Fact>,
    /// Its StructureGram type, when it maps.
    rel_kind: Option<RelationshipKind>,
}

struct Built {
    group_name: String,
    group_uuid: Uuid,
    xpm_members: HashSet<Uuid>,
    items: Vec<ReconcileItem>,
    extra: HashMap<String, Extra>,
    calls: u32,
}

fn new_item(id: String, diff_type: DiffType, subject: String) -> ReconcileItem {
    use Action as A;
    use DiffType as D;
    let (actions, recommended) = match diff_type {
        D::EntityOnlyInSg => (
            vec![A::CreateInXpm, A::Ignore, A::DeleteInSg],
            Some(A::CreateInXpm),
        ),
        D::EntityOnlyInXpm => (
            vec![
                A::ImportToSg,
                A::Ignore,
                A::DeleteInXpm,
                A::RemoveFromXpmGroup,
            ],
            Some(A::ImportToSg),
        ),
        D::EntityFieldMismatch => (vec![A::UseSgValues, A::UseXpmValues, A::Ignore], None),
        D::EntityTypeUnresolved => (vec![A::ChooseType, A::Ignore], None),
        D::PossibleDuplicate => (vec![A::LinkToSg, A::ImportToSg, A::Ignore], None),
        D::StaleMapping => (vec![A::ClearMapping, A::Ignore], Some(A::ClearMapping)),
        D::MembershipOnlyInSg => (
            vec![A::AddToXpmGroup, A::Ignore, A::RemoveFromSgGroup],
            Some(A::AddToXpmGroup),
        ),
        D::MembershipOnlyInXpm => (
            vec![A::AddToSgGroup, A::Ignore, A::RemoveFromXpmGroup],
            Some(A::AddToSgGroup),
        ),
        D::RelOnlyInSg => (
            vec![A::CreateInXpm, A::Ignore, A::DeleteInSg],
            Some(A::CreateInXpm),
        ),
        D::RelOnlyInXpm => (
            vec![A::ImportToSg, A::Ignore, A::DeleteInXpm],
            Some(A::ImportToSg),
        ),
        D::RelAttrMismatch => (vec![A::UseSgValues, A::UseXpmValues, A::Ignore], None),
        D::RelNeedsPolicy => (
            vec![A::Defer, A::ImportToSg, A::DeleteInXpm],
            Some(A::Defer),
        ),
    };
    ReconcileItem {
        id,
        diff_type,
        category: diff_type.category(),
        subject,
        sg_label: None,
        xpm_label: None,
        entity_id: None,
        relationship_id: None,
        xpm_uuid: None,
        cross_group: false,
        fields: Vec::new(),
        actions,
        recommended,
        candidates: Vec::new(),
        decision: None,
        effective: None,
        status: ItemStatus::Ready,
        needs: None,
        waiting_on: Vec::new(),
        guarded: false,
        note: None,
        depends_on: Vec::new(),
    }
}

fn digits(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(|v| v.chars().filter(char::is_ascii_digit).collect::<String>())
}

/// XPM's client, or `None` when XPM no longer has it (deleted, or "not found").
async fn fetch(
    client: &xpm::XpmClient,
    session: &xpm::Session,
    uuid: &str,
    calls: &mut u32,
) -> Result<Option<Client>> {
    let Ok(parsed) = uuid.parse::<Uuid>() else {
        return Ok(None);
    };
    *calls += 1;
    match client.get_client(session, &parsed).await {
        Ok(d) if d.client.is_deleted.value() == Some(&true) => Ok(None),
        Ok(d) => Ok(Some(d.client)),
        Err(xpm::Error::Api { .. }) | Err(xpm::Error::Http { status: 404, .. }) => Ok(None),
        Err(e) => Err(Error::xpm("Reading a client from XPM", e)),
    }
}

fn resolve(rules: &Rules, c: &Client) -> Option<(EntityKind, Option<TrustType>)> {
    let label = pull::text(&c.business_structure)?;
    structures::resolve(rules, &label).map(|r| (r.kind, r.trust_type))
}

/// The differing fields of a mapped pair, with the recommendation from the last-sync values.
fn field_diffs(
    e: &entity::Model,
    c: &Client,
    map: &xpm_client_map::Model,
    rules: &Rules,
    cipher: &TfnCipher,
) -> Vec<FieldDiff> {
    let known = push::parse_values(&map.xpm_values);
    let have = push::live_values(c, known.as_ref());
    let want = push::desired(e, pull::text(&c.business_structure).as_deref(), rules);
    let changes = push::diff(e.kind, &want, &have, push::tfn_differs(e, &have, cipher));
    // Which side moved since the last sync, per field.
    let (sg_moved, xpm_moved): (Option<HashSet<String>>, Option<HashSet<String>>) = match &known {
        Some(k) => (
            Some(
                push::diff(e.kind, &want, k, push::tfn_differs(e, k, cipher))
                    .into_iter()
                    .map(|c| c.field)
                    .collect(),
            ),
            Some(
                push::diff(e.kind, &have, k, have.tfn_last3_differs(k))
                    .into_iter()
                    .map(|c| c.field)
                    .collect(),
            ),
        ),
        None => (None, None),
    };
    let xpm_kind = resolve(rules, c);
    let same_name = !changes.iter().any(|ch| ch.field == "Name");
    changes
        .into_iter()
        .filter(|ch| match ch.field.as_str() {
            // XPM without a first/last name leaves the split to the full name, which is how a
            // pull derives them: not a difference while the full names agree.
            "FirstName" | "LastName" => !(same_name && ch.from.is_none()),
            // Phone numbers compare by their digits, identifiers too (product-spec §8.12).
            "Phone" | "BusinessNumber" | "CompanyNumber" => digits(&ch.from) != digits(&ch.to),
            _ => true,
        })
        .map(|ch| {
            let xpm_allowed = match ch.field.as_str() {
                "TaxNumber" => false,
                "BusinessStructure" => xpm_kind.is_some_and(|(k, _)| k == e.kind),
                _ => true,
            };
            let recommended = match (&sg_moved, &xpm_moved) {
                (Some(s), Some(x)) => match (s.contains(&ch.field), x.contains(&ch.field)) {
                    (true, false) => Some(FieldChoice::UseSg),
                    (false, true) if xpm_allowed => Some(FieldChoice::UseXpm),
                    _ => None,
                },
                _ => None,
            };
            FieldDiff {
                field: ch.field,
                sg: ch.to,
                xpm: ch.from,
                recommended,
                xpm_allowed,
            }
        })
        .collect()
}

fn rel_label(kind: RelationshipKind, from: &str, to: &str) -> String {
    format!("{from} \u{2192} {to} ({})", kind.label())
}

/// Holdings carry shares, partners a percentage; both carry dates (what XPM can hold).
fn xpm_attrs(
    kind: RelationshipKind,
    f: &Fact,
) -> (
    Option<i64>,
    Option<f64>,
    Option<chrono::NaiveDate>,
    Option<chrono::NaiveDate>,
) {
    use RelationshipKind as K;
    (
        f.shares
            .filter(|n| *n > 0 && matches!(kind, K::Shareholder | K::Unitholder | K::Owner)),
        f.percentage.filter(|p| *p > 0.0 && kind == K::Partner),
        f.start,
        f.end,
    )
}

/// The item for an unmapped XPM client: type unresolved, possible duplicate, or only in XPM.
fn xpm_item(
    u: &str,
    c: &Client,
    member: bool,
    rules: &Rules,
    pool: &[entity::Model],
) -> (ReconcileItem, Extra) {
    let resolved = resolve(rules, c);
    let name = c.name.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut it = match resolved {
        None => {
            let mut it = new_item(
                format!("type:{u}"),
                DiffType::EntityTypeUnresolved,
                name.clone(),
            );
            it.needs = Some(format!(
                "Choose the entity type for the XPM business structure \u{201c}{}\u{201d}.",
                pull::text(&c.business_structure).unwrap_or_else(|| "(none)".into())
            ));
            it.note = it.needs.clone();
            it
        }
        Some((kind, tt)) => {
            let input = pull::entity_input(c, kind, tt, None);
            let candidates = pull::duplicates(&input, pool);
            if candidates.is_empty() {
                new_item(
                    format!("xpm-only:{u}"),
                    DiffType::EntityOnlyInXpm,
                    name.clone(),
                )
            } else {
                let mut it = new_item(
                    format!("dup:{u}"),
                    DiffType::PossibleDuplicate,
                    name.clone(),
                );
                it.candidates = candidates;
                it
            }
        }
    };
    it.xpm_uuid = Some(u.to_owned());
    it.xpm_label = Some(name);
    it.cross_group = !member;
    if c.is_archived.value() == Some(&true) && it.note.is_none() {
        it.note = Some(format!(
            "{} is archived in XPM; importing or linking it keeps it archived there.",
            c.name
        ));
    }
    if !member {
        it.actions.retain(|a| *a != Action::RemoveFromXpmGroup);
    }
    let ex = Extra {
        client: Some(Box::new(c.clone())),
        resolved,
        ..Extra::default()
    };
    (it, ex)
}

/// The relationship-value item of a local relationship paired with XPM's (the same key), or
/// `None` when what XPM can hold agrees. The recommendation is the side that moved since the
/// last sync: StructureGram's row still hashing as last synced means XPM moved.
fn rel_attr_item(
    r: &relationship::Model,
    spec: &push::RelSpec,
    f: &Fact,
    rel_maps: &HashMap<i32, xpm_relationship_map::Model>,
    subject: String,
) -> Option<(ReconcileItem, Extra)> {
    let (shares, pct, start, end) = xpm_attrs(r.kind, f);
    let mut fields = Vec::new();
    let mut cmp = |field: &str, sg: Option<String>, x: Option<String>| {
        if sg != x {
            fields.push(FieldDiff {
                field: field.into(),
                sg,
                xpm: x,
                recommended: None,
                xpm_allowed: true,
            });
        }
    };
    cmp(
        "NumberOfShares",
        spec.shares.map(|n| n.to_string()),
        shares.map(|n| n.to_string()),
    );
    cmp(
        "Percentage",
        spec.percentage.map(|p| p.to_string()),
        pct.map(|p| p.to_string()),
    );
    cmp(
        "StartDate",
        spec.start.map(|d| d.to_string()),
        start.map(|d| d.to_string()),
    );
    cmp(
        "EndDate",
        spec.end.map(|d| d.to_string()),
        end.map(|d| d.to_string()),
    );
    if fields.is_empty() {
        return None;
    }
    let id = format!("rel-attr:{}", r.id);
    let mut it = new_item(id, DiffType::RelAttrMismatch, subject.clone());
    it.relationship_id = Some(r.id);
    it.sg_label = Some(subject);
    it.xpm_label = Some(f.labels.join(" / "));
    let synced = rel_maps
        .get(&r.id)
        .filter(|m| m.xpm_key == spec.key)
        .and_then(|m| m.values_hash.clone());
    let rec = match synced {
        Some(h) if h == spec.hash => Some(FieldChoice::UseXpm),
        Some(_) => Some(FieldChoice::UseSg),
        None => None,
    };
    for fd in &mut fields {
        fd.recommended = rec;
    }
    it.fields = fields;
    let ex = Extra {
        fact: Some(f.clone()),
        rel_kind: Some(r.kind),
        ..Extra::default()
    };
    Some((it, ex))
}

#[allow(clippy::too_many_lines)]
async fn build(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    group_id: i32,
) -> Result<Built> {
    let s = push::scope(db, org, group_id).await?;
    let tenant = session.tenant.as_str().to_owned();
    let group_uuid = s.xpm_group(session)?;
    let rules = structures::load_rules(db, org).await?;
    let maps = push::client_maps(db, org, &tenant).await?;
    let mut by_uuid: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for m in maps.values() {
        by_uuid
            .entry(m.xpm_uuid.clone())
            .or_default()
            .push(m.entity_id);
    }
    for ids in by_uuid.values_mut() {
        ids.sort_unstable();
    }
    let mut calls = 1u32;
    let g = client
        .get_client_group(session, &group_uuid)
        .await
        .map_err(|e| Error::xpm("Reading the XPM group", e))?;
    let xpm_members: Vec<String> = g.members.iter().map(|m| pull::uuid_text(&m.uuid)).collect();
    let member_set: HashSet<String> = xpm_members.iter().cloned().collect();
    let mut clients: HashMap<String, Option<Client>> = HashMap::new();
    for u in &xpm_members {
        let c = fetch(client, session, u, &mut calls).await?;
        clients.insert(u.clone(), c);
    }
    let sg_members: HashSet<i32> = s.members.iter().map(|e| e.id).collect();
    for e in s.members.iter().chain(s.outside.iter()) {
        if let Some(m) = maps.get(&e.id) {
            if !clients.contains_key(&m.xpm_uuid) {
                let c = fetch(client, session, &m.xpm_uuid, &mut calls).await?;
                clients.insert(m.xpm_uuid.clone(), c);
            }
        }
    }
    // XPM relationships of the members, and their unmapped ends outside the group.
    let incoming: Vec<Incoming> = xpm_members
        .iter()
        .filter_map(|u| {
            clients.get(u).cloned().flatten().map(|c| Incoming {
                client: c,
                uuid: u.clone(),
                member: true,
            })
        })
        .collect();
    let facts = pull::merge_relationships(&incoming);
    // The same from the records read of mapped clients that are not members of the XPM group
    // (archived, which XPM may drop from its groups — xpm-api.md §2.3 — or moved to another
    // group). XPM keeps a relationship on both clients' records, so one between two of them is
    // on neither member's record: these only pair relationships that are here (never offered
    // for import), so one XPM still has is not shown as deleted there.
    let elsewhere = pull::merge_relationships(
        &clients
            .iter()
            .filter(|(u, _)| !member_set.contains(*u) && by_uuid.contains_key(*u))
            .filter_map(|(u, c)| {
                c.clone().map(|client| Incoming {
                    client,
                    uuid: u.clone(),
                    member: true,
                })
            })
            .collect::<Vec<_>>(),
    );
    for f in &facts {
        for end in [&f.from, &f.to] {
            if !clients.contains_key(end) && !by_uuid.contains_key(end) {
                let c = fetch(client, session, end, &mut calls).await?;
                clients.insert(end.clone(), c);
            }
        }
    }
    // Every entity a mapping or the scope names.
    let mut wanted: Vec<i32> = maps.keys().copied().collect();
    wanted.extend(s.members.iter().map(|e| e.id));
    wanted.extend(s.outside.iter().map(|e| e.id));
    wanted.sort_unstable();
    wanted.dedup();
    let all: HashMap<i32, entity::Model> = push::entities_by_id(db, org, &wanted)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    // Unmapped entities of the organisation, for duplicate matching (§8.8).
    let pool: Vec<entity::Model> = entity::Entity::find()
        .filter(entity::Column::OrganisationId.eq(org.0))
        .all(db)
        .await?
        .into_iter()
        .filter(|e| !maps.contains_key(&e.id))
        .collect();

    let mut items: Vec<ReconcileItem> = Vec::new();
    let mut extra: HashMap<String, Extra> = HashMap::new();
    // Which item makes an entity / client mapped, for the waiting rule.
    let mut maps_entity: HashMap<i32, String> = HashMap::new();
    let mut maps_client: HashMap<String, String> = HashMap::new();
    // Entities whose mapping is usable: the client exists, not archived, one entity per client.
    let mut live_map: HashMap<i32, String> = HashMap::new();
    let mut stale: HashSet<i32> = HashSet::new();

    // Stale mappings, and mappings to clients archived in XPM.
    let mut archived: HashSet<i32> = HashSet::new();
    let scope_entities: Vec<&entity::Model> = s.members.iter().chain(s.outside.iter()).collect();
    for e in &scope_entities {
        let Some(m) = maps.get(&e.id) else { continue };
        let (gone, is_archived) = match clients.get(&m.xpm_uuid) {
            // Archived in XPM while still active here (an archived client imported as archived
            // matches its entity).
            Some(Some(c)) => (
                false,
                c.is_archived.value() == Some(&true) && e.status != EntityStatus::Archived,
            ),
            _ => (true, false),
        };
        let shared = by_uuid
            .get(&m.xpm_uuid)
            .is_some_and(|ids| ids.len() > 1 && ids[0] != e.id);
        if !(gone || shared) && is_archived {
            // The client exists: the mapping still names the right record, so relationships
            // keep matching through it. XPM's API cannot unarchive a client (xpm-api.md,
            // client.api has archive only), so the choice is keeping the mapping or clearing it.
            let id = format!("archived:{}", e.id);
            let mut it = new_item(id, DiffType::StaleMapping, e.name.clone());
            it.actions = vec![Action::Ignore, Action::ClearMapping];
            it.recommended = Some(Action::Ignore);
            it.entity_id = Some(e.id);
            it.xpm_uuid = Some(m.xpm_uuid.clone());
            it.sg_label = Some(e.name.clone());
            it.xpm_label = Some(m.xpm_name.clone());
            it.cross_group = !sg_members.contains(&e.id);
            it.note = Some(format!(
                "The XPM client {} is archived in XPM (this app cannot unarchive it; do that in XPM if it should be active). Keep the mapping and leave it (its details and group membership are not compared while it is archived), or clear the mapping.",
                m.xpm_name
            ));
            archived.insert(e.id);
            live_map.insert(e.id, m.xpm_uuid.clone());
            items.push(it);
        } else if gone || shared {
            let id = format!("stale:{}", e.id);
            let mut it = new_item(id.clone(), DiffType::StaleMapping, e.name.clone());
            it.entity_id = Some(e.id);
            it.xpm_uuid = Some(m.xpm_uuid.clone());
            it.sg_label = Some(e.name.clone());
            it.xpm_label = Some(m.xpm_name.clone());
            it.cross_group = !sg_members.contains(&e.id);
            it.note = Some(if shared {
                format!(
                    "Another entity is mapped to the same XPM client ({}); clear this mapping, then link or create it in the next round.",
                    m.xpm_name
                )
            } else {
                format!(
                    "The XPM client {} is deleted in XPM; clear the mapping, then create or link it in the next round.",
                    m.xpm_name
                )
            });
            maps_entity.insert(e.id, id.clone());
            stale.insert(e.id);
            items.push(it);
        } else {
            live_map.insert(e.id, m.xpm_uuid.clone());
        }
    }
    // The entity a client is mapped to (mappings found stale left out).
    let entity_of = |uuid: &str| -> Option<i32> {
        by_uuid
            .get(uuid)
            .and_then(|ids| ids.iter().find(|id| !stale.contains(id)).copied())
    };

    // XPM members.
    let mut candidate_entities: HashSet<i32> = HashSet::new();
    let mut compared: HashSet<i32> = HashSet::new();
    for u in &xpm_members {
        let Some(Some(c)) = clients.get(u) else {
            continue;
        };
        match entity_of(u) {
            Some(eid) => {
                let Some(e) = all.get(&eid) else { continue };
                if !sg_members.contains(&eid) {
                    let id = format!("xpm-member:{u}");
                    let mut it =
                        new_item(id.clone(), DiffType::MembershipOnlyInXpm, e.name.clone());
                    it.entity_id = Some(eid);
                    it.xpm_uuid = Some(u.clone());
                    it.sg_label = Some(e.name.clone());
                    it.xpm_label = Some(c.name.clone());
                    items.push(it);
                }
            }
            None => {
                if by_uuid.contains_key(u) {
                    // Mapped, but the mapping is stale or shared: the stale item covers it.
                    continue;
                }
                let (it, ex) = xpm_item(u, c, true, &rules, &pool);
                candidate_entities.extend(it.candidates.iter().map(|c| c.entity_id));
                maps_client.insert(u.clone(), it.id.clone());
                extra.insert(it.id.clone(), ex);
                items.push(it);
            }
        }
    }
    // Unmapped related clients outside the group.
    let mut outside_seen: HashSet<String> = HashSet::new();
    for f in &facts {
        for end in [&f.from, &f.to] {
            if member_set.contains(end)
                || by_uuid.contains_key(end)
                || !outside_seen.insert(end.clone())
            {
                continue;
            }
            if let Some(Some(c)) = clients.get(end) {
                let (it, ex) = xpm_item(end, c, false, &rules, &pool);
                candidate_entities.extend(it.candidates.iter().map(|c| c.entity_id));
                maps_client.insert(end.clone(), it.id.clone());
                extra.insert(it.id.clone(), ex);
                items.push(it);
            }
        }
    }

    // Mapped pairs: field mismatches; StructureGram members and endpoints.
    for e in &scope_entities {
        let member = sg_members.contains(&e.id);
        match live_map.get(&e.id) {
            Some(u) => {
                let Some(Some(c)) = clients.get(u) else {
                    continue;
                };
                if archived.contains(&e.id) {
                    // The archived item covers it.
                    continue;
                }
                if member && !member_set.contains(u) {
                    let id = format!("sg-member:{}", e.id);
                    let mut it = new_item(id, DiffType::MembershipOnlyInSg, e.name.clone());
                    it.entity_id = Some(e.id);
                    it.xpm_uuid = Some(u.clone());
                    it.sg_label = Some(e.name.clone());
                    it.xpm_label = Some(c.name.clone());
                    let elsewhere: Vec<String> = c
                        .groups
                        .iter()
                        .flatten()
                        .filter(|g| g.uuid != group_uuid)
                        .map(|g| {
                            if g.name.trim().is_empty() {
                                pull::uuid_text(&g.uuid)
                            } else {
                                format!("\u{201c}{}\u{201d}", g.name.trim())
                            }
                        })
                        .collect();
                    if !elsewhere.is_empty() {
                        // Moved in XPM, most likely: adding it back would undo that unasked.
                        it.recommended = None;
                        it.note = Some(format!(
                            "XPM has {} in another client group ({}), not in this one: it may have moved there. Add it to this XPM group as well, remove it from this group here, or ignore it.",
                            c.name,
                            elsewhere.join(", ")
                        ));
                    }
                    items.push(it);
                }
                if member && compared.insert(e.id) {
                    let map = &maps[&e.id];
                    let fields = field_diffs(e, c, map, &rules, cipher);
                    if !fields.is_empty() {
                        let id = format!("fields:{}", e.id);
                        let mut it =
                            new_item(id.clone(), DiffType::EntityFieldMismatch, e.name.clone());
                        it.entity_id = Some(e.id);
                        it.xpm_uuid = Some(u.clone());
                        it.sg_label = Some(e.name.clone());
                        it.xpm_label = Some(c.name.clone());
                        it.fields = fields;
                        extra.insert(
                            id,
                            Extra {
                                client: Some(Box::new(c.clone())),
                                resolved: resolve(&rules, c),
                                ..Extra::default()
                            },
                        );
                        items.push(it);
                    }
                }
            }
            None if maps_entity.contains_key(&e.id) => {}
            None => {
                if candidate_entities.contains(&e.id) {
                    // A possible duplicate of an XPM client: that item decides it.
                    if let Some(dup) = items.iter().find(|i| {
                        i.diff_type == DiffType::PossibleDuplicate
                            && i.candidates.iter().any(|c| c.entity_id == e.id)
                    }) {
                        maps_entity.insert(e.id, dup.id.clone());
                    }
                    continue;
                }
                let id = format!("sg-only:{}", e.id);
                let mut it = new_item(id.clone(), DiffType::EntityOnlyInSg, e.name.clone());
                it.entity_id = Some(e.id);
                it.sg_label = Some(e.name.clone());
                it.cross_group = !member;
                maps_entity.insert(e.id, id);
                items.push(it);
            }
        }
    }

    // Relationships.
    let names: HashMap<i32, String> = all.iter().map(|(id, e)| (*id, e.name.clone())).collect();
    let facts_by_key: HashMap<&str, &Fact> = facts.iter().map(|f| (f.key.as_str(), f)).collect();
    let elsewhere_by_key: HashMap<&str, &Fact> =
        elsewhere.iter().map(|f| (f.key.as_str(), f)).collect();
    let mut matched: HashSet<String> = HashSet::new();
    // Local relationships paired with one of XPM's.
    let mut paired: HashSet<i32> = HashSet::new();
    let rel_maps: HashMap<i32, xpm_relationship_map::Model> = xpm_relationship_map::Entity::find()
        .filter(xpm_relationship_map::Column::OrganisationId.eq(org.0))
        .filter(xpm_relationship_map::Column::TenantId.eq(&tenant))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.relationship_id, m))
        .collect();
    for r in s
        .relationships
        .iter()
        .filter(|r| r.kind != RelationshipKind::Custom)
    {
        let subject = push::rel_subject(r, &names);
        let spec = match (
            live_map.get(&r.from_entity_id),
            live_map.get(&r.to_entity_id),
        ) {
            (Some(f), Some(t)) => push::rel_spec(r, f, t),
            _ => None,
        };
        match spec.as_ref().and_then(|s| {
            facts_by_key
                .get(s.key.as_str())
                .or_else(|| elsewhere_by_key.get(s.key.as_str()))
                .map(|f| (s, *f))
        }) {
            Some((spec, f)) => {
                matched.insert(f.key.clone());
                paired.insert(r.id);
                if let Some((it, ex)) = rel_attr_item(r, spec, f, &rel_maps, subject) {
                    extra.insert(it.id.clone(), ex);
                    items.push(it);
                }
            }
            None => {
                let id = format!("rel-sg:{}", r.id);
                let mut it = new_item(id, DiffType::RelOnlyInSg, subject.clone());
                it.relationship_id = Some(r.id);
                it.sg_label = Some(subject);
                if rel_maps.contains_key(&r.id) {
                    // XPM had it at the last sync and no longer does: someone deleted it there.
                    // Creating it again by default would undo that without asking.
                    it.recommended = None;
                    it.note = Some(
                        "XPM had this relationship at the last sync and no longer does: it was deleted there since. Create it again in XPM, delete it here, or ignore it."
                            .into(),
                    );
                    // Said when an end is archived: the relationship was looked for on that
                    // client's record too (read above), not only on the group's members.
                    if let Some(a) = [r.from_entity_id, r.to_entity_id]
                        .into_iter()
                        .find(|e| archived.contains(e))
                    {
                        it.note = Some(format!(
                            "{} is archived in XPM, and neither its XPM record nor the other client's has this relationship any more, which XPM had at the last sync: it was deleted there since. Create it again in XPM, delete it here, or ignore it.",
                            names.get(&a).map_or("An end", String::as_str)
                        ));
                    }
                }
                for end in [r.from_entity_id, r.to_entity_id] {
                    if !live_map.contains_key(&end) {
                        if let Some(dep) = maps_entity.get(&end) {
                            it.depends_on.push(dep.clone());
                        } else {
                            it.depends_on.push(format!("sg-only:{end}"));
                        }
                        it.cross_group |= !sg_members.contains(&end);
                    }
                }
                items.push(it);
            }
        }
    }
    let kind_of = |uuid: &str| -> Option<(EntityKind, Option<TrustType>)> {
        match entity_of(uuid).and_then(|id| all.get(&id)) {
            Some(e) => Some((e.kind, e.trust_type)),
            None => clients
                .get(uuid)
                .and_then(|c| c.as_ref())
                .and_then(|c| resolve(&rules, c)),
        }
    };
    let xname = |uuid: &str| -> String {
        match entity_of(uuid).and_then(|id| all.get(&id)) {
            Some(e) => e.name.clone(),
            None => clients
                .get(uuid)
                .and_then(|c| c.as_ref())
                .map(|c| c.name.clone())
                .unwrap_or_else(|| uuid.to_owned()),
        }
    };
    // XPM relationships whose two ends are mapped may already be here: from another group's
    // pull (the relationship touches none of this group's members yet), or entered by hand.
    // They are the same relationship, not one to import (which would be refused as existing).
    let ends: Vec<i32> = facts
        .iter()
        .filter(|f| !matched.contains(&f.key))
        .flat_map(|f| [entity_of(&f.from), entity_of(&f.to)])
        .flatten()
        .collect();
    let local: Vec<relationship::Model> = relationships::touching(db, org, &ends)
        .await?
        .into_iter()
        .filter(|r| r.kind != RelationshipKind::Custom)
        .collect();
    let unmatched: Vec<&Fact> = facts.iter().filter(|f| !matched.contains(&f.key)).collect();
    for f in unmatched {
        let (Some(from), Some(to)) = (entity_of(&f.from), entity_of(&f.to)) else {
            continue;
        };
        let Some(kind) = all
            .get(&to)
            .and_then(|e| pull::map_kind_for(&f.base, e.kind, e.trust_type))
        else {
            continue;
        };
        let input = pull::relationship_input(f, kind, from, to);
        // Its own mapping first, else an unmapped row that is the same fact.
        let found = local
            .iter()
            .filter(|r| !paired.contains(&r.id))
            .find(|r| rel_maps.get(&r.id).is_some_and(|m| m.xpm_key == f.key))
            .or_else(|| {
                local.iter().find(|r| {
                    !paired.contains(&r.id)
                        && !rel_maps.contains_key(&r.id)
                        && pull::same_relationship(r, &input)
                })
            });
        let Some(r) = found else { continue };
        matched.insert(f.key.clone());
        paired.insert(r.id);
        // Not "only in StructureGram" either.
        let sg_only = format!("rel-sg:{}", r.id);
        items.retain(|i| i.id != sg_only);
        let spec = match (maps.get(&r.from_entity_id), maps.get(&r.to_entity_id)) {
            (Some(a), Some(b)) => push::rel_spec(r, &a.xpm_uuid, &b.xpm_uuid),
            _ => None,
        };
        // Values are compared when the row's key is XPM's (else only the pairing stands).
        if let Some(spec) = spec.filter(|s| s.key == f.key) {
            let subject = push::rel_subject(r, &names);
            if let Some((it, ex)) = rel_attr_item(r, &spec, f, &rel_maps, subject) {
                extra.insert(it.id.clone(), ex);
                items.push(it);
            }
        }
    }
    for f in facts.iter().filter(|f| !matched.contains(&f.key)) {
        let rel_kind = kind_of(&f.to).and_then(|(k, t)| pull::map_kind_for(&f.base, k, t));
        let labels = f.labels.join(" / ");
        let (from, to) = (xname(&f.from), xname(&f.to));
        let subject = match rel_kind {
            Some(k) => rel_label(k, &from, &to),
            None => format!("{from} \u{2192} {to} ({labels})"),
        };
        let mut it = match rel_kind {
            Some(_) => new_item(
                format!("rel-xpm:{}", f.key),
                DiffType::RelOnlyInXpm,
                subject.clone(),
            ),
            None => {
                let mut it = new_item(
                    format!("rel-policy:{}", f.key),
                    DiffType::RelNeedsPolicy,
                    subject.clone(),
                );
                it.note = Some(format!(
                    "XPM's relationship label \u{201c}{labels}\u{201d} has no StructureGram type; choose one to import it, or defer."
                ));
                it
            }
        };
        it.xpm_label = Some(subject);
        for end in [&f.from, &f.to] {
            if entity_of(end).is_none() {
                let dep = maps_client.get(end).cloned().or_else(|| {
                    by_uuid
                        .get(end)
                        .and_then(|ids| ids.iter().find_map(|id| maps_entity.get(id).cloned()))
                });
                it.depends_on.extend(dep);
                it.cross_group |= !member_set.contains(end);
            }
        }
        extra.insert(
            it.id.clone(),
            Extra {
                fact: Some(f.clone()),
                rel_kind,
                ..Extra::default()
            },
        );
        items.push(it);
    }
    items.sort_by(|a, b| (a.diff_type, &a.id).cmp(&(b.diff_type, &b.id)));
    Ok(Built {
        group_name: s.group.name.clone(),
        group_uuid,
        xpm_members: g.members.iter().map(|m| m.uuid).collect(),
        items,
        extra,
        calls,
    })
}

// ---------------------------------------------------------------------------------------------
// Decisions, statuses and the summary.

fn makes_mapping(t: DiffType, a: Option<Action>) -> bool {
    use Action as A;
    use DiffType as D;
    matches!(
        (t, a),
        (D::EntityOnlyInSg, Some(A::CreateInXpm))
            | (D::EntityOnlyInXpm, Some(A::ImportToSg))
            | (D::EntityTypeUnresolved, Some(A::ChooseType))
            | (D::PossibleDuplicate, Some(A::LinkToSg | A::ImportToSg))
    )
}

/// The choice per field of a field or relationship-value item; `None` = needs input.
fn field_choice(item: &ReconcileItem, f: &FieldDiff) -> Option<FieldChoice> {
    let d = item.decision.as_ref();
    if let Some(c) = d.and_then(|d| d.fields.get(&f.field)) {
        return Some(*c);
    }
    match d.and_then(|d| d.action) {
        Some(Action::UseSgValues) => Some(FieldChoice::UseSg),
        Some(Action::UseXpmValues) if f.xpm_allowed => Some(FieldChoice::UseXpm),
        Some(Action::UseXpmValues) => None,
        Some(Action::Ignore) => Some(FieldChoice::Ignore),
        _ => f.recommended,
    }
}

/// Sets each item's effective action, status, needs, waiting list and guarded flag.
fn settle(items: &mut [ReconcileItem]) {
    use DiffType as D;
    for it in items.iter_mut() {
        let two_sided = matches!(it.diff_type, D::EntityFieldMismatch | D::RelAttrMismatch);
        if two_sided && it.recommended.is_none() {
            let recs: HashSet<Option<FieldChoice>> =
                it.fields.iter().map(|f| f.recommended).collect();
            if recs.len() == 1 {
                it.recommended = match recs.into_iter().next().flatten() {
                    Some(FieldChoice::UseSg) => Some(Action::UseSgValues),
                    Some(FieldChoice::UseXpm) => Some(Action::UseXpmValues),
                    _ => None,
                };
            }
        }
        let chosen = it.decision.as_ref().and_then(|d| d.action);
        let mut effective = chosen.or(it.recommended);
        it.guarded = chosen.is_some_and(Action::guarded);
        if it.guarded && !it.decision.as_ref().is_some_and(|d| d.confirmed) {
            effective = Some(Action::Ignore);
        }
        it.effective = effective;
        it.status = ItemStatus::Ready;
        it.waiting_on.clear();
        it.needs = None;
        if two_sided && effective != Some(Action::Ignore) {
            let open: Vec<String> = it
                .fields
                .iter()
                .filter(|f| field_choice(it, f).is_none())
                .map(|f| f.field.clone())
                .collect();
            if !open.is_empty() {
                it.status = ItemStatus::NeedsInput;
                it.needs = Some(format!(
                    "Both sides changed (or the last synced values are not known): choose StructureGram's or XPM's value for {}.",
                    open.join(", ")
                ));
                if it.effective.is_none() {
                    it.effective = Some(Action::UseSgValues);
                }
            } else if it.effective.is_none() {
                it.effective = Some(Action::UseSgValues);
            }
            continue;
        }
        let d = it.decision.as_ref();
        it.needs = match (it.diff_type, effective) {
            (D::EntityTypeUnresolved, None)
            | (D::EntityTypeUnresolved, Some(Action::ChooseType))
                if d.and_then(|d| d.kind).is_none() =>
            {
                Some(
                    "Choose the entity type (and the trust type for a trust) to import it as."
                        .into(),
                )
            }
            (D::PossibleDuplicate, None) => {
                Some("Link it to the matching entity, or import it as a new one.".into())
            }
            (D::PossibleDuplicate, Some(Action::LinkToSg))
                if d.and_then(|d| d.entity_id).is_none() && it.candidates.len() != 1 =>
            {
                Some("Choose which entity to link it to.".into())
            }
            (D::RelNeedsPolicy, Some(Action::ImportToSg))
                if d.and_then(|d| d.relationship_kind).is_none() =>
            {
                Some("Choose the StructureGram relationship type to import it as.".into())
            }
            (_, None) => Some("Choose an action.".into()),
            _ => None,
        };
        if it.needs.is_some() {
            it.status = ItemStatus::NeedsInput;
        }
    }
    // Waiting: a relationship create/import whose end is not going to be mapped first.
    let plan: HashMap<String, (DiffType, Option<Action>, ItemStatus)> = items
        .iter()
        .map(|i| (i.id.clone(), (i.diff_type, i.effective, i.status)))
        .collect();
    for it in items.iter_mut() {
        if it.status != ItemStatus::Ready
            || !matches!(it.effective, Some(Action::CreateInXpm | Action::ImportToSg))
            || !matches!(
                it.diff_type,
                D::RelOnlyInSg | D::RelOnlyInXpm | D::RelNeedsPolicy
            )
        {
            continue;
        }
        it.waiting_on = it
            .depends_on
            .iter()
            .filter(|dep| match plan.get(*dep) {
                Some((t, a, st)) => !makes_mapping(*t, *a) || *st != ItemStatus::Ready,
                None => true,
            })
            .cloned()
            .collect();
        if !it.waiting_on.is_empty() {
            it.status = ItemStatus::Waiting;
        }
    }
}

/// The summary panel's numbers and caveats (product-spec §8.13).
pub fn summarise(items: &[ReconcileItem]) -> ReconcileSummary {
    let mut s = ReconcileSummary {
        total: items.len() as u32,
        ..ReconcileSummary::default()
    };
    let (mut deletions, mut unconfirmed) = (0u32, 0u32);
    for it in items {
        match it.status {
            ItemStatus::Ready => s.ready += 1,
            ItemStatus::NeedsInput => s.needs_input += 1,
            ItemStatus::Waiting => s.waiting += 1,
        }
        let c = &mut s.by_category;
        match it.category {
            Category::Entities => c.entities += 1,
            Category::EntityDetails => c.entity_details += 1,
            Category::Membership => c.membership += 1,
            Category::Relationships => c.relationships += 1,
        }
        if it.guarded {
            if it.effective.is_some_and(Action::guarded) {
                deletions += 1;
            } else {
                unconfirmed += 1;
            }
        }
    }
    if deletions > 0 {
        s.caveats.push(format!(
            "This plan deletes or removes {deletions} item{} (you confirmed {}). Deletions are never automatic; they run last, and XPM clients are archived rather than deleted.",
            if deletions == 1 { "" } else { "s" },
            if deletions == 1 { "it" } else { "each" }
        ));
    }
    if unconfirmed > 0 {
        s.caveats.push(format!(
            "{unconfirmed} destructive choice{} not confirmed, so {} ignored this round. Confirm to include {}.",
            if unconfirmed == 1 { " is" } else { "s are" },
            if unconfirmed == 1 { "it is" } else { "they are" },
            if unconfirmed == 1 { "it" } else { "them" }
        ));
    }
    s.ready_to_apply = s.needs_input == 0 && s.waiting == 0;
    s
}

async fn load_decisions(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
) -> Result<HashMap<String, ReconcileDecision>> {
    Ok(reconcile_decision::Entity::find()
        .filter(reconcile_decision::Column::OrganisationId.eq(org.0))
        .filter(reconcile_decision::Column::GroupId.eq(group_id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|d| {
            serde_json::from_str(&d.decision)
                .ok()
                .map(|v| (d.item_id, v))
        })
        .collect())
}

fn attach(items: &mut [ReconcileItem], decisions: &HashMap<String, ReconcileDecision>) {
    for it in items.iter_mut() {
        it.decision = decisions.get(&it.id).cloned();
    }
    settle(items);
}

/// Decisions a new preview forgets: destructive ones (asked again every round) and "Ignore
/// this round"; the others carry over while their difference remains.
fn for_this_round_only(d: &ReconcileDecision) -> bool {
    d.action.is_some_and(|a| a.guarded() || a == Action::Ignore)
}

async fn save_plan(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
    preview: &ReconcilePreview,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    reconcile_plan::Entity::delete_many()
        .filter(reconcile_plan::Column::GroupId.eq(preview.group_id))
        .exec(&txn)
        .await?;
    reconcile_plan::ActiveModel {
        organisation_id: Set(org.0),
        group_id: Set(preview.group_id),
        tenant_id: Set(tenant.to_owned()),
        items: Set(serde_json::to_string(&StoredPlan {
            preview: preview.clone(),
            applied: Vec::new(),
        })
        .expect("preview serialises")),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // A destructive decision (confirmed or not) is asked again in every new round: what it
    // deletes may have changed since, and an earlier confirmation is no consent for this one.
    // "Ignore this round" means this round only.
    let guarded: Vec<i32> = reconcile_decision::Entity::find()
        .filter(reconcile_decision::Column::OrganisationId.eq(org.0))
        .filter(reconcile_decision::Column::GroupId.eq(preview.group_id))
        .all(&txn)
        .await?
        .into_iter()
        .filter(|row| {
            serde_json::from_str::<ReconcileDecision>(&row.decision)
                .is_ok_and(|d| for_this_round_only(&d))
        })
        .map(|row| row.id)
        .collect();
    if !guarded.is_empty() {
        reconcile_decision::Entity::delete_many()
            .filter(reconcile_decision::Column::Id.is_in(guarded))
            .exec(&txn)
            .await?;
    }
    // Decisions on differences that are gone no longer mean anything.
    let ids: Vec<String> = preview.items.iter().map(|i| i.id.clone()).collect();
    reconcile_decision::Entity::delete_many()
        .filter(reconcile_decision::Column::OrganisationId.eq(org.0))
        .filter(reconcile_decision::Column::GroupId.eq(preview.group_id))
        .filter(reconcile_decision::Column::ItemId.is_not_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// *Generate preview*: reads the linked group's live XPM state (see the module docs for the
/// calls), compares it with StructureGram, attaches the saved decisions, and keeps the result
/// as the group's current plan (decisions on differences that are gone are dropped).
///
/// # Errors
/// [`Error::NotFound`] for an unknown group; [`Error::Validation`] when it is not linked or is
/// linked in another practice; [`Error::XpmCall`] when a read fails (nothing is saved);
/// [`Error::Db`].
#[allow(clippy::too_many_arguments)]
pub async fn preview(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    group_id: i32,
    now: DateTime<Utc>,
) -> Result<ReconcilePreview> {
    let mut built = build(db, org, cipher, client, session, group_id).await?;
    let mut decisions = load_decisions(db, org, group_id).await?;
    // A new round asks again for destructive and ignored items (`save_plan` forgets them too).
    decisions.retain(|_, d| !for_this_round_only(d));
    attach(&mut built.items, &decisions);
    let preview = ReconcilePreview {
        group_id,
        group_name: built.group_name,
        xpm_group_uuid: pull::uuid_text(&built.group_uuid),
        generated_at: now.to_rfc3339(),
        summary: summarise(&built.items),
        items: built.items,
        calls: built.calls,
    };
    save_plan(db, org, session.tenant.as_str(), &preview, now).await?;
    Ok(preview)
}

/// What `reconcile_plan.items` holds: the last preview, and the ids of its items an apply
/// carried out since (taken out of the preview's items).
#[derive(Serialize, Deserialize)]
struct StoredPlan {
    #[serde(flatten)]
    preview: ReconcilePreview,
    #[serde(default)]
    applied: Vec<String>,
}

async fn stored(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
) -> Result<Option<(reconcile_plan::Model, StoredPlan)>> {
    let Some(row) = reconcile_plan::Entity::find()
        .filter(reconcile_plan::Column::OrganisationId.eq(org.0))
        .filter(reconcile_plan::Column::GroupId.eq(group_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(serde_json::from_str::<StoredPlan>(&row.items)
        .ok()
        .map(|p| (row, p)))
}

/// The group's current plan (the last preview with the saved decisions), if there is one: what
/// the review page shows when it opens again.
///
/// # Errors
/// [`Error::NotFound`] for an unknown group; [`Error::Db`].
pub async fn current(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
) -> Result<Option<ReconcilePreview>> {
    groups::get(db, org, group_id).await?;
    let Some((_, StoredPlan { preview: mut p, .. })) = stored(db, org, group_id).await? else {
        return Ok(None);
    };
    let decisions = load_decisions(db, org, group_id).await?;
    attach(&mut p.items, &decisions);
    p.summary = summarise(&p.items);
    Ok(Some(p))
}

/// The ids of the current plan's items that an apply has carried out (they are no longer among
/// [`current`]'s items), in the order applied; empty after a new preview. A second apply of the
/// same plan can so report them as already applied rather than as changed since the preview.
///
/// # Errors
/// [`Error::NotFound`] for an unknown group; [`Error::Db`].
pub async fn applied(db: &DatabaseConnection, org: OrgId, group_id: i32) -> Result<Vec<String>> {
    groups::get(db, org, group_id).await?;
    Ok(stored(db, org, group_id)
        .await?
        .map(|(_, p)| p.applied)
        .unwrap_or_default())
}

/// Takes the applied items out of the stored plan, so the review reopens ([`current`]) on what
/// is left (ignored, deferred, blocked, failed) rather than on differences that are gone, and
/// remembers their ids ([`applied`]).
async fn forget_applied(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    applied: &[(String, Option<ReconcileDecision>)],
) -> Result<()> {
    if applied.is_empty() {
        return Ok(());
    }
    let Some((row, mut plan)) = stored(db, org, group_id).await? else {
        return Ok(());
    };
    let gone: HashSet<&str> = applied.iter().map(|(id, _)| id.as_str()).collect();
    plan.preview.items.retain(|i| !gone.contains(i.id.as_str()));
    plan.preview.summary = summarise(&plan.preview.items);
    for (id, _) in applied {
        if !plan.applied.contains(id) {
            plan.applied.push(id.clone());
        }
    }
    let mut active = row.into_active_model();
    active.items = Set(serde_json::to_string(&plan).expect("preview serialises"));
    active.update(db).await?;
    Ok(())
}

async fn plan_or_refuse(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
) -> Result<ReconcilePreview> {
    current(db, org, group_id).await?.ok_or_else(|| {
        Error::Validation(
            "There is no reconciliation preview for this group yet. Generate a preview first."
                .into(),
        )
    })
}

fn check(item: &ReconcileItem, d: &ReconcileDecision) -> Result<()> {
    if let Some(a) = d.action {
        if !item.actions.contains(&a) {
            return Err(Error::Validation(format!(
                "\u{201c}{a:?}\u{201d} is not an action for {} ({:?}); choose one of the listed actions.",
                item.subject, item.diff_type
            )));
        }
    }
    for (field, choice) in &d.fields {
        let Some(f) = item.fields.iter().find(|f| &f.field == field) else {
            return Err(Error::Validation(format!(
                "{field} is not one of the differing fields of {}.",
                item.subject
            )));
        };
        if *choice == FieldChoice::UseXpm && !f.xpm_allowed {
            return Err(Error::Validation(format!(
                "XPM's {field} cannot be taken for {} (XPM shows a TFN masked, and an entity's type cannot change); use StructureGram's value or ignore it.",
                item.subject
            )));
        }
    }
    if let Some(id) = d.entity_id {
        if !item.candidates.iter().any(|c| c.entity_id == id) {
            return Err(Error::Validation(format!(
                "Entity {id} is not one of the matches for {}.",
                item.subject
            )));
        }
    }
    if let Some(kind) = d.kind {
        structures::check_kind(kind, d.trust_type)?;
    }
    Ok(())
}

async fn store(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    decisions: &[(String, Option<ReconcileDecision>)],
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = db.begin().await?;
    for (item_id, d) in decisions {
        reconcile_decision::Entity::delete_many()
            .filter(reconcile_decision::Column::GroupId.eq(group_id))
            .filter(reconcile_decision::Column::ItemId.eq(item_id))
            .exec(&txn)
            .await?;
        if let Some(d) = d {
            reconcile_decision::ActiveModel {
                organisation_id: Set(org.0),
                group_id: Set(group_id),
                item_id: Set(item_id.clone()),
                decision: Set(serde_json::to_string(d).expect("decision serialises")),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Saves (or, with `None`, clears) the decision on one item of the current plan, and returns
/// the plan with statuses and summary updated. No XPM call.
///
/// # Errors
/// [`Error::Validation`] when there is no preview yet, or the decision does not fit the item
/// (an action it does not offer, a field it does not have, XPM's masked TFN, an entity that is
/// not a candidate, an invalid type); [`Error::NotFound`] when the item is not in the current
/// plan (generate the preview again); [`Error::Db`].
pub async fn decide(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    item_id: &str,
    decision: Option<ReconcileDecision>,
    now: DateTime<Utc>,
) -> Result<ReconcilePreview> {
    let plan = plan_or_refuse(db, org, group_id).await?;
    let item = plan.items.iter().find(|i| i.id == item_id).ok_or_else(|| {
        Error::NotFound(format!(
            "The difference {item_id} is not in the current preview. Generate the preview again."
        ))
    })?;
    if let Some(d) = &decision {
        check(item, d)?;
    }
    store(db, org, group_id, &[(item_id.to_owned(), decision)], now).await?;
    plan_or_refuse(db, org, group_id).await
}

/// The decision a helper gives an item, or `None` to leave it as it is.
fn helped(item: &ReconcileItem, helper: Helper) -> Option<ReconcileDecision> {
    let two_sided = matches!(
        item.diff_type,
        DiffType::EntityFieldMismatch | DiffType::RelAttrMismatch
    );
    let side = match helper {
        Helper::PreferXpm if two_sided => Some(FieldChoice::UseXpm),
        Helper::PreferSg if two_sided => Some(FieldChoice::UseSg),
        _ => None,
    };
    match side {
        Some(side) => {
            let fields = item
                .fields
                .iter()
                .map(|f| {
                    let c = if side == FieldChoice::UseXpm && !f.xpm_allowed {
                        FieldChoice::UseSg
                    } else {
                        side
                    };
                    (f.field.clone(), c)
                })
                .collect();
            Some(ReconcileDecision {
                action: Some(if side == FieldChoice::UseXpm {
                    Action::UseXpmValues
                } else {
                    Action::UseSgValues
                }),
                fields,
                ..ReconcileDecision::default()
            })
        }
        None if item.decision.is_none() => item.recommended.map(|a| ReconcileDecision {
            action: Some(a),
            ..ReconcileDecision::default()
        }),
        None => None,
    }
}

/// One-click helpers (product-spec §8.13): *accept all recommendations* gives every undecided
/// item its recommended action; *prefer XPM values* / *prefer StructureGram values* decide
/// every field and relationship-value conflict for that side (XPM's masked TFN excepted: it
/// keeps StructureGram's) and accept the recommendations elsewhere. Items only the user can
/// decide (types, duplicates) stay as they are. Returns the updated plan; no XPM call.
///
/// # Errors
/// [`Error::Validation`] when there is no preview yet; [`Error::Db`].
pub async fn helper(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    helper: Helper,
    now: DateTime<Utc>,
) -> Result<ReconcilePreview> {
    let plan = plan_or_refuse(db, org, group_id).await?;
    let decisions: Vec<(String, Option<ReconcileDecision>)> = plan
        .items
        .iter()
        .filter_map(|i| helped(i, helper).map(|d| (i.id.clone(), Some(d))))
        .collect();
    store(db, org, group_id, &decisions, now).await?;
    plan_or_refuse(db, org, group_id).await
}

// ---------------------------------------------------------------------------------------------
// Apply.

/// Progress reporting for [`apply`].
#[derive(Default)]
pub struct ApplyControl {
    /// Called after every item.
    pub on_progress: Option<Box<dyn Fn(ApplyProgress) + Send + Sync>>,
}

fn phase_of(item: &ReconcileItem) -> (ApplyPhase, u8) {
    use DiffType as D;
    let a = item.effective;
    if a.is_some_and(Action::guarded) {
        let order = match item.category {
            Category::Relationships => 0,
            Category::Membership => 1,
            _ => 2,
        };
        return (ApplyPhase::Removals, order);
    }
    let phase = match item.diff_type {
        D::StaleMapping => ApplyPhase::Mappings,
        D::PossibleDuplicate if a == Some(Action::LinkToSg) => ApplyPhase::Mappings,
        D::EntityOnlyInSg | D::EntityOnlyInXpm | D::EntityTypeUnresolved | D::PossibleDuplicate
            if item.cross_group =>
        {
            ApplyPhase::CrossGroup
        }
        D::EntityOnlyInSg | D::EntityOnlyInXpm | D::EntityTypeUnresolved | D::PossibleDuplicate => {
            ApplyPhase::Entities
        }
        D::EntityFieldMismatch => ApplyPhase::EntityDetails,
        D::MembershipOnlyInSg | D::MembershipOnlyInXpm => ApplyPhase::Membership,
        D::RelOnlyInSg | D::RelOnlyInXpm | D::RelAttrMismatch | D::RelNeedsPolicy => {
            ApplyPhase::Relationships
        }
    };
    (phase, 0)
}

struct Applier<'a> {
    db: &'a DatabaseConnection,
    org: OrgId,
    cipher: &'a TfnCipher,
    client: &'a xpm::XpmClient,
    session: &'a xpm::Session,
    now: DateTime<Utc>,
    tenant: String,
    group_id: i32,
    group_uuid: Uuid,
    xpm_members: HashSet<Uuid>,
    pusher: Pusher<'a>,
    extra_calls: u32,
}

type Done = (ApplyOutcome, Option<String>);

/// How an item that ran the push's code ended, from the push items it added: failed when one
/// did not succeed; applied, saying so, when every one found nothing to send (an "Applied"
/// must not hide that no XPM call was made).
fn pushed_outcome(new: &[push::ItemResult]) -> Done {
    if let Some(f) = new.iter().find(|i| i.outcome != ItemOutcome::Ok) {
        return (ApplyOutcome::Failed, f.message.clone());
    }
    if !new.is_empty() && new.iter().all(|i| i.action == push::PushAction::Unchanged) {
        return (
            ApplyOutcome::Applied,
            Some("Already in XPM as it is here: nothing was sent.".into()),
        );
    }
    (ApplyOutcome::Applied, None)
}

fn failed(e: impl std::fmt::Display) -> Done {
    (ApplyOutcome::Failed, Some(e.to_string()))
}

impl Applier<'_> {
    /// The outcome of the push items recorded since `before`.
    fn pushed(&self, before: usize) -> Done {
        pushed_outcome(&self.pusher.items()[before..])
    }

    async fn map_of(&self, entity_id: i32) -> Result<Option<xpm_client_map::Model>> {
        Ok(xpm_client_map::Entity::find()
            .filter(xpm_client_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_client_map::Column::TenantId.eq(&self.tenant))
            .filter(xpm_client_map::Column::EntityId.eq(entity_id))
            .one(self.db)
            .await?)
    }

    async fn entity_for(&self, uuid: &str) -> Result<Option<i32>> {
        Ok(xpm_client_map::Entity::find()
            .filter(xpm_client_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_client_map::Column::TenantId.eq(&self.tenant))
            .filter(xpm_client_map::Column::XpmUuid.eq(uuid))
            .one(self.db)
            .await?
            .map(|m| m.entity_id))
    }

    fn map_row(&self, entity_id: i32, uuid: &str, c: &Client) -> xpm_client_map::ActiveModel {
        xpm_client_map::ActiveModel {
            organisation_id: Set(self.org.0),
            tenant_id: Set(self.tenant.clone()),
            entity_id: Set(entity_id),
            xpm_uuid: Set(uuid.to_owned()),
            xpm_name: Set(c.name.clone()),
            business_structure: Set(pull::text(&c.business_structure)),
            values_hash: Set(Some(pull::client_hash(c))),
            last_seen_at: Set(self.now),
            xpm_values: Set(Some(push::values_json(c, None))),
            ..Default::default()
        }
    }

    async fn import_entity(
        &mut self,
        item: &ReconcileItem,
        ex: &Extra,
        kind: Option<(EntityKind, Option<TrustType>)>,
    ) -> Result<Done> {
        let Some(c) = ex.client.as_deref() else {
            return Ok(failed(
                "XPM's client was not read; generate the preview again.",
            ));
        };
        let Some((kind, tt)) = kind else {
            return Ok(failed("Choose the entity type first."));
        };
        let input = pull::entity_input(c, kind, tt, None);
        let txn = self.db.begin().await?;
        let id = match entities::insert(&txn, self.org, self.cipher, &input, self.now).await {
            Ok(id) => id,
            Err(e @ Error::Validation(_)) => return Ok(failed(e)),
            Err(e) => return Err(e),
        };
        if !item.cross_group {
            groups::add_member(&txn, self.group_id, id, None, None).await?;
        }
        self.map_row(id, item.xpm_uuid.as_deref().unwrap_or_default(), c)
            .insert(&txn)
            .await?;
        let remember = item.decision.as_ref().is_some_and(|d| d.remember_rule);
        if let (true, Some(label)) = (remember, pull::text(&c.business_structure)) {
            structures::save_rule(&txn, self.org, &label, kind, tt, self.now).await?;
        }
        txn.commit().await?;
        Ok((ApplyOutcome::Applied, None))
    }

    async fn link(&mut self, item: &ReconcileItem, ex: &Extra) -> Result<Done> {
        let target = item
            .decision
            .as_ref()
            .and_then(|d| d.entity_id)
            .or_else(|| (item.candidates.len() == 1).then(|| item.candidates[0].entity_id));
        let (Some(target), Some(c)) = (target, ex.client.as_deref()) else {
            return Ok(failed("Choose which entity to link it to."));
        };
        if self.map_of(target).await?.is_some() {
            return Ok(failed(
                "That entity is linked to another XPM client already; generate the preview again.",
            ));
        }
        let txn = self.db.begin().await?;
        self.map_row(target, item.xpm_uuid.as_deref().unwrap_or_default(), c)
            .insert(&txn)
            .await?;
        if !item.cross_group {
            let member = group_member::Entity::find()
                .filter(group_member::Column::GroupId.eq(self.group_id))
                .filter(group_member::Column::EntityId.eq(target))
                .one(&txn)
                .await?;
            if member.is_none() {
                groups::add_member(&txn, self.group_id, target, None, None).await?;
            }
        }
        txn.commit().await?;
        Ok((ApplyOutcome::Applied, None))
    }

    async fn fields(&mut self, item: &ReconcileItem, ex: &Extra) -> Result<Done> {
        let (Some(eid), Some(c)) = (item.entity_id, ex.client.as_deref()) else {
            return Ok(failed("Generate the preview again."));
        };
        let mut to_sg: Vec<&str> = Vec::new();
        let mut to_xpm: HashSet<String> = HashSet::new();
        for f in &item.fields {
            match field_choice(item, f) {
                Some(FieldChoice::UseXpm) => to_sg.push(&f.field),
                Some(FieldChoice::UseSg) => {
                    to_xpm.insert(f.field.clone());
                }
                _ => {}
            }
        }
        if to_sg.is_empty() && to_xpm.is_empty() {
            return Ok((ApplyOutcome::Ignored, None));
        }
        let e = entities::get_row(self.db, self.org, eid).await?;
        if !to_sg.is_empty() {
            let mut input = pull::input_of(&e);
            let from = pull::entity_input(c, e.kind, e.trust_type, Some(pull::input_of(&e)));
            for f in &to_sg {
                match *f {
                    "Name" => {
                        input.name = from.name.clone();
                        if e.kind == EntityKind::Individual {
                            input.first_name = from.first_name.clone();
                            input.last_name = from.last_name.clone();
                        }
                    }
                    "FirstName" => input.first_name = from.first_name.clone(),
                    "LastName" => input.last_name = from.last_name.clone(),
                    "OtherName" => input.other_name = from.other_name.clone(),
                    "DateOfBirth" => input.date_of_birth = from.date_of_birth,
                    "Email" => input.email = from.email.clone(),
                    "Phone" => input.phone = from.phone.clone(),
                    "Address" => input.address = from.address.clone(),
                    "PostalAddress" => input.postal_address = from.postal_address.clone(),
                    "BusinessNumber" => input.abn = from.abn.clone(),
                    "CompanyNumber" => input.acn = from.acn.clone(),
                    "BusinessStructure" => {
                        if let Some((k, tt)) = ex.resolved.filter(|(k, _)| *k == e.kind) {
                            input.kind = k;
                            input.trust_type = tt;
                        }
                    }
                    _ => {}
                }
            }
            let txn = self.db.begin().await?;
            match entities::update_in(&txn, self.org, self.cipher, eid, &input, self.now).await {
                Ok(()) => {}
                Err(e @ Error::Validation(_)) => return Ok(failed(e)),
                Err(e) => return Err(e),
            }
            // What XPM shows now is the new last-synced state.
            let map = xpm_client_map::Entity::find()
                .filter(xpm_client_map::Column::OrganisationId.eq(self.org.0))
                .filter(xpm_client_map::Column::TenantId.eq(&self.tenant))
                .filter(xpm_client_map::Column::EntityId.eq(eid))
                .one(&txn)
                .await?;
            if let Some(map) = map {
                let previous = map.xpm_values.clone();
                let mut active = map.into_active_model();
                active.xpm_values = Set(Some(push::values_json(c, previous.as_deref())));
                active.xpm_name = Set(c.name.clone());
                active.business_structure = Set(pull::text(&c.business_structure));
                active.last_seen_at = Set(self.now);
                active.update(&txn).await?;
            }
            txn.commit().await?;
        }
        if !to_xpm.is_empty() {
            let e = entities::get_row(self.db, self.org, eid).await?;
            let Some(map) = self.map_of(eid).await? else {
                return Ok(failed(
                    "The entity is no longer linked; generate the preview again.",
                ));
            };
            let before = self.pusher.items().len();
            self.pusher
                .update_entity_fields(PushPhase::Entities, &e, map, Some(to_xpm))
                .await?;
            return Ok(self.pushed(before));
        }
        Ok((ApplyOutcome::Applied, None))
    }

    async fn names(&self, r: &relationship::Model) -> Result<HashMap<i32, String>> {
        Ok(
            push::entities_by_id(self.db, self.org, &[r.from_entity_id, r.to_entity_id])
                .await?
                .into_iter()
                .map(|e| (e.id, e.name))
                .collect(),
        )
    }

    async fn push_relationship(&mut self, rid: i32) -> Result<Done> {
        let r = relationships::get_row(self.db, self.org, rid).await?;
        let names = self.names(&r).await?;
        let before = self.pusher.items().len();
        self.pusher.relationship(&r, &names).await?;
        Ok(self.pushed(before))
    }

    /// Forgets what the last sync recorded of relationship `rid` in XPM (its XPM ids and the
    /// hash of the values sent), keeping its key: XPM no longer shows it (read again for this
    /// apply), so the push looks it up by key and adds it again instead of taking the
    /// unchanged mapping for "already in XPM" and sending nothing.
    async fn forget_rel_sync(&self, rid: i32) -> Result<()> {
        xpm_relationship_map::Entity::update_many()
            .col_expr(
                xpm_relationship_map::Column::XpmUuids,
                sea_orm::sea_query::Expr::value(String::new()),
            )
            .col_expr(
                xpm_relationship_map::Column::ValuesHash,
                sea_orm::sea_query::Expr::value(Option::<String>::None),
            )
            .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
            .filter(xpm_relationship_map::Column::RelationshipId.eq(rid))
            .exec(self.db)
            .await?;
        Ok(())
    }

    /// Records a relationship as XPM shows it: key, XPM ids, and the hash of StructureGram's
    /// row (`values_hash`: `None` forces the next push to send it).
    async fn save_rel_map(&self, r: &relationship::Model, f: &Fact, synced: bool) -> Result<()> {
        let from = self.map_of(r.from_entity_id).await?;
        let to = self.map_of(r.to_entity_id).await?;
        let spec = match (&from, &to) {
            (Some(a), Some(b)) => push::rel_spec(r, &a.xpm_uuid, &b.xpm_uuid),
            _ => None,
        };
        let existing = xpm_relationship_map::Entity::find()
            .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
            .filter(xpm_relationship_map::Column::RelationshipId.eq(r.id))
            .one(self.db)
            .await?;
        let hash = spec.as_ref().map(|s| s.hash.clone()).filter(|_| synced);
        let key = spec.map_or_else(|| f.key.clone(), |s| s.key);
        match existing {
            Some(m) => {
                let mut a = m.into_active_model();
                a.xpm_key = Set(key);
                a.xpm_uuids = Set(f.uuids.join(","));
                a.values_hash = Set(hash);
                a.last_seen_at = Set(self.now);
                a.update(self.db).await?;
            }
            None => {
                xpm_relationship_map::ActiveModel {
                    organisation_id: Set(self.org.0),
                    tenant_id: Set(self.tenant.clone()),
                    relationship_id: Set(r.id),
                    xpm_key: Set(key),
                    xpm_uuids: Set(f.uuids.join(",")),
                    values_hash: Set(hash),
                    last_seen_at: Set(self.now),
                    ..Default::default()
                }
                .insert(self.db)
                .await?;
            }
        }
        Ok(())
    }

    /// The local relationship that is XPM's fact `f` (as `input`): the row mapped to its key,
    /// else an unmapped row of the same kind between the same entities.
    async fn same_local(
        &self,
        input: &crate::model::RelationshipInput,
        f: &Fact,
    ) -> Result<Option<relationship::Model>> {
        let rows =
            relationships::touching(self.db, self.org, &[input.from_id, input.to_id]).await?;
        let maps: HashMap<i32, String> = xpm_relationship_map::Entity::find()
            .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
            .filter(
                xpm_relationship_map::Column::RelationshipId
                    .is_in(rows.iter().map(|r| r.id).collect::<Vec<_>>()),
            )
            .all(self.db)
            .await?
            .into_iter()
            .map(|m| (m.relationship_id, m.xpm_key))
            .collect();
        Ok(rows
            .iter()
            .find(|r| maps.get(&r.id).is_some_and(|k| *k == f.key))
            .or_else(|| {
                rows.iter()
                    .find(|r| !maps.contains_key(&r.id) && pull::same_relationship(r, input))
            })
            .cloned())
    }

    async fn import_relationship(&mut self, item: &ReconcileItem, ex: &Extra) -> Result<Done> {
        let Some(f) = ex.fact.as_ref() else {
            return Ok(failed("Generate the preview again."));
        };
        let (Some(from), Some(to)) = (
            self.entity_for(&f.from).await?,
            self.entity_for(&f.to).await?,
        ) else {
            return Ok((
                ApplyOutcome::Blocked,
                Some(
                    "An end of the relationship is not in StructureGram yet; import it first."
                        .into(),
                ),
            ));
        };
        let target = entities::get_row(self.db, self.org, to).await?;
        let kind = item
            .decision
            .as_ref()
            .and_then(|d| d.relationship_kind)
            .or_else(|| pull::map_kind_for(&f.base, target.kind, target.trust_type))
            .or(ex.rel_kind);
        let Some(kind) = kind else {
            return Ok(failed("Choose the relationship type first."));
        };
        let input = pull::relationship_input(f, kind, from, to);
        if let Some(row) = self.same_local(&input, f).await? {
            // Already here (an end was linked this round to an entity that has it): adopt it
            // rather than fail as a duplicate every round.
            let agrees = match (
                self.map_of(row.from_entity_id).await?,
                self.map_of(row.to_entity_id).await?,
            ) {
                (Some(a), Some(b)) => {
                    push::rel_spec(&row, &a.xpm_uuid, &b.xpm_uuid).is_some_and(|spec| {
                        rel_attr_item(&row, &spec, f, &HashMap::new(), String::new()).is_none()
                    })
                }
                _ => false,
            };
            self.save_rel_map(&row, f, agrees).await?;
            return Ok((ApplyOutcome::Applied, None));
        }
        let txn = self.db.begin().await?;
        let created = match relationships::insert(&txn, self.org, &input, self.now).await {
            Ok(r) => r,
            Err(e @ (Error::Validation(_) | Error::Conflict(_))) => return Ok(failed(e)),
            Err(e) => return Err(e),
        };
        txn.commit().await?;
        let row = relationships::get_row(self.db, self.org, created.id).await?;
        self.save_rel_map(&row, f, true).await?;
        Ok((ApplyOutcome::Applied, None))
    }

    async fn rel_values(&mut self, item: &ReconcileItem, ex: &Extra) -> Result<Done> {
        let (Some(rid), Some(f)) = (item.relationship_id, ex.fact.as_ref()) else {
            return Ok(failed("Generate the preview again."));
        };
        let choices: Vec<(String, FieldChoice)> = item
            .fields
            .iter()
            .filter_map(|fd| field_choice(item, fd).map(|c| (fd.field.clone(), c)))
            .collect();
        let r = relationships::get_row(self.db, self.org, rid).await?;
        let (shares, pct, start, end) = xpm_attrs(r.kind, f);
        let mut details = relationships::to_relationship(r.clone()).details;
        let mut take_xpm = false;
        let mut send_sg = false;
        for (field, c) in &choices {
            match c {
                FieldChoice::UseXpm => {
                    take_xpm = true;
                    match field.as_str() {
                        "NumberOfShares" => details.shares = shares,
                        "Percentage" => details.percentage = pct,
                        "StartDate" => details.start_date = start,
                        "EndDate" => details.end_date = end,
                        _ => {}
                    }
                }
                FieldChoice::UseSg => send_sg = true,
                FieldChoice::Ignore => {}
            }
        }
        if !take_xpm && !send_sg {
            return Ok((ApplyOutcome::Ignored, None));
        }
        if take_xpm {
            let txn = self.db.begin().await?;
            match relationships::update_in(&txn, self.org, rid, &details, self.now).await {
                Ok(_) => {}
                Err(e @ (Error::Validation(_) | Error::Conflict(_))) => return Ok(failed(e)),
                Err(e) => return Err(e),
            }
            txn.commit().await?;
        }
        let row = relationships::get_row(self.db, self.org, rid).await?;
        // Synced unless StructureGram's values still have to go to XPM.
        self.save_rel_map(&row, f, !send_sg).await?;
        if send_sg {
            return self.push_relationship(rid).await;
        }
        Ok((ApplyOutcome::Applied, None))
    }

    async fn delete_xpm_relationship(&mut self, ex: &Extra) -> Result<Done> {
        let Some(f) = ex.fact.as_ref() else {
            return Ok(failed("Generate the preview again."));
        };
        let mut last = None;
        for u in &f.uuids {
            let Ok(uuid) = u.parse::<Uuid>() else {
                continue;
            };
            let (client, session) = (self.client, self.session);
            match self
                .pusher
                .call(client.delete_relationship(session, &uuid))
                .await
            {
                Ok(()) => {
                    xpm_relationship_map::Entity::delete_many()
                        .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
                        .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
                        .filter(xpm_relationship_map::Column::XpmKey.eq(&f.key))
                        .exec(self.db)
                        .await?;
                    return Ok((ApplyOutcome::Applied, None));
                }
                Err(e) => last = Some(self.pusher.failure("Deleting the relationship in XPM", e)),
            }
        }
        Ok((ApplyOutcome::Failed, last))
    }

    async fn remove_from_xpm_group(&mut self, uuid: &str, name: &str) -> Result<Done> {
        let Ok(u) = uuid.parse::<Uuid>() else {
            return Ok(failed("Invalid XPM client id."));
        };
        let (client, session, group) = (self.client, self.session, self.group_uuid);
        match self
            .pusher
            .call(client.update_client_group_members(session, &group, &[], &[u]))
            .await
        {
            Ok(_) => {
                self.xpm_members.remove(&u);
                Ok((ApplyOutcome::Applied, None))
            }
            Err(e) => Ok(failed(
                self.pusher
                    .failure(&format!("Removing {name} from the XPM group"), e),
            )),
        }
    }

    #[allow(clippy::too_many_lines)]
    async fn run(&mut self, item: &ReconcileItem, ex: &Extra) -> Result<Done> {
        use Action as A;
        use DiffType as D;
        let Some(action) = item.effective else {
            return Ok((ApplyOutcome::Ignored, None));
        };
        match (item.diff_type, action) {
            (_, A::Ignore) => Ok((ApplyOutcome::Ignored, None)),
            (_, A::Defer) => Ok((ApplyOutcome::Deferred, None)),
            (D::StaleMapping, A::ClearMapping) => {
                if let Some(eid) = item.entity_id {
                    xpm_client_map::Entity::delete_many()
                        .filter(xpm_client_map::Column::OrganisationId.eq(self.org.0))
                        .filter(xpm_client_map::Column::TenantId.eq(&self.tenant))
                        .filter(xpm_client_map::Column::EntityId.eq(eid))
                        .exec(self.db)
                        .await?;
                }
                Ok((ApplyOutcome::Applied, None))
            }
            (D::PossibleDuplicate, A::LinkToSg) => self.link(item, ex).await,
            (D::EntityOnlyInXpm | D::PossibleDuplicate, A::ImportToSg) => {
                self.import_entity(item, ex, ex.resolved).await
            }
            (D::EntityTypeUnresolved, A::ChooseType) => {
                let d = item.decision.as_ref();
                let kind = d
                    .and_then(|d| d.kind)
                    .map(|k| (k, d.and_then(|d| d.trust_type)));
                self.import_entity(item, ex, kind).await
            }
            (D::EntityOnlyInSg, A::CreateInXpm) => {
                let Some(eid) = item.entity_id else {
                    return Ok(failed("Generate the preview again."));
                };
                let e = entities::get_row(self.db, self.org, eid).await?;
                let before = self.pusher.items().len();
                let phase = if item.cross_group {
                    PushPhase::CrossGroup
                } else {
                    PushPhase::Entities
                };
                self.pusher.entity(phase, &e).await?;
                let done = self.pushed(before);
                if done.0 != ApplyOutcome::Applied || item.cross_group {
                    return Ok(done);
                }
                let before = self.pusher.items().len();
                let current = self.xpm_members.clone();
                self.pusher
                    .membership(self.group_uuid, std::slice::from_ref(&e), &current)
                    .await?;
                Ok(self.pushed(before))
            }
            (D::EntityFieldMismatch, _) => self.fields(item, ex).await,
            (D::MembershipOnlyInSg, A::AddToXpmGroup) => {
                let Some(eid) = item.entity_id else {
                    return Ok(failed("Generate the preview again."));
                };
                let e = entities::get_row(self.db, self.org, eid).await?;
                let before = self.pusher.items().len();
                let current = self.xpm_members.clone();
                self.pusher
                    .membership(self.group_uuid, std::slice::from_ref(&e), &current)
                    .await?;
                Ok(self.pushed(before))
            }
            (D::MembershipOnlyInXpm, A::AddToSgGroup) => {
                let Some(eid) = item.entity_id else {
                    return Ok(failed("Generate the preview again."));
                };
                groups::add_member(self.db, self.group_id, eid, None, None).await?;
                Ok((ApplyOutcome::Applied, None))
            }
            (D::RelOnlyInSg, A::CreateInXpm) => match item.relationship_id {
                Some(rid) => {
                    self.forget_rel_sync(rid).await?;
                    self.push_relationship(rid).await
                }
                None => Ok(failed("Generate the preview again.")),
            },
            (D::RelOnlyInXpm | D::RelNeedsPolicy, A::ImportToSg) => {
                self.import_relationship(item, ex).await
            }
            (D::RelAttrMismatch, _) => self.rel_values(item, ex).await,
            // Removals (confirmed only: unconfirmed ones are `Ignore` by now).
            (D::RelOnlyInSg, A::DeleteInSg) => {
                let Some(rid) = item.relationship_id else {
                    return Ok(failed("Generate the preview again."));
                };
                xpm_relationship_map::Entity::delete_many()
                    .filter(xpm_relationship_map::Column::RelationshipId.eq(rid))
                    .exec(self.db)
                    .await?;
                relationships::delete(self.db, self.org, rid, self.now).await?;
                Ok((ApplyOutcome::Applied, None))
            }
            (D::RelOnlyInXpm | D::RelNeedsPolicy, A::DeleteInXpm) => {
                self.delete_xpm_relationship(ex).await
            }
            (D::MembershipOnlyInSg, A::RemoveFromSgGroup) => {
                if let Some(eid) = item.entity_id {
                    group_member::Entity::delete_many()
                        .filter(group_member::Column::GroupId.eq(self.group_id))
                        .filter(group_member::Column::EntityId.eq(eid))
                        .exec(self.db)
                        .await?;
                }
                Ok((ApplyOutcome::Applied, None))
            }
            (D::MembershipOnlyInXpm | D::EntityOnlyInXpm, A::RemoveFromXpmGroup) => {
                let uuid = item.xpm_uuid.clone().unwrap_or_default();
                self.remove_from_xpm_group(&uuid, &item.subject).await
            }
            (D::EntityOnlyInSg, A::DeleteInSg) => match item.entity_id {
                Some(eid) => {
                    entities::delete(self.db, self.org, eid, self.now).await?;
                    Ok((ApplyOutcome::Applied, None))
                }
                None => Ok(failed("Generate the preview again.")),
            },
            (D::EntityOnlyInXpm, A::DeleteInXpm) => {
                let Some(c) = ex.client.as_deref() else {
                    return Ok(failed("Generate the preview again."));
                };
                let others = c
                    .groups
                    .iter()
                    .flatten()
                    .filter(|g| g.uuid != self.group_uuid)
                    .count();
                if others > 0 {
                    return Ok(failed(format!(
                        "{} belongs to {}, so it is not archived. Remove it from this group instead.",
                        c.name,
                        crate::words::count(others, "other XPM group", "other XPM groups")
                    )));
                }
                let Some(uuid) = item
                    .xpm_uuid
                    .as_deref()
                    .and_then(|u| u.parse::<Uuid>().ok())
                else {
                    return Ok(failed("Invalid XPM client id."));
                };
                let (client, session) = (self.client, self.session);
                if let Err(e) = self
                    .pusher
                    .call(client.archive_client(session, &uuid))
                    .await
                {
                    return Ok(failed(
                        self.pusher
                            .failure(&format!("Archiving {} in XPM", c.name), e),
                    ));
                }
                if item.cross_group {
                    return Ok((ApplyOutcome::Applied, None));
                }
                self.remove_from_xpm_group(&pull::uuid_text(&uuid), &c.name)
                    .await
            }
            (t, a) => Ok(failed(format!(
                "{a:?} is not an action for a {t:?} difference."
            ))),
        }
    }
}

/// *Apply*: reads XPM again, then carries out the decisions of the reviewed plan item by item
/// in the phases of product-spec §8.12 (see the module docs). Items that depend on one that did
/// not apply are blocked; the others carry on. Decisions of applied items are cleared (their
/// differences are gone); ignored ones are kept. Preview again afterwards.
///
/// # Errors
/// [`Error::Validation`] when there is no preview yet, or the plan is not ready (items need
/// input or wait); the errors of [`preview`] for the fresh read; [`Error::Db`]. Failed XPM
/// writes are per item, not errors.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    group_id: i32,
    control: &ApplyControl,
    now: DateTime<Utc>,
) -> Result<ApplyReport> {
    let reviewed = plan_or_refuse(db, org, group_id).await?;
    let mut built = build(db, org, cipher, client, session, group_id).await?;
    let decisions = load_decisions(db, org, group_id).await?;
    attach(&mut built.items, &decisions);
    let reviewed_ids: HashSet<&str> = reviewed.items.iter().map(|i| i.id.as_str()).collect();
    let fresh_ids: HashSet<String> = built.items.iter().map(|i| i.id.clone()).collect();
    let mut not_in_preview: Vec<String> = reviewed
        .items
        .iter()
        .filter(|i| !fresh_ids.contains(&i.id))
        .map(|i| i.id.clone())
        .chain(
            built
                .items
                .iter()
                .filter(|i| !reviewed_ids.contains(i.id.as_str()))
                .map(|i| i.id.clone()),
        )
        .collect();
    not_in_preview.sort();
    let mut items: Vec<ReconcileItem> = built
        .items
        .into_iter()
        .filter(|i| reviewed_ids.contains(i.id.as_str()))
        .collect();
    let summary = summarise(&items);
    if !summary.ready_to_apply {
        return Err(Error::Validation(format!(
            "The plan is not ready: {} your input and {} on other changes. Decide them (or ignore them) and apply again.",
            crate::words::count(summary.needs_input, "item needs", "items need"),
            crate::words::count(summary.waiting, "waits", "wait")
        )));
    }
    items.sort_by_key(phase_of);
    let push_control = PushControl::default();
    let pusher = Pusher::start(
        db,
        org,
        cipher,
        client,
        session,
        &push_control,
        now,
        Some(group_id),
    )
    .await?;
    let mut a = Applier {
        db,
        org,
        cipher,
        client,
        session,
        now,
        tenant: session.tenant.as_str().to_owned(),
        group_id,
        group_uuid: built.group_uuid,
        xpm_members: built.xpm_members,
        pusher,
        extra_calls: built.calls,
    };
    let mut results: Vec<ApplyResult> = Vec::new();
    let mut outcomes: HashMap<String, ApplyOutcome> = HashMap::new();
    let total = items.len() as u32;
    let mut stopped = None;
    for (n, item) in items.iter().enumerate() {
        let phase = phase_of(item).0;
        let blocker = item.depends_on.iter().find(|d| {
            outcomes
                .get(*d)
                .is_some_and(|o| *o != ApplyOutcome::Applied)
        });
        let skipped = matches!(item.effective, None | Some(Action::Ignore | Action::Defer));
        let (outcome, message) = if let (Some(b), false) = (blocker, skipped) {
            (
                ApplyOutcome::Blocked,
                Some(format!("It needs {b}, which did not apply.")),
            )
        } else if a.pusher.halted() {
            (ApplyOutcome::Blocked, stopped.clone())
        } else {
            let ex = built.extra.get(&item.id).cloned().unwrap_or_default();
            let done = a.run(item, &ex).await?;
            if a.pusher.halted() && stopped.is_none() {
                stopped = done.1.clone();
            }
            done
        };
        outcomes.insert(item.id.clone(), outcome);
        results.push(ApplyResult {
            item_id: item.id.clone(),
            diff_type: item.diff_type,
            subject: item.subject.clone(),
            action: item.effective,
            phase,
            outcome,
            message,
        });
        if let Some(f) = &control.on_progress {
            f(ApplyProgress {
                phase,
                done: n as u32 + 1,
                total,
            });
        }
    }
    let report = a.pusher.finish().await?;
    // Applied differences are gone: their decisions would only confuse a later one.
    let applied: Vec<(String, Option<ReconcileDecision>)> = results
        .iter()
        .filter(|r| r.outcome == ApplyOutcome::Applied)
        .map(|r| (r.item_id.clone(), None))
        .collect();
    store(db, org, group_id, &applied, now).await?;
    forget_applied(db, org, group_id, &applied).await?;
    let mut counts = ApplyCounts::default();
    for r in &results {
        match r.outcome {
            ApplyOutcome::Applied => counts.applied += 1,
            ApplyOutcome::Ignored => counts.ignored += 1,
            ApplyOutcome::Deferred => counts.deferred += 1,
            ApplyOutcome::Blocked => counts.blocked += 1,
            ApplyOutcome::Failed => counts.failed += 1,
        }
    }
    Ok(ApplyReport {
        group_id,
        results,
        counts,
        not_in_preview,
        calls: a.extra_calls + report.calls,
        stopped: report.stopped.or(stopped),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push_item(action: push::PushAction, outcome: ItemOutcome) -> push::ItemResult {
        push::ItemResult {
            phase: PushPhase::Relationships,
            subject: "Ada Harbour is a director of Harbour Holdings".into(),
            entity_id: None,
            relationship_id: Some(1),
            action,
            outcome,
            message: (outcome != ItemOutcome::Ok).then(|| "XPM refused it.".to_owned()),
            changes: Vec::new(),
        }
    }

    #[test]
    fn an_apply_that_sent_nothing_says_so_and_one_that_sent_something_does_not() {
        use push::PushAction as P;
        let (outcome, message) = pushed_outcome(&[push_item(P::Unchanged, ItemOutcome::Ok)]);
        assert_eq!(outcome, ApplyOutcome::Applied);
        assert_eq!(
            message.as_deref(),
            Some("Already in XPM as it is here: nothing was sent.")
        );
        assert_eq!(
            pushed_outcome(&[push_item(P::Create, ItemOutcome::Ok)]),
            (ApplyOutcome::Applied, None)
        );
        assert_eq!(
            pushed_outcome(&[
                push_item(P::Unchanged, ItemOutcome::Ok),
                push_item(P::Update, ItemOutcome::Ok),
            ]),
            (ApplyOutcome::Applied, None)
        );
        assert_eq!(
            pushed_outcome(&[push_item(P::Update, ItemOutcome::Failed)]),
            (ApplyOutcome::Failed, Some("XPM refused it.".into()))
        );
    }

    fn field(name: &str, rec: Option<FieldChoice>, xpm_allowed: bool) -> FieldDiff {
        FieldDiff {
            field: name.into(),
            sg: Some("a".into()),
            xpm: Some("b".into()),
            recommended: rec,
            xpm_allowed,
        }
    }

    #[test]
    fn a_conflict_where_both_sides_changed_needs_input_until_decided() {
        let mut it = new_item("fields:1".into(), DiffType::EntityFieldMismatch, "A".into());
        it.fields = vec![
            field("Email", Some(FieldChoice::UseXpm), true),
            field("Phone", None, true),
        ];
        let mut items = vec![it];
        settle(&mut items);
        assert_eq!(items[0].status, ItemStatus::NeedsInput);
        assert!(items[0].needs.as_deref().unwrap().contains("Phone"));
        items[0].decision = Some(ReconcileDecision {
            fields: [("Phone".to_owned(), FieldChoice::UseSg)].into(),
            ..ReconcileDecision::default()
        });
        settle(&mut items);
        assert_eq!(items[0].status, ItemStatus::Ready);
        assert_eq!(
            field_choice(&items[0], &items[0].fields[0]),
            Some(FieldChoice::UseXpm)
        );
    }

    #[test]
    fn deletions_are_never_defaults_and_need_confirmation() {
        for t in [
            DiffType::EntityOnlyInSg,
            DiffType::RelOnlyInXpm,
            DiffType::MembershipOnlyInXpm,
        ] {
            let it = new_item("x".into(), t, "X".into());
            assert!(!it.recommended.unwrap().guarded(), "{t:?}");
        }
        let mut it = new_item("rel-sg:1".into(), DiffType::RelOnlyInSg, "R".into());
        it.decision = Some(ReconcileDecision {
            action: Some(Action::DeleteInSg),
            ..ReconcileDecision::default()
        });
        let mut items = vec![it];
        settle(&mut items);
        assert_eq!(items[0].effective, Some(Action::Ignore));
        let s = summarise(&items);
        assert_eq!(s.caveats.len(), 1);
        assert!(s.caveats[0].contains("not confirmed"), "{:?}", s.caveats);
        items[0].decision.as_mut().unwrap().confirmed = true;
        settle(&mut items);
        assert_eq!(items[0].effective, Some(Action::DeleteInSg));
        assert_eq!(phase_of(&items[0]).0, ApplyPhase::Removals);
        assert!(summarise(&items).caveats[0].contains("deletes or removes 1 item"));
    }

    #[test]
    fn a_relationship_waits_for_its_end_to_be_created() {
        let ent = new_item("sg-only:5".into(), DiffType::EntityOnlyInSg, "E".into());
        let mut rel = new_item("rel-sg:9".into(), DiffType::RelOnlyInSg, "R".into());
        rel.depends_on = vec!["sg-only:5".into()];
        let mut items = vec![ent, rel];
        settle(&mut items);
        assert_eq!(items[1].status, ItemStatus::Ready);
        items[0].decision = Some(ReconcileDecision {
            action: Some(Action::Ignore),
            ..ReconcileDecision::default()
        });
        settle(&mut items);
        assert_eq!(items[1].status, ItemStatus::Waiting);
        assert_eq!(items[1].waiting_on, vec!["sg-only:5".to_owned()]);
        let s = summarise(&items);
        assert_eq!((s.ready, s.waiting, s.ready_to_apply), (1, 1, false));
    }
}
