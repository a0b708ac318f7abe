import type { RelationshipKind } from "./RelationshipKind";

export type DiagramEdge = {
  /** "r5" */
  id: string;
  relationshipId: number;
  source: string;
  target: string;
  kind: RelationshipKind;
  /** Already formatted by Rust, e.g. "Shareholder · 50 Ordinary (50%)". */
  label: string;
};
