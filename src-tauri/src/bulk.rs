//! Tauri commands of *Sync the whole practice* (issue 11) on the Import Groups page: the queue's
//! state and the plan of the next run, *Start* (optionally linking every unlinked XPM group
//! first) streaming progress over a channel, and *Stop*. Thin: the queue, the plan, the waits
//! and the resume live in `structuregram_core::bulk`. *Start* talks to XPM, so it passes the
//! integration gate ([`xpm_session`]: two-factor authentication, a live session) like pull.
//!
//! This module only owns what lives in the process: the one run at a time (its
//! [`BulkControl`], so *Stop* can reach it) and how the last run in this process stopped. A
//! queue with groups left that no run of this process stopped was interrupted (the window was
//! closed, the computer slept): the page offers to resume it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use structuregram_core::bulk::{
    self, BulkControl, BulkOptions, BulkOutcome, BulkProgress, BulkReport, BulkStatus, NextRun,
};
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

use crate::ipc::IpcError;
use crate::state::AppState;
use crate::xero::{xpm_session, XeroState};

type CmdResult<T> = Result<T, IpcError>;

/// Why the last bulk run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum StopReason {
    /// Every queued group was synced (or failed with its own message).
    Finished,
    /// The user pressed *Stop*; the rest stays queued.
    Cancelled,
    /// It stopped without finishing: the app was closed, or XPM stopped accepting the
    /// connection (the message says what to do); the rest stays queued.
    Interrupted,
    /// XPM's call limit for the day is used up; the rest stays queued until it resets.
    DayLimit,
}

/// How and when the last run stopped.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkStop {
    /// Why.
    pub reason: StopReason,
    /// When (ISO 8601).
    pub at: DateTime<Utc>,
    /// One sentence for the user: what happened and what to do next.
    pub message: String,
}

/// What the *Sync the whole practice* card shows.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BulkOverview {
    /// The queue of the organisation's XPM practice (counts since the groups were queued).
    pub queue: BulkStatus,
    /// What *Start* would sync and what it would cost.
    pub next: NextRun,
    /// Whether a run is going in this process.
    pub running: bool,
    /// How the last run stopped; `None` if none ran and nothing is left queued.
    pub last_stop: Option<BulkStop>,
}

/// The bulk run of this process (at most one: every group of the practice is in it) and how
/// the last one stopped.
#[derive(Default)]
pub struct BulkJobs(Mutex<Jobs>);

#[derive(Default)]
struct Jobs {
    running: Option<Arc<BulkControl>>,
    last: Option<BulkStop>,
}

impl std::fmt::Debug for BulkJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkJobs").finish_non_exhaustive()
    }
}

impl BulkJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Jobs> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a run; `None` when one is going already.
    fn start(&self, control: BulkControl) -> Option<Arc<BulkControl>> {
        let mut jobs = self.lock();
        if jobs.running.is_some() {
            return None;
        }
        let control = Arc::new(control);
        jobs.running = Some(control.clone());
        Some(control)
    }

    /// Unregisters the run and remembers how it stopped.
    fn finish(&self, stop: BulkStop) {
        let mut jobs = self.lock();
        jobs.running = None;
        jobs.last = Some(stop);
    }

    /// Asks the run to stop after the group in flight; `false` if none is going.
    fn cancel(&self) -> bool {
        match &self.lock().running {
            Some(control) => {
                control.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Whether a run is going, and how the last one stopped — or, for a queue with groups
    /// left that no run of this process stopped, that it was interrupted.
    fn state(&self, queue: &BulkStatus) -> (bool, Option<BulkStop>) {
        let jobs = self.lock();
        let running = jobs.running.is_some();
        let last = match (&jobs.last, running, queue.queued) {
            (Some(stop), _, _) => Some(stop.clone()),
            (None, false, left) if left > 0 => Some(BulkStop {
                reason: StopReason::Interrupted,
                at: queue.updated_at.unwrap_or_else(Utc::now),
                message: format!(
                    "A sync of {} was interrupted. Resume it to carry on where it stopped.",
                    structuregram_core::words::count(left, "remaining group", "remaining groups")
                ),
            }),
            _ => None,
        };
        (running, last)
    }
}

/// The stop a finished run's report describes.
fn stop_of(report: &BulkReport, at: DateTime<Utc>) -> BulkStop {
    BulkStop {
        reason: match report.outcome {
            BulkOutcome::Finished => StopReason::Finished,
            BulkOutcome::Cancelled => StopReason::Cancelled,
            BulkOutcome::Waiting => StopReason::DayLimit,
        },
        at,
        message: report.message.clone(),
    }
}

/// The card's state: the queue of the organisation's XPM practice, the plan of the next run, and
/// whether a run is going or how the last one stopped. `null` when the organisation never
/// connected to XPM. No XPM call.
#[tauri::command]
#[tracing::instrument(skip(state, jobs), err(level = "warn", Debug))]
pub async fn xpm_bulk_status(
    state: State<'_, AppState>,
    jobs: State<'_, BulkJobs>,
) -> CmdResult<Option<BulkOverview>> {
    let org = state.org().await?;
    let Some(tenant) = structuregram_core::xero::last_tenant(&state.db, org).await? else {
        return Ok(None);
    };
    let queue = bulk::status(&state.db, org, &tenant.tenant_id).await?;
    let next = bulk::next_run(&state.db, org, &tenant.tenant_id).await?;
    let (running, last_stop) = jobs.state(&queue);
    Ok(Some(BulkOverview {
        queue,
        next,
        running,
        last_stop,
    }))
}

/// *Start* (or *Resume*): after the integration gate, links every unlinked XPM group as a new
/// group when `link_unlinked` is set, queues every linked group (or keeps the queue an earlier
/// run left), and syncs the queue, sending [`BulkProgress`] after the shared list, every group
/// and every rate-limit wait on `on_progress`. Per-group failures are in the report. One run at
/// a time.
#[tauri::command]
#[tracing::instrument(skip(state, xero, jobs, on_progress), err(level = "warn", Debug))]
pub async fn xpm_bulk_start(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    jobs: State<'_, BulkJobs>,
    link_unlinked: bool,
    on_progress: Channel<BulkProgress>,
) -> CmdResult<BulkReport> {
    let (ctx, client, session) = xpm_session(&state, &xero).await?;
    let control = jobs
        .start(BulkControl {
            on_progress: Some(Box::new(move |p| {
                // The window may have gone; the run carries on regardless.
                let _ = on_progress.send(p);
            })),
            ..BulkControl::default()
        })
        .ok_or_else(|| {
            IpcError::from(structuregram_core::Error::Conflict(
                "The whole practice is being synced already; wait for that sync to finish, or stop it."
                    .into(),
            ))
        })?;
    let result: CmdResult<BulkReport> = async {
        bulk::prepare(
            &state.db,
            ctx.org,
            &client,
            &session,
            link_unlinked,
            Utc::now(),
        )
        .await?;
        bulk::run(
            &state.db,
            ctx.org,
            &state.cipher,
            &client,
            &session,
            &BulkOptions::default(),
            &control,
            &Utc::now,
        )
        .await
    }
    .await
    .map_err(IpcError::from);
    let stop = match &result {
        Ok(report) => stop_of(report, Utc::now()),
        Err(e) => BulkStop {
            reason: StopReason::Interrupted,
            at: Utc::now(),
            message: format!("{} The groups not synced yet stay queued.", e.message),
        },
    };
    jobs.finish(stop);
    result
}

/// *Stop*: the run stops after the group in flight; the rest stays queued, so *Resume* carries
/// on. Returns whether a run was going.
#[tauri::command]
pub fn xpm_bulk_cancel(jobs: State<'_, BulkJobs>) -> bool {
    jobs.cancel()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(queued: u32) -> BulkStatus {
        BulkStatus {
            tenant_id: "t".into(),
            queued,
            done: 0,
            failed: 0,
            calls_made: 0,
            plan: None,
            eta_seconds: 0,
            updated_at: None,
        }
    }

    #[test]
    fn one_run_at_a_time_and_stop_reaches_it() {
        let jobs = BulkJobs::default();
        assert!(!jobs.cancel(), "nothing to stop");
        let control = jobs
            .start(BulkControl::default())
            .expect("the first run starts");
        assert!(
            jobs.start(BulkControl::default()).is_none(),
            "a second run is refused while the first goes"
        );
        assert_eq!(
            jobs.state(&queue(3)),
            (true, None),
            "running, not interrupted"
        );
        assert!(jobs.cancel());
        assert!(control.cancel.load(Ordering::SeqCst));
        let at = Utc::now();
        jobs.finish(BulkStop {
            reason: StopReason::Cancelled,
            at,
            message: "Stopped".into(),
        });
        let (running, last) = jobs.state(&queue(3));
        assert!(!running);
        assert_eq!(last.map(|s| s.reason), Some(StopReason::Cancelled));
        assert!(
            jobs.start(BulkControl::default()).is_some(),
            "a new run may start"
        );
    }

    #[test]
    fn a_queue_left_by_no_run_of_this_process_was_interrupted() {
        let jobs = BulkJobs::default();
        assert_eq!(
            jobs.state(&queue(0)),
            (false, None),
            "nothing left, nothing to say"
        );
        let (running, last) = jobs.state(&queue(5));
        assert!(!running);
        let last = last.expect("interrupted");
        assert_eq!(last.reason, StopReason::Interrupted);
        assert!(last.message.contains("5 remaining groups was interrupted"));
    }
}
