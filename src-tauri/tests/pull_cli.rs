//! `structuregram xpm pull` of the real binary against the simulator's small fixture practice:
//! link the "Fernhill Family" XPM group, pull it (entities, members, relationships and the
//! review items arrive), pull again (nothing changes), then decide the one needs-input item
//! with `--decisions` and pull again (*Retry with decisions*).
//!
//! The expected numbers are the fixture's, worked out in `crates/core/tests/xpm_pull.rs`: six
//! live members, of which Zoë's "Sole Trader" structure is unknown (needs input); two related
//! clients outside the group; ten relationships once both sides are merged.

use serde_json::Value;

mod common;

use common::{command, connected_and_linked, enrolled_user, ok, run, DataDir};

const FERNHILL_GROUP: &str = "00000000-aaaa-4bbb-8ccc-0000000000f1";
const ZOE_NAME: &str = "Zoë Müller & Søn <Trading> \"Quotes\"";

/// `xpm pull --json` as (report, open review items).
fn pull(dir: &DataDir, code: &str, extra: &[&str]) -> (Value, Vec<Value>) {
    let mut args = vec![
        "xpm",
        "pull",
        "--group",
        "Fernhill Family",
        "--json",
        "--username",
        "ana",
        "--code",
        code,
    ];
    args.extend_from_slice(extra);
    let out: Value = serde_json::from_str(&ok(dir, &args)).unwrap();
    (
        out["report"].clone(),
        out["review"].as_array().unwrap().clone(),
    )
}

fn counts(report: &Value) -> [u64; 5] {
    let c = &report["counts"];
    [
        "entitiesCreated",
        "entitiesUpdated",
        "membersAdded",
        "relationshipsCreated",
        "relationshipsUpdated",
    ]
    .map(|k| c[k].as_u64().unwrap())
}

fn review(report: &Value) -> [u64; 3] {
    let r = &report["review"];
    ["ready", "needsInput", "waiting"].map(|k| r[k].as_u64().unwrap())
}

/// The group's export: member names, sorted, and the number of relationships between them.
fn group_contents(dir: &DataDir) -> (Vec<String>, usize) {
    let doc: Value = serde_json::from_str(&ok(
        dir,
        &["export", "--group", "Fernhill Family", "--format", "json"],
    ))
    .unwrap();
    let mut names: Vec<String> = doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    (names, doc["relationships"].as_array().unwrap().len())
}

#[test]
fn pull_a_linked_group_headless_then_again_then_with_a_decision() {
    let data = tempfile::tempdir().unwrap();
    let dir = &DataDir::new(data.path(), false);
    let mut codes = enrolled_user(dir).into_iter();

    let (rt, sim) = connected_and_linked(dir, &mut codes, FERNHILL_GROUP);
    // First pull: one group read, six member reads, two reads of related clients outside it.
    let (first, items) = pull(dir, &codes.next().unwrap(), &[]);
    assert_eq!(first["plan"]["strategy"], "perClient");
    assert_eq!(first["plan"]["calls"], 9);
    // created, updated, members added, relationships created, relationships updated
    assert_eq!(counts(&first), [7, 0, 5, 10, 0]);
    // Ready: the two keyword matches; needs input: Zoë's structure and two holding classes.
    assert_eq!(review(&first), [2, 3, 0]);
    assert_eq!(items.len(), 5, "the open items are listed: {items:#?}");
    let members = vec![
        "Fernhill Nominees Pty Ltd",
        "Fernhill Orchards Pty Ltd",
        "Maeve O'Brien-Fernhill",
        "Rowan Fernhill",
        "The Fernhill Family Trust",
    ];
    let (names, rels) = group_contents(dir);
    assert_eq!(names, members);
    // Eight of the ten are between members; the other two reach the outside clients.
    assert_eq!(rels, 8);

    // Pull again: XPM is unchanged, so nothing changes here and no item is added.
    let (second, items_again) = pull(dir, &codes.next().unwrap(), &[]);
    assert_eq!(counts(&second), [0, 0, 0, 0, 0]);
    assert_eq!(review(&second), [2, 3, 0]);
    let ids = |v: &[Value]| v.iter().map(|i| i["id"].as_i64()).collect::<Vec<_>>();
    assert_eq!(ids(&items_again), ids(&items));
    assert_eq!(group_contents(dir), (names.clone(), rels));

    // Decide Zoë's type in a decisions file, remembering it as a rule, and pull again.
    let zoe = items
        .iter()
        .find(|i| i["kind"] == "entityType")
        .expect("Zoë's structure needs input");
    assert_eq!(zoe["state"], "needsInput");
    assert_eq!(zoe["payload"]["businessStructure"], "Sole Trader");
    let file = data.path().join("decisions.json");
    std::fs::write(
        &file,
        serde_json::json!([{
            "item": zoe["id"],
            "decision": {
                "action": "setKind",
                "kind": "individual",
                "trustType": null,
                "rememberAsRule": true
            }
        }])
        .to_string(),
    )
    .unwrap();
    let (third, items) = pull(
        dir,
        &codes.next().unwrap(),
        &["--decisions", file.to_str().unwrap()],
    );
    assert_eq!(counts(&third), [1, 0, 1, 0, 0]);
    assert_eq!(review(&third), [2, 2, 0], "Zoë's item is resolved");
    assert!(items.iter().all(|i| i["kind"] != "entityType"));
    let (names, _) = group_contents(dir);
    assert!(names.iter().any(|n| n == ZOE_NAME), "{names:?}");
    assert_eq!(names.len(), 6);

    // The human-readable report names the counts and the open items.
    let text = ok(
        dir,
        &[
            "xpm",
            "pull",
            "--group",
            "Fernhill Family",
            "--username",
            "ana",
            "--code",
            &codes.next().unwrap(),
        ],
    );
    assert!(
        text.contains("Entities: 0 created, 0 updated"),
        "a fourth pull changes nothing: {text}"
    );
    assert!(
        text.contains("Review: 2 ready, 2 need your input, 0 waiting on other changes."),
        "{text}"
    );
    assert!(text.contains("The Fernhill Family Trust"), "{text}");

    // A decisions file that does not fit is refused before any XPM call.
    std::fs::write(&file, "[{\"item\": 1}]").unwrap();
    let bad = run(
        dir,
        &[
            "xpm",
            "pull",
            "--group",
            "Fernhill Family",
            "--decisions",
            file.to_str().unwrap(),
            "--username",
            "ana",
            "--code",
            &codes.next().unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("is not a JSON array"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    rt.block_on(sim.shutdown());
}

/// A pull killed with SIGKILL while it is still reading clients from XPM leaves the group as it
/// was (the run applies everything in one transaction at the end), and the next pull completes
/// with the same result a first pull has.
#[test]
fn a_pull_killed_halfway_changes_nothing_and_the_next_one_completes() {
    let data = tempfile::tempdir().unwrap();
    let dir = &DataDir::new(data.path(), false);
    let mut codes = enrolled_user(dir).into_iter();
    let (_rt, sim) = connected_and_linked(dir, &mut codes, FERNHILL_GROUP);
    let before = group_contents(dir);
    assert_eq!(before, (Vec::<String>::new(), 0), "linked, never pulled");

    // Every client read now takes 1.5 s, so the pull is mid-fetch when it is killed.
    sim.admin.inject(
        xpm_sim::FaultKind::Latency { ms: 1500 },
        20,
        Some("client.api/get"),
    );
    let reads = || {
        sim.admin
            .counters()
            .per_endpoint
            .get("GET client.api/get")
            .copied()
            .unwrap_or(0)
    };
    let code = codes.next().unwrap();
    let mut child = command(
        dir,
        &[
            "xpm",
            "pull",
            "--group",
            "Fernhill Family",
            "--username",
            "ana",
            "--code",
            &code,
        ],
    )
    .spawn()
    .unwrap();
    drop(child.stdin.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while reads() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the pull started reading clients"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the pull is still running"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL on Unix: no chance to clean up
    let status = child.wait().unwrap();
    assert!(!status.success(), "the pull was killed");
    assert_eq!(
        group_contents(dir),
        before,
        "a killed pull wrote nothing to the group"
    );

    sim.admin.clear_faults();
    let (report, _) = pull(dir, &codes.next().unwrap(), &[]);
    // created, updated, members added, relationships created, relationships updated
    assert_eq!(
        counts(&report),
        [7, 0, 5, 10, 0],
        "the next pull does the whole first pull"
    );
    assert_eq!(group_contents(dir).0.len(), 5);
}
