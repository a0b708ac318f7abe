//! XPM business structures → entity kinds (product-spec §8.5–§8.7), and the organisation's
//! saved mapping rules for custom structures.
//!
//! XPM's `BusinessStructure` is the name of a structure configured in the practice's XPM Admin,
//! not an enumeration (xpm-api.md §3.2). A label is resolved by the first method that works:
//! 1. the **standard table** (§8.5): mapped silently;
//! 2. the organisation's **saved rule** for the label (§8.6, case-insensitive): mapped silently;
//! 3. **keyword matching** on the label's words (§8.7; the keyword list is the spec's proposal):
//!    applied only when the keywords point to exactly one entity kind, and flagged for review;
//! 4. otherwise the user is asked (a *needs input* review item), with "remember as a rule".
//!
//! Choices made here where the spec is silent: a plain "Trust" becomes a trust of type
//! Unspecified (the spec lists it as standard, so it is not asked); "Not For Profit" becomes a
//! Company (its target is UNKNOWN in the spec; most are companies limited by guarantee).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::OrgId;
use crate::error::{Error, Result};
use crate::model::{EntityKind, TrustType};
use crate::schema::xpm_structure_rule;

/// How a structure was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum MatchSource {
    /// The standard table.
    Standard,
    /// A saved rule of the organisation.
    Rule,
    /// Keyword matching: applied, but flagged for review.
    Keyword,
}

/// A resolved structure: the entity kind, the trust type for trusts, and how it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Resolved {
    /// Entity kind.
    pub kind: EntityKind,
    /// Trust type (trusts only).
    pub trust_type: Option<TrustType>,
    /// How it was resolved.
    pub source: MatchSource,
}

/// A saved rule as the settings page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StructureRule {
    /// Database id.
    pub id: i32,
    /// The XPM business structure, as first seen.
    pub label: String,
    /// Entity kind it maps to.
    pub kind: EntityKind,
    /// Trust type, for trusts.
    pub trust_type: Option<TrustType>,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
}

fn key(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The standard table (product-spec §8.5): the five base names with XPM's synonyms ("Person",
/// "Business", "Superannuation Fund") and the standard trust variants.
pub fn standard(label: &str) -> Option<(EntityKind, Option<TrustType>)> {
    use EntityKind as K;
    Some(match key(label).as_str() {
        "individual" | "person" => (K::Individual, None),
        "company" | "business" | "not for profit" => (K::Company, None),
        "trust" => (K::Trust, Some(TrustType::Unspecified)),
        "unit trust" => (K::Trust, Some(TrustType::Unit)),
        "testamentary trust" => (K::Trust, Some(TrustType::Testamentary)),
        "estate" => (K::Trust, Some(TrustType::DeceasedEstate)),
        "partnership" => (K::Partnership, None),
        "smsf" | "superannuation fund" => (K::Smsf, None),
        _ => return None,
    })
}

/// Keyword matching (product-spec §8.7, the spec's proposed lists) on the label's words:
/// Company — pty, ltd, limited, company, corporation, inc; Trust — trust, atf, estate,
/// testamentary, "trustee for"; SMSF — smsf, superannuation, "super fund"; Partnership —
/// partnership, partners, "& co". `None` when no bucket or more than one matches (then the
/// user is asked). A trust's type comes from its words: unit, hybrid, bare, testamentary,
/// estate (deceased estate), family or discretionary; else Unspecified.
pub fn keyword(label: &str) -> Option<(EntityKind, Option<TrustType>)> {
    let lower = key(label);
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '&'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let phrase = |p: &str| format!(" {} ", words.join(" ")).contains(&format!(" {p} "));
    let mut kinds = Vec::new();
    if ["pty", "ltd", "limited", "company", "corporation", "inc"]
        .iter()
        .any(|w| has(w))
    {
        kinds.push(EntityKind::Company);
    }
    if ["trust", "atf", "estate", "testamentary"]
        .iter()
        .any(|w| has(w))
        || phrase("trustee for")
    {
        kinds.push(EntityKind::Trust);
    }
    if has("smsf") || has("superannuation") || phrase("super fund") {
        kinds.push(EntityKind::Smsf);
    }
    if has("partnership") || has("partners") || phrase("& co") {
        kinds.push(EntityKind::Partnership);
    }
    match kinds.as_slice() {
        [EntityKind::Trust] => {
            let t = if has("unit") {
                TrustType::Unit
            } else if has("hybrid") {
                TrustType::Hybrid
            } else if has("bare") {
                TrustType::BareNominee
            } else if has("testamentary") {
                TrustType::Testamentary
            } else if has("estate") {
                TrustType::DeceasedEstate
            } else if has("family") || has("discretionary") {
                TrustType::Discretionary
            } else {
                TrustType::Unspecified
            };
            Some((EntityKind::Trust, Some(t)))
        }
        [k] => Some((*k, None)),
        _ => None,
    }
}

/// The organisation's rules keyed by lower-cased label, for [`resolve`].
pub type Rules = std::collections::HashMap<String, (EntityKind, Option<TrustType>)>;

/// Loads the organisation's rules for [`resolve`].
pub(crate) async fn load_rules<C: ConnectionTrait>(db: &C, org: OrgId) -> Result<Rules> {
    Ok(xpm_structure_rule::Entity::find()
        .filter(xpm_structure_rule::Column::OrganisationId.eq(org.0))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.label_key, (r.kind, r.trust_type)))
        .collect())
}

/// Resolves a label in the order of the module docs; `None` means ask the user.
pub fn resolve(rules: &Rules, label: &str) -> Option<Resolved> {
    let found = |(kind, trust_type): (EntityKind, Option<TrustType>), source| Resolved {
        kind,
        trust_type,
        source,
    };
    standard(label)
        .map(|r| found(r, MatchSource::Standard))
        .or_else(|| rules.get(&key(label)).map(|r| found(*r, MatchSource::Rule)))
        .or_else(|| keyword(label).map(|r| found(r, MatchSource::Keyword)))
}

/// Every saved rule of the organisation, by label.
///
/// # Errors
/// [`Error::Db`] on database failure.
pub async fn list_rules(db: &DatabaseConnection, org: OrgId) -> Result<Vec<StructureRule>> {
    Ok(xpm_structure_rule::Entity::find()
        .filter(xpm_structure_rule::Column::OrganisationId.eq(org.0))
        .order_by_asc(xpm_structure_rule::Column::LabelKey)
        .all(db)
        .await?
        .into_iter()
        .map(|r| StructureRule {
            id: r.id,
            label: r.label,
            kind: r.kind,
            trust_type: r.trust_type,
            created_at: r.created_at,
        })
        .collect())
}

/// Saves (or replaces) the rule for `label` inside the caller's transaction.
///
/// # Errors
/// [`Error::Validation`] for an empty label, a trust without a trust type or a trust type on
/// another kind; [`Error::Db`].
pub async fn save_rule<C: ConnectionTrait>(
    db: &C,
    org: OrgId,
    label: &str,
    kind: EntityKind,
    trust_type: Option<TrustType>,
    now: DateTime<Utc>,
) -> Result<()> {
    let label_key = key(label);
    if label_key.is_empty() {
        return Err(Error::Validation(
            "A rule needs the XPM business structure it applies to.".into(),
        ));
    }
    check_kind(kind, trust_type)?;
    match xpm_structure_rule::Entity::find()
        .filter(xpm_structure_rule::Column::OrganisationId.eq(org.0))
        .filter(xpm_structure_rule::Column::LabelKey.eq(&label_key))
        .one(db)
        .await?
    {
        Some(row) => {
            let mut active = row.into_active_model();
            active.kind = Set(kind);
            active.trust_type = Set(trust_type);
            active.update(db).await?;
        }
        None => {
            xpm_structure_rule::ActiveModel {
                organisation_id: Set(org.0),
                label_key: Set(label_key),
                label: Set(label.trim().to_owned()),
                kind: Set(kind),
                trust_type: Set(trust_type),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Checks that a trust has a trust type and nothing else has one.
pub(crate) fn check_kind(kind: EntityKind, trust_type: Option<TrustType>) -> Result<()> {
    match (kind, trust_type) {
        (EntityKind::Trust, None) => Err(Error::Validation(
            "Choose the trust type (Unspecified if unknown).".into(),
        )),
        (EntityKind::Trust, Some(_)) | (_, None) => Ok(()),
        (k, Some(_)) => Err(Error::Validation(format!(
            "Only trusts have a trust type; a {} cannot.",
            k.label().to_lowercase()
        ))),
    }
}

/// Deletes a rule; later pulls ask again for that structure.
///
/// # Errors
/// [`Error::NotFound`] if the organisation has no such rule.
pub async fn delete_rule(db: &DatabaseConnection, org: OrgId, id: i32) -> Result<()> {
    let done = xpm_structure_rule::Entity::delete_many()
        .filter(xpm_structure_rule::Column::OrganisationId.eq(org.0))
        .filter(xpm_structure_rule::Column::Id.eq(id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(Error::NotFound(format!(
            "Mapping rule {id} does not exist."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityKind as K;

    #[test]
    fn standard_structures_map_silently() {
        assert_eq!(standard("Individual"), Some((K::Individual, None)));
        assert_eq!(
            standard("  unit   TRUST "),
            Some((K::Trust, Some(TrustType::Unit)))
        );
        assert_eq!(
            standard("Estate"),
            Some((K::Trust, Some(TrustType::DeceasedEstate)))
        );
        assert_eq!(standard("Superannuation Fund"), Some((K::Smsf, None)));
        assert_eq!(standard("Trustee Company"), None);
    }

    #[test]
    fn keywords_apply_only_when_they_point_to_one_kind() {
        assert_eq!(
            keyword("Discretionary Trust"),
            Some((K::Trust, Some(TrustType::Discretionary)))
        );
        assert_eq!(
            keyword("Trustee Company"),
            Some((K::Company, None)),
            "trustee is not trust"
        );
        assert_eq!(
            keyword("Self Managed Superannuation Fund"),
            Some((K::Smsf, None))
        );
        assert_eq!(keyword("Smith & Co"), Some((K::Partnership, None)));
        assert_eq!(
            keyword("Individual Trustee"),
            None,
            "the spec's example: ask"
        );
        assert_eq!(keyword("Sole Trader"), None);
        assert_eq!(keyword("Trust Company Pty Ltd"), None, "two kinds: ask");
    }

    #[test]
    fn rules_come_after_the_standard_table_and_before_keywords() {
        let mut rules = Rules::new();
        rules.insert("individual trustee".into(), (K::Individual, None));
        rules.insert("company".into(), (K::Trust, Some(TrustType::Unit)));
        let r = resolve(&rules, "Individual Trustee").unwrap();
        assert_eq!((r.kind, r.source), (K::Individual, MatchSource::Rule));
        let r = resolve(&rules, "Company").unwrap();
        assert_eq!((r.kind, r.source), (K::Company, MatchSource::Standard));
        let r = resolve(&rules, "Family Trust").unwrap();
        assert_eq!(r.source, MatchSource::Keyword);
        assert_eq!(resolve(&rules, "Sole Trader"), None);
    }
}
