//! Structure diagrams (product-spec §6): which nodes and edges a group's diagram shows as at a
//! date, and how each edge is labelled. The UI only lays them out and draws them.
//!
//! As-at rule (product-spec §6.9): a relationship shows on day D when its start date is empty or
//! ≤ D and its end date is empty or ≥ D (both ends inclusive); an entity shows when its group
//! membership's join/exit dates hold D the same way. With no date, everything shows.

use std::collections::HashSet;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::db::OrgId;
use crate::error::Result;
use crate::groups;
use crate::model::{Diagram, DiagramEdge, DiagramNode, EntityKind, RelationshipKind};
use crate::relationships;
use crate::rules::trim_number;
use crate::schema::{entity, group_member, relationship};

/// Whether a dated span holds on `day` (ends inclusive; an empty end is open).
pub fn holds_on(start: Option<NaiveDate>, end: Option<NaiveDate>, day: NaiveDate) -> bool {
    start.is_none_or(|s| s <= day) && end.is_none_or(|e| e >= day)
}

/// The edge label: the type's name plus what the holding is, e.g. "Shareholder · 50 Ordinary
/// (50%)", "Unitholder · 600 units (60%)", "Partner 40%", or a custom link's own label.
pub fn edge_label(r: &relationship::Model) -> String {
    let pct = r.percentage.map(|p| format!("{}%", trim_number(p)));
    match r.kind {
        RelationshipKind::Shareholder | RelationshipKind::Unitholder => {
            let unit = if r.kind == RelationshipKind::Unitholder {
                "units"
            } else {
                "shares"
            };
            let holding = match (r.shares, r.share_class.as_deref()) {
                (Some(n), Some(class)) => Some(format!("{n} {class}")),
                (Some(n), None) => Some(format!("{n} {unit}")),
                (None, Some(class)) => Some(class.to_owned()),
                (None, None) => None,
            };
            match (holding, pct) {
                (Some(h), Some(p)) => format!("{} · {h} ({p})", r.kind.label()),
                (Some(h), None) => format!("{} · {h}", r.kind.label()),
                (None, Some(p)) => format!("{} {p}", r.kind.label()),
                (None, None) => r.kind.label().to_owned(),
            }
        }
        RelationshipKind::Custom => r.label.clone().unwrap_or_else(|| "Custom".into()),
        kind => match pct {
            Some(p) => format!("{} {p}", kind.label()),
            None => kind.label().to_owned(),
        },
    }
}

fn subtitle(e: &entity::Model) -> Option<String> {
    match e.kind {
        EntityKind::Individual => e.date_of_death.map(|d| format!("Deceased {d}")),
        EntityKind::Company => Some(match &e.acn {
            Some(acn) if acn.len() == 9 => {
                format!("ACN {} {} {}", &acn[0..3], &acn[3..6], &acn[6..9])
            }
            _ => "Company".to_owned(),
        }),
        EntityKind::Trust => e.trust_type.map(|t| format!("{} trust", t.label())),
        EntityKind::Partnership => Some("Partnership".to_owned()),
        EntityKind::Smsf => Some("SMSF".to_owned()),
    }
}

/// Builds a group's diagram as at `as_at` (or everything when `None`).
///
/// Nodes are the group's members (ordered by name, then id); edges are relationships with both
/// ends shown (ordered by id). `hidden_relationships` counts those left out by their dates.
///
/// # Errors
/// [`crate::Error::NotFound`] if the group does not exist.
pub async fn build(
    db: &DatabaseConnection,
    org: OrgId,
    group_id: i32,
    as_at: Option<NaiveDate>,
) -> Result<Diagram> {
    let group = groups::get(db, org, group_id).await?;
    let members = group_member::Entity::find()
        .filter(group_member::Column::GroupId.eq(group_id))
        .all(db)
        .await?;
    let shown_ids: HashSet<i32> = members
        .iter()
        .filter(|m| as_at.is_none_or(|d| holds_on(m.join_date, m.exit_date, d)))
        .map(|m| m.entity_id)
        .collect();
    let mut entities = entity::Entity::find()
        .filter(entity::Column::Id.is_in(shown_ids.iter().copied()))
        .all(db)
        .await?;
    entities.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let ids: Vec<i32> = shown_ids.iter().copied().collect();
    let mut hidden = 0u32;
    let mut edges = Vec::new();
    for r in relationships::touching(db, org, &ids).await? {
        if !(shown_ids.contains(&r.from_entity_id) && shown_ids.contains(&r.to_entity_id)) {
            continue;
        }
        if as_at.is_some_and(|d| !holds_on(r.start_date, r.end_date, d)) {
            hidden += 1;
            continue;
        }
        edges.push(DiagramEdge {
            id: format!("r{}", r.id),
            relationship_id: r.id,
            source: format!("e{}", r.from_entity_id),
            target: format!("e{}", r.to_entity_id),
            kind: r.kind,
            label: edge_label(&r),
        });
    }
    let nodes = entities
        .iter()
        .map(|e| DiagramNode {
            id: format!("e{}", e.id),
            entity_id: e.id,
            label: e.name.clone(),
            kind: e.kind,
            trust_type: e.trust_type,
            subtitle: subtitle(e),
            deceased: e.date_of_death.is_some(),
        })
        .collect();
    Ok(Diagram {
        group_id,
        group_name: group.name,
        as_at,
        nodes,
        edges,
        hidden_relationships: hidden,
    })
}
