import { Channel, invoke } from "@tauri-apps/api/core";
import type { Backend } from "./backend";
import type { PushProgress } from "./bindings/PushProgress";
import type { PullProgress } from "./bindings/PullProgress";
import type { ApplyProgress } from "./bindings/ApplyProgress";
import type { BulkProgress } from "./bindings/BulkProgress";
import { IpcError } from "./IpcError";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw IpcError.from(reason);
  }
}

/** The real backend: Tauri commands implemented by the Rust side. */
export function createTauriBackend(): Backend {
  return {
    appInfo: () => call("app_info"),
    listGroups: () => call("list_groups"),
    createGroup: (name) => call("create_group", { name }),
    renameGroup: (id, name) => call("rename_group", { id, name }),
    deleteGroup: (id) => call("delete_group", { id }),
    setGroupEntities: (groupId, entityIds) => call("set_group_entities", { groupId, entityIds }),
    listEntities: (groupId) => call("list_entities", { groupId }),
    createEntity: (input, groupIds) => call("create_entity", { input, groupIds }),
    updateEntity: (id, input) => call("update_entity", { id, input }),
    deleteEntity: (id) => call("delete_entity", { id }),
    listRelationships: (groupId) => call("list_relationships", { groupId }),
    createRelationship: (input) => call("create_relationship", { input }),
    updateRelationship: (id, input) => call("update_relationship", { id, input }),
    deleteRelationship: (id) => call("delete_relationship", { id }),
    getDiagram: (groupId, asAt) => call("get_diagram", { groupId, asAt }),
    saveExport: (fileName, contentsBase64) => call("save_export", { fileName, contentsBase64 }),
    authStatus: () => call("auth_status"),
    signUp: (username, password, organisationName) =>
      call("sign_up", { username, password, organisationName }),
    signIn: (username, password) => call("sign_in", { username, password }),
    signOut: () => call("sign_out"),
    lock: () => call("lock"),
    createOrganisation: (name) => call("create_organisation", { name }),
    switchOrganisation: (organisationId) => call("switch_organisation", { organisationId }),
    mfaStatus: () => call("mfa_status"),
    mfaBeginEnrolment: () => call("mfa_begin_enrolment"),
    mfaConfirm: (code) => call("mfa_confirm", { code }),
    mfaDisable: (code) => call("mfa_disable", { code }),
    verifySession: (code) => call("verify_session", { code }),
    integrationGate: () => call("integration_gate"),
    xeroOverview: () => call("xero_overview"),
    xeroConnect: () => call("xero_connect"),
    xeroWait: () => call("xero_wait"),
    xeroChooseTenant: (tenantId, confirmSwitch) =>
      call("xero_choose_tenant", { tenantId, confirmSwitch }),
    xeroCancel: () => call("xero_cancel"),
    xeroTest: () => call("xero_test"),
    xeroDisconnect: () => call("xero_disconnect"),
    xeroSettings: () => call("xero_settings"),
    xeroSaveSettings: (settings) => call("xero_save_settings", { settings }),
    xpmCatalog: (filter) => call("xpm_catalog", { filter }),
    xpmRefreshCatalog: () => call("xpm_refresh_catalog"),
    xpmEstimate: (groups, avgClients) => call("xpm_estimate", { groups, avgClients }),
    xpmLinkNew: (xpmUuid) => call("xpm_link_new", { xpmUuid }),
    xpmLinkExisting: (xpmUuid, groupId) => call("xpm_link_existing", { xpmUuid, groupId }),
    xpmUnlink: (groupId) => call("xpm_unlink", { groupId }),
    xpmGroupLink: (groupId) => call("xpm_group_link", { groupId }),
    xpmBulkStatus: () => call("xpm_bulk_status"),
    xpmBulkStart: (linkUnlinked, onProgress) => {
      const channel = new Channel<BulkProgress>();
      channel.onmessage = onProgress;
      return call("xpm_bulk_start", { linkUnlinked, onProgress: channel });
    },
    xpmBulkCancel: () => call("xpm_bulk_cancel"),
    xpmPull: (groupId, full, onProgress) => {
      const channel = new Channel<PullProgress>();
      channel.onmessage = onProgress;
      return call("xpm_pull", { groupId, full, onProgress: channel });
    },
    xpmPullCancel: (groupId) => call("xpm_pull_cancel", { groupId }),
    xpmPushPlan: (groupId, options) => call("xpm_push_plan", { groupId, options }),
    xpmPush: (groupId, options, onProgress) => {
      const channel = new Channel<PushProgress>();
      channel.onmessage = onProgress;
      return call("xpm_push", { groupId, options, onProgress: channel });
    },
    xpmPushCancel: (groupId) => call("xpm_push_cancel", { groupId }),
    xpmReconcilePreview: (groupId) => call("xpm_reconcile_preview", { groupId }),
    xpmReconcileCurrent: (groupId) => call("xpm_reconcile_current", { groupId }),
    xpmReconcileDecide: (groupId, itemId, decision) =>
      call("xpm_reconcile_decide", { groupId, itemId, decision }),
    xpmReconcileHelper: (groupId, helper) => call("xpm_reconcile_helper", { groupId, helper }),
    xpmReconcileApply: (groupId, onProgress) => {
      const channel = new Channel<ApplyProgress>();
      channel.onmessage = onProgress;
      return call("xpm_reconcile_apply", { groupId, onProgress: channel });
    },
    reviewList: (groupId) => call("review_list", { groupId }),
    reviewDecide: (itemId, decision) => call("review_decide", { itemId, decision }),
    structureRulesList: () => call("structure_rules_list"),
    structureRuleDelete: (id) => call("structure_rule_delete", { id }),
    syncRuns: (groupId) => call("sync_runs", { groupId }),
  };
}

/** True inside the Tauri webview (the global is injected by Tauri before any script runs). */
export function isTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}
