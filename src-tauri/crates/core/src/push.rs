//! Push (issue 9, product-spec §8.9–§8.11): send a linked group's entities and relationships to
//! XPM, create-or-update, safe to retry and resumable.
//!
//! # Preview
//! [`plan`] is a dry run that makes **no XPM call**: it lists, per item, whether it will be
//! created, updated (with the fields that change, old → new; a TFN only masked), linked to the
//! XPM group, replaced, left unchanged or skipped, and what that costs in calls and minutes at
//! XPM's 60 calls a minute (xpm-api.md §4). It compares each entity with the values XPM last
//! showed for its client (`xpm_client_map.xpm_values`, written by every pull and push); when
//! those are not known yet (a mapping from before push existed) the item is a *check*: one read,
//! then an update of the fields where XPM differs from StructureGram, if any.
//!
//! # The five phases of [`push`] (product-spec §8.9)
//! 1. **Entities**: a mapped entity whose values differ from what XPM last showed is read
//!    (`client.api/get`) and updated (`client.api/update`) with a merged full body — XPM may
//!    clear elements left out (xpm-api.md §2.1, §7.1) — changing only the fields that changed
//!    here and that XPM still holds differently. An unmapped entity is created
//!    (`client.api/add`) and its mapping saved at once, in its own small transaction.
//! 2. **Group**: the XPM group is read (`clientgroup.api/get`). XPM 3.1 has no call to rename a
//!    group (xpm-api.md §2.3), so a different name is reported for the user to change in XPM.
//! 3. **Membership**: mapped members missing from the XPM group are added in one
//!    `clientgroup.api/members` call. A push never removes a member (reconciliation does).
//! 4. **Cross-group dependencies**: with [`PushOptions::cross_group`], entities of other groups
//!    that a member's relationship needs are created or updated like phase 1 (not added to this
//!    XPM group). Without it, relationships to such entities that are not in XPM are skipped.
//! 5. **Relationships**: each relationship touching a member is created
//!    (`client.api/addrelationship`), updated (`updaterelationship`: shares, percentage, dates)
//!    or — when its type or ends changed, which XPM cannot update — deleted and added again.
//!    XPM shows one relationship on both clients (xpm-api.md §2.2): it is sent once, from the
//!    client that carries the plain label, and mapped by the same key a pull uses
//!    (`holder|type|target`), so a later pull recognises it.
//!
//! # Mapping (product-spec §8.10, §8.11)
//! Business structure from kind and trust type: Individual, Company, Trust (Unit → "Unit
//! Trust", Testamentary → "Testamentary Trust", Deceased estate → "Estate", any other → "Trust"),
//! Partnership, SMSF → "Superannuation Fund". A client whose current structure already means
//! the same (a custom one resolved by a rule or keywords included), or is a custom label no rule
//! reads (its kind was chosen by hand on a pull), keeps it. Fields: name,
//! first/last/other name and date of birth (individuals), email, phone, address and postal
//! address (sent whole in `Address`/`PostalAddress`, the city, region, postcode and country
//! elements cleared), ABN → `BusinessNumber`, ACN → `CompanyNumber`, TFN → `TaxNumber`,
//! opened from the sealed value — never the masked one XPM shows — and only when it is not the
//! one XPM holds: compared with the TFN a push last sent (kept sealed with XPM's values), or,
//! when XPM's TFN came from elsewhere, by its last three digits.
//! Relationship types: Director, Secretary, Public Officer, Trustee (and Executor), Appointer
//! (Appointor), Beneficiary, Settlor, Partner, Shareholder (and Unitholder), Member (SMSF
//! member), Auditor, Associate, Owner go on the target's record with the holder as related
//! client; Parent/Child as "Parent Of" on the parent; Spouse once per pair. Shares go only with
//! Shareholder, Unitholder and Owner, a percentage only with Partner (XPM refuses them
//! elsewhere); share classes and custom links have no XPM equivalent (custom links are skipped).
//!
//! # Cost
//! Create: 1 call (2 when an earlier attempt's outcome is unknown: a search first). Update: 2
//! (read + write). Unchanged: 0. Group and membership: 1 read + 1 write when members are
//! missing. Relationship: add 1, update 1, replace 2 (+1 read when its XPM id is not known).
//!
//! # Safety
//! - **Lost responses**: before a create, the entity is recorded in the run's progress
//!   (`sync_run.summary.pendingCreates`, committed). If the response is lost
//!   ([`xpm::Error::OutcomeUnknown`]), or the app stops before the mapping is saved, the entity
//!   stays pending, and this push or the next one searches XPM (`client.api/search`) for a
//!   client with the same name and identifiers that no entity is mapped to, and adopts it
//!   instead of creating a second one. Relationship adds whose outcome is unknown (or that XPM
//!   says already exist) are looked up on the client's record and adopted. Only a create that
//!   may have happened is searched for: a same-named client someone made in XPM is never
//!   adopted silently (linking duplicates is reconciliation's job).
//! - **Stale ids**: a relationship deleted in XPM is added again when it changes here; a
//!   relationship id XPM no longer knows is looked up again by its key.
//! - **Resumable**: every mapping is written as soon as its XPM call succeeds, and every item
//!   is re-derived from the database, so a push stopped by a crash, a cancel or XPM's day
//!   limit continues where it stopped, with no duplicates; the run's summary records its
//!   progress (phase, counts, calls).
//! - **Failures**: a failed item is reported with a message and leaves its mapping as it was;
//!   the others continue. Sign-in, permission and call-limit errors stop the run (every later
//!   call would fail the same way), and the report says so.
//! - **Idempotent**: pushing an unchanged group again makes no write call.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;
use xpm::{Client, ClientInput, Field, RelationshipType};

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::groups;
use crate::model::{EntityKind, RelationshipKind, TrustType};
use crate::pull::{address, hash, identifier, text};
use crate::runs::{self, RunKind, RunStatus};
use crate::schema::{
    entity, group_member, relationship, sync_run, xpm_client_map, xpm_group, xpm_group_link,
    xpm_relationship_map,
};
use crate::structures::{self, Rules};
use crate::tfn::{self, TfnCipher};

/// XPM's per-tenant limit (xpm-api.md §4), used for the time estimate.
pub const CALLS_PER_MINUTE: u32 = 60;

/// Choices for one push.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PushOptions {
    /// Also create or update entities of other groups that a member's relationship needs
    /// (phase 4; product-spec §8.14). Off by default: nothing outside the group is written.
    pub cross_group: bool,
}

/// The five phases, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum PushPhase {
    /// 1: entities become XPM clients.
    Entities,
    /// 2: the XPM group's name.
    Group,
    /// 3: the XPM group's members.
    Membership,
    /// 4: entities of other groups that relationships need.
    CrossGroup,
    /// 5: relationships.
    Relationships,
}

/// What a push does (or did) with an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum PushAction {
    /// A new XPM client or relationship.
    Create,
    /// Change the fields listed.
    Update,
    /// The values XPM holds are not known yet: read, then update only if they differ.
    Check,
    /// Add the client to the XPM group.
    Link,
    /// A relationship whose type or ends changed: delete it in XPM and add it again.
    Replace,
    /// Nothing to send.
    Unchanged,
    /// Not sent (no XPM equivalent, or an end is not in XPM); `note` says why.
    Skip,
    /// Only a person can do it in XPM (e.g. rename the group); `note` says what.
    Manual,
}

/// One field that changes, as XPM names it (`BusinessNumber`, `TaxNumber`, …). A TFN is only
/// ever shown masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FieldChange {
    /// XPM's element name.
    pub field: String,
    /// What XPM holds (as last seen), if anything.
    pub from: Option<String>,
    /// What will be sent; `None` clears it.
    pub to: Option<String>,
}

/// One line of the preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PlanItem {
    /// The phase it belongs to.
    pub phase: PushPhase,
    /// What it is about, e.g. "Rowan Fernhill" or "Rowan Fernhill → Fernhill Orchards Pty Ltd
    /// (Director)".
    pub subject: String,
    /// The entity, for entity and membership items.
    pub entity_id: Option<i32>,
    /// The relationship, for relationship items.
    pub relationship_id: Option<i32>,
    /// What will happen.
    pub action: PushAction,
    /// For updates: the fields that change.
    pub changes: Vec<FieldChange>,
    /// XPM calls it is expected to take.
    pub calls: u32,
    /// Why, for skips and manual steps.
    pub note: Option<String>,
}

/// The dry run of a push: items and cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PushPlan {
    /// The group.
    pub group_id: i32,
    /// Every item, in phase order.
    pub items: Vec<PlanItem>,
    /// Clients and relationships to create.
    pub creates: u32,
    /// Clients and relationships to update or replace (checks included).
    pub updates: u32,
    /// Clients to add to the XPM group.
    pub links: u32,
    /// Items with nothing to send.
    pub unchanged: u32,
    /// Items not sent, or left to a person.
    pub skipped: u32,
    /// XPM calls expected.
    pub calls: u32,
    /// XPM calls at most (checks that turn into updates, members XPM may lack, relationship
    /// ids to look up).
    pub max_calls: u32,
    /// Minutes the expected calls take at [`CALLS_PER_MINUTE`] (at least 1 when there is a call).
    pub minutes: u32,
}

/// Progress of a running push, for the progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PushProgress {
    /// The phase.
    pub phase: PushPhase,
    /// XPM calls made.
    pub done: u32,
    /// XPM calls expected (the plan's; grows when more are needed).
    pub total: u32,
    /// Estimated seconds left (one second per remaining call).
    pub eta_seconds: u32,
}

/// Progress reporting and cancellation for [`push`] and [`push_entity`].
#[derive(Default)]
pub struct PushControl {
    /// Set to stop before the next item; what was sent so far stays, mapped.
    pub cancel: AtomicBool,
    /// Called before every XPM call.
    pub on_progress: Option<Box<dyn Fn(PushProgress) + Send + Sync>>,
}

/// How an item ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ItemOutcome {
    /// Done (or nothing to do).
    Ok,
    /// Failed; `message` says why and what to do. Mappings are as they were.
    Failed,
    /// Not sent; `message` says why.
    Skipped,
}

/// The result of one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ItemResult {
    /// The phase.
    pub phase: PushPhase,
    /// What it is about.
    pub subject: String,
    /// The entity, for entity and membership items.
    pub entity_id: Option<i32>,
    /// The relationship, for relationship items.
    pub relationship_id: Option<i32>,
    /// What was done.
    pub action: PushAction,
    /// How it ended.
    pub outcome: ItemOutcome,
    /// For failures and skips, and for adopted clients: what happened, for the user.
    pub message: Option<String>,
    /// The fields sent, for updates and creates.
    pub changes: Vec<FieldChange>,
}

/// What a push did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PushCounts {
    /// Clients created.
    pub clients_created: u32,
    /// Clients an earlier, interrupted create had made, found and mapped instead.
    pub clients_adopted: u32,
    /// Clients updated.
    pub clients_updated: u32,
    /// Clients added to the XPM group.
    pub members_added: u32,
    /// Relationships created.
    pub relationships_created: u32,
    /// Relationships updated.
    pub relationships_updated: u32,
    /// Relationships deleted and added again (type or ends changed).
    pub relationships_replaced: u32,
    /// Items with nothing to send.
    pub unchanged: u32,
    /// Items that failed.
    pub failed: u32,
    /// Items skipped.
    pub skipped: u32,
}

/// The result of a push.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PushReport {
    /// The run in the history.
    pub run_id: i32,
    /// `Succeeded` when every phase ran (items may still have failed: see `counts.failed`),
    /// `Cancelled`, or `Failed` when the run had to stop (`stopped` says why).
    pub status: RunStatus,
    /// Per item.
    pub items: Vec<ItemResult>,
    /// Totals.
    pub counts: PushCounts,
    /// XPM calls made.
    pub calls: u32,
    /// Why the run stopped early (cancel, sign-in, call limit); pushing again resumes.
    pub stopped: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Values: one client's fields in StructureGram's terms, from either side.

/// A client's pushable values, normalised the way a pull reads them, so the two sides compare.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Values {
    pub(crate) name: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    other_name: Option<String>,
    date_of_birth: Option<NaiveDate>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    postal_address: Option<String>,
    abn: Option<String>,
    acn: Option<String>,
    tfn_last3: Option<String>,
    /// The TFN a push last sent, sealed like the entity's ([`TfnCipher`]; never in clear). XPM
    /// shows only the last three digits, so this is how a corrected TFN with the same last
    /// three digits is still noticed. Kept while XPM's last three digits stay the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tfn_sent: Option<String>,
    business_structure: Option<String>,
    /// The XPM groups the client was in, when the read showed them.
    #[serde(default)]
    groups: Option<Vec<String>>,
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clean(s: &Option<String>) -> Option<String> {
    s.as_deref().map(words).filter(|s| !s.is_empty())
}

fn uuid_text(u: &Uuid) -> String {
    u.hyphenated().to_string()
}

/// The last three digits of a (masked) TaxNumber.
fn last3(masked: &str) -> Option<String> {
    let digits: Vec<char> = masked.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits.len() >= 3).then(|| digits[digits.len() - 3..].iter().collect())
}

pub(crate) fn values_of(c: &Client) -> Values {
    Values {
        name: Some(words(&c.name)).filter(|s| !s.is_empty()),
        first_name: text(&c.first_name),
        last_name: text(&c.last_name),
        other_name: text(&c.other_name),
        date_of_birth: c.date_of_birth.value().copied(),
        email: text(&c.email),
        phone: text(&c.phone),
        address: address(
            [&c.address, &c.city, &c.region, &c.post_code, &c.country],
            None,
        ),
        postal_address: address(
            [
                &c.postal_address,
                &c.postal_city,
                &c.postal_region,
                &c.postal_post_code,
                &c.postal_country,
            ],
            None,
        ),
        abn: identifier(&c.business_number, 11, None),
        acn: identifier(&c.company_number, 9, None),
        tfn_last3: c.tax_number_masked.value().and_then(|t| last3(t)),
        tfn_sent: None,
        business_structure: text(&c.business_structure),
        groups: c
            .groups
            .as_ref()
            .map(|g| g.iter().map(|r| uuid_text(&r.uuid)).collect()),
    }
}

/// The JSON of a client's values as XPM shows them, for `xpm_client_map.xpm_values` (written by
/// pulls too, so a push after a pull knows what XPM holds without a call). `previous` is the
/// stored JSON: the TFN last sent is kept while XPM's last three digits are unchanged.
pub(crate) fn values_json(c: &Client, previous: Option<&str>) -> String {
    let mut v = values_of(c);
    v.tfn_sent = carried_tfn(
        &v,
        previous.and_then(|p| serde_json::from_str(p).ok()).as_ref(),
    );
    serde_json::to_string(&v).expect("values serialise")
}

impl Values {
    /// Whether XPM's last three TFN digits differ between two reads.
    pub(crate) fn tfn_last3_differs(&self, other: &Values) -> bool {
        self.tfn_last3 != other.tfn_last3
    }
}

/// A client's values as XPM shows them now, carrying the TFN a push last sent while XPM still
/// shows its last three digits (for [`tfn_differs`]).
pub(crate) fn live_values(c: &Client, known: Option<&Values>) -> Values {
    let mut v = values_of(c);
    v.tfn_sent = carried_tfn(&v, known);
    v
}

/// The TFN sent earlier, if XPM still shows its last three digits.
pub(crate) fn carried_tfn(now: &Values, before: Option<&Values>) -> Option<String> {
    before
        .filter(|b| b.tfn_last3 == now.tfn_last3)
        .and_then(|b| b.tfn_sent.clone())
}

pub(crate) fn parse_values(json: &Option<String>) -> Option<Values> {
    json.as_deref().and_then(|j| serde_json::from_str(j).ok())
}

/// The XPM business structure for an entity kind and trust type (product-spec §8.10).
pub fn standard_structure(kind: EntityKind, trust_type: Option<TrustType>) -> &'static str {
    match kind {
        EntityKind::Individual => "Individual",
        EntityKind::Company => "Company",
        EntityKind::Trust => match trust_type {
            Some(TrustType::Unit) => "Unit Trust",
            Some(TrustType::Testamentary) => "Testamentary Trust",
            Some(TrustType::DeceasedEstate) => "Estate",
            _ => "Trust",
        },
        EntityKind::Partnership => "Partnership",
        EntityKind::Smsf => "Superannuation Fund",
    }
}

/// The structure to send: the client's current one when it already means the same (a custom
/// structure from a rule or keywords included) or cannot be read at all (a custom label the
/// user mapped by hand when pulling: never overwritten by a guess), else the standard one.
fn target_structure(e: &entity::Model, current: Option<&str>, rules: &Rules) -> String {
    let standard = standard_structure(e.kind, e.trust_type);
    if let Some(cur) = current.filter(|c| !c.trim().is_empty()) {
        match structures::resolve(rules, cur) {
            Some(r) if r.kind != e.kind || standard_structure(r.kind, r.trust_type) != standard => {
            }
            _ => return cur.to_owned(),
        }
    }
    standard.to_owned()
}

/// What StructureGram wants XPM to hold for an entity.
pub(crate) fn desired(e: &entity::Model, current_structure: Option<&str>, rules: &Rules) -> Values {
    let individual = e.kind == EntityKind::Individual;
    let only = |v: &Option<String>| if individual { clean(v) } else { None };
    Values {
        name: Some(words(&e.name)),
        first_name: only(&e.first_name),
        last_name: only(&e.last_name),
        other_name: only(&e.other_name),
        date_of_birth: e.date_of_birth.filter(|_| individual),
        email: clean(&e.email),
        phone: clean(&e.phone),
        address: clean(&e.address),
        postal_address: clean(&e.postal_address),
        abn: clean(&e.abn).map(|s| s.replace(' ', "")),
        acn: clean(&e.acn).map(|s| s.replace(' ', "")),
        tfn_last3: e.tfn_sealed.as_ref().and(e.tfn_last3.clone()),
        tfn_sent: None,
        business_structure: Some(target_structure(e, current_structure, rules)),
        groups: None,
    }
}

/// The fields where `want` differs from `have`. Individual-only fields are compared for
/// individuals only; a TFN ([`tfn_differs`]) is never cleared, and shown masked.
pub(crate) fn diff(
    kind: EntityKind,
    want: &Values,
    have: &Values,
    tfn_differs: bool,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut cmp = |field: &str, w: &Option<String>, h: &Option<String>, fold: bool| {
        let same = match (w, h) {
            (Some(a), Some(b)) if fold => a.eq_ignore_ascii_case(b),
            _ => w == h,
        };
        if !same {
            out.push(FieldChange {
                field: field.to_owned(),
                from: h.clone(),
                to: w.clone(),
            });
        }
    };
    cmp("Name", &want.name, &have.name, false);
    if kind == EntityKind::Individual {
        cmp("FirstName", &want.first_name, &have.first_name, false);
        cmp("LastName", &want.last_name, &have.last_name, false);
        cmp("OtherName", &want.other_name, &have.other_name, false);
        let d = |v: &Option<NaiveDate>| v.map(|d| d.format("%Y-%m-%d").to_string());
        cmp(
            "DateOfBirth",
            &d(&want.date_of_birth),
            &d(&have.date_of_birth),
            false,
        );
    }
    cmp("Email", &want.email, &have.email, true);
    cmp("Phone", &want.phone, &have.phone, false);
    cmp("Address", &want.address, &have.address, false);
    cmp(
        "PostalAddress",
        &want.postal_address,
        &have.postal_address,
        false,
    );
    cmp("BusinessNumber", &want.abn, &have.abn, false);
    cmp("CompanyNumber", &want.acn, &have.acn, false);
    cmp(
        "BusinessStructure",
        &want.business_structure,
        &have.business_structure,
        true,
    );
    if want.tfn_last3.is_some() && tfn_differs {
        out.push(FieldChange {
            field: "TaxNumber".into(),
            from: have.tfn_last3.as_deref().map(tfn::mask),
            to: want.tfn_last3.as_deref().map(tfn::mask),
        });
    }
    out
}

/// Whether the entity's TFN is not the one XPM holds: compared with the TFN last sent when
/// known (opened, in memory only), else by XPM's last three digits.
pub(crate) fn tfn_differs(e: &entity::Model, have: &Values, cipher: &TfnCipher) -> bool {
    let Some(sealed) = &e.tfn_sealed else {
        return false;
    };
    if let Some(sent) = &have.tfn_sent {
        if let (Ok(now), Ok(before)) = (cipher.open(sealed), cipher.open(sent)) {
            return now != before;
        }
    }
    e.tfn_last3 != have.tfn_last3
}

/// Writes the changed fields into a request body. The TFN is opened from its sealed value;
/// a masked value is never sent (the xpm crate refuses one too).
fn apply(
    input: &mut ClientInput,
    changes: &[FieldChange],
    e: &entity::Model,
    want: &Values,
    cipher: &TfnCipher,
) -> Result<()> {
    let f = |v: &Option<String>| Field::from(v.clone());
    for c in changes {
        match c.field.as_str() {
            "Name" => input.name = want.name.clone().unwrap_or_default(),
            "FirstName" => input.first_name = f(&want.first_name),
            "LastName" => input.last_name = f(&want.last_name),
            "OtherName" => input.other_name = f(&want.other_name),
            "DateOfBirth" => input.date_of_birth = Field::from(want.date_of_birth),
            "Email" => input.email = f(&want.email),
            "Phone" => input.phone = f(&want.phone),
            "Address" => {
                input.address = f(&want.address);
                input.city = Field::Empty;
                input.region = Field::Empty;
                input.post_code = Field::Empty;
                input.country = Field::Empty;
            }
            "PostalAddress" => {
                input.postal_address = f(&want.postal_address);
                input.postal_city = Field::Empty;
                input.postal_region = Field::Empty;
                input.postal_post_code = Field::Empty;
                input.postal_country = Field::Empty;
            }
            "BusinessNumber" => input.business_number = f(&want.abn),
            "CompanyNumber" => input.company_number = f(&want.acn),
            "BusinessStructure" => input.business_structure = f(&want.business_structure),
            "TaxNumber" => {
                if let Some(sealed) = &e.tfn_sealed {
                    input.tax_number = Field::Value(cipher.open(sealed)?);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A create's body: every field StructureGram holds.
fn create_input(
    e: &entity::Model,
    want: &Values,
    cipher: &TfnCipher,
) -> Result<(ClientInput, Vec<FieldChange>)> {
    let changes = diff(e.kind, want, &Values::default(), true);
    let mut input = ClientInput {
        name: want.name.clone().unwrap_or_default(),
        ..ClientInput::default()
    };
    apply(&mut input, &changes, e, want, cipher)?;
    if want.address.is_none() {
        (input.city, input.region, input.post_code, input.country) = (
            Field::Missing,
            Field::Missing,
            Field::Missing,
            Field::Missing,
        );
    }
    if want.postal_address.is_none() {
        (
            input.postal_city,
            input.postal_region,
            input.postal_post_code,
            input.postal_country,
        ) = (
            Field::Missing,
            Field::Missing,
            Field::Missing,
            Field::Missing,
        );
    }
    Ok((input, changes))
}

// ---------------------------------------------------------------------------------------------
// Relationships: StructureGram → XPM (product-spec §8.11).

/// An XPM relationship as a push sends it.
#[derive(Clone, Debug)]
pub(crate) struct RelSpec {
    /// `ClientUUID`: the client whose record shows the plain label.
    client: Uuid,
    /// `RelatedClientUUID`.
    related: Uuid,
    pub(crate) rtype: RelationshipType,
    /// The pull's key: `holder|type|target` (spouses: the two UUIDs in order).
    pub(crate) key: String,
    pub(crate) shares: Option<i64>,
    pub(crate) percentage: Option<f64>,
    pub(crate) start: Option<NaiveDate>,
    pub(crate) end: Option<NaiveDate>,
    /// The hash a pull computes from what XPM will show (see `xpm_relationship_map`).
    pub(crate) hash: String,
}

/// The XPM type a relationship kind is sent as, and on which record its plain label goes
/// (product-spec §8.11); `None` for kinds XPM has no equivalent of.
fn xpm_type(kind: RelationshipKind) -> Option<(RelationshipType, Shape)> {
    use RelationshipKind as K;
    Some(match kind {
        K::Director => (RelationshipType::Director, Shape::OnTarget),
        K::Secretary => (RelationshipType::Secretary, Shape::OnTarget),
        K::PublicOfficer => (RelationshipType::PublicOfficer, Shape::OnTarget),
        K::Trustee | K::Executor => (RelationshipType::Trustee, Shape::OnTarget),
        K::Appointor => (RelationshipType::Appointer, Shape::OnTarget),
        K::Beneficiary => (RelationshipType::Beneficiary, Shape::OnTarget),
        K::Settlor => (RelationshipType::Settlor, Shape::OnTarget),
        K::Partner => (RelationshipType::Partner, Shape::OnTarget),
        K::Shareholder | K::Unitholder => (RelationshipType::Shareholder, Shape::OnTarget),
        K::SmsfMember => (RelationshipType::Member, Shape::OnTarget),
        K::Auditor => (RelationshipType::Auditor, Shape::OnTarget),
        K::Associate => (RelationshipType::Associate, Shape::OnTarget),
        K::Owner => (RelationshipType::Owner, Shape::OnTarget),
        K::Parent => (RelationshipType::ParentOf, Shape::ParentFirst),
        K::Child => (RelationshipType::ParentOf, Shape::ChildFirst),
        K::Spouse => (RelationshipType::Spouse, Shape::Pair),
        K::Custom => return None,
    })
}

pub(crate) fn rel_spec(row: &relationship::Model, from: &str, to: &str) -> Option<RelSpec> {
    use RelationshipKind as K;
    let (rtype, shape) = xpm_type(row.kind)?;
    let base = rtype.as_str().to_lowercase();
    // (client, related, key holder, key target, hash kind, hash from id, hash to id)
    let (client, related, holder, target, kind, hf, ht) = match shape {
        Shape::OnTarget => (
            to,
            from,
            from,
            to,
            row.kind,
            row.from_entity_id,
            row.to_entity_id,
        ),
        Shape::ParentFirst => (
            from,
            to,
            from,
            to,
            K::Parent,
            row.from_entity_id,
            row.to_entity_id,
        ),
        Shape::ChildFirst => (
            to,
            from,
            to,
            from,
            K::Parent,
            row.to_entity_id,
            row.from_entity_id,
        ),
        Shape::Pair if from <= to => (
            from,
            to,
            from,
            to,
            K::Spouse,
            row.from_entity_id,
            row.to_entity_id,
        ),
        Shape::Pair => (
            to,
            from,
            to,
            from,
            K::Spouse,
            row.to_entity_id,
            row.from_entity_id,
        ),
    };
    let shares = row
        .shares
        .filter(|n| *n > 0 && matches!(row.kind, K::Shareholder | K::Unitholder | K::Owner));
    let percentage = row
        .percentage
        .filter(|p| *p > 0.0 && row.kind == K::Partner);
    Some(RelSpec {
        client: client.parse().ok()?,
        related: related.parse().ok()?,
        rtype,
        key: format!("{holder}|{base}|{target}"),
        shares,
        percentage,
        start: row.start_date,
        end: row.end_date,
        hash: hash(&(
            &kind,
            hf,
            ht,
            shares,
            percentage,
            row.start_date,
            row.end_date,
        )),
    })
}

#[derive(Clone, Copy)]
enum Shape {
    /// The plain label on the target's record (a company shows "Director", related = person).
    OnTarget,
    /// "Parent Of" on the parent's record.
    ParentFirst,
    /// A child → parent row: "Parent Of" on the parent's record.
    ChildFirst,
    /// Spouses: once, from the lower UUID.
    Pair,
}

/// The XPM side of a mapped key: (`ClientUUID`, `RelatedClientUUID`, base type in lower case).
fn key_sides(key: &str) -> Option<(Uuid, Uuid, String)> {
    let parts: Vec<&str> = key.splitn(3, '|').collect();
    let [holder, base, target] = parts.as_slice() else {
        return None;
    };
    let (h, t): (Uuid, Uuid) = (holder.parse().ok()?, target.parse().ok()?);
    Some(match *base {
        "parent of" | "spouse" => (h, t, (*base).to_owned()),
        _ => (t, h, (*base).to_owned()),
    })
}

/// The relationship on `c`'s record with `related` and base type `base` (plain side; any
/// spouse label for "spouse").
fn find_rel<'c>(c: &'c Client, related: &Uuid, base: &str) -> Option<&'c xpm::Relationship> {
    c.relationships.iter().flatten().find(|r| {
        if r.related_client.uuid != *related {
            return false;
        }
        let (t, of_side) = RelationshipType::parse(&r.label);
        match t {
            RelationshipType::Husband | RelationshipType::Wife | RelationshipType::Spouse => {
                base == "spouse"
            }
            t => !of_side && t.as_str().eq_ignore_ascii_case(base),
        }
    })
}

fn rel_update(spec: &RelSpec) -> xpm::RelationshipUpdate {
    xpm::RelationshipUpdate {
        number_of_shares: spec.shares.map_or(Field::Missing, Field::Value),
        percentage: spec.percentage.map_or(Field::Missing, Field::Value),
        start_date: Field::from(spec.start),
        end_date: Field::from(spec.end),
    }
}

fn same_attributes(r: &xpm::Relationship, spec: &RelSpec) -> bool {
    r.number_of_shares.value().copied().filter(|n| *n > 0) == spec.shares
        && r.percentage.value().copied().filter(|p| *p > 0.0) == spec.percentage
        && r.start_date.value().copied() == spec.start
        && r.end_date.value().copied() == spec.end
}

// ---------------------------------------------------------------------------------------------
// Scope: what a push of a group covers.

/// What a push (and a reconciliation) of a group covers.
pub(crate) struct Scope {
    pub(crate) group: crate::schema::group::Model,
    pub(crate) link: xpm_group_link::Model,
    pub(crate) members: Vec<entity::Model>,
    /// Entities of other groups at the far end of a member's relationship.
    pub(crate) outside: Vec<entity::Model>,
    /// Relationships touching a member, by id.
    pub(crate) relationships: Vec<relationship::Model>,
}

impl Scope {
    /// The linked XPM group's id, refusing a link in another practice than `session`'s.
    pub(crate) fn xpm_group(&self, session: &xpm::Session) -> Result<Uuid> {
        if self.link.tenant_id != session.tenant.as_str() {
            return Err(Error::Validation(format!(
                "The group \u{201c}{}\u{201d} is linked to a group in another XPM practice than the one connected. Connect that practice, or unlink the group.",
                self.group.name
            )));
        }
        self.link.xpm_uuid.parse().map_err(|_| {
            Error::Validation(format!(
                "The link holds an invalid XPM group id ({}).",
                self.link.xpm_uuid
            ))
        })
    }
}

pub(crate) async fn scope(db: &DatabaseConnection, org: OrgId, group_id: i32) -> Result<Scope> {
    let group = groups::get(db, org, group_id).await?;
    let link = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::GroupId.eq(group_id))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::Validation(format!(
                "The group \u{201c}{}\u{201d} is not linked to an XPM group. Link it on the Import Groups page first.",
                group.name
            ))
        })?;
    let ids: Vec<i32> = group_member::Entity::find()
        .filter(group_member::Column::GroupId.eq(group_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.entity_id)
        .collect();
    let members = entities_by_id(db, org, &ids).await?;
    let relationships = crate::relationships::touching(db, org, &ids).await?;
    let member_set: HashSet<i32> = ids.iter().copied().collect();
    let mut outside_ids: Vec<i32> = Vec::new();
    for r in &relationships {
        for end in [r.from_entity_id, r.to_entity_id] {
            if !member_set.contains(&end) && !outside_ids.contains(&end) {
                outside_ids.push(end);
            }
        }
    }
    let outside = entities_by_id(db, org, &outside_ids).await?;
    Ok(Scope {
        group,
        link,
        members,
        outside,
        relationships,
    })
}

pub(crate) async fn entities_by_id(
    db: &DatabaseConnection,
    org: OrgId,
    ids: &[i32],
) -> Result<Vec<entity::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(entity::Entity::find()
        .filter(entity::Column::OrganisationId.eq(org.0))
        .filter(entity::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(entity::Column::Id)
        .all(db)
        .await?)
}

pub(crate) async fn client_maps(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
) -> Result<HashMap<i32, xpm_client_map::Model>> {
    Ok(xpm_client_map::Entity::find()
        .filter(xpm_client_map::Column::OrganisationId.eq(org.0))
        .filter(xpm_client_map::Column::TenantId.eq(tenant))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.entity_id, m))
        .collect())
}

async fn relationship_maps(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
) -> Result<Vec<xpm_relationship_map::Model>> {
    Ok(xpm_relationship_map::Entity::find()
        .filter(xpm_relationship_map::Column::OrganisationId.eq(org.0))
        .filter(xpm_relationship_map::Column::TenantId.eq(tenant))
        .all(db)
        .await?)
}

/// Entities with a create whose outcome is not known: recorded by earlier push runs of this
/// tenant and not mapped since.
async fn pending_creates(
    db: &DatabaseConnection,
    org: OrgId,
    tenant: &str,
) -> Result<HashSet<i32>> {
    let mut out = HashSet::new();
    for run in sync_run::Entity::find()
        .filter(sync_run::Column::OrganisationId.eq(org.0))
        .filter(sync_run::Column::TenantId.eq(tenant))
        .filter(sync_run::Column::Kind.eq(RunKind::Push.as_str()))
        .all(db)
        .await?
    {
        // Only this field is read, so summaries written by other versions still count.
        let summary: Option<serde_json::Value> = run
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        if let Some(ids) = summary
            .as_ref()
            .and_then(|v| v.get("pendingCreates"))
            .and_then(|v| v.as_array())
        {
            out.extend(
                ids.iter()
                    .filter_map(|id| id.as_i64())
                    .filter_map(|id| i32::try_from(id).ok()),
            );
        }
    }
    Ok(out)
}

pub(crate) fn rel_subject(row: &relationship::Model, names: &HashMap<i32, String>) -> String {
    let name = |id: i32| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    format!(
        "{} \u{2192} {} ({})",
        name(row.from_entity_id),
        name(row.to_entity_id),
        row.kind.label()
    )
}

const NO_EQUIVALENT: &str = "Custom links have no XPM equivalent, so they are not pushed.";

fn outside_note(name: &str) -> String {
    format!(
        "{name} is not in XPM yet, so this relationship waits. Push {name}'s group first, or push this group with cross-group dependencies on."
    )
}

// ---------------------------------------------------------------------------------------------
// Plan.

/// The dry run of [`push`]: what each phase will send and what it costs; no XPM call and no
/// write. `cipher` opens TFNs in memory to tell whether one changed (never shown: previews
/// mask them).
///
/// # Errors
/// [`Error::NotFound`] for an unknown group; [`Error::Validation`] if it is not linked;
/// [`Error::Db`].
pub async fn plan(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    group_id: i32,
    options: &PushOptions,
) -> Result<PushPlan> {
    let s = scope(db, org, group_id).await?;
    let tenant = s.link.tenant_id.clone();
    let rules = structures::load_rules(db, org).await?;
    let maps = client_maps(db, org, &tenant).await?;
    let pending = pending_creates(db, org, &tenant).await?;
    let mut items = Vec::new();
    let mut will_map: HashSet<i32> = maps.keys().copied().collect();
    let entity_item = |e: &entity::Model, phase: PushPhase| -> PlanItem {
        let (action, changes, calls) = match maps.get(&e.id) {
            None => {
                let want = desired(e, None, &rules);
                let calls = if pending.contains(&e.id) { 2 } else { 1 };
                (
                    PushAction::Create,
                    diff(e.kind, &want, &Values::default(), true),
                    calls,
                )
            }
            Some(m) => match parse_values(&m.xpm_values) {
                None => (PushAction::Check, Vec::new(), 1),
                Some(known) => {
                    let current = known
                        .business_structure
                        .clone()
                        .or(m.business_structure.clone());
                    let changes = diff(
                        e.kind,
                        &desired(e, current.as_deref(), &rules),
                        &known,
                        tfn_differs(e, &known, cipher),
                    );
                    if changes.is_empty() {
                        (PushAction::Unchanged, changes, 0)
                    } else {
                        (PushAction::Update, changes, 2)
                    }
                }
            },
        };
        PlanItem {
            phase,
            subject: e.name.clone(),
            entity_id: Some(e.id),
            relationship_id: None,
            action,
            changes,
            calls,
            note: None,
        }
    };
    // 1. Entities.
    for e in &s.members {
        items.push(entity_item(e, PushPhase::Entities));
        will_map.insert(e.id);
    }
    // 2. Group.
    let xpm_name = xpm_group::Entity::find()
        .filter(xpm_group::Column::OrganisationId.eq(org.0))
        .filter(xpm_group::Column::TenantId.eq(&tenant))
        .filter(xpm_group::Column::XpmUuid.eq(&s.link.xpm_uuid))
        .one(db)
        .await?
        .map(|g| g.name);
    let renamed = xpm_name.as_deref().is_some_and(|n| n != s.group.name);
    items.push(PlanItem {
        phase: PushPhase::Group,
        subject: s.group.name.clone(),
        entity_id: None,
        relationship_id: None,
        action: if renamed {
            PushAction::Manual
        } else {
            PushAction::Unchanged
        },
        changes: Vec::new(),
        calls: 1,
        note: renamed.then(|| rename_note(xpm_name.as_deref().unwrap_or(""), &s.group.name)),
    });
    // 3. Membership: a created client always needs adding; a mapped one when the last read of
    // it did not list the group.
    let mut unknown_membership = false;
    let mut links = 0u32;
    for e in &s.members {
        let known_groups = maps
            .get(&e.id)
            .and_then(|m| parse_values(&m.xpm_values))
            .and_then(|v| v.groups);
        let add = match (maps.get(&e.id), known_groups) {
            (None, _) => true,
            (Some(_), Some(g)) => !g.contains(&s.link.xpm_uuid),
            (Some(_), None) => {
                unknown_membership = true;
                false
            }
        };
        if add {
            links += 1;
            items.push(PlanItem {
                phase: PushPhase::Membership,
                subject: e.name.clone(),
                entity_id: Some(e.id),
                relationship_id: None,
                action: PushAction::Link,
                changes: Vec::new(),
                calls: 0,
                note: None,
            });
        }
    }
    let membership_write = u32::from(links > 0);
    // 4. Cross-group dependencies.
    let member_ids: HashSet<i32> = s.members.iter().map(|e| e.id).collect();
    let pushable = |r: &relationship::Model| r.kind != RelationshipKind::Custom;
    let needed: HashSet<i32> = s
        .relationships
        .iter()
        .filter(|r| pushable(r))
        .flat_map(|r| [r.from_entity_id, r.to_entity_id])
        .filter(|id| !member_ids.contains(id))
        .collect();
    for e in s.outside.iter().filter(|e| needed.contains(&e.id)) {
        if options.cross_group {
            items.push(entity_item(e, PushPhase::CrossGroup));
            will_map.insert(e.id);
        }
    }
    // 5. Relationships.
    let names: HashMap<i32, String> = s
        .members
        .iter()
        .chain(s.outside.iter())
        .map(|e| (e.id, e.name.clone()))
        .collect();
    let rel_maps = relationship_maps(db, org, &tenant).await?;
    let by_rel: HashMap<i32, &xpm_relationship_map::Model> =
        rel_maps.iter().map(|m| (m.relationship_id, m)).collect();
    let mut lookups = 0u32;
    for r in &s.relationships {
        let subject = rel_subject(r, &names);
        let mut item = PlanItem {
            phase: PushPhase::Relationships,
            subject,
            entity_id: None,
            relationship_id: Some(r.id),
            action: PushAction::Skip,
            changes: Vec::new(),
            calls: 0,
            note: None,
        };
        if !pushable(r) {
            item.note = Some(NO_EQUIVALENT.into());
            items.push(item);
            continue;
        }
        if let Some(end) = [r.from_entity_id, r.to_entity_id]
            .into_iter()
            .find(|id| !will_map.contains(id))
        {
            item.note = Some(outside_note(&names.get(&end).cloned().unwrap_or_default()));
            items.push(item);
            continue;
        }
        // Ends mapped already: compare with the mapping; ends still to be created: a create.
        let uuid_of = |id: i32| maps.get(&id).map(|m| m.xpm_uuid.clone());
        let spec = match (uuid_of(r.from_entity_id), uuid_of(r.to_entity_id)) {
            (Some(f), Some(t)) => rel_spec(r, &f, &t),
            _ => None,
        };
        let (action, calls) = match (by_rel.get(&r.id), spec) {
            (None, _) => (PushAction::Create, 1),
            (Some(m), Some(spec)) if m.xpm_key == spec.key => {
                if m.values_hash.as_deref() == Some(spec.hash.as_str()) {
                    (PushAction::Unchanged, 0)
                } else {
                    if m.xpm_uuids.is_empty() {
                        lookups += 1;
                    }
                    (PushAction::Update, 1)
                }
            }
            (Some(m), _) => {
                if m.xpm_uuids.is_empty() {
                    lookups += 1;
                }
                (PushAction::Replace, 2)
            }
        };
        item.action = action;
        item.calls = calls;
        if action == PushAction::Update || action == PushAction::Replace {
            item.changes = rel_changes(r);
        }
        items.push(item);
    }
    let mut plan = PushPlan {
        group_id,
        creates: 0,
        updates: 0,
        links,
        unchanged: 0,
        skipped: 0,
        calls: 0,
        max_calls: 0,
        minutes: 0,
        items,
    };
    let mut checks = 0u32;
    for i in &plan.items {
        match i.action {
            PushAction::Create => plan.creates += 1,
            PushAction::Update | PushAction::Replace => plan.updates += 1,
            PushAction::Check => {
                plan.updates += 1;
                checks += 1;
            }
            PushAction::Unchanged => plan.unchanged += 1,
            PushAction::Skip | PushAction::Manual => plan.skipped += 1,
            PushAction::Link => {}
        }
        plan.calls += i.calls;
    }
    plan.calls += membership_write;
    plan.max_calls =
        plan.calls + checks + lookups + u32::from(membership_write == 0 && unknown_membership);
    plan.minutes = plan.calls.div_ceil(CALLS_PER_MINUTE);
    Ok(plan)
}

/// The values a relationship will carry to XPM, for the preview.
fn rel_changes(r: &relationship::Model) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut put = |field: &str, v: Option<String>| {
        out.push(FieldChange {
            field: field.into(),
            from: None,
            to: v,
        })
    };
    put("Type", xpm_type(r.kind).map(|(t, _)| t.as_str().to_owned()));
    if matches!(
        r.kind,
        RelationshipKind::Shareholder | RelationshipKind::Unitholder | RelationshipKind::Owner
    ) {
        put("NumberOfShares", r.shares.map(|n| n.to_string()));
    }
    if r.kind == RelationshipKind::Partner {
        put("Percentage", r.percentage.map(|p| p.to_string()));
    }
    put("StartDate", r.start_date.map(|d| d.to_string()));
    put("EndDate", r.end_date.map(|d| d.to_string()));
    out
}

fn rename_note(xpm: &str, here: &str) -> String {
    format!(
        "The XPM group is called \u{201c}{xpm}\u{201d}. XPM does not let other apps rename a group; rename it to \u{201c}{here}\u{201d} in XPM (Clients \u{203a} Groups) if you want the names to match."
    )
}

// ---------------------------------------------------------------------------------------------
// Push.

/// The run's progress, kept in `sync_run.summary` and updated after every item.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    phase: Option<PushPhase>,
    counts: PushCounts,
    /// Entities whose create was sent (or about to be) without a mapping saved yet.
    #[serde(default)]
    pending_creates: Vec<i32>,
}

/// One push run's state; reconciliation drives its per-item writes (create with lost-response
/// safety, forced update, membership add, relationship create/update) one decision at a time.
pub(crate) struct Pusher<'a> {
    db: &'a DatabaseConnection,
    org: OrgId,
    cipher: &'a TfnCipher,
    client: &'a xpm::XpmClient,
    session: &'a xpm::Session,
    control: &'a PushControl,
    now: DateTime<Utc>,
    tenant: String,
    rules: Rules,
    run: i32,
    calls: u32,
    total: u32,
    progress: Progress,
    /// Entities with an unresolved create from earlier runs.
    suspects: HashSet<i32>,
    items: Vec<ItemResult>,
    /// Why the run stopped early.
    stop: Option<String>,
    cancelled: bool,
}

/// Pushes a linked group to XPM in the five phases of the module docs, writing each mapping as
/// soon as its call succeeds. Push again after a stop: it resumes where it stopped.
///
/// # Errors
/// [`Error::NotFound`] for an unknown group; [`Error::Validation`] if it is not linked, or is
/// linked in another XPM practice than `session`'s; [`Error::Db`]. Failed XPM calls are not
/// errors: they are reported per item (and in `stopped` when the run had to stop).
#[allow(clippy::too_many_arguments)]
pub async fn push(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    group_id: i32,
    options: &PushOptions,
    control: &PushControl,
    now: DateTime<Utc>,
) -> Result<PushReport> {
    let expected = plan(db, org, cipher, group_id, options).await?;
    let s = scope(db, org, group_id).await?;
    let group_uuid = s.xpm_group(session)?;
    let mut p = Pusher::start(
        db,
        org,
        cipher,
        client,
        session,
        control,
        now,
        Some(group_id),
    )
    .await?;
    p.total = expected.calls;
    // 1. Entities.
    p.phase(PushPhase::Entities).await?;
    for e in &s.members {
        if p.halted() {
            break;
        }
        p.entity(PushPhase::Entities, e).await?;
    }
    // 2. Group (the read also serves phase 3).
    let mut xpm_members: Option<HashSet<Uuid>> = None;
    if !p.halted() {
        p.phase(PushPhase::Group).await?;
        match p.call(client.get_client_group(session, &group_uuid)).await {
            Ok(g) => {
                let renamed = g.name != s.group.name;
                p.item(ItemResult {
                    phase: PushPhase::Group,
                    subject: s.group.name.clone(),
                    entity_id: None,
                    relationship_id: None,
                    action: if renamed {
                        PushAction::Manual
                    } else {
                        PushAction::Unchanged
                    },
                    outcome: if renamed {
                        ItemOutcome::Skipped
                    } else {
                        ItemOutcome::Ok
                    },
                    message: renamed.then(|| rename_note(&g.name, &s.group.name)),
                    changes: Vec::new(),
                });
                xpm_members = Some(g.members.iter().map(|m| m.uuid).collect());
            }
            Err(e) => {
                let m = p.failure("Reading the XPM group", e);
                p.fail(
                    PushPhase::Group,
                    s.group.name.clone(),
                    None,
                    None,
                    PushAction::Unchanged,
                    m,
                );
            }
        }
        p.save().await?;
    }
    // 3. Membership.
    if let (false, Some(current)) = (p.halted(), xpm_members) {
        p.phase(PushPhase::Membership).await?;
        p.membership(group_uuid, &s.members, &current).await?;
    }
    // 4. Cross-group dependencies.
    let member_ids: HashSet<i32> = s.members.iter().map(|e| e.id).collect();
    if options.cross_group && !p.halted() {
        p.phase(PushPhase::CrossGroup).await?;
        let needed: HashSet<i32> = s
            .relationships
            .iter()
            .filter(|r| r.kind != RelationshipKind::Custom)
            .flat_map(|r| [r.from_entity_id, r.to_entity_id])
            .filter(|id| !member_ids.contains(id))
            .collect();
        for e in s.outside.iter().filter(|e| needed.contains(&e.id)) {
            if p.halted() {
                break;
            }
            p.entity(PushPhase::CrossGroup, e).await?;
        }
    }
    // 5. Relationships.
    if !p.halted() {
        p.phase(PushPhase::Relationships).await?;
        let names: HashMap<i32, String> = s
            .members
            .iter()
            .chain(s.outside.iter())
            .map(|e| (e.id, e.name.clone()))
            .collect();
        for r in &s.relationships {
            if p.halted() {
                break;
            }
            p.relationship(r, &names).await?;
        }
    }
    p.finish().await
}

/// Pushes one entity (product-spec §8.2, *push from an entity page*): creates or updates its XPM
/// client as phase 1 does, adds it to the XPM group of each linked group it belongs to in this
/// practice (phase 3), then pushes its relationships whose other end is in XPM (phase 5).
///
/// # Errors
/// [`Error::NotFound`] for an unknown entity; [`Error::Db`]. XPM failures are per item, as in
/// [`push`].
#[allow(clippy::too_many_arguments)]
pub async fn push_entity(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    client: &xpm::XpmClient,
    session: &xpm::Session,
    entity_id: i32,
    control: &PushControl,
    now: DateTime<Utc>,
) -> Result<PushReport> {
    let e = crate::entities::get_row(db, org, entity_id).await?;
    let tenant = session.tenant.as_str().to_owned();
    let group_ids: Vec<i32> = group_member::Entity::find()
        .filter(group_member::Column::EntityId.eq(entity_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.group_id)
        .collect();
    let links: Vec<xpm_group_link::Model> = xpm_group_link::Entity::find()
        .filter(xpm_group_link::Column::OrganisationId.eq(org.0))
        .filter(xpm_group_link::Column::TenantId.eq(&tenant))
        .filter(xpm_group_link::Column::GroupId.is_in(group_ids))
        .order_by_asc(xpm_group_link::Column::GroupId)
        .all(db)
        .await?;
    let mut p = Pusher::start(
        db,
        org,
        cipher,
        client,
        session,
        control,
        now,
        links.first().map(|l| l.group_id),
    )
    .await?;
    p.total = 2 + links.len() as u32;
    p.phase(PushPhase::Entities).await?;
    p.entity(PushPhase::Entities, &e).await?;
    for link in &links {
        if p.halted() {
            break;
        }
        let Ok(group_uuid) = link.xpm_uuid.parse::<Uuid>() else {
            continue;
        };
        p.phase(PushPhase::Membership).await?;
        match p.call(client.get_client_group(session, &group_uuid)).await {
            Ok(g) => {
                let current: HashSet<Uuid> = g.members.iter().map(|m| m.uuid).collect();
                p.membership(group_uuid, std::slice::from_ref(&e), &current)
                    .await?;
            }
            Err(err) => {
                let m = p.failure("Reading the XPM group", err);
                p.fail(
                    PushPhase::Membership,
                    e.name.clone(),
                    Some(e.id),
                    None,
                    PushAction::Link,
                    m,
                );
            }
        }
    }
    if !p.halted() {
        p.phase(PushPhase::Relationships).await?;
        let rels = crate::relationships::touching(db, org, &[e.id]).await?;
        let ends: Vec<i32> = rels
            .iter()
            .flat_map(|r| [r.from_entity_id, r.to_entity_id])
            .collect();
        let names: HashMap<i32, String> = entities_by_id(db, org, &ends)
            .await?
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect();
        for r in &rels {
            if p.halted() {
                break;
            }
            p.relationship(r, &names).await?;
        }
    }
    p.finish().await
}

impl<'a> Pusher<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn start(
        db: &'a DatabaseConnection,
        org: OrgId,
        cipher: &'a TfnCipher,
        client: &'a xpm::XpmClient,
        session: &'a xpm::Session,
        control: &'a PushControl,
        now: DateTime<Utc>,
        group_id: Option<i32>,
    ) -> Result<Pusher<'a>> {
        let tenant = session.tenant.as_str().to_owned();
        let rules = structures::load_rules(db, org).await?;
        let suspects = pending_creates(db, org, &tenant).await?;
        let run = runs::start(db, org, group_id, &tenant, RunKind::Push, now).await?;
        Ok(Pusher {
            db,
            org,
            cipher,
            client,
            session,
            control,
            now,
            tenant,
            rules,
            run,
            calls: 0,
            total: 0,
            progress: Progress::default(),
            suspects,
            items: Vec::new(),
            stop: None,
            cancelled: false,
        })
    }

    pub(crate) fn halted(&mut self) -> bool {
        if self.stop.is_none() && self.control.cancel.load(Ordering::SeqCst) {
            self.cancelled = true;
            self.stop = Some(
                "The push was cancelled. What was sent so far is saved; push again to continue."
                    .into(),
            );
        }
        self.stop.is_some()
    }

    async fn phase(&mut self, phase: PushPhase) -> Result<()> {
        self.progress.phase = Some(phase);
        self.save().await
    }

    /// Records the progress (and the XPM calls made) on the run row.
    pub(crate) async fn save(&self) -> Result<()> {
        sync_run::ActiveModel {
            id: Set(self.run),
            calls: Set(i32::try_from(self.calls).unwrap_or(i32::MAX)),
            summary: Set(Some(
                serde_json::to_string(&self.progress).expect("progress serialises"),
            )),
            ..Default::default()
        }
        .update(self.db)
        .await?;
        Ok(())
    }

    pub(crate) async fn call<T>(
        &mut self,
        fut: impl std::future::Future<Output = xpm::Result<T>>,
    ) -> xpm::Result<T> {
        self.calls += 1;
        self.total = self.total.max(self.calls);
        if let Some(f) = &self.control.on_progress {
            f(PushProgress {
                phase: self.progress.phase.unwrap_or(PushPhase::Entities),
                done: self.calls - 1,
                total: self.total,
                eta_seconds: self.total - (self.calls - 1),
            });
        }
        fut.await
    }

    /// The user's message for a failed call; stops the run when every later call would fail
    /// the same way (sign-in, permission, call limits).
    pub(crate) fn failure(&mut self, action: &str, e: xpm::Error) -> String {
        let stops = matches!(
            e,
            xpm::Error::Unauthorized { .. }
                | xpm::Error::Forbidden { .. }
                | xpm::Error::RateLimited { .. }
        );
        let message = Error::xpm(action, e).to_string();
        if stops && self.stop.is_none() {
            self.stop = Some(format!(
                "{message} The push stopped; what was sent so far is saved, and pushing again continues from there."
            ));
        }
        message
    }

    fn item(&mut self, item: ItemResult) {
        let c = &mut self.progress.counts;
        match item.outcome {
            ItemOutcome::Failed => c.failed += 1,
            ItemOutcome::Skipped => c.skipped += 1,
            ItemOutcome::Ok if item.action == PushAction::Unchanged => c.unchanged += 1,
            ItemOutcome::Ok => {}
        }
        self.items.push(item);
    }

    fn fail(
        &mut self,
        phase: PushPhase,
        subject: String,
        entity_id: Option<i32>,
        relationship_id: Option<i32>,
        action: PushAction,
        message: String,
    ) {
        self.item(ItemResult {
            phase,
            subject,
            entity_id,
            relationship_id,
            action,
            outcome: ItemOutcome::Failed,
            message: Some(message),
            changes: Vec::new(),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn done(
        &mut self,
        phase: PushPhase,
        subject: String,
        entity_id: Option<i32>,
        relationship_id: Option<i32>,
        action: PushAction,
        changes: Vec<FieldChange>,
        message: Option<String>,
    ) {
        self.item(ItemResult {
            phase,
            subject,
            entity_id,
            relationship_id,
            action,
            outcome: ItemOutcome::Ok,
            message,
            changes,
        });
    }

    /// The results of the items so far.
    pub(crate) fn items(&self) -> &[ItemResult] {
        &self.items
    }

    pub(crate) async fn finish(mut self) -> Result<PushReport> {
        let status = if self.cancelled {
            RunStatus::Cancelled
        } else if self.stop.is_some() {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        };
        runs::finish(
            self.db,
            self.run,
            status,
            self.calls,
            Some(serde_json::to_value(&self.progress).expect("progress serialises")),
            self.stop.clone(),
            self.now,
        )
        .await?;
        Ok(PushReport {
            run_id: self.run,
            status,
            items: std::mem::take(&mut self.items),
            counts: self.progress.counts,
            calls: self.calls,
            stopped: self.stop,
        })
    }

    async fn map_of(&self, entity_id: i32) -> Result<Option<xpm_client_map::Model>> {
        Ok(xpm_client_map::Entity::find()
            .filter(xpm_client_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_client_map::Column::TenantId.eq(&self.tenant))
            .filter(xpm_client_map::Column::EntityId.eq(entity_id))
            .one(self.db)
            .await?)
    }

    // -- Phase 1 and 4: one entity.

    pub(crate) async fn entity(&mut self, phase: PushPhase, e: &entity::Model) -> Result<()> {
        match self.map_of(e.id).await? {
            Some(m) => self.update_entity(phase, e, m).await,
            None => self.create_entity(phase, e).await,
        }
    }

    async fn update_entity(
        &mut self,
        phase: PushPhase,
        e: &entity::Model,
        map: xpm_client_map::Model,
    ) -> Result<()> {
        self.update_entity_fields(phase, e, map, None).await
    }

    /// Updates a mapped client. `forced`: send exactly these fields (XPM element names) where
    /// XPM differs, whatever changed since the last sync (reconciliation's *Use StructureGram
    /// value*); `None`: the push rule, only what changed here.
    pub(crate) async fn update_entity_fields(
        &mut self,
        phase: PushPhase,
        e: &entity::Model,
        map: xpm_client_map::Model,
        forced: Option<HashSet<String>>,
    ) -> Result<()> {
        let Ok(uuid) = map.xpm_uuid.parse::<Uuid>() else {
            self.fail(phase, e.name.clone(), Some(e.id), None, PushAction::Update,
                format!("The mapping of {} holds an invalid XPM client id ({}). Link it again in reconciliation.", e.name, map.xpm_uuid));
            return self.save().await;
        };
        let known = parse_values(&map.xpm_values);
        let wanted_here: Option<HashSet<String>> = match &known {
            _ if forced.is_some() => forced,
            Some(k) => {
                let current = k
                    .business_structure
                    .clone()
                    .or(map.business_structure.clone());
                let changes = diff(
                    e.kind,
                    &desired(e, current.as_deref(), &self.rules),
                    k,
                    tfn_differs(e, k, self.cipher),
                );
                if changes.is_empty() {
                    self.done(
                        phase,
                        e.name.clone(),
                        Some(e.id),
                        None,
                        PushAction::Unchanged,
                        Vec::new(),
                        None,
                    );
                    return Ok(());
                }
                Some(changes.into_iter().map(|c| c.field).collect())
            }
            None => None,
        };
        let (client, session) = (self.client, self.session);
        let live = match self.call(client.get_client(session, &uuid)).await {
            Ok(d) => d.client,
            Err(err) => {
                let m = self.failure(&format!("Reading {} from XPM", e.name), err);
                self.fail(
                    phase,
                    e.name.clone(),
                    Some(e.id),
                    None,
                    PushAction::Update,
                    m,
                );
                return self.save().await;
            }
        };
        let mut live_values = values_of(&live);
        live_values.tfn_sent = carried_tfn(&live_values, known.as_ref());
        let want = desired(e, live_values.business_structure.as_deref(), &self.rules);
        let mut changes = diff(
            e.kind,
            &want,
            &live_values,
            tfn_differs(e, &live_values, self.cipher),
        );
        if let Some(fields) = &wanted_here {
            // Only what changed here since the last sync; XPM's own later edits stay.
            changes.retain(|c| fields.contains(&c.field));
        }
        if changes.is_empty() {
            self.save_map(map, &live, &live_values).await?;
            self.done(
                phase,
                e.name.clone(),
                Some(e.id),
                None,
                PushAction::Unchanged,
                Vec::new(),
                None,
            );
            return self.save().await;
        }
        let mut input = ClientInput::from_client(&live);
        if let Err(err) = apply(&mut input, &changes, e, &want, self.cipher) {
            self.fail(phase, e.name.clone(), Some(e.id), None, PushAction::Update,
                format!("{}'s TFN could not be opened ({err}), so nothing was sent. Re-enter the TFN and push again.", e.name));
            return self.save().await;
        }
        match self
            .call(client.update_client(session, &uuid, &input))
            .await
        {
            Ok(d) => {
                let mut v = values_of(&d.client);
                v.tfn_sent = if changes.iter().any(|c| c.field == "TaxNumber") {
                    e.tfn_sealed.clone()
                } else {
                    carried_tfn(&v, Some(&live_values))
                };
                self.save_map(map, &d.client, &v).await?;
                self.progress.counts.clients_updated += 1;
                self.done(
                    phase,
                    e.name.clone(),
                    Some(e.id),
                    None,
                    PushAction::Update,
                    changes,
                    None,
                );
            }
            Err(err) => {
                let m = self.failure(&format!("Updating {} in XPM", e.name), err);
                self.fail(
                    phase,
                    e.name.clone(),
                    Some(e.id),
                    None,
                    PushAction::Update,
                    m,
                );
            }
        }
        self.save().await
    }

    /// Saves what XPM now shows for a mapped client (name, structure, values).
    async fn save_map(
        &self,
        map: xpm_client_map::Model,
        c: &Client,
        values: &Values,
    ) -> Result<()> {
        let mut active = map.into_active_model();
        active.xpm_name = Set(c.name.clone());
        active.business_structure = Set(values.business_structure.clone());
        active.xpm_values = Set(Some(
            serde_json::to_string(values).expect("values serialise"),
        ));
        active.last_seen_at = Set(self.now);
        active.update(self.db).await?;
        Ok(())
    }

    async fn create_entity(&mut self, phase: PushPhase, e: &entity::Model) -> Result<()> {
        let want = desired(e, None, &self.rules);
        // An earlier create may have reached XPM without its answer: look before creating.
        if self.suspects.contains(&e.id) {
            match self.find_created(e, &want).await {
                Ok(Found::One(c)) => return self.adopt(phase, e, c).await,
                Ok(Found::Many(n)) => return self.ambiguous(phase, e, n).await,
                Ok(Found::None) => {}
                Err(m) => {
                    self.fail(
                        phase,
                        e.name.clone(),
                        Some(e.id),
                        None,
                        PushAction::Create,
                        m,
                    );
                    return self.save().await;
                }
            }
        }
        let (input, changes) = match create_input(e, &want, self.cipher) {
            Ok(x) => x,
            Err(err) => {
                self.fail(phase, e.name.clone(), Some(e.id), None, PushAction::Create,
                    format!("{}'s TFN could not be opened ({err}), so it was not created. Re-enter the TFN and push again.", e.name));
                return self.save().await;
            }
        };
        // Write-ahead: if the answer is lost or the app stops, the next attempt looks first.
        self.progress.pending_creates.push(e.id);
        self.save().await?;
        let (client, session) = (self.client, self.session);
        match self.call(client.add_client(session, &input)).await {
            Ok(d) => {
                self.insert_map(e, &d.client, e.tfn_sealed.clone()).await?;
                self.progress.counts.clients_created += 1;
                self.done(
                    phase,
                    e.name.clone(),
                    Some(e.id),
                    None,
                    PushAction::Create,
                    changes,
                    None,
                );
                self.save().await
            }
            Err(xpm::Error::OutcomeUnknown { source, .. }) => {
                match self.find_created(e, &want).await {
                    Ok(Found::One(c)) => self.adopt(phase, e, c).await,
                    Ok(Found::Many(n)) => self.ambiguous(phase, e, n).await,
                    Ok(Found::None) => {
                        // Not there now: XPM did not create it. It stays pending, so the next
                        // push looks once more before creating.
                        let m =
                            Error::xpm(&format!("Creating {} in XPM", e.name), *source).to_string();
                        self.fail(
                            phase,
                            e.name.clone(),
                            Some(e.id),
                            None,
                            PushAction::Create,
                            m,
                        );
                        self.save().await
                    }
                    Err(m) => {
                        self.fail(phase, e.name.clone(), Some(e.id), None, PushAction::Create,
                            format!("XPM's answer to creating {} was lost, and checking for it failed too: {m} Push again: it looks for the client before creating it.", e.name));
                        self.save().await
                    }
                }
            }
            Err(err) => {
                // XPM refused or never received it: nothing was created.
                self.progress.pending_creates.retain(|id| *id != e.id);
                let m = self.failure(&format!("Creating {} in XPM", e.name), err);
                self.fail(
                    phase,
                    e.name.clone(),
                    Some(e.id),
                    None,
                    PushAction::Create,
                    m,
                );
                self.save().await
            }
        }
    }

    /// Saves a new mapping and clears the entity's pending create, in one transaction.
    /// `tfn_sent`: the sealed TFN the create carried, if any.
    async fn insert_map(
        &mut self,
        e: &entity::Model,
        c: &Client,
        tfn_sent: Option<String>,
    ) -> Result<()> {
        let uuid = c
            .uuid
            .map(|u| uuid_text(&u))
            .ok_or_else(|| Error::Validation("XPM returned a client without an id.".into()))?;
        let mut values = values_of(c);
        values.tfn_sent = tfn_sent;
        self.progress.pending_creates.retain(|id| *id != e.id);
        self.suspects.remove(&e.id);
        let txn = self.db.begin().await?;
        xpm_client_map::ActiveModel {
            organisation_id: Set(self.org.0),
            tenant_id: Set(self.tenant.clone()),
            entity_id: Set(e.id),
            xpm_uuid: Set(uuid),
            xpm_name: Set(c.name.clone()),
            business_structure: Set(values.business_structure.clone()),
            values_hash: Set(None),
            xpm_values: Set(Some(
                serde_json::to_string(&values).expect("values serialise"),
            )),
            last_seen_at: Set(self.now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        sync_run::ActiveModel {
            id: Set(self.run),
            calls: Set(i32::try_from(self.calls).unwrap_or(i32::MAX)),
            summary: Set(Some(
                serde_json::to_string(&self.progress).expect("progress serialises"),
            )),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn adopt(&mut self, phase: PushPhase, e: &entity::Model, c: Box<Client>) -> Result<()> {
        // A create lost on its way back carried the TFN, if XPM shows its last digits.
        let sent = e
            .tfn_sealed
            .clone()
            .filter(|_| values_of(&c).tfn_last3 == e.tfn_last3);
        self.insert_map(e, &c, sent).await?;
        self.progress.counts.clients_adopted += 1;
        self.done(
            phase,
            e.name.clone(),
            Some(e.id),
            None,
            PushAction::Create,
            Vec::new(),
            Some(format!(
                "An earlier push had created {} in XPM but its answer was lost; that client is now linked, not created again.",
                e.name
            )),
        );
        self.save().await
    }

    async fn ambiguous(&mut self, phase: PushPhase, e: &entity::Model, n: usize) -> Result<()> {
        self.fail(phase, e.name.clone(), Some(e.id), None, PushAction::Create, format!(
            "{n} unlinked XPM clients look like {}, and an earlier push may have created one of them, so no other was created. Link the right one in reconciliation (and archive the extra ones in XPM), then push again.",
            e.name
        ));
        self.save().await
    }

    /// Looks for a client an earlier create made: same name, same identifiers and structure
    /// where XPM shows them, mapped to no entity.
    async fn find_created(
        &mut self,
        e: &entity::Model,
        want: &Values,
    ) -> std::result::Result<Found, String> {
        let (client, session) = (self.client, self.session);
        let name = want.name.clone().unwrap_or_default();
        let found = match self
            .call(client.search_clients(session, &name, false))
            .await
        {
            Ok(f) => f,
            Err(err) => return Err(self.failure(&format!("Looking for {} in XPM", e.name), err)),
        };
        let mapped: HashSet<String> = xpm_client_map::Entity::find()
            .filter(xpm_client_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_client_map::Column::TenantId.eq(&self.tenant))
            .all(self.db)
            .await
            .map_err(|err| err.to_string())?
            .into_iter()
            .map(|m| m.xpm_uuid)
            .collect();
        let agree = |w: &Option<String>, h: &Option<String>| match (w, h) {
            (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
            _ => true,
        };
        let mut hits: Vec<Client> = found
            .into_iter()
            .filter(|c| c.uuid.is_some_and(|u| !mapped.contains(&uuid_text(&u))))
            .filter(|c| {
                let v = values_of(c);
                v.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&name))
                    && agree(&want.abn, &v.abn)
                    && agree(&want.acn, &v.acn)
                    && agree(&want.business_structure, &v.business_structure)
                    && (want.date_of_birth.is_none()
                        || v.date_of_birth.is_none()
                        || want.date_of_birth == v.date_of_birth)
            })
            .collect();
        Ok(match hits.len() {
            0 => Found::None,
            1 => Found::One(Box::new(hits.remove(0))),
            n => Found::Many(n),
        })
    }

    // -- Phase 3: membership.

    pub(crate) async fn membership(
        &mut self,
        group: Uuid,
        entities: &[entity::Model],
        current: &HashSet<Uuid>,
    ) -> Result<()> {
        let mut missing: Vec<(Uuid, &entity::Model, xpm_client_map::Model)> = Vec::new();
        for e in entities {
            let Some(map) = self.map_of(e.id).await? else {
                continue;
            };
            let Ok(u) = map.xpm_uuid.parse::<Uuid>() else {
                continue;
            };
            let member = current.contains(&u);
            // Keep the known membership up to date for the next preview.
            self.note_membership(&map, &group, member).await?;
            if !member {
                missing.push((u, e, map));
            }
        }
        if missing.is_empty() || self.halted() {
            return Ok(());
        }
        let add: Vec<Uuid> = missing.iter().map(|(u, _, _)| *u).collect();
        let (client, session) = (self.client, self.session);
        match self
            .call(client.update_client_group_members(session, &group, &add, &[]))
            .await
        {
            Ok(g) => {
                let now_in: HashSet<Uuid> = g.members.iter().map(|m| m.uuid).collect();
                for (u, e, map) in missing {
                    if now_in.contains(&u) {
                        let map = self.map_of(map.entity_id).await?.unwrap_or(map);
                        self.note_membership(&map, &group, true).await?;
                        self.progress.counts.members_added += 1;
                        self.done(
                            PushPhase::Membership,
                            e.name.clone(),
                            Some(e.id),
                            None,
                            PushAction::Link,
                            Vec::new(),
                            None,
                        );
                    } else {
                        self.fail(PushPhase::Membership, e.name.clone(), Some(e.id), None, PushAction::Link,
                            format!("XPM did not list {} in the group after adding it (an archived client drops out of groups). Check the client in XPM.", e.name));
                    }
                }
            }
            Err(err) => {
                let m = self.failure("Adding members to the XPM group", err);
                for (_, e, _) in missing {
                    self.fail(
                        PushPhase::Membership,
                        e.name.clone(),
                        Some(e.id),
                        None,
                        PushAction::Link,
                        m.clone(),
                    );
                }
            }
        }
        self.save().await
    }

    async fn note_membership(
        &self,
        map: &xpm_client_map::Model,
        group: &Uuid,
        member: bool,
    ) -> Result<()> {
        let Some(mut v) = parse_values(&map.xpm_values) else {
            return Ok(());
        };
        let g = uuid_text(group);
        let before = v.groups.clone().map(|mut b| {
            b.sort();
            b
        });
        let mut groups = v.groups.take().unwrap_or_default();
        groups.retain(|x| *x != g);
        if member {
            groups.push(g);
        }
        groups.sort();
        if before.as_ref() == Some(&groups) {
            return Ok(());
        }
        v.groups = Some(groups);
        let mut active = map.clone().into_active_model();
        active.xpm_values = Set(Some(serde_json::to_string(&v).expect("values serialise")));
        active.update(self.db).await?;
        Ok(())
    }

    // -- Phase 5: one relationship.

    pub(crate) async fn relationship(
        &mut self,
        row: &relationship::Model,
        names: &HashMap<i32, String>,
    ) -> Result<()> {
        let subject = rel_subject(row, names);
        let skip = |p: &mut Self, action: PushAction, note: String| {
            p.item(ItemResult {
                phase: PushPhase::Relationships,
                subject: subject.clone(),
                entity_id: None,
                relationship_id: Some(row.id),
                action,
                outcome: ItemOutcome::Skipped,
                message: Some(note),
                changes: Vec::new(),
            })
        };
        if row.kind == RelationshipKind::Custom {
            skip(self, PushAction::Skip, NO_EQUIVALENT.into());
            return Ok(());
        }
        let from = self.map_of(row.from_entity_id).await?;
        let to = self.map_of(row.to_entity_id).await?;
        let (Some(from), Some(to)) = (from, to) else {
            let end = if self.map_of(row.from_entity_id).await?.is_none() {
                row.from_entity_id
            } else {
                row.to_entity_id
            };
            skip(
                self,
                PushAction::Skip,
                outside_note(&names.get(&end).cloned().unwrap_or_default()),
            );
            return Ok(());
        };
        let Some(spec) = rel_spec(row, &from.xpm_uuid, &to.xpm_uuid) else {
            skip(
                self,
                PushAction::Skip,
                "An end's XPM client id is invalid.".into(),
            );
            return Ok(());
        };
        let mine = xpm_relationship_map::Entity::find()
            .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
            .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
            .filter(xpm_relationship_map::Column::RelationshipId.eq(row.id))
            .one(self.db)
            .await?;
        let (client, session) = (self.client, self.session);
        match mine {
            Some(m) if m.xpm_key == spec.key => {
                if m.values_hash.as_deref() == Some(spec.hash.as_str()) {
                    self.done(
                        PushPhase::Relationships,
                        subject,
                        None,
                        Some(row.id),
                        PushAction::Unchanged,
                        Vec::new(),
                        None,
                    );
                    return Ok(());
                }
                let uuid = match self.rel_uuid(&m).await {
                    Ok(Some(u)) => u,
                    Ok(None) => {
                        // Gone from XPM: add it again.
                        return self
                            .add_relationship(row, subject, &spec, Some(m), PushAction::Create)
                            .await;
                    }
                    Err(msg) => {
                        self.fail(
                            PushPhase::Relationships,
                            subject,
                            None,
                            Some(row.id),
                            PushAction::Update,
                            msg,
                        );
                        return self.save().await;
                    }
                };
                match self
                    .call(client.update_relationship(session, &uuid, &rel_update(&spec)))
                    .await
                {
                    Ok(()) => {
                        self.save_rel_map(row.id, Some(m), &spec, Some(uuid_text(&uuid)))
                            .await?;
                        self.progress.counts.relationships_updated += 1;
                        self.done(
                            PushPhase::Relationships,
                            subject,
                            None,
                            Some(row.id),
                            PushAction::Update,
                            rel_changes(row),
                            None,
                        );
                    }
                    Err(err @ xpm::Error::Api { .. }) => {
                        // The stored id may be stale (deleted in XPM): forget it and look again.
                        let cleared = self.clear_rel_uuids(m).await?;
                        match self.rel_uuid(&cleared).await {
                            Ok(None) => {
                                return self
                                    .add_relationship(
                                        row,
                                        subject,
                                        &spec,
                                        Some(cleared),
                                        PushAction::Create,
                                    )
                                    .await;
                            }
                            Ok(Some(_)) => {
                                let msg = self.failure("Updating the relationship in XPM", err);
                                self.fail(
                                    PushPhase::Relationships,
                                    subject,
                                    None,
                                    Some(row.id),
                                    PushAction::Update,
                                    msg,
                                );
                            }
                            Err(msg) => {
                                self.fail(
                                    PushPhase::Relationships,
                                    subject,
                                    None,
                                    Some(row.id),
                                    PushAction::Update,
                                    msg,
                                );
                            }
                        }
                    }
                    Err(err) => {
                        let msg = self.failure("Updating the relationship in XPM", err);
                        self.fail(
                            PushPhase::Relationships,
                            subject,
                            None,
                            Some(row.id),
                            PushAction::Update,
                            msg,
                        );
                    }
                }
                self.save().await
            }
            Some(m) => {
                // Type or ends changed: XPM cannot update those, so delete and add.
                match self.delete_old(m).await? {
                    Ok(m) => {
                        self.add_relationship(row, subject, &spec, Some(m), PushAction::Replace)
                            .await
                    }
                    Err(msg) => {
                        self.fail(
                            PushPhase::Relationships,
                            subject,
                            None,
                            Some(row.id),
                            PushAction::Replace,
                            msg,
                        );
                        self.save().await
                    }
                }
            }
            None => {
                if let Some(other) = xpm_relationship_map::Entity::find()
                    .filter(xpm_relationship_map::Column::OrganisationId.eq(self.org.0))
                    .filter(xpm_relationship_map::Column::TenantId.eq(&self.tenant))
                    .filter(xpm_relationship_map::Column::XpmKey.eq(&spec.key))
                    .one(self.db)
                    .await?
                {
                    skip(self, PushAction::Skip, format!(
                        "XPM already has this relationship for another relationship here (#{}); remove the duplicate here.",
                        other.relationship_id
                    ));
                    return Ok(());
                }
                self.add_relationship(row, subject, &spec, None, PushAction::Create)
                    .await
            }
        }
    }

    async fn add_relationship(
        &mut self,
        row: &relationship::Model,
        subject: String,
        spec: &RelSpec,
        existing: Option<xpm_relationship_map::Model>,
        action: PushAction,
    ) -> Result<()> {
        let input = xpm::RelationshipInput {
            client: spec.client,
            related_client: spec.related,
            relationship_type: spec.rtype.clone(),
            number_of_shares: spec.shares.map_or(Field::Missing, Field::Value),
            percentage: spec.percentage.map_or(Field::Missing, Field::Value),
            start_date: spec.start.map_or(Field::Missing, Field::Value),
            end_date: spec.end.map_or(Field::Missing, Field::Value),
        };
        let (client, session) = (self.client, self.session);
        let count = |p: &mut Self| {
            if action == PushAction::Replace {
                p.progress.counts.relationships_replaced += 1;
            } else {
                p.progress.counts.relationships_created += 1;
            }
        };
        match self.call(client.add_relationship(session, &input)).await {
            Ok(()) => {
                self.save_rel_map(row.id, existing, spec, None).await?;
                count(self);
                self.done(
                    PushPhase::Relationships,
                    subject,
                    None,
                    Some(row.id),
                    action,
                    rel_changes(row),
                    None,
                );
            }
            Err(err @ (xpm::Error::OutcomeUnknown { .. } | xpm::Error::Api { .. })) => {
                // Lost answer, or XPM has it already: look on the client's record.
                let read = self.call(client.get_client(session, &spec.client)).await;
                let base = spec.rtype.as_str().to_lowercase();
                let found = match &read {
                    Ok(d) => find_rel(&d.client, &spec.related, &base).cloned(),
                    Err(_) => None,
                };
                match found {
                    Some(r) => {
                        if !same_attributes(&r, spec) {
                            if let Err(err) = self
                                .call(client.update_relationship(
                                    session,
                                    &r.uuid,
                                    &rel_update(spec),
                                ))
                                .await
                            {
                                let msg = self.failure("Updating the relationship in XPM", err);
                                self.fail(
                                    PushPhase::Relationships,
                                    subject,
                                    None,
                                    Some(row.id),
                                    action,
                                    msg,
                                );
                                return self.save().await;
                            }
                        }
                        self.save_rel_map(row.id, existing, spec, Some(uuid_text(&r.uuid)))
                            .await?;
                        count(self);
                        self.done(PushPhase::Relationships, subject, None, Some(row.id), action, rel_changes(row),
                            Some("XPM already had this relationship (an earlier answer was lost); it is now linked.".into()));
                    }
                    None => {
                        let msg = match read {
                            Err(e) => self.failure("Checking the relationship in XPM", e),
                            Ok(_) => Error::xpm(
                                "Adding the relationship in XPM",
                                match err {
                                    xpm::Error::OutcomeUnknown { source, .. } => *source,
                                    other => other,
                                },
                            )
                            .to_string(),
                        };
                        self.fail(
                            PushPhase::Relationships,
                            subject,
                            None,
                            Some(row.id),
                            action,
                            msg,
                        );
                    }
                }
            }
            Err(err) => {
                let msg = self.failure("Adding the relationship in XPM", err);
                self.fail(
                    PushPhase::Relationships,
                    subject,
                    None,
                    Some(row.id),
                    action,
                    msg,
                );
            }
        }
        self.save().await
    }

    /// The XPM id of a mapped relationship: from the mapping, or read from the client's record.
    /// `Ok(None)` when XPM no longer has it.
    async fn rel_uuid(
        &mut self,
        m: &xpm_relationship_map::Model,
    ) -> std::result::Result<Option<Uuid>, String> {
        if let Some(u) = m
            .xpm_uuids
            .split(',')
            .find_map(|u| u.trim().parse::<Uuid>().ok())
        {
            return Ok(Some(u));
        }
        let Some((client_uuid, related, base)) = key_sides(&m.xpm_key) else {
            return Ok(None);
        };
        let (client, session) = (self.client, self.session);
        match self.call(client.get_client(session, &client_uuid)).await {
            Ok(d) => Ok(find_rel(&d.client, &related, &base).map(|r| r.uuid)),
            Err(err) => Err(self.failure("Reading the relationship's client from XPM", err)),
        }
    }

    /// Deletes the XPM relationship a mapping points at (if XPM still has it) and forgets its
    /// ids, so a failed add afterwards never leaves a mapping to a deleted relationship. A
    /// stored id XPM no longer knows is looked up again by key once. The inner `Err` is the
    /// user's message.
    async fn delete_old(
        &mut self,
        m: xpm_relationship_map::Model,
    ) -> Result<std::result::Result<xpm_relationship_map::Model, String>> {
        let (client, session) = (self.client, self.session);
        let mut m = m;
        for attempt in 0..2 {
            let old = match self.rel_uuid(&m).await {
                Ok(Some(u)) => u,
                Ok(None) => return Ok(Ok(self.clear_rel_uuids(m).await?)),
                Err(msg) => return Ok(Err(msg)),
            };
            match self.call(client.delete_relationship(session, &old)).await {
                Ok(()) => return Ok(Ok(self.clear_rel_uuids(m).await?)),
                Err(xpm::Error::Api { .. }) if attempt == 0 && !m.xpm_uuids.is_empty() => {
                    // A stale id (deleted in XPM already): look it up by key and try again.
                    m = self.clear_rel_uuids(m).await?;
                }
                Err(err) => {
                    return Ok(Err(
                        self.failure("Deleting the old relationship in XPM", err)
                    ))
                }
            }
        }
        Ok(Ok(m))
    }

    /// Forgets a mapped relationship's XPM ids (they are looked up again by key when needed).
    async fn clear_rel_uuids(
        &self,
        m: xpm_relationship_map::Model,
    ) -> Result<xpm_relationship_map::Model> {
        let mut active = m.into_active_model();
        active.xpm_uuids = Set(String::new());
        Ok(active.update(self.db).await?)
    }

    async fn save_rel_map(
        &self,
        relationship_id: i32,
        existing: Option<xpm_relationship_map::Model>,
        spec: &RelSpec,
        uuid: Option<String>,
    ) -> Result<()> {
        match existing {
            Some(m) => {
                let same_key = m.xpm_key == spec.key;
                let uuids = match (uuid, same_key) {
                    (Some(u), _) => u,
                    (None, true) => m.xpm_uuids.clone(),
                    (None, false) => String::new(),
                };
                let mut active = m.into_active_model();
                active.xpm_key = Set(spec.key.clone());
                active.xpm_uuids = Set(uuids);
                active.values_hash = Set(Some(spec.hash.clone()));
                active.last_seen_at = Set(self.now);
                active.update(self.db).await?;
            }
            None => {
                xpm_relationship_map::ActiveModel {
                    organisation_id: Set(self.org.0),
                    tenant_id: Set(self.tenant.clone()),
                    relationship_id: Set(relationship_id),
                    xpm_key: Set(spec.key.clone()),
                    xpm_uuids: Set(uuid.unwrap_or_default()),
                    values_hash: Set(Some(spec.hash.clone())),
                    last_seen_at: Set(self.now),
                    ..Default::default()
                }
                .insert(self.db)
                .await?;
            }
        }
        Ok(())
    }
}

enum Found {
    None,
    One(Box<Client>),
    Many(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_structures_follow_the_spec_table() {
        use EntityKind as K;
        assert_eq!(standard_structure(K::Individual, None), "Individual");
        assert_eq!(
            standard_structure(K::Trust, Some(TrustType::Unit)),
            "Unit Trust"
        );
        assert_eq!(
            standard_structure(K::Trust, Some(TrustType::DeceasedEstate)),
            "Estate"
        );
        assert_eq!(
            standard_structure(K::Trust, Some(TrustType::Discretionary)),
            "Trust"
        );
        assert_eq!(standard_structure(K::Smsf, None), "Superannuation Fund");
    }

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";

    fn row(kind: RelationshipKind, shares: Option<i64>, pct: Option<f64>) -> relationship::Model {
        relationship::Model {
            id: 1,
            organisation_id: 1,
            kind,
            from_entity_id: 10,
            to_entity_id: 20,
            shares,
            share_class: Some("Ordinary".into()),
            percentage: pct,
            start_date: None,
            end_date: None,
            label: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn relationships_go_on_the_record_that_shows_the_plain_label() {
        use RelationshipKind as K;
        // A director (A) of a company (B): "Director" on the company's record, key as a pull
        // builds it (holder|type|target).
        let d = rel_spec(&row(K::Director, None, None), A, B).unwrap();
        assert_eq!(
            (d.client.to_string(), d.related.to_string()),
            (B.into(), A.into())
        );
        assert_eq!(d.key, format!("{A}|director|{B}"));
        // Parent → child: "Parent Of" on the parent's; a child → parent row says the same.
        let p = rel_spec(&row(K::Parent, None, None), A, B).unwrap();
        let c = rel_spec(&row(K::Child, None, None), B, A).unwrap();
        assert_eq!(p.client.to_string(), A);
        assert_eq!((p.key.clone(), p.client), (c.key.clone(), c.client));
        assert_eq!(p.key, format!("{A}|parent of|{B}"));
        // Spouses: once, keyed by the two UUIDs in order, whichever way round it is stored.
        let s1 = rel_spec(&row(K::Spouse, None, None), B, A).unwrap();
        assert_eq!(s1.key, format!("{A}|spouse|{B}"));
        assert_eq!(s1.client.to_string(), A);
        assert!(rel_spec(&row(K::Custom, None, None), A, B).is_none());
    }

    #[test]
    fn shares_and_percentages_go_only_where_xpm_takes_them() {
        use RelationshipKind as K;
        let sh = rel_spec(&row(K::Shareholder, Some(500), Some(50.0)), A, B).unwrap();
        assert_eq!((sh.shares, sh.percentage), (Some(500), None));
        let u = rel_spec(&row(K::Unitholder, Some(100), None), A, B).unwrap();
        assert_eq!(u.rtype, RelationshipType::Shareholder);
        let p = rel_spec(&row(K::Partner, Some(3), Some(50.0)), A, B).unwrap();
        assert_eq!((p.shares, p.percentage), (None, Some(50.0)));
        // A percentage XPM cannot hold does not make the relationship look changed.
        let sh2 = rel_spec(&row(K::Shareholder, Some(500), Some(60.0)), A, B).unwrap();
        assert_eq!(sh.hash, sh2.hash);
    }

    #[test]
    fn a_custom_structure_that_means_the_same_is_kept() {
        let mut rules = Rules::new();
        rules.insert("individual trustee".into(), (EntityKind::Individual, None));
        let now = Utc::now();
        let e = entity::Model {
            id: 1,
            organisation_id: 1,
            kind: EntityKind::Trust,
            trust_type: Some(TrustType::Discretionary),
            name: "Smith Family Trust".into(),
            first_name: None,
            middle_name: None,
            last_name: None,
            other_name: None,
            date_of_birth: None,
            date_of_death: None,
            abn: None,
            acn: None,
            tfn_sealed: None,
            tfn_last3: None,
            email: None,
            phone: None,
            address: None,
            postal_address: None,
            status: crate::model::EntityStatus::Active,
            notes: None,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(
            target_structure(&e, Some("Discretionary Trust"), &rules),
            "Discretionary Trust"
        );
        assert_eq!(target_structure(&e, Some("Unit Trust"), &rules), "Trust");
        assert_eq!(target_structure(&e, None, &rules), "Trust");
        let person = entity::Model {
            kind: EntityKind::Individual,
            trust_type: None,
            ..e
        };
        assert_eq!(
            target_structure(&person, Some("Individual Trustee"), &rules),
            "Individual Trustee"
        );
        assert_eq!(
            target_structure(&person, Some("Company"), &rules),
            "Individual"
        );
    }

    #[test]
    fn masked_tax_numbers_give_their_last_three_digits() {
        assert_eq!(last3("******321").as_deref(), Some("321"));
        assert_eq!(last3("**"), None);
    }
}
