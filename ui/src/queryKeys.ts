import type { QueryClient } from "@tanstack/react-query";
import type { AuthStatus } from "./ipc/bindings/AuthStatus";

/**
 * TanStack Query keys, one family per resource, and the invalidation rules that go with them.
 * Mutations call the `invalidate.*` helpers below; nothing else invalidates queries.
 */
export const queryKeys = {
  appInfo: ["appInfo"] as const,
  /** Who is signed in, the active organisation and the user's organisations. */
  auth: ["auth"] as const,
  /** The signed-in user's two-factor state. */
  mfa: ["mfa"] as const,
  /** All groups with counts. */
  groups: ["groups"] as const,
  /** Entities of one group; `null` = every entity (All Entities page). */
  entities: (groupId: number | null) => ["entities", groupId] as const,
  /** Relationships touching a group's members. */
  relationships: (groupId: number) => ["relationships", groupId] as const,
  /** Diagram of a group as at a date (`null` = no date filter). */
  diagram: (groupId: number, asAt: string | null) => ["diagram", groupId, asAt] as const,
  /** Account → Integrations: connection state, linked count, catalog time. */
  xeroOverview: ["xpm", "overview"] as const,
  /** The Xero settings (client id, ports, base URLs). */
  xeroSettings: ["xpm", "settings"] as const,
  /** The XPM group catalog as filtered. */
  catalog: (filter: { search: string | null; linked: boolean | null }) =>
    ["xpm", "catalog", filter.search, filter.linked] as const,
  /** A group's XPM link. */
  groupLink: (groupId: number) => ["xpm", "link", groupId] as const,
  /** A group's open pull review items and their summary. */
  review: (groupId: number) => ["xpm", "review", groupId] as const,
  /** A group's latest pulls. */
  syncRuns: (groupId: number) => ["xpm", "runs", groupId] as const,
  /** The organisation's saved business-structure rules. */
  structureRules: ["xpm", "rules"] as const,
  /** A group's reconciliation plan: the last preview with the saved decisions. */
  reconcile: (groupId: number) => ["xpm", "reconcile", groupId] as const,
  /** Sync the whole practice: the queue, the next run's plan, the last stop. */
  bulk: ["xpm", "bulk"] as const,
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
 * - Sign-in, sign-out, lock, organisation created or switched → everything but ['appInfo'] is
 *   dropped (the data belongs to another user or organisation) and ['auth'] is set from the reply.
 * - Two-factor enrolled / disabled / session verified → ['mfa'], ['auth'].
 * - A pull finished (or failed, or was cancelled) → everything under ['xpm'] (link's last pull,
 *   review, runs), and every data list: it creates entities, memberships and relationships.
 * - A review decision → ['xpm', 'review', groupId], ['xpm', 'rules'] ("remember as a rule"), and
 *   ['relationships'], ['diagram'] (a share class is set at once).
 * - A structure rule deleted → ['xpm', 'rules'].
 * - A whole-practice sync finished, stopped or failed → as a pull (it pulls many groups, and may
 *   link new ones), which covers ['xpm', 'bulk'].
 * - A reconciliation preview, decision or helper → ['xpm', 'reconcile', groupId] is set from the
 *   reply; an apply → as a pull (it changes entities, memberships and relationships).
 * Prefix keys are used deliberately: a change can show up in any group's lists.
 */
export const invalidate = {
  /** The user or organisation changed: forget every cached list, keep the new auth status. */
  sessionChanged: (qc: QueryClient, status: AuthStatus) => {
    qc.removeQueries({
      predicate: (q) =>
        q.queryKey[0] !== queryKeys.appInfo[0] && q.queryKey[0] !== queryKeys.auth[0],
    });
    qc.setQueryData(queryKeys.auth, status);
  },
  mfaChanged: (qc: QueryClient) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: queryKeys.mfa }),
      qc.invalidateQueries({ queryKey: queryKeys.auth }),
    ]),
  /** Connect, disconnect, discovery, link, unlink: everything under ['xpm'], and groups (a link
   * can create one). */
  xpmChanged: (qc: QueryClient) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: ["xpm"] }),
      qc.invalidateQueries({ queryKey: queryKeys.groups }),
    ]),
  pulled: (qc: QueryClient) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: ["xpm"] }),
      qc.invalidateQueries({ queryKey: queryKeys.groups }),
      qc.invalidateQueries({ queryKey: ["entities"] }),
      qc.invalidateQueries({ queryKey: ["relationships"] }),
      qc.invalidateQueries({ queryKey: ["diagram"] }),
    ]),
  reviewDecided: (qc: QueryClient, groupId: number) =>
    Promise.all([
      qc.invalidateQueries({ queryKey: queryKeys.review(groupId) }),
      qc.invalidateQueries({ queryKey: queryKeys.structureRules }),
      qc.invalidateQueries({ queryKey: ["relationships"] }),
      qc.invalidateQueries({ queryKey: ["diagram"] }),
    ]),
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
