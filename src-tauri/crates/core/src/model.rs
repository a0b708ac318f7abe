//! The domain vocabulary shared by storage, services, the headless CLI and the UI.
//!
//! Every type here is also an IPC type: it derives `ts_rs::TS`, and `cargo test` writes its
//! TypeScript twin into `ui/src/ipc/bindings/` (checked for drift in CI). Enumerations are stored
//! in the database and written to JSON as the same camelCase strings. Dates are calendar dates
//! (`YYYY-MM-DD`, no time zone); timestamps are UTC and serialise as RFC 3339.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::entity::prelude::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The five legal-entity types of product-spec §3.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    TS,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "camelCase"
)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum EntityKind {
    /// A natural person.
    #[default]
    Individual,
    /// A company (Pty Ltd, Ltd …).
    Company,
    /// A trust; see [`TrustType`].
    Trust,
    /// A partnership; partners hold interests totalling at most 100%.
    Partnership,
    /// A self-managed superannuation fund (not a trust subtype; at most 6 members).
    Smsf,
}

impl EntityKind {
    /// The singular display name ("Individual", "SMSF" …).
    pub fn label(self) -> &'static str {
        match self {
            Self::Individual => "Individual",
            Self::Company => "Company",
            Self::Trust => "Trust",
            Self::Partnership => "Partnership",
            Self::Smsf => "SMSF",
        }
    }

    /// The status an entity of this kind gets when none is given (product-spec §3.4–§3.6:
    /// trusts and SMSFs default to Passive, everything else to Active).
    pub fn default_status(self) -> EntityStatus {
        match self {
            Self::Trust | Self::Smsf => EntityStatus::Passive,
            Self::Individual | Self::Company | Self::Partnership => EntityStatus::Active,
        }
    }
}

/// Trust types (product-spec §3.4); `Unspecified` sorts last in pickers.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, TS,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "camelCase"
)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum TrustType {
    /// Discretionary (family) trust; drawn as a hexagon.
    Discretionary,
    /// Unit trust; drawn as an octagon.
    Unit,
    /// Hybrid trust; drawn as an ellipse.
    Hybrid,
    /// Testamentary trust created by a will; drawn as a pill.
    Testamentary,
    /// Bare trust or nominee.
    BareNominee,
    /// Special disability trust.
    SpecialDisability,
    /// Private ancillary fund.
    PrivateAncillaryFund,
    /// Charitable trust.
    Charitable,
    /// A deceased estate: controlled by executors, never by an appointor.
    DeceasedEstate,
    /// Type not (yet) known.
    Unspecified,
}

impl TrustType {
    /// The display name ("Discretionary", "Bare/Nominee" …).
    pub fn label(self) -> &'static str {
        match self {
            Self::Discretionary => "Discretionary",
            Self::Unit => "Unit",
            Self::Hybrid => "Hybrid",
            Self::Testamentary => "Testamentary",
            Self::BareNominee => "Bare/Nominee",
            Self::SpecialDisability => "Special Disability",
            Self::PrivateAncillaryFund => "Private Ancillary Fund",
            Self::Charitable => "Charitable",
            Self::DeceasedEstate => "Deceased Estate",
            Self::Unspecified => "Unspecified",
        }
    }
}

/// Lifecycle status of an entity (product-spec §3.5–§3.6).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, TS,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "camelCase"
)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum EntityStatus {
    /// Trading or otherwise active.
    Active,
    /// Holding assets but not trading.
    Passive,
    /// Not operating.
    Dormant,
    /// A trust or fund that has vested.
    Vested,
    /// A partnership that has been dissolved.
    Dissolved,
    /// Planned but not yet set up.
    Proposed,
    /// Archived (as XPM archives clients).
    Archived,
}

/// Relationship types of product-spec §4.2.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, TS,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::None)",
    rename_all = "camelCase"
)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum RelationshipKind {
    /// Individual → Company.
    Director,
    /// Individual → Company.
    Secretary,
    /// Holder → Company, with shares, class and %.
    Shareholder,
    /// Holder → unit or hybrid trust, with units, class and %.
    Unitholder,
    /// Individual or company → trust or SMSF.
    Trustee,
    /// Individual or company → deceased estate.
    Executor,
    /// Individual or company → trust (never a deceased estate).
    Appointor,
    /// Any entity → trust.
    Beneficiary,
    /// Individual or company → trust.
    Settlor,
    /// Non-partnership → partnership, with an interest %.
    Partner,
    /// Individual → SMSF.
    SmsfMember,
    /// Individual ↔ individual (one row; two-way).
    Spouse,
    /// Parent → child (the reverse reads "Child").
    Parent,
    /// Child → parent (the reverse reads "Parent").
    Child,
    /// Individual → company.
    PublicOfficer,
    /// Individual or company → any entity.
    Auditor,
    /// Any → any.
    Associate,
    /// Any → a non-individual.
    Owner,
    /// Any → any, with a free label; purely visual.
    Custom,
}

impl RelationshipKind {
    /// The display name used in diagrams and messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Director => "Director",
            Self::Secretary => "Secretary",
            Self::Shareholder => "Shareholder",
            Self::Unitholder => "Unitholder",
            Self::Trustee => "Trustee",
            Self::Executor => "Executor",
            Self::Appointor => "Appointor",
            Self::Beneficiary => "Beneficiary",
            Self::Settlor => "Settlor",
            Self::Partner => "Partner",
            Self::SmsfMember => "SMSF member",
            Self::Spouse => "Spouse",
            Self::Parent => "Parent",
            Self::Child => "Child",
            Self::PublicOfficer => "Public officer",
            Self::Auditor => "Auditor",
            Self::Associate => "Associate",
            Self::Owner => "Owner",
            Self::Custom => "Custom",
        }
    }
}

/// A group as listed on the Groups page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct GroupSummary {
    /// Database id.
    pub id: i32,
    /// Unique (per organisation) name.
    pub name: String,
    /// Number of member entities.
    pub entity_count: u32,
    /// Number of relationships with both ends in the group.
    pub relationship_count: u32,
    /// Last change to the group or its membership.
    pub updated_at: DateTime<Utc>,
}

/// An entity as the UI and CLI see it. The TFN is only ever shown masked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Entity {
    /// Database id.
    pub id: i32,
    /// Legal-entity type.
    pub kind: EntityKind,
    /// Set for trusts only.
    pub trust_type: Option<TrustType>,
    /// Display name; for individuals built from first, middle and last names.
    pub name: String,
    /// Individuals: given name.
    pub first_name: Option<String>,
    /// Individuals: middle name(s).
    pub middle_name: Option<String>,
    /// Individuals: family name.
    pub last_name: Option<String>,
    /// Individuals: preferred or other name.
    pub other_name: Option<String>,
    /// Individuals: date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Individuals: date of death (deceased people are drawn grey).
    pub date_of_death: Option<NaiveDate>,
    /// Australian Business Number, 11 digits, no spaces.
    pub abn: Option<String>,
    /// Australian Company Number, 9 digits, no spaces (companies).
    pub acn: Option<String>,
    /// The TFN masked to its last three digits ("******789"); the TFN itself never leaves core.
    pub tfn_masked: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Street address, free text.
    pub address: Option<String>,
    /// Postal address, free text.
    pub postal_address: Option<String>,
    /// Lifecycle status.
    pub status: EntityStatus,
    /// Free notes (≤ 5,000 characters).
    pub notes: Option<String>,
    /// Ids of the groups the entity belongs to, ascending.
    pub group_ids: Vec<i32>,
}

/// What a create or update form sends. Validated by [`crate::entities::normalise_input`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EntityInput {
    /// Legal-entity type (an entity's kind cannot change after creation).
    pub kind: EntityKind,
    /// Required for trusts; must be empty otherwise.
    pub trust_type: Option<TrustType>,
    /// Required (≤ 200 characters) except for individuals, whose name is built from their parts.
    pub name: String,
    /// Individuals: given name (required with the last name).
    pub first_name: Option<String>,
    /// Individuals: middle name(s).
    pub middle_name: Option<String>,
    /// Individuals: family name (required).
    pub last_name: Option<String>,
    /// Individuals: preferred or other name.
    pub other_name: Option<String>,
    /// Individuals: date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Individuals: date of death.
    pub date_of_death: Option<NaiveDate>,
    /// 11 digits; spaces are removed.
    pub abn: Option<String>,
    /// 9 digits; spaces are removed.
    pub acn: Option<String>,
    /// Write-only: `None` keeps the stored TFN, `""` clears it, 9 digits set it.
    pub tfn: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Postal address.
    pub postal_address: Option<String>,
    /// `None` means the kind's default status.
    pub status: Option<EntityStatus>,
    /// Free notes (≤ 5,000 characters).
    pub notes: Option<String>,
}

/// A relationship as stored and shown: its id and the same fields a form sends (flattened, so
/// the JSON and TypeScript shape is `{ id, kind, fromId, toId, … }`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Relationship {
    /// Database id.
    pub id: i32,
    /// Everything else.
    #[serde(flatten)]
    #[ts(flatten)]
    pub details: RelationshipInput,
}

/// What a relationship form sends; validated by [`crate::rules`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RelationshipInput {
    /// Type of relationship.
    pub kind: RelationshipKind,
    /// Source entity id.
    pub from_id: i32,
    /// Target entity id.
    pub to_id: i32,
    /// Number of shares or units held (≥ 0).
    #[ts(type = "number | null")]
    pub shares: Option<i64>,
    /// Share or unit class.
    pub share_class: Option<String>,
    /// Interest in percent, 0–100.
    pub percentage: Option<f64>,
    /// First day the relationship holds.
    pub start_date: Option<NaiveDate>,
    /// Last day the relationship holds; must not be before `start_date`.
    pub end_date: Option<NaiveDate>,
    /// Free label (custom relationships).
    pub label: Option<String>,
}

/// A node of a structure diagram: one entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DiagramNode {
    /// Stable node id, `"e<entity id>"`.
    pub id: String,
    /// The entity's id.
    pub entity_id: i32,
    /// The entity's display name.
    pub label: String,
    /// Drives the node's shape.
    pub kind: EntityKind,
    /// Drives the trust shape.
    pub trust_type: Option<TrustType>,
    /// A second line, e.g. "Discretionary trust" or "ACN 123 456 789".
    pub subtitle: Option<String>,
    /// Whether the entity is a deceased individual (drawn grey).
    pub deceased: bool,
}

/// An edge of a structure diagram: one relationship, from holder to held.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DiagramEdge {
    /// Stable edge id, `"r<relationship id>"`.
    pub id: String,
    /// The relationship's id.
    pub relationship_id: i32,
    /// Source node id.
    pub source: String,
    /// Target node id.
    pub target: String,
    /// Type, for styling.
    pub kind: RelationshipKind,
    /// Formatted label, e.g. "Shareholder · 50 Ordinary (50%)".
    pub label: String,
}

/// A group's structure diagram as at a date: what the UI lays out and draws.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Diagram {
    /// The group drawn.
    pub group_id: i32,
    /// Its name, for the title and export file names.
    pub group_name: String,
    /// The date the diagram shows; `None` shows every relationship whatever its dates.
    pub as_at: Option<NaiveDate>,
    /// Entities, ordered by name.
    pub nodes: Vec<DiagramNode>,
    /// Relationships between them, ordered by id.
    pub edges: Vec<DiagramEdge>,
    /// Relationships left out because the as-at date is outside their start/end dates.
    pub hidden_relationships: u32,
}
