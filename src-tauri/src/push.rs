//! Tauri commands of Push (issue 9): the preview (dry run) of a linked group's push, the push
//! itself as a cancellable job reporting progress over a channel, and pushing one entity. Thin:
//! the five phases, payloads and safety live in `structuregram_core::push`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use structuregram_core::push::{
    self, PushControl, PushOptions, PushPlan, PushProgress, PushReport,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::ipc::IpcError;
use crate::state::AppState;
use crate::xero::{xpm_session, XeroState};

type CmdResult<T> = Result<T, IpcError>;

/// The running pushes, by group id, so *Cancel* can reach them.
#[derive(Default)]
pub struct PushJobs(Mutex<HashMap<i32, Arc<PushControl>>>);

impl std::fmt::Debug for PushJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushJobs").finish_non_exhaustive()
    }
}

impl PushJobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Arc<PushControl>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// *Preview*: what a push of the group would create, update and link, and the calls it takes
/// (no XPM call, nothing written).
#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn xpm_push_plan(
    state: State<'_, AppState>,
    group_id: i32,
    options: PushOptions,
) -> CmdResult<PushPlan> {
    let org = state.org().await?;
    Ok(push::plan(&state.db, org, &state.cipher, group_id, &options).await?)
}

/// *Push to XPM*: runs the five phases, sending progress on `on_progress`; per-item failures are
/// in the report, not errors. Pushing again after a stop resumes.
#[tauri::command]
#[tracing::instrument(skip(state, xero, jobs, on_progress), err(level = "warn", Debug))]
pub async fn xpm_push(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    jobs: State<'_, PushJobs>,
    group_id: i32,
    options: PushOptions,
    on_progress: Channel<PushProgress>,
) -> CmdResult<PushReport> {
    let (ctx, client, session) = xpm_session(&state, &xero).await?;
    let control = Arc::new(PushControl {
        on_progress: Some(Box::new(move |p| {
            // The window may have gone; the push carries on regardless.
            let _ = on_progress.send(p);
        })),
        ..PushControl::default()
    });
    {
        let mut running = jobs.lock();
        if running.contains_key(&group_id) {
            return Err(structuregram_core::Error::Conflict(
                "This group is being pushed already; wait for that push to finish.".into(),
            )
            .into());
        }
        running.insert(group_id, control.clone());
    }
    let report = push::push(
        &state.db,
        ctx.org,
        &state.cipher,
        &client,
        &session,
        group_id,
        &options,
        &control,
        Utc::now(),
    )
    .await;
    jobs.lock().remove(&group_id);
    Ok(report?)
}

/// *Cancel*: the running push of the group stops before its next call (pushing again resumes).
#[tauri::command]
pub fn xpm_push_cancel(jobs: State<'_, PushJobs>, group_id: i32) {
    if let Some(control) = jobs.lock().get(&group_id) {
        control.cancel.store(true, Ordering::SeqCst);
    }
}

/// Pushes one entity (its client, its group memberships, its relationships to clients in XPM).
#[tauri::command]
#[tracing::instrument(skip(state, xero), err(level = "warn", Debug))]
pub async fn xpm_push_entity(
    state: State<'_, AppState>,
    xero: State<'_, XeroState>,
    entity_id: i32,
) -> CmdResult<PushReport> {
    let (ctx, client, session) = xpm_session(&state, &xero).await?;
    Ok(push::push_entity(
        &state.db,
        ctx.org,
        &state.cipher,
        &client,
        &session,
        entity_id,
        &PushControl::default(),
        Utc::now(),
    )
    .await?)
}
