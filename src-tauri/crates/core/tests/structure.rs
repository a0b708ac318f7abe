//! Integration tests of the structure model against SQLite with the real migrations.

use chrono::{NaiveDate, TimeZone, Utc};
use structuregram_core::model::{
    EntityInput, EntityKind, RelationshipInput, RelationshipKind, TrustType,
};
use structuregram_core::tfn::TfnCipher;
use structuregram_core::transfer::{self, GroupDocument};
use structuregram_core::{db, demo, diagram, entities, groups, relationships, Error, OrgId};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 9, 0, 0).unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn demo_db() -> (structuregram_core::DatabaseConnection, OrgId, TfnCipher) {
    let db = db::open_in_memory().await.unwrap();
    let org = db::ensure_organisation(&db, demo::ORGANISATION_NAME, now())
        .await
        .unwrap();
    let cipher = TfnCipher::random();
    demo::seed(&db, org, &cipher, now()).await.unwrap();
    (db, org, cipher)
}

async fn group_id(db: &structuregram_core::DatabaseConnection, org: OrgId, name: &str) -> i32 {
    groups::find(db, org, name).await.unwrap().id
}

#[tokio::test]
async fn the_demo_practice_has_its_four_groups_with_members_and_relationships() {
    let (db, org, _) = demo_db().await;
    let list = groups::list(&db, org).await.unwrap();
    let names: Vec<(&str, u32)> = list
        .iter()
        .map(|g| (g.name.as_str(), g.entity_count))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Barker & Lowe Partnership", 4),
            ("Coastline Holdings Group", 7),
            ("Harrington Family", 9),
            ("Nguyen Family Group", 7),
        ],
        "groups are listed by name with their member counts"
    );
    assert!(
        list.iter().all(|g| g.relationship_count > 0),
        "every demo group has relationships"
    );
}

#[tokio::test]
async fn a_group_name_is_unique_within_the_organisation() {
    let (db, org, _) = demo_db().await;
    let err = groups::create(&db, org, "  Harrington Family ", now())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "A group named \u{201c}Harrington Family\u{201d} already exists. Choose another name."
    );
    assert!(matches!(
        groups::create(&db, org, "   ", now()).await,
        Err(Error::Validation(m)) if m == "Enter a group name."
    ));
}

#[tokio::test]
async fn deleting_a_group_keeps_its_entities() {
    let (db, org, _) = demo_db().await;
    let before = entities::list(&db, org, None).await.unwrap().len();
    let id = group_id(&db, org, "Barker & Lowe Partnership").await;
    groups::delete(&db, org, id, now()).await.unwrap();
    let after = entities::list(&db, org, None).await.unwrap();
    assert_eq!(after.len(), before, "no entity is deleted with its group");
    let emma = after.iter().find(|e| e.name == "Emma Barker").unwrap();
    assert!(emma.group_ids.is_empty(), "Emma is now ungrouped");
}

#[tokio::test]
async fn assigning_entities_sets_exactly_the_members() {
    let (db, org, _) = demo_db().await;
    let g = groups::create(&db, org, "Review", now()).await.unwrap();
    let all = entities::list(&db, org, None).await.unwrap();
    let picked: Vec<i32> = all.iter().take(3).map(|e| e.id).collect();
    groups::set_members(&db, org, g.id, &picked, now())
        .await
        .unwrap();
    groups::set_members(&db, org, g.id, &picked[1..], now())
        .await
        .unwrap();
    let members: Vec<i32> = entities::list(&db, org, Some(g.id))
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    let mut expected = picked[1..].to_vec();
    expected.sort_unstable();
    let mut got = members.clone();
    got.sort_unstable();
    assert_eq!(
        got, expected,
        "the first entity was removed, the others kept"
    );
    assert!(matches!(
        groups::set_members(&db, org, g.id, &[999_999], now()).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn a_tfn_is_sealed_at_rest_and_only_shown_masked() {
    let dir = tempfile::tempdir().unwrap();
    let db = db::open(dir.path()).await.unwrap();
    let org = db::ensure_organisation(&db, "Test practice", now())
        .await
        .unwrap();
    let cipher = TfnCipher::random();
    let input = EntityInput {
        kind: EntityKind::Individual,
        first_name: Some("Kim".into()),
        last_name: Some("Ade".into()),
        tfn: Some("876 543 219".into()),
        ..Default::default()
    };
    let kim = entities::create(&db, org, &cipher, &input, &[], now())
        .await
        .unwrap();
    assert_eq!(kim.tfn_masked.as_deref(), Some("******219"));
    assert_eq!(
        entities::reveal_tfn(&db, org, &cipher, kim.id)
            .await
            .unwrap()
            .as_deref(),
        Some("876543219")
    );
    // Updating without a TFN keeps it; "" clears it.
    let keep = EntityInput {
        tfn: None,
        phone: Some("0400 000 000".into()),
        ..input.clone()
    };
    let kim = entities::update(&db, org, &cipher, kim.id, &keep, now())
        .await
        .unwrap();
    assert_eq!(
        kim.tfn_masked.as_deref(),
        Some("******219"),
        "None keeps the stored TFN"
    );
    drop(db);
    let bytes = std::fs::read(dir.path().join(db::DATABASE_FILE)).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("876543219"),
        "the clear TFN must not be in the database file"
    );
    let db = db::open(dir.path()).await.unwrap();
    let cleared = EntityInput {
        tfn: Some(String::new()),
        ..input
    };
    let kim = entities::update(&db, org, &cipher, kim.id, &cleared, now())
        .await
        .unwrap();
    assert_eq!(kim.tfn_masked, None, "an empty TFN clears it");
}

#[tokio::test]
async fn bad_entity_input_is_rejected_with_the_rule() {
    let db = db::open_in_memory().await.unwrap();
    let org = db::ensure_organisation(&db, "Test practice", now())
        .await
        .unwrap();
    let cipher = TfnCipher::random();
    let cases = [
        (
            EntityInput {
                kind: EntityKind::Trust,
                name: "Ade Trust".into(),
                ..Default::default()
            },
            "Choose the trust type (Unspecified if unknown).",
        ),
        (
            EntityInput {
                kind: EntityKind::Company,
                name: "Ade Pty Ltd".into(),
                acn: Some("12345".into()),
                ..Default::default()
            },
            "ACN must be 9 digits (spaces are fine); \u{201c}12345\u{201d} is not.",
        ),
        (
            EntityInput {
                kind: EntityKind::Smsf,
                name: "Ade Super Fund".into(),
                status: Some(structuregram_core::model::EntityStatus::Active),
                ..Default::default()
            },
            "An SMSF cannot be Active; choose Passive, Dormant, Vested or Proposed.",
        ),
        (
            EntityInput {
                kind: EntityKind::Individual,
                first_name: Some("Kim".into()),
                ..Default::default()
            },
            "Enter the individual's last name.",
        ),
    ];
    for (input, message) in cases {
        match entities::create(&db, org, &cipher, &input, &[], now()).await {
            Err(Error::Validation(m)) => assert_eq!(m, message),
            other => panic!("expected a validation error {message:?}, got {other:?}"),
        }
    }
    assert!(
        entities::list(&db, org, None).await.unwrap().is_empty(),
        "nothing was written"
    );
}

#[tokio::test]
async fn relationships_are_validated_against_the_database() {
    let (db, org, _) = demo_db().await;
    let all = entities::list(&db, org, None).await.unwrap();
    let id = |name: &str| all.iter().find(|e| e.name == name).unwrap().id;
    // The demo partnership is already at 100% (50 + 30 + 20).
    let input = RelationshipInput {
        kind: RelationshipKind::Partner,
        from_id: id("Minh Nguyen"),
        to_id: id("Barker & Lowe Accountants"),
        shares: None,
        share_class: None,
        percentage: Some(5.0),
        start_date: None,
        end_date: None,
        label: None,
    };
    match relationships::create(&db, org, &input, now()).await {
        Err(Error::Validation(m)) => assert_eq!(
            m,
            "Partner interests in Barker & Lowe Accountants would total 105%; they may not exceed 100%."
        ),
        other => panic!("expected the partner-total rule, got {other:?}"),
    }
    let estate = RelationshipInput {
        kind: RelationshipKind::Appointor,
        from_id: id("Peter Harrington"),
        to_id: id("Estate of the late George Harrington"),
        percentage: None,
        ..input
    };
    assert!(matches!(
        relationships::create(&db, org, &estate, now()).await,
        Err(Error::Validation(m)) if m.starts_with("Appointor relationships are not valid for deceased estates")
    ));
}

#[tokio::test]
async fn the_diagram_labels_edges_and_hides_relationships_outside_the_as_at_date() {
    let (db, org, _) = demo_db().await;
    let coastline = group_id(&db, org, "Coastline Holdings Group").await;
    let all = diagram::build(&db, org, coastline, None).await.unwrap();
    let labels: Vec<&str> = all.edges.iter().map(|e| e.label.as_str()).collect();
    assert!(
        labels.contains(&"Shareholder · 600 Ordinary (60%)"),
        "{labels:?}"
    );
    assert!(
        labels.contains(&"Unitholder · 400 Ordinary units (40%)"),
        "{labels:?}"
    );
    assert_eq!(all.nodes.len(), 7);
    assert_eq!(all.hidden_relationships, 0, "no date, nothing hidden");
    let james = all
        .nodes
        .iter()
        .find(|n| n.label == "James Porter")
        .unwrap()
        .id
        .clone();
    let james_edges = |d: &structuregram_core::model::Diagram| {
        d.edges.iter().filter(|e| e.source == james).count()
    };
    assert_eq!(
        james_edges(&all),
        1,
        "James Porter was a director 2015–2021"
    );

    let in_2020 = diagram::build(&db, org, coastline, Some(date("2020-01-01")))
        .await
        .unwrap();
    assert_eq!(
        james_edges(&in_2020),
        1,
        "still a director on 1 January 2020"
    );
    assert_eq!(in_2020.hidden_relationships, 0);

    let on_last_day = diagram::build(&db, org, coastline, Some(date("2021-06-30")))
        .await
        .unwrap();
    assert_eq!(
        james_edges(&on_last_day),
        1,
        "the cessation date is his last day"
    );

    let in_2022 = diagram::build(&db, org, coastline, Some(date("2022-01-01")))
        .await
        .unwrap();
    assert_eq!(james_edges(&in_2022), 0, "ceased on 30 June 2021");
    assert_eq!(in_2022.hidden_relationships, 1);

    let in_2010 = diagram::build(&db, org, coastline, Some(date("2010-01-01")))
        .await
        .unwrap();
    assert_eq!(
        in_2010.hidden_relationships, 6,
        "in 2010 the four directorships and the secretaryship of July 2014, and James's term of 2015, had not started"
    );
}

#[tokio::test]
async fn the_diagram_subtitles_name_trust_types_and_acns() {
    let (db, org, _) = demo_db().await;
    let nguyen = group_id(&db, org, "Nguyen Family Group").await;
    let d = diagram::build(&db, org, nguyen, None).await.unwrap();
    let node = |label: &str| d.nodes.iter().find(|n| n.label == label).unwrap();
    assert_eq!(
        node("Nguyen Family Trust").subtitle.as_deref(),
        Some("Discretionary trust")
    );
    assert_eq!(
        node("Nguyen Family Trust").trust_type,
        Some(TrustType::Discretionary)
    );
    assert_eq!(
        node("Nguyen Nominees Pty Ltd").subtitle.as_deref(),
        Some("ACN 612 345 678")
    );
    assert_eq!(node("Nguyen Super Fund").kind, EntityKind::Smsf);
}

#[tokio::test]
async fn export_then_import_round_trips_byte_for_byte() {
    let (db, org, _) = demo_db().await;
    for name in [
        "Nguyen Family Group",
        "Harrington Family",
        "Coastline Holdings Group",
        "Barker & Lowe Partnership",
    ] {
        let id = group_id(&db, org, name).await;
        let first = transfer::export(&db, org, id).await.unwrap().to_json();
        let fresh = db::open_in_memory().await.unwrap();
        let fresh_org = db::ensure_organisation(&fresh, "Other practice", now())
            .await
            .unwrap();
        let doc = GroupDocument::from_json(&first).unwrap();
        let new_id = transfer::import(&fresh, fresh_org, &TfnCipher::random(), &doc, now())
            .await
            .unwrap();
        let second = transfer::export(&fresh, fresh_org, new_id)
            .await
            .unwrap()
            .to_json();
        assert_eq!(
            first, second,
            "{name}: import then export gives the same bytes"
        );
    }
}

#[tokio::test]
async fn the_export_names_entities_by_key_and_leaves_tfns_out() {
    let (db, org, _) = demo_db().await;
    let id = group_id(&db, org, "Nguyen Family Group").await;
    let doc = transfer::export(&db, org, id).await.unwrap();
    assert_eq!(doc.format, "structuregram.group/1");
    assert_eq!(doc.entities[0].key, "e1");
    assert_eq!(
        doc.entities[0].name, "Minh Nguyen",
        "entities in creation order"
    );
    let json = doc.to_json();
    assert!(
        !json.contains("123456782") && !json.contains("tfn"),
        "TFNs are never exported"
    );
    let spouse = &doc.relationships[0];
    assert_eq!(
        (spouse.kind, spouse.from.as_str(), spouse.to.as_str()),
        (RelationshipKind::Spouse, "e1", "e2")
    );
}

#[tokio::test]
async fn an_import_that_breaks_a_rule_writes_nothing() {
    let (db, org, _) = demo_db().await;
    let id = group_id(&db, org, "Barker & Lowe Partnership").await;
    let mut doc = transfer::export(&db, org, id).await.unwrap();
    doc.group.name = "Barker & Lowe (copy)".into();
    doc.relationships[0].percentage = Some(90.0); // 90 + 30 + 20 = 140
    let before = entities::list(&db, org, None).await.unwrap().len();
    match transfer::import(&db, org, &TfnCipher::random(), &doc, now()).await {
        Err(Error::Validation(m)) => assert!(
            m.contains("Partner interests in Barker & Lowe Accountants would total"),
            "the message names the rule and the relationship: {m}"
        ),
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(
        entities::list(&db, org, None).await.unwrap().len(),
        before,
        "no entity was added"
    );
    assert!(
        groups::find(&db, org, "Barker & Lowe (copy)")
            .await
            .is_err(),
        "no group was added"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_group_document_gets_a_clear_error() {
    match GroupDocument::from_json(r#"{"format":"something/9","group":{"name":"x"},"entities":[],"relationships":[]}"#) {
        Err(Error::Validation(m)) => assert_eq!(
            m,
            "Unsupported group file format \u{201c}something/9\u{201d}; expected \u{201c}structuregram.group/1\u{201d}."
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(GroupDocument::from_json("not json"), Err(Error::Validation(m)) if m.starts_with("This is not a StructureGram group file"))
    );
}

#[tokio::test]
async fn seeding_the_demo_twice_changes_nothing() {
    let (db, org, cipher) = demo_db().await;
    let before = groups::list(&db, org).await.unwrap();
    demo::seed(&db, org, &cipher, now()).await.unwrap();
    assert_eq!(groups::list(&db, org).await.unwrap(), before);
}

#[tokio::test]
async fn names_with_control_characters_and_backwards_membership_dates_are_refused() {
    let (db, org, cipher) = demo_db().await;
    match groups::create(&db, org, "Evil\u{1b}[31m group", now()).await {
        Err(Error::Validation(m)) => {
            assert_eq!(
                m,
                "Names cannot contain line breaks, tabs or other control characters."
            )
        }
        other => panic!("{other:?}"),
    }
    let id = group_id(&db, org, "Barker & Lowe Partnership").await;
    let mut doc = transfer::export(&db, org, id).await.unwrap();
    doc.group.name = "Backwards".into();
    doc.entities[0].join_date = Some(date("2020-01-01"));
    doc.entities[0].exit_date = Some(date("2019-01-01"));
    match transfer::import(&db, org, &cipher, &doc, now()).await {
        Err(Error::Validation(m)) => assert_eq!(
            m,
            "The group exit date (2019-01-01) must be after the join date (2020-01-01)."
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        groups::find(&db, org, "Backwards").await.is_err(),
        "nothing was written"
    );
}
