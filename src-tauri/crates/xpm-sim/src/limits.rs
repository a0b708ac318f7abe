//! Rate limits (reference §4): per tenant 5 concurrent, 60 per fixed minute, 5,000 per fixed
//! day; app-wide 10,000 per fixed minute. Windows start at the first call after the previous
//! window ended, so each tenant resets at its own time. All numbers come from [`Settings`]
//! and all times from the simulator clock.
//!
//! A 429 has an empty body, `Content-Length: 0`, `Retry-After` (seconds, minute/day/app) and
//! `X-Rate-Limit-Problem` (`minute`, `day`, `concurrent`, `appminute`).
//!
//! [`Settings`]: crate::state::Settings

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};

use crate::state::{lock, Sim};

/// Remaining-call figures for the `X-*Limit-Remaining` headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Remaining {
    /// `X-MinLimit-Remaining`.
    pub minute: Option<u32>,
    /// `X-DayLimit-Remaining`.
    pub day: Option<u32>,
    /// `X-AppMinLimit-Remaining`.
    pub app_minute: Option<u32>,
}

impl Remaining {
    /// Writes the headers that are known.
    pub fn apply(&self, h: &mut HeaderMap) {
        let mut put = |k: &'static str, v: Option<u32>| {
            if let Some(v) = v {
                if let Ok(v) = HeaderValue::from_str(&v.to_string()) {
                    h.insert(k, v);
                }
            }
        };
        put("x-minlimit-remaining", self.minute);
        put("x-daylimit-remaining", self.day);
        put("x-appminlimit-remaining", self.app_minute);
    }
}

fn secs_until(end: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let ms = (end - now).num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

/// Builds a 429 (empty body).
pub fn too_many(sim: &Sim, problem: &str, retry_after: Option<u64>, rem: Remaining) -> Response {
    lock(&sim.counters).throttled += 1;
    let mut r = (StatusCode::TOO_MANY_REQUESTS, "").into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    if let Ok(v) = HeaderValue::from_str(problem) {
        h.insert("x-rate-limit-problem", v);
    }
    if let Some(s) = retry_after {
        if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    rem.apply(h);
    r
}

/// Counts one call against the app-wide minute window. `Ok(remaining)` or a 429.
pub fn app_only(sim: &Sim) -> Result<u32, Box<Response>> {
    let s = sim.settings();
    let now = sim.now();
    let mut l = lock(&sim.limits);
    if l.app_start
        .map(|t| now >= t + Duration::minutes(1))
        .unwrap_or(true)
    {
        l.app_start = Some(now);
        l.app_count = 0;
    }
    if l.app_count >= s.app_minute_limit {
        let end = l.app_start.unwrap_or(now) + Duration::minutes(1);
        drop(l);
        return Err(Box::new(too_many(
            sim,
            "appminute",
            Some(secs_until(end, now)),
            Remaining {
                app_minute: Some(0),
                ..Remaining::default()
            },
        )));
    }
    l.app_count += 1;
    Ok(s.app_minute_limit - l.app_count)
}

/// Holds one of the tenant's concurrent slots; released on drop.
pub struct Permit {
    sim: Arc<Sim>,
    tenant: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut l = lock(&self.sim.limits);
        if let Some(w) = l.tenants.get_mut(&self.tenant) {
            w.in_flight = w.in_flight.saturating_sub(1);
        }
    }
}

/// Checks and counts one call for `tenant` (concurrent, day, minute, in that order).
pub fn tenant_acquire(
    sim: &Arc<Sim>,
    tenant: &str,
    app_remaining: u32,
) -> Result<(Permit, Remaining), Box<Response>> {
    let s = sim.settings();
    let now = sim.now();
    let mut l = lock(&sim.limits);
    let w = l.tenants.entry(tenant.to_string()).or_default();
    if w.minute_start
        .map(|t| now >= t + Duration::minutes(1))
        .unwrap_or(true)
    {
        w.minute_start = Some(now);
        w.minute_count = 0;
    }
    if w.day_start
        .map(|t| now >= t + Duration::days(1))
        .unwrap_or(true)
    {
        w.day_start = Some(now);
        w.day_count = 0;
    }
    let rem = |w: &crate::state::TenantWindows| Remaining {
        minute: Some(s.minute_limit.saturating_sub(w.minute_count)),
        day: Some(s.day_limit.saturating_sub(w.day_count)),
        app_minute: Some(app_remaining),
    };
    if w.in_flight >= s.concurrent_limit {
        let r = rem(w);
        drop(l);
        return Err(Box::new(too_many(
            sim,
            "concurrent",
            s.concurrent_retry_after,
            r,
        )));
    }
    if w.day_count >= s.day_limit {
        let end = w.day_start.unwrap_or(now) + Duration::days(1);
        let r = rem(w);
        drop(l);
        return Err(Box::new(too_many(
            sim,
            "day",
            Some(secs_until(end, now)),
            r,
        )));
    }
    if w.minute_count >= s.minute_limit {
        let end = w.minute_start.unwrap_or(now) + Duration::minutes(1);
        let r = rem(w);
        drop(l);
        return Err(Box::new(too_many(
            sim,
            "minute",
            Some(secs_until(end, now)),
            r,
        )));
    }
    w.minute_count += 1;
    w.day_count += 1;
    w.in_flight += 1;
    let r = rem(w);
    Ok((
        Permit {
            sim: sim.clone(),
            tenant: tenant.to_string(),
        },
        r,
    ))
}
