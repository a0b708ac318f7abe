import type { RelationshipKind } from "./RelationshipKind";

export type RelationshipInput = {
  kind: RelationshipKind;
  fromId: number;
  toId: number;
  shares: number | null;
  shareClass: string | null;
  percentage: number | null;
  startDate: string | null;
  endDate: string | null;
  label: string | null;
};
