//! The headless command line of the real binary: export, import and their round trip.

use std::process::{Command, Output};

fn structuregram(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_structuregram"))
        .args(args)
        .env_remove("STRUCTUREGRAM_DATA_DIR")
        .output()
        .expect("the structuregram binary runs")
}

#[test]
fn export_of_a_demo_group_lists_its_entities_and_relationships_and_round_trips() {
    let demo = tempfile::tempdir().unwrap();
    let demo_dir = demo.path().to_str().unwrap();
    let out = structuregram(&[
        "--demo",
        "--data-dir",
        demo_dir,
        "export",
        "--group",
        "Barker & Lowe Partnership",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "export succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Emma Barker",
            "Tom Lowe",
            "Lowe Family Trust",
            "Barker & Lowe Accountants"
        ],
        "the group's four members, in creation order"
    );
    let partners: Vec<(&str, f64)> = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "partner")
        .map(|r| {
            (
                r["from"].as_str().unwrap(),
                r["percentage"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        partners,
        [("e1", 50.0), ("e2", 30.0), ("e3", 20.0)],
        "partner interests total 100%"
    );

    let file = demo.path().join("group.json");
    std::fs::write(&file, &out.stdout).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let fresh_dir = fresh.path().to_str().unwrap();
    let import = structuregram(&[
        "--data-dir",
        fresh_dir,
        "import",
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let again = structuregram(&[
        "--data-dir",
        fresh_dir,
        "export",
        "--group",
        "Barker & Lowe Partnership",
        "--format",
        "json",
    ]);
    assert_eq!(
        again.stdout, out.stdout,
        "import then export gives the same bytes"
    );

    let twice = structuregram(&[
        "--data-dir",
        fresh_dir,
        "import",
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(
        !twice.status.success(),
        "a second import under the same name is refused"
    );
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("add --name"),
        "and says how to import it anyway"
    );
}

#[test]
fn an_unknown_group_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = structuregram(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "export",
        "--group",
        "Nobody",
    ]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: No group is called \u{201c}Nobody\u{201d}. List groups with `structuregram groups`."
    );
}
