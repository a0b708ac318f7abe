import type { AppInfo } from "./bindings/AppInfo";
import type { Diagram } from "./bindings/Diagram";
import type { Entity } from "./bindings/Entity";
import type { EntityInput } from "./bindings/EntityInput";
import type { GroupSummary } from "./bindings/GroupSummary";
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
}
