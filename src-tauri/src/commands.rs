//! Tauri commands: thin adapters that unpack state and arguments, call one core function and map
//! its error to [`IpcError`]. Names and argument shapes are the contract in `ui/src/ipc/`.

use base64::Engine;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use structuregram_core::model::{
    Diagram, Entity, EntityInput, GroupSummary, Relationship, RelationshipInput,
};
use structuregram_core::{diagram, entities, groups, relationships};
use tauri::State;
use ts_rs::TS;

use crate::ipc::IpcError;
use crate::state::AppState;

type CmdResult<T> = Result<T, IpcError>;

/// What the UI shows about the running app.
#[derive(Clone, Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// The data folder in use.
    pub data_dir: String,
    /// Whether this is the demo practice.
    pub demo: bool,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        data_dir: state.data_dir.display().to_string(),
        demo: state.demo,
    }
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn list_groups(state: State<'_, AppState>) -> CmdResult<Vec<GroupSummary>> {
    Ok(groups::list(&state.db, state.org().await?).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn create_group(state: State<'_, AppState>, name: String) -> CmdResult<GroupSummary> {
    Ok(groups::create(&state.db, state.org().await?, &name, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn rename_group(
    state: State<'_, AppState>,
    id: i32,
    name: String,
) -> CmdResult<GroupSummary> {
    Ok(groups::rename(&state.db, state.org().await?, id, &name, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn delete_group(state: State<'_, AppState>, id: i32) -> CmdResult<()> {
    Ok(groups::delete(&state.db, state.org().await?, id, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn set_group_entities(
    state: State<'_, AppState>,
    group_id: i32,
    entity_ids: Vec<i32>,
) -> CmdResult<()> {
    Ok(groups::set_members(
        &state.db,
        state.org().await?,
        group_id,
        &entity_ids,
        Utc::now(),
    )
    .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn list_entities(
    state: State<'_, AppState>,
    group_id: Option<i32>,
) -> CmdResult<Vec<Entity>> {
    Ok(entities::list(&state.db, state.org().await?, group_id).await?)
}

// The input may carry a TFN: never log it (skip(input)).
#[tauri::command]
#[tracing::instrument(skip(state, input), err(level = "warn", Debug))]
pub async fn create_entity(
    state: State<'_, AppState>,
    input: EntityInput,
    group_ids: Vec<i32>,
) -> CmdResult<Entity> {
    Ok(entities::create(
        &state.db,
        state.org().await?,
        &state.cipher,
        &input,
        &group_ids,
        Utc::now(),
    )
    .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state, input), err(level = "warn", Debug))]
pub async fn update_entity(
    state: State<'_, AppState>,
    id: i32,
    input: EntityInput,
) -> CmdResult<Entity> {
    Ok(entities::update(
        &state.db,
        state.org().await?,
        &state.cipher,
        id,
        &input,
        Utc::now(),
    )
    .await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn delete_entity(state: State<'_, AppState>, id: i32) -> CmdResult<()> {
    Ok(entities::delete(&state.db, state.org().await?, id, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn list_relationships(
    state: State<'_, AppState>,
    group_id: i32,
) -> CmdResult<Vec<Relationship>> {
    Ok(relationships::list_for_group(&state.db, state.org().await?, group_id).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn create_relationship(
    state: State<'_, AppState>,
    input: RelationshipInput,
) -> CmdResult<Relationship> {
    Ok(relationships::create(&state.db, state.org().await?, &input, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn update_relationship(
    state: State<'_, AppState>,
    id: i32,
    input: RelationshipInput,
) -> CmdResult<Relationship> {
    Ok(relationships::update(&state.db, state.org().await?, id, &input, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn delete_relationship(state: State<'_, AppState>, id: i32) -> CmdResult<()> {
    Ok(relationships::delete(&state.db, state.org().await?, id, Utc::now()).await?)
}

#[tauri::command]
#[tracing::instrument(skip(state), err(level = "warn", Debug))]
pub async fn get_diagram(
    state: State<'_, AppState>,
    group_id: i32,
    as_at: Option<NaiveDate>,
) -> CmdResult<Diagram> {
    Ok(diagram::build(&state.db, state.org().await?, group_id, as_at).await?)
}

/// Saves an exported diagram into the user's Downloads folder (the data folder's `exports/` when
/// there is none) and returns the absolute path written.
#[tauri::command]
#[tracing::instrument(skip(state, contents_base64), err(level = "warn", Debug))]
pub async fn save_export(
    state: State<'_, AppState>,
    file_name: String,
    contents_base64: String,
) -> CmdResult<String> {
    state.signed_in().await?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(contents_base64.as_bytes())
        .map_err(|e| {
            IpcError::from(structuregram_core::Error::Validation(format!(
                "The exported image could not be read ({e}); try the export again."
            )))
        })?;
    let folder = crate::export_folder(&state.data_dir);
    let path = crate::write_export(&folder, &file_name, &bytes)?;
    Ok(path.display().to_string())
}
