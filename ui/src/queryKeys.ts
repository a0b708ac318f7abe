import type { QueryClient } from "@tanstack/react-query";

/**
 * TanStack Query keys, one family per resource, and the invalidation rules that go with them.
 * Mutations call the `invalidate.*` helpers below; nothing else invalidates queries.
 */
export const queryKeys = {
  appInfo: ["appInfo"] as const,
  /** All groups with counts. */
  groups: ["groups"] as const,
  /** Entities of one group; `null` = every entity (All Entities page). */
  entities: (groupId: number | null) => ["entities", groupId] as const,
  /** Relationships touching a group's members. */
  relationships: (groupId: number) => ["relationships", groupId] as const,
  /** Diagram of a group as at a date (`null` = no date filter). */
  diagram: (groupId: number, asAt: string | null) => ["diagram", groupId, asAt] as const,
};

/**
 * Invalidation rules.
 * - Group created / renamed / deleted → ['groups'] (names, counts); rename and delete also
 *   change diagram titles and entities' groupIds → ['entities'], ['diagram'].
 * - Group membership set → ['groups'] (counts), ['entities'] (every list: groupIds change),
 *   ['relationships', groupId], ['diagram', groupId].
 * - Entity created / updated / deleted → ['entities'] (all lists), ['groups'] (counts),
 *   ['relationships'] (deleting cascades), ['diagram'] (labels, subtitles, nodes).
 * - Relationship created / updated / deleted → ['relationships'], ['diagram'], ['groups'] (counts).
 * Prefix keys are used deliberately: a change can show up in any group's lists.
 */
export const invalidate = {
  groupChanged: (qc: QueryClient) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: queryKeys.groups }),
      qc.invalidateQueries({ queryKey: ["entities"] }),
      qc.invalidateQueries({ queryKey: ["diagram"] }),
    ]),
  membershipChanged: (qc: QueryClient, groupId: number) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: queryKeys.groups }),
      qc.invalidateQueries({ queryKey: ["entities"] }),
      qc.invalidateQueries({ queryKey: queryKeys.relationships(groupId) }),
      qc.invalidateQueries({ queryKey: ["diagram", groupId] }),
    ]),
  entityChanged: (qc: QueryClient) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: ["entities"] }),
      qc.invalidateQueries({ queryKey: queryKeys.groups }),
      qc.invalidateQueries({ queryKey: ["relationships"] }),
      qc.invalidateQueries({ queryKey: ["diagram"] }),
    ]),
  relationshipChanged: (qc: QueryClient) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: ["relationships"] }),
      qc.invalidateQueries({ queryKey: ["diagram"] }),
      qc.invalidateQueries({ queryKey: queryKeys.groups }),
    ]),
};
