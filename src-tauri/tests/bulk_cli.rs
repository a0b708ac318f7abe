//! `structuregram xpm sync-all` of the real binary against the simulator's small fixture
//! practice (9 clients in 2 client groups, "Fernhill Family" and "Kowalski Group"; one archived
//! company, Old Orchard Supplies, related to a Fernhill member): `--link-unlinked` links both
//! groups and pulls them through the queue; a second `sync-all` re-reads the practice with one
//! call.
//!
//! The call counts come from `core::bulk`'s plan (see its module docs), read off the
//! simulator's per-tenant counter (XPM calls that passed authentication and limits):
//! - first run: the catalog refresh (`clientgroup.api/list`, 1); two never-pulled groups of
//!   unknown size (7 members assumed each) cost 2 × (1 + 7) = 16 client by client against
//!   1 + ⌈14 ÷ 80⌉ = 2 for one shared `client.api/list?detailed=true`, so the detailed list
//!   (1); the archived company is not in that list, and a member's relationship names it, so
//!   one `client.api/get` (1): 3 calls.
//! - second run: both groups pulled before: 2 × 2 = 4 client by client, 1 + 2 + 0 = 3 with
//!   `modifiedsince`, 1 + ⌈9 ÷ 80⌉ = 2 for the detailed list (the practice's 9 clients known
//!   from the first list), so again the list (1), and the archived company is known by now:
//!   1 call.

use serde_json::Value;

mod common;

use common::{connected, enrolled_user, ok, DataDir};

/// `xpm sync-all --json` (with `extra` flags) as its report.
fn sync_all(dir: &DataDir, code: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "xpm",
        "sync-all",
        "--json",
        "--username",
        "ana",
        "--code",
        code,
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(dir, &args)).unwrap()
}

/// XPM calls the simulator served to the practice so far.
fn served(sim: &xpm_sim::SimServer) -> u64 {
    sim.admin.counters().per_tenant.values().sum()
}

#[test]
fn sync_all_links_and_pulls_the_whole_practice_then_resyncs_with_one_call() {
    let data = tempfile::tempdir().unwrap();
    let dir = &DataDir::new(data.path(), false);
    let mut codes = enrolled_user(dir).into_iter();
    let (_rt, sim) = connected(dir, &mut codes);

    let before = served(&sim);
    let report = sync_all(dir, &codes.next().unwrap(), &["--link-unlinked"]);
    assert_eq!(report["outcome"], "finished", "{report}");
    assert_eq!(report["groupsDone"], 2);
    assert_eq!(report["failures"].as_array().unwrap().len(), 0);
    assert_eq!(report["groupsLeft"], 0);
    assert_eq!(report["plan"]["strategy"], "detailedList");
    assert_eq!(report["plan"]["groups"], 2);
    assert_eq!(
        report["calls"], 2,
        "the shared list and the archived company"
    );
    assert_eq!(served(&sim) - before, 3, "plus the catalog refresh");

    // Every XPM group is linked and was pulled.
    let catalog: Value = serde_json::from_str(&ok(dir, &["xpm", "groups", "--json"])).unwrap();
    let rows = catalog["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert!(row["linkedGroupId"].is_number(), "{row}");
        assert!(row["lastPullAt"].is_string(), "pulled: {row}");
    }
    // Members that arrived: Fernhill's six live members less Zoë, whose "Sole Trader"
    // structure needs a decision (5); Kowalski's partnership, while Anna Kowalski's custom
    // "Individual Trustee" structure needs a decision (1) — as single pulls would.
    let groups: Value = serde_json::from_str(&ok(dir, &["groups", "--json"])).unwrap();
    let mut members: Vec<(&str, u64)> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap(),
                g["entityCount"].as_u64().unwrap(),
            )
        })
        .collect();
    members.sort();
    assert_eq!(members, [("Fernhill Family", 5), ("Kowalski Group", 1)]);
    // Both groups synced but are not complete: the report names each with its open pull items,
    // as single pulls count them (pull_cli.rs): Fernhill has its two keyword matches ready to
    // check, and needs Zoë's structure and two holding classes decided (2 ready, 3, none
    // waiting); Kowalski needs Anna's structure (1), and the partnership relationship naming her
    // waits on it (1); its partnership's structure maps directly (0 ready).
    let mut to_review: Vec<(String, u64, u64, u64)> = report["toReview"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["groupName"].as_str().unwrap().to_owned(),
                r["ready"].as_u64().unwrap(),
                r["needsInput"].as_u64().unwrap(),
                r["waiting"].as_u64().unwrap(),
            )
        })
        .collect();
    to_review.sort();
    assert_eq!(
        to_review,
        [
            ("Fernhill Family".to_owned(), 2, 3, 0),
            ("Kowalski Group".to_owned(), 0, 1, 1)
        ]
    );
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .ends_with("2 of them have pull items for you to review on their XPM tabs."),
        "{report}"
    );

    // Nothing changed in XPM: the second run reads the practice once.
    let before = served(&sim);
    let again = sync_all(dir, &codes.next().unwrap(), &[]);
    assert_eq!(again["outcome"], "finished", "{again}");
    assert_eq!(again["groupsDone"], 2);
    assert_eq!(again["plan"]["strategy"], "detailedList");
    assert_eq!(again["calls"], 1);
    assert_eq!(served(&sim) - before, 1);
}
