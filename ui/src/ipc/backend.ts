import type { AppInfo } from "./bindings/AppInfo";
import type { BulkOverview } from "./bindings/BulkOverview";
import type { BulkProgress } from "./bindings/BulkProgress";
import type { BulkReport } from "./bindings/BulkReport";
import type { PushOptions } from "./bindings/PushOptions";
import type { PushPlan } from "./bindings/PushPlan";
import type { PushProgress } from "./bindings/PushProgress";
import type { PushReport } from "./bindings/PushReport";
import type { ApplyProgress } from "./bindings/ApplyProgress";
import type { ApplyReport } from "./bindings/ApplyReport";
import type { Helper } from "./bindings/Helper";
import type { ReconcileDecision } from "./bindings/ReconcileDecision";
import type { ReconcilePreview } from "./bindings/ReconcilePreview";
import type { Attempt } from "./bindings/Attempt";
import type { Catalog } from "./bindings/Catalog";
import type { CatalogFilter } from "./bindings/CatalogFilter";
import type { ConnectResult } from "./bindings/ConnectResult";
import type { DisconnectOutcome } from "./bindings/DisconnectOutcome";
import type { GroupLink } from "./bindings/GroupLink";
import type { ImportEstimate } from "./bindings/ImportEstimate";
import type { IntegrationOverview } from "./bindings/IntegrationOverview";
import type { TestOutcome } from "./bindings/TestOutcome";
import type { XeroSettings } from "./bindings/XeroSettings";
import type { Decision } from "./bindings/Decision";
import type { PullProgress } from "./bindings/PullProgress";
import type { PullReport } from "./bindings/PullReport";
import type { ReviewItem } from "./bindings/ReviewItem";
import type { ReviewList } from "./bindings/ReviewList";
import type { StructureRule } from "./bindings/StructureRule";
import type { SyncRun } from "./bindings/SyncRun";
import type { AuthStatus } from "./bindings/AuthStatus";
import type { CodeAccepted } from "./bindings/CodeAccepted";
import type { Diagram } from "./bindings/Diagram";
import type { Entity } from "./bindings/Entity";
import type { EntityInput } from "./bindings/EntityInput";
import type { GroupSummary } from "./bindings/GroupSummary";
import type { MfaEnrolment } from "./bindings/MfaEnrolment";
import type { MfaState } from "./bindings/MfaState";
import type { Relationship } from "./bindings/Relationship";
import type { RelationshipInput } from "./bindings/RelationshipInput";

/**
 * One typed method per backend command. Every method rejects with an `IpcError`.
 * Command names live only in tauriBackend.ts.
 */
export interface Backend {
  appInfo(): Promise<AppInfo>;

  listGroups(): Promise<GroupSummary[]>;
  createGroup(name: string): Promise<GroupSummary>;
  renameGroup(id: number, name: string): Promise<GroupSummary>;
  /** Deletes the group and its memberships only; the entities stay (ungrouped). */
  deleteGroup(id: number): Promise<null>;
  /** Replaces the full member list of the group. */
  setGroupEntities(groupId: number, entityIds: number[]): Promise<null>;

  /** null = all entities. */
  listEntities(groupId: number | null): Promise<Entity[]>;
  createEntity(input: EntityInput, groupIds: number[]): Promise<Entity>;
  updateEntity(id: number, input: EntityInput): Promise<Entity>;
  deleteEntity(id: number): Promise<null>;

  /** Every relationship touching a member of the group. */
  listRelationships(groupId: number): Promise<Relationship[]>;
  createRelationship(input: RelationshipInput): Promise<Relationship>;
  updateRelationship(id: number, input: RelationshipInput): Promise<Relationship>;
  deleteRelationship(id: number): Promise<null>;

  getDiagram(groupId: number, asAt: string | null): Promise<Diagram>;

  /** Saves into the user's Downloads folder; resolves to the absolute path written. */
  saveExport(fileName: string, contentsBase64: string): Promise<string>;

  // Accounts (issue 5). Every org-scoped method above rejects with `signedOut` when nobody is
  // signed in; the account methods below resolve to the new AuthStatus where it changes.
  authStatus(): Promise<AuthStatus>;
  /** First run only. A blank organisation name joins the existing organisation (demo). */
  signUp(username: string, password: string, organisationName: string | null): Promise<AuthStatus>;
  signIn(username: string, password: string): Promise<AuthStatus>;
  signOut(): Promise<AuthStatus>;
  /** Signs out but keeps the username for unlocking. */
  lock(): Promise<AuthStatus>;
  /** Creates an organisation, joins it and switches to it. */
  createOrganisation(name: string): Promise<AuthStatus>;
  switchOrganisation(organisationId: number): Promise<AuthStatus>;

  mfaStatus(): Promise<MfaState>;
  /** The only response that carries the new key (QR, manual key, otpauth URI). */
  mfaBeginEnrolment(): Promise<MfaEnrolment>;
  /** Resolves to the ten recovery codes, shown once. */
  mfaConfirm(code: string): Promise<string[]>;
  mfaDisable(code: string): Promise<null>;
  /** Verifies this app session with an authenticator or recovery code. */
  verifySession(code: string): Promise<CodeAccepted>;
  /** The integration gate: rejects with `mfaRequired` or `mfaCodeRequired`, else resolves. */
  integrationGate(): Promise<null>;

  // Xero XPM (issues 6 and 7). Integration actions reject with `mfaRequired` /
  // `mfaCodeRequired` until the two-factor gate is passed.
  xeroOverview(): Promise<IntegrationOverview>;
  /** Starts a connection and opens the system browser on Xero's consent page. */
  xeroConnect(): Promise<Attempt>;
  /** Resolves when Xero answers the newest attempt (or rejects: denied, expired, timed out). */
  xeroWait(): Promise<ConnectResult>;
  xeroChooseTenant(tenantId: string, confirmSwitch: boolean): Promise<ConnectResult>;
  xeroCancel(): Promise<null>;
  xeroTest(): Promise<TestOutcome>;
  xeroDisconnect(): Promise<DisconnectOutcome>;
  xeroSettings(): Promise<XeroSettings>;
  xeroSaveSettings(settings: XeroSettings): Promise<XeroSettings>;
  /** The cached catalog (no XPM call). */
  xpmCatalog(filter: CatalogFilter): Promise<Catalog>;
  /** Re-reads the practice's client groups from XPM. */
  xpmRefreshCatalog(): Promise<Catalog>;
  xpmEstimate(groups: number, avgClients: number): Promise<ImportEstimate>;
  xpmLinkNew(xpmUuid: string): Promise<GroupLink>;
  xpmLinkExisting(xpmUuid: string, groupId: number): Promise<GroupLink>;
  /** Removes only the link: the group, its entities and mappings stay. */
  xpmUnlink(groupId: number): Promise<null>;
  xpmGroupLink(groupId: number): Promise<GroupLink | null>;

  // Sync the whole practice (issue 11): one persisted queue per XPM practice. `xpmBulkStart` is
  // an integration action (two-factor gate) that calls `onProgress` after the shared list, every
  // group and every rate-limit wait; per-group failures are in the report.
  /** The queue, the next run's plan, whether a run is going and how the last one stopped;
   * null when the organisation never connected to XPM. No XPM call. */
  xpmBulkStatus(): Promise<BulkOverview | null>;
  /** Links every unlinked XPM group first when asked, queues every linked group (or resumes
   * the queue left), and syncs the queue. */
  xpmBulkStart(
    linkUnlinked: boolean,
    onProgress: (progress: BulkProgress) => void,
  ): Promise<BulkReport>;
  /** Stops the run after the group in flight (the rest stays queued); whether one was going. */
  xpmBulkCancel(): Promise<boolean>;

  // Push (issue 9). The preview is local (no XPM call); `xpmPush` is an integration action that
  // calls `onProgress` after every XPM call; per-item failures are in the report.
  xpmPushPlan(groupId: number, options: PushOptions): Promise<PushPlan>;
  xpmPush(
    groupId: number,
    options: PushOptions,
    onProgress: (progress: PushProgress) => void,
  ): Promise<PushReport>;
  /** Asks the group's running push to stop before its next call (pushing again resumes). */
  xpmPushCancel(groupId: number): Promise<null>;

  // Reconciliation (issue 10). Preview and apply are integration actions (two-factor gate) that
  // call XPM; deciding and the helpers only change the saved plan and return it updated.
  /** Reads live XPM and lists every difference with the saved decisions. */
  xpmReconcilePreview(groupId: number): Promise<ReconcilePreview>;
  /** The last preview with the saved decisions (no XPM call), or null before the first. */
  xpmReconcileCurrent(groupId: number): Promise<ReconcilePreview | null>;
  /** Saves (or with null clears) one item's decision. */
  xpmReconcileDecide(
    groupId: number,
    itemId: string,
    decision: ReconcileDecision | null,
  ): Promise<ReconcilePreview>;
  xpmReconcileHelper(groupId: number, helper: Helper): Promise<ReconcilePreview>;
  /** Applies the decided plan; `onProgress` after every item; per-item outcomes in the report. */
  xpmReconcileApply(
    groupId: number,
    onProgress: (progress: ApplyProgress) => void,
  ): Promise<ApplyReport>;

  // Pull (issue 8). `xpmPull` is an integration action (two-factor gate); it calls `onProgress`
  // after every XPM call and rejects with a `validation` error when cancelled (nothing saved).
  // Run it again after deciding review items: that is "Pull again to apply decisions".
  xpmPull(
    groupId: number,
    full: boolean,
    onProgress: (progress: PullProgress) => void,
  ): Promise<PullReport>;
  /** Asks the group's running pull to stop; resolves to whether one was running. */
  xpmPullCancel(groupId: number): Promise<boolean>;
  /** The group's open review items and the ready / needs input / waiting counts. */
  reviewList(groupId: number): Promise<ReviewList>;
  /** Records a decision (the next pull carries it out; a holding class is set at once). */
  reviewDecide(itemId: number, decision: Decision): Promise<ReviewItem>;
  /** The organisation's saved business-structure rules. */
  structureRulesList(): Promise<StructureRule[]>;
  structureRuleDelete(id: number): Promise<null>;
  /** The group's latest pulls, newest first. */
  syncRuns(groupId: number): Promise<SyncRun[]>;
}
