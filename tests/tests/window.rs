//! The real desktop window on the demo practice: the groups list, a structure diagram with its
//! entity names and edge labels, and the "as at" date hiding a relationship that had ended.

use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::Locator;
use structuregram_e2e::AppSession;

async fn directors(app: &AppSession) -> Result<usize> {
    Ok(app
        .texts("[data-testid=edge-label]")
        .await?
        .iter()
        .filter(|t| t.trim() == "Director")
        .count())
}

#[tokio::test]
async fn demo_group_diagram_shows_entities_labels_and_respects_the_as_at_date() -> Result<()> {
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_str().unwrap().to_owned();
    let app = AppSession::launch(&["--demo", "--data-dir", &data_dir]).await?;
    let outcome = walk(&app).await;
    if let Err(e) = &outcome {
        eprintln!("end-to-end walk failed: {e:?}");
        let _ = app.screenshot("window-failure").await;
    }
    app.close().await;
    outcome
}

async fn walk(app: &AppSession) -> Result<()> {
    // First run of the demo: the new account joins the demo practice.
    app.sign_up("demo-user", "demo password").await?;
    app.wait_for("[data-testid=group-row]", 60).await?;
    let rows = app.texts("[data-testid=group-row]").await?;
    for name in [
        "Nguyen Family Group",
        "Harrington Family",
        "Coastline Holdings Group",
        "Barker & Lowe Partnership",
    ] {
        anyhow::ensure!(
            rows.iter().any(|r| r.contains(name)),
            "the demo practice lists {name}; rows were {rows:?}"
        );
    }
    app.screenshot("01-groups").await?;

    // Open the corporate group.
    let row = app
        .client
        .find_all(Locator::Css("[data-testid=group-row]"))
        .await
        .context("finding the group rows")?;
    let mut opened = false;
    for r in row {
        if r.text()
            .await
            .context("reading a group row")?
            .contains("Coastline Holdings Group")
        {
            app.click(&r).await?;
            opened = true;
            break;
        }
    }
    anyhow::ensure!(opened, "the Coastline Holdings Group row can be clicked");
    app.wait_for("[data-testid=diagram][data-state=ready]", 60)
        .await?;
    app.wait_for("[data-testid=diagram-node]", 30).await?;

    // React Flow keeps nodes invisible until it has measured them: wait for their text.
    let nodes = app.visible_texts("[data-testid=diagram-node]", 30).await?;
    for name in [
        "Coastline Holdings Pty Ltd",
        "Coastline Operations Pty Ltd",
        "Coastline Property Unit Trust",
        "James Porter",
        "Sarah Whitlock",
    ] {
        anyhow::ensure!(
            nodes.iter().any(|n| n.contains(name)),
            "{name} is drawn; nodes: {nodes:?}"
        );
    }
    let labels = app.texts("[data-testid=edge-label]").await?;
    anyhow::ensure!(
        labels
            .iter()
            .any(|l| l.contains("Shareholder · 600 Ordinary (60%)")),
        "Sarah's holding is labelled with shares, class and %; labels: {labels:?}"
    );
    let before = directors(app).await?;
    anyhow::ensure!(
        before == 5,
        "five directorships, James Porter's ceased one included: {labels:?}"
    );
    app.screenshot("02-diagram").await?;

    // As at 1 January 2022 James Porter (director until 30 June 2021) is no longer a director.
    let input = app.wait_for("[data-testid=as-at-input]", 10).await?;
    input.clear().await?;
    input.send_keys("2022-01-01").await?;
    let hidden = app
        .client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=hidden-count]"))
        .await?;
    let mut after = before;
    for _ in 0..40 {
        after = directors(app).await?;
        if after < before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::ensure!(
        after == before - 1,
        "James Porter's directorship is hidden as at 2022-01-01"
    );
    let note = hidden.text().await?;
    anyhow::ensure!(
        note.contains('1'),
        "the note says one relationship is hidden: {note:?}"
    );
    app.screenshot("03-diagram-as-at-2022").await?;
    Ok(())
}
