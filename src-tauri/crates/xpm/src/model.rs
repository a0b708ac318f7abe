//! Public, domain-neutral types for what XPM returns and accepts.
//!
//! Owns the shapes the rest of the app sees: plain Rust structs with [`Field`] where "element
//! missing" and "element empty" mean different things, `Option<Vec<_>>` where a whole collection
//! may be absent (e.g. `Relationships` on a non-detailed list), and small enums where XPM's value
//! sets differ between request and response (`GSTPeriod`). Nothing here knows XML or HTTP; the
//! mapping to and from XPM's wire names lives in the private `wire` module.

use chrono::NaiveDate;
use uuid::Uuid;

/// A value that may be absent from the response, present but empty, or present with a value.
///
/// XPM omits optional Practice-Management/AU/NZ fields entirely on some clients and sends
/// `<X />` on others; the two mean different things when merging ("unknown" vs "cleared").
/// In a request, `Missing` leaves the element out and `Empty` sends `<X />`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// The element was not in the response (or is not to be sent).
    #[default]
    Missing,
    /// The element was present with no content (`<X />` or `<X></X>`), or is to be cleared.
    Empty,
    /// The element had this value.
    Value(T),
}

impl<T> Field<T> {
    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            Field::Missing | Field::Empty => None,
        }
    }

    /// True when the element was absent.
    pub fn is_missing(&self) -> bool {
        matches!(self, Field::Missing)
    }

    /// Maps the value, keeping `Missing`/`Empty`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Missing => Field::Missing,
            Field::Empty => Field::Empty,
            Field::Value(v) => Field::Value(f(v)),
        }
    }

    /// Borrowing version of [`Field::map`].
    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Missing => Field::Missing,
            Field::Empty => Field::Empty,
            Field::Value(v) => Field::Value(v),
        }
    }
}

impl<T> From<Option<T>> for Field<T> {
    /// `None` becomes `Empty` (present, cleared); use `Field::Missing` explicitly to omit.
    fn from(v: Option<T>) -> Self {
        match v {
            Some(v) => Field::Value(v),
            None => Field::Empty,
        }
    }
}

/// The `Xero-Tenant-Id` of a PRACTICEMANAGER connection (its `tenantId`, not the connection id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub String);

impl TenantId {
    /// Wraps a tenant id string.
    pub fn new(id: impl Into<String>) -> Self {
        TenantId(id.into())
    }

    /// The id as sent in `Xero-Tenant-Id`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference to another record by UUID and display name (staff member, client, group).
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    /// The record's UUID.
    pub uuid: Uuid,
    /// Its display name at the time of the response (may be empty).
    pub name: String,
}

/// `GSTPeriod`. Responses say `Monthly` / `2 Monthly` / `6 Monthly`; requests send `1` / `2` /
/// `6`. Both forms are read; requests always use the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GstPeriod {
    /// Monthly (`1`).
    Monthly,
    /// Two-monthly (`2`).
    TwoMonthly,
    /// Six-monthly (`6`).
    SixMonthly,
    /// A value not in the documented sets, kept verbatim (never sent back).
    Other(String),
}

/// The client's billing type (`<Type>` on a client; not a relationship type).
#[derive(Debug, Clone, PartialEq)]
pub struct BillingType {
    /// `Name`.
    pub name: Field<String>,
    /// `CostMarkup`, e.g. `30.00`.
    pub cost_markup: Field<f64>,
    /// `PaymentTerm`: `DayOfMonth` or `WithinDays`.
    pub payment_term: Field<String>,
    /// `PaymentDay`.
    pub payment_day: Field<i64>,
}

/// A contact on a client (`Contacts/Contact`).
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// `UUID` (missing on contacts not yet saved).
    pub uuid: Option<Uuid>,
    /// `Name`.
    pub name: String,
    /// `Salutation`.
    pub salutation: Field<String>,
    /// `Addressee`.
    pub addressee: Field<String>,
    /// `Mobile`.
    pub mobile: Field<String>,
    /// `Email`.
    pub email: Field<String>,
    /// `Phone`.
    pub phone: Field<String>,
    /// `Position` (returned reliably only for linked, non-deleted contacts).
    pub position: Field<String>,
    /// `IsPrimary`.
    pub is_primary: Field<bool>,
    /// `IsDeleted`.
    pub is_deleted: Field<bool>,
}

/// A note on a client (`Notes/Note`).
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// `Title`.
    pub title: Field<String>,
    /// `Text`.
    pub text: Field<String>,
    /// `Folder`.
    pub folder: Field<String>,
    /// `Date`, as sent (e.g. `2008-09-12T13:00:00`).
    pub date: Field<String>,
    /// `CreatedBy`.
    pub created_by: Field<String>,
}

/// A relationship as read from one client's record (`Relationships/Relationship`).
///
/// XPM shows each relationship on both clients: one side has the plain label (`Director`), the
/// other an "… Of" label (`Director Of`). `label` keeps the raw text; [`RelationshipType::parse`]
/// gives the base type and side.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// `UUID` of the relationship.
    pub uuid: Uuid,
    /// `Type`, verbatim (e.g. `Director Of`).
    pub label: String,
    /// `RelatedClient`.
    pub related_client: Ref,
    /// `NumberOfShares` (Shareholder / Owner).
    pub number_of_shares: Field<i64>,
    /// `Percentage` (partnerships).
    pub percentage: Field<f64>,
    /// `StartDate`.
    pub start_date: Field<NaiveDate>,
    /// `EndDate`.
    pub end_date: Field<NaiveDate>,
}

/// Relationship types XPM accepts on add, plus any other label kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelationshipType {
    /// `Director`.
    Director,
    /// `Shareholder`.
    Shareholder,
    /// `Trustee`.
    Trustee,
    /// `Beneficiary`.
    Beneficiary,
    /// `Partner`.
    Partner,
    /// `Settlor`.
    Settlor,
    /// `Associate`.
    Associate,
    /// `Secretary`.
    Secretary,
    /// `Public Officer`.
    PublicOfficer,
    /// `Husband`.
    Husband,
    /// `Wife`.
    Wife,
    /// `Spouse`.
    Spouse,
    /// `Parent Of`.
    ParentOf,
    /// `Child Of`.
    ChildOf,
    /// `Appointer` (read also as `Appointor`).
    Appointer,
    /// `Member`.
    Member,
    /// `Auditor`.
    Auditor,
    /// `Owner`.
    Owner,
    /// Any other label (e.g. `Unit Holder`, `Contact`), kept verbatim without a trailing " Of".
    Other(String),
}

impl RelationshipType {
    /// The label XPM expects on add.
    pub fn as_str(&self) -> &str {
        match self {
            RelationshipType::Director => "Director",
            RelationshipType::Shareholder => "Shareholder",
            RelationshipType::Trustee => "Trustee",
            RelationshipType::Beneficiary => "Beneficiary",
            RelationshipType::Partner => "Partner",
            RelationshipType::Settlor => "Settlor",
            RelationshipType::Associate => "Associate",
            RelationshipType::Secretary => "Secretary",
            RelationshipType::PublicOfficer => "Public Officer",
            RelationshipType::Husband => "Husband",
            RelationshipType::Wife => "Wife",
            RelationshipType::Spouse => "Spouse",
            RelationshipType::ParentOf => "Parent Of",
            RelationshipType::ChildOf => "Child Of",
            RelationshipType::Appointer => "Appointer",
            RelationshipType::Member => "Member",
            RelationshipType::Auditor => "Auditor",
            RelationshipType::Owner => "Owner",
            RelationshipType::Other(s) => s,
        }
    }

    /// Parses a label as read from a client record, case-insensitively. Returns the base type
    /// and `true` when the label is the "… Of" (inverse) side, e.g. `Director Of`.
    /// `Parent Of` and `Child Of` are types of their own, not inverse labels.
    pub fn parse(label: &str) -> (RelationshipType, bool) {
        let norm = label.split_whitespace().collect::<Vec<_>>().join(" ");
        let lower = norm.to_ascii_lowercase();
        if let Some(t) = Self::from_base(&lower) {
            return (t, false);
        }
        if let Some(base) = lower.strip_suffix(" of") {
            if let Some(t) = Self::from_base(base) {
                return (t, true);
            }
            let raw = &norm[..base.len()];
            return (RelationshipType::Other(raw.to_owned()), true);
        }
        (RelationshipType::Other(norm), false)
    }

    fn from_base(lower: &str) -> Option<RelationshipType> {
        Some(match lower {
            "director" => RelationshipType::Director,
            "shareholder" => RelationshipType::Shareholder,
            "trustee" => RelationshipType::Trustee,
            "beneficiary" => RelationshipType::Beneficiary,
            "partner" => RelationshipType::Partner,
            "settlor" => RelationshipType::Settlor,
            "associate" => RelationshipType::Associate,
            "secretary" => RelationshipType::Secretary,
            "public officer" => RelationshipType::PublicOfficer,
            "husband" => RelationshipType::Husband,
            "wife" => RelationshipType::Wife,
            "spouse" => RelationshipType::Spouse,
            "parent of" => RelationshipType::ParentOf,
            "child of" => RelationshipType::ChildOf,
            "appointer" | "appointor" => RelationshipType::Appointer,
            "member" => RelationshipType::Member,
            "auditor" => RelationshipType::Auditor,
            "owner" => RelationshipType::Owner,
            _ => return None,
        })
    }
}

/// A client as XPM returns it from `get/{uuid}`, `list` (with or without `detailed=true`) and
/// `search`. Collections are `None` when their element was absent (non-detailed reads).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Client {
    /// `UUID`.
    pub uuid: Option<Uuid>,
    /// `Name`.
    pub name: String,
    /// `Title` (AU tax).
    pub title: Field<String>,
    /// `Gender` (AU tax).
    pub gender: Field<String>,
    /// `FirstName`.
    pub first_name: Field<String>,
    /// `LastName`.
    pub last_name: Field<String>,
    /// `OtherName`.
    pub other_name: Field<String>,
    /// `Email`.
    pub email: Field<String>,
    /// `DateOfBirth` (read from `yyyy-MM-dd` or `yyyy-MM-ddTHH:mm:ss`).
    pub date_of_birth: Field<NaiveDate>,
    /// `Address`.
    pub address: Field<String>,
    /// `City`.
    pub city: Field<String>,
    /// `Region`.
    pub region: Field<String>,
    /// `PostCode`.
    pub post_code: Field<String>,
    /// `Country`.
    pub country: Field<String>,
    /// `PostalAddress` (may contain newlines; kept verbatim).
    pub postal_address: Field<String>,
    /// `PostalCity`.
    pub postal_city: Field<String>,
    /// `PostalRegion`.
    pub postal_region: Field<String>,
    /// `PostalPostCode`.
    pub postal_post_code: Field<String>,
    /// `PostalCountry`.
    pub postal_country: Field<String>,
    /// `Phone`.
    pub phone: Field<String>,
    /// `Fax`.
    pub fax: Field<String>,
    /// `Website` in responses (`WebSite` in requests).
    pub website: Field<String>,
    /// `ReferralSource`.
    pub referral_source: Field<String>,
    /// `ExportCode`.
    pub export_code: Field<String>,
    /// `IsProspect`.
    pub is_prospect: Field<bool>,
    /// `IsArchived`.
    pub is_archived: Field<bool>,
    /// `IsDeleted`.
    pub is_deleted: Field<bool>,
    /// `AccountManager`.
    pub account_manager: Field<Ref>,
    /// `JobManager`.
    pub job_manager: Field<Ref>,
    /// `BillingClient` (often an empty `<BillingClient />`).
    pub billing_client: Field<Ref>,
    /// `Type` (billing type).
    pub billing_type: Field<BillingType>,
    /// `TaxNumber` as returned: **masked** except the last 3 digits. Never send it back.
    pub tax_number_masked: Field<String>,
    /// `CompanyNumber`.
    pub company_number: Field<String>,
    /// `BusinessNumber`.
    pub business_number: Field<String>,
    /// `BranchNumber`.
    pub branch_number: Field<String>,
    /// `BusinessStructure`: a practice-configured name, not an enum.
    pub business_structure: Field<String>,
    /// `BalanceMonth` as 1–12 (read from a number or a month name).
    pub balance_month: Field<u8>,
    /// `PrepareGST`.
    pub prepare_gst: Field<bool>,
    /// `GSTRegistered`.
    pub gst_registered: Field<bool>,
    /// `GSTPeriod`.
    pub gst_period: Field<GstPeriod>,
    /// `GSTBasis`: Invoice / Payment / Hybrid.
    pub gst_basis: Field<String>,
    /// `ProvisionalTaxBasis` (NZ).
    pub provisional_tax_basis: Field<String>,
    /// `ProvisionalTaxRatio` (NZ).
    pub provisional_tax_ratio: Field<String>,
    /// `SignedTaxAuthority` (NZ).
    pub signed_tax_authority: Field<bool>,
    /// `TaxAgent` (NZ).
    pub tax_agent: Field<String>,
    /// `AgencyStatus` (NZ).
    pub agency_status: Field<String>,
    /// `ReturnType` (NZ).
    pub return_type: Field<String>,
    /// `PrepareActivityStatement` (AU).
    pub prepare_activity_statement: Field<bool>,
    /// `PrepareTaxReturn` (AU).
    pub prepare_tax_return: Field<bool>,
    /// `ActiveAtoClient` (AU).
    pub active_ato_client: Field<bool>,
    /// `Contacts`, `None` when absent.
    pub contacts: Option<Vec<Contact>>,
    /// `Notes`, `None` when absent.
    pub notes: Option<Vec<Note>>,
    /// `Groups`, `None` when absent.
    pub groups: Option<Vec<Ref>>,
    /// `Relationships`, `None` when absent.
    pub relationships: Option<Vec<Relationship>>,
}

/// A client from `get/{uuid}` with the response's `WebUrl`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientDetail {
    /// The client.
    pub client: Client,
    /// `WebUrl`: the client's page in XPM, when sent.
    pub web_url: Option<String>,
}

/// A client group from `clientgroup.api/list` (no members).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientGroupSummary {
    /// `UUID`.
    pub uuid: Uuid,
    /// `Name`.
    pub name: String,
    /// `Taxable` (only when the Practice Management module is on).
    pub taxable: Field<bool>,
}

/// A client group with members, from `clientgroup.api/get`, `add` and `members`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientGroup {
    /// `UUID`.
    pub uuid: Uuid,
    /// `Name`.
    pub name: String,
    /// `Taxable`.
    pub taxable: Field<bool>,
    /// `Clients/Client` (empty when the element is absent or empty).
    pub members: Vec<Ref>,
    /// `WebUrl`, when sent.
    pub web_url: Option<String>,
}

/// A new client group. XPM needs at least one member client.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientGroupInput {
    /// `Name`.
    pub name: String,
    /// `Taxable`; `Missing` leaves it out.
    pub taxable: Field<bool>,
    /// `ClientUUID`: the first member.
    pub client: Uuid,
}

/// Filters for `client.api/list`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListClientsOptions {
    /// `detailed=true`: full detail including contacts, groups and relationships.
    pub detailed: bool,
    /// `modifiedsince=yyyy-MM-ddTHH:mm:ss` (UTC).
    pub modified_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// A contact sent with a new client (`add` only).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactInput {
    /// `Name` (required).
    pub name: String,
    /// `Salutation`.
    pub salutation: Field<String>,
    /// `Addressee`.
    pub addressee: Field<String>,
    /// `Mobile`.
    pub mobile: Field<String>,
    /// `Email`.
    pub email: Field<String>,
    /// `Phone`.
    pub phone: Field<String>,
    /// `Position`.
    pub position: Field<String>,
    /// `IsPrimary` (if several are primary, XPM keeps the last).
    pub is_primary: Field<bool>,
}

/// The body of `client.api/add` and `update`. `Field::Missing` leaves an element out;
/// `Field::Empty` sends `<X />`.
///
/// Whether `update` clears elements left out is not documented, so the safe pattern is to
/// GET, merge with [`ClientInput::from_client`], and send the full body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClientInput {
    /// `Name` (required on add).
    pub name: String,
    /// `Title`.
    pub title: Field<String>,
    /// `Gender`.
    pub gender: Field<String>,
    /// `FirstName`.
    pub first_name: Field<String>,
    /// `LastName`.
    pub last_name: Field<String>,
    /// `OtherName`.
    pub other_name: Field<String>,
    /// `Email`.
    pub email: Field<String>,
    /// `DateOfBirth`, sent as `yyyy-MM-dd`.
    pub date_of_birth: Field<NaiveDate>,
    /// `Address`.
    pub address: Field<String>,
    /// `City`.
    pub city: Field<String>,
    /// `Region`.
    pub region: Field<String>,
    /// `PostCode`.
    pub post_code: Field<String>,
    /// `Country`.
    pub country: Field<String>,
    /// `PostalAddress`.
    pub postal_address: Field<String>,
    /// `PostalCity`.
    pub postal_city: Field<String>,
    /// `PostalRegion`.
    pub postal_region: Field<String>,
    /// `PostalPostCode`.
    pub postal_post_code: Field<String>,
    /// `PostalCountry`.
    pub postal_country: Field<String>,
    /// `Phone`.
    pub phone: Field<String>,
    /// `Fax`.
    pub fax: Field<String>,
    /// Sent as `WebSite`.
    pub website: Field<String>,
    /// `ReferralSource`.
    pub referral_source: Field<String>,
    /// `ExportCode`.
    pub export_code: Field<String>,
    /// `IsProspect`.
    pub is_prospect: Field<bool>,
    /// `AccountManagerUUID`.
    pub account_manager: Field<Uuid>,
    /// `JobManagerUUID`.
    pub job_manager: Field<Uuid>,
    /// `BillingClientUUID`.
    pub billing_client: Field<Uuid>,
    /// `TaxNumber`, only when the user typed a new one. A masked value (containing `*`) is
    /// refused with [`crate::Error::InvalidInput`].
    pub tax_number: Field<String>,
    /// `CompanyNumber`.
    pub company_number: Field<String>,
    /// `BusinessNumber`.
    pub business_number: Field<String>,
    /// `BranchNumber`.
    pub branch_number: Field<String>,
    /// `BusinessStructure`.
    pub business_structure: Field<String>,
    /// `BalanceMonth` 1–12, sent as the number.
    pub balance_month: Field<u8>,
    /// `PrepareGST`.
    pub prepare_gst: Field<bool>,
    /// `GSTRegistered`.
    pub gst_registered: Field<bool>,
    /// `GSTPeriod`, sent as `1`/`2`/`6`.
    pub gst_period: Field<GstPeriod>,
    /// `GSTBasis`.
    pub gst_basis: Field<String>,
    /// `ProvisionalTaxBasis`.
    pub provisional_tax_basis: Field<String>,
    /// `ProvisionalTaxRatio`.
    pub provisional_tax_ratio: Field<String>,
    /// `SignedTaxAuthority`.
    pub signed_tax_authority: Field<bool>,
    /// `TaxAgent`.
    pub tax_agent: Field<String>,
    /// `AgencyStatus`.
    pub agency_status: Field<String>,
    /// `ReturnType`.
    pub return_type: Field<String>,
    /// `PrepareActivityStatement`.
    pub prepare_activity_statement: Field<bool>,
    /// `PrepareTaxReturn`.
    pub prepare_tax_return: Field<bool>,
    /// `ActiveAtoClient`.
    pub active_ato_client: Field<bool>,
    /// `Contacts` (add only; ignored by update).
    pub contacts: Vec<ContactInput>,
}

impl ClientInput {
    /// A full-body input built from a client read back from XPM, for GET-merge-PUT updates.
    /// The masked `TaxNumber` is deliberately **not** copied (left `Missing`), nor are contacts,
    /// groups or relationships, which have their own calls.
    pub fn from_client(c: &Client) -> ClientInput {
        ClientInput {
            name: c.name.clone(),
            title: c.title.clone(),
            gender: c.gender.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            other_name: c.other_name.clone(),
            email: c.email.clone(),
            date_of_birth: c.date_of_birth.clone(),
            address: c.address.clone(),
            city: c.city.clone(),
            region: c.region.clone(),
            post_code: c.post_code.clone(),
            country: c.country.clone(),
            postal_address: c.postal_address.clone(),
            postal_city: c.postal_city.clone(),
            postal_region: c.postal_region.clone(),
            postal_post_code: c.postal_post_code.clone(),
            postal_country: c.postal_country.clone(),
            phone: c.phone.clone(),
            fax: c.fax.clone(),
            website: c.website.clone(),
            referral_source: c.referral_source.clone(),
            export_code: c.export_code.clone(),
            is_prospect: c.is_prospect.clone(),
            account_manager: c.account_manager.clone().map(|r| r.uuid),
            job_manager: c.job_manager.clone().map(|r| r.uuid),
            billing_client: c.billing_client.clone().map(|r| r.uuid),
            tax_number: Field::Missing,
            company_number: c.company_number.clone(),
            business_number: c.business_number.clone(),
            branch_number: c.branch_number.clone(),
            business_structure: c.business_structure.clone(),
            balance_month: c.balance_month.clone(),
            prepare_gst: c.prepare_gst.clone(),
            gst_registered: c.gst_registered.clone(),
            gst_period: match &c.gst_period {
                // An unknown period cannot be sent in the request's 1/2/6 form: leave it out.
                Field::Value(GstPeriod::Other(_)) => Field::Missing,
                other => other.clone(),
            },
            gst_basis: c.gst_basis.clone(),
            provisional_tax_basis: c.provisional_tax_basis.clone(),
            provisional_tax_ratio: c.provisional_tax_ratio.clone(),
            signed_tax_authority: c.signed_tax_authority.clone(),
            tax_agent: c.tax_agent.clone(),
            agency_status: c.agency_status.clone(),
            return_type: c.return_type.clone(),
            prepare_activity_statement: c.prepare_activity_statement.clone(),
            prepare_tax_return: c.prepare_tax_return.clone(),
            active_ato_client: c.active_ato_client.clone(),
            contacts: Vec::new(),
        }
    }
}

/// The body of `client.api/addrelationship`.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipInput {
    /// `ClientUUID`.
    pub client: Uuid,
    /// `RelatedClientUUID`.
    pub related_client: Uuid,
    /// `Type`.
    pub relationship_type: RelationshipType,
    /// `NumberOfShares` (Shareholder / Owner).
    pub number_of_shares: Field<i64>,
    /// `Percentage` (partnerships).
    pub percentage: Field<f64>,
    /// `StartDate`.
    pub start_date: Field<NaiveDate>,
    /// `EndDate`.
    pub end_date: Field<NaiveDate>,
}

/// The body of `client.api/updaterelationship`: only shares, percentage and dates can change
/// (a change of type or clients is delete + add).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RelationshipUpdate {
    /// `NumberOfShares`.
    pub number_of_shares: Field<i64>,
    /// `Percentage`.
    pub percentage: Field<f64>,
    /// `StartDate`.
    pub start_date: Field<NaiveDate>,
    /// `EndDate`.
    pub end_date: Field<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_labels_parse_to_base_type_and_side() {
        assert_eq!(
            RelationshipType::parse("Director"),
            (RelationshipType::Director, false)
        );
        assert_eq!(
            RelationshipType::parse("director of"),
            (RelationshipType::Director, true)
        );
        assert_eq!(
            RelationshipType::parse("Parent Of"),
            (RelationshipType::ParentOf, false),
            "Parent Of is its own type, not an inverse"
        );
        assert_eq!(
            RelationshipType::parse("Appointor Of"),
            (RelationshipType::Appointer, true)
        );
        assert_eq!(
            RelationshipType::parse("Unit Holder Of"),
            (RelationshipType::Other("Unit Holder".into()), true),
            "unknown labels are kept, not dropped"
        );
    }

    #[test]
    fn from_client_never_copies_the_masked_tax_number() {
        let c = Client {
            name: "X".into(),
            tax_number_masked: Field::Value("******321".into()),
            ..Client::default()
        };
        assert_eq!(
            ClientInput::from_client(&c).tax_number,
            Field::Missing,
            "a masked TaxNumber must never be echoed back"
        );
    }
}
