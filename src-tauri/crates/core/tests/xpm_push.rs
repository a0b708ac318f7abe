//! Push (issue 9) against the simulator's small fixture practice, checked on the XPM side through
//! the simulator's admin API and by reading back with the `xpm` client.
//!
//! Two starting points: a new local group ("Harbour Group": a company, its director and a
//! discretionary trust) linked to the fixture's XPM group "Kowalski & Fernhill Partners"
//! (so everything is created), and the fixture's "Fernhill Family" pulled first (so everything
//! is mapped, and a push sends only what is edited afterwards).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDate};
use common::*;
use structuregram_core::discovery;
use structuregram_core::model::{
    Entity, EntityInput, EntityKind, RelationshipInput, RelationshipKind, TrustType,
};
use structuregram_core::pull::{self, PullControl, PullOptions};
use structuregram_core::push::{
    self, ItemOutcome, PushAction, PushControl, PushOptions, PushPhase, PushReport,
};
use structuregram_core::runs::{self, RunKind, RunStatus};
use structuregram_core::tfn::TfnCipher;
use structuregram_core::{entities, groups, links, relationships, DatabaseConnection, OrgId};
use xpm_sim::FaultKind;

struct Setup {
    x: Xpm,
    db: DatabaseConnection,
    org: OrgId,
    cipher: TfnCipher,
}

async fn setup() -> Setup {
    let x = xpm().await;
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

fn company(name: &str, abn: &str) -> EntityInput {
    EntityInput {
        kind: EntityKind::Company,
        name: name.into(),
        abn: Some(abn.into()),
        ..Default::default()
    }
}

fn person(first: &str, last: &str) -> EntityInput {
    EntityInput {
        kind: EntityKind::Individual,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        date_of_birth: NaiveDate::from_ymd_opt(1980, 3, 14),
        ..Default::default()
    }
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

fn input_of(e: &Entity) -> EntityInput {
    EntityInput {
        kind: e.kind,
        trust_type: e.trust_type,
        name: e.name.clone(),
        first_name: e.first_name.clone(),
        middle_name: e.middle_name.clone(),
        last_name: e.last_name.clone(),
        other_name: e.other_name.clone(),
        date_of_birth: e.date_of_birth,
        date_of_death: e.date_of_death,
        abn: e.abn.clone(),
        acn: e.acn.clone(),
        tfn: None,
        email: e.email.clone(),
        phone: e.phone.clone(),
        address: e.address.clone(),
        postal_address: e.postal_address.clone(),
        status: Some(e.status),
        notes: e.notes.clone(),
    }
}

/// The local "Harbour Group", linked to the XPM group Kowalski & Fernhill Partners.
struct Harbour {
    group: i32,
    co: i32,
    ada: i32,
    trust: i32,
}

impl Setup {
    fn admin(&self) -> &xpm_sim::AdminHandle {
        &self.x.sim.admin
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.admin().now()
    }

    async fn harbour(&self) -> Harbour {
        let g = groups::create(&self.db, self.org, "Harbour Group", self.now())
            .await
            .unwrap()
            .id;
        let mk = |input: EntityInput| {
            let (db, org, cipher, now) = (&self.db, self.org, &self.cipher, self.now());
            async move {
                entities::create(db, org, cipher, &input, &[g], now)
                    .await
                    .unwrap()
                    .id
            }
        };
        let co = mk(EntityInput {
            email: Some("office@harbour.example".into()),
            phone: Some("02 5550 9000".into()),
            address: Some("1 Wharf Road, Sydney NSW 2000".into()),
            ..company("Harbour Holdings Pty Ltd", "51824753556")
        })
        .await;
        let ada = mk(EntityInput {
            tfn: Some("123456782".into()),
            ..person("Ada", "Harbour")
        })
        .await;
        let trust = mk(EntityInput {
            kind: EntityKind::Trust,
            trust_type: Some(TrustType::Unit),
            name: "Harbour Unit Trust".into(),
            ..Default::default()
        })
        .await;
        let now = self.now();
        relationships::create(
            &self.db,
            self.org,
            &RelationshipInput {
                start_date: NaiveDate::from_ymd_opt(2020, 7, 1),
                ..rel(RelationshipKind::Director, ada, co)
            },
            now,
        )
        .await
        .unwrap();
        relationships::create(
            &self.db,
            self.org,
            &RelationshipInput {
                shares: Some(100),
                ..rel(RelationshipKind::Unitholder, co, trust)
            },
            now,
        )
        .await
        .unwrap();
        links::link_existing(&self.db, self.org, KOWALSKI_GROUP, g, now)
            .await
            .unwrap();
        Harbour {
            group: g,
            co,
            ada,
            trust,
        }
    }

    async fn fernhill(&self) -> i32 {
        let g = links::link_new(&self.db, self.org, FERNHILL_GROUP, self.now())
            .await
            .unwrap()
            .group_id;
        pull::pull(
            &self.db,
            self.org,
            &self.cipher,
            &self.x.client,
            &self.x.session,
            g,
            &PullOptions::default(),
            &PullControl::default(),
            self.now(),
        )
        .await
        .unwrap();
        g
    }

    async fn push_with(
        &self,
        group: i32,
        options: &PushOptions,
        control: &PushControl,
    ) -> PushReport {
        push::push(
            &self.db,
            self.org,
            &self.cipher,
            &self.x.client,
            &self.x.session,
            group,
            options,
            control,
            self.now(),
        )
        .await
        .unwrap()
    }

    async fn push(&self, group: i32) -> PushReport {
        self.push_with(group, &PushOptions::default(), &PushControl::default())
            .await
    }

    async fn entity(&self, id: i32) -> Entity {
        entities::get(&self.db, self.org, id).await.unwrap()
    }

    async fn by_name(&self, name: &str) -> Entity {
        let all = entities::list(&self.db, self.org, None).await.unwrap();
        all.into_iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no entity {name}"))
    }

    /// The XPM client UUID an entity is mapped to.
    async fn uuid(&self, entity: i32) -> String {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use structuregram_core::schema::xpm_client_map;
        let maps = xpm_client_map::Entity::find()
            .filter(xpm_client_map::Column::EntityId.eq(entity))
            .all(&self.db)
            .await
            .unwrap();
        assert_eq!(maps.len(), 1, "exactly one mapping for entity {entity}");
        maps[0].xpm_uuid.clone()
    }

    /// XPM clients whose name is exactly `name` (read back through the xpm client).
    async fn xpm_named(&self, name: &str) -> Vec<xpm::Client> {
        self.x
            .client
            .search_clients(&self.x.session, name, true)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.name == name)
            .collect()
    }

    async fn xpm_client(&self, uuid: &str) -> xpm::Client {
        self.x
            .client
            .get_client(&self.x.session, &uuid.parse().unwrap())
            .await
            .unwrap()
            .client
    }

    fn field(&self, uuid: &str, field: &str) -> Option<String> {
        self.admin().client_field(TENANT, uuid, field).unwrap()
    }

    /// Write calls (POST/PUT) the simulator served since the last reset.
    fn writes(&self) -> BTreeMap<String, u64> {
        self.admin()
            .counters()
            .per_endpoint
            .into_iter()
            .filter(|(k, _)| k.starts_with("POST ") || k.starts_with("PUT "))
            .filter(|(k, _)| !k.contains("/connect/"))
            .collect()
    }
}

/// (label, related client UUID, shares) of each relationship on a client's record.
fn rels_of(c: &xpm::Client) -> Vec<(String, String, Option<i64>)> {
    let mut out: Vec<_> = c
        .relationships
        .iter()
        .flatten()
        .map(|r| {
            (
                r.label.clone(),
                r.related_client.uuid.hyphenated().to_string(),
                r.number_of_shares.value().copied().filter(|n| *n > 0),
            )
        })
        .collect();
    out.sort();
    out
}

fn item<'r>(report: &'r PushReport, phase: PushPhase, subject: &str) -> &'r push::ItemResult {
    report
        .items
        .iter()
        .find(|i| i.phase == phase && i.subject.starts_with(subject))
        .unwrap_or_else(|| panic!("no {phase:?} item for {subject}: {:#?}", report.items))
}

#[tokio::test]
async fn plan_previews_creates_and_cost_without_calling_xpm() {
    let s = setup().await;
    let h = s.harbour().await;
    s.admin().reset_counters();
    let plan = push::plan(&s.db, s.org, &s.cipher, h.group, &PushOptions::default())
        .await
        .unwrap();
    assert_eq!(s.admin().counters().total, 0, "a dry run makes no XPM call");
    // Three clients to create, two relationships, three members to add; the group's name
    // differs from the XPM group's, which only a person can change in XPM.
    assert_eq!(plan.creates, 5, "{:#?}", plan.items);
    assert_eq!(plan.links, 3);
    assert_eq!(plan.updates, 0);
    // 3 adds + 1 group read + 1 membership write + 2 relationship adds.
    assert_eq!(plan.calls, 7);
    assert_eq!(plan.minutes, 1);
    let group = plan
        .items
        .iter()
        .find(|i| i.phase == PushPhase::Group)
        .unwrap();
    assert_eq!(group.action, PushAction::Manual);
    assert!(group.note.as_deref().unwrap().contains("Kowalski"));
    let co = plan
        .items
        .iter()
        .find(|i| i.entity_id == Some(h.co) && i.phase == PushPhase::Entities)
        .unwrap();
    let fields: BTreeMap<&str, Option<&str>> = co
        .changes
        .iter()
        .map(|c| (c.field.as_str(), c.to.as_deref()))
        .collect();
    assert_eq!(fields["BusinessNumber"], Some("51824753556"));
    assert_eq!(fields["BusinessStructure"], Some("Company"));
    let ada = plan
        .items
        .iter()
        .find(|i| i.entity_id == Some(h.ada) && i.phase == PushPhase::Entities)
        .unwrap();
    let tfn = ada.changes.iter().find(|c| c.field == "TaxNumber").unwrap();
    assert_eq!(
        tfn.to.as_deref(),
        Some("******782"),
        "the preview shows a TFN masked"
    );
}

#[tokio::test]
async fn push_creates_clients_members_and_relationships_then_a_second_push_writes_nothing() {
    let s = setup().await;
    let h = s.harbour().await;
    s.admin().reset_counters();
    let r = s.push(h.group).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:#?}", r.items);
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.clients_created, 3);
    assert_eq!(r.counts.members_added, 3);
    assert_eq!(r.counts.relationships_created, 2);
    assert_eq!(r.calls, 7, "as the plan said");

    // Phase 1: the XPM side has the clients, with the mapped structure and identifiers.
    let co = s.uuid(h.co).await;
    let ada = s.uuid(h.ada).await;
    let trust = s.uuid(h.trust).await;
    assert_eq!(
        s.field(&co, "BusinessStructure").as_deref(),
        Some("Company")
    );
    assert_eq!(
        s.field(&co, "BusinessNumber").as_deref(),
        Some("51824753556")
    );
    assert_eq!(
        s.field(&co, "Email").as_deref(),
        Some("office@harbour.example")
    );
    assert_eq!(
        s.field(&trust, "BusinessStructure").as_deref(),
        Some("Unit Trust")
    );
    assert_eq!(
        s.field(&ada, "BusinessStructure").as_deref(),
        Some("Individual")
    );
    assert_eq!(s.field(&ada, "FirstName").as_deref(), Some("Ada"));
    assert_eq!(s.field(&ada, "DateOfBirth").as_deref(), Some("1980-03-14"));
    // The TFN went in clear from the sealed value (the simulator stores it unmasked).
    assert_eq!(s.field(&ada, "TaxNumber").as_deref(), Some("123456782"));
    assert_eq!(s.xpm_named("Harbour Holdings Pty Ltd").await.len(), 1);

    // Phase 2: the name differs and XPM cannot rename a group: reported, not failed.
    let g = item(&r, PushPhase::Group, "Harbour Group");
    assert_eq!(
        (g.action, g.outcome),
        (PushAction::Manual, ItemOutcome::Skipped)
    );

    // Phase 3: members added, the existing XPM members kept (a push never removes any).
    let members = s.admin().group_members(TENANT, KOWALSKI_GROUP).unwrap();
    for u in [&co, &ada, &trust] {
        assert!(members.contains(u), "{u} is a member: {members:?}");
    }
    assert!(members.contains(&PARTNERSHIP.to_owned()), "{members:?}");

    // Phase 5: each relationship once, plain label on the target, "… Of" on the holder.
    assert_eq!(
        rels_of(&s.xpm_client(&co).await),
        vec![
            ("Director".into(), ada.clone(), None),
            ("Shareholder Of".into(), trust.clone(), Some(100)),
        ]
    );
    assert_eq!(
        rels_of(&s.xpm_client(&trust).await),
        vec![("Shareholder".into(), co.clone(), Some(100))]
    );
    assert_eq!(
        rels_of(&s.xpm_client(&ada).await),
        vec![("Director Of".into(), co.clone(), None)]
    );

    // Idempotent: an unchanged group costs one read and no write.
    s.admin().reset_counters();
    let again = s.push(h.group).await;
    assert_eq!(s.writes(), BTreeMap::new(), "no write call");
    assert_eq!(again.calls, 1, "only the group read");
    assert_eq!(again.counts.clients_created, 0);
    assert_eq!(again.counts.relationships_created, 0);
    let plan = push::plan(&s.db, s.org, &s.cipher, h.group, &PushOptions::default())
        .await
        .unwrap();
    assert_eq!((plan.creates, plan.updates, plan.links), (0, 0, 0));
    let run = runs::list(&s.db, s.org, Some(h.group), 1).await.unwrap();
    assert_eq!(run[0].kind, RunKind::Push);
    assert_eq!(run[0].status, RunStatus::Succeeded);
}

#[tokio::test]
async fn a_push_right_after_a_pull_sends_nothing() {
    let s = setup().await;
    let g = s.fernhill().await;
    let plan = push::plan(&s.db, s.org, &s.cipher, g, &PushOptions::default())
        .await
        .unwrap();
    let busy: Vec<_> = plan
        .items
        .iter()
        .filter(|i| {
            !matches!(
                i.action,
                PushAction::Unchanged | PushAction::Skip | PushAction::Manual
            )
        })
        .collect();
    assert!(busy.is_empty(), "nothing to send after a pull: {busy:#?}");
    s.admin().reset_counters();
    let r = s.push(g).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(s.writes(), BTreeMap::new(), "no write call");
}

#[tokio::test]
async fn an_edited_entity_updates_only_the_changed_fields_and_keeps_its_custom_structure() {
    let s = setup().await;
    let g = s.fernhill().await;
    let co = s.by_name("Fernhill Orchards Pty Ltd").await;
    let trust = s.by_name("The Fernhill Family Trust").await;
    // Edit here: a new email for the company, a new phone for the trust.
    entities::update(
        &s.db,
        s.org,
        &s.cipher,
        co.id,
        &EntityInput {
            email: Some("accounts@fernhill.example".into()),
            ..input_of(&co)
        },
        s.now(),
    )
    .await
    .unwrap();
    entities::update(
        &s.db,
        s.org,
        &s.cipher,
        trust.id,
        &EntityInput {
            phone: Some("02 5550 4321".into()),
            ..input_of(&trust)
        },
        s.now(),
    )
    .await
    .unwrap();
    let trust_structure = s.field(FAMILY_TRUST, "BusinessStructure");
    let abn_before = s.field(FERNHILL_CO, "BusinessNumber");
    let tax_before = s.field(FERNHILL_CO, "TaxNumber");
    let phone_before = s.field(FERNHILL_CO, "Phone");
    let city_before = s.field(FERNHILL_CO, "City");
    assert!(abn_before.is_some() && tax_before.is_some() && phone_before.is_some());
    assert!(city_before.is_some());
    let plan = push::plan(&s.db, s.org, &s.cipher, g, &PushOptions::default())
        .await
        .unwrap();
    let co_item = plan
        .items
        .iter()
        .find(|i| i.entity_id == Some(co.id) && i.phase == PushPhase::Entities)
        .unwrap();
    assert_eq!(co_item.action, PushAction::Update);
    assert_eq!(co_item.changes.len(), 1, "{:?}", co_item.changes);
    assert_eq!(co_item.changes[0].field, "Email");
    assert_eq!(
        co_item.changes[0].from.as_deref(),
        Some("office@fernhill.example")
    );
    assert_eq!(
        co_item.changes[0].to.as_deref(),
        Some("accounts@fernhill.example")
    );
    assert_eq!(plan.updates, 2);
    s.admin().reset_counters();
    let r = s.push(g).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.clients_updated, 2);
    assert_eq!(
        s.writes(),
        BTreeMap::from([("PUT client.api/update".to_owned(), 2)])
    );
    assert_eq!(
        s.field(FERNHILL_CO, "Email").as_deref(),
        Some("accounts@fernhill.example")
    );
    // Fields not edited here are as they were in XPM (the update sent a merged full body).
    assert_eq!(s.field(FERNHILL_CO, "Phone"), phone_before);
    assert_eq!(s.field(FERNHILL_CO, "City"), city_before);
    assert_eq!(s.field(FERNHILL_CO, "BusinessNumber"), abn_before);
    assert_eq!(
        s.field(FAMILY_TRUST, "Phone").as_deref(),
        Some("02 5550 4321")
    );
    // "Discretionary Trust" (a custom structure, matched by keywords) still means this
    // trust's type, so it is kept rather than replaced by the standard "Trust".
    assert_eq!(s.field(FAMILY_TRUST, "BusinessStructure"), trust_structure);
    // The TaxNumber XPM shows masked was neither sent back nor cleared.
    assert_eq!(s.field(FERNHILL_CO, "TaxNumber"), tax_before);
    s.admin().reset_counters();
    s.push(g).await;
    assert_eq!(s.writes(), BTreeMap::new(), "pushed once, then nothing");
}

#[tokio::test]
async fn a_masked_tax_number_is_never_sent_and_a_new_tfn_goes_in_clear() {
    let s = setup().await;
    let g = s.fernhill().await;
    // XPM shows the company's TaxNumber masked; the entity has no TFN here.
    let before = s.field(FERNHILL_CO, "TaxNumber");
    let co = s.by_name("Fernhill Orchards Pty Ltd").await;
    assert_eq!(co.tfn_masked, None, "a pull never stores XPM's masked TFN");
    entities::update(
        &s.db,
        s.org,
        &s.cipher,
        co.id,
        &EntityInput {
            phone: Some("02 5550 0000".into()),
            ..input_of(&co)
        },
        s.now(),
    )
    .await
    .unwrap();
    s.push(g).await;
    assert_eq!(
        s.field(FERNHILL_CO, "TaxNumber"),
        before,
        "TaxNumber untouched when no TFN was entered"
    );
    // A TFN entered here is sent once, in clear, from its sealed value.
    entities::update(
        &s.db,
        s.org,
        &s.cipher,
        co.id,
        &EntityInput {
            tfn: Some("876543210".into()),
            ..input_of(&s.entity(co.id).await)
        },
        s.now(),
    )
    .await
    .unwrap();
    let plan = push::plan(&s.db, s.org, &s.cipher, g, &PushOptions::default())
        .await
        .unwrap();
    let change = plan
        .items
        .iter()
        .flat_map(|i| i.changes.iter())
        .find(|c| c.field == "TaxNumber")
        .unwrap();
    assert_eq!(change.to.as_deref(), Some("******210"));
    let r = s.push(g).await;
    assert_eq!(r.counts.clients_updated, 1, "{:#?}", r.items);
    assert_eq!(
        s.field(FERNHILL_CO, "TaxNumber").as_deref(),
        Some("876543210")
    );
    s.admin().reset_counters();
    s.push(g).await;
    assert_eq!(
        s.writes(),
        BTreeMap::new(),
        "XPM's last three digits now match: not sent again"
    );
}

#[tokio::test]
async fn relationship_changes_update_in_place_and_a_type_change_is_delete_and_add() {
    let s = setup().await;
    let h = s.harbour().await;
    s.push(h.group).await;
    let (co, ada, trust) = (
        s.uuid(h.co).await,
        s.uuid(h.ada).await,
        s.uuid(h.trust).await,
    );
    let rels = relationships::list_for_group(&s.db, s.org, h.group)
        .await
        .unwrap();
    let director = rels
        .iter()
        .find(|r| r.details.kind == RelationshipKind::Director)
        .unwrap();
    let holding = rels
        .iter()
        .find(|r| r.details.kind == RelationshipKind::Unitholder)
        .unwrap();
    // More units; the director becomes secretary.
    relationships::update(
        &s.db,
        s.org,
        holding.id,
        &RelationshipInput {
            shares: Some(250),
            ..holding.details.clone()
        },
        s.now(),
    )
    .await
    .unwrap();
    relationships::update(
        &s.db,
        s.org,
        director.id,
        &RelationshipInput {
            kind: RelationshipKind::Secretary,
            ..director.details.clone()
        },
        s.now(),
    )
    .await
    .unwrap();
    let plan = push::plan(&s.db, s.org, &s.cipher, h.group, &PushOptions::default())
        .await
        .unwrap();
    let actions: Vec<PushAction> = plan
        .items
        .iter()
        .filter(|i| i.phase == PushPhase::Relationships)
        .map(|i| i.action)
        .collect();
    assert_eq!(actions, vec![PushAction::Replace, PushAction::Update]);
    s.admin().reset_counters();
    let r = s.push(h.group).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.relationships_updated, 1);
    assert_eq!(r.counts.relationships_replaced, 1);
    assert_eq!(
        rels_of(&s.xpm_client(&co).await),
        vec![
            ("Secretary".into(), ada.clone(), None),
            ("Shareholder Of".into(), trust.clone(), Some(250)),
        ]
    );
    assert_eq!(
        rels_of(&s.xpm_client(&ada).await),
        vec![("Secretary Of".into(), co.clone(), None)],
        "the director relationship is gone from both records"
    );
    s.admin().reset_counters();
    s.push(h.group).await;
    assert_eq!(s.writes(), BTreeMap::new());
}

#[tokio::test]
async fn a_lost_add_response_is_found_on_retry_not_created_twice() {
    let s = setup().await;
    let h = s.harbour().await;
    // XPM creates the company but the answer never arrives; checking for it fails too
    // (both tries of the read), so this push cannot tell what happened.
    s.admin()
        .inject(FaultKind::LoseResponse, 1, Some("client.api/add"));
    s.admin()
        .inject(FaultKind::Status500, 2, Some("client.api/search"));
    let first = s.push(h.group).await;
    let co_item = item(&first, PushPhase::Entities, "Harbour Holdings");
    assert_eq!(co_item.outcome, ItemOutcome::Failed, "{co_item:#?}");
    assert!(
        co_item.message.as_deref().unwrap().contains("Push again"),
        "{co_item:?}"
    );
    assert_eq!(
        first.counts.clients_created, 2,
        "the other clients were created"
    );
    assert_eq!(s.xpm_named("Harbour Holdings Pty Ltd").await.len(), 1);
    // The relationships that need the company waited; the rest went through.
    let director = item(&first, PushPhase::Relationships, "Ada Harbour");
    assert_eq!(director.outcome, ItemOutcome::Skipped);

    s.admin().clear_faults();
    s.admin().reset_counters();
    let second = s.push(h.group).await;
    assert_eq!(second.counts.failed, 0, "{:#?}", second.items);
    assert_eq!(second.counts.clients_adopted, 1);
    assert_eq!(second.counts.clients_created, 0);
    assert_eq!(
        s.admin()
            .counters()
            .per_endpoint
            .get("POST client.api/add")
            .copied(),
        None,
        "no second create"
    );
    let found = s.xpm_named("Harbour Holdings Pty Ltd").await;
    assert_eq!(found.len(), 1, "exactly one client in XPM");
    let mapped = s.uuid(h.co).await; // asserts exactly one mapping
    assert_eq!(found[0].uuid.unwrap().hyphenated().to_string(), mapped);
    assert_eq!(second.counts.relationships_created, 2);
    s.admin().reset_counters();
    s.push(h.group).await;
    assert_eq!(s.writes(), BTreeMap::new());
}

#[tokio::test]
async fn a_lost_add_response_is_adopted_in_the_same_push() {
    let s = setup().await;
    let h = s.harbour().await;
    s.admin()
        .inject(FaultKind::LoseResponse, 1, Some("client.api/add"));
    let r = s.push(h.group).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.clients_adopted, 1);
    assert_eq!(r.counts.clients_created, 2);
    assert_eq!(s.xpm_named("Harbour Holdings Pty Ltd").await.len(), 1);
    s.uuid(h.co).await;
}

#[tokio::test]
async fn a_push_cancelled_after_phase_one_resumes_without_duplicates() {
    let s = setup().await;
    let h = s.harbour().await;
    let phases = Arc::new(Mutex::new(Vec::new()));
    let seen = phases.clone();
    let control = Arc::new_cyclic(|me: &std::sync::Weak<PushControl>| {
        let me = me.clone();
        PushControl {
            on_progress: Some(Box::new(move |p| {
                seen.lock().unwrap().push(p.phase);
                if p.phase == PushPhase::Group {
                    if let Some(c) = me.upgrade() {
                        c.cancel.store(true, Ordering::SeqCst);
                    }
                }
            })),
            ..Default::default()
        }
    });
    let first = s
        .push_with(h.group, &PushOptions::default(), &control)
        .await;
    assert_eq!(first.status, RunStatus::Cancelled);
    assert!(first.stopped.is_some());
    assert_eq!(first.counts.clients_created, 3);
    assert_eq!(first.counts.members_added, 0, "stopped before membership");
    assert_eq!(first.counts.relationships_created, 0);
    assert!(phases.lock().unwrap().contains(&PushPhase::Entities));
    let runs = runs::list(&s.db, s.org, Some(h.group), 1).await.unwrap();
    assert_eq!(runs[0].status, RunStatus::Cancelled);

    s.admin().reset_counters();
    let second = s.push(h.group).await;
    assert_eq!(second.status, RunStatus::Succeeded);
    assert_eq!(second.counts.clients_created, 0, "no duplicates");
    assert_eq!(second.counts.members_added, 3);
    assert_eq!(second.counts.relationships_created, 2);
    for name in [
        "Harbour Holdings Pty Ltd",
        "Ada Harbour",
        "Harbour Unit Trust",
    ] {
        assert_eq!(s.xpm_named(name).await.len(), 1, "{name} once");
    }
}

#[tokio::test]
async fn cross_group_dependencies_are_pushed_only_when_allowed() {
    let s = setup().await;
    let h = s.harbour().await;
    // Ada's accountant's firm is in another (unlinked) group.
    let other = groups::create(&s.db, s.org, "Advisers", s.now())
        .await
        .unwrap()
        .id;
    let firm = entities::create(
        &s.db,
        s.org,
        &s.cipher,
        &company("Ledger & Quill Pty Ltd", "33051775556"),
        &[other],
        s.now(),
    )
    .await
    .unwrap()
    .id;
    relationships::create(
        &s.db,
        s.org,
        &rel(RelationshipKind::Auditor, firm, h.co),
        s.now(),
    )
    .await
    .unwrap();
    let r = s.push(h.group).await;
    let auditor = item(&r, PushPhase::Relationships, "Ledger & Quill");
    assert_eq!(auditor.outcome, ItemOutcome::Skipped);
    assert!(auditor
        .message
        .as_deref()
        .unwrap()
        .contains("not in XPM yet"));
    assert!(s.xpm_named("Ledger & Quill Pty Ltd").await.is_empty());

    let plan = push::plan(
        &s.db,
        s.org,
        &s.cipher,
        h.group,
        &PushOptions { cross_group: true },
    )
    .await
    .unwrap();
    assert!(plan
        .items
        .iter()
        .any(|i| i.phase == PushPhase::CrossGroup && i.action == PushAction::Create));
    let r = s
        .push_with(
            h.group,
            &PushOptions { cross_group: true },
            &PushControl::default(),
        )
        .await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.clients_created, 1);
    assert_eq!(r.counts.relationships_created, 1);
    let firm_uuid = s.uuid(firm).await;
    let co = s.uuid(h.co).await;
    assert!(rels_of(&s.xpm_client(&co).await).contains(&(
        "Auditor".into(),
        firm_uuid.clone(),
        None
    )));
    assert!(
        !s.admin()
            .group_members(TENANT, KOWALSKI_GROUP)
            .unwrap()
            .contains(&firm_uuid),
        "a cross-group entity is not added to this XPM group"
    );
}

#[tokio::test]
async fn push_entity_creates_it_and_joins_its_linked_group() {
    let s = setup().await;
    let g = s.fernhill().await;
    let kid = entities::create(
        &s.db,
        s.org,
        &s.cipher,
        &person("Ivy", "Fernhill"),
        &[g],
        s.now(),
    )
    .await
    .unwrap()
    .id;
    let rowan = s.by_name("Rowan Fernhill").await;
    relationships::create(
        &s.db,
        s.org,
        &rel(RelationshipKind::Parent, rowan.id, kid),
        s.now(),
    )
    .await
    .unwrap();
    let r = push::push_entity(
        &s.db,
        s.org,
        &s.cipher,
        &s.x.client,
        &s.x.session,
        kid,
        &PushControl::default(),
        s.now(),
    )
    .await
    .unwrap();
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.clients_created, 1);
    assert_eq!(r.counts.members_added, 1);
    assert_eq!(r.counts.relationships_created, 1);
    let ivy = s.uuid(kid).await;
    assert!(s
        .admin()
        .group_members(TENANT, FERNHILL_GROUP)
        .unwrap()
        .contains(&ivy));
    assert_eq!(
        rels_of(&s.xpm_client(ROWAN).await)
            .into_iter()
            .filter(|(_, u, _)| *u == ivy)
            .collect::<Vec<_>>(),
        vec![("Parent Of".into(), ivy.clone(), None)]
    );
    assert_eq!(
        rels_of(&s.xpm_client(&ivy).await),
        vec![("Child Of".into(), ROWAN.to_owned(), None)]
    );
    // A pull afterwards recognises what was pushed: nothing new, nothing to review about it.
    let report = pull::pull(
        &s.db,
        s.org,
        &s.cipher,
        &s.x.client,
        &s.x.session,
        g,
        &PullOptions::default(),
        &PullControl::default(),
        s.now(),
    )
    .await
    .unwrap();
    assert_eq!(report.counts.entities_created, 0);
    assert_eq!(report.counts.relationships_created, 0);
}

#[tokio::test]
async fn a_push_stopped_by_the_day_limit_resumes_where_it_stopped() {
    let s = setup().await;
    let h = s.harbour().await;
    // Four calls left today: the three creates and the group read; the membership write is
    // refused before it is sent.
    let tenant = s.x.session.tenant.clone();
    let per_day = s.x.client.settings().limits.per_day;
    let today = chrono::Utc::now().date_naive();
    s.x.client.restore_day_budget(
        &tenant,
        &xpm::DayBudget {
            day: today,
            used: per_day - 4,
        },
    );
    let first = s.push(h.group).await;
    assert_eq!(first.status, RunStatus::Failed, "{:#?}", first.items);
    let stopped = first.stopped.as_deref().unwrap();
    assert!(stopped.contains("call limit"), "{stopped}");
    assert!(stopped.contains("pushing again continues"), "{stopped}");
    assert_eq!(first.counts.clients_created, 3);
    assert_eq!(first.counts.members_added, 0);
    assert_eq!(first.counts.relationships_created, 0);
    let run = runs::list(&s.db, s.org, Some(h.group), 1).await.unwrap();
    assert_eq!(run[0].status, RunStatus::Failed);
    assert_eq!(run[0].error.as_deref(), Some(stopped));

    // The next day (a new process: the client's pause until midnight is gone).
    let fresh = xpm::XpmClient::new(s.x.client.settings().clone()).unwrap();
    let second = push::push(
        &s.db,
        s.org,
        &s.cipher,
        &fresh,
        &s.x.session,
        h.group,
        &PushOptions::default(),
        &PushControl::default(),
        s.now(),
    )
    .await
    .unwrap();
    assert_eq!(second.status, RunStatus::Succeeded, "{:#?}", second.items);
    assert_eq!(second.counts.clients_created, 0, "no duplicates");
    assert_eq!(second.counts.members_added, 3);
    assert_eq!(second.counts.relationships_created, 2);
    let named = fresh
        .search_clients(&s.x.session, "Harbour Holdings Pty Ltd", false)
        .await
        .unwrap();
    assert_eq!(named.len(), 1, "one client in XPM");
}

#[tokio::test]
async fn a_relationship_deleted_in_xpm_is_added_again_when_it_changes_here() {
    let s = setup().await;
    let h = s.harbour().await;
    s.push(h.group).await;
    let (co, trust) = (s.uuid(h.co).await, s.uuid(h.trust).await);
    let holding = relationships::list_for_group(&s.db, s.org, h.group)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.details.kind == RelationshipKind::Unitholder)
        .unwrap();
    let set_units = |n: i64| {
        let (db, org, now, details) = (&s.db, s.org, s.now(), holding.details.clone());
        async move {
            relationships::update(
                db,
                org,
                holding.id,
                &RelationshipInput {
                    shares: Some(n),
                    ..details
                },
                now,
            )
            .await
            .unwrap();
        }
    };
    // An update remembers the XPM id it used.
    set_units(250).await;
    assert_eq!(s.push(h.group).await.counts.relationships_updated, 1);
    // Someone deletes it in XPM; then the holding changes here again.
    let on_trust = s.xpm_client(&trust).await;
    let side = on_trust.relationships.unwrap()[0]
        .uuid
        .hyphenated()
        .to_string();
    s.admin().delete_relationship(TENANT, &side).unwrap();
    set_units(300).await;
    let r = s.push(h.group).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.relationships_created, 1, "{:#?}", r.items);
    assert_eq!(
        rels_of(&s.xpm_client(&trust).await),
        vec![("Shareholder".into(), co.clone(), Some(300))]
    );
    s.admin().reset_counters();
    s.push(h.group).await;
    assert_eq!(s.writes(), BTreeMap::new());
}

#[tokio::test]
async fn a_type_change_of_a_relationship_already_deleted_in_xpm_just_adds_the_new_one() {
    let s = setup().await;
    let h = s.harbour().await;
    s.push(h.group).await;
    let (co, ada) = (s.uuid(h.co).await, s.uuid(h.ada).await);
    let director = relationships::list_for_group(&s.db, s.org, h.group)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.details.kind == RelationshipKind::Director)
        .unwrap();
    let change = |input: RelationshipInput| {
        let (db, org, now) = (&s.db, s.org, s.now());
        async move {
            relationships::update(db, org, director.id, &input, now)
                .await
                .unwrap();
        }
    };
    // A date change is an update, which remembers the XPM id.
    change(RelationshipInput {
        end_date: NaiveDate::from_ymd_opt(2025, 6, 30),
        ..director.details.clone()
    })
    .await;
    assert_eq!(s.push(h.group).await.counts.relationships_updated, 1);
    let side = s.xpm_client(&co).await.relationships.unwrap()[0]
        .uuid
        .hyphenated()
        .to_string();
    s.admin().delete_relationship(TENANT, &side).unwrap();
    change(RelationshipInput {
        kind: RelationshipKind::Secretary,
        end_date: NaiveDate::from_ymd_opt(2025, 6, 30),
        ..director.details.clone()
    })
    .await;
    let r = s.push(h.group).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.relationships_replaced, 1);
    assert_eq!(
        rels_of(&s.xpm_client(&ada).await),
        vec![("Secretary Of".into(), co.clone(), None)]
    );
}

#[tokio::test]
async fn a_create_applied_before_a_crash_is_adopted_by_the_next_push() {
    use sea_orm::{ActiveModelTrait, Set};
    use structuregram_core::schema::sync_run;
    let s = setup().await;
    let h = s.harbour().await;
    // The app died after XPM created the company and before the mapping was saved: the run is
    // still "running" and its progress names the create.
    let made = s
        .admin()
        .add_client(TENANT, "Harbour Holdings Pty Ltd", Some("Company"))
        .unwrap();
    s.admin()
        .set_client_field(TENANT, &made, "BusinessNumber", Some("51824753556"))
        .unwrap();
    // A same-named client with another ABN is someone else's, never adopted.
    s.admin()
        .add_client(TENANT, "Harbour Holdings Pty Ltd", Some("Company"))
        .map(|other| {
            s.admin()
                .set_client_field(TENANT, &other, "BusinessNumber", Some("33051775556"))
                .unwrap()
        })
        .unwrap();
    let crashed = sync_run::ActiveModel {
        organisation_id: Set(s.org.0),
        group_id: Set(Some(h.group)),
        tenant_id: Set(TENANT.into()),
        kind: Set("push".into()),
        status: Set("running".into()),
        started_at: Set(s.now()),
        calls: Set(1),
        summary: Set(Some(format!(
            r#"{{"phase":"entities","counts":{{}},"pendingCreates":[{}]}}"#,
            h.co
        ))),
        ..Default::default()
    }
    .insert(&s.db)
    .await
    .unwrap();
    s.admin().reset_counters();
    let r = s.push(h.group).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(r.counts.clients_adopted, 1);
    assert_eq!(r.counts.clients_created, 2, "the two others only");
    assert_eq!(s.uuid(h.co).await, made);
    assert_eq!(s.xpm_named("Harbour Holdings Pty Ltd").await.len(), 2);
    let history = runs::list(&s.db, s.org, Some(h.group), 5).await.unwrap();
    let old = history.iter().find(|r| r.id == crashed.id).unwrap();
    assert_eq!(old.status, RunStatus::Interrupted);
}

#[tokio::test]
async fn a_mapping_without_known_xpm_values_is_checked_with_one_read() {
    use sea_orm::ConnectionTrait;
    let s = setup().await;
    let g = s.fernhill().await;
    // As a database from before push kept XPM's values.
    s.db.execute_unprepared("UPDATE xpm_client_map SET xpm_values = NULL")
        .await
        .unwrap();
    let plan = push::plan(&s.db, s.org, &s.cipher, g, &PushOptions::default())
        .await
        .unwrap();
    let checks = plan
        .items
        .iter()
        .filter(|i| i.action == PushAction::Check)
        .count() as u32;
    assert_eq!(checks, 5, "the five mapped members: {:#?}", plan.items);
    assert!(plan.max_calls >= plan.calls + checks);
    s.admin().reset_counters();
    let r = s.push(g).await;
    assert_eq!(r.counts.failed, 0, "{:#?}", r.items);
    assert_eq!(
        s.writes(),
        BTreeMap::new(),
        "nothing differs: read, no write"
    );
    let plan = push::plan(&s.db, s.org, &s.cipher, g, &PushOptions::default())
        .await
        .unwrap();
    assert!(
        plan.items.iter().all(|i| i.action != PushAction::Check),
        "the read values are kept for the next preview"
    );
}

#[tokio::test]
async fn a_new_address_goes_whole_into_address_and_reads_back_the_same() {
    let s = setup().await;
    let g = s.fernhill().await;
    let co = s.by_name("Fernhill Orchards Pty Ltd").await;
    let new_address = "7 Orchard Rise, Armidale NSW 2350";
    entities::update(
        &s.db,
        s.org,
        &s.cipher,
        co.id,
        &EntityInput {
            address: Some(new_address.into()),
            ..input_of(&co)
        },
        s.now(),
    )
    .await
    .unwrap();
    let r = s.push(g).await;
    assert_eq!(r.counts.clients_updated, 1, "{:#?}", r.items);
    assert_eq!(
        s.field(FERNHILL_CO, "Address").as_deref(),
        Some(new_address)
    );
    for part in ["City", "Region", "PostCode", "Country"] {
        assert_eq!(
            s.field(FERNHILL_CO, part).unwrap_or_default(),
            "",
            "{part} is cleared so the address is not doubled"
        );
    }
    // A pull reads it back as the same address.
    s.admin().advance(Duration::hours(1));
    pull::pull(
        &s.db,
        s.org,
        &s.cipher,
        &s.x.client,
        &s.x.session,
        g,
        &PullOptions {
            full: true,
            ..Default::default()
        },
        &PullControl::default(),
        s.now(),
    )
    .await
    .unwrap();
    assert_eq!(s.entity(co.id).await.address.as_deref(), Some(new_address));
    s.admin().reset_counters();
    s.push(g).await;
    assert_eq!(s.writes(), BTreeMap::new());
}

#[tokio::test]
async fn an_unlinked_group_cannot_be_pushed_or_planned() {
    let s = setup().await;
    let g = groups::create(&s.db, s.org, "Loose Ends", s.now())
        .await
        .unwrap()
        .id;
    let e = push::plan(&s.db, s.org, &s.cipher, g, &PushOptions::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not linked"), "{e}");
    let e = push::push(
        &s.db,
        s.org,
        &s.cipher,
        &s.x.client,
        &s.x.session,
        g,
        &PushOptions::default(),
        &PushControl::default(),
        s.now(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("Link it"), "{e}");
    assert_eq!(
        s.admin().counters().per_endpoint.get("POST client.api/add"),
        None
    );
}

#[tokio::test]
async fn a_corrected_tfn_with_the_same_last_three_digits_is_still_sent() {
    let s = setup().await;
    let h = s.harbour().await;
    s.push(h.group).await;
    let ada = s.uuid(h.ada).await;
    assert_eq!(s.field(&ada, "TaxNumber").as_deref(), Some("123456782"));
    // A pull in between rewrites what XPM shows; the push's record of the TFN it sent stays.
    s.admin().advance(Duration::hours(1));
    pull::pull(
        &s.db,
        s.org,
        &s.cipher,
        &s.x.client,
        &s.x.session,
        h.group,
        &PullOptions {
            full: true,
            ..Default::default()
        },
        &PullControl::default(),
        s.now(),
    )
    .await
    .unwrap();
    // A typo fixed in the middle digits: XPM's masked value (…782) cannot show the difference.
    let e = s.entity(h.ada).await;
    entities::update(
        &s.db,
        s.org,
        &s.cipher,
        h.ada,
        &EntityInput {
            tfn: Some("123465782".into()),
            ..input_of(&e)
        },
        s.now(),
    )
    .await
    .unwrap();
    let plan = push::plan(&s.db, s.org, &s.cipher, h.group, &PushOptions::default())
        .await
        .unwrap();
    let item = plan
        .items
        .iter()
        .find(|i| i.entity_id == Some(h.ada) && i.phase == PushPhase::Entities)
        .unwrap();
    assert_eq!(item.action, PushAction::Update, "{item:#?}");
    assert_eq!(item.changes[0].field, "TaxNumber");
    let r = s.push(h.group).await;
    assert_eq!(r.counts.clients_updated, 1, "{:#?}", r.items);
    assert_eq!(s.field(&ada, "TaxNumber").as_deref(), Some("123465782"));
    s.admin().reset_counters();
    s.push(h.group).await;
    assert_eq!(s.writes(), BTreeMap::new());
}

#[tokio::test]
async fn a_failed_relationship_is_reported_the_others_continue_and_the_next_push_adds_it() {
    let s = setup().await;
    let h = s.harbour().await;
    // XPM fails the first relationship add (not applied).
    s.admin()
        .inject(FaultKind::Status500, 1, Some("client.api/addrelationship"));
    let r = s.push(h.group).await;
    assert_eq!(r.status, RunStatus::Succeeded);
    assert_eq!(r.counts.failed, 1, "{:#?}", r.items);
    assert_eq!(
        r.counts.relationships_created, 1,
        "the other one went through"
    );
    let failed = r
        .items
        .iter()
        .find(|i| i.outcome == ItemOutcome::Failed)
        .unwrap();
    assert_eq!(failed.phase, PushPhase::Relationships);
    assert!(
        failed.message.as_deref().unwrap().contains("try again"),
        "{failed:?}"
    );
    let again = s.push(h.group).await;
    assert_eq!(again.counts.failed, 0, "{:#?}", again.items);
    assert_eq!(again.counts.relationships_created, 1);
    let co = s.uuid(h.co).await;
    assert_eq!(rels_of(&s.xpm_client(&co).await).len(), 2);
}
