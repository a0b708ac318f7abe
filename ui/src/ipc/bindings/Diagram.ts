import type { DiagramEdge } from "./DiagramEdge";
import type { DiagramNode } from "./DiagramNode";

export type Diagram = {
  groupId: number;
  groupName: string;
  asAt: string | null;
  nodes: Array<DiagramNode>;
  edges: Array<DiagramEdge>;
  /** Relationships outside the as-at window. */
  hiddenRelationships: number;
};
