//! Fault injection (issue 3 item 4): how a queued [`FaultKind`] changes one response.
//!
//! `before` runs before the call is applied (500, 503, latency, dropped connection: nothing is
//! changed on the server); `after` runs after it was applied (lost response, truncated or
//! malformed XML: the server state *has* changed).

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::FaultKind;

/// Marks a response whose connection must be closed without sending anything.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// A response that stands for "the connection died". Served by [`crate::start`], the
/// connection is closed before a single response byte is written (the client's `send()`
/// fails). Used in another server, the body fails after the headers instead.
pub fn dropped() -> Response {
    let stream = futures_util::stream::iter(vec![Err::<bytes::Bytes, std::io::Error>(
        std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "xpm-sim dropped connection",
        ),
    )]);
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("4096"));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r.extensions_mut().insert(DropConnection);
    r
}

/// Applies the "before" part of a fault. `Some(response)` short-circuits the call.
pub async fn before(f: &Option<FaultKind>) -> Option<Response> {
    match f {
        Some(FaultKind::Status500) => Some(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                "<Response><Status>ERROR</Status><ErrorDescription>An application exception occurred</ErrorDescription></Response>",
            )
                .into_response(),
        ),
        Some(FaultKind::Status503) => Some(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                r#"{"Title":"Unavailable","Status":503,"Detail":"ServiceNotAvailable"}"#,
            )
                .into_response(),
        ),
        Some(FaultKind::Latency { ms }) => {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
            None
        }
        Some(FaultKind::Drop) => Some(dropped()),
        _ => None,
    }
}

/// Applies the "after" part of a fault to a response of an applied call.
pub async fn after(f: Option<FaultKind>, resp: Response) -> Response {
    match f {
        Some(FaultKind::LoseResponse) => dropped(),
        Some(FaultKind::Truncate) | Some(FaultKind::Malformed) => {
            let (mut parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let new: Vec<u8> = if f == Some(FaultKind::Truncate) {
                bytes[..bytes.len() / 2].to_vec()
            } else {
                b"<Response api-method=\"Get\"><Status>OK</Status><Client><Name>Broken & unescaped <Name></Client></Respons>".to_vec()
            };
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(new))
        }
        _ => resp,
    }
}
