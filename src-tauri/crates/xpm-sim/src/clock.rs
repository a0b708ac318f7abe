//! The simulator's clock.
//!
//! Every time-dependent rule (minute/day rate-limit windows, access-token and code expiry,
//! refresh-token 60-day expiry and 30-minute grace) reads this clock, never the wall clock, so
//! tests can advance time by hours in microseconds and demos can run it faster than real time.

use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

/// A clock that runs at `scale`× real time from an anchor and can be advanced by hand.
///
/// `now() = anchor_sim + (real elapsed since anchor) × scale`. `advance(d)` moves the anchor
/// forward; `set_scale` re-anchors so the clock never jumps back.
#[derive(Debug)]
pub struct SimClock {
    inner: Mutex<Anchor>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    real: Instant,
    sim: DateTime<Utc>,
    scale: f64,
}

impl SimClock {
    /// A clock starting at `start` (or the real current time) running at `scale`× real time
    /// (`1.0` = real time, `0.0` = frozen until advanced).
    pub fn new(start: Option<DateTime<Utc>>, scale: f64) -> Self {
        SimClock {
            inner: Mutex::new(Anchor {
                real: Instant::now(),
                sim: start.unwrap_or_else(Utc::now),
                scale: scale.max(0.0),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn at(a: &Anchor) -> DateTime<Utc> {
        let real = a.real.elapsed().as_secs_f64() * a.scale;
        a.sim + Duration::microseconds((real * 1_000_000.0) as i64)
    }

    /// The simulator's current time (UTC).
    pub fn now(&self) -> DateTime<Utc> {
        Self::at(&self.lock())
    }

    /// Moves the clock forward by `by` (negative durations are ignored).
    pub fn advance(&self, by: Duration) {
        if by <= Duration::zero() {
            return;
        }
        let mut a = self.lock();
        a.sim += by;
    }

    /// Changes the speed (`1.0` = real time, `60.0` = one simulated minute per real second).
    pub fn set_scale(&self, scale: f64) {
        let mut a = self.lock();
        let now = Self::at(&a);
        *a = Anchor {
            real: Instant::now(),
            sim: now,
            scale: scale.max(0.0),
        };
    }

    /// The current speed factor.
    pub fn scale(&self) -> f64 {
        self.lock().scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_only_moves_when_advanced() {
        let start = Utc::now();
        let c = SimClock::new(Some(start), 0.0);
        assert_eq!(c.now(), start, "scale 0 freezes the clock");
        c.advance(Duration::days(61));
        assert_eq!(
            c.now(),
            start + Duration::days(61),
            "advance moves it exactly"
        );
        c.advance(Duration::seconds(-5));
        assert_eq!(c.now(), start + Duration::days(61), "never moves back");
    }

    #[test]
    fn scaled_clock_runs_faster_than_real_time() {
        let start = Utc::now();
        let c = SimClock::new(Some(start), 1000.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let moved = c.now() - start;
        assert!(
            moved >= Duration::seconds(20),
            "20 ms real at 1000x is at least 20 s: {moved}"
        );
        let before = c.now();
        c.set_scale(0.0);
        let after = c.now();
        assert!(after >= before, "changing speed never jumps back");
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(c.now(), after, "scale 0 after set_scale freezes it");
        assert_eq!(c.scale(), 0.0);
    }
}
