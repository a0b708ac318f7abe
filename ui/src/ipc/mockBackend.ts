import type { Backend } from "./backend";
import type { AppInfo } from "./bindings/AppInfo";
import type { Diagram } from "./bindings/Diagram";
import type { DiagramEdge } from "./bindings/DiagramEdge";
import type { DiagramNode } from "./bindings/DiagramNode";
import type { Entity } from "./bindings/Entity";
import type { EntityInput } from "./bindings/EntityInput";
import type { EntityKind } from "./bindings/EntityKind";
import type { EntityStatus } from "./bindings/EntityStatus";
import type { GroupSummary } from "./bindings/GroupSummary";
import type { Relationship } from "./bindings/Relationship";
import type { RelationshipInput } from "./bindings/RelationshipInput";
import type { RelationshipKind } from "./bindings/RelationshipKind";
import { IpcError } from "./IpcError";

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

export type MockBackendOptions = {
  /** Artificial latency per call, to make loading states visible in the browser preview. */
  latencyMs?: number;
  seed?: MockSeed;
  demo?: boolean;
};

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

  constructor(options: MockBackendOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.demo = options.demo ?? true;
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
}

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
