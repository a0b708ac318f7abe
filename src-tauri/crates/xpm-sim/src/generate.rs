//! Deterministic generation of realistic practices (issue 3 item 5):
//! `groups=300,clients=2000,seed=7` always yields the same data.
//!
//! Each group is a family: one or two adults (Individual), often children, and some of a
//! company, a trustee company, a discretionary/unit/hybrid/testamentary trust, an SMSF, a
//! partnership, or a custom "Individual Trustee" structure; relationships with shares, %,
//! and dates; some cross-group relationships; names with `& < > ' "` and non-ASCII letters;
//! optional elements empty on some clients and missing on others; some archived clients.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::fixture::LoadedPractice;
use crate::model::{Client, Group, Practice, Relationship, Staff};
use crate::state::{Tenant, User};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenSpec {
    /// Number of client groups.
    pub groups: usize,
    /// Number of clients (at least one per group).
    pub clients: usize,
    /// RNG seed.
    pub seed: u64,
}

impl std::str::FromStr for GenSpec {
    type Err = String;

    /// Parses `groups=300,clients=2000,seed=7` (any order; defaults 10/60/1).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut g = GenSpec {
            groups: 10,
            clients: 60,
            seed: 1,
        };
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got {part}"))?;
            let n: u64 = v
                .trim()
                .parse()
                .map_err(|_| format!("bad number in {part}"))?;
            match k.trim() {
                "groups" => g.groups = n as usize,
                "clients" => g.clients = n as usize,
                "seed" => g.seed = n,
                other => return Err(format!("unknown key {other}")),
            }
        }
        if g.groups == 0 || g.clients < g.groups {
            return Err("need groups >= 1 and clients >= groups".into());
        }
        Ok(g)
    }
}

const SURNAMES: &[&str] = &[
    "Fernhill",
    "O'Brien",
    "Nguyễn",
    "Müller",
    "Smith",
    "Papadopoulos",
    "D'Angelo",
    "Søren",
    "Whitfield",
    "García",
    "Kowalski",
    "Tanaka",
    "Ó Súilleabháin",
    "Chen",
    "MacLeod",
    "Björk",
    "Patel",
    "Brown",
    "Łukasiewicz",
    "Zhang",
    "Ferreira",
    "Novák",
    "Okafor",
    "Dubois",
];
const GIVEN: &[&str] = &[
    "Rowan", "Ivy", "Zoë", "Théo", "Maja", "Liam", "Aroha", "Siobhán", "Noah", "Chloé", "Mateo",
    "Ana", "Jörg", "Priya", "Kai", "Eleanor", "Oscar", "Mia", "Hamish", "Ngaio", "René", "Ava",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Tamworth", "NSW", "2340"),
    ("Ballarat", "VIC", "3350"),
    ("Toowoomba", "QLD", "4350"),
    ("Bunbury", "WA", "6230"),
    ("Launceston", "TAS", "7250"),
    ("Mount Gambier", "SA", "5290"),
];
const TRUSTS: &[&str] = &[
    "Discretionary Trust",
    "Unit Trust",
    "Hybrid Trust",
    "Testamentary Trust",
    "Family Trust",
];

/// Birth-year ranges.
const ADULT: (i32, i32) = (1940, 1985);
const CHILD: (i32, i32) = (1990, 2015);

fn uuid_from(rng: &mut StdRng) -> String {
    let b: [u8; 16] = rng.gen();
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.gen_range(0..v.len())]
}

fn date(rng: &mut StdRng, from_year: i32, to_year: i32) -> NaiveDate {
    let y = rng.gen_range(from_year..=to_year);
    let m = rng.gen_range(1..=12);
    let d = rng.gen_range(1..=28);
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

struct Gen {
    rng: StdRng,
    p: Practice,
    now: DateTime<Utc>,
}

impl Gen {
    /// Optional element: missing (25%), empty (35%) or the value (40%).
    fn opt(&mut self, c: &mut Client, k: &str, v: String) {
        let r: f64 = self.rng.gen();
        if r < 0.25 {
            return;
        }
        c.fields
            .insert(k.into(), if r < 0.6 { String::new() } else { v });
    }

    fn client(
        &mut self,
        name: String,
        structure: &str,
        individual: Option<(&str, &str, (i32, i32))>,
    ) -> String {
        let uuid = uuid_from(&mut self.rng);
        let mut c = Client {
            uuid: uuid.clone(),
            modified: self.now - Duration::days(self.rng.gen_range(1..900)),
            ..Client::default()
        };
        let (city, region, pc) = *pick(&mut self.rng, CITIES);
        let slug: String = name
            .chars()
            .filter(|ch| ch.is_ascii_alphanumeric())
            .take(12)
            .collect::<String>()
            .to_lowercase();
        c.fields.insert("Name".into(), name);
        c.fields
            .insert("Email".into(), format!("{slug}@example.com"));
        let street = format!(
            "{} {} Street",
            self.rng.gen_range(1..400),
            pick(&mut self.rng, SURNAMES)
        );
        c.fields.insert("Address".into(), street);
        c.fields.insert("City".into(), city.into());
        c.fields.insert("Region".into(), region.into());
        c.fields.insert("PostCode".into(), pc.into());
        c.fields.insert("Country".into(), "Australia".into());
        let po = format!("PO Box {}\n{city}", self.rng.gen_range(1..999));
        self.opt(&mut c, "PostalAddress", po);
        self.opt(&mut c, "PostalCity", city.into());
        self.opt(&mut c, "PostalCountry", "Australia".into());
        let ph = format!(
            "0{} 5550 {}",
            self.rng.gen_range(2..9),
            digits(&mut self.rng, 4)
        );
        c.fields.insert("Phone".into(), ph);
        self.opt(&mut c, "Fax", String::new());
        self.opt(&mut c, "Website", format!("https://{slug}.example.com"));
        self.opt(&mut c, "ReferralSource", "Referral".into());
        c.fields.insert("ExportCode".into(), slug.to_uppercase());
        if let Some((first, last, (born_from, born_to))) = individual {
            c.fields.insert("FirstName".into(), first.into());
            c.fields.insert("LastName".into(), last.into());
            self.opt(&mut c, "OtherName", String::new());
            let dob = date(&mut self.rng, born_from, born_to)
                .format("%Y-%m-%d")
                .to_string();
            c.fields.insert("DateOfBirth".into(), dob);
        } else {
            self.opt(&mut c, "DateOfBirth", String::new());
            c.fields
                .insert("CompanyNumber".into(), digits(&mut self.rng, 9));
        }
        if self.rng.gen_bool(0.9) {
            c.fields
                .insert("TaxNumber".into(), digits(&mut self.rng, 9));
        }
        if individual.is_none() || self.rng.gen_bool(0.2) {
            let abn = digits(&mut self.rng, 11);
            c.fields.insert(
                "BusinessNumber".into(),
                format!("{} {} {} {}", &abn[..2], &abn[2..5], &abn[5..8], &abn[8..]),
            );
        }
        c.fields
            .insert("BusinessStructure".into(), structure.into());
        c.fields.insert("BalanceMonth".into(), "6".into());
        let gst = self.rng.gen_bool(0.5);
        c.fields
            .insert("PrepareGST".into(), if gst { "Yes" } else { "No" }.into());
        c.fields.insert(
            "GSTRegistered".into(),
            if gst { "Yes" } else { "No" }.into(),
        );
        if gst {
            let per = *pick(&mut self.rng, &["Monthly", "2 Monthly", "6 Monthly"]);
            c.fields.insert("GSTPeriod".into(), per.into());
            let basis = *pick(&mut self.rng, &["Invoice", "Payment", "Hybrid"]);
            c.fields.insert("GSTBasis".into(), basis.into());
        } else {
            self.opt(&mut c, "GSTPeriod", String::new());
        }
        c.fields.insert(
            "PrepareActivityStatement".into(),
            if gst { "Yes" } else { "No" }.into(),
        );
        c.fields.insert("PrepareTaxReturn".into(), "Yes".into());
        let staff_i = self.rng.gen_range(0..self.p.staff.len());
        c.account_manager = Some(Some(self.p.staff[staff_i].uuid.clone()));
        c.job_manager = if self.rng.gen_bool(0.7) {
            let j = self.rng.gen_range(0..self.p.staff.len());
            Some(Some(self.p.staff[j].uuid.clone()))
        } else {
            Some(None)
        };
        c.billing_client = if self.rng.gen_bool(0.5) {
            Some(None)
        } else {
            None
        };
        c.archived = self.rng.gen_bool(0.03);
        self.p.clients.insert(uuid.clone(), c);
        uuid
    }

    #[allow(clippy::too_many_arguments)]
    fn rel(&mut self, client: &str, related: &str, t: &str, shares: i64, pct: &str) {
        let start = self
            .rng
            .gen_bool(0.8)
            .then(|| date(&mut self.rng, 2005, 2023));
        let family = matches!(t, "Spouse" | "Husband" | "Wife" | "Parent Of" | "Associate");
        let end = (!family && self.rng.gen_bool(0.08)).then(|| date(&mut self.rng, 2024, 2025));
        let uuid = uuid_from(&mut self.rng);
        let reverse_uuid = uuid_from(&mut self.rng);
        self.p.relationships.push(Relationship {
            uuid,
            reverse_uuid,
            client: client.into(),
            related: related.into(),
            rtype: t.into(),
            shares,
            percentage: pct.into(),
            start,
            end,
        });
    }
}

/// Generates a practice (deterministic for a given spec; `now` only sets modified times).
pub fn generate(spec: &GenSpec, now: DateTime<Utc>) -> LoadedPractice {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let tenant_id = uuid_from(&mut rng);
    let org_id = uuid_from(&mut rng);
    let user_id = uuid_from(&mut rng);
    let name = format!("Generated Practice (seed {})", spec.seed);
    let mut g = Gen {
        rng,
        p: Practice {
            tenant_id: tenant_id.clone(),
            name: name.clone(),
            ..Practice::default()
        },
        now,
    };
    for i in 0..8 {
        let uuid = uuid_from(&mut g.rng);
        let first = *pick(&mut g.rng, GIVEN);
        let last = *pick(&mut g.rng, SURNAMES);
        g.p.staff.push(Staff {
            uuid,
            name: format!("{first} {last}"),
            email: format!("staff{i}@practice.example"),
            phone: "02 5550 0000".into(),
            payroll_code: format!("P{i:03}"),
            ..Staff::default()
        });
    }
    let base = spec.clients / spec.groups;
    let extra = spec.clients % spec.groups;
    let mut prev_company: Option<String> = None;
    for gi in 0..spec.groups {
        let size = base + usize::from(gi < extra);
        let surname = *pick(&mut g.rng, SURNAMES);
        let mut members: Vec<String> = Vec::new();
        let a1_first = *pick(&mut g.rng, GIVEN);
        let a1 = g.client(
            format!("{a1_first} {surname}"),
            "Individual",
            Some((a1_first, surname, ADULT)),
        );
        members.push(a1.clone());
        let mut a2 = None;
        if size >= 2 {
            let f = *pick(&mut g.rng, GIVEN);
            let id = g.client(
                format!("{f} {surname}"),
                "Individual",
                Some((f, surname, ADULT)),
            );
            let t = *pick(&mut g.rng, &["Spouse", "Husband", "Wife"]);
            g.rel(&a1, &id, t, 0, "0");
            members.push(id.clone());
            a2 = Some(id);
        }
        let adults: Vec<String> = std::iter::once(a1.clone()).chain(a2.clone()).collect();
        let mut kind = g.rng.gen_range(0..7usize);
        let mut company: Option<String> = None;
        while members.len() < size {
            let n = members.len();
            let id = match kind % 8 {
                0 => {
                    let suffix = *pick(
                        &mut g.rng,
                        &[
                            "Holdings Pty Ltd",
                            "& Sons Pty Ltd",
                            "Pty Ltd",
                            "<Beta> Widgets Pty Ltd",
                        ],
                    );
                    let id = g.client(format!("{surname} {suffix}"), "Company", None);
                    for (k, a) in adults.iter().enumerate() {
                        g.rel(&id, a, "Director", 0, "0");
                        g.rel(&id, a, "Shareholder", if k == 0 { 60 } else { 40 }, "0");
                    }
                    if let Some(pc) = &prev_company {
                        if gi % 10 == 0 {
                            // Cross-group: this family's adult directs last group's company.
                            let pc = pc.clone();
                            g.rel(&pc, &a1, "Director", 0, "0");
                        }
                    }
                    company = Some(id.clone());
                    id
                }
                1 => {
                    let id = g.client(
                        format!("{surname} Nominees Pty Ltd"),
                        "Trustee Company",
                        None,
                    );
                    g.rel(&id, &a1, "Director", 0, "0");
                    g.rel(&id, &a1, "Secretary", 0, "0");
                    id
                }
                2 => {
                    let t = *pick(&mut g.rng, TRUSTS);
                    let id = g.client(format!("The {surname} {t}"), t, None);
                    g.rel(&id, &a1, "Appointer", 0, "0");
                    for a in &adults {
                        g.rel(&id, a, "Beneficiary", 0, "0");
                    }
                    if let Some(c) = &company {
                        let c = c.clone();
                        g.rel(&id, &c, "Beneficiary", 0, "0");
                    }
                    id
                }
                3 => {
                    let nm = format!("{surname} \"Retirement\" Super Fund");
                    let id = g.client(nm, "Self Managed Superannuation Fund", None);
                    for a in &adults {
                        g.rel(&id, a, "Trustee", 0, "0");
                        g.rel(&id, a, "Member", 0, "0");
                    }
                    id
                }
                4 => {
                    let other = *pick(&mut g.rng, SURNAMES);
                    let id = g.client(format!("{surname} & {other} Partners"), "Partnership", None);
                    let share = if adults.len() == 2 { "50" } else { "100" };
                    for a in &adults {
                        g.rel(&id, a, "Partner", 0, share);
                    }
                    id
                }
                5 => {
                    let f = *pick(&mut g.rng, GIVEN);
                    let id = g.client(
                        format!("{f} {surname} ATF {surname} Trust"),
                        "Individual Trustee",
                        None,
                    );
                    g.rel(&a1, &id, "Associate", 0, "0");
                    id
                }
                _ => {
                    let f = *pick(&mut g.rng, GIVEN);
                    let id = g.client(
                        format!("{f} {surname}"),
                        "Individual",
                        Some((f, surname, CHILD)),
                    );
                    g.rel(&a1, &id, "Parent Of", 0, "0");
                    id
                }
            };
            let _ = n;
            members.push(id);
            kind += 1;
        }
        if company.is_some() {
            prev_company = company;
        }
        let guuid = uuid_from(&mut g.rng);
        let gname = if gi % 17 == 5 {
            format!("{surname} & Associates <Group {gi}>")
        } else {
            format!("{surname} Family {gi}")
        };
        let taxable = g.rng.gen_bool(0.3);
        g.p.groups.insert(
            guuid.clone(),
            Group {
                uuid: guuid,
                name: gname,
                taxable: Some(taxable),
                members,
            },
        );
    }
    let tenants = vec![
        Tenant {
            tenant_id: tenant_id.clone(),
            tenant_type: "PRACTICEMANAGER".into(),
            tenant_name: name,
        },
        Tenant {
            tenant_id: org_id,
            tenant_type: "ORGANISATION".into(),
            tenant_name: "Demo Accounting Org Ltd".into(),
        },
    ];
    let users = vec![User {
        user_id,
        email: "demo@practice.example".into(),
        password: "demo".into(),
        given_name: "Ivy".into(),
        family_name: "Marsh".into(),
        tenants: tenants.iter().map(|t| t.tenant_id.clone()).collect(),
    }];
    LoadedPractice {
        practice: g.p,
        tenants,
        users,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let spec: GenSpec = "groups=30,clients=200,seed=7".parse().expect("valid spec");
        let now = Utc::now();
        let a = generate(&spec, now);
        let b = generate(&spec, now);
        assert_eq!(a.practice.groups.len(), 30, "groups as asked");
        assert_eq!(a.practice.clients.len(), 200, "clients as asked");
        assert_eq!(
            a.practice.tenant_id, b.practice.tenant_id,
            "same seed, same tenant"
        );
        let mut na: Vec<_> = a
            .practice
            .clients
            .values()
            .map(|c| c.name().to_string())
            .collect();
        let mut nb: Vec<_> = b
            .practice
            .clients
            .values()
            .map(|c| c.name().to_string())
            .collect();
        na.sort();
        nb.sort();
        assert_eq!(na, nb, "same seed, same names");
        assert!(na.iter().any(|n| n.contains('&')), "names with &");
        assert!(na.iter().any(|n| !n.is_ascii()), "non-ASCII names");
        assert!(
            a.practice.clients.values().any(|c| c.archived),
            "some archived"
        );
        assert!(
            a.practice
                .clients
                .values()
                .any(|c| c.structure() == "Individual Trustee"),
            "custom structure"
        );
        assert!(
            a.practice.relationships.iter().any(|r| r.shares > 0),
            "shares"
        );
        assert!(
            a.practice.relationships.iter().any(|r| r.percentage != "0"),
            "percentages"
        );
    }
}
