import type { Backend } from "./backend";
import type { AppInfo } from "./bindings/AppInfo";
import type { BulkOverview } from "./bindings/BulkOverview";
import type { BulkProgress } from "./bindings/BulkProgress";
import type { BulkReport } from "./bindings/BulkReport";
import type { BulkStop } from "./bindings/BulkStop";
import type { QueuePlan } from "./bindings/QueuePlan";
import type { PushOptions } from "./bindings/PushOptions";
import type { PushPlan } from "./bindings/PushPlan";
import type { PushProgress } from "./bindings/PushProgress";
import type { PushReport } from "./bindings/PushReport";
import type { PlanItem } from "./bindings/PlanItem";
import type { Attempt } from "./bindings/Attempt";
import type { Catalog } from "./bindings/Catalog";
import type { CatalogFilter } from "./bindings/CatalogFilter";
import type { CatalogRow } from "./bindings/CatalogRow";
import type { ConnectResult } from "./bindings/ConnectResult";
import type { ConnectionStatus } from "./bindings/ConnectionStatus";
import type { DisconnectOutcome } from "./bindings/DisconnectOutcome";
import type { GroupLink } from "./bindings/GroupLink";
import type { ImportEstimate } from "./bindings/ImportEstimate";
import type { IntegrationOverview } from "./bindings/IntegrationOverview";
import type { TestOutcome } from "./bindings/TestOutcome";
import type { XeroSettings } from "./bindings/XeroSettings";
import type { AuthStatus } from "./bindings/AuthStatus";
import type { CodeAccepted } from "./bindings/CodeAccepted";
import type { Diagram } from "./bindings/Diagram";
import type { DiagramEdge } from "./bindings/DiagramEdge";
import type { DiagramNode } from "./bindings/DiagramNode";
import type { Entity } from "./bindings/Entity";
import type { EntityInput } from "./bindings/EntityInput";
import type { EntityKind } from "./bindings/EntityKind";
import type { EntityStatus } from "./bindings/EntityStatus";
import type { GroupSummary } from "./bindings/GroupSummary";
import type { MfaEnrolment } from "./bindings/MfaEnrolment";
import type { MfaState } from "./bindings/MfaState";
import type { Relationship } from "./bindings/Relationship";
import type { RelationshipInput } from "./bindings/RelationshipInput";
import type { RelationshipKind } from "./bindings/RelationshipKind";
import type { Decision } from "./bindings/Decision";
import type { PullCounts } from "./bindings/PullCounts";
import type { PullProgress } from "./bindings/PullProgress";
import type { PullReport } from "./bindings/PullReport";
import type { ReviewItem } from "./bindings/ReviewItem";
import type { ReviewKind } from "./bindings/ReviewKind";
import type { ReviewList } from "./bindings/ReviewList";
import type { ReviewPayload } from "./bindings/ReviewPayload";
import type { StructureRule } from "./bindings/StructureRule";
import type { SyncRun } from "./bindings/SyncRun";
import type { TrustType } from "./bindings/TrustType";
import type { Action } from "./bindings/Action";
import type { ApplyProgress } from "./bindings/ApplyProgress";
import type { ApplyReport } from "./bindings/ApplyReport";
import type { Helper } from "./bindings/Helper";
import type { ReconcileDecision } from "./bindings/ReconcileDecision";
import type { ReconcileItem } from "./bindings/ReconcileItem";
import type { ReconcilePreview } from "./bindings/ReconcilePreview";
import { IpcError } from "./IpcError";
import { decision, GUARDED } from "./reconcileDecision";

/**
 * In-memory Backend used by the component tests and by `npm run dev` in a plain browser.
 * It mimics the Rust side's rules closely enough to exercise the UI: validation errors,
 * duplicate group names, partner totals, as-at filtering and formatted edge labels.
 */

type StoredEntity = Omit<Entity, "groupIds" | "tfnMasked"> & { tfn: string | null };
type StoredGroup = { id: number; name: string; updatedAt: string; members: Set<number> };

export type MockSeed = {
  groups: { name: string; members: string[] }[];
  entities: (Partial<EntityInput> & { kind: EntityKind; key: string })[];
  relationships: (Partial<RelationshipInput> & {
    kind: RelationshipKind;
    from: string;
    to: string;
  })[];
};

/** Where the mock's accounts start: a signed-in user (the default), signed out, or first run. */
export type MockAuth = "signedIn" | "signedOut" | "firstRun";

export type MockBackendOptions = {
  /** Artificial latency per call, to make loading states visible in the browser preview. */
  latencyMs?: number;
  seed?: MockSeed;
  demo?: boolean;
  auth?: MockAuth;
  /** Whether the starting user has two-factor authentication on (not at first run). */
  mfaEnrolled?: boolean;
};

/** The mock's authenticator app always shows this code (the real one uses TOTP). */
export const MOCK_TOTP_CODE = "123456";
/** The starting user's name and password (not at first run). */
export const MOCK_USER = { username: "demo", password: "demo-password" };
/** The organisation that exists before anyone signs up. */
export const MOCK_ORGANISATION = "Demo Practice (fictitious)";

type MockUser = {
  id: number;
  username: string;
  password: string;
  orgIds: number[];
  mfaEnrolled: boolean;
  pendingKey: string | null;
  recoveryCodes: string[];
};

/** Account calls that work while signed out; everything else rejects with `signedOut`. */
const OPEN_METHODS = new Set(["appInfo", "authStatus", "signUp", "signIn", "signOut", "lock"]);

const DEFAULT_STATUS: Record<EntityKind, EntityStatus> = {
  individual: "active",
  company: "active",
  trust: "active",
  partnership: "active",
  smsf: "active",
};

const KIND_LABEL: Record<RelationshipKind, string> = {
  director: "Director",
  secretary: "Secretary",
  shareholder: "Shareholder",
  unitholder: "Unitholder",
  trustee: "Trustee",
  executor: "Executor",
  appointor: "Appointor",
  beneficiary: "Beneficiary",
  settlor: "Settlor",
  partner: "Partner",
  smsfMember: "Member",
  spouse: "Spouse",
  parent: "Parent",
  child: "Child",
  publicOfficer: "Public officer",
  auditor: "Auditor",
  associate: "Associate",
  owner: "Owner",
  custom: "Custom",
};

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

function clean(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const t = value.trim();
  return t === "" ? null : t;
}

/** "1 group" / "3 groups", as core's `words::count` says it. */
function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function fail(message: string, code: IpcError["code"] = "validation"): never {
  throw new IpcError(code, message);
}

export const DEMO_SEED: MockSeed = {
  groups: [
    {
      name: "Smith Family Group",
      members: [
        "john",
        "jane",
        "arthur",
        "holdings",
        "nominees",
        "familyTrust",
        "unitTrust",
        "super",
        "partners",
      ],
    },
    { name: "Nguyen Group", members: ["linh", "nguyenCo", "nguyenTrust"] },
  ],
  entities: [
    {
      key: "john",
      kind: "individual",
      firstName: "John",
      lastName: "Smith",
      dateOfBirth: "1968-04-12",
      tfn: "123456789",
      email: "john@example.com",
    },
    {
      key: "jane",
      kind: "individual",
      firstName: "Jane",
      lastName: "Smith",
      dateOfBirth: "1970-09-03",
    },
    {
      key: "arthur",
      kind: "individual",
      firstName: "Arthur",
      lastName: "Smith",
      dateOfBirth: "1935-01-20",
      dateOfDeath: "2016-07-02",
    },
    {
      key: "holdings",
      kind: "company",
      name: "Smith Holdings Pty Ltd",
      acn: "123456780",
      abn: "51824753556",
    },
    { key: "nominees", kind: "company", name: "Smith Nominees Pty Ltd", acn: "004085616" },
    {
      key: "familyTrust",
      kind: "trust",
      trustType: "discretionary",
      name: "Smith Family Trust",
      abn: "33102417032",
    },
    { key: "unitTrust", kind: "trust", trustType: "unit", name: "Smith Property Unit Trust" },
    { key: "super", kind: "smsf", name: "Smith Super Fund" },
    { key: "partners", kind: "partnership", name: "Smith Partners" },
    { key: "linh", kind: "individual", firstName: "Linh", lastName: "Nguyen" },
    { key: "nguyenCo", kind: "company", name: "Nguyen Consulting Pty Ltd" },
    { key: "nguyenTrust", kind: "trust", trustType: "hybrid", name: "Nguyen Hybrid Trust" },
    { key: "ungrouped", kind: "trust", trustType: "testamentary", name: "Estate of M. Brown" },
  ],
  relationships: [
    { kind: "spouse", from: "john", to: "jane" },
    { kind: "director", from: "john", to: "holdings", startDate: "2005-07-01" },
    { kind: "director", from: "jane", to: "holdings", startDate: "2005-07-01" },
    {
      kind: "director",
      from: "arthur",
      to: "holdings",
      startDate: "1990-01-01",
      endDate: "2015-06-30",
    },
    {
      kind: "shareholder",
      from: "john",
      to: "holdings",
      shares: 50,
      shareClass: "Ordinary",
      percentage: 50,
    },
    {
      kind: "shareholder",
      from: "jane",
      to: "holdings",
      shares: 50,
      shareClass: "Ordinary",
      percentage: 50,
    },
    { kind: "director", from: "john", to: "nominees" },
    { kind: "trustee", from: "holdings", to: "familyTrust" },
    { kind: "appointor", from: "john", to: "familyTrust" },
    { kind: "settlor", from: "arthur", to: "familyTrust", startDate: "1998-03-01" },
    { kind: "beneficiary", from: "familyTrust", to: "unitTrust" },
    {
      kind: "unitholder",
      from: "familyTrust",
      to: "unitTrust",
      shares: 100,
      shareClass: "Units",
      percentage: 100,
    },
    { kind: "trustee", from: "nominees", to: "super" },
    { kind: "smsfMember", from: "john", to: "super" },
    { kind: "smsfMember", from: "jane", to: "super" },
    { kind: "partner", from: "john", to: "partners", percentage: 60 },
    { kind: "partner", from: "jane", to: "partners", percentage: 40 },
    { kind: "director", from: "linh", to: "nguyenCo" },
    { kind: "trustee", from: "nguyenCo", to: "nguyenTrust" },
    { kind: "beneficiary", from: "linh", to: "nguyenTrust" },
  ],
};

function emptyInput(kind: EntityKind): EntityInput {
  return {
    kind,
    trustType: null,
    name: "",
    firstName: null,
    middleName: null,
    lastName: null,
    otherName: null,
    dateOfBirth: null,
    dateOfDeath: null,
    abn: null,
    acn: null,
    tfn: null,
    email: null,
    phone: null,
    address: null,
    postalAddress: null,
    status: null,
    notes: null,
  };
}

/** A promise that settles when the returned function is called (after `onRelease`). */
function held(onRelease: () => void): [Promise<void>, () => void] {
  let release = () => {};
  const hold = new Promise<void>((resolve) => {
    release = () => {
      onRelease();
      resolve();
    };
  });
  return [hold, release];
}

export class MockBackend implements Backend {
  private groups = new Map<number, StoredGroup>();
  private entities = new Map<number, StoredEntity>();
  private relationships = new Map<number, Relationship>();
  private nextId = 1;
  private readonly latencyMs: number;
  private readonly demo: boolean;
  /** Every call made, for tests that assert what the UI asked for. */
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** Files "saved" by saveExport, newest last. */
  readonly exports: { fileName: string; contentsBase64: string }[] = [];
  private users: MockUser[] = [];
  private organisations: { id: number; name: string }[] = [];
  private current: { userId: number; orgId: number; verified: boolean } | null = null;
  private lockedUsername: string | null = null;
  // Xero XPM, as the simulator would answer it.
  private xpmStatus: ConnectionStatus = { state: "disconnected" };
  private xpmAttempt = false;
  private xpmRefreshedAt: string | null = null;
  private xpmCatalogRows: { xpmUuid: string; name: string }[] = [];
  private xpmLinks = new Map<number, { xpmUuid: string; linkedAt: string }>();
  /** Entities the mock's XPM has a client for (after a push). */
  private xpmPushed = new Set<number>();
  // Pull: what the simulator's linked group holds is scripted (see MOCK_PULL_CLIENTS).
  private lastPullAt = new Map<number, string>();
  private pulledClients = new Map<string, number>();
  private reviewItems: ReviewItem[] = [];
  private structureRules: StructureRule[] = [];
  private runs: SyncRun[] = [];
  private cancelRequested = new Set<number>();
  private pullHold: Promise<void> | null = null;
  /** Reconciliation: the saved plan per group, and the differences already settled. */
  private reconcilePlans = new Map<number, ReconcilePreview>();
  private reconciled = new Map<number, Set<string>>();
  /** Sync the whole practice: the queue by group id, the run going, how the last one stopped. */
  private bulkQueue = new Map<number, "queued" | "done" | "failed">();
  private bulkQueueUpdatedAt: string | null = null;
  private bulkRunning = false;
  private bulkCancel = false;
  private bulkLastStop: BulkStop | null = null;
  private bulkHold: Promise<void> | null = null;

  constructor(options: MockBackendOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.demo = options.demo ?? true;
    const auth = options.auth ?? "signedIn";
    if (this.demo || auth !== "firstRun")
      this.organisations.push({ id: 1, name: MOCK_ORGANISATION });
    if (auth !== "firstRun") {
      this.users.push({
        id: 1,
        ...MOCK_USER,
        orgIds: [1],
        mfaEnrolled: options.mfaEnrolled ?? false,
        pendingKey: null,
        recoveryCodes: options.mfaEnrolled ? this.newRecoveryCodes() : [],
      });
      if (auth === "signedIn") this.current = { userId: 1, orgId: 1, verified: false };
    }
    const seed = options.seed ?? DEMO_SEED;
    const keys = new Map<string, number>();
    for (const e of seed.entities) {
      const input = { ...emptyInput(e.kind), ...e };
      const stored = this.buildEntity(this.nextId++, input, null);
      this.entities.set(stored.id, stored);
      keys.set(e.key, stored.id);
    }
    for (const g of seed.groups) {
      const id = this.nextId++;
      const members = new Set(
        g.members.map((k) => keys.get(k)).filter((x): x is number => x !== undefined),
      );
      this.groups.set(id, { id, name: g.name, updatedAt: new Date().toISOString(), members });
    }
    for (const r of seed.relationships) {
      const fromId = keys.get(r.from);
      const toId = keys.get(r.to);
      if (fromId === undefined || toId === undefined) continue;
      const id = this.nextId++;
      this.relationships.set(id, {
        id,
        kind: r.kind,
        fromId,
        toId,
        shares: r.shares ?? null,
        shareClass: r.shareClass ?? null,
        percentage: r.percentage ?? null,
        startDate: r.startDate ?? null,
        endDate: r.endDate ?? null,
        label: r.label ?? null,
      });
    }
  }

  private async respond<T>(method: string, args: unknown[], work: () => T): Promise<T> {
    this.calls.push({ method, args });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (!OPEN_METHODS.has(method) && this.current === null)
      fail("Sign in first: StructureGram is locked or signed out.", "signedOut");
    // structuredClone so the UI never holds references into the store.
    return structuredClone(work());
  }

  private toEntity(e: StoredEntity): Entity {
    const { tfn, ...rest } = e;
    const groupIds = [...this.groups.values()].filter((g) => g.members.has(e.id)).map((g) => g.id);
    return { ...rest, tfnMasked: tfn ? `******${tfn.slice(-3)}` : null, groupIds };
  }

  private summary(g: StoredGroup): GroupSummary {
    return {
      id: g.id,
      name: g.name,
      entityCount: g.members.size,
      relationshipCount: this.relationshipsOf(g).length,
      updatedAt: g.updatedAt,
    };
  }

  private relationshipsOf(g: StoredGroup): Relationship[] {
    return [...this.relationships.values()].filter(
      (r) => g.members.has(r.fromId) || g.members.has(r.toId),
    );
  }

  private group(id: number): StoredGroup {
    return this.groups.get(id) ?? fail(`Group ${id} does not exist.`, "notFound");
  }

  private entity(id: number): StoredEntity {
    return this.entities.get(id) ?? fail(`Entity ${id} does not exist.`, "notFound");
  }

  private checkGroupName(name: string, exceptId: number | null): string {
    const trimmed = name.trim();
    if (trimmed === "") fail("A group needs a name.");
    for (const g of this.groups.values()) {
      if (g.id !== exceptId && g.name.toLowerCase() === trimmed.toLowerCase()) {
        fail(`A group named "${trimmed}" already exists.`, "conflict");
      }
    }
    return trimmed;
  }

  private buildEntity(id: number, input: EntityInput, previousTfn: string | null): StoredEntity {
    const firstName = clean(input.firstName);
    const lastName = clean(input.lastName);
    let name: string;
    if (input.kind === "individual") {
      if (!firstName || !lastName) fail("An individual needs a first name and a last name.");
      name = `${firstName} ${lastName}`;
    } else {
      name = input.name.trim();
      if (name === "") fail("Name is required.");
    }
    if (input.kind === "trust" && !input.trustType) fail("A trust needs a trust type.");
    const abn = clean(input.abn)?.replace(/\s/g, "") ?? null;
    if (abn !== null && !/^\d{11}$/.test(abn)) fail("ABN must be 11 digits.");
    const acn = clean(input.acn)?.replace(/\s/g, "") ?? null;
    if (acn !== null && !/^\d{9}$/.test(acn)) fail("ACN must be 9 digits.");
    let tfn = previousTfn;
    if (input.tfn === "") tfn = null;
    else if (input.tfn !== null) {
      const digits = input.tfn.replace(/\s/g, "");
      if (!/^\d{8,9}$/.test(digits)) fail("TFN must be 8 or 9 digits.");
      tfn = digits;
    }
    for (const [label, v] of [
      ["Date of birth", input.dateOfBirth],
      ["Date of death", input.dateOfDeath],
    ] as const) {
      const c = clean(v);
      if (c !== null && !validDate(c)) fail(`${label} must be a valid date (YYYY-MM-DD).`);
    }
    const email = clean(input.email);
    if (email !== null && !email.includes("@")) fail("Email address is not valid.");
    return {
      id,
      kind: input.kind,
      trustType: input.kind === "trust" ? input.trustType : null,
      name,
      firstName: input.kind === "individual" ? firstName : null,
      middleName: input.kind === "individual" ? clean(input.middleName) : null,
      lastName: input.kind === "individual" ? lastName : null,
      otherName: input.kind === "individual" ? clean(input.otherName) : null,
      dateOfBirth: clean(input.dateOfBirth),
      dateOfDeath: clean(input.dateOfDeath),
      abn,
      acn: input.kind === "company" ? acn : null,
      tfn,
      email,
      phone: clean(input.phone),
      address: clean(input.address),
      postalAddress: clean(input.postalAddress),
      status: input.status ?? DEFAULT_STATUS[input.kind],
      notes: clean(input.notes),
    };
  }

  private checkRelationship(input: RelationshipInput, exceptId: number | null): Relationship {
    const from = this.entity(input.fromId);
    const to = this.entity(input.toId);
    if (from.id === to.id) fail("A relationship needs two different entities.");
    for (const [label, v] of [
      ["Start date", input.startDate],
      ["End date", input.endDate],
    ] as const) {
      if (v !== null && !validDate(v)) fail(`${label} must be a valid date (YYYY-MM-DD).`);
    }
    if (input.startDate && input.endDate && input.endDate < input.startDate) {
      fail("End date must not be before the start date.");
    }
    if (input.percentage !== null && (input.percentage < 0 || input.percentage > 100)) {
      fail("Percentage must be between 0 and 100.");
    }
    if (input.kind === "custom" && !clean(input.label))
      fail("A custom relationship needs a label.");
    if (input.kind === "partner") {
      if (to.kind !== "partnership") fail(`${to.name} is not a partnership.`);
      const others = [...this.relationships.values()].filter(
        (r) => r.kind === "partner" && r.toId === to.id && r.id !== exceptId,
      );
      const total = others.reduce((s, r) => s + (r.percentage ?? 0), 0) + (input.percentage ?? 0);
      if (total > 100) {
        fail(`Partner interests in ${to.name} would total ${total}%; they may not exceed 100%.`);
      }
    }
    if (input.kind === "trustee" && to.kind !== "trust" && to.kind !== "smsf") {
      fail(`${to.name} is not a trust or SMSF, so it cannot have a trustee.`);
    }
    return {
      id: exceptId ?? 0,
      ...input,
      label: clean(input.label),
      shareClass: clean(input.shareClass),
    };
  }

  private edgeLabel(r: Relationship): string {
    let base = r.kind === "custom" ? (r.label ?? "Custom") : KIND_LABEL[r.kind];
    if (r.kind === "shareholder" || r.kind === "unitholder") {
      const parts: string[] = [];
      if (r.shares !== null) parts.push(`${r.shares}${r.shareClass ? ` ${r.shareClass}` : ""}`);
      if (r.percentage !== null) parts.push(`(${r.percentage}%)`);
      if (parts.length > 0) base += ` · ${parts.join(" ")}`;
    } else if (r.percentage !== null) {
      base += ` ${r.percentage}%`;
    }
    return base;
  }

  appInfo(): Promise<AppInfo> {
    return this.respond("appInfo", [], () => ({
      version: "0.1.0-mock",
      dataDir: "(in memory)",
      demo: this.demo,
    }));
  }

  listGroups(): Promise<GroupSummary[]> {
    return this.respond("listGroups", [], () =>
      [...this.groups.values()]
        .map((g) => this.summary(g))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
  }

  createGroup(name: string): Promise<GroupSummary> {
    return this.respond("createGroup", [name], () => {
      const id = this.nextId++;
      const g = {
        id,
        name: this.checkGroupName(name, null),
        updatedAt: new Date().toISOString(),
        members: new Set<number>(),
      };
      this.groups.set(id, g);
      return this.summary(g);
    });
  }

  renameGroup(id: number, name: string): Promise<GroupSummary> {
    return this.respond("renameGroup", [id, name], () => {
      const g = this.group(id);
      g.name = this.checkGroupName(name, id);
      g.updatedAt = new Date().toISOString();
      return this.summary(g);
    });
  }

  deleteGroup(id: number): Promise<null> {
    return this.respond("deleteGroup", [id], () => {
      this.group(id);
      this.groups.delete(id);
      return null;
    });
  }

  setGroupEntities(groupId: number, entityIds: number[]): Promise<null> {
    return this.respond("setGroupEntities", [groupId, entityIds], () => {
      const g = this.group(groupId);
      for (const id of entityIds) this.entity(id);
      g.members = new Set(entityIds);
      g.updatedAt = new Date().toISOString();
      return null;
    });
  }

  listEntities(groupId: number | null): Promise<Entity[]> {
    return this.respond("listEntities", [groupId], () => {
      const g = groupId === null ? null : this.group(groupId);
      return [...this.entities.values()]
        .filter((e) => g === null || g.members.has(e.id))
        .map((e) => this.toEntity(e))
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  createEntity(input: EntityInput, groupIds: number[]): Promise<Entity> {
    return this.respond("createEntity", [input, groupIds], () => {
      const groups = groupIds.map((id) => this.group(id));
      const e = this.buildEntity(this.nextId, input, null);
      this.nextId++;
      this.entities.set(e.id, e);
      for (const g of groups) g.members.add(e.id);
      return this.toEntity(e);
    });
  }

  updateEntity(id: number, input: EntityInput): Promise<Entity> {
    return this.respond("updateEntity", [id, input], () => {
      const old = this.entity(id);
      const e = this.buildEntity(id, input, old.tfn);
      this.entities.set(id, e);
      return this.toEntity(e);
    });
  }

  deleteEntity(id: number): Promise<null> {
    return this.respond("deleteEntity", [id], () => {
      this.entity(id);
      this.entities.delete(id);
      for (const g of this.groups.values()) g.members.delete(id);
      for (const r of [...this.relationships.values()]) {
        if (r.fromId === id || r.toId === id) this.relationships.delete(r.id);
      }
      return null;
    });
  }

  listRelationships(groupId: number): Promise<Relationship[]> {
    return this.respond("listRelationships", [groupId], () =>
      this.relationshipsOf(this.group(groupId)),
    );
  }

  createRelationship(input: RelationshipInput): Promise<Relationship> {
    return this.respond("createRelationship", [input], () => {
      const r = { ...this.checkRelationship(input, null), id: this.nextId++ };
      this.relationships.set(r.id, r);
      return r;
    });
  }

  updateRelationship(id: number, input: RelationshipInput): Promise<Relationship> {
    return this.respond("updateRelationship", [id, input], () => {
      if (!this.relationships.has(id)) fail(`Relationship ${id} does not exist.`, "notFound");
      const r = this.checkRelationship(input, id);
      this.relationships.set(id, r);
      return r;
    });
  }

  deleteRelationship(id: number): Promise<null> {
    return this.respond("deleteRelationship", [id], () => {
      if (!this.relationships.delete(id)) fail(`Relationship ${id} does not exist.`, "notFound");
      return null;
    });
  }

  getDiagram(groupId: number, asAt: string | null): Promise<Diagram> {
    return this.respond("getDiagram", [groupId, asAt], () => {
      if (asAt !== null && !validDate(asAt)) fail("As-at date must be a valid date (YYYY-MM-DD).");
      const g = this.group(groupId);
      const members = [...g.members].map((id) => this.entity(id));
      const nodes: DiagramNode[] = members.map((e) => ({
        id: `e${e.id}`,
        entityId: e.id,
        label: e.name,
        kind: e.kind,
        trustType: e.trustType,
        subtitle: this.subtitle(e),
        deceased: e.dateOfDeath !== null && (asAt === null || e.dateOfDeath <= asAt),
      }));
      const edges: DiagramEdge[] = [];
      let hidden = 0;
      for (const r of this.relationships.values()) {
        if (!g.members.has(r.fromId) || !g.members.has(r.toId)) continue;
        const active =
          asAt === null ||
          ((r.startDate === null || r.startDate <= asAt) &&
            (r.endDate === null || r.endDate >= asAt));
        if (!active) {
          hidden++;
          continue;
        }
        edges.push({
          id: `r${r.id}`,
          relationshipId: r.id,
          source: `e${r.fromId}`,
          target: `e${r.toId}`,
          kind: r.kind,
          label: this.edgeLabel(r),
        });
      }
      return { groupId, groupName: g.name, asAt, nodes, edges, hiddenRelationships: hidden };
    });
  }

  private subtitle(e: StoredEntity): string | null {
    switch (e.kind) {
      case "individual":
        return e.dateOfDeath ? `Deceased ${e.dateOfDeath}` : null;
      case "company":
        return e.acn ? `ACN ${e.acn.replace(/(\d{3})(\d{3})(\d{3})/, "$1 $2 $3")}` : "Company";
      case "trust":
        return e.trustType
          ? `${e.trustType.replace(/([A-Z])/g, " $1").replace(/^./, (c) => c.toUpperCase())} trust`
          : "Trust";
      case "partnership":
        return "Partnership";
      case "smsf":
        return "SMSF";
    }
  }

  saveExport(fileName: string, contentsBase64: string): Promise<string> {
    return this.respond("saveExport", [fileName, contentsBase64.length], () => {
      if (!/^[\w .-]+\.(png|svg)$/i.test(fileName))
        fail("Export file name must end in .png or .svg.");
      this.exports.push({ fileName, contentsBase64 });
      return `/home/demo/Downloads/${fileName}`;
    });
  }

  // ----- Accounts (issue 5). Data is not scoped per organisation in the mock. -----

  private newRecoveryCodes(): string[] {
    return Array.from(
      { length: 10 },
      (_, i) => `RC${String(i).padStart(2, "0")}-MOCK-${this.nextId++}`,
    );
  }

  private me(): MockUser {
    const user = this.users.find((u) => u.id === this.current?.userId);
    return user ?? fail("Sign in first: StructureGram is locked or signed out.", "signedOut");
  }

  private status(): AuthStatus {
    if (this.current === null) {
      const firstRun = this.users.length === 0;
      return {
        firstRun,
        user: null,
        activeOrganisation: null,
        organisations: firstRun ? this.organisations.slice(0, 1) : [],
        lockedUsername: this.lockedUsername,
      };
    }
    const user = this.me();
    const orgs = this.organisations.filter((o) => user.orgIds.includes(o.id));
    return {
      firstRun: false,
      user: {
        id: user.id,
        username: user.username,
        mfaEnrolled: user.mfaEnrolled,
        sessionVerified: this.current.verified,
      },
      activeOrganisation: orgs.find((o) => o.id === this.current?.orgId) ?? null,
      organisations: orgs,
      lockedUsername: null,
    };
  }

  private checkCode(user: MockUser, code: string): CodeAccepted {
    const normalised = code.replace(/[\s-]/g, "").toUpperCase();
    if (normalised === MOCK_TOTP_CODE) return { kind: "totp" };
    const index = user.recoveryCodes.findIndex((c) => c.replace(/-/g, "") === normalised);
    if (index >= 0) {
      user.recoveryCodes.splice(index, 1);
      return { kind: "recoveryCode", remaining: user.recoveryCodes.length };
    }
    return fail(
      "That code is not valid. Enter the newest code from your authenticator app (check the device's clock), or one of your recovery codes.",
    );
  }

  authStatus(): Promise<AuthStatus> {
    return this.respond("authStatus", [], () => this.status());
  }

  signUp(username: string, password: string, organisationName: string | null): Promise<AuthStatus> {
    return this.respond("signUp", [username, organisationName], () => {
      if (this.users.length > 0)
        fail("An account already exists on this computer. Sign in with it.", "conflict");
      const name = username.trim();
      if (name === "" || /\s/.test(name))
        fail("Choose a username of 1 to 64 characters, without spaces.");
      if (password.length < 8) fail("Choose a password of at least 8 characters.");
      const orgName = organisationName?.trim() ?? "";
      let orgId: number;
      if (orgName !== "") {
        orgId = this.nextId++;
        this.organisations.push({ id: orgId, name: orgName });
      } else {
        orgId =
          this.organisations[0]?.id ?? fail("Enter a name for your organisation (your practice).");
      }
      const id = this.nextId++;
      this.users.push({
        id,
        username: name,
        password,
        orgIds: [orgId],
        mfaEnrolled: false,
        pendingKey: null,
        recoveryCodes: [],
      });
      this.current = { userId: id, orgId, verified: false };
      return this.status();
    });
  }

  signIn(username: string, password: string): Promise<AuthStatus> {
    return this.respond("signIn", [username], () => {
      const user = this.users.find((u) => u.username === username.trim());
      if (!user || user.password !== password) fail("The username or password is wrong.");
      this.current = { userId: user.id, orgId: user.orgIds[0] ?? 0, verified: false };
      this.lockedUsername = null;
      return this.status();
    });
  }

  signOut(): Promise<AuthStatus> {
    return this.respond("signOut", [], () => {
      this.current = null;
      this.lockedUsername = null;
      return this.status();
    });
  }

  lock(): Promise<AuthStatus> {
    return this.respond("lock", [], () => {
      this.lockedUsername = this.current ? this.me().username : null;
      this.current = null;
      return this.status();
    });
  }

  createOrganisation(name: string): Promise<AuthStatus> {
    return this.respond("createOrganisation", [name], () => {
      const trimmed = name.trim();
      if (trimmed === "") fail("Enter an organisation name of 1 to 200 characters.");
      if (this.organisations.some((o) => o.name === trimmed))
        fail(`An organisation called \u201c${trimmed}\u201d already exists.`, "conflict");
      const id = this.nextId++;
      this.organisations.push({ id, name: trimmed });
      this.me().orgIds.push(id);
      if (this.current) this.current.orgId = id;
      return this.status();
    });
  }

  switchOrganisation(organisationId: number): Promise<AuthStatus> {
    return this.respond("switchOrganisation", [organisationId], () => {
      if (!this.me().orgIds.includes(organisationId))
        fail("You are not a member of that organisation.", "notFound");
      if (this.current) this.current.orgId = organisationId;
      return this.status();
    });
  }

  mfaStatus(): Promise<MfaState> {
    return this.respond("mfaStatus", [], () => {
      const user = this.me();
      return {
        enrolled: user.mfaEnrolled,
        integrationMfa: false,
        sessionVerified: this.current?.verified ?? false,
        recoveryCodesRemaining: user.mfaEnrolled ? user.recoveryCodes.length : 0,
        lockedUntil: null,
      };
    });
  }

  mfaBeginEnrolment(): Promise<MfaEnrolment> {
    return this.respond("mfaBeginEnrolment", [], () => {
      const user = this.me();
      if (user.mfaEnrolled)
        fail(
          "Two-factor authentication is already on. Turn it off first to set up another device.",
          "conflict",
        );
      user.pendingKey = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
      const otpauthUri = `otpauth://totp/StructureGram:${user.username}?secret=${user.pendingKey}&issuer=StructureGram`;
      return {
        otpauthUri,
        manualKey: user.pendingKey,
        // A 1×1 transparent PNG stands in for the QR code.
        qrDataUrl:
          "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
      };
    });
  }

  mfaConfirm(code: string): Promise<string[]> {
    return this.respond("mfaConfirm", [code], () => {
      const user = this.me();
      if (user.mfaEnrolled) fail("Two-factor authentication is already on.", "conflict");
      if (user.pendingKey === null) fail("Start setting up two-factor authentication first.");
      if (code.trim() !== MOCK_TOTP_CODE)
        fail(
          "That code is not valid. Enter the newest code from your authenticator app (check the device's clock), or one of your recovery codes.",
        );
      user.pendingKey = null;
      user.mfaEnrolled = true;
      user.recoveryCodes = this.newRecoveryCodes();
      return [...user.recoveryCodes];
    });
  }

  mfaDisable(code: string): Promise<null> {
    return this.respond("mfaDisable", [code], () => {
      const user = this.me();
      if (!user.mfaEnrolled)
        fail("Enable two-factor authentication to connect to Xero", "mfaRequired");
      this.checkCode(user, code);
      user.mfaEnrolled = false;
      user.recoveryCodes = [];
      if (this.current) this.current.verified = false;
      return null;
    });
  }

  verifySession(code: string): Promise<CodeAccepted> {
    return this.respond("verifySession", [code], () => {
      const user = this.me();
      if (!user.mfaEnrolled)
        fail("Enable two-factor authentication to connect to Xero", "mfaRequired");
      const accepted = this.checkCode(user, code);
      if (this.current) this.current.verified = true;
      return accepted;
    });
  }

  integrationGate(): Promise<null> {
    return this.respond("integrationGate", [], () => {
      this.gate();
      return null;
    });
  }

  private gate() {
    if (!this.me().mfaEnrolled)
      fail("Enable two-factor authentication to connect to Xero", "mfaRequired");
    if (!this.current?.verified)
      fail("Enter a code from your authenticator app to continue.", "mfaCodeRequired");
  }

  private connected(): string {
    if (this.xpmStatus.state !== "connected")
      fail(
        "This organisation is not connected to Xero. Connect it on Account → Integrations.",
        "validation",
      );
    return this.xpmStatus.tenantName;
  }

  private xpmLink(groupId: number): GroupLink | null {
    const link = this.xpmLinks.get(groupId);
    if (!link) return null;
    return {
      groupId,
      groupName: this.group(groupId).name,
      tenantId: "mock-tenant",
      xpmUuid: link.xpmUuid,
      xpmName: this.xpmCatalogRows.find((r) => r.xpmUuid === link.xpmUuid)?.name ?? null,
      xpmMissingSince: null,
      linkedAt: link.linkedAt,
      lastPullAt: this.lastPullAt.get(groupId) ?? null,
    };
  }

  private linkTo(xpmUuid: string, groupId: number): GroupLink {
    const row = this.xpmCatalogRows.find((r) => r.xpmUuid === xpmUuid);
    if (!row) fail("That XPM group is not in the catalog. Refresh it and try again.", "notFound");
    for (const [gid, l] of this.xpmLinks)
      if (l.xpmUuid === xpmUuid)
        fail(
          `The XPM group "${row.name}" is already linked to "${this.group(gid).name}".`,
          "conflict",
        );
    if (this.xpmLinks.has(groupId))
      fail(`"${this.group(groupId).name}" is already linked to an XPM group.`, "conflict");
    this.xpmLinks.set(groupId, { xpmUuid, linkedAt: new Date().toISOString() });
    return this.xpmLink(groupId) as GroupLink;
  }

  private catalogOf(filter: CatalogFilter): Catalog {
    const linkedBy = new Map([...this.xpmLinks].map(([gid, l]) => [l.xpmUuid, gid]));
    const rows: CatalogRow[] = this.xpmCatalogRows
      .map((r) => {
        const gid = linkedBy.get(r.xpmUuid) ?? null;
        return {
          xpmUuid: r.xpmUuid,
          name: r.name,
          memberCount: null,
          missingSince: null,
          linkedGroupId: gid,
          linkedGroupName: gid === null ? null : this.group(gid).name,
          lastPullAt: null,
        };
      })
      .filter(
        (r) =>
          (!filter.search || r.name.toLowerCase().includes(filter.search.toLowerCase())) &&
          (filter.linked === null ||
            filter.linked === undefined ||
            (r.linkedGroupId !== null) === filter.linked),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      tenantId: this.xpmRefreshedAt ? "mock-tenant" : null,
      refreshedAt: this.xpmRefreshedAt,
      lastError: null,
      rows,
    };
  }

  xeroOverview(): Promise<IntegrationOverview> {
    return this.respond("xeroOverview", [], () => ({
      status: this.xpmStatus,
      configured: true,
      simulated: this.demo,
      linkedGroups: this.xpmLinks.size,
      catalogRefreshedAt: this.xpmRefreshedAt,
    }));
  }

  xeroConnect(): Promise<Attempt> {
    return this.respond("xeroConnect", [], () => {
      this.gate();
      this.xpmAttempt = true;
      return {
        authorizeUrl: "http://localhost:9/identity/connect/authorize?state=mock",
        redirectUri: "http://localhost:47615/callback",
        expiresAt: new Date(Date.now() + 10 * 60_000).toISOString(),
      };
    });
  }

  xeroWait(): Promise<ConnectResult> {
    return this.respond("xeroWait", [], () => {
      if (!this.xpmAttempt)
        fail("There is no Xero connection in progress. Connect again.", "validation");
      this.xpmAttempt = false;
      const tenant = { tenantId: "mock-tenant", tenantName: "Mock Practice (Simulated)" };
      const now = new Date().toISOString();
      this.xpmStatus = {
        state: "connected",
        tenantName: tenant.tenantName,
        connectedAt: now,
        refreshExpiresAt: new Date(Date.now() + 60 * 86_400_000).toISOString(),
      };
      this.xpmCatalogRows = [
        { xpmUuid: "0000000a-0000-4000-8000-000000000001", name: "Nguyen Family Group" },
        { xpmUuid: "0000000a-0000-4000-8000-000000000002", name: "Osei Holdings" },
        { xpmUuid: "0000000a-0000-4000-8000-000000000003", name: "Papadopoulos Family" },
      ];
      this.xpmRefreshedAt = now;
      return {
        completion: { outcome: "connected", tenant },
        discovered: this.xpmCatalogRows.length,
        discoveryError: null,
      };
    });
  }

  xeroChooseTenant(tenantId: string, confirmSwitch: boolean): Promise<ConnectResult> {
    return this.respond("xeroChooseTenant", [tenantId, confirmSwitch], () =>
      fail("There is no Xero connection in progress. Connect again.", "validation"),
    );
  }

  xeroCancel(): Promise<null> {
    return this.respond("xeroCancel", [], () => {
      this.xpmAttempt = false;
      return null;
    });
  }

  xeroTest(): Promise<TestOutcome> {
    return this.respond("xeroTest", [], () => {
      this.gate();
      return {
        result: "success",
        tenantName: this.connected(),
        clientGroups: this.xpmCatalogRows.length,
      };
    });
  }

  xeroDisconnect(): Promise<DisconnectOutcome> {
    return this.respond("xeroDisconnect", [], () => {
      this.gate();
      this.connected();
      this.xpmStatus = { state: "disconnected" };
      return {
        revokedAtXero: true,
        message: "Disconnected from Xero. Your groups, links and mappings are kept.",
      };
    });
  }

  xeroSettings(): Promise<XeroSettings> {
    return this.respond("xeroSettings", [], () => ({
      clientId: "mock-client",
      redirectPorts: [47615, 47616, 47617],
      httpsRedirectUri: null,
      loginBase: "http://localhost:9",
      identityBase: "http://localhost:9",
      apiBase: "http://localhost:9",
      readOnly: false,
      extraScopes: [],
    }));
  }

  xeroSaveSettings(settings: XeroSettings): Promise<XeroSettings> {
    return this.respond("xeroSaveSettings", [settings], () => settings);
  }

  xpmCatalog(filter: CatalogFilter): Promise<Catalog> {
    return this.respond("xpmCatalog", [filter], () => this.catalogOf(filter));
  }

  xpmRefreshCatalog(): Promise<Catalog> {
    return this.respond("xpmRefreshCatalog", [], () => {
      this.gate();
      this.connected();
      this.xpmRefreshedAt = new Date().toISOString();
      return this.catalogOf({ search: null, linked: null });
    });
  }

  xpmEstimate(groups: number, avgClients: number): Promise<ImportEstimate> {
    return this.respond("xpmEstimate", [groups, avgClients], () => {
      const calls = groups * (1 + avgClients);
      return {
        calls,
        minutes: Math.ceil(calls / 60),
        dayBudgetPercent: Math.ceil((calls * 100) / 5000),
        exceedsDayBudget: calls > 5000,
        advice: "Import only the groups you need now.",
      };
    });
  }

  xpmLinkNew(xpmUuid: string): Promise<GroupLink> {
    return this.respond("xpmLinkNew", [xpmUuid], () => {
      this.gate();
      const row = this.xpmCatalogRows.find((r) => r.xpmUuid === xpmUuid);
      if (!row) fail("That XPM group is not in the catalog. Refresh it and try again.", "notFound");
      for (const l of this.xpmLinks.values())
        if (l.xpmUuid === xpmUuid)
          fail(`The XPM group "${row.name}" is already linked.`, "conflict");
      const id = this.nextId++;
      this.groups.set(id, {
        id,
        name: this.checkGroupName(row.name, null),
        updatedAt: new Date().toISOString(),
        members: new Set<number>(),
      });
      return this.linkTo(xpmUuid, id);
    });
  }

  xpmLinkExisting(xpmUuid: string, groupId: number): Promise<GroupLink> {
    return this.respond("xpmLinkExisting", [xpmUuid, groupId], () => {
      this.gate();
      return this.linkTo(xpmUuid, groupId);
    });
  }

  xpmUnlink(groupId: number): Promise<null> {
    return this.respond("xpmUnlink", [groupId], () => {
      this.gate();
      if (!this.xpmLinks.delete(groupId))
        fail(`"${this.group(groupId).name}" is not linked to an XPM group.`, "notFound");
      return null;
    });
  }

  xpmGroupLink(groupId: number): Promise<GroupLink | null> {
    return this.respond("xpmGroupLink", [groupId], () => this.xpmLink(groupId));
  }

  /**
   * Makes the next whole-practice sync wait at its rate-limit pause (after its first group)
   * until the returned function is called, so a test can see the calm line and press Stop.
   */
  holdBulk(): () => void {
    const [hold, release] = held(() => (this.bulkHold = null));
    this.bulkHold = hold;
    return release;
  }

  /** Replaces the XPM practice's client groups, as if they changed in XPM and were refreshed. */
  setXpmGroups(rows: { xpmUuid: string; name: string }[]) {
    this.xpmCatalogRows = rows;
  }

  /** Leaves `count` linked groups queued as if a run had been interrupted (the app closed). */
  interruptBulk(count: number) {
    this.bulkQueue.clear();
    for (const gid of [...this.xpmLinks.keys()].slice(0, count)) this.bulkQueue.set(gid, "queued");
    this.bulkQueueUpdatedAt = new Date().toISOString();
    this.bulkLastStop = null;
  }

  /**
   * The mock's plan (the real one chooses among three strategies; see core::bulk): one shared
   * client list plus one call per group, at XPM's paced 50 calls a minute.
   */
  private bulkPlan(groups: number, extraCalls = 0): { plan: QueuePlan; eta: number } | null {
    if (groups === 0) return null;
    const calls = 1 + groups + extraCalls;
    return {
      plan: {
        strategy: "modifiedSince",
        groups,
        calls,
        perClientCost: groups * 5,
        detailedListCost: 2 + groups,
        modifiedSinceCost: calls,
      },
      eta: Math.ceil((calls * 60) / 50),
    };
  }

  private bulkQueued(): number[] {
    return [...this.bulkQueue].filter(([, s]) => s === "queued").map(([gid]) => gid);
  }

  xpmBulkStatus(): Promise<BulkOverview | null> {
    return this.respond("xpmBulkStatus", [], () => {
      if (this.xpmRefreshedAt === null) return null;
      const linkedUuids = new Set([...this.xpmLinks.values()].map((l) => l.xpmUuid));
      const unlinked = this.xpmCatalogRows.filter((r) => !linkedUuids.has(r.xpmUuid)).length;
      const queued = this.bulkQueued().length;
      const inState = (state: string) =>
        [...this.bulkQueue.values()].filter((s) => s === state).length;
      const groups = queued > 0 ? queued : this.xpmLinks.size;
      const only = this.bulkPlan(groups);
      const withUnlinked = this.bulkPlan(groups + unlinked, unlinked > 0 ? 1 : 0);
      const lastStop: BulkStop | null =
        this.bulkLastStop ??
        (queued > 0 && !this.bulkRunning
          ? {
              reason: "interrupted",
              at: this.bulkQueueUpdatedAt ?? new Date().toISOString(),
              message: `A sync of ${count(queued, "remaining group")} was interrupted. Resume it to carry on where it stopped.`,
            }
          : null);
      return {
        queue: {
          tenantId: "mock-tenant",
          queued,
          done: inState("done"),
          failed: inState("failed"),
          callsMade: 0,
          plan: queued > 0 ? (this.bulkPlan(queued)?.plan ?? null) : null,
          etaSeconds: queued > 0 ? (this.bulkPlan(queued)?.eta ?? 0) : 0,
          updatedAt: this.bulkQueueUpdatedAt,
        },
        next: {
          linked: this.xpmLinks.size,
          unlinked,
          resumable: queued,
          plan: only?.plan ?? null,
          etaSeconds: only?.eta ?? 0,
          planWithUnlinked: withUnlinked?.plan ?? null,
          etaWithUnlinkedSeconds: withUnlinked?.eta ?? 0,
        },
        running: this.bulkRunning,
        lastStop,
      };
    });
  }

  /**
   * A scripted whole-practice sync: links the unlinked catalog groups when asked (names made
   * unique with "(XPM)"), queues every linked group unless some are left queued, then "pulls"
   * them in order, 1 shared list call + 1 call per group. After the first group XPM's minute
   * limit makes it wait 20 s (see {@link holdBulk}); the group linked to "Papadopoulos Family"
   * fails with a message saying what to do.
   */
  async xpmBulkStart(
    linkUnlinked: boolean,
    onProgress: (progress: BulkProgress) => void,
  ): Promise<BulkReport> {
    await this.respond("xpmBulkStart", [linkUnlinked], () => {
      this.gate();
      this.connected();
      if (this.bulkRunning)
        fail(
          "The whole practice is being synced already; wait for that sync to finish, or stop it.",
          "conflict",
        );
      return null;
    });
    const now = () => new Date().toISOString();
    if (linkUnlinked) {
      const linkedUuids = new Set([...this.xpmLinks.values()].map((l) => l.xpmUuid));
      for (const row of this.xpmCatalogRows.filter((r) => !linkedUuids.has(r.xpmUuid))) {
        const taken = (n: string) =>
          [...this.groups.values()].some((g) => g.name.toLowerCase() === n.toLowerCase());
        const name = taken(row.name) ? `${row.name} (XPM)` : row.name;
        const id = this.nextId++;
        this.groups.set(id, { id, name, updatedAt: now(), members: new Set<number>() });
        this.linkTo(row.xpmUuid, id);
        if (this.bulkQueued().length > 0) this.bulkQueue.set(id, "queued");
      }
    }
    if (this.bulkQueued().length === 0) {
      this.bulkQueue.clear();
      for (const gid of this.xpmLinks.keys()) this.bulkQueue.set(gid, "queued");
    }
    this.bulkQueueUpdatedAt = now();
    const queued = this.bulkQueued();
    const plan = this.bulkPlan(queued.length)?.plan ?? (this.bulkPlan(1)?.plan as QueuePlan);
    const total = queued.length;
    this.bulkRunning = true;
    this.bulkCancel = false;
    this.bulkLastStop = null;
    const report: BulkReport = {
      outcome: "finished",
      plan: { ...plan, groups: total },
      groupsDone: 0,
      failures: [],
      toReview: [],
      groupsLeft: total,
      calls: total > 0 ? 1 : 0,
      waits: 0,
      resumeAfterSeconds: null,
      message: "",
    };
    const progress = (waitingSeconds: number | null) => {
      const finished = report.groupsDone + report.failures.length;
      const left = total - finished;
      onProgress({
        groupsDone: finished,
        groupsTotal: total,
        callsMade: report.calls,
        callsLeft: left,
        etaSeconds: Math.ceil((left * 60) / 50),
        waitingSeconds,
        waitingUntil:
          waitingSeconds === null
            ? null
            : new Date(Date.now() + waitingSeconds * 1000).toISOString(),
      });
    };
    progress(null);
    for (const [i, gid] of queued.entries()) {
      if (this.bulkCancel) {
        report.outcome = "cancelled";
        break;
      }
      await Promise.resolve();
      report.calls += 1;
      const uuid = this.xpmLinks.get(gid)?.xpmUuid;
      const xpmName = this.xpmCatalogRows.find((r) => r.xpmUuid === uuid)?.name ?? "";
      if (xpmName.startsWith("Papadopoulos")) {
        this.bulkQueue.set(gid, "failed");
        report.failures.push({
          groupId: gid,
          groupName: this.group(gid).name,
          message:
            'XPM refused client "Papadopoulos Super Fund": its business structure is missing. Set it in XPM, then sync the group again.',
        });
      } else {
        this.bulkQueue.set(gid, "done");
        this.lastPullAt.set(gid, now());
        report.groupsDone += 1;
        // The Nguyen group's pull finds a possible duplicate and a share class to decide, a
        // relationship waiting on them, and a keyword match to check.
        if (xpmName.startsWith("Nguyen")) {
          report.toReview.push({
            groupId: gid,
            groupName: this.group(gid).name,
            ready: 1,
            needsInput: 2,
            waiting: 1,
          });
        }
      }
      report.groupsLeft -= 1;
      this.bulkQueueUpdatedAt = now();
      progress(null);
      if (i === 0 && total > 1) {
        report.waits += 1;
        progress(20);
        if (this.bulkHold) await this.bulkHold;
      }
    }
    this.bulkRunning = false;
    // The same sentences as core::bulk::run's report.
    const review =
      report.toReview.length === 0
        ? ""
        : report.toReview.length === 1
          ? " 1 of them has pull items for you to review on its XPM tab."
          : ` ${report.toReview.length} of them have pull items for you to review on their XPM tabs.`;
    report.message =
      (report.outcome === "cancelled"
        ? `Stopped after ${count(report.groupsDone, "group")}; ${count(report.groupsLeft, "group")} stay queued. Sync again to carry on.`
        : report.failures.length > 0
          ? `Synced ${count(report.groupsDone, "group")}; ${count(report.failures.length, "group")} could not be synced (see each one's message): sync again after fixing it.`
          : `Synced ${count(report.groupsDone, "group")} with ${count(report.calls, "XPM call")}.`) +
      review;
    this.bulkLastStop = {
      reason: report.outcome === "cancelled" ? "cancelled" : "finished",
      at: now(),
      message: report.message,
    };
    return structuredClone(report);
  }

  xpmBulkCancel(): Promise<boolean> {
    return this.respond("xpmBulkCancel", [], () => {
      if (this.bulkRunning) this.bulkCancel = true;
      return this.bulkRunning;
    });
  }

  /**
   * Makes the next pulls wait after their first XPM call until the returned function is called,
   * so a test can see the progress bar and press Cancel.
   */
  holdPulls(): () => void {
    const [hold, release] = held(() => (this.pullHold = null));
    this.pullHold = hold;
    return release;
  }

  private payload(p: Partial<ReviewPayload> & { reason: string }): ReviewPayload {
    return {
      xpmUuid: null,
      name: null,
      businessStructure: null,
      kind: null,
      trustType: null,
      entityId: null,
      candidates: [],
      label: null,
      fromUuid: null,
      fromName: null,
      toUuid: null,
      toName: null,
      relationshipKind: null,
      relationshipId: null,
      ...p,
    };
  }

  /** Raises an item unless one for the same subject is already open (a re-pull keeps it). */
  private raise(groupId: number, kind: ReviewKind, subject: string, payload: ReviewPayload) {
    const open = this.reviewItems.find(
      (i) => i.groupId === groupId && i.kind === kind && i.subject === subject,
    );
    if (open) return;
    const needsInput = kind !== "keywordMatch";
    this.reviewItems.push({
      id: this.nextId++,
      groupId,
      kind,
      state: needsInput ? "needsInput" : "ready",
      subject,
      payload,
      decision: null,
      createdAt: new Date().toISOString(),
      resolvedAt: null,
    });
  }

  private reviewSummary(groupId: number) {
    const open = this.reviewItems.filter((i) => i.groupId === groupId && i.state !== "resolved");
    return {
      ready: open.filter((i) => i.state === "ready").length,
      needsInput: open.filter((i) => i.state === "needsInput").length,
      waiting: open.filter((i) => i.state === "waiting").length,
    };
  }

  /** Creates (or finds) the entity of a scripted XPM client and makes it a group member. */
  private importClient(
    groupId: number,
    c: MockPullClient,
    kind: EntityKind,
    trustType: TrustType | null,
    counts: PullCounts,
  ): number {
    const known = this.pulledClients.get(c.uuid);
    if (known !== undefined && this.entities.has(known)) return known;
    const input: EntityInput = {
      ...emptyInput(kind),
      name: c.name,
      trustType: kind === "trust" ? trustType : null,
      firstName: kind === "individual" ? (c.name.split(" ")[0] ?? null) : null,
      lastName: kind === "individual" ? (c.name.split(" ").slice(1).join(" ") ?? null) : null,
    };
    const stored = this.buildEntity(this.nextId++, input, null);
    this.entities.set(stored.id, stored);
    this.pulledClients.set(c.uuid, stored.id);
    counts.entitiesCreated++;
    const g = this.group(groupId);
    if (!g.members.has(stored.id)) {
      g.members.add(stored.id);
      counts.membersAdded++;
    }
    return stored.id;
  }

  /**
   * A scripted pull of any linked group (the simulator's "Osei" clients): the first pull reads
   * the member list and four clients (5 calls), imports the three it can map, raises a keyword
   * match (ready), an unknown "Sole Trader" structure and a shareholding's class (need input);
   * later pulls (3 calls) carry out the decisions made.
   */
  async xpmPull(
    groupId: number,
    full: boolean,
    onProgress: (progress: PullProgress) => void,
  ): Promise<PullReport> {
    await this.respond("xpmPull", [groupId, full], () => {
      this.gate();
      this.connected();
      if (!this.xpmLinks.has(groupId))
        fail(
          `The group "${this.group(groupId).name}" is not linked to an XPM group. Link it on the Import Groups page first.`,
        );
      if (this.runs.some((r) => r.groupId === groupId && r.status === "running"))
        fail(
          "This group is already being pulled. Wait for that pull to finish, or cancel it.",
          "conflict",
        );
      return null;
    });
    const first = full || !this.lastPullAt.has(groupId);
    const total = first ? 1 + MOCK_PULL_CLIENTS.length : 3;
    const run: SyncRun = {
      id: this.nextId++,
      groupId,
      tenantId: "mock-tenant",
      kind: "pull",
      status: "running",
      startedAt: new Date().toISOString(),
      finishedAt: null,
      calls: 0,
      summary: null,
      error: null,
    };
    this.runs.unshift(run);
    const finish = (status: SyncRun["status"], error: string | null) => {
      run.status = status;
      run.error = error;
      run.finishedAt = new Date().toISOString();
    };
    for (let done = 1; done <= total; done++) {
      if (this.cancelRequested.has(groupId)) {
        this.cancelRequested.delete(groupId);
        const message = "The pull was cancelled; nothing was changed.";
        finish("cancelled", message);
        fail(message);
      }
      run.calls = done;
      onProgress({
        phase: done === 1 ? "members" : "clients",
        done,
        total,
        etaSeconds: total - done,
      });
      if (done === 1 && this.pullHold) await this.pullHold;
      else await Promise.resolve();
    }
    if (this.cancelRequested.has(groupId)) {
      this.cancelRequested.delete(groupId);
      const message = "The pull was cancelled; nothing was changed.";
      finish("cancelled", message);
      fail(message);
    }
    onProgress({ phase: "applying", done: total, total, etaSeconds: 0 });

    const counts: PullCounts = {
      entitiesCreated: 0,
      entitiesUpdated: 0,
      entitiesLinked: 0,
      membersAdded: 0,
      membersRemoved: 0,
      relationshipsCreated: 0,
      relationshipsUpdated: 0,
      relationshipsDeleted: 0,
      reviewOpen: 0,
    };
    const now = new Date().toISOString();
    // Carry out the decisions made since the last pull.
    for (const item of this.reviewItems) {
      if (item.groupId !== groupId || item.state !== "ready" || !item.decision) continue;
      const d = item.decision;
      const client = MOCK_PULL_CLIENTS.find((c) => c.uuid === item.payload.xpmUuid);
      if (d.action === "setKind" && client) {
        this.importClient(groupId, client, d.kind, d.trustType, counts);
      } else if (d.action === "defer") {
        continue;
      }
      item.state = "resolved";
      item.resolvedAt = now;
    }
    for (const c of MOCK_PULL_CLIENTS) {
      const rule = this.structureRules.find(
        (r) => r.label.toLowerCase() === c.structure.toLowerCase(),
      );
      if (c.kind) {
        const isNew = !this.pulledClients.has(c.uuid);
        this.importClient(groupId, c, c.kind, c.trustType, counts);
        if (c.keyword && isNew)
          this.raise(
            groupId,
            "keywordMatch",
            `${c.name} (${c.structure})`,
            this.payload({
              xpmUuid: c.uuid,
              name: c.name,
              businessStructure: c.structure,
              kind: c.kind,
              trustType: c.trustType,
              reason: `The business structure "${c.structure}" was matched by its words to ${ENTITY_KIND_LABEL_MOCK[c.kind]}${c.trustType ? ` (${c.trustType})` : ""}. Confirm it, or change the entity's type.`,
            }),
          );
      } else if (rule) {
        this.importClient(groupId, c, rule.kind, rule.trustType, counts);
      } else if (!this.pulledClients.has(c.uuid)) {
        this.raise(
          groupId,
          "entityType",
          `${c.name} (${c.structure})`,
          this.payload({
            xpmUuid: c.uuid,
            name: c.name,
            businessStructure: c.structure,
            reason: `XPM's business structure "${c.structure}" is not a standard one. Choose the entity type to create it as.`,
          }),
        );
      }
    }
    // The scripted relationships, once both ends exist.
    for (const r of MOCK_PULL_RELATIONSHIPS) {
      const fromId = this.pulledClients.get(r.from);
      const toId = this.pulledClients.get(r.to);
      if (fromId === undefined || toId === undefined) continue;
      const exists = [...this.relationships.values()].some(
        (x) => x.fromId === fromId && x.toId === toId && x.kind === r.kind,
      );
      if (exists) continue;
      const id = this.nextId++;
      this.relationships.set(id, {
        id,
        kind: r.kind,
        fromId,
        toId,
        shares: r.shares,
        shareClass: null,
        percentage: null,
        startDate: null,
        endDate: null,
        label: null,
      });
      counts.relationshipsCreated++;
      if (r.kind === "shareholder")
        this.raise(
          groupId,
          "holdingClass",
          `${this.entity(fromId).name} → ${this.entity(toId).name}: share class`,
          this.payload({
            relationshipId: id,
            relationshipKind: r.kind,
            fromName: this.entity(fromId).name,
            toName: this.entity(toId).name,
            reason: "XPM has no share class. Enter the class of these shares, or keep it unset.",
          }),
        );
    }
    const review = this.reviewSummary(groupId);
    counts.reviewOpen = review.ready + review.needsInput + review.waiting;
    this.lastPullAt.set(groupId, now);
    run.summary = { ...counts };
    finish("succeeded", null);
    return structuredClone({
      runId: run.id,
      plan: {
        strategy: first ? "perClient" : "modifiedSince",
        members: MOCK_PULL_CLIENTS.length,
        membersRead: first ? MOCK_PULL_CLIENTS.length : 0,
        relatedRead: 0,
        calls: total,
      },
      counts,
      review,
    } satisfies PullReport);
  }

  private pushItems(groupId: number): PlanItem[] {
    if (!this.xpmLinks.has(groupId))
      fail("Link this group to an XPM group before pushing it.", "validation");
    return [...this.group(groupId).members].map((id) => {
      const e = this.entity(id);
      const created = this.xpmPushed.has(id);
      return {
        phase: "entities",
        subject: e.name,
        entityId: id,
        relationshipId: null,
        action: created ? "unchanged" : "create",
        changes: [],
        calls: created ? 0 : 1,
        note: null,
      };
    });
  }

  xpmPushPlan(groupId: number, options: PushOptions): Promise<PushPlan> {
    return this.respond("xpmPushPlan", [groupId, options], () => {
      const items = this.pushItems(groupId);
      const creates = items.filter((i) => i.action === "create").length;
      const calls = items.reduce((n, i) => n + i.calls, 0);
      return {
        groupId,
        items,
        creates,
        updates: 0,
        links: 0,
        unchanged: items.length - creates,
        skipped: 0,
        calls,
        maxCalls: calls,
        minutes: Math.ceil(calls / 60),
      };
    });
  }

  xpmPush(
    groupId: number,
    options: PushOptions,
    onProgress: (progress: PushProgress) => void,
  ): Promise<PushReport> {
    return this.respond("xpmPush", [groupId, options], () => {
      this.gate();
      this.connected();
      const items = this.pushItems(groupId);
      const todo = items.filter((i) => i.action === "create");
      todo.forEach((item, n) => {
        this.xpmPushed.add(item.entityId as number);
        onProgress({ phase: "entities", done: n + 1, total: todo.length, etaSeconds: 0 });
      });
      return {
        runId: this.nextId++,
        status: "succeeded",
        items: items.map((i) => ({
          phase: i.phase,
          subject: i.subject,
          entityId: i.entityId,
          relationshipId: null,
          action: i.action,
          outcome: "ok",
          message: null,
          changes: [],
        })),
        counts: {
          clientsCreated: todo.length,
          clientsAdopted: 0,
          clientsUpdated: 0,
          membersAdded: todo.length,
          relationshipsCreated: 0,
          relationshipsUpdated: 0,
          relationshipsReplaced: 0,
          unchanged: items.length - todo.length,
          failed: 0,
          skipped: 0,
        },
        calls: todo.length * 2,
        stopped: null,
      };
    });
  }

  // Reconciliation: a linked group shows three differences (a field both sides changed, a
  // relationship only here, a client only in XPM) until they are applied.
  private reconcileItems(groupId: number): ReconcileItem[] {
    if (!this.xpmLinks.has(groupId))
      fail("Link this group to an XPM group before reconciling it.", "validation");
    const done = this.reconciled.get(groupId) ?? new Set<string>();
    const g = this.group(groupId);
    const first = [...g.members].map((id) => this.entity(id))[0];
    const rel = this.relationshipsOf(g)[0];
    const base = {
      sgLabel: null,
      xpmLabel: null,
      entityId: null,
      relationshipId: null,
      xpmUuid: null,
      crossGroup: false,
      fields: [],
      candidates: [],
      decision: null,
      effective: null,
      status: "ready",
      needs: null,
      waitingOn: [],
      guarded: false,
      note: null,
      dependsOn: [],
    } satisfies Partial<ReconcileItem>;
    const items: ReconcileItem[] = [];
    if (first)
      items.push({
        ...base,
        id: `fields:${first.id}`,
        diffType: "ENTITY_FIELD_MISMATCH",
        category: "entityDetails",
        subject: first.name,
        entityId: first.id,
        fields: [
          {
            field: "BusinessNumber",
            sg: first.abn,
            xpm: "51 824 753 556",
            recommended: null,
            xpmAllowed: true,
          },
        ],
        actions: ["useSgValues", "useXpmValues", "ignore"],
        recommended: null,
      });
    if (rel)
      items.push({
        ...base,
        id: `rel-sg:${rel.id}`,
        diffType: "REL_ONLY_IN_SG",
        category: "relationships",
        subject: `${this.entity(rel.fromId).name} → ${this.entity(rel.toId).name}`,
        relationshipId: rel.id,
        actions: ["createInXpm", "deleteInSg", "ignore"],
        recommended: "createInXpm",
      });
    items.push({
      ...base,
      id: "client-xpm:mock-x1",
      diffType: "ENTITY_ONLY_IN_XPM",
      category: "entities",
      subject: "Xavier Quill",
      xpmLabel: "Xavier Quill (Individual)",
      xpmUuid: "mock-x1",
      actions: ["importToSg", "ignore", "deleteInXpm", "removeFromXpmGroup"],
      recommended: "importToSg",
    });
    return items.filter((i) => !done.has(i.id));
  }

  /** Fills in each item's decision, effective action and status, and the summary. */
  private reconcilePlan(
    groupId: number,
    items: ReconcileItem[],
    decisions: Map<string, ReconcileDecision | null>,
    generatedAt: string,
  ): ReconcilePreview {
    const planned = items.map((item) => {
      const decision = decisions.get(item.id) ?? null;
      const chosen = decision?.action ?? item.recommended;
      const guarded = chosen !== null && GUARDED.has(chosen);
      const fieldsDecided =
        item.fields.length === 0 ||
        (decision?.action ?? null) !== null ||
        item.fields.every(
          (f) => (decision?.fields[f.field] ?? null) !== null || f.recommended !== null,
        );
      const decided = item.diffType === "ENTITY_FIELD_MISMATCH" ? fieldsDecided : chosen !== null;
      const effective: Action | null = !decided
        ? null
        : guarded && !decision?.confirmed
          ? "ignore"
          : item.diffType === "ENTITY_FIELD_MISMATCH" && (decision?.action ?? null) === null
            ? "useSgValues"
            : chosen;
      return {
        ...item,
        decision,
        effective,
        guarded,
        status: decided ? ("ready" as const) : ("needsInput" as const),
        needs: decided ? null : "Choose StructureGram's or XPM's value for each field.",
      };
    });
    const count = (cat: ReconcileItem["category"]) =>
      planned.filter((i) => i.category === cat).length;
    const needsInput = planned.filter((i) => i.status === "needsInput").length;
    const unconfirmed = planned.filter((i) => i.guarded && !i.decision?.confirmed).length;
    const plan: ReconcilePreview = {
      groupId,
      groupName: this.group(groupId).name,
      xpmGroupUuid: this.xpmLinks.get(groupId)?.xpmUuid ?? "",
      generatedAt,
      items: planned,
      summary: {
        total: planned.length,
        ready: planned.length - needsInput,
        needsInput,
        waiting: 0,
        byCategory: {
          entities: count("entities"),
          entityDetails: count("entityDetails"),
          membership: count("membership"),
          relationships: count("relationships"),
        },
        caveats: planned.some((i) => i.guarded)
          ? [
              "This plan deletes or removes records: deletions are never automatic." +
                (unconfirmed ? ` ${unconfirmed} not confirmed will be ignored this round.` : ""),
            ]
          : [],
        readyToApply: needsInput === 0,
      },
      calls: 1 + this.group(groupId).members.size,
    };
    this.reconcilePlans.set(groupId, plan);
    return plan;
  }

  private savedDecisions(groupId: number): Map<string, ReconcileDecision | null> {
    return new Map(
      (this.reconcilePlans.get(groupId)?.items ?? []).map((i) => [i.id, i.decision] as const),
    );
  }

  xpmReconcilePreview(groupId: number): Promise<ReconcilePreview> {
    return this.respond("xpmReconcilePreview", [groupId], () => {
      this.gate();
      this.connected();
      const items = this.reconcileItems(groupId);
      return this.reconcilePlan(
        groupId,
        items,
        this.savedDecisions(groupId),
        new Date().toISOString(),
      );
    });
  }

  xpmReconcileCurrent(groupId: number): Promise<ReconcilePreview | null> {
    return this.respond("xpmReconcileCurrent", [groupId], () => {
      this.group(groupId);
      return this.reconcilePlans.get(groupId) ?? null;
    });
  }

  private replan(
    groupId: number,
    change: (decisions: Map<string, ReconcileDecision | null>, items: ReconcileItem[]) => void,
  ): ReconcilePreview {
    const plan = this.reconcilePlans.get(groupId);
    if (!plan) fail("Generate a preview first.", "validation");
    const decisions = this.savedDecisions(groupId);
    change(decisions, plan.items);
    return this.reconcilePlan(groupId, plan.items, decisions, plan.generatedAt);
  }

  xpmReconcileDecide(
    groupId: number,
    itemId: string,
    decision: ReconcileDecision | null,
  ): Promise<ReconcilePreview> {
    return this.respond("xpmReconcileDecide", [groupId, itemId, decision], () =>
      this.replan(groupId, (decisions, items) => {
        if (!items.some((i) => i.id === itemId))
          fail("This difference is no longer in the preview: generate a new one.", "notFound");
        decisions.set(itemId, decision);
      }),
    );
  }

  xpmReconcileHelper(groupId: number, helper: Helper): Promise<ReconcilePreview> {
    return this.respond("xpmReconcileHelper", [groupId, helper], () =>
      this.replan(groupId, (decisions, items) => {
        for (const item of items) {
          let pick: Action | null;
          if (helper === "acceptRecommendations") {
            // Only items without a decision take the recommendation.
            if (decisions.get(item.id)) continue;
            pick = item.recommended;
          } else if (item.diffType === "ENTITY_FIELD_MISMATCH") {
            pick = helper === "preferXpm" ? "useXpmValues" : "useSgValues";
          } else {
            // One-sided items: the preferred side's record is kept, the other side's ignored.
            const xpmSide = item.diffType === "ENTITY_ONLY_IN_XPM";
            pick = xpmSide === (helper === "preferXpm") ? item.recommended : "ignore";
          }
          if (pick) decisions.set(item.id, decision({ action: pick }));
        }
      }),
    );
  }

  xpmReconcileApply(
    groupId: number,
    onProgress: (progress: ApplyProgress) => void,
  ): Promise<ApplyReport> {
    return this.respond("xpmReconcileApply", [groupId], () => {
      this.gate();
      this.connected();
      const plan = this.reconcilePlans.get(groupId);
      if (!plan) fail("Generate a preview first.", "validation");
      if (!plan.summary.readyToApply)
        fail("Some differences still need your input: decide them, then apply.", "validation");
      const done = this.reconciled.get(groupId) ?? new Set<string>();
      const results = plan.items.map((item, n) => {
        onProgress({ phase: "entities", done: n + 1, total: plan.items.length });
        const action = item.effective;
        const applied = action !== null && action !== "ignore" && action !== "defer";
        if (applied) done.add(item.id);
        if (applied && item.entityId !== null) {
          const choice = item.decision?.fields.BusinessNumber;
          if (action === "useXpmValues" || choice === "useXpm")
            this.entity(item.entityId).abn = item.fields[0]?.xpm ?? null;
        }
        return {
          itemId: item.id,
          diffType: item.diffType,
          subject: item.subject,
          action,
          phase: "entities" as const,
          outcome: applied ? ("applied" as const) : ("ignored" as const),
          message: null,
        };
      });
      this.reconciled.set(groupId, done);
      // As core does: the plan keeps only what was not applied.
      this.reconcilePlan(
        groupId,
        plan.items.filter((i) => !done.has(i.id)),
        this.savedDecisions(groupId),
        plan.generatedAt,
      );
      const applied = results.filter((r) => r.outcome === "applied").length;
      return {
        groupId,
        results,
        counts: {
          applied,
          ignored: results.length - applied,
          deferred: 0,
          blocked: 0,
          failed: 0,
        },
        notInPreview: [],
        calls: applied + 1,
        stopped: null,
      };
    });
  }

  xpmPushCancel(groupId: number): Promise<null> {
    return this.respond("xpmPushCancel", [groupId], () => null);
  }

  xpmPullCancel(groupId: number): Promise<boolean> {
    return this.respond("xpmPullCancel", [groupId], () => {
      const running = this.runs.some((r) => r.groupId === groupId && r.status === "running");
      if (running) this.cancelRequested.add(groupId);
      return running;
    });
  }

  reviewList(groupId: number): Promise<ReviewList> {
    return this.respond("reviewList", [groupId], () => {
      this.group(groupId);
      return {
        items: this.reviewItems.filter((i) => i.groupId === groupId && i.state !== "resolved"),
        summary: this.reviewSummary(groupId),
      };
    });
  }

  reviewDecide(itemId: number, decision: Decision): Promise<ReviewItem> {
    return this.respond("reviewDecide", [itemId, decision], () => {
      const item = this.reviewItems.find((i) => i.id === itemId);
      if (!item) fail(`Review item ${itemId} does not exist.`, "notFound");
      if (item.state === "resolved")
        fail("This item is already resolved; pull again to see what is still open.", "conflict");
      const fits: Record<ReviewKind, Decision["action"][]> = {
        entityType: ["setKind"],
        keywordMatch: ["confirm"],
        duplicate: ["linkExisting", "createNew"],
        outsideClient: ["createNew"],
        memberRemoved: ["removeFromGroup", "keep"],
        holdingClass: ["setShareClass", "keep"],
        relationshipGone: ["deleteHere", "keep"],
        relationship: ["importAs"],
        invalidClient: [],
      };
      if (decision.action !== "defer" && !fits[item.kind].includes(decision.action))
        fail(`That choice does not fit this item (${item.subject}).`);
      const now = new Date().toISOString();
      const remember = (kind: EntityKind, trustType: TrustType | null) => {
        const label = item.payload.businessStructure ?? "";
        this.structureRules = this.structureRules.filter(
          (r) => r.label.toLowerCase() !== label.toLowerCase(),
        );
        this.structureRules.push({ id: this.nextId++, label, kind, trustType, createdAt: now });
      };
      if (decision.action === "setKind") {
        if (decision.kind === "trust" && decision.trustType === null)
          fail("Choose the trust type (Unspecified if unknown).");
        if (decision.kind !== "trust" && decision.trustType !== null)
          fail(`Only trusts have a trust type; a ${decision.kind} cannot.`);
        if (decision.rememberAsRule) remember(decision.kind, decision.trustType);
      }
      if (decision.action === "confirm" && decision.rememberAsRule && item.payload.kind)
        remember(item.payload.kind, item.payload.trustType);
      if (decision.action === "setShareClass") {
        const cls = decision.shareClass.trim();
        if (cls === "") fail("Enter the class (e.g. Ordinary), or keep it unset.");
        const rel = this.relationships.get(item.payload.relationshipId ?? -1);
        if (!rel) fail("The relationship of this item no longer exists.", "notFound");
        rel.shareClass = cls;
      }
      item.decision = decision;
      item.state = item.kind === "holdingClass" ? "resolved" : "ready";
      if (item.kind === "holdingClass") item.resolvedAt = now;
      return item;
    });
  }

  structureRulesList(): Promise<StructureRule[]> {
    return this.respond("structureRulesList", [], () =>
      [...this.structureRules].sort((a, b) => a.label.localeCompare(b.label)),
    );
  }

  structureRuleDelete(id: number): Promise<null> {
    return this.respond("structureRuleDelete", [id], () => {
      const before = this.structureRules.length;
      this.structureRules = this.structureRules.filter((r) => r.id !== id);
      if (this.structureRules.length === before)
        fail(`Mapping rule ${id} does not exist.`, "notFound");
      return null;
    });
  }

  syncRuns(groupId: number): Promise<SyncRun[]> {
    return this.respond("syncRuns", [groupId], () =>
      this.runs.filter((r) => r.groupId === groupId).slice(0, 20),
    );
  }
}

type MockPullClient = {
  uuid: string;
  name: string;
  structure: string;
  /** The mapped kind; null when the structure is unknown (needs input). */
  kind: EntityKind | null;
  trustType: TrustType | null;
  /** Mapped by keyword matching: flagged for review. */
  keyword: boolean;
};

const ENTITY_KIND_LABEL_MOCK: Record<EntityKind, string> = {
  individual: "an individual",
  company: "a company",
  trust: "a trust",
  partnership: "a partnership",
  smsf: "an SMSF",
};

/** The clients every linked XPM group holds in the mock. */
export const MOCK_PULL_CLIENTS: MockPullClient[] = [
  {
    uuid: "0000000c-0000-4000-8000-000000000001",
    name: "Osei Holdings Pty Ltd",
    structure: "Company",
    kind: "company",
    trustType: null,
    keyword: false,
  },
  {
    uuid: "0000000c-0000-4000-8000-000000000002",
    name: "Kwame Osei",
    structure: "Individual",
    kind: "individual",
    trustType: null,
    keyword: false,
  },
  {
    uuid: "0000000c-0000-4000-8000-000000000003",
    name: "Osei Family Trust",
    structure: "Discretionary Trust",
    kind: "trust",
    trustType: "discretionary",
    keyword: true,
  },
  {
    uuid: "0000000c-0000-4000-8000-000000000004",
    name: "Ama Osei",
    structure: "Sole Trader",
    kind: null,
    trustType: null,
    keyword: false,
  },
];

const MOCK_PULL_RELATIONSHIPS: {
  from: string;
  to: string;
  kind: RelationshipKind;
  shares: number | null;
}[] = [
  {
    from: "0000000c-0000-4000-8000-000000000002",
    to: "0000000c-0000-4000-8000-000000000001",
    kind: "director",
    shares: null,
  },
  {
    from: "0000000c-0000-4000-8000-000000000002",
    to: "0000000c-0000-4000-8000-000000000001",
    kind: "shareholder",
    shares: 100,
  },
  {
    from: "0000000c-0000-4000-8000-000000000004",
    to: "0000000c-0000-4000-8000-000000000003",
    kind: "beneficiary",
    shares: null,
  },
];

/** Builds a seed with `count` entities in one group, for load testing the diagram. */
export function largeSeed(count: number): MockSeed {
  const kinds: EntityKind[] = ["individual", "company", "trust", "partnership", "smsf"];
  const entities: MockSeed["entities"] = [];
  const relationships: MockSeed["relationships"] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length] ?? "company";
    entities.push(
      kind === "individual"
        ? { key: `k${i}`, kind, firstName: "Person", lastName: `${i}` }
        : {
            key: `k${i}`,
            kind,
            name: `Entity ${i}`,
            trustType: kind === "trust" ? "discretionary" : null,
          },
    );
    if (i > 0)
      relationships.push({ kind: "associate", from: `k${Math.floor((i - 1) / 3)}`, to: `k${i}` });
  }
  return {
    groups: [{ name: "Large Group", members: entities.map((e) => e.key) }],
    entities,
    relationships,
  };
}
