//! The one-shot loopback listener that receives Xero's redirect on
//! `http://localhost:<port>/callback` (reference §5.3) and hands the URL to
//! [`Connector::complete_authorization`], then answers with a small page telling the user to
//! return to StructureGram (with a `structuregram://open` link that focuses the app).
//!
//! Served by axum on 127.0.0.1 (and ::1 when available, since browsers may resolve
//! `localhost` to either); nothing is reachable from other machines. It stops when its attempt
//! ends (answered, replaced, cancelled or timed out) or after the attempt's 10 minutes.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Completion, Connector};

/// The link on the page that brings the app to the front (the shell focuses its window for any
/// `structuregram://` URL other than `oauth/callback`).
pub(crate) const RETURN_LINK: &str = "structuregram://open";

/// A running listener; dropping it (or calling [`Listener::stop`]) shuts it down.
pub(crate) struct Listener {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Listener {
    /// Signals shutdown and waits (at most 5 s) until the port is released.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }
}

/// Binds the first port of `ports` free on 127.0.0.1 (plus ::1 if it is free there too).
pub(crate) async fn bind_first_free(ports: &[u16]) -> Option<(u16, Vec<TcpListener>)> {
    for &port in ports {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(v4) => {
                let mut listeners = vec![v4];
                if let Ok(v6) = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await {
                    listeners.push(v6);
                }
                return Some((port, listeners));
            }
            Err(e) => tracing::info!(port, error = %e, "Xero callback port busy; trying the next"),
        }
    }
    None
}

#[derive(Clone)]
struct Served {
    connector: Connector,
    port: u16,
}

/// Serves `/callback` on the bound listeners until stopped or `ttl` passes.
pub(crate) fn serve(
    listeners: Vec<TcpListener>,
    connector: Connector,
    port: u16,
    ttl: std::time::Duration,
) -> Listener {
    let (stop, stopped) = watch::channel(false);
    let app = Router::new()
        .route("/callback", get(callback))
        .with_state(Served { connector, port });
    let tasks = listeners
        .into_iter()
        .map(|listener| {
            let app = app.clone();
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let shutdown = async move {
                    tokio::select! {
                        _ = stopped.wait_for(|s| *s) => {}
                        () = tokio::time::sleep(ttl) => {}
                    }
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    tracing::warn!(error = %e, "Xero callback listener failed");
                }
            })
        })
        .collect();
    Listener { stop, tasks }
}

fn page(title: &str, message: &str) -> Html<String> {
    let e = |s: &str| html_escape::encode_text(s).into_owned();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} \u{2013} StructureGram</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1 id=\"title\">{t}</h1>\
         <p id=\"message\">{m}</p><p>You can close this tab and return to StructureGram.</p>\
         <p><a id=\"return\" href=\"{RETURN_LINK}\">Return to StructureGram</a></p></body></html>",
        t = e(title),
        m = e(message)
    ))
}

async fn callback(State(s): State<Served>, uri: Uri) -> (StatusCode, Html<String>) {
    let params: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if !["code", "error", "state"]
        .iter()
        .any(|k| params.contains_key(*k))
    {
        return (
            StatusCode::BAD_REQUEST,
            page(
                "Waiting for Xero",
                "This address receives Xero's answer when you connect StructureGram to Xero Practice Manager; there is nothing to see here.",
            ),
        );
    }
    let url = format!("http://localhost:{}{}", s.port, uri);
    match s.connector.complete_authorization(&url).await {
        Ok(Completion::Connected { tenant }) => (
            StatusCode::OK,
            page(
                "Connected to Xero Practice Manager",
                &format!("StructureGram is now connected to {}.", tenant.tenant_name),
            ),
        ),
        Ok(Completion::ChooseTenant { .. }) => (
            StatusCode::OK,
            page(
                "Choose your practice",
                "Xero gave access to more than one practice. Return to StructureGram to choose which one to connect.",
            ),
        ),
        Ok(Completion::ConfirmSwitch { chosen, .. }) => (
            StatusCode::OK,
            page(
                "Confirm the practice",
                &format!(
                    "{} is not the practice this organisation was connected to before. Return to StructureGram to confirm or cancel.",
                    chosen.tenant_name
                ),
            ),
        ),
        Err(e) => (
            StatusCode::OK,
            page("Xero was not connected", &e.to_string()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_names_from_xero_and_links_back_to_the_app() {
        let Html(html) = page("Connected", "Connected to Zoë & <Søn> \"Quotes\".");
        assert!(
            html.contains("Zoë &amp; &lt;Søn&gt;"),
            "a practice name cannot inject markup: {html}"
        );
        assert!(html.contains("href=\"structuregram://open\""));
    }
}
