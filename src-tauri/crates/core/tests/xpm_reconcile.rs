//! Reconciliation (issue 10) against the simulator: one test per difference type (product-spec
//! §8.12), built by editing XPM through the simulator's admin API or StructureGram through core
//! services; apply checked on the XPM side (admin API, reads) and the StructureGram side (core);
//! a failing write that blocks only its dependants; and a seeded property test: after "prefer
//! XPM" (or "prefer StructureGram") and apply, a new preview shows no differences.
//!
//! Starting point of every test: a local "Harbour Group" (a company, its director, a unit trust
//! the company holds 100 units in) linked to a new XPM group whose only member is a seed company
//! made in XPM. The first reconciliation (accept recommendations, apply) creates the three in
//! XPM, imports the seed, and must leave an empty preview.

mod common;

use chrono::{Duration, NaiveDate};
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use structuregram_core::discovery;
use structuregram_core::model::{
    EntityInput, EntityKind, RelationshipInput, RelationshipKind, TrustType,
};
use structuregram_core::pull::{self, PullControl, PullOptions};
use structuregram_core::reconcile::{
    self, Action, ApplyControl, ApplyOutcome, ApplyReport, DiffType, FieldChoice, Helper,
    ItemStatus, ReconcileDecision, ReconcilePreview,
};
use structuregram_core::tfn::TfnCipher;
use structuregram_core::{entities, groups, links, relationships, DatabaseConnection, OrgId};
use xpm::{ClientGroupInput, Field};
use xpm_sim::FaultKind;

struct T {
    x: Xpm,
    db: DatabaseConnection,
    org: OrgId,
    cipher: TfnCipher,
    group: i32,
    xgroup: String,
    co: i32,
    ada: i32,
    trust: i32,
}

fn rel(kind: RelationshipKind, from: i32, to: i32) -> RelationshipInput {
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

impl T {
    fn admin(&self) -> &xpm_sim::AdminHandle {
        &self.x.sim.admin
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.admin().now()
    }

    async fn preview(&self) -> ReconcilePreview {
        self.preview_of(self.group).await
    }

    async fn preview_of(&self, group: i32) -> ReconcilePreview {
        reconcile::preview(
            &self.db,
            self.org,
            &self.cipher,
            &self.x.client,
            &self.x.session,
            group,
            self.now(),
        )
        .await
        .unwrap()
    }

    async fn apply(&self) -> ApplyReport {
        self.apply_of(self.group).await
    }

    async fn apply_of(&self, group: i32) -> ApplyReport {
        reconcile::apply(
            &self.db,
            self.org,
            &self.cipher,
            &self.x.client,
            &self.x.session,
            group,
            &ApplyControl::default(),
            self.now(),
        )
        .await
        .unwrap()
    }

    /// A company entity here, in `groups`.
    async fn add_company(&self, name: &str, groups: &[i32]) -> i32 {
        entities::create(
            &self.db,
            self.org,
            &self.cipher,
            &EntityInput {
                kind: EntityKind::Company,
                name: name.into(),
                ..Default::default()
            },
            groups,
            self.now(),
        )
        .await
        .unwrap()
        .id
    }

    async fn decide(&self, item: &str, d: ReconcileDecision) -> ReconcilePreview {
        reconcile::decide(&self.db, self.org, self.group, item, Some(d), self.now())
            .await
            .unwrap()
    }

    async fn helper(&self, h: Helper) -> ReconcilePreview {
        reconcile::helper(&self.db, self.org, self.group, h, self.now())
            .await
            .unwrap()
    }

    /// Preview, accept the recommendations, apply; asserts nothing failed.
    async fn settle(&self) -> ApplyReport {
        self.preview().await;
        let p = self.helper(Helper::AcceptRecommendations).await;
        assert!(p.summary.ready_to_apply, "{:#?}", p.items);
        let r = self.apply().await;
        assert_eq!(r.counts.failed + r.counts.blocked, 0, "{:#?}", r.results);
        r
    }

    async fn assert_clean(&self) {
        let p = self.preview().await;
        assert!(p.items.is_empty(), "left over: {:#?}", p.items);
    }

    async fn uuid_of(&self, name: &str) -> String {
        self.admin().find_client(TENANT, name).unwrap().expect(name)
    }

    async fn xpm_members(&self) -> Vec<String> {
        self.admin().group_members(TENANT, &self.xgroup).unwrap()
    }

    async fn xpm_client(&self, uuid: &str) -> xpm::Client {
        self.x
            .client
            .get_client(&self.x.session, &uuid.parse().unwrap())
            .await
            .unwrap()
            .client
    }

    async fn add_xpm_client(&self, name: &str, structure: &str) -> String {
        let u = self
            .admin()
            .add_client(TENANT, name, Some(structure))
            .unwrap();
        self.admin()
            .move_group_member(TENANT, &u, None, Some(&self.xgroup))
            .unwrap();
        u
    }

    fn one(p: &ReconcilePreview, t: DiffType) -> reconcile::ReconcileItem {
        let of: Vec<_> = p.items.iter().filter(|i| i.diff_type == t).collect();
        assert_eq!(of.len(), 1, "one {t:?} in {:#?}", p.items);
        of[0].clone()
    }
}

async fn setup() -> T {
    let x = xpm().await;
    x.sim.admin.advance(Duration::hours(1));
    let (db, org) = memory_db().await;
    let now = x.sim.admin.now();
    let seed = x
        .sim
        .admin
        .add_client(TENANT, "Harbour Seed Pty Ltd", Some("Company"))
        .unwrap();
    let g = x
        .client
        .add_client_group(
            &x.session,
            &ClientGroupInput {
                name: "Harbour Group".into(),
                taxable: Field::Missing,
                client: seed.parse().unwrap(),
            },
        )
        .await
        .unwrap();
    discovery::refresh(&db, org, &x.client, &x.session, now)
        .await
        .unwrap();
    let cipher = TfnCipher::random();
    let group = groups::create(&db, org, "Harbour Group", now)
        .await
        .unwrap()
        .id;
    let mk = |input: EntityInput| {
        let (db, cipher) = (&db, &cipher);
        async move {
            entities::create(db, org, cipher, &input, &[group], now)
                .await
                .unwrap()
                .id
        }
    };
    let co = mk(EntityInput {
        kind: EntityKind::Company,
        name: "Harbour Holdings Pty Ltd".into(),
        abn: Some("51824753556".into()),
        email: Some("office@harbour.example".into()),
        phone: Some("02 5550 9000".into()),
        ..Default::default()
    })
    .await;
    let ada = mk(EntityInput {
        kind: EntityKind::Individual,
        first_name: Some("Ada".into()),
        last_name: Some("Harbour".into()),
        date_of_birth: NaiveDate::from_ymd_opt(1980, 3, 14),
        ..Default::default()
    })
    .await;
    let trust = mk(EntityInput {
        kind: EntityKind::Trust,
        trust_type: Some(TrustType::Unit),
        name: "Harbour Unit Trust".into(),
        ..Default::default()
    })
    .await;
    relationships::create(
        &db,
        org,
        &RelationshipInput {
            start_date: NaiveDate::from_ymd_opt(2020, 7, 1),
            ..rel(RelationshipKind::Director, ada, co)
        },
        now,
    )
    .await
    .unwrap();
    relationships::create(
        &db,
        org,
        &RelationshipInput {
            shares: Some(100),
            ..rel(RelationshipKind::Unitholder, co, trust)
        },
        now,
    )
    .await
    .unwrap();
    let xgroup = g.uuid.hyphenated().to_string();
    links::link_existing(&db, org, &xgroup, group, now)
        .await
        .unwrap();
    let t = T {
        x,
        db,
        org,
        cipher,
        group,
        xgroup,
        co,
        ada,
        trust,
    };
    t.settle().await;
    t.assert_clean().await;
    t
}

#[tokio::test]
async fn the_first_round_creates_the_local_group_in_xpm_and_imports_the_xpm_member() {
    let t = setup().await;
    // XPM side: the three entities exist and are members, with the two relationships.
    let members = t.xpm_members().await;
    assert_eq!(members.len(), 4, "seed + three created");
    let co = t.uuid_of("Harbour Holdings Pty Ltd").await;
    assert!(members.contains(&co));
    let c = t.xpm_client(&co).await;
    let labels: Vec<&str> = c
        .relationships
        .iter()
        .flatten()
        .map(|r| r.label.as_str())
        .collect();
    assert!(
        labels.iter().any(|l| l.eq_ignore_ascii_case("director")),
        "{labels:?}"
    );
    // StructureGram side: the seed company is imported into the group.
    let names: Vec<String> = entities::list(&t.db, t.org, Some(t.group))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(
        names.contains(&"Harbour Seed Pty Ltd".to_owned()),
        "{names:?}"
    );
}

#[tokio::test]
async fn field_mismatches_are_decided_field_by_field_and_recommend_the_side_that_changed() {
    let t = setup().await;
    let co = t.uuid_of("Harbour Holdings Pty Ltd").await;
    // XPM changes the ABN (spaced, as XPM writes it); StructureGram changes the e-mail.
    t.admin()
        .set_client_field(TENANT, &co, "BusinessNumber", Some("53 004 085 616"))
        .unwrap();
    let mut input = entities::get(&t.db, t.org, t.co).await.unwrap();
    input.email = Some("accounts@harbour.example".into());
    let e = &input;
    entities::update(
        &t.db,
        t.org,
        &t.cipher,
        t.co,
        &EntityInput {
            kind: e.kind,
            name: e.name.clone(),
            abn: e.abn.clone(),
            email: e.email.clone(),
            phone: e.phone.clone(),
            ..Default::default()
        },
        t.now(),
    )
    .await
    .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::EntityFieldMismatch);
    assert_eq!(it.id, format!("fields:{}", t.co));
    let abn = it
        .fields
        .iter()
        .find(|f| f.field == "BusinessNumber")
        .unwrap();
    assert_eq!(abn.xpm.as_deref(), Some("53004085616"), "digits only");
    assert_eq!(abn.recommended, Some(FieldChoice::UseXpm));
    let email = it.fields.iter().find(|f| f.field == "Email").unwrap();
    assert_eq!(email.recommended, Some(FieldChoice::UseSg));
    assert_eq!(it.status, ItemStatus::Ready);
    assert_eq!(p.summary.by_category.entity_details, 1);
    let r = t.apply().await;
    assert_eq!(r.counts.applied, 1, "{:#?}", r.results);
    assert_eq!(
        entities::get(&t.db, t.org, t.co)
            .await
            .unwrap()
            .abn
            .as_deref(),
        Some("53004085616")
    );
    assert_eq!(
        t.admin()
            .client_field(TENANT, &co, "Email")
            .unwrap()
            .as_deref(),
        Some("accounts@harbour.example")
    );
    t.assert_clean().await;
}

#[tokio::test]
async fn a_field_both_sides_changed_needs_input_and_an_ignored_field_stays() {
    let t = setup().await;
    let co = t.uuid_of("Harbour Holdings Pty Ltd").await;
    t.admin()
        .set_client_field(TENANT, &co, "Phone", Some("02 5550 1111"))
        .unwrap();
    let e = entities::get(&t.db, t.org, t.co).await.unwrap();
    entities::update(
        &t.db,
        t.org,
        &t.cipher,
        t.co,
        &EntityInput {
            kind: e.kind,
            name: e.name.clone(),
            abn: e.abn.clone(),
            email: e.email.clone(),
            phone: Some("02 5550 2222".into()),
            ..Default::default()
        },
        t.now(),
    )
    .await
    .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::EntityFieldMismatch);
    assert_eq!(it.status, ItemStatus::NeedsInput);
    assert!(!p.summary.ready_to_apply);
    // Apply refuses while something needs input.
    let err = reconcile::apply(
        &t.db,
        t.org,
        &t.cipher,
        &t.x.client,
        &t.x.session,
        t.group,
        &ApplyControl::default(),
        t.now(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("The plan is not ready: 1 item needs your input"),
        "{err}"
    );
    let p = t
        .decide(
            &it.id,
            ReconcileDecision {
                fields: [("Phone".to_owned(), FieldChoice::Ignore)].into(),
                ..Default::default()
            },
        )
        .await;
    assert!(p.summary.ready_to_apply);
    let r = t.apply().await;
    assert_eq!(r.results[0].outcome, ApplyOutcome::Ignored);
    // The decision is kept: the same difference comes back still decided.
    let p = t.preview().await;
    let it = T::one(&p, DiffType::EntityFieldMismatch);
    assert_eq!(it.status, ItemStatus::Ready);
    assert!(it.decision.is_some());
}

#[tokio::test]
async fn an_xpm_only_client_is_imported_into_the_group() {
    let t = setup().await;
    let u = t.add_xpm_client("Quayside Pty Ltd", "Company").await;
    let p = t.preview().await;
    let it = T::one(&p, DiffType::EntityOnlyInXpm);
    assert_eq!(it.id, format!("xpm-only:{u}"));
    assert_eq!(it.recommended, Some(Action::ImportToSg));
    t.apply().await;
    let e = entities::list(&t.db, t.org, Some(t.group))
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.name == "Quayside Pty Ltd")
        .expect("imported");
    assert_eq!(e.kind, EntityKind::Company);
    t.assert_clean().await;
}

#[tokio::test]
async fn an_sg_only_entity_is_created_in_xpm_and_added_to_the_group() {
    let t = setup().await;
    entities::create(
        &t.db,
        t.org,
        &t.cipher,
        &EntityInput {
            kind: EntityKind::Company,
            name: "Wharf Services Pty Ltd".into(),
            ..Default::default()
        },
        &[t.group],
        t.now(),
    )
    .await
    .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::EntityOnlyInSg);
    assert_eq!(it.recommended, Some(Action::CreateInXpm));
    t.apply().await;
    let u = t.uuid_of("Wharf Services Pty Ltd").await;
    assert!(t.xpm_members().await.contains(&u));
    t.assert_clean().await;
}

#[tokio::test]
async fn an_unmappable_structure_needs_a_type_then_imports_as_it() {
    let t = setup().await;
    let u = t
        .add_xpm_client("Mystery Vehicle", "Special Purpose Vehicle")
        .await;
    let p = t.preview().await;
    let it = T::one(&p, DiffType::EntityTypeUnresolved);
    assert_eq!(it.status, ItemStatus::NeedsInput);
    assert_eq!(it.id, format!("type:{u}"));
    t.decide(
        &it.id,
        ReconcileDecision {
            action: Some(Action::ChooseType),
            kind: Some(EntityKind::Company),
            ..Default::default()
        },
    )
    .await;
    let r = t.apply().await;
    assert_eq!(r.counts.applied, 1, "{:#?}", r.results);
    let e = entities::list(&t.db, t.org, Some(t.group))
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.name == "Mystery Vehicle")
        .unwrap();
    assert_eq!(e.kind, EntityKind::Company);
    t.assert_clean().await;
}

#[tokio::test]
async fn a_possible_duplicate_is_linked_to_the_matching_entity() {
    let t = setup().await;
    // An entity outside any group, and an XPM member with the same name.
    let dup = t.add_company("Pier Nominees Pty Ltd", &[]).await;
    t.add_xpm_client("Pier Nominees Pty Ltd", "Company").await;
    let p = t.preview().await;
    let it = T::one(&p, DiffType::PossibleDuplicate);
    assert_eq!(it.candidates[0].entity_id, dup);
    assert_eq!(it.status, ItemStatus::NeedsInput);
    // A non-candidate is refused.
    let err = reconcile::decide(
        &t.db,
        t.org,
        t.group,
        &it.id,
        Some(ReconcileDecision {
            action: Some(Action::LinkToSg),
            entity_id: Some(t.co),
            ..Default::default()
        }),
        t.now(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not one of the matches"), "{err}");
    t.decide(
        &it.id,
        ReconcileDecision {
            action: Some(Action::LinkToSg),
            entity_id: Some(dup),
            ..Default::default()
        },
    )
    .await;
    t.apply().await;
    let e = entities::get(&t.db, t.org, dup).await.unwrap();
    assert!(
        e.group_ids.contains(&t.group),
        "linked and added to the group"
    );
    t.assert_clean().await;
}

#[tokio::test]
async fn a_mapping_to_an_archived_client_is_kept_by_default_or_cleared_on_request() {
    let t = setup().await;
    let seed = t.uuid_of("Harbour Seed Pty Ltd").await;
    t.admin().set_archived(TENANT, &seed, true).unwrap();
    t.admin()
        .move_group_member(TENANT, &seed, Some(&t.xgroup), None)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::StaleMapping);
    assert!(it.id.starts_with("archived:"), "{}", it.id);
    assert_eq!(
        it.recommended,
        Some(Action::Ignore),
        "keeping it is the default"
    );
    assert_eq!(it.actions, vec![Action::Ignore, Action::ClearMapping]);
    t.decide(
        &it.id,
        ReconcileDecision {
            action: Some(Action::ClearMapping),
            ..Default::default()
        },
    )
    .await;
    t.apply().await;
    // Next round: the entity is only in StructureGram now.
    let p = t.preview().await;
    assert_eq!(
        T::one(&p, DiffType::EntityOnlyInSg).subject,
        "Harbour Seed Pty Ltd"
    );
}

#[tokio::test]
async fn an_archived_related_client_is_recognised_and_its_relationships_still_match() {
    let t = setup().await;
    // XPM archives the company and drops it from the group; Ada's directorship of it and its
    // 100 units in the trust are still on the other members' records.
    let co = t.uuid_of("Harbour Holdings Pty Ltd").await;
    t.admin().set_archived(TENANT, &co, true).unwrap();
    t.admin()
        .move_group_member(TENANT, &co, Some(&t.xgroup), None)
        .unwrap();
    let p = t.preview().await;
    // One item, the archived client: not a stale mapping to clear, and neither relationship
    // shown as only here and only in XPM.
    assert_eq!(p.items.len(), 1, "{:#?}", p.items);
    let it = &p.items[0];
    assert_eq!(it.id, format!("archived:{}", t.co));
    assert_eq!(it.diff_type, DiffType::StaleMapping);
    assert_eq!(it.xpm_uuid.as_deref(), Some(co.as_str()));
    assert_eq!(it.effective, Some(Action::Ignore));
    assert_eq!(it.status, ItemStatus::Ready);
    assert!(it.note.as_deref().unwrap().contains("archived in XPM"));
    // Accepting the recommendation changes nothing, and the next round shows the same one
    // item: no clear / duplicate / link loop.
    let r = t.settle().await;
    assert_eq!(
        (r.counts.applied, r.counts.ignored),
        (0, 1),
        "{:#?}",
        r.results
    );
    let p = t.preview().await;
    let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, vec![format!("archived:{}", t.co).as_str()]);
}

/// The fixture's "Fernhill Family" linked as a new group and pulled, with its review
/// decided (Zoë as an individual) so that reconciling it starts from no difference.
async fn pulled_fernhill() -> (Xpm, DatabaseConnection, OrgId, TfnCipher, i32) {
    let x = xpm().await;
    x.sim.admin.advance(Duration::hours(1));
    let (db, org) = memory_db().await;
    let now = x.sim.admin.now();
    discovery::refresh(&db, org, &x.client, &x.session, now)
        .await
        .unwrap();
    let group = links::link_new(&db, org, FERNHILL_GROUP, now)
        .await
        .unwrap()
        .group_id;
    let cipher = TfnCipher::random();
    pull::pull(
        &db,
        org,
        &cipher,
        &x.client,
        &x.session,
        group,
        &PullOptions::default(),
        &PullControl::default(),
        now,
    )
    .await
    .unwrap();
    x.sim.admin.advance(Duration::hours(1));
    (x, db, org, cipher, group)
}

#[tokio::test]
async fn an_archived_member_keeps_its_relationships_matched_and_keeping_it_does_not_loop() {
    let (x, db, org, cipher, group) = pulled_fernhill().await;
    let preview = || async {
        reconcile::preview(
            &db,
            org,
            &cipher,
            &x.client,
            &x.session,
            group,
            x.sim.admin.now(),
        )
        .await
        .unwrap()
    };
    let rel_items = |p: &ReconcilePreview| -> Vec<reconcile::ReconcileItem> {
        p.items
            .iter()
            .filter(|i| {
                matches!(
                    i.diff_type,
                    DiffType::RelOnlyInSg | DiffType::RelOnlyInXpm | DiffType::RelAttrMismatch
                )
            })
            .cloned()
            .collect()
    };
    let before = preview().await;
    assert!(rel_items(&before).is_empty(), "{:#?}", before.items);
    let rels_in_xpm = x.sim.admin.relationships(TENANT).unwrap().len();
    let rowan_rels = x
        .sim
        .admin
        .relationships(TENANT)
        .unwrap()
        .into_iter()
        .filter(|r| r.client == ROWAN || r.related == ROWAN)
        .count();
    assert!(rowan_rels >= 3, "Rowan's directorship, partnership, spouse");

    // XPM archives Rowan (and drops him from the group); all relationships stay in XPM.
    x.sim.admin.set_archived(TENANT, ROWAN, true).unwrap();
    assert_eq!(
        x.sim.admin.relationships(TENANT).unwrap().len(),
        rels_in_xpm
    );
    let p = preview().await;
    assert!(rel_items(&p).is_empty(), "{:#?}", p.items);
    let archived: Vec<_> = p
        .items
        .iter()
        .filter(|i| i.id.starts_with("archived:"))
        .collect();
    assert_eq!(archived.len(), 1, "{:#?}", p.items);
    assert_eq!(archived[0].xpm_uuid.as_deref(), Some(ROWAN));
    assert_eq!(archived[0].effective, Some(Action::Ignore));

    // Maeve moves to another XPM group: the Rowan–Maeve spouse relationship is now on two
    // clients outside the group, and still there.
    x.sim
        .admin
        .move_group_member(TENANT, MAEVE, Some(FERNHILL_GROUP), Some(KOWALSKI_GROUP))
        .unwrap();
    let p = preview().await;
    assert!(rel_items(&p).is_empty(), "{:#?}", p.items);

    // Applying the defaults (keep the mapping), with the rest left for later (Zoë's type,
    // Maeve's membership), changes nothing in XPM, and the next round shows the same items:
    // no loop.
    let ids = |p: &ReconcilePreview| -> Vec<String> {
        let mut v: Vec<String> = p.items.iter().map(|i| i.id.clone()).collect();
        v.sort();
        v
    };
    let first = ids(&p);
    for it in p
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::NeedsInput)
    {
        reconcile::decide(
            &db,
            org,
            group,
            &it.id,
            Some(ReconcileDecision {
                action: Some(Action::Ignore),
                ..Default::default()
            }),
            x.sim.admin.now(),
        )
        .await
        .unwrap();
    }
    reconcile::helper(
        &db,
        org,
        group,
        Helper::AcceptRecommendations,
        x.sim.admin.now(),
    )
    .await
    .unwrap();
    x.sim.admin.reset_counters();
    let r = reconcile::apply(
        &db,
        org,
        &cipher,
        &x.client,
        &x.session,
        group,
        &ApplyControl::default(),
        x.sim.admin.now(),
    )
    .await
    .unwrap();
    assert_eq!(r.counts.failed + r.counts.blocked, 0, "{:#?}", r.results);
    assert_eq!(r.counts.applied, 0, "{:#?}", r.results);
    let writes: u64 = x
        .sim
        .admin
        .counters()
        .per_endpoint
        .iter()
        .filter(|(k, _)| k.starts_with("POST") || k.starts_with("PUT"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(writes, 0, "{:?}", x.sim.admin.counters().per_endpoint);
    let again = preview().await;
    assert_eq!(ids(&again), first, "{:#?}", again.items);
    assert!(rel_items(&again).is_empty());
}

#[tokio::test]
async fn a_relationship_of_an_archived_member_really_deleted_in_xpm_says_the_client_is_archived() {
    let (x, db, org, cipher, group) = pulled_fernhill().await;
    x.sim.admin.set_archived(TENANT, ROWAN, true).unwrap();
    let director = x
        .sim
        .admin
        .relationships(TENANT)
        .unwrap()
        .into_iter()
        .find(|r| {
            r.rtype == "Director"
                && (r.client == ROWAN || r.related == ROWAN)
                && (r.client == OLD_ORCHARD || r.related == OLD_ORCHARD)
        })
        .expect("Rowan directs Old Orchard Supplies");
    x.sim
        .admin
        .delete_relationship(TENANT, &director.uuid)
        .unwrap();
    let p = reconcile::preview(
        &db,
        org,
        &cipher,
        &x.client,
        &x.session,
        group,
        x.sim.admin.now(),
    )
    .await
    .unwrap();
    let it = T::one(&p, DiffType::RelOnlyInSg);
    assert!(it.subject.contains("Old Orchard"), "{}", it.subject);
    assert_eq!(it.recommended, None, "restoring it is not the default");
    let note = it.note.as_deref().unwrap();
    assert!(
        note.starts_with("Rowan Fernhill is archived in XPM"),
        "{note}"
    );
    assert!(note.contains("deleted there"), "{note}");
    assert!(T::one(&p, DiffType::StaleMapping)
        .id
        .starts_with("archived:"));
}

#[tokio::test]
async fn creating_again_a_relationship_deleted_in_xpm_sends_it_and_it_does_not_come_back() {
    let t = setup().await;
    let (co, ada) = (
        t.uuid_of("Harbour Holdings Pty Ltd").await,
        t.uuid_of("Ada Harbour").await,
    );
    let is_directorship = |r: &xpm_sim::admin::RelationshipView| {
        r.rtype == "Director"
            && ([&r.client, &r.related] == [&ada, &co] || [&r.client, &r.related] == [&co, &ada])
    };
    let director = t
        .admin()
        .relationships(TENANT)
        .unwrap()
        .into_iter()
        .find(|r| is_directorship(r))
        .expect("the directorship is in XPM");
    t.admin()
        .delete_relationship(TENANT, &director.uuid)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelOnlyInSg);
    t.decide(
        &it.id,
        ReconcileDecision {
            action: Some(Action::CreateInXpm),
            ..Default::default()
        },
    )
    .await;
    let r = t.apply().await;
    let res = r.results.iter().find(|x| x.item_id == it.id).unwrap();
    assert_eq!(res.outcome, ApplyOutcome::Applied, "{res:#?}");
    assert_eq!(res.message, None, "a real create, not 'nothing was sent'");
    assert!(
        t.admin()
            .relationships(TENANT)
            .unwrap()
            .iter()
            .any(is_directorship),
        "created again in XPM"
    );
    t.assert_clean().await;
}

#[tokio::test]
async fn a_member_moved_to_another_xpm_group_is_not_added_back_by_default() {
    let t = setup().await;
    let ada = t.uuid_of("Ada Harbour").await;
    // In XPM, Ada moves to a group of her own.
    t.x.client
        .add_client_group(
            &t.x.session,
            &ClientGroupInput {
                name: "Ada Harbour Family".into(),
                taxable: Field::Missing,
                client: ada.parse().unwrap(),
            },
        )
        .await
        .unwrap();
    t.admin()
        .move_group_member(TENANT, &ada, Some(&t.xgroup), None)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::MembershipOnlyInSg);
    assert_eq!(it.entity_id, Some(t.ada));
    assert_eq!(it.recommended, None, "the user decides");
    assert_eq!(it.effective, None);
    assert_eq!(it.status, ItemStatus::NeedsInput);
    let note = it.note.as_deref().unwrap();
    assert!(
        note.contains("\u{201c}Ada Harbour Family\u{201d}"),
        "{note}"
    );
    assert!(!p.summary.ready_to_apply);
    // Accepting recommendations leaves it undecided: nothing re-adds her.
    let p = t.helper(Helper::AcceptRecommendations).await;
    assert_eq!(T::one(&p, DiffType::MembershipOnlyInSg).decision, None);
}

#[tokio::test]
async fn a_member_missing_from_the_xpm_group_is_added_back() {
    let t = setup().await;
    let ada = t.uuid_of("Ada Harbour").await;
    t.admin()
        .move_group_member(TENANT, &ada, Some(&t.xgroup), None)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::MembershipOnlyInSg);
    assert_eq!(it.entity_id, Some(t.ada));
    t.apply().await;
    assert!(t.xpm_members().await.contains(&ada));
    t.assert_clean().await;
}

#[tokio::test]
async fn an_xpm_member_missing_from_the_local_group_is_added_or_removed_from_xpm_when_confirmed() {
    let t = setup().await;
    let ada = t.uuid_of("Ada Harbour").await;
    let keep: Vec<i32> = entities::list(&t.db, t.org, Some(t.group))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .filter(|id| *id != t.ada)
        .collect();
    groups::set_members(&t.db, t.org, t.group, &keep, t.now())
        .await
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::MembershipOnlyInXpm);
    assert_eq!(it.id, format!("xpm-member:{ada}"));
    // Removing from XPM is guarded: unconfirmed, it is ignored this round with a caveat.
    let p = t
        .decide(
            &it.id,
            ReconcileDecision {
                action: Some(Action::RemoveFromXpmGroup),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(p.items[0].effective, Some(Action::Ignore));
    assert!(p.summary.caveats[0].contains("not confirmed"));
    let r = t.apply().await;
    assert_eq!(r.results[0].outcome, ApplyOutcome::Ignored);
    assert!(t.xpm_members().await.contains(&ada));
    // Confirmed: removed from the XPM group, last.
    t.preview().await;
    let p = t
        .decide(
            &it.id,
            ReconcileDecision {
                action: Some(Action::RemoveFromXpmGroup),
                confirmed: true,
                ..Default::default()
            },
        )
        .await;
    assert!(p.summary.caveats[0].contains("deletes or removes 1 item"));
    let r = t.apply().await;
    assert_eq!(
        r.results[0].outcome,
        ApplyOutcome::Applied,
        "{:#?}",
        r.results
    );
    assert!(!t.xpm_members().await.contains(&ada));
    t.assert_clean().await;
}

#[tokio::test]
async fn an_sg_only_relationship_is_created_in_xpm() {
    let t = setup().await;
    relationships::create(
        &t.db,
        t.org,
        &rel(RelationshipKind::Secretary, t.ada, t.co),
        t.now(),
    )
    .await
    .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelOnlyInSg);
    assert_eq!(it.recommended, Some(Action::CreateInXpm));
    t.apply().await;
    let co = t.uuid_of("Harbour Holdings Pty Ltd").await;
    let c = t.xpm_client(&co).await;
    assert!(c
        .relationships
        .iter()
        .flatten()
        .any(|r| r.label.eq_ignore_ascii_case("secretary")));
    t.assert_clean().await;
}

#[tokio::test]
async fn an_xpm_only_relationship_is_imported_or_deleted_in_xpm_when_confirmed() {
    let t = setup().await;
    let (co, ada) = (
        t.uuid_of("Harbour Holdings Pty Ltd").await,
        t.uuid_of("Ada Harbour").await,
    );
    t.admin()
        .add_relationship(TENANT, &co, &ada, "Secretary", 0, "0", None, None)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelOnlyInXpm);
    assert_eq!(it.id, format!("rel-xpm:{ada}|secretary|{co}"));
    t.apply().await;
    let rels = relationships::list_for_group(&t.db, t.org, t.group)
        .await
        .unwrap();
    assert!(rels
        .iter()
        .any(|r| r.details.kind == RelationshipKind::Secretary && r.details.from_id == t.ada));
    t.assert_clean().await;
    // Another one, deleted in XPM on confirmation.
    t.admin()
        .add_relationship(TENANT, &co, &ada, "Public Officer", 0, "0", None, None)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelOnlyInXpm);
    t.decide(
        &it.id,
        ReconcileDecision {
            action: Some(Action::DeleteInXpm),
            confirmed: true,
            ..Default::default()
        },
    )
    .await;
    let r = t.apply().await;
    assert_eq!(
        r.results[0].outcome,
        ApplyOutcome::Applied,
        "{:#?}",
        r.results
    );
    t.assert_clean().await;
}

#[tokio::test]
async fn a_relationship_deleted_in_xpm_since_the_last_sync_needs_a_decision_not_a_recreate() {
    let t = setup().await;
    let (co, ada) = (
        t.uuid_of("Harbour Holdings Pty Ltd").await,
        t.uuid_of("Ada Harbour").await,
    );
    // An XPM user deletes Ada's directorship, which the first round sent to XPM.
    let views = t.admin().relationships(TENANT).unwrap();
    let director = views
        .iter()
        .find(|r| r.rtype == "Director" && [&r.client, &r.related] == [&ada, &co])
        .or_else(|| {
            views
                .iter()
                .find(|r| r.rtype == "Director" && [&r.client, &r.related] == [&co, &ada])
        })
        .expect("the directorship is in XPM");
    t.admin()
        .delete_relationship(TENANT, &director.uuid)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelOnlyInSg);
    assert_eq!(it.recommended, None, "restoring it is not the default");
    assert_eq!(it.status, ItemStatus::NeedsInput);
    assert!(it.note.as_deref().unwrap().contains("deleted there"));
    assert!(!p.summary.ready_to_apply);
    // A relationship never sent to XPM is still recommended for creation.
    relationships::create(
        &t.db,
        t.org,
        &rel(RelationshipKind::Secretary, t.ada, t.co),
        t.now(),
    )
    .await
    .unwrap();
    let p = t.preview().await;
    let fresh: Vec<_> = p
        .items
        .iter()
        .filter(|i| i.diff_type == DiffType::RelOnlyInSg && i.recommended.is_some())
        .collect();
    assert_eq!(fresh.len(), 1, "{:#?}", p.items);
    assert_eq!(fresh[0].recommended, Some(Action::CreateInXpm));
}

#[tokio::test]
async fn a_confirmed_deletion_is_asked_again_in_the_next_round() {
    let t = setup().await;
    let (co, ada) = (
        t.uuid_of("Harbour Holdings Pty Ltd").await,
        t.uuid_of("Ada Harbour").await,
    );
    t.admin()
        .add_relationship(TENANT, &co, &ada, "Public Officer", 0, "0", None, None)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelOnlyInXpm);
    let decided = t
        .decide(
            &it.id,
            ReconcileDecision {
                action: Some(Action::DeleteInXpm),
                confirmed: true,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        decided.items[0].effective,
        Some(Action::DeleteInXpm),
        "confirmed this round"
    );
    // Not applied; a new preview: the deletion is no longer decided, the safe default is back.
    let p = t.preview().await;
    let again = T::one(&p, DiffType::RelOnlyInXpm);
    assert_eq!(again.decision, None);
    assert_eq!(again.effective, Some(Action::ImportToSg));
    let current = reconcile::current(&t.db, t.org, t.group)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        current.items[0].decision, None,
        "forgotten in the database too"
    );
}

#[tokio::test]
async fn an_ignored_item_is_undecided_again_in_the_next_round_and_other_decisions_stay() {
    let t = setup().await;
    let u = t.add_xpm_client("Quayside Pty Ltd", "Company").await;
    let local = t.add_company("Wharf Services Pty Ltd", &[t.group]).await;
    t.preview().await;
    let (xpm_only, sg_only) = (format!("xpm-only:{u}"), format!("sg-only:{local}"));
    let ignore = ReconcileDecision {
        action: Some(Action::Ignore),
        ..Default::default()
    };
    let create = ReconcileDecision {
        action: Some(Action::CreateInXpm),
        ..Default::default()
    };
    t.decide(&xpm_only, ignore.clone()).await;
    t.decide(&sg_only, create.clone()).await;
    let item =
        |p: &ReconcilePreview, id: &str| p.items.iter().find(|i| i.id == id).cloned().unwrap();
    // A new preview without applying: the ignore is gone, the recommendation is back; the
    // other decision stays.
    let p = t.preview().await;
    assert_eq!(item(&p, &xpm_only).decision, None);
    assert_eq!(item(&p, &xpm_only).effective, Some(Action::ImportToSg));
    assert_eq!(item(&p, &sg_only).decision, Some(create.clone()));
    let current = reconcile::current(&t.db, t.org, t.group)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        item(&current, &xpm_only).decision,
        None,
        "forgotten in the database too"
    );
    // Ignored in an apply: still undecided in the round after.
    t.decide(&xpm_only, ignore).await;
    t.decide(
        &sg_only,
        ReconcileDecision {
            action: Some(Action::Ignore),
            ..Default::default()
        },
    )
    .await;
    let r = t.apply().await;
    assert_eq!(r.counts.ignored, 2, "{:#?}", r.results);
    let p = t.preview().await;
    assert_eq!(item(&p, &xpm_only).decision, None);
    assert_eq!(item(&p, &sg_only).decision, None);
    assert_eq!(item(&p, &sg_only).effective, Some(Action::CreateInXpm));
}

#[tokio::test]
async fn applying_the_same_plan_again_reports_its_items_as_already_applied() {
    let t = setup().await;
    let u = t.add_xpm_client("Quayside Pty Ltd", "Company").await;
    t.preview().await;
    let r = t.apply().await;
    assert_eq!(r.counts.applied, 1, "{:#?}", r.results);
    let id = format!("xpm-only:{u}");
    assert_eq!(
        reconcile::applied(&t.db, t.org, t.group).await.unwrap(),
        vec![id.clone()]
    );
    // Again, without a new preview: nothing to do, nothing reported as changed.
    let again = t.apply().await;
    assert!(again.results.is_empty(), "{:#?}", again.results);
    assert!(
        again.not_in_preview.is_empty(),
        "{:?}",
        again.not_in_preview
    );
    assert_eq!(
        reconcile::applied(&t.db, t.org, t.group).await.unwrap(),
        vec![id]
    );
    // A new preview is a new plan.
    t.assert_clean().await;
    assert!(reconcile::applied(&t.db, t.org, t.group)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_second_group_linked_but_never_pulled_adopts_the_relationships_already_here() {
    let t = setup().await;
    let (co, ada) = (
        t.uuid_of("Harbour Holdings Pty Ltd").await,
        t.uuid_of("Ada Harbour").await,
    );
    // A secretaryship entered on both sides by hand: the same relationship, never synced.
    t.admin()
        .add_relationship(TENANT, &co, &ada, "Secretary", 0, "0", None, None)
        .unwrap();
    relationships::create(
        &t.db,
        t.org,
        &rel(RelationshipKind::Secretary, t.ada, t.co),
        t.now(),
    )
    .await
    .unwrap();
    // A second XPM group holding Ada and the company, linked to a new local group (empty:
    // never pulled).
    let g2 =
        t.x.client
            .add_client_group(
                &t.x.session,
                &ClientGroupInput {
                    name: "Harbour Directors".into(),
                    taxable: Field::Missing,
                    client: ada.parse().unwrap(),
                },
            )
            .await
            .unwrap()
            .uuid
            .hyphenated()
            .to_string();
    t.admin()
        .move_group_member(TENANT, &co, None, Some(&g2))
        .unwrap();
    discovery::refresh(&t.db, t.org, &t.x.client, &t.x.session, t.now())
        .await
        .unwrap();
    let group2 = groups::create(&t.db, t.org, "Harbour Directors", t.now())
        .await
        .unwrap()
        .id;
    links::link_existing(&t.db, t.org, &g2, group2, t.now())
        .await
        .unwrap();
    let p = t.preview_of(group2).await;
    // Only the two memberships differ: the directorship (synced by the first group), the
    // secretaryship (unsynced on both sides) and the company's units in the trust are here.
    let mut ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    let mut want = vec![format!("xpm-member:{ada}"), format!("xpm-member:{co}")];
    want.sort();
    assert_eq!(ids, want, "{:#?}", p.items);
    reconcile::helper(&t.db, t.org, group2, Helper::AcceptRecommendations, t.now())
        .await
        .unwrap();
    let r = t.apply_of(group2).await;
    assert_eq!(
        (r.counts.applied, r.counts.failed),
        (2, 0),
        "{:#?}",
        r.results
    );
    let p = t.preview_of(group2).await;
    assert!(p.items.is_empty(), "{:#?}", p.items);
    // Still one secretaryship here.
    let secretaries = relationships::list_for_group(&t.db, t.org, t.group)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.details.kind == RelationshipKind::Secretary)
        .count();
    assert_eq!(secretaries, 1);
}

#[tokio::test]
async fn a_relationship_of_a_client_linked_this_round_is_adopted_not_imported_twice() {
    let t = setup().await;
    // Here: Pier Nominees (in no group, never synced) with Ada as its director. In XPM: the
    // same company, new in the group, with the same directorship.
    let pier = t.add_company("Pier Nominees Pty Ltd", &[]).await;
    relationships::create(
        &t.db,
        t.org,
        &rel(RelationshipKind::Director, t.ada, pier),
        t.now(),
    )
    .await
    .unwrap();
    let ada = t.uuid_of("Ada Harbour").await;
    let xpier = t.add_xpm_client("Pier Nominees Pty Ltd", "Company").await;
    t.admin()
        .add_relationship(TENANT, &xpier, &ada, "Director", 0, "0", None, None)
        .unwrap();
    let p = t.preview().await;
    let dup = T::one(&p, DiffType::PossibleDuplicate);
    t.decide(
        &dup.id,
        ReconcileDecision {
            action: Some(Action::LinkToSg),
            entity_id: Some(pier),
            ..Default::default()
        },
    )
    .await;
    let r = t.apply().await;
    assert_eq!(r.counts.failed + r.counts.blocked, 0, "{:#?}", r.results);
    t.assert_clean().await;
    let directors = relationships::list_for_group(&t.db, t.org, t.group)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.details.kind == RelationshipKind::Director && r.details.to_id == pier)
        .count();
    assert_eq!(directors, 1, "one directorship of Pier Nominees, not two");
}

#[tokio::test]
async fn relationship_values_that_differ_follow_the_side_that_changed() {
    let t = setup().await;
    // StructureGram changes the units held.
    let rels = relationships::list_for_group(&t.db, t.org, t.group)
        .await
        .unwrap();
    let unit = rels
        .iter()
        .find(|r| r.details.kind == RelationshipKind::Unitholder)
        .unwrap();
    relationships::update(
        &t.db,
        t.org,
        unit.id,
        &RelationshipInput {
            shares: Some(250),
            ..unit.details.clone()
        },
        t.now(),
    )
    .await
    .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelAttrMismatch);
    assert_eq!(it.fields[0].field, "NumberOfShares");
    assert_eq!(it.fields[0].xpm.as_deref(), Some("100"));
    assert_eq!(it.recommended, Some(Action::UseSgValues));
    t.apply().await;
    let trust = t.uuid_of("Harbour Unit Trust").await;
    let c = t.xpm_client(&trust).await;
    let shares: Vec<i64> = c
        .relationships
        .iter()
        .flatten()
        .filter_map(|r| r.number_of_shares.value().copied())
        .collect();
    assert!(shares.contains(&250), "{shares:?}");
    t.assert_clean().await;
    // XPM changes the director's start date: XPM's value is recommended and taken.
    let co = t.uuid_of("Harbour Holdings Pty Ltd").await;
    let c = t.xpm_client(&co).await;
    let director = c
        .relationships
        .iter()
        .flatten()
        .find(|r| r.label.eq_ignore_ascii_case("director"))
        .unwrap();
    t.admin()
        .end_relationship(
            TENANT,
            &director.uuid.hyphenated().to_string(),
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        )
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelAttrMismatch);
    assert_eq!(it.recommended, Some(Action::UseXpmValues));
    t.apply().await;
    let rels = relationships::list_for_group(&t.db, t.org, t.group)
        .await
        .unwrap();
    let d = rels
        .iter()
        .find(|r| r.details.kind == RelationshipKind::Director)
        .unwrap();
    assert_eq!(d.details.end_date, NaiveDate::from_ymd_opt(2025, 6, 30));
    t.assert_clean().await;
}

#[tokio::test]
async fn an_unknown_xpm_label_needs_a_policy_and_is_deferred_by_default() {
    let t = setup().await;
    let (co, ada) = (
        t.uuid_of("Harbour Holdings Pty Ltd").await,
        t.uuid_of("Ada Harbour").await,
    );
    t.admin()
        .add_relationship(TENANT, &co, &ada, "Grand Poobah", 0, "0", None, None)
        .unwrap();
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelNeedsPolicy);
    assert_eq!(it.recommended, Some(Action::Defer));
    let r = t.apply().await;
    assert_eq!(r.results[0].outcome, ApplyOutcome::Deferred);
    // Resolved by choosing a type: imported.
    let p = t.preview().await;
    let it = T::one(&p, DiffType::RelNeedsPolicy);
    t.decide(
        &it.id,
        ReconcileDecision {
            action: Some(Action::ImportToSg),
            relationship_kind: Some(RelationshipKind::Associate),
            ..Default::default()
        },
    )
    .await;
    let r = t.apply().await;
    assert_eq!(
        r.results[0].outcome,
        ApplyOutcome::Applied,
        "{:#?}",
        r.results
    );
}

#[tokio::test]
async fn a_failed_create_blocks_its_relationship_and_nothing_else() {
    let t = setup().await;
    let e = entities::create(
        &t.db,
        t.org,
        &t.cipher,
        &EntityInput {
            kind: EntityKind::Individual,
            first_name: Some("Ben".into()),
            last_name: Some("Harbour".into()),
            ..Default::default()
        },
        &[t.group],
        t.now(),
    )
    .await
    .unwrap()
    .id;
    relationships::create(
        &t.db,
        t.org,
        &rel(RelationshipKind::Director, e, t.co),
        t.now(),
    )
    .await
    .unwrap();
    // An independent change: XPM renames the trust.
    let trust = t.uuid_of("Harbour Unit Trust").await;
    t.admin()
        .set_client_field(TENANT, &trust, "Email", Some("trust@harbour.example"))
        .unwrap();
    let p = t.preview().await;
    assert_eq!(p.items.len(), 3, "{:#?}", p.items);
    t.admin()
        .inject(FaultKind::Status500, 1, Some("client.api/add"));
    let r = t.apply().await;
    let outcome = |prefix: &str| {
        r.results
            .iter()
            .find(|x| x.item_id.starts_with(prefix))
            .map(|x| x.outcome)
            .unwrap()
    };
    assert_eq!(
        outcome("sg-only:"),
        ApplyOutcome::Failed,
        "{:#?}",
        r.results
    );
    assert_eq!(outcome("rel-sg:"), ApplyOutcome::Blocked);
    assert_eq!(outcome("fields:"), ApplyOutcome::Applied);
    assert!(r.results[0..].iter().any(|x| x.message.is_some()));
    assert_eq!(
        entities::get(&t.db, t.org, t.trust)
            .await
            .unwrap()
            .email
            .as_deref(),
        Some("trust@harbour.example")
    );
}

/// One random edit to either side.
async fn random_edit(t: &T, rng: &mut StdRng, n: usize) {
    let co = t.uuid_of("Harbour Holdings Pty Ltd").await;
    let ada = t.uuid_of("Ada Harbour").await;
    match rng.gen_range(0..7) {
        0 => t
            .admin()
            .set_client_field(TENANT, &co, "Email", Some(&format!("x{n}@harbour.example")))
            .unwrap(),
        1 => t
            .admin()
            .set_client_field(TENANT, &co, "Phone", Some(&format!("02 5550 {:04}", n)))
            .unwrap(),
        2 => {
            let e = entities::get(&t.db, t.org, t.co).await.unwrap();
            entities::update(
                &t.db,
                t.org,
                &t.cipher,
                t.co,
                &EntityInput {
                    kind: e.kind,
                    name: e.name.clone(),
                    abn: e.abn.clone(),
                    email: Some(format!("sg{n}@harbour.example")),
                    phone: e.phone.clone(),
                    ..Default::default()
                },
                t.now(),
            )
            .await
            .unwrap();
        }
        3 => {
            t.admin()
                .add_relationship(TENANT, &co, &ada, "Secretary", 0, "0", None, None)
                .ok();
        }
        4 => {
            let rels = relationships::list_for_group(&t.db, t.org, t.group)
                .await
                .unwrap();
            if let Some(u) = rels
                .iter()
                .find(|r| r.details.kind == RelationshipKind::Unitholder)
            {
                relationships::update(
                    &t.db,
                    t.org,
                    u.id,
                    &RelationshipInput {
                        shares: Some(100 + n as i64),
                        ..u.details.clone()
                    },
                    t.now(),
                )
                .await
                .unwrap();
            }
        }
        5 => {
            t.add_xpm_client(&format!("Generated {n} Pty Ltd"), "Company")
                .await;
        }
        _ => {
            entities::create(
                &t.db,
                t.org,
                &t.cipher,
                &EntityInput {
                    kind: EntityKind::Company,
                    name: format!("Local {n} Pty Ltd"),
                    ..Default::default()
                },
                &[t.group],
                t.now(),
            )
            .await
            .unwrap();
        }
    }
}

#[tokio::test]
async fn after_preferring_one_side_everywhere_and_applying_nothing_differs() {
    for seed in 0..4u64 {
        for helper in [Helper::PreferXpm, Helper::PreferSg] {
            let t = setup().await;
            let mut rng = StdRng::seed_from_u64(seed);
            let edits = rng.gen_range(1..5);
            for n in 0..edits {
                random_edit(&t, &mut rng, n).await;
            }
            t.preview().await;
            let p = t.helper(helper).await;
            assert!(
                p.summary.ready_to_apply,
                "seed {seed} {helper:?}: {:#?}",
                p.items
            );
            let r = t.apply().await;
            assert_eq!(
                r.counts.failed + r.counts.blocked,
                0,
                "seed {seed} {helper:?}: {:#?}",
                r.results
            );
            let p = t.preview().await;
            assert!(p.items.is_empty(), "seed {seed} {helper:?}: {:#?}", p.items);
        }
    }
}

#[tokio::test]
async fn a_linked_never_pulled_fixture_group_reconciles_to_nothing_after_one_decision() {
    let x = xpm().await;
    x.sim.admin.advance(Duration::hours(1));
    let (db, org) = memory_db().await;
    let now = x.sim.admin.now();
    discovery::refresh(&db, org, &x.client, &x.session, now)
        .await
        .unwrap();
    let group = links::link_new(&db, org, FERNHILL_GROUP, now)
        .await
        .unwrap()
        .group_id;
    let cipher = TfnCipher::random();
    let p = reconcile::preview(&db, org, &cipher, &x.client, &x.session, group, now)
        .await
        .unwrap();
    let zoe = T::one(&p, DiffType::EntityTypeUnresolved);
    reconcile::decide(
        &db,
        org,
        group,
        &zoe.id,
        Some(ReconcileDecision {
            action: Some(Action::ChooseType),
            kind: Some(EntityKind::Individual),
            ..Default::default()
        }),
        now,
    )
    .await
    .unwrap();
    let p = reconcile::current(&db, org, group).await.unwrap().unwrap();
    assert!(p.summary.ready_to_apply, "{:#?}", p.items);
    let r = reconcile::apply(
        &db,
        org,
        &cipher,
        &x.client,
        &x.session,
        group,
        &ApplyControl::default(),
        now,
    )
    .await
    .unwrap();
    assert_eq!(r.counts.failed + r.counts.blocked, 0, "{:#?}", r.results);
    // Reopening the review (no XPM call) shows only what was not applied, not the differences
    // just settled.
    let left = reconcile::current(&db, org, group).await.unwrap().unwrap();
    let not_applied: Vec<&str> = r
        .results
        .iter()
        .filter(|res| res.outcome != reconcile::ApplyOutcome::Applied)
        .map(|res| res.item_id.as_str())
        .collect();
    let left_ids: Vec<&str> = left.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(left_ids, not_applied, "{:#?}", left.items);
    assert_eq!(left.summary.total as usize, not_applied.len());
    let p = reconcile::preview(&db, org, &cipher, &x.client, &x.session, group, now)
        .await
        .unwrap();
    assert!(p.items.is_empty(), "{:#?}", p.items);
}

#[tokio::test]
async fn an_individual_renamed_in_xpm_and_pulled_is_not_renamed_back_by_reconcile() {
    use structuregram_core::pull::{self, PullControl, PullOptions};
    let x = xpm().await;
    x.sim.admin.advance(Duration::hours(1));
    let (db, org) = memory_db().await;
    let cipher = TfnCipher::random();
    discovery::refresh(&db, org, &x.client, &x.session, x.sim.admin.now())
        .await
        .unwrap();
    let group = links::link_new(&db, org, FERNHILL_GROUP, x.sim.admin.now())
        .await
        .unwrap()
        .group_id;
    let pull = || async {
        let now = x.sim.admin.now();
        let r = pull::pull(
            &db,
            org,
            &cipher,
            &x.client,
            &x.session,
            group,
            &PullOptions::default(),
            &PullControl::default(),
            now,
        )
        .await
        .unwrap();
        x.sim.admin.advance(Duration::hours(1));
        r
    };
    pull().await;
    x.sim
        .admin
        .rename_client(TENANT, ROWAN, "Rowan Fernhill-O'Brien")
        .unwrap();
    assert_eq!(pull().await.counts.entities_updated, 1);
    let rowan = entities::list(&db, org, Some(group))
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.name == "Rowan Fernhill-O'Brien")
        .expect("Rowan renamed here");
    let p = reconcile::preview(
        &db,
        org,
        &cipher,
        &x.client,
        &x.session,
        group,
        x.sim.admin.now(),
    )
    .await
    .unwrap();
    let fields: Vec<_> = p
        .items
        .iter()
        .filter(|i| i.diff_type == DiffType::EntityFieldMismatch && i.entity_id == Some(rowan.id))
        .flat_map(|i| i.fields.iter())
        .collect();
    // No Name difference. XPM's own LastName still says "Fernhill" (only its Name changed);
    // here the last name is the rest of the new name, and only this side moved from the
    // baseline for it, so the recommendation completes the rename in XPM's LastName.
    assert_eq!(fields.len(), 1, "{fields:#?}");
    assert_eq!(fields[0].field, "LastName");
    assert_eq!(fields[0].sg.as_deref(), Some("Fernhill-O'Brien"));
    assert_eq!(fields[0].xpm.as_deref(), Some("Fernhill"));
    assert_eq!(fields[0].recommended, Some(FieldChoice::UseSg));
    // Accepting the recommendations (the one item only the user can decide, Zoë's unmapped
    // structure, left alone) keeps the XPM user's rename in XPM and here.
    let p = reconcile::helper(
        &db,
        org,
        group,
        Helper::AcceptRecommendations,
        x.sim.admin.now(),
    )
    .await
    .unwrap();
    for it in p
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::NeedsInput)
    {
        assert_ne!(it.entity_id, Some(rowan.id), "{it:#?}");
        let decision = ReconcileDecision {
            action: Some(Action::Ignore),
            ..Default::default()
        };
        reconcile::decide(&db, org, group, &it.id, Some(decision), x.sim.admin.now())
            .await
            .unwrap();
    }
    let r = reconcile::apply(
        &db,
        org,
        &cipher,
        &x.client,
        &x.session,
        group,
        &ApplyControl::default(),
        x.sim.admin.now(),
    )
    .await
    .unwrap();
    let field = |f: &str| x.sim.admin.client_field(TENANT, ROWAN, f).unwrap();
    assert_eq!(field("Name").as_deref(), Some("Rowan Fernhill-O'Brien"));
    assert_eq!(field("FirstName").as_deref(), Some("Rowan"));
    assert_eq!(
        field("LastName").as_deref(),
        Some("Fernhill-O'Brien"),
        "{r:#?}"
    );
    assert_eq!(
        entities::get(&db, org, rowan.id).await.unwrap().name,
        "Rowan Fernhill-O'Brien"
    );
    let p = reconcile::preview(
        &db,
        org,
        &cipher,
        &x.client,
        &x.session,
        group,
        x.sim.admin.now(),
    )
    .await
    .unwrap();
    assert!(
        p.items.iter().all(|i| i.entity_id != Some(rowan.id)),
        "{:#?}",
        p.items
    );
}
