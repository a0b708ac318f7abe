//! `structuregram xpm reconcile` of the real binary against the simulator's small fixture
//! practice: link "Fernhill Family" as a new group (never pulled), preview the differences as
//! a plan file, edit the plan (Zoë's unknown "Sole Trader" structure needs a type; an item id
//! the preview does not have is reported, not applied), apply it, apply the same file again
//! (refused: already applied), and preview again: empty.

use serde_json::Value;

mod common;

use common::{connected_and_linked, enrolled_user, ok, run, DataDir};

const FERNHILL_GROUP: &str = "00000000-aaaa-4bbb-8ccc-0000000000f1";

fn preview(dir: &DataDir, code: &str) -> Value {
    serde_json::from_str(&ok(
        dir,
        &[
            "xpm",
            "reconcile",
            "--group",
            "Fernhill Family",
            "--preview",
            "--json",
            "--username",
            "ana",
            "--code",
            code,
        ],
    ))
    .unwrap()
}

fn apply(dir: &DataDir, file: &std::path::Path, code: &str) -> std::process::Output {
    run(
        dir,
        &[
            "xpm",
            "reconcile",
            "--group",
            "Fernhill Family",
            "--apply",
            file.to_str().unwrap(),
            "--username",
            "ana",
            "--code",
            code,
        ],
    )
}

#[test]
fn preview_edit_the_plan_apply_and_preview_again_headless() {
    let data = tempfile::tempdir().unwrap();
    let dir = &DataDir::new(data.path(), false);
    let mut codes = enrolled_user(dir).into_iter();
    let (rt, sim) = connected_and_linked(dir, &mut codes, FERNHILL_GROUP);

    let mut plan = preview(dir, &codes.next().unwrap());
    let summary = plan["summary"].clone();
    // Only Zoë's structure needs input; everything else has a recommendation (imports of the
    // members and of the two related clients outside the group, then their relationships).
    assert_eq!(summary["needsInput"], 1, "{plan:#}");
    assert_eq!(summary["waiting"], 0, "{plan:#}");
    assert_eq!(summary["readyToApply"], false);
    let items = plan["items"].as_array_mut().unwrap();
    let zoe = items
        .iter_mut()
        .find(|i| i["diffType"] == "ENTITY_TYPE_UNRESOLVED")
        .expect("Zoë's structure is unresolved");
    assert_eq!(zoe["status"], "needsInput");
    zoe["decision"] = serde_json::json!({ "action": "chooseType", "kind": "individual" });
    let imports = items
        .iter()
        .filter(|i| i["diffType"] == "ENTITY_ONLY_IN_XPM")
        .count();
    assert_eq!(
        imports, 7,
        "five members and two related clients outside the group"
    );
    items.push(serde_json::json!({ "id": "xpm-only:not-a-difference", "decision": { "action": "ignore" } }));
    let file = data.path().join("plan.json");
    std::fs::write(&file, serde_json::to_string_pretty(&plan).unwrap()).unwrap();

    let out = apply(dir, &file, &codes.next().unwrap());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Not applied: xpm-only:not-a-difference is not in the current preview"),
        "{stderr}"
    );
    assert!(stderr.contains("blocked 0, failed 0"), "{stderr}");
    assert!(stdout.contains("Applied"), "{stdout}");

    // The same file again: refused as already applied, not reported as changed differences.
    let twice = apply(dir, &file, &codes.next().unwrap());
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(!twice.status.success(), "{stderr}");
    assert!(stderr.contains("This plan was already applied"), "{stderr}");
    assert!(!stderr.contains("changed since the preview"), "{stderr}");
    assert!(
        !stderr.contains("is not in the current preview"),
        "{stderr}"
    );

    let again = preview(dir, &codes.next().unwrap());
    assert_eq!(again["items"].as_array().unwrap().len(), 0, "{again:#}");
    assert_eq!(again["summary"]["readyToApply"], true);

    // A file that is not a plan is refused before any XPM call.
    std::fs::write(&file, "[1, 2]").unwrap();
    let bad = apply(dir, &file, &codes.next().unwrap());
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("is not a reconciliation plan"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    rt.block_on(sim.shutdown());
}
