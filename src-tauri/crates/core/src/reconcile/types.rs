//! The shapes of reconciliation shared with the UI (ts-rs) and the CLI's plan file (JSON).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{EntityKind, RelationshipKind, TrustType};
use crate::review::DuplicateCandidate;

/// The twelve difference types of product-spec §8.12 (the \[PROPOSED\] table), serialised with
/// the table's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[ts(export)]
pub enum DiffType {
    /// An entity with no XPM mapping (a member, or a cross-group endpoint of a relationship).
    EntityOnlyInSg,
    /// An XPM client in the group (or a related client outside it) with no StructureGram entity.
    EntityOnlyInXpm,
    /// A mapped pair whose normalised fields differ.
    EntityFieldMismatch,
    /// An XPM client whose business structure maps to no entity type.
    EntityTypeUnresolved,
    /// An unmapped XPM client that matches an unmapped entity (§8.8).
    PossibleDuplicate,
    /// A mapping to a deleted or archived XPM client, or a second entity mapped to one client.
    StaleMapping,
    /// A mapped member of the StructureGram group whose client is not in the XPM group.
    MembershipOnlyInSg,
    /// A member of the XPM group whose entity is not in the StructureGram group.
    MembershipOnlyInXpm,
    /// A relationship only StructureGram has.
    RelOnlyInSg,
    /// A relationship only XPM has.
    RelOnlyInXpm,
    /// The same relationship (ends and type) with different shares, percentage or dates.
    RelAttrMismatch,
    /// An XPM relationship whose label maps to no StructureGram type.
    RelNeedsPolicy,
}

/// The review summary's "differences by type" buckets (product-spec §8.13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Category {
    /// Missing/new entities, duplicates, stale mappings, unresolved types.
    Entities,
    /// Field mismatches.
    EntityDetails,
    /// Group membership gaps.
    Membership,
    /// Relationship differences.
    Relationships,
}

impl DiffType {
    /// The summary bucket it counts in.
    pub fn category(self) -> Category {
        use DiffType as D;
        match self {
            D::EntityOnlyInSg
            | D::EntityOnlyInXpm
            | D::EntityTypeUnresolved
            | D::PossibleDuplicate
            | D::StaleMapping => Category::Entities,
            D::EntityFieldMismatch => Category::EntityDetails,
            D::MembershipOnlyInSg | D::MembershipOnlyInXpm => Category::Membership,
            D::RelOnlyInSg | D::RelOnlyInXpm | D::RelAttrMismatch | D::RelNeedsPolicy => {
                Category::Relationships
            }
        }
    }
}

/// What to do with one difference (product-spec §8.12's \[PROPOSED\] action table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Action {
    /// Create the entity (or relationship) in XPM; a member is also added to the XPM group.
    CreateInXpm,
    /// Import the XPM client (or relationship) into StructureGram.
    ImportToSg,
    /// Link the XPM client to an existing entity ([`ReconcileDecision::entity_id`]).
    LinkToSg,
    /// Add the client to the XPM group.
    AddToXpmGroup,
    /// Add the entity to the StructureGram group.
    AddToSgGroup,
    /// Make XPM hold StructureGram's values (every differing field, or as
    /// [`ReconcileDecision::fields`] says field by field).
    UseSgValues,
    /// Make StructureGram hold XPM's values (likewise).
    UseXpmValues,
    /// Import the client as the type in [`ReconcileDecision::kind`] / [`ReconcileDecision::trust_type`].
    ChooseType,
    /// Forget the mapping to the gone client.
    ClearMapping,
    /// Leave it for a later round (relationships needing a policy).
    Defer,
    /// Do nothing this round.
    Ignore,
    /// Delete the entity or relationship in StructureGram (guarded).
    DeleteInSg,
    /// Delete the relationship in XPM, or archive the client and take it out of the group
    /// (guarded; XPM clients are archived, never deleted).
    DeleteInXpm,
    /// Remove the client from the XPM group (guarded).
    RemoveFromXpmGroup,
    /// Remove the entity from the StructureGram group (guarded).
    RemoveFromSgGroup,
}

impl Action {
    /// Destructive: never a default, and needs [`ReconcileDecision::confirmed`], else it stays
    /// "Ignore this round" (product-spec §8.12, safety rules).
    pub fn guarded(self) -> bool {
        matches!(
            self,
            Action::DeleteInSg
                | Action::DeleteInXpm
                | Action::RemoveFromXpmGroup
                | Action::RemoveFromSgGroup
        )
    }
}

/// The choice for one differing field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum FieldChoice {
    /// Send StructureGram's value to XPM.
    UseSg,
    /// Take XPM's value into StructureGram.
    UseXpm,
    /// Leave both as they are.
    Ignore,
}

/// The user's decision on one item. Only `action` is required; the rest applies to some
/// actions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReconcileDecision {
    /// The action (one of the item's `actions`).
    pub action: Option<Action>,
    /// The explicit confirmation a guarded action needs.
    #[serde(default)]
    pub confirmed: bool,
    /// Field mismatches: the choice per field (XPM element name, e.g. `BusinessNumber`);
    /// fields left out follow `action` (`useSgValues` / `useXpmValues`) or the recommendation.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldChoice>,
    /// `linkToSg`: the entity to link to (one of the item's `candidates`).
    #[serde(default)]
    pub entity_id: Option<i32>,
    /// `chooseType`: the entity type.
    #[serde(default)]
    pub kind: Option<EntityKind>,
    /// `chooseType`: the trust type, for trusts.
    #[serde(default)]
    pub trust_type: Option<TrustType>,
    /// `chooseType`: also save a structure rule so later pulls map this structure alike.
    #[serde(default)]
    pub remember_rule: bool,
    /// `importToSg` on a relationship needing a policy: the StructureGram type to import as.
    #[serde(default)]
    pub relationship_kind: Option<RelationshipKind>,
}

/// One differing field of an entity, both sides normalised (product-spec §8.12).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FieldDiff {
    /// XPM's element name (`Name`, `BusinessNumber`, `TaxNumber`, …).
    pub field: String,
    /// StructureGram's value (a TFN masked).
    pub sg: Option<String>,
    /// XPM's value (a TFN masked).
    pub xpm: Option<String>,
    /// The choice recommended: the side that changed since the last sync; `None` when both
    /// changed or it is not known (then the field needs input).
    pub recommended: Option<FieldChoice>,
    /// Whether XPM's value can be taken (not for a masked TFN, nor a structure of another
    /// entity kind).
    pub xpm_allowed: bool,
}

/// Where an item stands in the review (product-spec §8.13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ItemStatus {
    /// It has a clear decision (the recommendation or the user's).
    Ready,
    /// Only the user can decide (`needs` says what).
    NeedsInput,
    /// Its action needs other items done first (`waitingOn`).
    Waiting,
}

/// One difference between StructureGram and live XPM.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReconcileItem {
    /// Stable id: the same difference in a later preview has the same id (e.g.
    /// `fields:12`, `rel-xpm:<holder uuid>|director|<target uuid>`).
    pub id: String,
    /// The difference type.
    pub diff_type: DiffType,
    /// Its summary bucket.
    pub category: Category,
    /// What it is about, e.g. "Rowan Fernhill" or "Rowan Fernhill → Fernhill Orchards Pty Ltd
    /// (Director)".
    pub subject: String,
    /// The StructureGram side's label, when it has one.
    pub sg_label: Option<String>,
    /// The XPM side's label, when it has one.
    pub xpm_label: Option<String>,
    /// The entity (entity, field and membership items).
    pub entity_id: Option<i32>,
    /// The StructureGram relationship.
    pub relationship_id: Option<i32>,
    /// The XPM client.
    pub xpm_uuid: Option<String>,
    /// A relationship's end outside the group (product-spec §8.14).
    pub cross_group: bool,
    /// Field mismatches: the differing fields.
    pub fields: Vec<FieldDiff>,
    /// The allowed actions, the recommended one first when there is one.
    pub actions: Vec<Action>,
    /// The recommended action (never a guarded one); `None` when only the user can decide.
    pub recommended: Option<Action>,
    /// Possible duplicates: the matching entities.
    pub candidates: Vec<DuplicateCandidate>,
    /// The saved decision.
    pub decision: Option<ReconcileDecision>,
    /// The action apply will carry out: the decision's, else the recommendation; a guarded one
    /// not confirmed is `ignore` ("Ignore this round").
    pub effective: Option<Action>,
    /// Ready / needs input / waiting.
    pub status: ItemStatus,
    /// For `needsInput`: what to decide.
    pub needs: Option<String>,
    /// For `waiting`: the items it waits on.
    pub waiting_on: Vec<String>,
    /// The decision is a guarded (destructive) action.
    pub guarded: bool,
    /// Anything else the user should know.
    pub note: Option<String>,
    /// The items this one's action needs done first when it imports or creates a relationship
    /// whose ends are not mapped yet.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// Counts per summary bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CategoryCounts {
    /// Missing/new entities.
    pub entities: u32,
    /// Entity details.
    pub entity_details: u32,
    /// Membership.
    pub membership: u32,
    /// Relationships.
    pub relationships: u32,
}

/// The progress summary panel (product-spec §8.13).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReconcileSummary {
    /// Items.
    pub total: u32,
    /// Ready to apply.
    pub ready: u32,
    /// Need your input.
    pub needs_input: u32,
    /// Waiting on other changes.
    pub waiting: u32,
    /// Differences by type.
    pub by_category: CategoryCounts,
    /// Caveat lines (deletions in the plan, unconfirmed deletions ignored this round).
    pub caveats: Vec<String>,
    /// Nothing needs input and nothing waits.
    pub ready_to_apply: bool,
}

/// A reconciliation preview of one linked group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReconcilePreview {
    /// The StructureGram group.
    pub group_id: i32,
    /// Its name.
    pub group_name: String,
    /// The linked XPM group's id.
    pub xpm_group_uuid: String,
    /// When XPM was read (RFC 3339).
    pub generated_at: String,
    /// Every difference, in apply-phase order.
    pub items: Vec<ReconcileItem>,
    /// The summary.
    pub summary: ReconcileSummary,
    /// XPM calls the preview made.
    pub calls: u32,
}

/// One-click helpers (product-spec §8.13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum Helper {
    /// Every item without a decision takes its recommended action.
    AcceptRecommendations,
    /// Every two-sided item takes XPM's side (field and relationship values; XPM-only entities
    /// and relationships imported, StructureGram-only ones ignored).
    PreferXpm,
    /// Every two-sided item takes StructureGram's side (values sent; StructureGram-only entities
    /// and relationships created in XPM, XPM-only ones ignored).
    PreferSg,
}

/// The apply phases, in order (product-spec §8.12 \[PROPOSED\]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ApplyPhase {
    /// Mapping fixes and links.
    Mappings,
    /// Entity creates and imports.
    Entities,
    /// Entity field updates, both sides.
    EntityDetails,
    /// Membership additions.
    Membership,
    /// Cross-group endpoint entities.
    CrossGroup,
    /// Relationship creates, imports and attribute updates.
    Relationships,
    /// Relationship deletions, membership removals, entity deletions (confirmed only).
    Removals,
}

/// How an item ended (product-spec §8.12, results panel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ApplyOutcome {
    /// Done.
    Applied,
    /// Ignored (this round).
    Ignored,
    /// Deferred.
    Deferred,
    /// Not tried: an item it depends on did not apply.
    Blocked,
    /// Tried and failed; `message` has the XPM or validation text.
    Failed,
}

/// The result of one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApplyResult {
    /// The item.
    pub item_id: String,
    /// Its type.
    pub diff_type: DiffType,
    /// What it is about.
    pub subject: String,
    /// The action carried out (or that would have been).
    pub action: Option<Action>,
    /// The phase it ran in.
    pub phase: ApplyPhase,
    /// How it ended.
    pub outcome: ApplyOutcome,
    /// Why, for failures and blocks; for an applied item that found nothing to send to XPM,
    /// that it sent nothing.
    pub message: Option<String>,
}

/// Counts by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApplyCounts {
    /// Applied.
    pub applied: u32,
    /// Ignored.
    pub ignored: u32,
    /// Deferred.
    pub deferred: u32,
    /// Blocked.
    pub blocked: u32,
    /// Failed.
    pub failed: u32,
}

/// What an apply did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApplyReport {
    /// The group.
    pub group_id: i32,
    /// Per item, in the order applied.
    pub results: Vec<ApplyResult>,
    /// Totals.
    pub counts: ApplyCounts,
    /// Items of the reviewed preview that XPM no longer shows differently (not applied), and
    /// new differences the reviewed preview did not have (not applied: preview again).
    pub not_in_preview: Vec<String>,
    /// XPM calls made (the fresh read included).
    pub calls: u32,
    /// Why the run stopped early (sign-in, call limit); apply again after fixing it.
    pub stopped: Option<String>,
}

/// Progress of a running apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ApplyProgress {
    /// The phase.
    pub phase: ApplyPhase,
    /// Items done.
    pub done: u32,
    /// Items in the plan.
    pub total: u32,
}
