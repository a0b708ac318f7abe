//! Private mapping between XPM's XML and the public model types.
//!
//! Owns every XPM element name and value quirk in one place (R3): `Website` in responses vs
//! `WebSite` in requests, `GSTPeriod` `2 Monthly` vs `2`, Yes/No in any case, dates with or
//! without a time part, one vs many children, missing vs empty, and never sending a masked
//! `TaxNumber`. Parse errors name the element path.

use chrono::NaiveDate;
use quick_xml::escape::escape;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::*;
use crate::xml::Element;

// ---------- reading ----------

fn text_field(el: &Element, name: &str) -> Field<String> {
    match el.child(name) {
        None => Field::Missing,
        Some(c) if c.is_blank() => Field::Empty,
        Some(c) => Field::Value(c.text.clone()),
    }
}

/// Reads a child through `parse`, naming `path/name` on failure.
fn typed_field<T>(
    el: &Element,
    name: &str,
    path: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Field<T>> {
    match el.child(name) {
        None => Ok(Field::Missing),
        Some(c) if c.is_blank() => Ok(Field::Empty),
        Some(c) => parse(c.text.trim()).map(Field::Value).ok_or_else(|| {
            Error::malformed(format!("{path}/{name}: unexpected value {:?}", c.text.trim()))
        }),
    }
}

pub(crate) fn parse_yes_no(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("yes") || s.eq_ignore_ascii_case("true") || s == "1" {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") || s.eq_ignore_ascii_case("false") || s == "0" {
        Some(false)
    } else {
        None
    }
}

/// `yyyy-MM-dd` or `yyyy-MM-ddTHH:mm:ss[...]`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let day = match s.find('T') {
        Some(i) => &s[..i],
        None => s,
    };
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

fn parse_i64(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    // Tolerate "500.00".
    let f: f64 = s.parse().ok()?;
    (f.fract() == 0.0 && f.is_finite() && f.abs() < 9.0e15).then_some(f as i64)
}

fn parse_f64(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn parse_month(s: &str) -> Option<u8> {
    if let Ok(n) = s.parse::<u8>() {
        return (1..=12).contains(&n).then_some(n);
    }
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = s.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| lower.starts_with(m))
        .map(|i| (i + 1) as u8)
}

fn parse_gst_period(s: &str) -> Option<GstPeriod> {
    let norm = s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    Some(match norm.as_str() {
        "monthly" | "1" | "1 monthly" => GstPeriod::Monthly,
        "2 monthly" | "2" | "two monthly" => GstPeriod::TwoMonthly,
        "6 monthly" | "6" | "six monthly" => GstPeriod::SixMonthly,
        _ => GstPeriod::Other(s.to_owned()),
    })
}

fn parse_uuid(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s.trim()).ok()
}

fn required_uuid(el: &Element, path: &str) -> Result<Uuid> {
    let c = el
        .child("UUID")
        .ok_or_else(|| Error::malformed(format!("{path}/UUID is missing")))?;
    parse_uuid(&c.text)
        .ok_or_else(|| Error::malformed(format!("{path}/UUID: not a UUID: {:?}", c.text.trim())))
}

fn optional_uuid(el: &Element, path: &str) -> Result<Option<Uuid>> {
    match typed_field(el, "UUID", path, parse_uuid)? {
        Field::Value(u) => Ok(Some(u)),
        Field::Missing | Field::Empty => Ok(None),
    }
}

fn name_of(el: &Element) -> String {
    el.child("Name").map(|n| n.text.clone()).unwrap_or_default()
}

fn ref_of(el: &Element, path: &str) -> Result<Ref> {
    Ok(Ref {
        uuid: required_uuid(el, path)?,
        name: name_of(el),
    })
}

/// A `{UUID, Name}` child; an empty element (`<BillingClient />`) or one without a UUID is Empty.
fn ref_field(el: &Element, name: &str, path: &str) -> Result<Field<Ref>> {
    match el.child(name) {
        None => Ok(Field::Missing),
        Some(c) if c.is_blank() => Ok(Field::Empty),
        Some(c) => match c.child("UUID") {
            Some(u) if !u.is_blank() => Ok(Field::Value(ref_of(c, &format!("{path}/{name}"))?)),
            _ => Ok(Field::Empty),
        },
    }
}

/// Items of a collection element such as `Groups/Group`: `None` when the container is absent.
/// One child and many children read the same way.
fn collection<T>(
    el: &Element,
    container: &str,
    item: &str,
    path: &str,
    f: impl Fn(&Element, &str) -> Result<T>,
) -> Result<Option<Vec<T>>> {
    let Some(c) = el.child(container) else {
        return Ok(None);
    };
    let item_path = format!("{path}/{container}/{item}");
    c.children_named(item)
        .map(|i| f(i, &item_path))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn contact_of(el: &Element, path: &str) -> Result<Contact> {
    Ok(Contact {
        uuid: optional_uuid(el, path)?,
        name: name_of(el),
        salutation: text_field(el, "Salutation"),
        addressee: text_field(el, "Addressee"),
        mobile: text_field(el, "Mobile"),
        email: text_field(el, "Email"),
        phone: text_field(el, "Phone"),
        position: text_field(el, "Position"),
        is_primary: typed_field(el, "IsPrimary", path, parse_yes_no)?,
        is_deleted: typed_field(el, "IsDeleted", path, parse_yes_no)?,
    })
}

fn note_of(el: &Element, _path: &str) -> Result<Note> {
    Ok(Note {
        title: text_field(el, "Title"),
        text: text_field(el, "Text"),
        folder: text_field(el, "Folder"),
        date: text_field(el, "Date"),
        created_by: text_field(el, "CreatedBy"),
    })
}

fn relationship_of(el: &Element, path: &str) -> Result<Relationship> {
    let related = el
        .child("RelatedClient")
        .ok_or_else(|| Error::malformed(format!("{path}/RelatedClient is missing")))?;
    Ok(Relationship {
        uuid: required_uuid(el, path)?,
        label: el
            .child("Type")
            .map(|t| t.text.trim().to_owned())
            .unwrap_or_default(),
        related_client: ref_of(related, &format!("{path}/RelatedClient"))?,
        number_of_shares: typed_field(el, "NumberOfShares", path, parse_i64)?,
        percentage: typed_field(el, "Percentage", path, parse_f64)?,
        start_date: typed_field(el, "StartDate", path, parse_date)?,
        end_date: typed_field(el, "EndDate", path, parse_date)?,
    })
}

fn billing_type_of(el: &Element, path: &str) -> Result<Field<BillingType>> {
    match el.child("Type") {
        None => Ok(Field::Missing),
        Some(t) if t.is_blank() => Ok(Field::Empty),
        Some(t) => {
            let p = format!("{path}/Type");
            Ok(Field::Value(BillingType {
                name: text_field(t, "Name"),
                cost_markup: typed_field(t, "CostMarkup", &p, parse_f64)?,
                payment_term: text_field(t, "PaymentTerm"),
                payment_day: typed_field(t, "PaymentDay", &p, parse_i64)?,
            }))
        }
    }
}

/// Maps one `<Client>` element. `path` is where it sits, e.g. `Response/Clients/Client`.
pub(crate) fn client_of(el: &Element, path: &str) -> Result<Client> {
    let website = match text_field(el, "Website") {
        Field::Missing => text_field(el, "WebSite"),
        found => found,
    };
    Ok(Client {
        uuid: optional_uuid(el, path)?,
        name: name_of(el),
        title: text_field(el, "Title"),
        gender: text_field(el, "Gender"),
        first_name: text_field(el, "FirstName"),
        last_name: text_field(el, "LastName"),
        other_name: text_field(el, "OtherName"),
        email: text_field(el, "Email"),
        date_of_birth: typed_field(el, "DateOfBirth", path, parse_date)?,
        address: text_field(el, "Address"),
        city: text_field(el, "City"),
        region: text_field(el, "Region"),
        post_code: text_field(el, "PostCode"),
        country: text_field(el, "Country"),
        postal_address: text_field(el, "PostalAddress"),
        postal_city: text_field(el, "PostalCity"),
        postal_region: text_field(el, "PostalRegion"),
        postal_post_code: text_field(el, "PostalPostCode"),
        postal_country: text_field(el, "PostalCountry"),
        phone: text_field(el, "Phone"),
        fax: text_field(el, "Fax"),
        website,
        referral_source: text_field(el, "ReferralSource"),
        export_code: text_field(el, "ExportCode"),
        is_prospect: typed_field(el, "IsProspect", path, parse_yes_no)?,
        is_archived: typed_field(el, "IsArchived", path, parse_yes_no)?,
        is_deleted: typed_field(el, "IsDeleted", path, parse_yes_no)?,
        account_manager: ref_field(el, "AccountManager", path)?,
        job_manager: ref_field(el, "JobManager", path)?,
        billing_client: ref_field(el, "BillingClient", path)?,
        billing_type: billing_type_of(el, path)?,
        tax_number_masked: text_field(el, "TaxNumber"),
        company_number: text_field(el, "CompanyNumber"),
        business_number: text_field(el, "BusinessNumber"),
        branch_number: text_field(el, "BranchNumber"),
        business_structure: text_field(el, "BusinessStructure"),
        balance_month: typed_field(el, "BalanceMonth", path, parse_month)?,
        prepare_gst: typed_field(el, "PrepareGST", path, parse_yes_no)?,
        gst_registered: typed_field(el, "GSTRegistered", path, parse_yes_no)?,
        gst_period: typed_field(el, "GSTPeriod", path, parse_gst_period)?,
        gst_basis: text_field(el, "GSTBasis"),
        provisional_tax_basis: text_field(el, "ProvisionalTaxBasis"),
        provisional_tax_ratio: text_field(el, "ProvisionalTaxRatio"),
        signed_tax_authority: typed_field(el, "SignedTaxAuthority", path, parse_yes_no)?,
        tax_agent: text_field(el, "TaxAgent"),
        agency_status: text_field(el, "AgencyStatus"),
        return_type: text_field(el, "ReturnType"),
        prepare_activity_statement: typed_field(el, "PrepareActivityStatement", path, parse_yes_no)?,
        prepare_tax_return: typed_field(el, "PrepareTaxReturn", path, parse_yes_no)?,
        active_ato_client: typed_field(el, "ActiveAtoClient", path, parse_yes_no)?,
        contacts: collection(el, "Contacts", "Contact", path, contact_of)?,
        notes: collection(el, "Notes", "Note", path, note_of)?,
        groups: collection(el, "Groups", "Group", path, ref_of)?,
        relationships: collection(el, "Relationships", "Relationship", path, relationship_of)?,
    })
}

fn web_url(root: &Element) -> Option<String> {
    root.child("WebUrl")
        .map(|w| w.text.trim().to_owned())
        .filter(|w| !w.is_empty())
}

/// `Response/Client` with `WebUrl` (get, add, update, archive).
pub(crate) fn client_detail_of(root: &Element) -> Result<ClientDetail> {
    let el = root
        .child("Client")
        .ok_or_else(|| Error::malformed("Response/Client is missing"))?;
    Ok(ClientDetail {
        client: client_of(el, "Response/Client")?,
        web_url: web_url(root),
    })
}

/// `Response/Clients/Client*` (search, and the non-streamed list path).
pub(crate) fn clients_of(root: &Element) -> Result<Vec<Client>> {
    Ok(collection(root, "Clients", "Client", "Response", client_of)?.unwrap_or_default())
}

/// `Response/Groups/Group*` from `clientgroup.api/list`.
pub(crate) fn group_summaries_of(root: &Element) -> Result<Vec<ClientGroupSummary>> {
    Ok(collection(root, "Groups", "Group", "Response", |g, path| {
        Ok(ClientGroupSummary {
            uuid: required_uuid(g, path)?,
            name: name_of(g),
            taxable: typed_field(g, "Taxable", path, parse_yes_no)?,
        })
    })?
    .unwrap_or_default())
}

/// `Response/Group` with members (get, add, members).
pub(crate) fn group_of(root: &Element) -> Result<ClientGroup> {
    let path = "Response/Group";
    let g = root
        .child("Group")
        .ok_or_else(|| Error::malformed("Response/Group is missing"))?;
    Ok(ClientGroup {
        uuid: required_uuid(g, path)?,
        name: name_of(g),
        taxable: typed_field(g, "Taxable", path, parse_yes_no)?,
        members: collection(g, "Clients", "Client", path, ref_of)?.unwrap_or_default(),
        web_url: web_url(g).or_else(|| web_url(root)),
    })
}

// ---------- writing ----------

/// A tiny XML writer: elements in order, text always escaped.
pub(crate) struct XmlOut(String);

impl XmlOut {
    pub fn new(root: &str) -> Self {
        XmlOut(format!("<{root}>"))
    }

    pub fn text(&mut self, name: &str, value: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
        self.0.push_str(&escape(value));
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    pub fn empty(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push_str(" />");
    }

    pub fn field<T>(&mut self, name: &str, f: &Field<T>, fmt: impl Fn(&T) -> String) {
        match f {
            Field::Missing => {}
            Field::Empty => self.empty(name),
            Field::Value(v) => self.text(name, &fmt(v)),
        }
    }

    pub fn open(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    pub fn empty_with_attr(&mut self, name: &str, attr: &str, value: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push(' ');
        self.0.push_str(attr);
        self.0.push_str("=\"");
        self.0.push_str(&escape(value));
        self.0.push_str("\" />");
    }

    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.0
    }
}

fn s(v: &String) -> String {
    v.clone()
}
fn yes_no(v: &bool) -> String {
    if *v { "Yes" } else { "No" }.to_owned()
}
fn date(v: &NaiveDate) -> String {
    v.format("%Y-%m-%d").to_string()
}
fn uuid_s(v: &Uuid) -> String {
    v.to_string()
}
fn num<T: ToString>(v: &T) -> String {
    v.to_string()
}

fn gst_request(v: &GstPeriod) -> String {
    match v {
        GstPeriod::Monthly => "1".into(),
        GstPeriod::TwoMonthly => "2".into(),
        GstPeriod::SixMonthly => "6".into(),
        GstPeriod::Other(o) => o.clone(),
    }
}

/// Checks a client body before it is sent.
fn validate_client(c: &ClientInput) -> Result<()> {
    if c.name.trim().is_empty() {
        return Err(Error::invalid("client Name is required"));
    }
    if let Field::Value(t) = &c.tax_number {
        if t.contains('*') {
            return Err(Error::invalid(
                "TaxNumber looks masked (contains '*'); never send back the value XPM returned",
            ));
        }
    }
    if let Field::Value(GstPeriod::Other(o)) = &c.gst_period {
        return Err(Error::invalid(format!("GSTPeriod {o:?} has no request form (1, 2 or 6)")));
    }
    if let Field::Value(m) = &c.balance_month {
        if !(1..=12).contains(m) {
            return Err(Error::invalid(format!("BalanceMonth {m} is not 1-12")));
        }
    }
    Ok(())
}

/// `<Client>` for add (`uuid` None, contacts sent) or update (`uuid` Some, no contacts).
pub(crate) fn client_request(uuid: Option<&Uuid>, c: &ClientInput) -> Result<String> {
    validate_client(c)?;
    let mut x = XmlOut::new("Client");
    if let Some(u) = uuid {
        x.text("UUID", &u.to_string());
    }
    x.text("Name", &c.name);
    x.field("Title", &c.title, s);
    x.field("Gender", &c.gender, s);
    x.field("FirstName", &c.first_name, s);
    x.field("LastName", &c.last_name, s);
    x.field("OtherName", &c.other_name, s);
    x.field("Email", &c.email, s);
    x.field("DateOfBirth", &c.date_of_birth, date);
    x.field("Address", &c.address, s);
    x.field("City", &c.city, s);
    x.field("Region", &c.region, s);
    x.field("PostCode", &c.post_code, s);
    x.field("Country", &c.country, s);
    x.field("PostalAddress", &c.postal_address, s);
    x.field("PostalCity", &c.postal_city, s);
    x.field("PostalRegion", &c.postal_region, s);
    x.field("PostalPostCode", &c.postal_post_code, s);
    x.field("PostalCountry", &c.postal_country, s);
    x.field("Phone", &c.phone, s);
    x.field("Fax", &c.fax, s);
    x.field("WebSite", &c.website, s);
    x.field("ReferralSource", &c.referral_source, s);
    x.field("ExportCode", &c.export_code, s);
    x.field("IsProspect", &c.is_prospect, yes_no);
    x.field("AccountManagerUUID", &c.account_manager, uuid_s);
    x.field("BillingClientUUID", &c.billing_client, uuid_s);
    x.field("JobManagerUUID", &c.job_manager, uuid_s);
    x.field("TaxNumber", &c.tax_number, s);
    x.field("CompanyNumber", &c.company_number, s);
    x.field("BusinessNumber", &c.business_number, s);
    x.field("BranchNumber", &c.branch_number, s);
    x.field("BusinessStructure", &c.business_structure, s);
    x.field("BalanceMonth", &c.balance_month, num);
    x.field("PrepareGST", &c.prepare_gst, yes_no);
    x.field("GSTRegistered", &c.gst_registered, yes_no);
    x.field("GSTPeriod", &c.gst_period, gst_request);
    x.field("GSTBasis", &c.gst_basis, s);
    x.field("ProvisionalTaxBasis", &c.provisional_tax_basis, s);
    x.field("ProvisionalTaxRatio", &c.provisional_tax_ratio, s);
    x.field("SignedTaxAuthority", &c.signed_tax_authority, yes_no);
    x.field("TaxAgent", &c.tax_agent, s);
    x.field("AgencyStatus", &c.agency_status, s);
    x.field("ReturnType", &c.return_type, s);
    x.field("PrepareActivityStatement", &c.prepare_activity_statement, yes_no);
    x.field("PrepareTaxReturn", &c.prepare_tax_return, yes_no);
    x.field("ActiveAtoClient", &c.active_ato_client, yes_no);
    if uuid.is_none() && !c.contacts.is_empty() {
        x.open("Contacts");
        for ct in &c.contacts {
            if ct.name.trim().is_empty() {
                return Err(Error::invalid("contact Name is required"));
            }
            x.open("Contact");
            x.text("Name", &ct.name);
            x.field("Salutation", &ct.salutation, s);
            x.field("Addressee", &ct.addressee, s);
            x.field("Mobile", &ct.mobile, s);
            x.field("Email", &ct.email, s);
            x.field("Phone", &ct.phone, s);
            x.field("Position", &ct.position, s);
            x.field("IsPrimary", &ct.is_primary, yes_no);
            x.close("Contact");
        }
        x.close("Contacts");
    }
    Ok(x.finish("Client"))
}

/// `<Client><UUID/></Client>` for archive and delete.
pub(crate) fn client_uuid_request(uuid: &Uuid) -> String {
    let mut x = XmlOut::new("Client");
    x.text("UUID", &uuid.to_string());
    x.finish("Client")
}

pub(crate) fn relationship_add_request(r: &RelationshipInput) -> Result<String> {
    if r.relationship_type.as_str().trim().is_empty() {
        return Err(Error::invalid("relationship Type is required"));
    }
    let mut x = XmlOut::new("Relationship");
    x.text("ClientUUID", &r.client.to_string());
    x.text("RelatedClientUUID", &r.related_client.to_string());
    x.text("Type", r.relationship_type.as_str());
    x.field("NumberOfShares", &r.number_of_shares, num);
    x.field("Percentage", &r.percentage, num);
    x.field("StartDate", &r.start_date, date);
    x.field("EndDate", &r.end_date, date);
    Ok(x.finish("Relationship"))
}

pub(crate) fn relationship_update_request(uuid: &Uuid, r: &RelationshipUpdate) -> String {
    let mut x = XmlOut::new("Relationship");
    x.text("UUID", &uuid.to_string());
    x.field("NumberOfShares", &r.number_of_shares, num);
    x.field("Percentage", &r.percentage, num);
    x.field("StartDate", &r.start_date, date);
    x.field("EndDate", &r.end_date, date);
    x.finish("Relationship")
}

pub(crate) fn relationship_delete_request(uuid: &Uuid) -> String {
    let mut x = XmlOut::new("Relationship");
    x.text("UUID", &uuid.to_string());
    x.finish("Relationship")
}

pub(crate) fn group_add_request(g: &ClientGroupInput) -> Result<String> {
    if g.name.trim().is_empty() {
        return Err(Error::invalid("group Name is required"));
    }
    let mut x = XmlOut::new("Group");
    x.text("Name", &g.name);
    x.field("Taxable", &g.taxable, yes_no);
    x.text("ClientUUID", &g.client.to_string());
    Ok(x.finish("Group"))
}

pub(crate) fn group_members_request(group: &Uuid, add: &[Uuid], remove: &[Uuid]) -> String {
    let mut x = XmlOut::new("Group");
    x.text("UUID", &group.to_string());
    for u in add {
        x.empty_with_attr("add", "uuid", &u.to_string());
    }
    for u in remove {
        x.empty_with_attr("remove", "uuid", &u.to_string());
    }
    x.finish("Group")
}

pub(crate) fn group_delete_request(group: &Uuid) -> String {
    let mut x = XmlOut::new("Group");
    x.text("UUID", &group.to_string());
    x.finish("Group")
}

/// `modifiedsince` format: `yyyy-MM-ddTHH:mm:ss`, UTC, no zone suffix.
pub(crate) fn modified_since(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}
