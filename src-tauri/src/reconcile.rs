//! Tauri commands of Reconciliation (issue 10): generate a preview of a linked group against
//! live XPM, decide items (or use a helper), and apply, reporting progress over a channel.
//! Thin: the diff, statuses, decisions and phased apply live in
//! `structuregram_core::reconcile`. Preview and apply talk to XPM, so they pass the integration
//! gate ([`xpm_session`]: two-factor authentication, a live session) like pull and push; deciding
//! and the helpers only touch the saved plan.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::Utc;
use structuregram_core::reconcile::{
    self, ApplyControl, ApplyProgress, ApplyReport, Helper, ReconcileDecision, ReconcilePreview,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::ipc::IpcError;
use crate::state::AppState;
use crate::xero::{xpm_session, XeroState};

type CmdResult<T> = Result<T, IpcError>;

/// The groups whose apply is running in this process: a second *Apply* of the same group
/// (a double click, a second window) is refused instead of writing the same items twice.
#[derive(Debug, Default)]
pub struct ReconcileJobs(Mutex<HashSet<i32>>);

impl ReconcileJobs {
    /// Marks the group's apply as running; `false` if it already was.
    fn start(&self, group_id: i32) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(group_id)
    }

    fn finish(&self, group_id: i32) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&group_id);
    }
}

/// *Generate preview*: reads the group's live XPM state and lists every difference, with the
/// saved decisions attached (1 + members + a few calls).
#[tauri::command]
#[tracing::instrument(skip(state, xero), err(level = "warn", Debug))]
pub async fn xpm_reconcile_preview(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    group_id: i32,
) -> CmdResult<ReconcilePreview> {
    let (ctx, client, session) = xpm_session(&state, &xero).await?;
    Ok(reconcile::preview(
        &state.db,
        ctx.org,
        &state.cipher,
        &client,
        &session,
        group_id,
        Utc::now(),
    )
    .await?)
}

/// The group's current plan (last preview + saved decisions), or `null` before the first
/// preview; no XPM call. The review page opens on it after the app was closed mid-review.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_reconcile_current(
    state: State<'_, AppState>,
    group_id: i32,
) -> CmdResult<Option<ReconcilePreview>> {
    let org = state.org().await?;
    Ok(reconcile::current(&state.db, org, group_id).await?)
}

/// Saves the decision on one item (`null` clears it) and returns the updated plan.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_reconcile_decide(
    state: State<'_, AppState>,
    group_id: i32,
    item_id: String,
    decision: Option<ReconcileDecision>,
) -> CmdResult<ReconcilePreview> {
    let org = state.org().await?;
    Ok(reconcile::decide(&state.db, org, group_id, &item_id, decision, Utc::now()).await?)
}

/// A one-click helper (accept recommendations, prefer XPM, prefer StructureGram); returns the
/// updated plan.
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_reconcile_helper(
    state: State<'_, AppState>,
    group_id: i32,
    helper: Helper,
) -> CmdResult<ReconcilePreview> {
    let org = state.org().await?;
    Ok(reconcile::helper(&state.db, org, group_id, helper, Utc::now()).await?)
}

/// *Apply*: carries out the decided plan in phases, sending progress after every item on
/// `on_progress`; per-item outcomes are in the report. Preview again afterwards.
#[tauri::command]
#[tracing::instrument(skip(state, xero, jobs, on_progress), err(level = "warn", Debug))]
pub async fn xpm_reconcile_apply(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    jobs: State<'_, ReconcileJobs>,
    group_id: i32,
    on_progress: Channel<ApplyProgress>,
) -> CmdResult<ApplyReport> {
    let (ctx, client, session) = xpm_session(&state, &xero).await?;
    if !jobs.start(group_id) {
        return Err(structuregram_core::Error::Conflict(
            "This group's reconciliation is being applied already; wait for it to finish, then preview again.".into(),
        )
        .into());
    }
    let control = ApplyControl {
        on_progress: Some(Box::new(move |p| {
            // The window may have gone; the apply carries on regardless.
            let _ = on_progress.send(p);
        })),
    };
    let report = reconcile::apply(
        &state.db,
        ctx.org,
        &state.cipher,
        &client,
        &session,
        group_id,
        &control,
        Utc::now(),
    )
    .await;
    jobs.finish(group_id);
    Ok(report?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_apply_per_group_at_a_time() {
        let jobs = ReconcileJobs::default();
        assert!(jobs.start(3));
        assert!(!jobs.start(3), "a second apply of group 3 is refused");
        assert!(jobs.start(4), "another group may apply meanwhile");
        jobs.finish(3);
        assert!(jobs.start(3), "after it finished, group 3 may apply again");
    }
}
