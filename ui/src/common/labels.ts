import type { EntityKind } from "../ipc/bindings/EntityKind";
import type { EntityStatus } from "../ipc/bindings/EntityStatus";
import type { RelationshipKind } from "../ipc/bindings/RelationshipKind";
import type { TrustType } from "../ipc/bindings/TrustType";

export const ENTITY_KINDS: EntityKind[] = ["individual", "company", "trust", "partnership", "smsf"];

export const ENTITY_KIND_LABEL: Record<EntityKind, string> = {
  individual: "Individual",
  company: "Company",
  trust: "Trust",
  partnership: "Partnership",
  smsf: "SMSF",
};

export const TRUST_TYPE_LABEL: Record<TrustType, string> = {
  discretionary: "Discretionary",
  unit: "Unit",
  hybrid: "Hybrid",
  testamentary: "Testamentary",
  bareNominee: "Bare / nominee",
  specialDisability: "Special disability",
  privateAncillaryFund: "Private ancillary fund",
  charitable: "Charitable",
  deceasedEstate: "Deceased estate",
  unspecified: "Unspecified",
};

/** Alphabetical by label, with Unspecified last. */
export const TRUST_TYPES_SORTED: TrustType[] = [
  ...(Object.keys(TRUST_TYPE_LABEL) as TrustType[])
    .filter((t) => t !== "unspecified")
    .sort((a, b) => TRUST_TYPE_LABEL[a].localeCompare(TRUST_TYPE_LABEL[b])),
  "unspecified",
];

export const ENTITY_STATUS_LABEL: Record<EntityStatus, string> = {
  active: "Active",
  passive: "Passive",
  dormant: "Dormant",
  vested: "Vested",
  dissolved: "Dissolved",
  proposed: "Proposed",
  archived: "Archived",
};

export const RELATIONSHIP_KIND_LABEL: Record<RelationshipKind, string> = {
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
  smsfMember: "SMSF member",
  spouse: "Spouse",
  parent: "Parent",
  child: "Child",
  publicOfficer: "Public officer",
  auditor: "Auditor",
  associate: "Associate",
  owner: "Owner",
  custom: "Custom",
};

export const KIND_COLOR: Record<EntityKind, string> = {
  individual: "teal",
  company: "blue",
  trust: "grape",
  partnership: "orange",
  smsf: "cyan",
};

/** YYYY-MM-DD that is a real calendar date. */
export function isValidIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Today's local date as YYYY-MM-DD. */
export function todayIso(): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
