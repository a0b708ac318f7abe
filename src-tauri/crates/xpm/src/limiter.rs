//! Per-tenant rate limiting shared by every caller of one [`crate::XpmClient`].
//!
//! Owns Xero's per-tenant limits on our side of the wire: at most `max_in_flight` calls at once
//! (a tokio semaphore), pacing under the minute limit (governor's GCRA, `burst + per_minute` ≤ 60
//! in any 60-second window), a day budget the caller can persist and restore, a pause after a
//! 429 for its `Retry-After` (no call is sent while paused), and a slow-down when
//! `X-MinLimit-Remaining` runs low. It does not retry; `client.rs` decides that.
//!
//! Time comes from tokio's clock (`tokio::time::Instant`), also for governor, so tests run on
//! paused time. The day budget counts per UTC day because Xero's own window start is unknown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::{Error, RateLimitProblem, Result};
use crate::settings::LimitSettings;

/// A tenant's day-budget usage, for the caller to persist and restore across restarts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DayBudget {
    /// The UTC day the count belongs to.
    pub day: NaiveDate,
    /// Calls counted on that day.
    pub used: u32,
}

/// governor clock reading tokio's (pausable) clock.
#[derive(Debug, Clone, Copy, Default)]
struct TokioClock;

/// Nanoseconds since a process-wide origin on tokio's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TokioNanos(u64);

impl std::ops::Add<governor::nanos::Nanos> for TokioNanos {
    type Output = TokioNanos;
    fn add(self, rhs: governor::nanos::Nanos) -> TokioNanos {
        TokioNanos(self.0.saturating_add(rhs.as_u64()))
    }
}

impl Reference for TokioNanos {
    fn duration_since(&self, earlier: Self) -> governor::nanos::Nanos {
        governor::nanos::Nanos::from(self.0.saturating_sub(earlier.0))
    }
    fn saturating_sub(&self, duration: governor::nanos::Nanos) -> Self {
        TokioNanos(self.0.saturating_sub(duration.as_u64()))
    }
}

fn origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    // A std instant fixed once; tokio's paused clock only moves forward from it.
    Instant::from_std(*ORIGIN.get_or_init(std::time::Instant::now))
}

impl Clock for TokioClock {
    type Instant = TokioNanos;
    fn now(&self) -> TokioNanos {
        let since = Instant::now().saturating_duration_since(origin());
        TokioNanos(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
    }
}

type Pacer = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioNanos>>;

#[derive(Debug)]
struct State {
    paused_until: Option<Instant>,
    pause_problem: RateLimitProblem,
    day: NaiveDate,
    used: u32,
}

/// One tenant's limiter. Cheap to share through `Arc`.
pub(crate) struct TenantLimiter {
    in_flight: Arc<Semaphore>,
    pacer: Pacer,
    state: Mutex<State>,
    settings: LimitSettings,
}

/// Held while a call is in flight (request sent until body read).
pub(crate) struct Permit {
    _permit: OwnedSemaphorePermit,
}

/// What one response's headers said about the limits.
#[derive(Debug, Default, Clone)]
pub(crate) struct LimitHeaders {
    pub min_remaining: Option<u32>,
    pub day_remaining: Option<u32>,
}

impl TenantLimiter {
    pub fn new(settings: &LimitSettings) -> Self {
        let per_minute = settings.per_minute.max(1);
        let period = settings.local(Duration::from_secs(60)) / per_minute;
        let burst =
            std::num::NonZeroU32::new(settings.burst.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_minute(std::num::NonZeroU32::MIN))
            .allow_burst(burst);
        TenantLimiter {
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight.max(1))),
            pacer: RateLimiter::direct_with_clock(quota, TokioClock),
            state: Mutex::new(State {
                paused_until: None,
                pause_problem: RateLimitProblem::Unknown,
                day: Utc::now().date_naive(),
                used: 0,
            }),
            settings: settings.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another caller panicked mid-update of plain counters.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remaining pause, if the tenant is paused.
    fn pause_left(&self) -> Option<(Duration, RateLimitProblem)> {
        let st = self.lock();
        let until = st.paused_until?;
        let now = Instant::now();
        (until > now).then(|| (until - now, st.pause_problem.clone()))
    }

    /// Waits out a short pause; fails fast on a long one.
    async fn wait_pause(&self) -> Result<()> {
        // Each pass sleeps until the pause ends, so a few passes are enough even if new 429s
        // keep extending it; beyond that the caller gets the error.
        for _ in 0..4 {
            match self.pause_left() {
                None => return Ok(()),
                Some((left, problem)) if left > self.settings.local(self.settings.max_wait) => {
                    return Err(Error::RateLimited {
                        problem,
                        retry_after: Some(self.settings.xero(left)),
                    })
                }
                Some((left, _)) => tokio::time::sleep(left).await,
            }
        }
        match self.pause_left() {
            None => Ok(()),
            Some((left, problem)) => Err(Error::RateLimited {
                problem,
                retry_after: Some(self.settings.xero(left)),
            }),
        }
    }

    fn take_day_budget(&self, now: DateTime<Utc>) -> Result<()> {
        let mut st = self.lock();
        let today = now.date_naive();
        if st.day != today {
            st.day = today;
            st.used = 0;
        }
        if st.used >= self.settings.per_day {
            let midnight = today
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc());
            let retry_after = midnight.and_then(|m| (m - now).to_std().ok());
            return Err(Error::RateLimited {
                problem: RateLimitProblem::Day,
                retry_after,
            });
        }
        st.used += 1;
        Ok(())
    }

    /// Waits for a slot: no pause, under the minute pace, a day-budget unit, fewer than
    /// `max_in_flight` in flight.
    ///
    /// # Errors
    /// [`Error::RateLimited`] when paused longer than `max_wait` or out of day budget.
    pub async fn acquire(&self) -> Result<Permit> {
        self.wait_pause().await?;
        let permit = Arc::clone(&self.in_flight)
            .acquire_owned()
            .await
            .map_err(|_| Error::Transport("limiter closed".into()))?;
        loop {
            match self.pacer.check() {
                Ok(()) => break,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(TokioClock.now());
                    tokio::time::sleep(wait).await;
                }
            }
        }
        // A 429 may have arrived while this call queued.
        self.wait_pause().await?;
        self.take_day_budget(Utc::now())?;
        Ok(Permit { _permit: permit })
    }

    /// Records a 429: nothing is sent to this tenant until `retry_after` (Xero's seconds) has
    /// passed.
    pub fn on_rate_limited(&self, problem: &RateLimitProblem, retry_after: Option<Duration>) {
        let pause = retry_after.unwrap_or(Duration::from_secs(60));
        self.extend_pause(self.settings.local(pause), problem.clone());
        if matches!(problem, RateLimitProblem::Day) {
            let mut st = self.lock();
            st.used = st.used.max(self.settings.per_day);
        }
    }

    fn extend_pause(&self, pause: Duration, problem: RateLimitProblem) {
        let until = Instant::now() + pause;
        let mut st = self.lock();
        if st.paused_until.is_none_or(|u| u < until) {
            st.paused_until = Some(until);
            st.pause_problem = problem;
        }
    }

    /// Applies a response's `X-MinLimit-Remaining` / `X-DayLimit-Remaining` (missing = unknown).
    ///
    /// When the minute remainder is at or below the low-water mark the tenant pauses for
    /// `60 s / (remaining + 1)`: Xero's window is fixed and resets within a minute, so the
    /// pause shrinks as more calls are left.
    pub fn on_headers(&self, h: &LimitHeaders) {
        if let Some(r) = h.min_remaining {
            if r <= self.settings.min_remaining_low_water {
                let pause = self.settings.local(Duration::from_secs(60)) / (r + 1);
                tracing::info!(
                    remaining = r,
                    ?pause,
                    "XPM minute limit nearly used; slowing down"
                );
                self.extend_pause(pause, RateLimitProblem::Minute);
            }
        }
        if let Some(r) = h.day_remaining {
            let mut st = self.lock();
            let used_by_xero = self.settings.per_day.saturating_sub(r);
            st.used = st.used.max(used_by_xero);
        }
    }

    pub fn day_budget(&self) -> DayBudget {
        let st = self.lock();
        DayBudget {
            day: st.day,
            used: st.used,
        }
    }

    /// Restores a persisted count; counts from another day are ignored, and the larger count wins.
    pub fn restore_day_budget(&self, saved: &DayBudget, now: DateTime<Utc>) {
        let mut st = self.lock();
        let today = now.date_naive();
        if st.day != today {
            st.day = today;
            st.used = 0;
        }
        if saved.day == today {
            st.used = st.used.max(saved.used);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn limits() -> LimitSettings {
        LimitSettings::default()
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_five_in_flight() {
        let lim = Arc::new(TenantLimiter::new(&limits()));
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (lim, now, peak) = (lim.clone(), now.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let _p = lim.acquire().await.expect("slot");
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(2)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(
            peak.load(Ordering::SeqCst),
            5,
            "exactly 5 calls may be in flight at once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_sixty_calls_in_any_minute() {
        let lim = TenantLimiter::new(&limits());
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..150 {
            let _p = lim.acquire().await.expect("slot");
            times.push(Instant::now() - start);
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(60))
                .count();
            assert!(
                in_window <= 60,
                "{in_window} calls in the minute from {t:?}: Xero allows 60"
            );
        }
        assert!(
            times[149] < Duration::from_secs(200),
            "pacing should still allow about 50/min, took {:?}",
            times[149]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_every_caller() {
        let lim = TenantLimiter::new(&limits());
        lim.on_rate_limited(&RateLimitProblem::Minute, Some(Duration::from_secs(22)));
        let start = Instant::now();
        let _p = lim.acquire().await.expect("slot after the pause");
        assert!(
            Instant::now() - start >= Duration::from_secs(22),
            "no call may start before Retry-After has passed"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_accelerated_clock_shrinks_pauses_and_pacing_by_its_factor() {
        // A simulator at 60× real time: its 22-second Retry-After lasts 22/60 s here, and the
        // 50/min pace plus the burst of 10 is 60 calls per local second.
        let lim = TenantLimiter::new(&LimitSettings {
            time_scale: 60.0,
            ..limits()
        });
        lim.on_rate_limited(&RateLimitProblem::Minute, Some(Duration::from_secs(22)));
        let start = Instant::now();
        let _p = lim.acquire().await.expect("slot after the pause");
        let waited = Instant::now() - start;
        assert!(
            waited >= Duration::from_millis(366) && waited < Duration::from_millis(400),
            "22 Xero seconds at 60x are about 367 ms, waited {waited:?}"
        );
        drop(_p);
        let start = Instant::now();
        for _ in 0..110 {
            drop(lim.acquire().await.expect("slot"));
        }
        let took = Instant::now() - start;
        assert!(
            took >= Duration::from_millis(1_900) && took < Duration::from_millis(2_100),
            "10 burst + 100 paced at 50 per Xero minute = 2 Xero minutes = 2 s here, took {took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn long_retry_after_fails_fast_without_waiting() {
        let lim = TenantLimiter::new(&limits());
        lim.on_rate_limited(&RateLimitProblem::Day, Some(Duration::from_secs(66_975)));
        let start = Instant::now();
        let err = lim.acquire().await.err().expect("refused");
        assert!(
            matches!(err, Error::RateLimited { problem: RateLimitProblem::Day, retry_after: Some(d) } if d > Duration::from_secs(60_000)),
            "got {err:?}"
        );
        assert_eq!(
            Instant::now(),
            start,
            "a long pause is reported, not slept through"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn low_minute_remaining_slows_down() {
        let lim = TenantLimiter::new(&limits());
        lim.on_headers(&LimitHeaders {
            min_remaining: Some(1),
            day_remaining: None,
        });
        let start = Instant::now();
        let _p = lim.acquire().await.expect("slot");
        assert!(
            Instant::now() - start >= Duration::from_secs(30),
            "one call left in the minute: wait half a minute"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn day_budget_counts_persists_and_stops() {
        let settings = LimitSettings {
            per_day: 3,
            ..limits()
        };
        let lim = TenantLimiter::new(&settings);
        for _ in 0..2 {
            drop(lim.acquire().await.expect("slot"));
        }
        let saved = lim.day_budget();
        assert_eq!(saved.used, 2, "each call counts once");
        let fresh = TenantLimiter::new(&settings);
        fresh.restore_day_budget(&saved, Utc::now());
        drop(fresh.acquire().await.expect("third call fits"));
        let err = fresh.acquire().await.err().expect("budget used");
        assert!(
            matches!(
                err,
                Error::RateLimited {
                    problem: RateLimitProblem::Day,
                    ..
                }
            ),
            "a restored budget must still stop calls: {err:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn day_remaining_header_raises_the_count() {
        let lim = TenantLimiter::new(&limits());
        lim.on_headers(&LimitHeaders {
            min_remaining: Some(50),
            day_remaining: Some(4_500),
        });
        assert_eq!(
            lim.day_budget().used,
            500,
            "Xero's count is trusted when higher"
        );
    }
}
