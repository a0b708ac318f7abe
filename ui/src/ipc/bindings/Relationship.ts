import type { RelationshipKind } from "./RelationshipKind";

export type Relationship = {
  id: number;
  kind: RelationshipKind;
  fromId: number;
  toId: number;
  shares: number | null;
  shareClass: string | null;
  percentage: number | null;
  startDate: string | null;
  endDate: string | null;
  /** Free label, used by "custom". */
  label: string | null;
};
