import type { EntityKind } from "./EntityKind";
import type { TrustType } from "./TrustType";

export type DiagramNode = {
  /** "e12" */
  id: string;
  entityId: number;
  label: string;
  kind: EntityKind;
  trustType: TrustType | null;
  subtitle: string | null;
  deceased: boolean;
};
