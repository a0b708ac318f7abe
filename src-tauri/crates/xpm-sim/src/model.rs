//! The practice data the simulator serves: clients, groups, staff and relationships, and how
//! they are written as XPM 3.1 XML (reference §2.1–§3) and changed by add/update requests.
//!
//! Quirks kept on purpose: `Website` in responses vs `WebSite` in requests, masked `TaxNumber`,
//! `GSTPeriod` response/request value sets, `Yes`/`No` booleans, optional elements that are
//! *empty* on some clients and *missing* on others, and every relationship shown on both
//! clients with the reverse "… Of" label.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::xml::{Node, XmlOut};

/// Simple text elements of a client, in the order XPM writes them (reference §2.1 example).
/// Elements before `AccountManager` come first, the rest after `JobManager`.
pub const HEAD_FIELDS: &[&str] = &[
    "Name",
    "Title",
    "Gender",
    "Email",
    "DateOfBirth",
    "Address",
    "City",
    "Region",
    "PostCode",
    "Country",
    "PostalAddress",
    "PostalCity",
    "PostalRegion",
    "PostalPostCode",
    "PostalCountry",
    "Phone",
    "Fax",
    "Website",
    "ReferralSource",
    "ExportCode",
    "IsProspect",
];

/// Simple text elements written after the staff/billing references.
pub const TAIL_FIELDS: &[&str] = &[
    "FirstName",
    "LastName",
    "OtherName",
    "TaxNumber",
    "CompanyNumber",
    "BusinessNumber",
    "BranchNumber",
    "BusinessStructure",
    "BalanceMonth",
    "PrepareGST",
    "GSTRegistered",
    "GSTPeriod",
    "GSTBasis",
    "ProvisionalTaxBasis",
    "ProvisionalTaxRatio",
    "SignedTaxAuthority",
    "TaxAgent",
    "AgencyStatus",
    "ReturnType",
    "PrepareActivityStatement",
    "PrepareTaxReturn",
    "ActiveAtoClient",
];

/// Fields that hold `Yes`/`No` (reference §3.1).
pub const BOOL_FIELDS: &[&str] = &[
    "IsProspect",
    "PrepareGST",
    "GSTRegistered",
    "SignedTaxAuthority",
    "PrepareActivityStatement",
    "PrepareTaxReturn",
    "ActiveAtoClient",
];

/// Relationship types accepted by `addrelationship` (reference §2.2).
pub const ADD_TYPES: &[&str] = &[
    "Director",
    "Shareholder",
    "Trustee",
    "Beneficiary",
    "Partner",
    "Settlor",
    "Associate",
    "Secretary",
    "Public Officer",
    "Husband",
    "Wife",
    "Spouse",
    "Parent Of",
    "Child Of",
    "Appointer",
    "Member",
    "Auditor",
    "Owner",
];

/// Types that describe a role held *in an entity* (the `ClientUUID` side must not be an
/// individual; reference §2.2 "Relationships need a Business Structure").
pub const ENTITY_TYPES: &[&str] = &[
    "Director",
    "Shareholder",
    "Trustee",
    "Beneficiary",
    "Partner",
    "Settlor",
    "Secretary",
    "Public Officer",
    "Appointer",
    "Member",
    "Auditor",
    "Owner",
];

/// The label shown on the *related* client's record for a relationship of type `t`
/// (reference §2.2 "Labels seen when reading"): `Parent Of` ↔ `Child Of`, `Husband` ↔ `Wife`,
/// `Spouse` ↔ `Spouse`, anything else `X` → `X Of`.
pub fn reverse_label(t: &str) -> String {
    match t {
        "Parent Of" => "Child Of".into(),
        "Child Of" => "Parent Of".into(),
        "Husband" => "Wife".into(),
        "Wife" => "Husband".into(),
        "Spouse" => "Spouse".into(),
        other => format!("{other} Of"),
    }
}

/// A staff member (`staff.api/list`, reference §2.4).
#[derive(Debug, Clone, Default)]
pub struct Staff {
    /// GUID.
    pub uuid: String,
    /// Display name.
    pub name: String,
    /// Email (may be empty).
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Mobile.
    pub mobile: String,
    /// Address.
    pub address: String,
    /// Payroll code.
    pub payroll_code: String,
}

/// A reference element such as `<AccountManager>`: absent, empty (`<X />`), or pointing at a UUID.
pub type Ref = Option<Option<String>>;

/// One client as stored. Absent vs empty is kept for every optional element.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// GUID (primary key in 3.1).
    pub uuid: String,
    /// Simple text elements present on this client; a key with `""` is an empty element,
    /// a missing key an absent element. `TaxNumber` here is the **unmasked** value;
    /// `DateOfBirth` is stored as `yyyy-MM-dd`; `Website` under its response name.
    pub fields: BTreeMap<String, String>,
    /// `<AccountManager>` (staff UUID).
    pub account_manager: Ref,
    /// `<JobManager>` (staff UUID).
    pub job_manager: Ref,
    /// `<BillingClient>` (client UUID).
    pub billing_client: Ref,
    /// Raw `<Type>` (billing type) element, if present.
    pub billing_type: Option<Node>,
    /// `<Contact>` nodes as stored (each has a `UUID` child).
    pub contacts: Vec<Node>,
    /// Raw `<Notes>` element, if present.
    pub notes: Option<Node>,
    /// Unknown elements from fixtures, written back verbatim.
    pub extra: Vec<Node>,
    /// `IsArchived`.
    pub archived: bool,
    /// `IsDeleted` (deleted clients are hidden from every read).
    pub deleted: bool,
    /// Last modification on the simulator's clock (drives `modifiedsince`).
    pub modified: DateTime<Utc>,
}

impl Client {
    /// The client's display name.
    pub fn name(&self) -> &str {
        self.fields.get("Name").map(String::as_str).unwrap_or("")
    }

    /// The BusinessStructure text, trimmed ("" when absent).
    pub fn structure(&self) -> &str {
        self.fields
            .get("BusinessStructure")
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// True for structures of the "Individual" kind (reference §3.2): `Individual`,
    /// `Sole Trader`, or any custom name starting with `Individual` (e.g. "Individual Trustee").
    pub fn is_individual(&self) -> bool {
        let s = self.structure().to_ascii_lowercase();
        s.starts_with("individual") || s == "sole trader"
    }
}

/// A client group (reference §2.3).
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// GUID.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// `Taxable` (`None` = element absent, as when the PM module is off).
    pub taxable: Option<bool>,
    /// Member client UUIDs in insertion order.
    pub members: Vec<String>,
}

/// One relationship, stored once and shown on both clients (reference §2.2).
#[derive(Debug, Clone, Default)]
pub struct Relationship {
    /// UUID shown on `client`'s record (plain label).
    pub uuid: String,
    /// UUID shown on `related`'s record (reverse label); equal to `uuid` when the
    /// `relationship_uuid_per_side` setting is off.
    pub reverse_uuid: String,
    /// `ClientUUID` of the add call: the record that shows the plain label.
    pub client: String,
    /// `RelatedClientUUID`: the record that shows the reverse label.
    pub related: String,
    /// Plain type label (e.g. `Director`).
    pub rtype: String,
    /// NumberOfShares (integer).
    pub shares: i64,
    /// Percentage (decimal text, e.g. `0` or `50.5`).
    pub percentage: String,
    /// StartDate.
    pub start: Option<NaiveDate>,
    /// EndDate.
    pub end: Option<NaiveDate>,
}

/// One practice (an XPM tenant) and all its data.
#[derive(Debug, Clone, Default)]
pub struct Practice {
    /// Tenant id (GUID) sent in `Xero-Tenant-Id`.
    pub tenant_id: String,
    /// Tenant name shown in `/connections`.
    pub name: String,
    /// Clients by UUID.
    pub clients: HashMap<String, Client>,
    /// Groups by UUID.
    pub groups: BTreeMap<String, Group>,
    /// Staff list.
    pub staff: Vec<Staff>,
    /// Relationships.
    pub relationships: Vec<Relationship>,
}

/// Relationships (indices) and groups per client UUID; see [`Practice::index`].
#[derive(Debug, Default)]
pub struct ClientIndex<'a> {
    rels: HashMap<&'a str, Vec<usize>>,
    groups: HashMap<&'a str, Vec<&'a Group>>,
}

/// Context for writing a client.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Full detail (get, list?detailed=true): contacts, notes, groups, relationships.
    pub detailed: bool,
    /// Written in a list (`DateOfBirth` as `yyyy-MM-ddT00:00:00`, reference §3 table).
    pub in_list: bool,
    /// Hide archived clients from group member lists and client Groups.
    pub archived_drop_from_groups: bool,
}

/// Masks a tax number to its last 3 characters (reference §2.1 "masked except for the last 3").
pub fn mask_tax(t: &str) -> String {
    let chars: Vec<char> = t.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() <= 3 {
        return "*".repeat(chars.len());
    }
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{}{}", "*".repeat(chars.len() - 3), tail)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

impl Practice {
    /// The client if it exists and is not deleted.
    pub fn live_client(&self, uuid: &str) -> Option<&Client> {
        self.clients.get(uuid).filter(|c| !c.deleted)
    }

    fn write_ref(&self, x: &mut XmlOut, name: &str, r: &Ref, staff: bool) {
        match r {
            None => {}
            Some(None) => {
                x.empty(name);
            }
            Some(Some(u)) => {
                let n = if staff {
                    self.staff
                        .iter()
                        .find(|s| &s.uuid == u)
                        .map(|s| s.name.clone())
                } else {
                    self.clients.get(u).map(|c| c.name().to_string())
                };
                x.open(name, &[])
                    .el("UUID", u)
                    .el("Name", &n.unwrap_or_default())
                    .close(name);
            }
        }
    }

    /// An index of relationships and groups by client, for writing many clients at once.
    pub fn index(&self) -> ClientIndex<'_> {
        let mut idx = ClientIndex::default();
        for (i, r) in self.relationships.iter().enumerate() {
            idx.rels.entry(r.client.as_str()).or_default().push(i);
            idx.rels.entry(r.related.as_str()).or_default().push(i);
        }
        for g in self.groups.values() {
            for m in &g.members {
                idx.groups.entry(m.as_str()).or_default().push(g);
            }
        }
        idx
    }

    /// Writes one `<Client>` element (reference §2.1 example and §3).
    pub fn write_client(&self, x: &mut XmlOut, c: &Client, v: View) {
        self.write_client_indexed(x, c, v, None)
    }

    /// [`Practice::write_client`] using a prebuilt [`ClientIndex`] (detailed lists).
    pub fn write_client_indexed(
        &self,
        x: &mut XmlOut,
        c: &Client,
        v: View,
        idx: Option<&ClientIndex<'_>>,
    ) {
        x.open("Client", &[]).el("UUID", &c.uuid);
        for f in HEAD_FIELDS {
            let Some(val) = c.fields.get(*f) else {
                continue;
            };
            if *f == "DateOfBirth" && !val.is_empty() && v.in_list {
                x.el(f, &format!("{val}T00:00:00"));
            } else {
                x.el(f, val);
            }
        }
        x.el("IsArchived", yes_no(c.archived));
        x.el("IsDeleted", yes_no(c.deleted));
        self.write_ref(x, "AccountManager", &c.account_manager, true);
        if let Some(t) = &c.billing_type {
            x.node(t);
        }
        if v.detailed {
            x.open("Contacts", &[]);
            for ct in &c.contacts {
                x.node(ct);
            }
            x.close("Contacts");
            match &c.notes {
                Some(n) => {
                    x.node(n);
                }
                None => {
                    x.empty("Notes");
                }
            }
        }
        self.write_ref(x, "BillingClient", &c.billing_client, false);
        self.write_ref(x, "JobManager", &c.job_manager, true);
        for f in TAIL_FIELDS {
            let Some(val) = c.fields.get(*f) else {
                continue;
            };
            if *f == "TaxNumber" {
                x.el(f, &mask_tax(val));
            } else {
                x.el(f, val);
            }
        }
        for e in &c.extra {
            x.node(e);
        }
        if v.detailed {
            x.open("Groups", &[]);
            if !(v.archived_drop_from_groups && c.archived) {
                let groups: Vec<&Group> = match idx {
                    Some(i) => i.groups.get(c.uuid.as_str()).cloned().unwrap_or_default(),
                    None => self
                        .groups
                        .values()
                        .filter(|g| g.members.contains(&c.uuid))
                        .collect(),
                };
                for g in groups {
                    x.open("Group", &[])
                        .el("UUID", &g.uuid)
                        .el("Name", &g.name)
                        .close("Group");
                }
            }
            x.close("Groups");
            x.open("Relationships", &[]);
            let rels: Vec<&Relationship> = match idx {
                Some(i) => i
                    .rels
                    .get(c.uuid.as_str())
                    .map(|v| v.iter().map(|&k| &self.relationships[k]).collect())
                    .unwrap_or_default(),
                None => self.relationships.iter().collect(),
            };
            for r in rels {
                let (uuid, label, other) = if r.client == c.uuid {
                    (&r.uuid, r.rtype.clone(), &r.related)
                } else if r.related == c.uuid {
                    (&r.reverse_uuid, reverse_label(&r.rtype), &r.client)
                } else {
                    continue;
                };
                let Some(o) = self.live_client(other) else {
                    continue;
                };
                x.open("Relationship", &[])
                    .el("UUID", uuid)
                    .el("Type", &label)
                    .open("RelatedClient", &[])
                    .el("UUID", other)
                    .el("Name", o.name())
                    .close("RelatedClient")
                    .el("NumberOfShares", &r.shares.to_string())
                    .el("Percentage", &r.percentage)
                    .el(
                        "StartDate",
                        &r.start
                            .map(|d| d.format("%Y-%m-%d").to_string())
                            .unwrap_or_default(),
                    )
                    .el(
                        "EndDate",
                        &r.end
                            .map(|d| d.format("%Y-%m-%d").to_string())
                            .unwrap_or_default(),
                    )
                    .close("Relationship");
            }
            x.close("Relationships");
        }
        x.close("Client");
    }

    /// Writes one `<Group>` (with `<Clients>` when `members` is true; reference §2.3).
    pub fn write_group(&self, x: &mut XmlOut, g: &Group, members: bool, drop_archived: bool) {
        x.open("Group", &[]).el("UUID", &g.uuid).el("Name", &g.name);
        if let Some(t) = g.taxable {
            x.el("Taxable", yes_no(t));
        }
        if members {
            x.open("Clients", &[]);
            for m in &g.members {
                let Some(c) = self.live_client(m) else {
                    continue;
                };
                if drop_archived && c.archived {
                    continue;
                }
                x.open("Client", &[])
                    .el("UUID", m)
                    .el("Name", c.name())
                    .close("Client");
            }
            x.close("Clients");
        }
        x.close("Group");
    }

    /// Finds a relationship by either side's UUID.
    pub fn relationship_index(&self, uuid: &str) -> Option<usize> {
        self.relationships
            .iter()
            .position(|r| r.uuid == uuid || r.reverse_uuid == uuid)
    }
}

/// Parses a `Yes`/`No` value case-insensitively (reference §3.1). `None` for anything else.
pub fn parse_yes_no(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Maps a request `GSTPeriod` (`1`, `2`, `6`) to the response value set
/// (`Monthly`, `2 Monthly`, `6 Monthly`) (reference §3 table). `None` if not in the request set.
pub fn gst_period_from_request(s: &str) -> Option<&'static str> {
    match s.trim() {
        "1" => Some("Monthly"),
        "2" => Some("2 Monthly"),
        "6" => Some("6 Monthly"),
        _ => None,
    }
}

/// Maps a request `BalanceMonth` (`Jan`, `1`, `Feb`, `2`, …) to the response integer 1–12.
pub fn balance_month_from_request(s: &str) -> Option<u32> {
    const M: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let t = s.trim().to_ascii_lowercase();
    if let Ok(n) = t.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    M.iter()
        .position(|m| t.starts_with(m))
        .map(|i| i as u32 + 1)
}

/// Parses a date given as `yyyy-MM-dd` (or `yyyy-MM-ddTHH:mm:ss`, time ignored).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let d = s.get(..10).unwrap_or(s);
    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_last_three() {
        assert_eq!(
            mask_tax("123456321"),
            "******321",
            "reference §2.1 example ******321"
        );
        assert_eq!(mask_tax("12"), "**");
    }

    #[test]
    fn reverse_labels() {
        assert_eq!(reverse_label("Director"), "Director Of");
        assert_eq!(reverse_label("Shareholder"), "Shareholder Of");
        assert_eq!(reverse_label("Parent Of"), "Child Of");
        assert_eq!(reverse_label("Husband"), "Wife");
    }

    #[test]
    fn request_value_sets() {
        assert_eq!(gst_period_from_request("2"), Some("2 Monthly"));
        assert_eq!(
            gst_period_from_request("Monthly"),
            None,
            "request set is 1, 2, 6"
        );
        assert_eq!(balance_month_from_request("Jun"), Some(6));
        assert_eq!(balance_month_from_request("6"), Some(6));
        assert_eq!(balance_month_from_request("13"), None);
        assert_eq!(parse_yes_no("yes"), Some(true));
    }
}
