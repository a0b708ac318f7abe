//! Harness for end-to-end tests of the built `structuregram` binary in a real window.
//!
//! It starts `tauri-driver` (which drives Debian's `WebKitWebDriver`) on free loopback ports in
//! its own process group, opens a WebDriver session on the app with the given arguments, and
//! saves screenshots into `tests/screenshots/`. Tests must run under an X server (the README's
//! test command uses `xvfb-run`) and one at a time (the app is single-instance per D-Bus
//! session).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};

/// The `structuregram` binary built next to this test binary (`target/debug/structuregram`),
/// or `STRUCTUREGRAM_BIN` when set.
pub fn app_binary() -> Result<PathBuf> {
    if let Ok(path) = std::env::var("STRUCTUREGRAM_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    // target/debug/deps/<test> → target/debug/structuregram
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("unexpected test binary location")?;
    let bin = dir.join(if cfg!(windows) {
        "structuregram.exe"
    } else {
        "structuregram"
    });
    if !bin.exists() {
        bail!(
            "{} does not exist: build it first (`cargo build --workspace --all-targets`)",
            bin.display()
        );
    }
    Ok(bin)
}

/// The code an authenticator app shows for `manual_key` (base32, as the window and `mfa enrol`
/// show it) at `unix_secs`, with core::mfa's parameters (RFC 6238: HMAC-SHA1, 6 digits,
/// 30-second step).
///
/// # Errors
/// When the key is not base32 or too short for a TOTP secret.
pub fn totp_code(manual_key: &str, account: &str, unix_secs: u64) -> Result<String> {
    let secret = totp_rs::Secret::try_from_base32(manual_key.trim())
        .map_err(|e| anyhow::anyhow!("the manual key is not base32: {e}"))?;
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret.as_bytes().to_vec())
        .with_account_name(account.to_owned())
        .build()
        .map_err(|e| anyhow::anyhow!("building the TOTP: {e}"))?;
    Ok(totp.generate(unix_secs).to_string())
}

/// Where screenshots go: `tests/screenshots/` in the repository.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots")
}

/// The demo simulator's Xero user (its sign-in page lists it).
pub const DEMO_XERO_EMAIL: &str = "demo@practice.example";
/// That user's password.
pub const DEMO_XERO_PASSWORD: &str = "demo";

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running app under WebDriver; dropping it stops its driver.
pub struct AppSession {
    /// The WebDriver client.
    pub client: Client,
    driver: tokio::process::Child,
    driver_pid: Option<u32>,
    /// IPC responses recorded so far ([`AppSession::record_ipc`]), each as JSON text.
    ipc: std::sync::Mutex<Vec<String>>,
}

impl AppSession {
    /// Launches the app with `args` through a fresh `tauri-driver`.
    ///
    /// # Errors
    /// If no X display is available, `tauri-driver` is missing, or the session does not start
    /// within 90 s.
    pub async fn launch(args: &[&str]) -> Result<Self> {
        Self::launch_binary(&app_binary()?, args).await
    }

    /// Launches the binary at `app` (for instance the one a package installed) with `args`
    /// through a fresh `tauri-driver`.
    ///
    /// # Errors
    /// As for [`AppSession::launch`].
    pub async fn launch_binary(app: &std::path::Path, args: &[&str]) -> Result<Self> {
        if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
            bail!(
                "no display: run end-to-end tests under an X server, e.g. `xvfb-run -a cargo test`"
            );
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port()?;
        let native_port = free_port()?;
        let mut command = tokio::process::Command::new("tauri-driver");
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        #[cfg(unix)]
        command.process_group(0);
        let driver = command
            .spawn()
            .context("cannot start tauri-driver: install it with `cargo install tauri-driver --locked --version '^2'`")?;
        let driver_pid = driver.id();
        let caps: serde_json::Map<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "browserName": "wry",
                "tauri:options": { "application": app, "args": args },
            }))?;
        let url = format!("http://127.0.0.1:{port}");
        let session = Self {
            client: connect(&url, caps).await?,
            driver,
            driver_pid,
            ipc: std::sync::Mutex::new(Vec::new()),
        };
        session.client.set_window_size(1280, 800).await.ok();
        Ok(session)
    }

    /// Waits up to `secs` for an element matching `css`.
    ///
    /// # Errors
    /// When it does not appear in time.
    pub async fn wait_for(&self, css: &str, secs: u64) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("{css} did not appear within {secs} s"))
    }

    /// The rendered text (`innerText`, which is empty for hidden elements) of every element
    /// matching `css`, in document order. Read in the page because WebKitWebDriver's own
    /// element-text command answers blank for React Flow's scaled, line-clamped labels.
    ///
    /// # Errors
    /// On a WebDriver failure.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>> {
        let value = self
            .client
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);",
                vec![serde_json::Value::String(css.to_owned())],
            )
            .await
            .with_context(|| format!("reading the texts of {css}"))?;
        Ok(serde_json::from_value(value)?)
    }

    /// Like [`AppSession::texts`], but waits up to `secs` until every match shows some text.
    ///
    /// # Errors
    /// When nothing matches, or some match is still blank, after `secs`.
    pub async fn visible_texts(&self, css: &str, secs: u64) -> Result<Vec<String>> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let texts = self.texts(css).await?;
            if !texts.is_empty() && texts.iter().all(|t| !t.trim().is_empty()) {
                return Ok(texts);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("{css} still blank after {secs} s: {texts:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Clicks an element: a native WebDriver click, or a DOM click when WebKitWebDriver refuses
    /// (it answers some clicks on table rows with an empty error).
    ///
    /// # Errors
    /// When both fail.
    pub async fn click(&self, element: &fantoccini::elements::Element) -> Result<()> {
        if element.clone().click().await.is_ok() {
            return Ok(());
        }
        self.client
            .execute(
                "arguments[0].click();",
                vec![serde_json::to_value(element)?],
            )
            .await
            .context("clicking")?;
        Ok(())
    }

    /// Clicks the element matching `css`, waiting up to 20 s for it.
    ///
    /// # Errors
    /// When it does not appear or cannot be clicked.
    pub async fn click_css(&self, css: &str) -> Result<()> {
        let element = self.wait_for(css, 20).await?;
        self.click(&element)
            .await
            .with_context(|| format!("clicking {css}"))
    }

    /// Replaces the text of the input matching `css` with `text`, waiting up to 20 s for it.
    ///
    /// # Errors
    /// When it does not appear or does not take the keys.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let input = self.wait_for(css, 20).await?;
        input
            .clear()
            .await
            .with_context(|| format!("clearing {css}"))?;
        input
            .send_keys(text)
            .await
            .with_context(|| format!("typing into {css}"))
    }

    /// The rendered text of the first element matching `css`, waiting up to `secs` for it to
    /// show some.
    ///
    /// # Errors
    /// When nothing matching shows text in time.
    pub async fn text_of(&self, css: &str, secs: u64) -> Result<String> {
        let texts = self.visible_texts(css, secs).await?;
        Ok(texts.into_iter().next().unwrap_or_default())
    }

    /// First run: creates the account on the "Create your account" page and waits until the
    /// app opens signed in. Where the data folder has no organisation yet (not the demo), it
    /// names one after the user.
    ///
    /// # Errors
    /// When the page does not appear, or the app does not open signed in within 120 s (deriving
    /// the vault key and opening the vault take seconds, more on a busy machine).
    pub async fn sign_up(&self, username: &str, password: &str) -> Result<()> {
        self.sign_up_in(username, password, &format!("{username} practice"))
            .await
    }

    /// Like [`AppSession::sign_up`], naming the organisation (used only when the form asks).
    ///
    /// # Errors
    /// As for [`AppSession::sign_up`].
    pub async fn sign_up_in(
        &self,
        username: &str,
        password: &str,
        organisation: &str,
    ) -> Result<()> {
        self.fill("[data-testid=signup-username]", username).await?;
        self.fill("[data-testid=signup-password]", password).await?;
        self.fill("[data-testid=signup-confirm]", password).await?;
        if !self
            .texts("[data-testid=signup-organisation]")
            .await?
            .is_empty()
        {
            self.fill("[data-testid=signup-organisation]", organisation)
                .await?;
        }
        self.click_css("[data-testid=signup-submit]").await?;
        self.wait_for("[data-testid=user-menu]", 120)
            .await
            .context("the app did not open signed in after creating the account")?;
        Ok(())
    }

    /// Waits up to `secs` until the text of the elements matching `css` (joined) contains every
    /// one of `needles`; returns that text.
    ///
    /// # Errors
    /// On a WebDriver failure, or with the last text seen when time runs out.
    pub async fn wait_text(&self, css: &str, needles: &[&str], secs: u64) -> Result<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.texts(css).await?.concat();
            if needles.iter().all(|n| text.contains(n)) {
                return Ok(text);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("{css} did not come to say {needles:?} within {secs} s: {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits up to `secs` until no element matches `css` (a dialog closed after saving).
    ///
    /// # Errors
    /// On a WebDriver failure, or when the element is still there after `secs`.
    pub async fn wait_gone(&self, css: &str, secs: u64) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !self.texts(css).await?.is_empty() {
            if tokio::time::Instant::now() >= deadline {
                bail!("{css} is still there after {secs} s");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(())
    }

    /// Signs in on the sign-in page (its username may be prefilled) and waits for the app.
    ///
    /// # Errors
    /// When the page does not appear, or the app does not open signed in within 120 s.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<()> {
        self.fill("[data-testid=signin-username]", username).await?;
        self.fill("[data-testid=signin-password]", password).await?;
        self.click_css("[data-testid=signin-submit]").await?;
        self.wait_for("[data-testid=user-menu]", 120)
            .await
            .context("the app did not open signed in")?;
        Ok(())
    }

    /// Saves a PNG screenshot as `tests/screenshots/<name>.png`.
    ///
    /// # Errors
    /// On a WebDriver or file failure.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Starts recording every IPC message the page receives from the app: each command's
    /// response or error, and each message on a progress channel, as JSON text. Tauri answers
    /// through the callbacks it registers in `window.__TAURI_INTERNALS__.callbacks` (a `Map`,
    /// tauri `scripts/core.js`); the recorder wraps each callback as it is registered. The page
    /// keeps the records until [`AppSession::drain_ipc`] moves them here; leaving the page (a
    /// `goto`) loses what was not drained, and the recorder must be started again on the new page.
    ///
    /// # Errors
    /// On a WebDriver failure, or when the page has no Tauri IPC.
    pub async fn record_ipc(&self) -> Result<()> {
        let installed = self
            .client
            .execute(
                "const internals = window.__TAURI_INTERNALS__;
                 if (!internals || !internals.callbacks) return false;
                 const callbacks = internals.callbacks;
                 window.__e2eIpc = window.__e2eIpc || [];
                 if (callbacks.__e2eRecording) return true;
                 const set = Map.prototype.set;
                 callbacks.set = function (id, fn) {
                   return set.call(this, id, function (data) {
                     let text;
                     try { text = typeof data === 'string' ? data : JSON.stringify(data); }
                     catch (e) { text = String(data); }
                     window.__e2eIpc.push(text === undefined ? 'undefined' : text);
                     return fn.apply(this, arguments);
                   });
                 };
                 callbacks.__e2eRecording = true;
                 return true;",
                vec![],
            )
            .await?;
        if installed != serde_json::Value::Bool(true) {
            bail!("the page has no Tauri IPC to record");
        }
        Ok(())
    }

    /// Moves the IPC messages the page recorded since the last drain into this session.
    ///
    /// # Errors
    /// On a WebDriver failure.
    pub async fn drain_ipc(&self) -> Result<()> {
        let drained = self
            .client
            .execute(
                "const records = window.__e2eIpc || []; window.__e2eIpc = []; return records;",
                vec![],
            )
            .await?;
        let records: Vec<String> = serde_json::from_value(drained)?;
        self.ipc
            .lock()
            .map_err(|_| anyhow::anyhow!("IPC log poisoned"))?
            .extend(records);
        Ok(())
    }

    /// Starts recording the page's IPC ([`AppSession::record_ipc`]) once the app's page has
    /// loaded its Tauri IPC (up to 30 s).
    ///
    /// # Errors
    /// On a WebDriver failure, or when the page has no Tauri IPC after 30 s.
    pub async fn record_ipc_when_ready(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match self.record_ipc().await {
                Ok(()) => return Ok(()),
                Err(e) if tokio::time::Instant::now() < deadline => {
                    eprintln!("waiting for the page's IPC: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Saves a screenshot `<prefix>-<name>` when `prefix` is set (helpers shared by tests that
    /// each keep their own screenshots).
    async fn shot(&self, prefix: Option<&str>, name: &str) -> Result<()> {
        if let Some(prefix) = prefix {
            self.screenshot(&format!("{prefix}-{name}")).await?;
        }
        Ok(())
    }

    /// Account → Security: turns on two-factor authentication for the signed-in `username`
    /// with a code computed from the key on screen, and confirms the recovery codes were saved.
    /// Returns the manual key (base32), to compute later codes with [`totp_code`].
    ///
    /// # Errors
    /// When a step's element does not appear in time.
    pub async fn turn_on_mfa(&self, username: &str) -> Result<String> {
        self.click_css("[data-testid=nav-security]").await?;
        self.click_css("[data-testid=mfa-enable]").await?;
        let key = self.text_of("[data-testid=mfa-manual-key]", 120).await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        self.fill(
            "[data-testid=mfa-confirm-code]",
            &totp_code(&key, username, now)?,
        )
        .await?;
        self.click_css("[data-testid=mfa-confirm-submit]").await?;
        self.wait_for("[data-testid=recovery-codes]", 120).await?;
        self.click_css("[data-testid=recovery-saved]").await?;
        self.click_css("[data-testid=recovery-done]").await?;
        self.wait_for("[data-testid=mfa-enabled]", 30).await?;
        Ok(key)
    }

    /// Signs in on the simulator's consent page (already open in the window) as the demo
    /// simulator's user and allows access.
    async fn consent(&self, shots: Option<&str>) -> Result<()> {
        self.wait_for("#simulator-banner", 30)
            .await
            .context("the simulator's page says it is a simulator")?;
        if !self.texts("#email").await?.is_empty() {
            self.fill("#email", DEMO_XERO_EMAIL).await?;
            self.fill("#password", DEMO_XERO_PASSWORD).await?;
            self.shot(shots, "03-consent-sign-in").await?;
            self.click_css("#sign-in").await?;
        }
        self.wait_for("#allow", 30).await?;
        self.shot(shots, "04-consent-allow").await?;
        self.click_css("#allow").await?;
        Ok(())
    }

    /// From Xero's page back to the app: the loopback page has answered; reload the app's page.
    async fn back_to_app(&self, app_url: &str, shots: Option<&str>) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let url = self.client.current_url().await?;
            if url.as_str().contains("/callback") {
                let page = self.texts("body").await?.join(" ");
                ensure!(
                    page.contains("StructureGram"),
                    "the callback page sends the user back to StructureGram: {page}"
                );
                break;
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "Xero's page did not come back to the loopback callback (at {url})"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        self.shot(shots, "05-callback-page").await?;
        self.client.goto(app_url).await?;
        Ok(())
    }

    /// Account → Integrations → *Connect to Xero XPM* in the demo: answers the code prompt with
    /// `code` if given, opens the simulator's consent page in the window (the system browser is
    /// not driveable), signs in and allows access, comes back to `app_url` and waits for
    /// Connected. Screenshots `<shots>-02…05` when `shots` is set. The page's IPC recording
    /// is drained before leaving the app's page and started again on return. Returns the
    /// consent page's URL (on the simulator: see [`SimAdmin::for_url`]).
    ///
    /// # Errors
    /// When a step does not happen in time.
    pub async fn connect_xpm(
        &self,
        app_url: &str,
        code: Option<String>,
        shots: Option<&str>,
    ) -> Result<String> {
        self.click_css("[data-testid=nav-integrations]").await?;
        self.click_css("[data-testid=connect-xpm]").await?;
        if let Some(code) = code {
            self.fill("[data-testid=verify-code-input]", &code).await?;
            self.click_css("[data-testid=verify-code-submit]").await?;
        }
        let link = self.wait_for("[data-testid=xpm-auth-url]", 60).await?;
        let url = link
            .attr("href")
            .await?
            .context("the waiting notice links Xero's page")?;
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.shot(shots, "02-waiting-for-xero").await?;
        // Leaving the app's page ends its IPC recording: keep what it has, and record again
        // once back.
        self.drain_ipc().await?;
        self.client.goto(&url).await?;
        self.consent(shots).await?;
        self.back_to_app(app_url, shots).await?;
        self.record_ipc_when_ready().await?;
        self.click_css("[data-testid=nav-integrations]").await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !self
            .text_of("[data-testid=xpm-status]", 30)
            .await?
            .trim()
            .eq_ignore_ascii_case("connected")
        {
            ensure!(
                tokio::time::Instant::now() < deadline,
                "the card shows Connected after Allow access"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Ok(url)
    }

    /// Every IPC message drained so far, oldest first.
    pub fn ipc_log(&self) -> Vec<String> {
        self.ipc.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// Ends the WebDriver session (closing the app) and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill_driver();
    }

    fn kill_driver(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.driver_pid.take() {
            // SIGTERM lets tauri-driver stop WebKitWebDriver itself, so no native driver is left
            // holding its port; only then is tauri-driver killed outright.
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            std::thread::sleep(Duration::from_millis(500));
        }
        let _ = self.driver.start_kill();
    }
}

impl Drop for AppSession {
    fn drop(&mut self) {
        self.kill_driver();
    }
}

async fn connect(url: &str, caps: serde_json::Map<String, serde_json::Value>) -> Result<Client> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let attempt = tokio::time::timeout(
            Duration::from_secs(60),
            ClientBuilder::rustls()?
                .capabilities(caps.clone())
                .connect(url),
        )
        .await;
        match attempt {
            Ok(Ok(client)) => return Ok(client),
            Ok(Err(e)) if tokio::time::Instant::now() < deadline => {
                // tauri-driver may still be starting; try again shortly.
                eprintln!("waiting for tauri-driver: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok(Err(e)) => return Err(e).context("cannot open a WebDriver session on the app"),
            Err(_) => bail!("opening a WebDriver session timed out after 60 s"),
        }
    }
}

/// The admin HTTP API of an xpm-sim simulator (`{base}/__admin`, loopback only): what a test
/// uses to look at, or change, "XPM" from outside the app, as an XPM user would.
#[derive(Debug, Clone)]
pub struct SimAdmin {
    base: String,
    http: reqwest::Client,
}

impl SimAdmin {
    /// The admin API of the simulator serving `url` (any URL on it, e.g. the consent page's).
    ///
    /// # Errors
    /// If `url` has no scheme and host.
    pub fn for_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url.split_once("://").context("a URL with a scheme")?;
        let host = rest.split('/').next().unwrap_or_default();
        ensure!(!host.is_empty(), "{url} has no host");
        Ok(Self {
            base: format!("{scheme}://{host}/__admin"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()?,
        })
    }

    /// `GET {base}/__admin/{path}`: the response's `result` (or the whole body when it has none).
    ///
    /// # Errors
    /// On a transport failure, or an answer that is not `ok`.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value> {
        let response = self
            .http
            .get(format!("{}/{path}", self.base))
            .send()
            .await?;
        Self::result(path, response).await
    }

    /// `POST {base}/__admin/{path}` with a JSON body: the response's `result`.
    ///
    /// # Errors
    /// On a transport failure, or an answer that is not `ok`.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let response = self
            .http
            .post(format!("{}/{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        Self::result(path, response).await
    }

    async fn result(path: &str, response: reqwest::Response) -> Result<serde_json::Value> {
        let status = response.status();
        let body: serde_json::Value = serde_json::from_str(&response.text().await?)
            .with_context(|| format!("admin {path} answered {status} with no JSON"))?;
        ensure!(
            status.is_success() && body.get("ok") != Some(&serde_json::Value::Bool(false)),
            "admin {path} answered {status}: {body}"
        );
        Ok(body.get("result").cloned().unwrap_or(body))
    }

    /// The tenant id of the simulator's first practice (the demo has one).
    ///
    /// # Errors
    /// As [`SimAdmin::get`], or when it serves no practice.
    pub async fn first_tenant(&self) -> Result<String> {
        let state = self.get("state").await?;
        state["practices"][0]["tenant_id"]
            .as_str()
            .map(str::to_owned)
            .context("the simulator serves a practice")
    }
}
