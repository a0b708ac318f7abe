//! Issue 12, item 3: the installed `.deb`. `.ci/deb-smoke` builds the package (a debug bundle),
//! installs it on this machine, runs this test with `--ignored`, and removes the package again.
//! The test checks what the package put on the system — the binary in `/usr/bin`, owned by the
//! package, and a desktop entry that hands `structuregram://` links to it (`Exec=… %u` and the
//! `x-scheme-handler/structuregram` MIME type, see build-notes "Deep links on Linux") — then
//! launches the installed binary under WebDriver on a fresh data folder and sees the first window,
//! *Create your account*.
//!
//! Ignored in a plain `cargo test`: it needs the package installed, which only the script does.

use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Context, Result};
use structuregram_e2e::AppSession;

/// The Debian package's name (the bundler's kebab case of `productName`).
const PACKAGE: &str = "structure-gram";
/// Where the package installs the binary (`mainBinaryName` under `/usr/bin`).
const INSTALLED_BINARY: &str = "/usr/bin/structuregram";
/// The package's desktop entry (`productName`.desktop).
const DESKTOP_FILE: &str = "/usr/share/applications/StructureGram.desktop";

/// The package that owns `path`, as `dpkg -S` reports it.
fn owner_of(path: &str) -> Result<String> {
    let out = Command::new("dpkg")
        .args(["-S", path])
        .output()
        .context("running dpkg -S")?;
    ensure!(
        out.status.success(),
        "no installed package owns {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    Ok(text.split(':').next().unwrap_or_default().trim().to_owned())
}

#[test]
#[ignore = "needs the .deb installed: run .ci/deb-smoke"]
fn the_package_installs_the_binary_and_a_desktop_entry_for_structuregram_links() -> Result<()> {
    ensure!(
        owner_of(INSTALLED_BINARY)? == PACKAGE,
        "{INSTALLED_BINARY} comes from the package"
    );
    ensure!(
        owner_of(DESKTOP_FILE)? == PACKAGE,
        "{DESKTOP_FILE} comes from the package"
    );
    let entry = std::fs::read_to_string(DESKTOP_FILE).context("reading the desktop entry")?;
    let line = |key: &str| {
        entry
            .lines()
            .find_map(|l| l.strip_prefix(key).map(str::trim))
            .map(str::to_owned)
    };
    // The OS substitutes the link for %u; without it the app would start without the link.
    ensure!(
        line("Exec=").as_deref() == Some("structuregram %u"),
        "Exec passes the link: {entry}"
    );
    let mime = line("MimeType=").context("the entry declares MIME types")?;
    ensure!(
        mime.split(';')
            .any(|m| m == "x-scheme-handler/structuregram"),
        "the entry handles structuregram:// links: {mime}"
    );
    // desktop-file-validate (desktop-file-utils) checks the entry against the freedesktop spec.
    let validate = Command::new("desktop-file-validate")
        .arg(DESKTOP_FILE)
        .output()
        .context("running desktop-file-validate")?;
    ensure!(
        validate.status.success(),
        "the desktop entry is valid: {}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the .deb installed: run .ci/deb-smoke"]
async fn the_installed_app_opens_on_create_your_account() -> Result<()> {
    ensure!(
        Path::new(INSTALLED_BINARY).exists(),
        "{INSTALLED_BINARY} is installed"
    );
    let data = tempfile::tempdir()?;
    let data_dir = data.path().to_str().unwrap().to_owned();
    let app =
        AppSession::launch_binary(Path::new(INSTALLED_BINARY), &["--data-dir", &data_dir]).await?;
    let outcome = async {
        app.wait_for("[data-testid=signup-username]", 60)
            .await
            .context("the first window shows the sign-up form")?;
        let page = app.text_of("body", 10).await?;
        ensure!(
            page.contains("Create your account"),
            "the first window is Create your account: {page}"
        );
        app.screenshot("deb-01-installed-first-window").await?;
        Ok(())
    }
    .await;
    if outcome.is_err() {
        let _ = app.screenshot("deb-failure").await;
    }
    app.close().await;
    outcome?;
    // The fresh data folder now holds the app's database: the installed binary really ran on it.
    ensure!(
        data.path().join("structuregram.sqlite").exists(),
        "the installed app created its database in the data folder"
    );
    Ok(())
}
