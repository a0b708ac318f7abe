//! Discovery and group links (issue 7) against the simulator's small fixture practice, which has
//! two XPM groups: "Fernhill Family" and "Kowalski Group".

mod common;

use chrono::Duration;
use common::*;
use structuregram_core::discovery::{self, CatalogFilter};
use structuregram_core::model::{EntityInput, EntityKind};
use structuregram_core::tfn::TfnCipher;
use structuregram_core::{db, entities, groups, links, runs, Error};
use xpm_sim::FaultKind;

#[tokio::test]
async fn refresh_lists_the_practice_groups_and_records_the_time() {
    let x = xpm().await;
    let (db, org) = memory_db().await;
    let before = discovery::catalog(&db, org, &CatalogFilter::default())
        .await
        .unwrap();
    assert_eq!(before.refreshed_at, None, "never refreshed yet");
    assert!(before.rows.is_empty());

    let cat = discovery::refresh(&db, org, &x.client, &x.session, now())
        .await
        .unwrap();
    assert_eq!(cat.tenant_id.as_deref(), Some(TENANT));
    assert_eq!(cat.refreshed_at, Some(now()));
    let names: Vec<(&str, &str)> = cat
        .rows
        .iter()
        .map(|r| (r.name.as_str(), r.xpm_uuid.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Fernhill Family", FERNHILL_GROUP),
            ("Kowalski Group", KOWALSKI_GROUP)
        ]
    );
    assert!(cat.rows.iter().all(|r| r.linked_group_id.is_none()));

    // A second refresh later moves the time on and does not duplicate rows.
    let later = now() + Duration::minutes(5);
    let cat = discovery::refresh(&db, org, &x.client, &x.session, later)
        .await
        .unwrap();
    assert_eq!(cat.refreshed_at, Some(later));
    assert_eq!(cat.rows.len(), 2);

    // Search and the linked filter.
    let found = discovery::catalog(
        &db,
        org,
        &CatalogFilter {
            search: Some("kowal".into()),
            linked: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(found.rows.len(), 1);
    assert_eq!(found.rows[0].name, "Kowalski Group");
    let history = runs::list(&db, org, None, 10).await.unwrap();
    assert_eq!(history.len(), 2, "both refreshes are in the run history");
    assert!(history
        .iter()
        .all(|r| r.status == runs::RunStatus::Succeeded && r.calls == 1));
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_previous_catalog_and_says_what_happened() {
    let x = xpm().await;
    let (db, org) = memory_db().await;
    discovery::refresh(&db, org, &x.client, &x.session, now())
        .await
        .unwrap();
    // Every attempt (first try and the client's retry) fails with a 500.
    x.sim
        .admin
        .inject(FaultKind::Status500, 5, Some("clientgroup.api/list"));
    let later = now() + Duration::hours(1);
    let err = discovery::refresh(&db, org, &x.client, &x.session, later)
        .await
        .expect_err("XPM is failing");
    assert!(matches!(err, Error::XpmCall { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("Refreshing the XPM group list failed")
            && err.to_string().contains("try again"),
        "says what happened and what to do: {err}"
    );
    let cat = discovery::catalog(&db, org, &CatalogFilter::default())
        .await
        .unwrap();
    assert_eq!(cat.rows.len(), 2, "the previous catalog is kept");
    assert_eq!(
        cat.refreshed_at,
        Some(now()),
        "still the last successful time"
    );
    assert_eq!(cat.last_error.as_deref(), Some(err.to_string().as_str()));

    // Once XPM answers again the error line goes away.
    x.sim.admin.clear_faults();
    let cat = discovery::refresh(&db, org, &x.client, &x.session, later)
        .await
        .unwrap();
    assert_eq!(cat.last_error, None);
    assert_eq!(cat.refreshed_at, Some(later));
}

#[tokio::test]
async fn link_as_new_and_link_to_existing_then_unlink() {
    let x = xpm().await;
    let (db, org) = memory_db().await;
    discovery::refresh(&db, org, &x.client, &x.session, now())
        .await
        .unwrap();
    let calls_before = x.sim.admin.counters().total;

    // Link as new: a group named after the XPM group.
    let link = links::link_new(&db, org, FERNHILL_GROUP, now())
        .await
        .unwrap();
    assert_eq!(link.group_name, "Fernhill Family");
    assert_eq!(link.xpm_name.as_deref(), Some("Fernhill Family"));
    assert_eq!(link.tenant_id, TENANT);
    assert_eq!(link.last_pull_at, None, "linking never syncs");
    let g = groups::get(&db, org, link.group_id).await.unwrap();
    assert_eq!(g.name, "Fernhill Family");
    assert!(
        entities::list(&db, org, Some(link.group_id))
            .await
            .unwrap()
            .is_empty(),
        "linking creates no entities"
    );

    // Link to existing: an existing group keeps its name.
    let mine = groups::create(&db, org, "Kowalski clients", now())
        .await
        .unwrap();
    let link2 = links::link_existing(&db, org, KOWALSKI_GROUP, mine.id, now())
        .await
        .unwrap();
    assert_eq!(link2.group_id, mine.id);
    assert_eq!(link2.group_name, "Kowalski clients");
    assert_eq!(link2.xpm_name.as_deref(), Some("Kowalski Group"));
    assert_eq!(
        x.sim.admin.counters().total,
        calls_before,
        "linking makes no XPM call"
    );

    let cat = discovery::catalog(
        &db,
        org,
        &CatalogFilter {
            search: None,
            linked: Some(true),
        },
    )
    .await
    .unwrap();
    let linked: Vec<(&str, Option<&str>)> = cat
        .rows
        .iter()
        .map(|r| (r.name.as_str(), r.linked_group_name.as_deref()))
        .collect();
    assert_eq!(
        linked,
        [
            ("Fernhill Family", Some("Fernhill Family")),
            ("Kowalski Group", Some("Kowalski clients"))
        ]
    );

    // Unlink: the link goes, the group stays; the XPM group can be linked again.
    links::unlink(&db, org, link.group_id, now()).await.unwrap();
    assert_eq!(links::link_of(&db, org, link.group_id).await.unwrap(), None);
    assert!(groups::get(&db, org, link.group_id).await.is_ok());
    let err = links::unlink(&db, org, link.group_id, now())
        .await
        .expect_err("not linked any more");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let unlinked = discovery::catalog(
        &db,
        org,
        &CatalogFilter {
            search: None,
            linked: Some(false),
        },
    )
    .await
    .unwrap();
    assert_eq!(unlinked.rows.len(), 1);
    assert_eq!(unlinked.rows[0].xpm_uuid, FERNHILL_GROUP);

    // Linking as new again finds the name taken and says where the new group came from.
    let again = links::link_new(&db, org, FERNHILL_GROUP, now())
        .await
        .unwrap();
    assert_eq!(again.group_name, "Fernhill Family (XPM)");
}

#[tokio::test]
async fn one_to_one_both_ways_with_messages_naming_the_other_side() {
    let x = xpm().await;
    let (db, org) = memory_db().await;
    discovery::refresh(&db, org, &x.client, &x.session, now())
        .await
        .unwrap();
    let link = links::link_new(&db, org, FERNHILL_GROUP, now())
        .await
        .unwrap();

    // The XPM group is taken.
    let other = groups::create(&db, org, "Other", now()).await.unwrap();
    let err = links::link_existing(&db, org, FERNHILL_GROUP, other.id, now())
        .await
        .expect_err("XPM group already linked");
    match &err {
        Error::Conflict(m) => assert!(
            m.contains("\u{201c}Fernhill Family\u{201d} is already linked to the group \u{201c}Fernhill Family\u{201d}"),
            "{m}"
        ),
        e => panic!("{e:?}"),
    }
    let err = links::link_new(&db, org, FERNHILL_GROUP, now())
        .await
        .expect_err("XPM group already linked");
    assert!(matches!(err, Error::Conflict(_)));
    assert_eq!(
        groups::list(&db, org).await.unwrap().len(),
        2,
        "the refused link_new created no group"
    );

    // The StructureGram group is taken.
    let err = links::link_existing(&db, org, KOWALSKI_GROUP, link.group_id, now())
        .await
        .expect_err("group already linked");
    match &err {
        Error::Conflict(m) => assert!(
            m.contains("is already linked to XPM group \u{201c}Fernhill Family\u{201d}"),
            "{m}"
        ),
        e => panic!("{e:?}"),
    }

    // Unknown and malformed ids.
    let err = links::link_new(&db, org, "00000000-aaaa-4bbb-8ccc-0000000000ff", now())
        .await
        .expect_err("not in the catalog");
    assert!(
        matches!(err, Error::NotFound(ref m) if m.contains("Refresh")),
        "{err:?}"
    );
    let err = links::link_new(&db, org, "fernhill", now())
        .await
        .expect_err("not a uuid");
    assert!(matches!(err, Error::Validation(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_links_of_one_xpm_group_one_wins_the_other_gets_the_message() {
    let x = xpm().await;
    let dir = tempfile::tempdir().unwrap();
    let db = db::open(dir.path()).await.unwrap();
    let org = db::ensure_organisation(&db, "Test Practice", now())
        .await
        .unwrap();
    discovery::refresh(&db, org, &x.client, &x.session, now())
        .await
        .unwrap();
    let a = groups::create(&db, org, "A", now()).await.unwrap();
    let b = groups::create(&db, org, "B", now()).await.unwrap();
    // Two separate connections to the same file, as two windows (or a window and the CLI) have.
    let db1 = db::open(dir.path()).await.unwrap();
    let db2 = db::open(dir.path()).await.unwrap();
    let t1 =
        tokio::spawn(
            async move { links::link_existing(&db1, org, FERNHILL_GROUP, a.id, now()).await },
        );
    let t2 =
        tokio::spawn(
            async move { links::link_existing(&db2, org, FERNHILL_GROUP, b.id, now()).await },
        );
    let (r1, r2) = (t1.await.unwrap(), t2.await.unwrap());
    let (won, lost) = match (r1, r2) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("exactly one link must win: {other:?}"),
    };
    match lost {
        Error::Conflict(m) => assert!(
            m.contains(&format!(
                "is already linked to the group \u{201c}{}\u{201d}",
                won.group_name
            )),
            "{m}"
        ),
        e => panic!("the loser gets the Conflict message, not {e:?}"),
    }
    let cat = discovery::catalog(&db, org, &CatalogFilter::default())
        .await
        .unwrap();
    let fernhill = cat
        .rows
        .iter()
        .find(|r| r.xpm_uuid == FERNHILL_GROUP)
        .unwrap();
    assert_eq!(fernhill.linked_group_id, Some(won.group_id));
}

#[tokio::test]
async fn a_linked_group_gone_from_xpm_is_marked_not_dropped() {
    let x = xpm().await;
    let (db, org) = memory_db().await;
    discovery::refresh(&db, org, &x.client, &x.session, now())
        .await
        .unwrap();
    let link = links::link_new(&db, org, FERNHILL_GROUP, now())
        .await
        .unwrap();
    for g in [FERNHILL_GROUP, KOWALSKI_GROUP] {
        x.client
            .delete_client_group(&x.session, &g.parse().unwrap())
            .await
            .unwrap();
    }
    let later = now() + Duration::days(1);
    let cat = discovery::refresh(&db, org, &x.client, &x.session, later)
        .await
        .unwrap();
    assert_eq!(cat.rows.len(), 1, "the unlinked vanished group is dropped");
    assert_eq!(cat.rows[0].xpm_uuid, FERNHILL_GROUP);
    assert_eq!(cat.rows[0].missing_since, Some(later));
    let shown = links::link_of(&db, org, link.group_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shown.xpm_missing_since, Some(later));
    // A missing group cannot be linked again once unlinked.
    links::unlink(&db, org, link.group_id, later).await.unwrap();
    let err = links::link_new(&db, org, FERNHILL_GROUP, later)
        .await
        .expect_err("missing in XPM");
    assert!(matches!(err, Error::Validation(ref m) if m.contains("no longer exists in XPM")));
}

#[tokio::test]
async fn unlink_keeps_the_entities_and_their_xpm_mappings() {
    // Entities and mappings come from a pull; see tests/xpm_pull.rs for the mapping side. Here:
    // entities added to a linked group survive unlinking untouched.
    let x = xpm().await;
    let (db, org) = memory_db().await;
    discovery::refresh(&db, org, &x.client, &x.session, now())
        .await
        .unwrap();
    let link = links::link_new(&db, org, KOWALSKI_GROUP, now())
        .await
        .unwrap();
    let cipher = TfnCipher::random();
    let e = entities::create(
        &db,
        org,
        &cipher,
        &EntityInput {
            kind: EntityKind::Individual,
            first_name: Some("Anna".into()),
            last_name: Some("Kowalski".into()),
            ..Default::default()
        },
        &[link.group_id],
        now(),
    )
    .await
    .unwrap();
    links::unlink(&db, org, link.group_id, now()).await.unwrap();
    let members = entities::list(&db, org, Some(link.group_id)).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].id, e.id);
}
