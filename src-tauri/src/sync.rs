//! The shell's side of pulling a linked group from XPM (issue 8): the Tauri commands of the
//! group's XPM tab (*Pull from XPM* with progress and *Cancel*, the review list and its
//! decisions, the run history) and of the Structure rules settings page.
//!
//! Every command is a thin adapter over `structuregram_core::{pull, review, structures, runs}`;
//! this module only owns the process's table of running pulls, so that *Cancel* can reach the
//! [`PullControl`] of a pull started by another command call.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde::Serialize;
use structuregram_core::pull::{self, PullControl, PullOptions, PullProgress, PullReport};
use structuregram_core::review::{self, Decision, ReviewItem, ReviewSummary};
use structuregram_core::runs::{self, SyncRun};
use structuregram_core::structures::{self, StructureRule};
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

use crate::ipc::{ErrorCode, IpcError};
use crate::state::AppState;
use crate::xero::{xpm_session, XeroState};

type CmdResult<T> = Result<T, IpcError>;

/// How many runs the XPM tab's history shows.
pub const RUN_HISTORY_LIMIT: u64 = 20;

/// The pulls running in this process, by group id, so *Cancel* can find them.
#[derive(Default)]
pub struct SyncState {
    running: Mutex<HashMap<i32, Arc<PullControl>>>,
}

impl std::fmt::Debug for SyncState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let groups: Vec<i32> = self
            .running
            .lock()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        f.debug_struct("SyncState")
            .field("running", &groups)
            .finish()
    }
}

impl SyncState {
    /// Registers a pull of `group_id`; `None` when one is already running for that group.
    fn start(&self, group_id: i32, control: PullControl) -> Option<Running<'_>> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.contains_key(&group_id) {
            return None;
        }
        let control = Arc::new(control);
        running.insert(group_id, control.clone());
        Some(Running {
            state: self,
            group_id,
            control,
        })
    }

    /// Asks the pull of `group_id` to stop before its next XPM call; `false` if none runs.
    pub fn cancel(&self, group_id: i32) -> bool {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match running.get(&group_id) {
            Some(control) => {
                control.cancel.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

/// A registered pull; dropping it (the pull ended, failed, or its command was dropped)
/// unregisters it.
struct Running<'a> {
    state: &'a SyncState,
    group_id: i32,
    control: Arc<PullControl>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.state
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.group_id);
    }
}

/// A group's open review items and the counts behind the summary bar.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ReviewList {
    /// Open items (ready, needs input, waiting), in the order raised.
    pub items: Vec<ReviewItem>,
    /// Ready / needs input / waiting counts.
    pub summary: ReviewSummary,
}

/// *Pull from XPM* (or *Pull again to apply decisions*): after the integration gate, pulls the
/// linked group, sending [`PullProgress`] on `on_progress` after every XPM call. `full` re-reads
/// every member in detail. One pull per group at a time.
#[tauri::command]
#[tracing::instrument(skip(state, xero, sync, on_progress), err(level = "warn", Debug))]
pub async fn xpm_pull(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    sync: State<'_, SyncState>,
    group_id: i32,
    full: bool,
    on_progress: Channel<PullProgress>,
) -> CmdResult<PullReport> {
    let (ctx, client, session) = xpm_session(&state, &xero).await?;
    let control = PullControl {
        on_progress: Some(Box::new(move |p| {
            // The window may have gone; the pull carries on regardless.
            let _ = on_progress.send(p);
        })),
        ..PullControl::default()
    };
    let running = sync.start(group_id, control).ok_or_else(|| IpcError {
        code: ErrorCode::Conflict,
        message: "This group is already being pulled. Wait for that pull to finish, or cancel it."
            .to_owned(),
    })?;
    let options = PullOptions {
        full,
        ..PullOptions::default()
    };
    let report = pull::pull(
        &state.db,
        ctx.org,
        &state.cipher,
        &client,
        &session,
        group_id,
        &options,
        &running.control,
        Utc::now(),
    )
    .await?;
    drop(running);
    Ok(report)
}

/// *Cancel*: the running pull of the group stops before its next XPM call and changes nothing.
/// Returns whether a pull was running.
#[tauri::command]
pub fn xpm_pull_cancel(sync: State<'_, SyncState>, group_id: i32) -> bool {
    sync.cancel(group_id)
}

/// The group's open review items with the summary counts.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn review_list(state: State<'_, AppState>, group_id: i32) -> CmdResult<ReviewList> {
    let (items, summary) = review::list(&state.db, state.org().await?, group_id, false).await?;
    Ok(ReviewList { items, summary })
}

/// Records a decision on a review item; the next pull carries it out (a holding class at once).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn review_decide(
    state: State<'_, AppState>,
    item_id: i32,
    decision: Decision,
) -> CmdResult<ReviewItem> {
    Ok(review::decide(
        &state.db,
        state.org().await?,
        item_id,
        &decision,
        Utc::now(),
    )
    .await?)
}

/// The organisation's saved business-structure rules.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn structure_rules_list(state: State<'_, AppState>) -> CmdResult<Vec<StructureRule>> {
    Ok(structures::list_rules(&state.db, state.org().await?).await?)
}

/// Deletes a saved rule; later pulls ask again for that business structure.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn structure_rule_delete(state: State<'_, AppState>, id: i32) -> CmdResult<()> {
    Ok(structures::delete_rule(&state.db, state.org().await?, id).await?)
}

/// The group's latest pulls, newest first (at most [`RUN_HISTORY_LIMIT`]).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn sync_runs(state: State<'_, AppState>, group_id: i32) -> CmdResult<Vec<SyncRun>> {
    Ok(runs::list(
        &state.db,
        state.org().await?,
        Some(group_id),
        RUN_HISTORY_LIMIT,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pull_per_group_and_cancel_reaches_the_running_one() {
        let sync = SyncState::default();
        assert!(!sync.cancel(7), "nothing to cancel");
        let first = sync
            .start(7, PullControl::default())
            .expect("first pull starts");
        assert!(
            sync.start(7, PullControl::default()).is_none(),
            "a second pull of the same group is refused"
        );
        let other = sync.start(8, PullControl::default());
        assert!(other.is_some(), "another group may pull meanwhile");
        assert!(sync.cancel(7));
        assert!(first.control.cancel.load(Ordering::SeqCst));
        assert!(
            !other.unwrap().control.cancel.load(Ordering::SeqCst),
            "only that group's pull is cancelled"
        );
        drop(first);
        assert!(!sync.cancel(7), "a finished pull is unregistered");
        assert!(sync.start(7, PullControl::default()).is_some());
    }
}
