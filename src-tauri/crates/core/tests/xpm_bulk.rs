//! Bulk sync (issue 11) against the simulator with a generated practice of 12 groups and 60
//! clients (`groups=12,clients=60,seed=11`), its clock running 120× real time so XPM's minute
//! and day windows pass in fractions of a second, and the client's limiter told the same factor.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Duration;
use common::*;
use structuregram_core::bulk::{self, BulkControl, BulkOptions, BulkOutcome, BulkReport};
use structuregram_core::discovery;
use structuregram_core::pull::FetchStrategy;
use structuregram_core::review::{self, ReviewKind};
use structuregram_core::runs::{self, RunKind, RunStatus};
use structuregram_core::tfn::TfnCipher;
use structuregram_core::{entities, DatabaseConnection, OrgId};
use xpm_sim::{PracticeSource, SimConfig};

const SCALE: f64 = 120.0;

struct Setup {
    x: Xpm,
    db: DatabaseConnection,
    org: OrgId,
    cipher: TfnCipher,
    tenant: String,
}

/// The simulator with XPM's real limits except `minute_limit` / `day_limit`, a client paced at
/// XPM's 50 calls a minute (plus a burst of 10) on the simulator's clock, and a database with
/// every XPM group linked as a new group.
async fn setup(minute_limit: u32, day_limit: u32) -> Setup {
    let config = SimConfig {
        practices: vec![PracticeSource::Generate(
            "groups=12,clients=60,seed=11".parse().unwrap(),
        )],
        time_scale: SCALE,
        ..SimConfig::default()
    };
    let x = xpm_with(config, |s| {
        s.limits.time_scale = SCALE;
        s.limits.per_day = day_limit;
        s.retry.max_retries = 3;
    })
    .await;
    x.sim.admin.update_settings(|s| {
        s.minute_limit = minute_limit;
        s.day_limit = day_limit;
    });
    x.sim.admin.reset_limits();
    let (db, org) = memory_db().await;
    discovery::refresh(&db, org, &x.client, &x.session, x.sim.admin.now())
        .await
        .unwrap();
    let tenant = x.session.tenant.as_str().to_owned();
    let linked = bulk::link_unlinked(&db, org, &tenant, x.sim.admin.now())
        .await
        .unwrap();
    assert_eq!(linked.len(), 12, "every XPM group is linked as a new group");
    Setup {
        x,
        db,
        org,
        cipher: TfnCipher::random(),
        tenant,
    }
}

impl Setup {
    async fn run(&self, options: &BulkOptions) -> BulkReport {
        let admin = self.x.sim.admin.clone();
        let clock = move || admin.now();
        bulk::run(
            &self.db,
            self.org,
            &self.cipher,
            &self.x.client,
            &self.x.session,
            options,
            &BulkControl::default(),
            &clock,
        )
        .await
        .unwrap()
    }

    async fn queue_all(&self) {
        let status = bulk::enqueue_linked(&self.db, self.org, &self.tenant, self.x.sim.admin.now())
            .await
            .unwrap();
        assert_eq!(status.queued, 12);
    }

    /// XPM calls the simulator served to the tenant (429s are not counted).
    fn served(&self) -> u64 {
        self.x
            .sim
            .admin
            .counters()
            .per_tenant
            .get(&self.tenant)
            .copied()
            .unwrap_or(0)
    }

    /// The linked groups' ids, with their XPM UUIDs and names.
    async fn linked(&self) -> Vec<(i32, String, String)> {
        discovery::catalog(&self.db, self.org, &Default::default())
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|r| (r.linked_group_id.expect("linked"), r.xpm_uuid, r.name))
            .collect()
    }

    /// Every XPM group's members, as XPM's `clientgroup.api/get` shows them (archived clients
    /// drop out), are the linked group's entities, by name — except the clients a pull could not
    /// create without a person's decision (an open review item about their business structure,
    /// a possible duplicate or invalid data), as a single pull would.
    async fn assert_groups_match_xpm(&self) {
        for (group, xpm_uuid, name) in self.linked().await {
            let (items, _) = review::list(&self.db, self.org, group, false)
                .await
                .unwrap();
            let waiting: HashSet<String> = items
                .into_iter()
                .filter(|i| {
                    matches!(
                        i.kind,
                        ReviewKind::EntityType | ReviewKind::Duplicate | ReviewKind::InvalidClient
                    )
                })
                .filter_map(|i| i.payload.xpm_uuid)
                .collect();
            let xpm_group = self
                .x
                .client
                .get_client_group(&self.x.session, &xpm_uuid.parse().unwrap())
                .await
                .unwrap();
            let want: HashSet<String> = xpm_group
                .members
                .iter()
                .filter(|m| !waiting.contains(&m.uuid.hyphenated().to_string()))
                .map(|m| m.name.clone())
                .collect();
            let have: HashSet<String> = entities::list(&self.db, self.org, Some(group))
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.name)
                .collect();
            assert_eq!(have, want, "members of {name}");
        }
    }

    /// The groups of every pull run with `status`, once per run.
    async fn pull_runs(&self, status: RunStatus) -> Vec<Option<i32>> {
        let mut out = Vec::new();
        for (group, _, _) in self.linked().await {
            out.extend(
                runs::list(&self.db, self.org, Some(group), 1_000)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|r| r.kind == RunKind::Pull && r.status == status)
                    .map(|r| r.group_id),
            );
        }
        out
    }

    /// The latest pull run of each group.
    async fn latest_pulls(&self) -> Vec<runs::SyncRun> {
        let mut out = Vec::new();
        for (group, _, _) in self.linked().await {
            out.push(
                runs::list(&self.db, self.org, Some(group), 1)
                    .await
                    .unwrap()
                    .remove(0),
            );
        }
        out
    }
}

#[tokio::test]
async fn a_queue_completes_through_the_minute_limit_with_no_failures() {
    // XPM allows 60 calls a minute; this practice allows 8, so the client's 50-a-minute pace
    // runs into 429s, which must be waited out, never reported as failures.
    let s = setup(8, 5_000).await;
    s.queue_all().await;
    let status = bulk::status(&s.db, s.org, &s.tenant).await.unwrap();
    let plan = status.plan.expect("a plan for 12 queued groups");
    assert_eq!(
        plan.per_client_cost,
        12 + 12 * bulk::UNKNOWN_GROUP_MEMBERS,
        "never pulled, member counts unknown: 1 + 7 assumed members per group"
    );
    // Another program on the same practice spends part of each minute's allowance through its
    // own limiter, so our client's view of the window is stale and XPM answers 429.
    let other = xpm::XpmClient::new(s.x.client.settings().clone()).unwrap();
    let other_session = s.x.session.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let served_to_neighbour = Arc::new(AtomicU64::new(0));
    let neighbour = {
        let (stop, served) = (stop.clone(), served_to_neighbour.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                if other.list_client_groups(&other_session).await.is_ok() {
                    served.fetch_add(1, Ordering::SeqCst);
                }
                // 100 ms real = 12 s on the simulator's clock: 5 calls a simulated minute.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let before = s.served();
    let report = s
        .run(&BulkOptions {
            strategy: Some(FetchStrategy::PerClient),
            ..BulkOptions::default()
        })
        .await;
    stop.store(true, Ordering::SeqCst);
    neighbour.await.unwrap();
    assert_eq!(report.outcome, BulkOutcome::Finished, "{}", report.message);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!((report.groups_done, report.groups_left), (12, 0));
    let throttled = s.x.sim.admin.counters().throttled;
    assert!(
        throttled > 0,
        "the 8-a-minute limit must have answered 429 at least once"
    );
    // Per client: each group's member list plus one get per member and per related client
    // outside the group not yet read; every call the pulls counted reached XPM once.
    assert!(report.calls >= 12 + 50, "calls: {}", report.calls);
    assert_eq!(
        s.served() - before - served_to_neighbour.load(Ordering::SeqCst),
        u64::from(report.calls),
        "every call the pulls counted reached XPM once"
    );
    assert_eq!(s.pull_runs(RunStatus::Succeeded).await.len(), 12);
    s.assert_groups_match_xpm().await;
    let status = bulk::status(&s.db, s.org, &s.tenant).await.unwrap();
    assert_eq!((status.queued, status.done, status.failed), (0, 12, 0));
    assert_eq!(status.calls_made, report.calls);
}

#[tokio::test]
async fn a_restart_after_the_day_limit_resumes_without_redoing_finished_groups() {
    // A day budget of 45 calls stops the per-client sync part-way: a wait, not a failure.
    let s = setup(60, 45).await;
    s.queue_all().await;
    let options = BulkOptions {
        strategy: Some(FetchStrategy::PerClient),
        ..BulkOptions::default()
    };
    let first = s.run(&options).await;
    assert_eq!(first.outcome, BulkOutcome::Waiting, "{}", first.message);
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    assert!(
        first.groups_done > 0 && first.groups_done < 12,
        "part-way: {}",
        first.groups_done
    );
    let resume = first.resume_after_seconds.expect("when to resume");
    assert!(
        resume > 15 * 60,
        "the day window has hours left, not minutes: {resume} s"
    );
    assert_eq!(first.groups_left, 12 - first.groups_done);
    let done_first: Vec<Option<i32>> = s.pull_runs(RunStatus::Succeeded).await;

    // "Restart": a new client (fresh limiter) and a new run on the same database, the next day.
    s.x.sim.admin.advance(Duration::days(1));
    let Setup {
        x,
        db,
        org,
        cipher,
        tenant,
    } = s;
    let status = bulk::status(&db, org, &tenant).await.unwrap();
    assert_eq!(status.queued, 12 - first.groups_done, "the queue persisted");
    let restarted = Setup {
        x: Xpm {
            client: xpm::XpmClient::new(x.client.settings().clone()).unwrap(),
            ..x
        },
        db,
        org,
        cipher,
        tenant,
    };
    let second = restarted.run(&options).await;
    assert_eq!(second.outcome, BulkOutcome::Finished, "{}", second.message);
    assert_eq!(second.groups_done, 12 - first.groups_done);
    let succeeded = restarted.pull_runs(RunStatus::Succeeded).await;
    assert_eq!(succeeded.len(), 12, "each group pulled successfully once");
    let distinct: HashSet<Option<i32>> = succeeded.iter().copied().collect();
    assert_eq!(distinct.len(), 12, "no finished group pulled again");
    assert!(done_first.iter().all(|g| distinct.contains(g)));
    restarted.assert_groups_match_xpm().await;
}

#[tokio::test]
async fn the_cheapest_plan_reads_the_practice_once_and_an_unchanged_resync_costs_one_call() {
    let s = setup(60, 5_000).await;
    s.queue_all().await;
    let before = s.served();
    let first = s.run(&BulkOptions::default()).await;
    assert_eq!(first.outcome, BulkOutcome::Finished, "{}", first.message);
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    // 12 groups, member counts unknown (7 assumed): per client 12 + 84 = 96; one detailed list
    // of at least those 84 clients 1 + ⌈84 ÷ 80⌉ = 3: the detailed list wins.
    assert_eq!(first.plan.strategy, FetchStrategy::DetailedList);
    assert_eq!(first.plan.detailed_list_cost, 3);
    // One list call, plus one get per related client the list leaves out (archived ones).
    assert_eq!(s.served() - before, u64::from(first.calls));
    assert!(
        first.calls < 12,
        "far fewer than one call per group: {}",
        first.calls
    );
    s.assert_groups_match_xpm().await;

    // Nothing changed in XPM: the re-sync is the one detailed list (the practice's size is now
    // known: 1 + ⌈listed ÷ 80⌉ = 2 beats 12 groups × 2 calls and 1 + 12 for modifiedsince), and
    // every related client outside a group was read and mapped the first time.
    s.x.sim.admin.advance(Duration::hours(1));
    s.queue_all().await;
    let before = s.served();
    let again = s.run(&BulkOptions::default()).await;
    assert_eq!(again.outcome, BulkOutcome::Finished, "{}", again.message);
    assert_eq!(again.plan.strategy, FetchStrategy::DetailedList);
    assert_eq!(again.plan.detailed_list_cost, 2);
    assert_eq!(
        again.calls, 1,
        "an unchanged practice re-syncs with one call"
    );
    assert_eq!(s.served() - before, 1);
    for r in s.latest_pulls().await {
        let summary = r.summary.clone().expect("a succeeded pull has counts");
        for key in [
            "entitiesCreated",
            "entitiesUpdated",
            "relationshipsCreated",
            "relationshipsUpdated",
        ] {
            assert_eq!(summary[key], 0, "{key} on an unchanged re-sync");
        }
    }

    // With modifiedsince forced (the plan for a few groups of a large practice) and one client
    // renamed in XPM: the list of changed clients, each group's member list, and — as a single
    // pull does — a `get` for each member that an open review item is about (its client, or
    // either end of a relationship item), since those are re-read to carry out decisions and the
    // short list leaves them out.
    let mut reread = 0;
    let mut about: HashSet<String> = HashSet::new();
    for (group, xpm_uuid, _) in s.linked().await {
        let members: HashSet<String> =
            s.x.client
                .get_client_group(&s.x.session, &xpm_uuid.parse().unwrap())
                .await
                .unwrap()
                .members
                .iter()
                .map(|m| m.uuid.hyphenated().to_string())
                .collect();
        let (items, _) = review::list(&s.db, s.org, group, false).await.unwrap();
        let mut clients: HashSet<String> = HashSet::new();
        for i in items {
            match i.kind {
                ReviewKind::EntityType | ReviewKind::Duplicate | ReviewKind::InvalidClient => {
                    clients.extend(i.payload.xpm_uuid)
                }
                ReviewKind::Relationship | ReviewKind::RelationshipGone => {
                    clients.extend(i.payload.from_uuid);
                    clients.extend(i.payload.to_uuid);
                }
                _ => {}
            }
        }
        clients.retain(|c| members.contains(c));
        reread += clients.len() as u32;
        about.extend(clients);
    }
    assert!(
        reread > 0,
        "the generated practice leaves some review items open"
    );
    let admin = &s.x.sim.admin;
    // A company (an individual's name comes from its first and last names).
    let mut renamed = None;
    for (_, xpm_uuid, _) in s.linked().await {
        renamed = renamed.or(s
            .x
            .client
            .get_client_group(&s.x.session, &xpm_uuid.parse().unwrap())
            .await
            .unwrap()
            .members
            .iter()
            .filter(|m| m.name.ends_with("Pty Ltd"))
            .map(|m| m.uuid.hyphenated().to_string())
            .find(|u| !about.contains(u)));
    }
    let renamed = renamed.expect("a company no review item is about");
    admin.advance(Duration::hours(1));
    admin
        .rename_client(&s.tenant, &renamed, "Renamed In XPM Pty Ltd")
        .unwrap();
    admin.advance(Duration::hours(1));
    s.queue_all().await;
    let before = s.served();
    let forced = s
        .run(&BulkOptions {
            strategy: Some(FetchStrategy::ModifiedSince),
            ..BulkOptions::default()
        })
        .await;
    assert_eq!(forced.outcome, BulkOutcome::Finished, "{}", forced.message);
    assert_eq!(forced.calls, 1 + 12 + reread);
    assert_eq!(s.served() - before, u64::from(1 + 12 + reread));
    s.assert_groups_match_xpm().await;
}

#[tokio::test]
async fn a_new_run_resumes_what_is_left_and_links_only_when_asked() {
    let s = setup(60, 5_000).await;
    let now = s.x.sim.admin.now();
    let linked = s.linked().await;
    // A run stopped with three groups left; one XPM group was unlinked meanwhile.
    let left: Vec<i32> = linked.iter().take(3).map(|(g, _, _)| *g).collect();
    bulk::enqueue(&s.db, s.org, &s.tenant, &left, now)
        .await
        .unwrap();
    let (unlinked_group, _, unlinked_name) = linked.last().unwrap().clone();
    structuregram_core::links::unlink(&s.db, s.org, unlinked_group, now)
        .await
        .unwrap();

    let next = bulk::next_run(&s.db, s.org, &s.tenant).await.unwrap();
    assert_eq!((next.linked, next.unlinked, next.resumable), (11, 1, 3));
    let plan = next.plan.expect("three groups to resume");
    assert_eq!(
        plan.groups, 3,
        "a new run resumes the groups left, not all 11"
    );
    let with = next.plan_with_unlinked.expect("and the unlinked group");
    assert_eq!(with.groups, 4);
    // Never pulled, members unknown (7 assumed each): one detailed list of
    // 1 + ⌈28 ÷ 80⌉ = 2 call-equivalents beats 4 × (1 + 7) = 32 per client; one call, plus
    // the catalog refresh before linking.
    assert_eq!(with.strategy, FetchStrategy::DetailedList);
    assert_eq!(with.calls, 1 + 1);
    assert_eq!(next.eta_with_unlinked_seconds, 3, "2 calls at 50 a minute");

    let without = bulk::prepare(&s.db, s.org, &s.x.client, &s.x.session, false, now)
        .await
        .unwrap();
    assert!(without.linked.is_empty(), "nothing is linked unless asked");
    assert_eq!((without.resumed, without.status.queued), (3, 3));

    let before = s.served();
    let with = bulk::prepare(&s.db, s.org, &s.x.client, &s.x.session, true, now)
        .await
        .unwrap();
    assert_eq!(
        s.served() - before,
        1,
        "one clientgroup.api/list to refresh"
    );
    assert_eq!(with.linked.len(), 1);
    assert_eq!(
        with.linked[0].xpm_name.as_deref(),
        Some(unlinked_name.as_str())
    );
    assert_eq!(
        (with.resumed, with.status.queued),
        (3, 4),
        "the group just linked joins the queue left"
    );
    let report = s.run(&BulkOptions::default()).await;
    assert_eq!(report.outcome, BulkOutcome::Finished, "{}", report.message);
    assert_eq!(report.groups_done, 4);

    // Nothing left: the next run is every linked group again.
    let next = bulk::next_run(&s.db, s.org, &s.tenant).await.unwrap();
    assert_eq!((next.linked, next.unlinked, next.resumable), (12, 0, 0));
    assert_eq!(next.plan.map(|p| p.groups), Some(12));
    let status = bulk::status(&s.db, s.org, &s.tenant).await.unwrap();
    assert!(status.updated_at.is_some());
}
