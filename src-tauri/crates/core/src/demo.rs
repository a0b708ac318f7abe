//! The demo practice: fictitious but realistic client structures, seeded identically every time
//! into a separate demo data folder so newcomers can explore without real data.
//!
//! Groups: a family group with a discretionary trust, corporate trustee, bucket company and a
//! two-member SMSF; a three-generation family with a deceased estate and testamentary trust; a
//! corporate group with cross-holdings, a unit trust and a director who has since ceased; and a
//! partnership. Every name, number and date is invented; ABNs and ACNs pass no real check.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::db::OrgId;
use crate::error::Result;
use crate::model::{EntityInput, EntityKind, RelationshipInput, RelationshipKind as R, TrustType};
use crate::tfn::TfnCipher;
use crate::{entities, groups, relationships};

/// Name of the demo organisation.
pub const ORGANISATION_NAME: &str = "Demo Practice (fictitious)";

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn person(first: &str, last: &str, born: Option<NaiveDate>) -> EntityInput {
    EntityInput {
        kind: EntityKind::Individual,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        date_of_birth: born,
        ..Default::default()
    }
}

fn org_entity(kind: EntityKind, name: &str) -> EntityInput {
    EntityInput {
        kind,
        name: name.into(),
        ..Default::default()
    }
}

fn company(name: &str, acn: &str) -> EntityInput {
    EntityInput {
        acn: Some(acn.into()),
        ..org_entity(EntityKind::Company, name)
    }
}

fn trust(name: &str, trust_type: TrustType) -> EntityInput {
    EntityInput {
        trust_type: Some(trust_type),
        ..org_entity(EntityKind::Trust, name)
    }
}

fn link(kind: R, from: i32, to: i32) -> RelationshipInput {
    RelationshipInput {
        kind,
        from_id: from,
        to_id: to,
        shares: None,
        share_class: None,
        percentage: None,
        start_date: None,
        end_date: None,
        label: None,
    }
}

fn holding(kind: R, from: i32, to: i32, shares: i64, class: &str, pct: f64) -> RelationshipInput {
    RelationshipInput {
        shares: Some(shares),
        share_class: Some(class.into()),
        percentage: Some(pct),
        ..link(kind, from, to)
    }
}

fn from_date(mut r: RelationshipInput, start: Option<NaiveDate>) -> RelationshipInput {
    r.start_date = start;
    r
}

/// Seeds the demo practice into an empty organisation; does nothing if it already has groups.
/// All in one transaction.
///
/// # Errors
/// [`crate::Error::Db`] on database failure (nothing is written).
pub async fn seed(
    db: &DatabaseConnection,
    org: OrgId,
    cipher: &TfnCipher,
    now: DateTime<Utc>,
) -> Result<()> {
    if !groups::list(db, org).await?.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await?;
    let t = &txn;
    macro_rules! entity {
        ($input:expr) => {
            entities::insert(t, org, cipher, &$input, now).await?
        };
    }
    macro_rules! rel {
        ($input:expr) => {
            relationships::insert(t, org, &$input, now).await?
        };
    }
    macro_rules! group {
        ($name:expr, [$($member:expr),* $(,)?]) => {{
            let g = groups::insert(t, org, $name, now).await?;
            $(groups::add_member(t, g.id, $member, None, None).await?;)*
            g.id
        }};
    }

    // 1. A family group: discretionary trust with a corporate trustee, bucket company, SMSF.
    let minh = entity!(EntityInput {
        email: Some("minh.nguyen@example.com".into()),
        tfn: Some("123 456 782".into()),
        ..person("Minh", "Nguyen", date(1968, 4, 12))
    });
    let lan = entity!(person("Lan", "Nguyen", date(1970, 9, 3)));
    let an = entity!(person("An", "Nguyen", date(1999, 2, 17)));
    let trustee_co = entity!(company("Nguyen Nominees Pty Ltd", "612345678"));
    let family_trust = entity!(EntityInput {
        abn: Some("53 612 345 671".into()),
        ..trust("Nguyen Family Trust", TrustType::Discretionary)
    });
    let bucket = entity!(company("Nguyen Bucket Co Pty Ltd", "623456789"));
    let smsf = entity!(org_entity(EntityKind::Smsf, "Nguyen Super Fund"));
    rel!(link(R::Spouse, minh, lan));
    rel!(link(R::Parent, minh, an));
    rel!(link(R::Parent, lan, an));
    rel!(from_date(
        link(R::Director, minh, trustee_co),
        date(2009, 7, 1)
    ));
    rel!(from_date(
        link(R::Director, lan, trustee_co),
        date(2009, 7, 1)
    ));
    rel!(holding(
        R::Shareholder,
        minh,
        trustee_co,
        1,
        "Ordinary",
        50.0
    ));
    rel!(holding(
        R::Shareholder,
        lan,
        trustee_co,
        1,
        "Ordinary",
        50.0
    ));
    rel!(link(R::Trustee, trustee_co, family_trust));
    rel!(link(R::Appointor, minh, family_trust));
    for b in [minh, lan, an, bucket] {
        rel!(link(R::Beneficiary, b, family_trust));
    }
    rel!(holding(
        R::Shareholder,
        family_trust,
        bucket,
        100,
        "Ordinary",
        100.0
    ));
    rel!(link(R::Director, minh, bucket));
    for m in [minh, lan] {
        rel!(link(R::SmsfMember, m, smsf));
        rel!(link(R::Trustee, m, smsf));
    }
    group!(
        "Nguyen Family Group",
        [minh, lan, an, trustee_co, family_trust, bucket, smsf]
    );

    // 2. Three generations, with a deceased estate and a testamentary trust.
    let george = entity!(EntityInput {
        date_of_death: date(2019, 8, 14),
        ..person("George", "Harrington", date(1938, 3, 2))
    });
    let margaret = entity!(person("Margaret", "Harrington", date(1941, 11, 20)));
    let peter = entity!(person("Peter", "Harrington", date(1965, 6, 9)));
    let susan = entity!(person("Susan", "O\u{2019}Connell", date(1968, 1, 25)));
    let claire = entity!(person("Claire", "Harrington", date(1967, 10, 4)));
    let oliver = entity!(person("Oliver", "Harrington", date(1995, 5, 30)));
    let amelia = entity!(person("Amelia", "Harrington", date(1998, 12, 11)));
    let estate = entity!(trust(
        "Estate of the late George Harrington",
        TrustType::DeceasedEstate
    ));
    let testamentary = entity!(trust(
        "George Harrington Testamentary Trust",
        TrustType::Testamentary
    ));
    rel!(link(R::Spouse, george, margaret));
    rel!(link(R::Spouse, peter, claire));
    for child in [peter, susan] {
        rel!(link(R::Parent, george, child));
        rel!(link(R::Parent, margaret, child));
    }
    for grandchild in [oliver, amelia] {
        rel!(link(R::Parent, peter, grandchild));
        rel!(link(R::Parent, claire, grandchild));
    }
    rel!(from_date(
        link(R::Executor, peter, estate),
        date(2019, 9, 2)
    ));
    rel!(from_date(
        link(R::Executor, susan, estate),
        date(2019, 9, 2)
    ));
    rel!(from_date(
        link(R::Trustee, peter, testamentary),
        date(2020, 3, 1)
    ));
    for b in [margaret, peter, susan, oliver, amelia] {
        rel!(link(R::Beneficiary, b, testamentary));
    }
    group!(
        "Harrington Family",
        [
            george,
            margaret,
            peter,
            susan,
            claire,
            oliver,
            amelia,
            estate,
            testamentary
        ]
    );

    // 3. A corporate group with cross-holdings, a unit trust and a ceased director.
    let sarah = entity!(person("Sarah", "Whitlock", date(1975, 2, 14)));
    let david = entity!(person("David", "Chen", date(1972, 8, 21)));
    let james = entity!(person("James", "Porter", date(1960, 12, 1)));
    let holdings = entity!(EntityInput {
        abn: Some("11 634 567 890".into()),
        ..company("Coastline Holdings Pty Ltd", "634567890")
    });
    let operations = entity!(company("Coastline Operations Pty Ltd", "645678901"));
    let property_co = entity!(company("Coastline Property Pty Ltd", "656789012"));
    let unit_trust = entity!(trust("Coastline Property Unit Trust", TrustType::Unit));
    rel!(holding(
        R::Shareholder,
        sarah,
        holdings,
        600,
        "Ordinary",
        60.0
    ));
    rel!(holding(
        R::Shareholder,
        david,
        holdings,
        400,
        "Ordinary",
        40.0
    ));
    rel!(holding(
        R::Shareholder,
        holdings,
        operations,
        1000,
        "Ordinary",
        100.0
    ));
    rel!(holding(
        R::Shareholder,
        holdings,
        property_co,
        80,
        "Ordinary",
        80.0
    ));
    rel!(holding(
        R::Shareholder,
        operations,
        property_co,
        20,
        "Ordinary",
        20.0
    ));
    rel!(holding(
        R::Unitholder,
        holdings,
        unit_trust,
        600,
        "Ordinary units",
        60.0
    ));
    rel!(holding(
        R::Unitholder,
        operations,
        unit_trust,
        400,
        "Ordinary units",
        40.0
    ));
    rel!(link(R::Trustee, property_co, unit_trust));
    for (director, company) in [
        (sarah, holdings),
        (david, holdings),
        (sarah, operations),
        (david, property_co),
    ] {
        rel!(from_date(
            link(R::Director, director, company),
            date(2014, 7, 1)
        ));
    }
    rel!(RelationshipInput {
        start_date: date(2015, 7, 1),
        end_date: date(2021, 6, 30),
        ..link(R::Director, james, operations)
    });
    rel!(from_date(
        link(R::Secretary, david, holdings),
        date(2014, 7, 1)
    ));
    group!(
        "Coastline Holdings Group",
        [
            sarah,
            david,
            james,
            holdings,
            operations,
            property_co,
            unit_trust
        ]
    );

    // 4. A partnership with an individual, and a trust, as partners.
    let emma = entity!(person("Emma", "Barker", date(1980, 7, 7)));
    let tom = entity!(person("Tom", "Lowe", date(1978, 3, 19)));
    let lowe_trust = entity!(trust("Lowe Family Trust", TrustType::Discretionary));
    let firm = entity!(EntityInput {
        abn: Some("22 645 678 901".into()),
        ..org_entity(EntityKind::Partnership, "Barker & Lowe Accountants")
    });
    rel!(RelationshipInput {
        percentage: Some(50.0),
        ..link(R::Partner, emma, firm)
    });
    rel!(RelationshipInput {
        percentage: Some(30.0),
        ..link(R::Partner, tom, firm)
    });
    rel!(RelationshipInput {
        percentage: Some(20.0),
        ..link(R::Partner, lowe_trust, firm)
    });
    rel!(link(R::Trustee, tom, lowe_trust));
    rel!(link(R::Beneficiary, tom, lowe_trust));
    group!("Barker & Lowe Partnership", [emma, tom, lowe_trust, firm]);

    txn.commit().await?;
    Ok(())
}
