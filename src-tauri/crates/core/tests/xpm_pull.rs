//! Pull (issue 8) against the simulator's small fixture practice.
//!
//! The "Fernhill Family" XPM group has six live members (the archived Old Orchard Supplies drops
//! out of XPM's member list): Fernhill Orchards Pty Ltd (Company), Rowan Fernhill and Maeve
//! O'Brien-Fernhill (Individual), The Fernhill Family Trust ("Discretionary Trust": keyword →
//! discretionary trust, flagged), Fernhill Nominees Pty Ltd ("Trustee Company": keyword →
//! company, flagged) and Zoë Müller … ("Sole Trader": unknown → needs input). Rowan is also
//! related to two clients outside the group: Kowalski & Fernhill Partners (partner, 50 %) and
//! Old Orchard Supplies (director 2010-01-01 to 2018-06-30, archived). Merging both sides of
//! each XPM relationship gives ten relationships (worked out in `first_pull_…` below).

mod common;

use chrono::{Duration, NaiveDate};
use common::*;
use std::sync::atomic::Ordering;
use structuregram_core::discovery::{self, CatalogFilter};
use structuregram_core::model::{
    EntityInput, EntityKind, EntityStatus, RelationshipKind, TrustType,
};
use structuregram_core::pull::{self, FetchStrategy, PullControl, PullOptions, PullReport};
use structuregram_core::review::{self, Decision, ReviewKind, ReviewState};
use structuregram_core::runs::{self, RunStatus};
use structuregram_core::tfn::TfnCipher;
use structuregram_core::{
    entities, links, relationships, structures, DatabaseConnection, Error, OrgId,
};
use xpm_sim::FaultKind;

struct Setup {
    x: Xpm,
    db: DatabaseConnection,
    org: OrgId,
    cipher: TfnCipher,
}

async fn setup() -> Setup {
    let x = xpm().await;
    // Start an hour after the fixture was loaded, so `modifiedsince` can tell later edits apart.
    x.sim.admin.advance(Duration::hours(1));
    let (db, org) = memory_db().await;
    discovery::refresh(&db, org, &x.client, &x.session, x.sim.admin.now())
        .await
        .unwrap();
    Setup {
        x,
        db,
        org,
        cipher: TfnCipher::random(),
    }
}

impl Setup {
    async fn link(&self, xpm_group: &str) -> i32 {
        links::link_new(&self.db, self.org, xpm_group, self.x.sim.admin.now())
            .await
            .unwrap()
            .group_id
    }

    /// Pulls at the simulator's current time, after moving its clock on an hour (so
    /// `modifiedsince` on the next pull leaves out what this pull read).
    async fn pull(&self, group: i32) -> PullReport {
        self.try_pull(group, &PullOptions::default()).await.unwrap()
    }

    async fn try_pull(&self, group: i32, options: &PullOptions) -> Result<PullReport, Error> {
        let now = self.x.sim.admin.now();
        let r = pull::pull(
            &self.db,
            self.org,
            &self.cipher,
            &self.x.client,
            &self.x.session,
            group,
            options,
            &PullControl::default(),
            now,
        )
        .await;
        self.x.sim.admin.advance(Duration::hours(1));
        r
    }

    fn admin(&self) -> &xpm_sim::AdminHandle {
        &self.x.sim.admin
    }

    async fn names(&self, group: Option<i32>) -> Vec<String> {
        entities::list(&self.db, self.org, group)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    async fn entity(&self, name: &str) -> structuregram_core::model::Entity {
        let all = entities::list(&self.db, self.org, None).await.unwrap();
        let mut found = all.into_iter().filter(|e| e.name == name);
        let e = found.next().unwrap_or_else(|| panic!("no entity {name}"));
        assert!(found.next().is_none(), "one entity named {name}");
        e
    }

    /// The group's relationships as (from, kind, to, shares, %, start, end), sorted.
    async fn rels(&self, group: i32) -> Vec<Rel> {
        let names: std::collections::HashMap<i32, String> =
            entities::list(&self.db, self.org, None)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.id, e.name))
                .collect();
        let mut out: Vec<Rel> = relationships::list_for_group(&self.db, self.org, group)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                let d = r.details;
                (
                    names[&d.from_id].clone(),
                    d.kind,
                    names[&d.to_id].clone(),
                    d.shares,
                    d.percentage,
                    d.start_date,
                    d.end_date,
                )
            })
            .collect();
        out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        out
    }

    async fn items(&self, group: i32) -> Vec<review::ReviewItem> {
        review::list(&self.db, self.org, group, false)
            .await
            .unwrap()
            .0
    }

    async fn item(&self, group: i32, kind: ReviewKind, about: &str) -> review::ReviewItem {
        self.items(group)
            .await
            .into_iter()
            .find(|i| i.kind == kind && i.subject.contains(about))
            .unwrap_or_else(|| panic!("no {kind:?} item about {about}"))
    }

    async fn decide(&self, item: i32, decision: Decision) {
        review::decide(&self.db, self.org, item, &decision, self.admin().now())
            .await
            .unwrap();
    }
}

type Rel = (
    String,
    RelationshipKind,
    String,
    Option<i64>,
    Option<f64>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

fn d(s: &str) -> Option<NaiveDate> {
    Some(s.parse().unwrap())
}

const CO: &str = "Fernhill Orchards Pty Ltd";
const ROW: &str = "Rowan Fernhill";
const MAE: &str = "Maeve O'Brien-Fernhill";
const TRUST: &str = "The Fernhill Family Trust";
const NOM: &str = "Fernhill Nominees Pty Ltd";
const PART: &str = "Kowalski & Fernhill Partners";
const OLD: &str = "Old Orchard Supplies Pty Ltd";
const ZOE_NAME: &str = "Zoë Müller & Søn <Trading> \"Quotes\"";

fn r(
    from: &str,
    kind: RelationshipKind,
    to: &str,
    shares: Option<i64>,
    pct: Option<f64>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
) -> Rel {
    (from.into(), kind, to.into(), shares, pct, start, end)
}

fn fernhill_relationships() -> Vec<Rel> {
    use RelationshipKind as K;
    let mut v = vec![
        // Company record "Director"/"Shareholder" + Rowan's "Director Of"/"Shareholder Of".
        r(ROW, K::Director, CO, None, None, d("2019-07-01"), None),
        r(
            ROW,
            K::Shareholder,
            CO,
            Some(500),
            None,
            d("2019-07-01"),
            None,
        ),
        r(
            MAE,
            K::Shareholder,
            CO,
            Some(500),
            None,
            d("2019-07-01"),
            None,
        ),
        // Rowan "Husband" / Maeve "Wife": one spouse relationship (ends ordered by XPM UUID).
        r(ROW, K::Spouse, MAE, None, None, None, None),
        // Trust record "Beneficiary" ×2, "Trustee"; Nominees "Trustee Of", "Director".
        r(ROW, K::Beneficiary, TRUST, None, None, None, None),
        r(MAE, K::Beneficiary, TRUST, None, None, None, None),
        r(NOM, K::Trustee, TRUST, None, None, d("2015-03-12"), None),
        r(ROW, K::Director, NOM, None, None, d("2015-03-01"), None),
        // Outside the group: Rowan "Partner Of" (50 %) and the ended directorship.
        r(
            ROW,
            K::Partner,
            PART,
            None,
            Some(50.0),
            d("2020-01-01"),
            None,
        ),
        r(
            ROW,
            K::Director,
            OLD,
            None,
            None,
            d("2010-01-01"),
            d("2018-06-30"),
        ),
    ];
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

#[tokio::test]
async fn first_pull_creates_the_structure_and_a_second_pull_changes_nothing() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    let report = s.pull(g).await;

    // Plan: 1 group get + 6 member gets (below the detailed-list threshold) + 2 related gets.
    assert_eq!(report.plan.strategy, FetchStrategy::PerClient);
    assert_eq!(
        (
            report.plan.members,
            report.plan.members_read,
            report.plan.related_read,
            report.plan.calls
        ),
        (6, 6, 2, 9)
    );
    let counters = s.admin().counters();
    assert_eq!(counters.per_endpoint.get("GET client.api/get"), Some(&8));
    assert_eq!(
        counters.per_endpoint.get("GET clientgroup.api/get"),
        Some(&1)
    );

    // Seven entities (Zoë waits for a type); five join the group, the two outside do not.
    assert_eq!(report.counts.entities_created, 7);
    assert_eq!(report.counts.members_added, 5);
    assert_eq!(report.counts.relationships_created, 10);
    assert_eq!(s.names(Some(g)).await, [NOM, CO, MAE, ROW, TRUST]);
    let partnership = s.entity(PART).await;
    assert_eq!(partnership.kind, EntityKind::Partnership);
    assert!(
        partnership.group_ids.is_empty(),
        "outside clients are ungrouped"
    );
    let old = s.entity(OLD).await;
    assert_eq!(
        (old.kind, old.status),
        (EntityKind::Company, EntityStatus::Archived)
    );
    assert!(old.group_ids.is_empty());

    // Field mapping.
    let co = s.entity(CO).await;
    assert_eq!(co.kind, EntityKind::Company);
    assert_eq!(co.abn.as_deref(), Some("00000111222"));
    assert_eq!(co.acn.as_deref(), Some("000111222"));
    assert_eq!(co.email.as_deref(), Some("office@fernhill.example"));
    assert_eq!(
        co.tfn_masked, None,
        "XPM's masked TaxNumber is never stored"
    );
    let rowan = s.entity(ROW).await;
    assert_eq!(
        (rowan.first_name.as_deref(), rowan.last_name.as_deref()),
        (Some("Rowan"), Some("Fernhill"))
    );
    assert_eq!(rowan.date_of_birth, d("1970-11-26"));
    let trust = s.entity(TRUST).await;
    assert_eq!(
        (trust.kind, trust.trust_type),
        (EntityKind::Trust, Some(TrustType::Discretionary))
    );
    assert_eq!(s.entity(NOM).await.kind, EntityKind::Company);

    assert_eq!(s.rels(g).await, fernhill_relationships());

    // Review: two keyword matches (ready, flagged); Zoë's unknown structure and the two
    // shareholdings' classes (XPM has none) need input.
    assert_eq!(
        (
            report.review.ready,
            report.review.needs_input,
            report.review.waiting
        ),
        (2, 3, 0)
    );
    let classes: Vec<_> = s
        .items(g)
        .await
        .into_iter()
        .filter(|i| i.kind == ReviewKind::HoldingClass)
        .map(|i| i.subject)
        .collect();
    assert_eq!(classes.len(), 2, "{classes:?}");
    let zoe = s.item(g, ReviewKind::EntityType, "Sole Trader").await;
    assert_eq!(zoe.state, ReviewState::NeedsInput);
    let kw = s.item(g, ReviewKind::KeywordMatch, TRUST).await;
    assert_eq!(kw.payload.trust_type, Some(TrustType::Discretionary));
    let link = links::link_of(&s.db, s.org, g).await.unwrap().unwrap();
    assert!(link.last_pull_at.is_some());

    // Second pull of the unchanged group: nothing changes, no duplicates, no new items.
    let items_before = s.items(g).await;
    let second = s.pull(g).await;
    assert_eq!(second.counts.entities_created, 0);
    assert_eq!(second.counts.entities_updated, 0);
    assert_eq!(second.counts.members_added, 0);
    assert_eq!(second.counts.relationships_created, 0);
    assert_eq!(second.counts.relationships_updated, 0);
    // Group + modifiedsince list (nothing changed since) + a get for the unmapped Zoë.
    assert_eq!(second.plan.strategy, FetchStrategy::ModifiedSince);
    assert_eq!(second.plan.calls, 3);
    assert_eq!(s.rels(g).await, fernhill_relationships());
    assert_eq!(
        entities::list(&s.db, s.org, None).await.unwrap().len(),
        7,
        "no duplicates"
    );
    let items_after = s.items(g).await;
    assert_eq!(
        items_after.iter().map(|i| i.id).collect::<Vec<_>>(),
        items_before.iter().map(|i| i.id).collect::<Vec<_>>()
    );
    let history = runs::list(&s.db, s.org, Some(g), 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|r| r.status == RunStatus::Succeeded));
    assert_eq!(history[0].calls, 3);
    assert_eq!(history[1].calls, 9);
}

#[tokio::test]
async fn a_changed_field_updates_and_a_masked_tax_number_never_overwrites_a_tfn() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    // The user records Rowan's TFN here.
    let rowan = s.entity(ROW).await;
    let mut input = EntityInput {
        kind: rowan.kind,
        name: rowan.name.clone(),
        first_name: rowan.first_name.clone(),
        last_name: rowan.last_name.clone(),
        date_of_birth: rowan.date_of_birth,
        email: rowan.email.clone(),
        phone: rowan.phone.clone(),
        address: rowan.address.clone(),
        postal_address: rowan.postal_address.clone(),
        tfn: Some("123 456 782".into()),
        ..Default::default()
    };
    entities::update(&s.db, s.org, &s.cipher, rowan.id, &input, s.admin().now())
        .await
        .unwrap();
    input.tfn = None;

    // In XPM: Rowan's email changes and his TaxNumber is set (XPM serves it masked).
    s.admin()
        .set_client_field(TENANT, ROWAN, "Email", Some("rowan@new.example"))
        .unwrap();
    s.admin()
        .set_client_field(TENANT, ROWAN, "TaxNumber", Some("987654111"))
        .unwrap();
    s.admin()
        .rename_client(TENANT, FERNHILL_CO, "Fernhill Orchards Holdings Pty Ltd")
        .unwrap();
    let report = s.pull(g).await;
    assert_eq!(report.counts.entities_updated, 2);
    assert_eq!(report.counts.entities_created, 0);
    let rowan = s.entity(ROW).await;
    assert_eq!(rowan.email.as_deref(), Some("rowan@new.example"));
    assert_eq!(
        rowan.tfn_masked.as_deref(),
        Some("******782"),
        "the stored TFN stays"
    );
    assert_eq!(
        entities::reveal_tfn(&s.db, s.org, &s.cipher, rowan.id)
            .await
            .unwrap()
            .as_deref(),
        Some("123456782")
    );
    s.entity("Fernhill Orchards Holdings Pty Ltd").await;
    // The relationships are the same facts, now naming the renamed company.
    assert_eq!(s.rels(g).await.len(), 10);
}

/// Rowan's mapping row: (`xpm_name`, the `name` in `xpm_values`, the baseline of XPM's values).
async fn rowan_baseline(s: &Setup) -> (String, String) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use structuregram_core::schema::xpm_client_map;
    let map = xpm_client_map::Entity::find()
        .filter(xpm_client_map::Column::XpmUuid.eq(ROWAN))
        .one(&s.db)
        .await
        .unwrap()
        .expect("Rowan is mapped");
    let values: serde_json::Value =
        serde_json::from_str(map.xpm_values.as_deref().expect("values stored")).unwrap();
    (map.xpm_name, values["name"].as_str().unwrap().to_owned())
}

/// The group's open review items as (id, kind); subjects name clients as XPM last showed them.
async fn open_items(s: &Setup, g: i32) -> Vec<(i32, ReviewKind)> {
    s.items(g)
        .await
        .into_iter()
        .filter(|i| i.state != ReviewState::Resolved)
        .map(|i| (i.id, i.kind))
        .collect()
}

#[tokio::test]
async fn an_individual_renamed_in_xpm_is_renamed_here_like_a_company() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    let before = s.entity(ROW).await;
    let items_before = open_items(&s, g).await;
    // In XPM the user renames Rowan (XPM's Name; FirstName "Rowan" and LastName "Fernhill"
    // stay as they were, as after an update that sends only <Name>).
    s.admin()
        .rename_client(TENANT, ROWAN, "Rowan Fernhill-O'Brien")
        .unwrap();
    let report = s.pull(g).await;
    assert_eq!(report.counts.entities_updated, 1);
    assert_eq!(report.counts.entities_created, 0);
    assert_eq!(
        open_items(&s, g).await,
        items_before,
        "a rename raises no review item"
    );
    let rowan = s.entity("Rowan Fernhill-O'Brien").await;
    assert_eq!(rowan.id, before.id, "the same entity, renamed");
    assert_eq!(rowan.first_name.as_deref(), Some("Rowan"));
    assert_eq!(rowan.last_name.as_deref(), Some("Fernhill-O'Brien"));
    assert_eq!(rowan.date_of_birth, before.date_of_birth);
    assert!(!s.names(Some(g)).await.contains(&ROW.to_owned()));
    // The baseline holds the name the pull applied.
    assert_eq!(
        rowan_baseline(&s).await,
        (
            "Rowan Fernhill-O'Brien".to_owned(),
            "Rowan Fernhill-O'Brien".to_owned()
        )
    );
    // Nothing changed since: the next pull changes nothing.
    let again = s.pull(g).await;
    assert_eq!(again.counts.entities_updated, 0);
    s.entity("Rowan Fernhill-O'Brien").await;
}

#[tokio::test]
async fn a_member_removed_in_xpm_becomes_a_review_item_not_a_delete() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    s.admin()
        .move_group_member(TENANT, MAEVE, Some(FERNHILL_GROUP), None)
        .unwrap();
    let report = s.pull(g).await;
    assert_eq!(report.counts.members_removed, 0);
    assert!(
        s.names(Some(g)).await.contains(&MAE.to_owned()),
        "not removed"
    );
    let item = s.item(g, ReviewKind::MemberRemoved, MAE).await;
    assert_eq!(item.state, ReviewState::NeedsInput);

    s.decide(item.id, Decision::RemoveFromGroup).await;
    let report = s.pull(g).await;
    assert_eq!(report.counts.members_removed, 1);
    assert!(!s.names(Some(g)).await.contains(&MAE.to_owned()));
    s.entity(MAE).await; // the entity itself is kept
    let all = review::list(&s.db, s.org, g, true).await.unwrap().0;
    let done = all.iter().find(|i| i.id == item.id).unwrap();
    assert_eq!(done.state, ReviewState::Resolved);
}

#[tokio::test]
async fn unknown_structure_needs_input_and_a_remembered_rule_maps_it_next_time() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    let zoe = s.item(g, ReviewKind::EntityType, "Sole Trader").await;
    assert_eq!(
        zoe.payload.business_structure.as_deref(),
        Some("Sole Trader")
    );
    // A trust without a type is refused; an individual with "remember" is taken.
    let err = review::decide(
        &s.db,
        s.org,
        zoe.id,
        &Decision::SetKind {
            kind: EntityKind::Trust,
            trust_type: None,
            remember_as_rule: false,
        },
        s.admin().now(),
    )
    .await
    .expect_err("trust needs a type");
    assert!(matches!(err, Error::Validation(_)));
    s.decide(
        zoe.id,
        Decision::SetKind {
            kind: EntityKind::Individual,
            trust_type: None,
            remember_as_rule: true,
        },
    )
    .await;
    let rules = structures::list_rules(&s.db, s.org).await.unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        (rules[0].label.as_str(), rules[0].kind),
        ("Sole Trader", EntityKind::Individual)
    );

    let report = s.pull(g).await;
    assert_eq!(report.counts.entities_created, 1);
    let z = s.entity(ZOE_NAME).await;
    assert_eq!(z.kind, EntityKind::Individual);
    assert!(z.group_ids.contains(&g));
    assert!(s
        .items(g)
        .await
        .iter()
        .all(|i| i.kind != ReviewKind::EntityType));

    // The rule applies silently to another client with that structure.
    let other = s
        .admin()
        .add_client(TENANT, "Pat Trader", Some("sole trader"))
        .unwrap();
    s.admin()
        .move_group_member(TENANT, &other, None, Some(FERNHILL_GROUP))
        .unwrap();
    let report = s.pull(g).await;
    assert_eq!(report.counts.entities_created, 1);
    assert_eq!(s.entity("Pat Trader").await.kind, EntityKind::Individual);
    assert!(s
        .items(g)
        .await
        .iter()
        .all(|i| i.kind != ReviewKind::EntityType));
}

#[tokio::test]
async fn duplicates_are_not_created_but_reviewed_then_linked_or_created() {
    let s = setup().await;
    let now = s.admin().now();
    let mk = |input: EntityInput| {
        let (db, org, cipher) = (&s.db, s.org, &s.cipher);
        async move {
            entities::create(db, org, cipher, &input, &[], now)
                .await
                .unwrap()
        }
    };
    // Same first + last name + date of birth → high.
    let rowan_here = mk(EntityInput {
        kind: EntityKind::Individual,
        first_name: Some("rowan".into()),
        last_name: Some("FERNHILL".into()),
        date_of_birth: d("1970-11-26"),
        ..Default::default()
    })
    .await;
    // Same names, no date of birth → medium.
    mk(EntityInput {
        kind: EntityKind::Individual,
        first_name: Some("Maeve".into()),
        last_name: Some("O'Brien-Fernhill".into()),
        ..Default::default()
    })
    .await;
    // Company: same legal name → medium.
    mk(EntityInput {
        kind: EntityKind::Company,
        name: CO.into(),
        ..Default::default()
    })
    .await;
    // Trust: a different name but the same ABN → high.
    let trust_here = mk(EntityInput {
        kind: EntityKind::Trust,
        trust_type: Some(TrustType::Discretionary),
        name: "Fernhill Trust (old file)".into(),
        abn: Some("11222333444".into()),
        ..Default::default()
    })
    .await;

    let g = s.link(FERNHILL_GROUP).await;
    let report = s.pull(g).await;
    // Created: Nominees, Old Orchard, the partnership; the four look-alikes are held back.
    assert_eq!(report.counts.entities_created, 3);
    let dup = |about: &'static str| s.item(g, ReviewKind::Duplicate, about);
    let rowan_item = dup(ROW).await;
    assert_eq!(rowan_item.state, ReviewState::NeedsInput);
    assert_eq!(rowan_item.payload.candidates.len(), 1);
    assert_eq!(rowan_item.payload.candidates[0].entity_id, rowan_here.id);
    assert_eq!(rowan_item.payload.candidates[0].confidence, "high");
    assert_eq!(dup(MAE).await.payload.candidates[0].confidence, "medium");
    assert_eq!(dup(CO).await.payload.candidates[0].confidence, "medium");
    let trust_item = dup(TRUST).await;
    assert_eq!(trust_item.payload.candidates[0].confidence, "high");
    assert_eq!(trust_item.payload.candidates[0].reason, "same ABN");
    // Relationships between held-back clients wait.
    assert!(report.review.waiting > 0);
    let waiting = s
        .item(
            g,
            ReviewKind::Relationship,
            "Rowan Fernhill \u{2192} Fernhill Orchards",
        )
        .await;
    assert_eq!(waiting.state, ReviewState::Waiting);

    // A link to an entity of another kind is refused.
    let err = review::decide(
        &s.db,
        s.org,
        rowan_item.id,
        &Decision::LinkExisting {
            entity_id: trust_here.id,
        },
        now,
    )
    .await
    .expect_err("kinds differ");
    assert!(matches!(err, Error::Validation(_)));
    s.decide(
        rowan_item.id,
        Decision::LinkExisting {
            entity_id: rowan_here.id,
        },
    )
    .await;
    s.decide(dup(MAE).await.id, Decision::CreateNew).await;
    s.decide(dup(CO).await.id, Decision::CreateNew).await;
    s.decide(
        trust_item.id,
        Decision::LinkExisting {
            entity_id: trust_here.id,
        },
    )
    .await;
    let report = s.pull(g).await;
    assert_eq!(report.counts.entities_linked, 2);
    assert_eq!(report.counts.entities_created, 2);
    // The linked entities took XPM's values; the new ones stand beside the old look-alikes.
    let rowan = entities::get(&s.db, s.org, rowan_here.id).await.unwrap();
    assert_eq!(rowan.name, ROW);
    assert!(rowan.group_ids.contains(&g));
    assert_eq!(
        entities::get(&s.db, s.org, trust_here.id)
            .await
            .unwrap()
            .name,
        TRUST
    );
    let companies = entities::list(&s.db, s.org, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == CO)
        .count();
    assert_eq!(companies, 2);
    assert_eq!(
        s.rels(g).await.len(),
        10,
        "every relationship is in once its ends are"
    );
    assert_eq!(
        s.items(g)
            .await
            .iter()
            .filter(|i| matches!(i.kind, ReviewKind::Duplicate | ReviewKind::Relationship))
            .count(),
        0
    );
}

#[tokio::test]
async fn policy_cases_unknown_label_ambiguous_direction_and_a_broken_rule() {
    let s = setup().await;
    let a = s.admin();
    // Unknown label: "Consultant" (XPM shows "Consultant" on the company, "Consultant Of" on Rowan).
    a.add_relationship(TENANT, FERNHILL_CO, ROWAN, "Consultant", 0, "0", None, None)
        .unwrap();
    // Ambiguous: "Auditor" entered on both records as the plain side.
    a.add_relationship(TENANT, FERNHILL_CO, MAEVE, "Auditor", 0, "0", None, None)
        .unwrap();
    a.add_relationship(TENANT, MAEVE, FERNHILL_CO, "Auditor", 0, "0", None, None)
        .unwrap();
    // A broken rule: a third partner at 30 % would take Kowalski & Fernhill Partners to 130 %.
    a.add_relationship(
        TENANT,
        PARTNERSHIP,
        MAEVE,
        "Partner",
        0,
        "30",
        d("2020-01-01"),
        None,
    )
    .unwrap();
    a.move_group_member(TENANT, ANNA, Some(KOWALSKI_GROUP), Some(FERNHILL_GROUP))
        .unwrap();
    a.move_group_member(
        TENANT,
        PARTNERSHIP,
        Some(KOWALSKI_GROUP),
        Some(FERNHILL_GROUP),
    )
    .unwrap();
    s.structures_rule("Individual Trustee", EntityKind::Individual)
        .await;

    let g = s.link(FERNHILL_GROUP).await;
    let report = s.pull(g).await;
    let unknown = s.item(g, ReviewKind::Relationship, "Consultant").await;
    assert_eq!(unknown.state, ReviewState::NeedsInput);
    assert!(
        unknown.payload.reason.contains("no relationship type"),
        "{}",
        unknown.payload.reason
    );
    let ambiguous: Vec<_> = s
        .items(g)
        .await
        .into_iter()
        .filter(|i| i.payload.reason.contains("direction is unclear"))
        .collect();
    assert_eq!(ambiguous.len(), 2, "both readings are held back");
    let broken: Vec<_> = s
        .items(g)
        .await
        .into_iter()
        .filter(|i| i.payload.reason.contains("may not exceed 100%"))
        .collect();
    assert_eq!(broken.len(), 1, "{:?}", s.items(g).await);
    assert_eq!(
        broken[0].payload.relationship_kind,
        Some(RelationshipKind::Partner)
    );
    assert!(report.review.needs_input >= 4);

    // Resolve the unknown label as an Associate from Rowan, and one ambiguous reading.
    s.decide(
        unknown.id,
        Decision::ImportAs {
            kind: RelationshipKind::Associate,
            from_uuid: ROWAN.into(),
        },
    )
    .await;
    s.decide(
        ambiguous[0].id,
        Decision::ImportAs {
            kind: RelationshipKind::Auditor,
            from_uuid: MAEVE.into(),
        },
    )
    .await;
    s.decide(ambiguous[1].id, Decision::Defer).await;
    s.decide(broken[0].id, Decision::Defer).await;
    let before = s.rels(g).await.len();
    let report = s.pull(g).await;
    assert_eq!(report.counts.relationships_created, 2);
    let rels = s.rels(g).await;
    assert_eq!(rels.len(), before + 2);
    assert!(rels.contains(&r(
        ROW,
        RelationshipKind::Associate,
        CO,
        None,
        None,
        None,
        None
    )));
    assert!(rels.contains(&r(
        MAE,
        RelationshipKind::Auditor,
        CO,
        None,
        None,
        None,
        None
    )));
    // Deferred items stay listed, ready, and are not applied.
    let open = s.items(g).await;
    assert!(open
        .iter()
        .any(|i| i.id == ambiguous[1].id && i.state == ReviewState::Ready));
    assert!(open
        .iter()
        .any(|i| i.id == broken[0].id && i.state == ReviewState::Ready));
}

impl Setup {
    async fn structures_rule(&self, label: &str, kind: EntityKind) {
        structures::save_rule(&self.db, self.org, label, kind, None, self.admin().now())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_second_group_links_to_clients_the_first_pull_brought_in_ungrouped() {
    let s = setup().await;
    let f = s.link(FERNHILL_GROUP).await;
    s.pull(f).await;
    let k = s.link(KOWALSKI_GROUP).await;
    let report = s.pull(k).await;
    // The partnership was imported ungrouped by the Fernhill pull: mapped, so joined, not created.
    assert_eq!(report.counts.entities_created, 0, "Anna waits for her type");
    assert_eq!(s.names(Some(k)).await, [PART]);
    let anna = s
        .item(k, ReviewKind::EntityType, "Individual Trustee")
        .await;
    let waiting = s.item(k, ReviewKind::Relationship, "Anna Kowalski").await;
    assert_eq!(waiting.state, ReviewState::Waiting);
    assert!(waiting.payload.reason.contains("Anna Kowalski"));
    s.decide(
        anna.id,
        Decision::SetKind {
            kind: EntityKind::Individual,
            trust_type: None,
            remember_as_rule: false,
        },
    )
    .await;
    let report = s.pull(k).await;
    assert_eq!(report.counts.entities_created, 1);
    assert_eq!(report.counts.relationships_created, 1);
    assert!(s.rels(k).await.contains(&r(
        "Anna Kowalski",
        RelationshipKind::Partner,
        PART,
        None,
        Some(50.0),
        d("2020-01-01"),
        None
    )));
    assert_eq!(report.review.waiting + report.review.needs_input, 0);
    assert!(structures::list_rules(&s.db, s.org)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_failed_or_cancelled_pull_changes_nothing_and_the_next_one_completes() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.admin()
        .inject(FaultKind::Status500, 5, Some("client.api/get"));
    let err = s
        .try_pull(g, &PullOptions::default())
        .await
        .expect_err("XPM fails");
    assert!(matches!(err, Error::XpmCall { .. }), "{err:?}");
    assert!(entities::list(&s.db, s.org, None).await.unwrap().is_empty());
    assert!(s.items(g).await.is_empty());
    let link = links::link_of(&s.db, s.org, g).await.unwrap().unwrap();
    assert_eq!(link.last_pull_at, None);
    let history = runs::list(&s.db, s.org, Some(g), 5).await.unwrap();
    assert_eq!(history[0].status, RunStatus::Failed);
    assert_eq!(history[0].error.as_deref(), Some(err.to_string().as_str()));

    // Cancelled before the first call: nothing written either.
    s.admin().clear_faults();
    let control = PullControl::default();
    control.cancel.store(true, Ordering::SeqCst);
    let err = pull::pull(
        &s.db,
        s.org,
        &s.cipher,
        &s.x.client,
        &s.x.session,
        g,
        &PullOptions::default(),
        &control,
        s.admin().now(),
    )
    .await
    .expect_err("cancelled");
    assert!(err.to_string().contains("cancelled"));
    assert!(entities::list(&s.db, s.org, None).await.unwrap().is_empty());

    // The next pull completes.
    let report = s.pull(g).await;
    assert_eq!(report.counts.entities_created, 7);
    assert_eq!(
        runs::list(&s.db, s.org, Some(g), 5).await.unwrap()[0].status,
        RunStatus::Succeeded
    );
}

#[tokio::test]
async fn a_detailed_list_is_used_when_it_costs_fewer_calls_and_progress_is_reported() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let control = PullControl {
        on_progress: Some(Box::new(move |p| sink.lock().unwrap().push(p))),
        ..Default::default()
    };
    let report = pull::pull(
        &s.db,
        s.org,
        &s.cipher,
        &s.x.client,
        &s.x.session,
        g,
        &PullOptions {
            detailed_list_from: 2,
            ..Default::default()
        },
        &control,
        s.admin().now(),
    )
    .await
    .unwrap();
    // 1 group get + 1 detailed list; Old Orchard is archived, so not in the list: 1 get.
    assert_eq!(report.plan.strategy, FetchStrategy::DetailedList);
    assert_eq!(report.plan.calls, 3);
    assert_eq!(report.counts.entities_created, 7);
    assert_eq!(s.rels(g).await, fernhill_relationships());
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.phase, pull::PullPhase::Applying);
    assert_eq!((last.done, last.total, last.eta_seconds), (3, 3, 0));
}

#[tokio::test]
async fn pulling_needs_a_link() {
    let s = setup().await;
    let g = structuregram_core::groups::create(&s.db, s.org, "Loose", s.admin().now())
        .await
        .unwrap();
    let err = s
        .try_pull(g.id, &PullOptions::default())
        .await
        .expect_err("not linked");
    assert!(
        matches!(err, Error::Validation(ref m) if m.contains("not linked")),
        "{err:?}"
    );
    let _ = discovery::catalog(&s.db, s.org, &CatalogFilter::default()).await;
}

#[tokio::test]
async fn a_holding_class_is_set_or_kept_unset_and_survives_later_pulls() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    let rowan = s.item(g, ReviewKind::HoldingClass, "Rowan Fernhill").await;
    let maeve = s.item(g, ReviewKind::HoldingClass, MAE).await;
    assert_eq!(
        rowan.payload.relationship_kind,
        Some(RelationshipKind::Shareholder)
    );
    s.decide(
        rowan.id,
        Decision::SetShareClass {
            share_class: " Ordinary ".into(),
        },
    )
    .await;
    s.decide(maeve.id, Decision::Keep).await;
    // Carried out at once: no pull needed.
    let class_of = |rels: Vec<structuregram_core::model::Relationship>, id: i32| {
        rels.into_iter()
            .find(|r| r.id == id)
            .and_then(|r| r.details.share_class)
    };
    let rels = relationships::list_for_group(&s.db, s.org, g)
        .await
        .unwrap();
    assert_eq!(
        class_of(rels, rowan.payload.relationship_id.unwrap()).as_deref(),
        Some("Ordinary")
    );
    assert!(s
        .items(g)
        .await
        .iter()
        .all(|i| i.kind != ReviewKind::HoldingClass));

    // XPM ends Rowan's shareholding; a full pull updates the dates and keeps the class, and
    // does not ask about Maeve's class again.
    s.admin()
        .end_relationship(
            TENANT,
            "00000000-aaaa-4bbb-8ccc-000000000102",
            "2025-06-30".parse().unwrap(),
        )
        .unwrap();
    let report = s
        .try_pull(
            g,
            &PullOptions {
                full: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(report.counts.relationships_updated, 1);
    let rels = relationships::list_for_group(&s.db, s.org, g)
        .await
        .unwrap();
    let holding = rels
        .iter()
        .find(|r| r.id == rowan.payload.relationship_id.unwrap())
        .unwrap();
    assert_eq!(holding.details.end_date, d("2025-06-30"));
    assert_eq!(holding.details.share_class.as_deref(), Some("Ordinary"));
    assert!(s
        .items(g)
        .await
        .iter()
        .all(|i| i.kind != ReviewKind::HoldingClass));
}

#[tokio::test]
async fn unlinking_keeps_the_mappings_so_linking_again_and_pulling_duplicates_nothing() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    let before = s.names(None).await;
    let rels_before = s.rels(g).await;
    links::unlink(&s.db, s.org, g, s.admin().now())
        .await
        .unwrap();
    assert_eq!(s.names(None).await, before, "entities stay");
    assert_eq!(s.rels(g).await, rels_before, "relationships stay");

    links::link_existing(&s.db, s.org, FERNHILL_GROUP, g, s.admin().now())
        .await
        .unwrap();
    // A new link has never been pulled: every member is read again, and matched by mapping.
    let report = s.pull(g).await;
    assert_eq!(report.plan.strategy, FetchStrategy::PerClient);
    assert_eq!(report.counts.entities_created, 0);
    assert_eq!(report.counts.relationships_created, 0);
    assert_eq!(report.counts.entities_updated, 0);
    assert_eq!(s.names(None).await, before);
    assert_eq!(s.rels(g).await, rels_before);
}

#[tokio::test]
async fn outside_clients_can_be_flagged_instead_of_imported() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    let flag = PullOptions {
        outside: pull::OutsidePolicy::Flag,
        ..Default::default()
    };
    let report = s.try_pull(g, &flag).await.unwrap();
    // No related gets: 1 group get + 6 member gets.
    assert_eq!((report.plan.related_read, report.plan.calls), (0, 7));
    assert_eq!(report.counts.entities_created, 5);
    assert!(!s.names(None).await.contains(&PART.to_owned()));
    let part = s.item(g, ReviewKind::OutsideClient, PART).await;
    s.item(g, ReviewKind::OutsideClient, OLD).await;
    let waiting = s
        .item(
            g,
            ReviewKind::Relationship,
            &format!("{ROW} \u{2192} {PART}"),
        )
        .await;
    assert_eq!(waiting.state, ReviewState::Waiting);

    // The user asks for the partnership after all: the next (flagging) pull reads and creates it.
    s.decide(part.id, Decision::CreateNew).await;
    let report = s.try_pull(g, &flag).await.unwrap();
    assert_eq!(report.plan.related_read, 1);
    assert_eq!(report.counts.entities_created, 1);
    assert!(
        s.entity(PART).await.group_ids.is_empty(),
        "still outside the group"
    );
    assert!(s.rels(g).await.contains(&r(
        ROW,
        RelationshipKind::Partner,
        PART,
        None,
        Some(50.0),
        d("2020-01-01"),
        None
    )));
    let open = s.items(g).await;
    assert!(open.iter().all(|i| i.id != part.id && i.id != waiting.id));
    assert!(
        open.iter()
            .any(|i| i.kind == ReviewKind::OutsideClient && i.subject.contains(OLD)),
        "the other flagged client is still waiting for a decision"
    );
}

#[tokio::test]
async fn rules_are_listed_and_deleted_and_a_deleted_rule_asks_again() {
    let s = setup().await;
    structures::save_rule(
        &s.db,
        s.org,
        "Sole  trader",
        EntityKind::Company,
        None,
        s.admin().now(),
    )
    .await
    .unwrap();
    let err = structures::save_rule(
        &s.db,
        s.org,
        "Bare",
        EntityKind::Trust,
        None,
        s.admin().now(),
    )
    .await
    .expect_err("a trust rule needs a trust type");
    assert!(matches!(err, Error::Validation(_)));
    let rules = structures::list_rules(&s.db, s.org).await.unwrap();
    assert_eq!(rules.len(), 1);
    structures::delete_rule(&s.db, s.org, rules[0].id)
        .await
        .unwrap();
    assert!(structures::list_rules(&s.db, s.org)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        structures::delete_rule(&s.db, s.org, rules[0].id).await,
        Err(Error::NotFound(_))
    ));
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    s.item(g, ReviewKind::EntityType, "Sole Trader").await;
}

#[tokio::test]
async fn a_relationship_gone_from_xpm_and_a_changed_kind_are_reviewed_not_applied_silently() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    s.pull(g).await;
    // In XPM: Maeve's shareholding is deleted, and the trustee company is recast as a trust.
    s.admin()
        .delete_relationship(TENANT, "00000000-aaaa-4bbb-8ccc-000000000103")
        .unwrap();
    s.admin()
        .set_client_field(TENANT, NOMINEES, "BusinessStructure", Some("Trust"))
        .unwrap();
    let full = PullOptions {
        full: true,
        ..Default::default()
    };
    let report = s.try_pull(g, &full).await.unwrap();
    assert_eq!(
        report.counts.relationships_deleted, 0,
        "never a silent delete"
    );
    assert_eq!(s.rels(g).await, fernhill_relationships());
    let gone = s.item(g, ReviewKind::RelationshipGone, MAE).await;
    assert_eq!(gone.state, ReviewState::NeedsInput);
    assert_eq!(
        gone.payload.relationship_kind,
        Some(RelationshipKind::Shareholder)
    );
    let kind = s.item(g, ReviewKind::InvalidClient, NOM).await;
    assert!(
        kind.payload.reason.contains("type cannot change"),
        "{}",
        kind.payload.reason
    );
    assert_eq!(
        s.entity(NOM).await.kind,
        EntityKind::Company,
        "the entity keeps its kind"
    );

    s.decide(gone.id, Decision::DeleteHere).await;
    let report = s.try_pull(g, &full).await.unwrap();
    assert_eq!(report.counts.relationships_deleted, 1);
    let expected: Vec<Rel> = fernhill_relationships()
        .into_iter()
        .filter(|r| !(r.0 == MAE && r.1 == RelationshipKind::Shareholder))
        .collect();
    assert_eq!(s.rels(g).await, expected);
    let open = s.items(g).await;
    assert!(open.iter().all(|i| i.kind != ReviewKind::RelationshipGone));
    assert!(
        open.iter()
            .all(|i| !(i.kind == ReviewKind::HoldingClass && i.subject.contains(MAE))),
        "the deleted holding's class question went with it"
    );
    // The kind question stays until XPM is corrected.
    assert!(open.iter().any(|i| i.id == kind.id));
    s.admin()
        .set_client_field(
            TENANT,
            NOMINEES,
            "BusinessStructure",
            Some("Trustee Company"),
        )
        .unwrap();
    s.pull(g).await;
    assert!(s.items(g).await.iter().all(|i| i.id != kind.id));
}

#[tokio::test]
async fn a_pull_stopped_halfway_leaves_nothing_behind_and_the_next_one_completes() {
    let s = setup().await;
    let g = s.link(FERNHILL_GROUP).await;
    // Every client read takes 300 ms, so the pull is still reading when it is stopped.
    s.admin()
        .inject(FaultKind::Latency { ms: 300 }, 20, Some("client.api/get"));
    let (db, org, cipher) = (s.db.clone(), s.org, s.cipher.clone());
    let (client, session, now) = (s.x.client.clone(), s.x.session.clone(), s.admin().now());
    let task = tokio::spawn(async move {
        pull::pull(
            &db,
            org,
            &cipher,
            &client,
            &session,
            g,
            &PullOptions::default(),
            &PullControl::default(),
            now,
        )
        .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert!(s
        .admin()
        .counters()
        .per_endpoint
        .contains_key("GET client.api/get"));
    assert!(entities::list(&s.db, s.org, None).await.unwrap().is_empty());
    assert!(s.items(g).await.is_empty());
    let history = runs::list(&s.db, s.org, Some(g), 5).await.unwrap();
    assert_eq!(
        history[0].status,
        RunStatus::Running,
        "the stopped run never finished"
    );

    s.admin().clear_faults();
    let report = s.pull(g).await;
    assert_eq!(report.counts.entities_created, 7);
    assert_eq!(s.rels(g).await, fernhill_relationships());
    let history = runs::list(&s.db, s.org, Some(g), 5).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.status).collect::<Vec<_>>(),
        [RunStatus::Succeeded, RunStatus::Interrupted]
    );
}
