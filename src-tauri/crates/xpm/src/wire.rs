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
            Error::malformed(format!(
                "{path}/{name}: unexpected value {:?}",
                c.text.trim()
            ))
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
    let norm = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
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
        prepare_activity_statement: typed_field(
            el,
            "PrepareActivityStatement",
            path,
            parse_yes_no,
        )?,
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
        return Err(Error::invalid(format!(
            "GSTPeriod {o:?} has no request form (1, 2 or 6)"
        )));
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
    x.field("Title", &c.title, String::clone);
    x.field("Gender", &c.gender, String::clone);
    x.field("FirstName", &c.first_name, String::clone);
    x.field("LastName", &c.last_name, String::clone);
    x.field("OtherName", &c.other_name, String::clone);
    x.field("Email", &c.email, String::clone);
    x.field("DateOfBirth", &c.date_of_birth, date);
    x.field("Address", &c.address, String::clone);
    x.field("City", &c.city, String::clone);
    x.field("Region", &c.region, String::clone);
    x.field("PostCode", &c.post_code, String::clone);
    x.field("Country", &c.country, String::clone);
    x.field("PostalAddress", &c.postal_address, String::clone);
    x.field("PostalCity", &c.postal_city, String::clone);
    x.field("PostalRegion", &c.postal_region, String::clone);
    x.field("PostalPostCode", &c.postal_post_code, String::clone);
    x.field("PostalCountry", &c.postal_country, String::clone);
    x.field("Phone", &c.phone, String::clone);
    x.field("Fax", &c.fax, String::clone);
    x.field("WebSite", &c.website, String::clone);
    x.field("ReferralSource", &c.referral_source, String::clone);
    x.field("ExportCode", &c.export_code, String::clone);
    x.field("IsProspect", &c.is_prospect, yes_no);
    x.field("AccountManagerUUID", &c.account_manager, uuid_s);
    x.field("BillingClientUUID", &c.billing_client, uuid_s);
    x.field("JobManagerUUID", &c.job_manager, uuid_s);
    x.field("TaxNumber", &c.tax_number, String::clone);
    x.field("CompanyNumber", &c.company_number, String::clone);
    x.field("BusinessNumber", &c.business_number, String::clone);
    x.field("BranchNumber", &c.branch_number, String::clone);
    x.field("BusinessStructure", &c.business_structure, String::clone);
    x.field("BalanceMonth", &c.balance_month, num);
    x.field("PrepareGST", &c.prepare_gst, yes_no);
    x.field("GSTRegistered", &c.gst_registered, yes_no);
    x.field("GSTPeriod", &c.gst_period, gst_request);
    x.field("GSTBasis", &c.gst_basis, String::clone);
    x.field(
        "ProvisionalTaxBasis",
        &c.provisional_tax_basis,
        String::clone,
    );
    x.field(
        "ProvisionalTaxRatio",
        &c.provisional_tax_ratio,
        String::clone,
    );
    x.field("SignedTaxAuthority", &c.signed_tax_authority, yes_no);
    x.field("TaxAgent", &c.tax_agent, String::clone);
    x.field("AgencyStatus", &c.agency_status, String::clone);
    x.field("ReturnType", &c.return_type, String::clone);
    x.field(
        "PrepareActivityStatement",
        &c.prepare_activity_statement,
        yes_no,
    );
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
            x.field("Salutation", &ct.salutation, String::clone);
            x.field("Addressee", &ct.addressee, String::clone);
            x.field("Mobile", &ct.mobile, String::clone);
            x.field("Email", &ct.email, String::clone);
            x.field("Phone", &ct.phone, String::clone);
            x.field("Position", &ct.position, String::clone);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse_envelope, read_list_sync};

    fn u(s: &str) -> Uuid {
        Uuid::parse_str(s).expect("test uuid")
    }

    fn detailed() -> Vec<Client> {
        let mut out = Vec::new();
        read_list_sync(
            include_str!("../fixtures/client_list_detailed.xml").as_bytes(),
            "Clients",
            "Client",
            |el| {
                out.push(client_of(&el, "Response/Clients/Client")?);
                Ok(())
            },
        )
        .expect("detailed list parses");
        out
    }

    #[test]
    fn get_fixture_maps_every_documented_field() {
        let root = parse_envelope(include_str!("../fixtures/client_get.xml").as_bytes())
            .expect("envelope");
        let d = client_detail_of(&root).expect("client");
        let c = &d.client;
        assert_eq!(
            d.web_url.as_deref(),
            Some("https://practicemanager.xero.com/Client/000/Detail")
        );
        assert_eq!(c.uuid, Some(u("00000000-aaaa-4bbb-8ccc-000000000001")));
        assert_eq!(c.name, "Fernhill Orchards Pty Ltd");
        assert_eq!(
            c.date_of_birth,
            Field::Empty,
            "<DateOfBirth /> is empty, not missing"
        );
        assert_eq!(c.website, Field::Empty);
        assert_eq!(c.title, Field::Missing, "Title is absent from this client");
        assert_eq!(c.is_archived, Field::Value(false));
        assert_eq!(
            c.account_manager.value().map(|r| r.name.as_str()),
            Some("Ivy Marsh")
        );
        let bt = c.billing_type.value().expect("billing type");
        assert_eq!(bt.payment_day, Field::Value(14));
        assert_eq!(bt.cost_markup, Field::Value(0.0));
        assert_eq!(c.tax_number_masked, Field::Value("******321".into()));
        assert_eq!(c.balance_month, Field::Value(6));
        assert_eq!(
            c.gst_period,
            Field::Value(GstPeriod::TwoMonthly),
            "response form '2 Monthly'"
        );
        let contacts = c.contacts.as_ref().expect("contacts present");
        assert_eq!(contacts.len(), 1, "one child reads as a one-item list");
        assert_eq!(contacts[0].is_primary, Field::Value(true));
        assert_eq!(contacts[0].mobile, Field::Empty);
        assert_eq!(
            c.notes,
            Some(vec![]),
            "<Notes /> is an empty list, not None"
        );
        assert_eq!(c.groups.as_ref().map(Vec::len), Some(1));
        let r = &c.relationships.as_ref().expect("relationships")[0];
        assert_eq!(r.label, "Director");
        assert_eq!(r.number_of_shares, Field::Value(0));
        assert_eq!(
            r.start_date,
            Field::Value(NaiveDate::from_ymd_opt(2019, 7, 1).expect("date"))
        );
        assert_eq!(r.end_date, Field::Empty);
    }

    #[test]
    fn detailed_list_quirks_are_read_tolerantly() {
        let cs = detailed();
        assert_eq!(cs.len(), 2, "both clients, unknown elements skipped");
        let a = &cs[0];
        assert_eq!(
            a.date_of_birth,
            Field::Value(NaiveDate::from_ymd_opt(1970, 11, 26).expect("d")),
            "DOB with a time part"
        );
        assert_eq!(
            cs[1].date_of_birth,
            Field::Value(NaiveDate::from_ymd_opt(1970, 11, 26).expect("d")),
            "DOB as a plain date"
        );
        assert_eq!(a.is_prospect, Field::Value(true), "YES in upper case");
        assert_eq!(a.is_archived, Field::Value(false), "no in lower case");
        assert_eq!(a.billing_client, Field::Empty, "<BillingClient /> is empty");
        assert_eq!(
            a.website.value().map(String::as_str),
            Some("https://rowan.example")
        );
        assert_eq!(cs[1].website, Field::Empty, "<Website></Website> is empty");
        assert!(
            a.postal_address
                .value()
                .is_some_and(|p| p.contains('\n') && p.ends_with("  ")),
            "PostalAddress keeps newlines and trailing space: {:?}",
            a.postal_address
        );
        assert_eq!(
            a.balance_month,
            Field::Value(6),
            "month name Jun reads as 6"
        );
        assert_eq!(a.gst_period, Field::Value(GstPeriod::Monthly));
        assert_eq!(cs[1].gst_period, Field::Value(GstPeriod::SixMonthly));
        assert_eq!(a.title, Field::Missing, "absent PM field stays Missing");
        assert_eq!(cs[1].first_name, Field::Missing);
        let groups = a.groups.as_ref().expect("groups");
        assert_eq!(groups[1].name, "Smith & Jones Holdings", "&amp; unescaped");
        let rels = a.relationships.as_ref().expect("relationships");
        assert_eq!(rels.len(), 2, "many children read as many");
        assert_eq!(
            RelationshipType::parse(&rels[0].label),
            (RelationshipType::Director, true)
        );
        assert_eq!(
            RelationshipType::parse(&rels[1].label),
            (RelationshipType::Shareholder, true)
        );
        assert_eq!(rels[0].number_of_shares, Field::Empty);
        assert_eq!(rels[1].number_of_shares, Field::Value(500));
        assert_eq!(rels[1].percentage, Field::Value(12.5));
        assert_eq!(
            rels[1].start_date,
            Field::Value(NaiveDate::from_ymd_opt(2019, 7, 1).expect("d")),
            "relationship date with a time part"
        );
        assert_eq!(
            cs[1].relationships,
            Some(vec![]),
            "<Relationships /> is present but empty"
        );
        assert_eq!(cs[1].contacts, None, "no Contacts element: None");
    }

    #[test]
    fn bad_value_names_its_element_path() {
        let doc = "<Response><Status>OK</Status><Client><UUID>00000000-aaaa-4bbb-8ccc-000000000001</UUID><Name>X</Name><Relationships><Relationship><UUID>00000000-aaaa-4bbb-8ccc-0000000000e1</UUID><Type>Director</Type><RelatedClient><UUID>00000000-aaaa-4bbb-8ccc-000000000002</UUID></RelatedClient><StartDate>July</StartDate></Relationship></Relationships></Client></Response>";
        let root = parse_envelope(doc.as_bytes()).expect("envelope");
        let err = client_detail_of(&root).expect_err("bad date");
        assert!(
            err.to_string()
                .contains("Response/Client/Relationships/Relationship/StartDate"),
            "error names the path: {err}"
        );
    }

    #[test]
    fn group_fixtures_map() {
        let root =
            parse_envelope(include_str!("../fixtures/group_list.xml").as_bytes()).expect("ok");
        let gs = group_summaries_of(&root).expect("groups");
        assert_eq!(gs.len(), 2);
        assert_eq!(gs[0].taxable, Field::Value(false));
        assert_eq!(
            gs[1].taxable,
            Field::Missing,
            "Taxable only with the PM module"
        );
        let root =
            parse_envelope(include_str!("../fixtures/group_get.xml").as_bytes()).expect("ok");
        let g = group_of(&root).expect("group");
        assert_eq!(g.members.len(), 2);
        assert_eq!(
            g.web_url.as_deref(),
            Some("https://practicemanager.xero.com/ClientGroup/1")
        );
    }

    #[test]
    fn requests_use_request_names_and_forms() {
        let input = ClientInput {
            name: "A & B".into(),
            website: Field::Value("https://ab.example".into()),
            gst_period: Field::Value(GstPeriod::TwoMonthly),
            balance_month: Field::Value(6),
            prepare_gst: Field::Value(true),
            fax: Field::Empty,
            date_of_birth: Field::Value(NaiveDate::from_ymd_opt(1970, 11, 26).expect("d")),
            account_manager: Field::Value(u("00000000-aaaa-4bbb-8ccc-0000000000a1")),
            contacts: vec![ContactInput {
                name: "Pat".into(),
                is_primary: Field::Value(true),
                ..ContactInput::default()
            }],
            ..ClientInput::default()
        };
        let body = client_request(None, &input).expect("body");
        assert!(
            body.contains("<Name>A &amp; B</Name>"),
            "text is escaped: {body}"
        );
        assert!(
            body.contains("<WebSite>https://ab.example</WebSite>"),
            "request uses WebSite"
        );
        assert!(!body.contains("<Website>"), "never the response spelling");
        assert!(
            body.contains("<GSTPeriod>2</GSTPeriod>"),
            "request form of GSTPeriod"
        );
        assert!(body.contains("<BalanceMonth>6</BalanceMonth>"));
        assert!(body.contains("<PrepareGST>Yes</PrepareGST>"));
        assert!(body.contains("<Fax />"), "Empty sends an empty element");
        assert!(!body.contains("<Phone"), "Missing sends nothing");
        assert!(body.contains("<DateOfBirth>1970-11-26</DateOfBirth>"));
        assert!(body.contains(
            "<AccountManagerUUID>00000000-aaaa-4bbb-8ccc-0000000000a1</AccountManagerUUID>"
        ));
        assert!(body.contains(
            "<Contacts><Contact><Name>Pat</Name><IsPrimary>Yes</IsPrimary></Contact></Contacts>"
        ));
        let update =
            client_request(Some(&u("00000000-aaaa-4bbb-8ccc-000000000001")), &input).expect("body");
        assert!(update.starts_with("<Client><UUID>00000000-aaaa-4bbb-8ccc-000000000001</UUID>"));
        assert!(!update.contains("<Contacts>"), "contacts are add-only");
    }

    #[test]
    fn masked_tax_number_is_refused() {
        let input = ClientInput {
            name: "X".into(),
            tax_number: Field::Value("******321".into()),
            ..ClientInput::default()
        };
        assert!(
            matches!(
                client_request(None, &input),
                Err(Error::InvalidInput { .. })
            ),
            "a masked TaxNumber must never be sent"
        );
        let merged = ClientInput::from_client(&detailed()[0]);
        let body = client_request(Some(&u("00000000-aaaa-4bbb-8ccc-000000000002")), &merged)
            .expect("body");
        assert!(
            !body.contains("TaxNumber"),
            "GET-merge-PUT leaves TaxNumber out: {body}"
        );
    }

    #[test]
    fn members_and_relationship_bodies() {
        let g = u("00000000-aaaa-4bbb-8ccc-0000000000f1");
        let body = group_members_request(
            &g,
            &[u("00000000-aaaa-4bbb-8ccc-000000000003")],
            &[u("00000000-aaaa-4bbb-8ccc-000000000009")],
        );
        assert_eq!(
            body,
            "<Group><UUID>00000000-aaaa-4bbb-8ccc-0000000000f1</UUID><add uuid=\"00000000-aaaa-4bbb-8ccc-000000000003\" /><remove uuid=\"00000000-aaaa-4bbb-8ccc-000000000009\" /></Group>"
        );
        let add = relationship_add_request(&RelationshipInput {
            client: u("00000000-aaaa-4bbb-8ccc-000000000001"),
            related_client: u("00000000-aaaa-4bbb-8ccc-000000000002"),
            relationship_type: RelationshipType::PublicOfficer,
            number_of_shares: Field::Missing,
            percentage: Field::Missing,
            start_date: Field::Value(NaiveDate::from_ymd_opt(2019, 7, 1).expect("d")),
            end_date: Field::Empty,
        })
        .expect("body");
        assert_eq!(
            add,
            "<Relationship><ClientUUID>00000000-aaaa-4bbb-8ccc-000000000001</ClientUUID><RelatedClientUUID>00000000-aaaa-4bbb-8ccc-000000000002</RelatedClientUUID><Type>Public Officer</Type><StartDate>2019-07-01</StartDate><EndDate /></Relationship>"
        );
    }

    #[test]
    fn modified_since_is_utc_without_zone() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:11:12+10:00")
            .expect("t")
            .with_timezone(&chrono::Utc);
        assert_eq!(modified_since(&t), "2026-11-29T00:11:12");
    }
}

#[cfg(test)]
mod nz_and_legacy_fields {
    use super::*;
    use crate::xml::parse_envelope;

    #[test]
    fn nz_au_and_3_0_fields_map_and_unknowns_are_ignored() {
        let doc = r#"<Response api-method="Get"><Status>ok</Status><Client>
            <ID>12345</ID><UUID>00000000-aaaa-4bbb-8ccc-000000000001</UUID><Name>Kiwi Ltd</Name>
            <ProvisionalTaxBasis>Ratio Option</ProvisionalTaxBasis><ProvisionalTaxRatio>0.25</ProvisionalTaxRatio>
            <SignedTaxAuthority>yes</SignedTaxAuthority><TaxAgent>Ivy Marsh</TaxAgent>
            <AgencyStatus>With EOT</AgencyStatus><ReturnType>IR4</ReturnType>
            <ActiveAtoClient>No</ActiveAtoClient><BranchNumber>001</BranchNumber>
            <Title>Mr</Title><Gender>M</Gender>
            <Contacts><Contact><Name>Only Contact</Name><Position>0</Position></Contact></Contacts>
            <Notes><Note><Title>T</Title><Text>x</Text><Date>2008-09-12T13:00:00</Date></Note></Notes>
            <DateOfDeath>2020-01-01</DateOfDeath>
        </Client></Response>"#;
        let root = parse_envelope(doc.as_bytes()).expect("Status ok in lower case is OK");
        let c = client_detail_of(&root).expect("client").client;
        assert_eq!(c.provisional_tax_basis, Field::Value("Ratio Option".into()));
        assert_eq!(c.signed_tax_authority, Field::Value(true));
        assert_eq!(c.return_type, Field::Value("IR4".into()));
        assert_eq!(c.active_ato_client, Field::Value(false));
        assert_eq!(c.branch_number, Field::Value("001".into()));
        assert_eq!(c.title, Field::Value("Mr".into()));
        let contacts = c.contacts.expect("contacts");
        assert_eq!(contacts[0].uuid, None, "a contact without UUID is kept");
        assert_eq!(
            contacts[0].position,
            Field::Value("0".into()),
            "3.0's Position 0 kept verbatim"
        );
        assert_eq!(
            c.notes.expect("notes")[0].date,
            Field::Value("2008-09-12T13:00:00".into())
        );
    }

    #[test]
    fn yes_no_and_dates_in_every_form() {
        for (s, want) in [
            ("Yes", true),
            ("YES", true),
            ("yes", true),
            ("No", false),
            ("NO", false),
            ("no", false),
        ] {
            assert_eq!(parse_yes_no(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_yes_no("maybe"),
            None,
            "anything else is not a boolean"
        );
        let d = NaiveDate::from_ymd_opt(1970, 11, 26).expect("d");
        assert_eq!(parse_date("1970-11-26"), Some(d));
        assert_eq!(parse_date("1970-11-26T00:00:00"), Some(d));
        assert_eq!(parse_date(" 1970-11-26T13:45:00.000 "), Some(d));
        assert_eq!(parse_date("26/11/1970"), None);
    }
}
