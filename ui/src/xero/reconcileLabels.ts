import type { Action } from "../ipc/bindings/Action";
import type { ApplyOutcome } from "../ipc/bindings/ApplyOutcome";
import type { ApplyPhase } from "../ipc/bindings/ApplyPhase";
import type { DiffType } from "../ipc/bindings/DiffType";
import type { ItemStatus } from "../ipc/bindings/ItemStatus";

/** The twelve difference types (product-spec §8.12) in the reviewer's words. */
export const DIFF_TYPE_LABEL: Record<DiffType, string> = {
  ENTITY_ONLY_IN_SG: "Only in StructureGram",
  ENTITY_ONLY_IN_XPM: "Only in XPM",
  ENTITY_FIELD_MISMATCH: "Details differ",
  ENTITY_TYPE_UNRESOLVED: "Entity type unknown",
  POSSIBLE_DUPLICATE: "Possible duplicate",
  STALE_MAPPING: "Stale mapping",
  MEMBERSHIP_ONLY_IN_SG: "Member only here",
  MEMBERSHIP_ONLY_IN_XPM: "Member only in XPM",
  REL_ONLY_IN_SG: "Relationship only here",
  REL_ONLY_IN_XPM: "Relationship only in XPM",
  REL_ATTR_MISMATCH: "Relationship details differ",
  REL_NEEDS_POLICY: "Relationship needs a decision",
};

/** Each action as a choice in the item's list. */
export const ACTION_LABEL: Record<Action, string> = {
  createInXpm: "Create in XPM",
  importToSg: "Import into StructureGram",
  linkToSg: "Link to an existing entity",
  addToXpmGroup: "Add to the XPM group",
  addToSgGroup: "Add to this group",
  useSgValues: "Use StructureGram's values (update XPM)",
  useXpmValues: "Use XPM's values (update StructureGram)",
  chooseType: "Choose the entity type, then import",
  clearMapping: "Clear the mapping",
  defer: "Defer",
  ignore: "Ignore this round",
  deleteInSg: "Delete in StructureGram",
  deleteInXpm: "Delete in XPM",
  removeFromXpmGroup: "Remove from the XPM group",
  removeFromSgGroup: "Remove from this group",
};

export const STATUS: Record<ItemStatus, { label: string; color: string }> = {
  ready: { label: "Ready to apply", color: "green" },
  needsInput: { label: "Needs your input", color: "orange" },
  waiting: { label: "Waiting on other changes", color: "gray" },
};

export const OUTCOME: Record<ApplyOutcome, { label: string; color: string }> = {
  applied: { label: "Applied", color: "green" },
  ignored: { label: "Ignored", color: "gray" },
  deferred: { label: "Deferred", color: "blue" },
  blocked: { label: "Blocked", color: "orange" },
  failed: { label: "Failed", color: "red" },
};

export const PHASE_LABEL: Record<ApplyPhase, string> = {
  mappings: "Mappings",
  entities: "Entities",
  entityDetails: "Entity details",
  membership: "Membership",
  crossGroup: "Entities of other groups",
  relationships: "Relationships",
  removals: "Removals",
};

/** XPM element names of the compared fields, in the product's words. */
const FIELD_LABEL: Record<string, string> = {
  Name: "Name",
  FirstName: "First name",
  LastName: "Last name",
  BusinessNumber: "ABN",
  TaxNumber: "TFN",
  CompanyNumber: "ACN",
  DateOfBirth: "Date of birth",
  Email: "Email",
  Phone: "Phone",
  Address: "Address",
  PostalAddress: "Postal address",
  BusinessStructure: "Business structure",
};

export function fieldLabel(field: string): string {
  return FIELD_LABEL[field] ?? field;
}
