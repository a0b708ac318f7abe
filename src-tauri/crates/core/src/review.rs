//! Review items: what a pull could not decide alone (product-spec §8.4 *policy review*, §8.6
//! custom structures, §8.8 duplicates, §8.13 the review summary), kept per group until a person
//! decides and the pull is retried.
//!
//! Each item is *ready* (it has a decision, or a recommended one), *needs input* (only the user
//! can decide), or *waiting* on another change (e.g. a relationship whose end is itself waiting
//! for a decision); it is *resolved* once a pull has carried out its decision or the situation
//! went away. Items are keyed per group (`client:<uuid>`, `duplicate:<uuid>`,
//! `removed:<uuid>`, `relationship:<key>` …) so a re-pull updates an item rather than adding a
//! second one, and keeps the decision already made.
//!
//! Workflow: [`list`] → [`decide`] per item → *Retry with decisions*, which is
//! [`crate::pull::pull`] again: it reads the decisions and applies them in its one transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::model::{EntityKind, RelationshipKind, TrustType};
use crate::schema::review_item;
use crate::{entities, groups, relationships, structures};

/// What kind of question an item asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ReviewKind {
    /// An XPM client whose business structure is unknown: choose the entity kind (and trust type).
    EntityType,
    /// A structure mapped by keyword matching: the entity was created; confirm the match.
    KeywordMatch,
    /// An incoming client that looks like an existing entity: link to it, or create a new one.
    Duplicate,
    /// A client that left the XPM group: remove it from the group here too, or keep it.
    MemberRemoved,
    /// A related client outside the group, left out because the pull flags such clients.
    OutsideClient,
    /// An XPM client that could not be imported as it is (e.g. an invalid field).
    InvalidClient,
    /// A relationship that needs a decision: unknown type, ambiguous direction, a broken rule,
    /// or an end that is not imported yet.
    Relationship,
    /// A shareholding or unitholding imported without a class (XPM has none): set it or keep
    /// it unset. Decided at once, without a pull.
    HoldingClass,
    /// A relationship imported from XPM that XPM no longer shows: delete it here too, or keep it.
    RelationshipGone,
}

impl ReviewKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::EntityType => "entityType",
            Self::KeywordMatch => "keywordMatch",
            Self::Duplicate => "duplicate",
            Self::MemberRemoved => "memberRemoved",
            Self::OutsideClient => "outsideClient",
            Self::InvalidClient => "invalidClient",
            Self::Relationship => "relationship",
            Self::HoldingClass => "holdingClass",
            Self::RelationshipGone => "relationshipGone",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "entityType" => Self::EntityType,
            "keywordMatch" => Self::KeywordMatch,
            "duplicate" => Self::Duplicate,
            "memberRemoved" => Self::MemberRemoved,
            "outsideClient" => Self::OutsideClient,
            "invalidClient" => Self::InvalidClient,
            "holdingClass" => Self::HoldingClass,
            "relationshipGone" => Self::RelationshipGone,
            _ => Self::Relationship,
        }
    }
}

/// Where an item stands (product-spec §8.13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum ReviewState {
    /// Has a decision (or a recommended one); the next pull carries it out.
    Ready,
    /// Only the user can decide.
    NeedsInput,
    /// Blocked until another item is dealt with.
    Waiting,
    /// Done: its decision was carried out, or the situation went away.
    Resolved,
}

impl ReviewState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::NeedsInput => "needsInput",
            Self::Waiting => "waiting",
            Self::Resolved => "resolved",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "ready" => Self::Ready,
            "needsInput" => Self::NeedsInput,
            "waiting" => Self::Waiting,
            _ => Self::Resolved,
        }
    }
}

/// A possible existing match for an incoming client (product-spec §8.8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DuplicateCandidate {
    /// The existing entity.
    pub entity_id: i32,
    /// Its name.
    pub name: String,
    /// `high` (same name and date of birth, or same ABN/ACN) or `medium` (same name).
    pub confidence: String,
    /// Why it matched, e.g. "same first name, last name and date of birth".
    pub reason: String,
}

/// What an item is about, for display. Fields not relevant to the item's kind are `None`/empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReviewPayload {
    /// The XPM client concerned (lower-case UUID).
    pub xpm_uuid: Option<String>,
    /// Its name in XPM.
    pub name: Option<String>,
    /// Its business structure in XPM.
    pub business_structure: Option<String>,
    /// The kind applied or suggested.
    pub kind: Option<EntityKind>,
    /// The trust type applied or suggested.
    pub trust_type: Option<TrustType>,
    /// The entity concerned, when there is one.
    pub entity_id: Option<i32>,
    /// Duplicate candidates.
    pub candidates: Vec<DuplicateCandidate>,
    /// Relationship: the XPM label(s) as read, e.g. "Director / Director Of".
    pub label: Option<String>,
    /// Relationship: the source client's XPM UUID and name.
    pub from_uuid: Option<String>,
    /// Relationship: the source client's name.
    pub from_name: Option<String>,
    /// Relationship: the target client's XPM UUID.
    pub to_uuid: Option<String>,
    /// Relationship: the target client's name.
    pub to_name: Option<String>,
    /// Relationship: the mapped type, when known.
    pub relationship_kind: Option<RelationshipKind>,
    /// The relationship concerned, once imported.
    pub relationship_id: Option<i32>,
    /// The plain-language reason the pull stopped here.
    pub reason: String,
}

/// A decision on an item. In JSON (IPC, the CLI's decisions file, the stored decision) it is
/// tagged by `action` and, like every other IPC type, its fields are camelCase:
/// `{"action": "setKind", "kind": "individual", "trustType": null, "rememberAsRule": true}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "action"
)]
#[ts(export)]
pub enum Decision {
    /// [`ReviewKind::EntityType`]: create the client as this kind; optionally save the choice
    /// as the organisation's rule for its business structure.
    SetKind {
        /// Entity kind.
        kind: EntityKind,
        /// Trust type (required for trusts).
        trust_type: Option<TrustType>,
        /// Save as a mapping rule.
        remember_as_rule: bool,
    },
    /// [`ReviewKind::KeywordMatch`]: the keyword match is right; optionally save it as a rule.
    Confirm {
        /// Save as a mapping rule.
        remember_as_rule: bool,
    },
    /// [`ReviewKind::Duplicate`]: the client is this existing entity; map it and update it from XPM.
    LinkExisting {
        /// The existing entity.
        entity_id: i32,
    },
    /// [`ReviewKind::Duplicate`] or [`ReviewKind::OutsideClient`]: create a new entity.
    CreateNew,
    /// [`ReviewKind::MemberRemoved`]: remove the entity from this group (it is not deleted).
    RemoveFromGroup,
    /// [`ReviewKind::MemberRemoved`]: keep it in the group; [`ReviewKind::HoldingClass`]:
    /// keep the class unset; [`ReviewKind::RelationshipGone`]: keep the relationship. Either
    /// way, do not ask again.
    Keep,
    /// [`ReviewKind::RelationshipGone`]: delete the relationship here too.
    DeleteHere,
    /// [`ReviewKind::HoldingClass`]: the share or unit class, e.g. "Ordinary".
    SetShareClass {
        /// The class.
        share_class: String,
    },
    /// [`ReviewKind::Relationship`]: import it as this type, from the client `from_uuid`.
    ImportAs {
        /// Relationship type.
        kind: RelationshipKind,
        /// XPM UUID of the source end (one of the two clients).
        from_uuid: String,
    },
    /// Any item: leave it for now (it stays listed as ready and is not applied).
    Defer,
}

/// A review item as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReviewItem {
    /// Database id.
    pub id: i32,
    /// The group it belongs to.
    pub group_id: i32,
    /// The question.
    pub kind: ReviewKind,
    /// Where it stands.
    pub state: ReviewState,
    /// One line naming what it is about, e.g. "Anna Kowalski (Individual Trustee)".
    pub subject: String,
    /// The details.
    pub payload: ReviewPayload,
    /// The decision made, if any.
    pub decision: Option<Decision>,
    /// When it was first raised.
    pub created_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The counts behind the review summary's segmented bar (product-spec §8.13).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReviewSummary {
    /// Ready to apply.
    pub ready: u32,
    /// Need your input.
    pub needs_input: u32,
    /// Waiting on other changes.
    pub waiting: u32,
}

pub(crate) fn to_item(m: review_item::Model) -> ReviewItem {
    ReviewItem {
        id: m.id,
        group_id: m.group_id,
        kind: ReviewKind::parse(&m.kind),
        state: ReviewState::parse(&m.state),
        subject: m.subject,
        payload: serde_json::from_str(&m.payload).unwrap_or_default(),
        decision: m.decision.and_then(|d| serde_json::from_str(&d).ok()),
        created_at: m.created_at,
        resolved_at: m.resolved_at,
    }
}

/// The group's open items (ready, needs input, waiting) — or all, resolved included — in the
/// order raised, with the summary of the open ones.
///
/// # Errors
/// [`Error::NotFound`] if the group does not exist.
pub async fn list(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    include_resolved: bool,
) -> Result<(Vec<ReviewItem>, ReviewSummary)> {
    groups::get(db, org, group_id).await?;
    let items: Vec<ReviewItem> = review_item::Entity::find()
        .filter(review_item::Column::OrganisationId.eq(org.0))
        .filter(review_item::Column::GroupId.eq(group_id))
        .order_by_asc(review_item::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_item)
        .collect();
    let mut summary = ReviewSummary::default();
    for item in &items {
        match item.state {
            ReviewState::Ready => summary.ready += 1,
            ReviewState::NeedsInput => summary.needs_input += 1,
            ReviewState::Waiting => summary.waiting += 1,
            ReviewState::Resolved => {}
        }
    }
    let items = items
        .into_iter()
        .filter(|i| include_resolved || i.state != ReviewState::Resolved)
        .collect();
    Ok((items, summary))
}

fn allowed(kind: ReviewKind, decision: &Decision) -> bool {
    use Decision as D;
    use ReviewKind as K;
    matches!(
        (kind, decision),
        (_, D::Defer)
            | (K::EntityType, D::SetKind { .. })
            | (K::KeywordMatch, D::Confirm { .. })
            | (K::Duplicate, D::LinkExisting { .. } | D::CreateNew)
            | (K::OutsideClient, D::CreateNew)
            | (K::MemberRemoved, D::RemoveFromGroup | D::Keep)
            | (K::HoldingClass, D::SetShareClass { .. } | D::Keep)
            | (K::RelationshipGone, D::DeleteHere | D::Keep)
            | (K::Relationship, D::ImportAs { .. })
    )
}

/// Records a decision on an open item and makes it *ready*; the next pull carries it out —
/// except a [`ReviewKind::HoldingClass`] decision, which is carried out at once (the item is
/// resolved).
/// "Remember as a rule" (on [`Decision::SetKind`] and [`Decision::Confirm`]) saves the
/// organisation's rule at once, so colleagues' pulls use it too.
///
/// # Errors
/// [`Error::NotFound`] for an unknown item; [`Error::Validation`] for a decision that does not
/// fit the item (naming what fits), a trust without a trust type, a link to an entity of
/// another kind, or a relationship source that is neither end; [`Error::Conflict`] if the item
/// is already resolved.
pub async fn decide(
    db: &DatabaseConnection,
    org: OrgId,
    item_id: i32,
    decision: &Decision,
    now: DateTime<Utc>,
) -> Result<ReviewItem> {
    let txn = db.begin().await?;
    let row = review_item::Entity::find_by_id(item_id)
        .filter(review_item::Column::OrganisationId.eq(org.0))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Review item {item_id} does not exist.")))?;
    let item = to_item(row.clone());
    if item.state == ReviewState::Resolved {
        return Err(Error::Conflict(
            "This item is already resolved; pull again to see what is still open.".into(),
        ));
    }
    if !allowed(item.kind, decision) {
        return Err(Error::Validation(format!(
            "That choice does not fit this item ({}); {}.",
            item.subject,
            match item.kind {
                ReviewKind::EntityType => "choose an entity type",
                ReviewKind::KeywordMatch => "confirm the type",
                ReviewKind::Duplicate => "link to the existing entity or create a new one",
                ReviewKind::OutsideClient => "create it, or defer",
                ReviewKind::MemberRemoved => "remove it from the group or keep it",
                ReviewKind::InvalidClient => "fix the client in XPM and pull again, or defer",
                ReviewKind::Relationship => "choose the type and direction to import",
                ReviewKind::HoldingClass => "enter the class, or keep it unset",
                ReviewKind::RelationshipGone => "delete it here too, or keep it",
            }
        )));
    }
    let structure = item.payload.business_structure.clone().unwrap_or_default();
    match decision {
        Decision::SetKind {
            kind,
            trust_type,
            remember_as_rule,
        } => {
            structures::check_kind(*kind, *trust_type)?;
            if *remember_as_rule {
                structures::save_rule(&txn, org, &structure, *kind, *trust_type, now).await?;
            }
        }
        Decision::Confirm {
            remember_as_rule: true,
        } => {
            let kind = item.payload.kind.unwrap_or_default();
            structures::save_rule(&txn, org, &structure, kind, item.payload.trust_type, now)
                .await?;
        }
        Decision::LinkExisting { entity_id } => {
            let e = entities::get_row(&txn, org, *entity_id).await?;
            if Some(e.kind) != item.payload.kind {
                return Err(Error::Validation(format!(
                    "{} is {} {}; link the client to an entity of the same type.",
                    e.name,
                    if e.kind == EntityKind::Individual {
                        "an"
                    } else {
                        "a"
                    },
                    e.kind.label()
                )));
            }
        }
        Decision::ImportAs { from_uuid, .. } => {
            let ends = [&item.payload.from_uuid, &item.payload.to_uuid];
            if !ends
                .iter()
                .any(|e| e.as_deref() == Some(from_uuid.to_lowercase().as_str()))
            {
                return Err(Error::Validation(
                    "The source of the relationship must be one of its two clients.".into(),
                ));
            }
        }
        Decision::SetShareClass { share_class } => {
            let class = share_class.trim();
            if class.is_empty() {
                return Err(Error::Validation(
                    "Enter the class (e.g. Ordinary), or keep it unset.".into(),
                ));
            }
            let id = item.payload.relationship_id.ok_or_else(|| {
                Error::NotFound("The relationship of this item no longer exists.".into())
            })?;
            let row = relationships::get_row(&txn, org, id).await?;
            let mut input = relationships::to_relationship(row).details;
            input.share_class = Some(class.to_owned());
            relationships::update_in(&txn, org, id, &input, now).await?;
        }
        _ => {}
    }
    // Holding classes are local facts: carried out here, no pull needed.
    let done = item.kind == ReviewKind::HoldingClass;
    let mut active = row.into_active_model();
    active.decision = Set(Some(
        serde_json::to_string(decision).expect("decisions serialise"),
    ));
    active.state = Set(if done {
        ReviewState::Resolved
    } else {
        ReviewState::Ready
    }
    .as_str()
    .to_owned());
    if done {
        active.resolved_at = Set(Some(now));
    }
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(to_item(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_camel_case_json_like_every_ipc_type() {
        let d = Decision::SetKind {
            kind: EntityKind::Trust,
            trust_type: Some(TrustType::Unit),
            remember_as_rule: true,
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "action": "setKind",
                "kind": "trust",
                "trustType": "unit",
                "rememberAsRule": true
            }),
            "the UI and the CLI's decisions file send exactly this"
        );
        let back: Decision =
            serde_json::from_str(r#"{"action":"linkExisting","entityId":12}"#).unwrap();
        assert_eq!(back, Decision::LinkExisting { entity_id: 12 });
    }
}
