import type { Action } from "./bindings/Action";
import type { ReconcileDecision } from "./bindings/ReconcileDecision";

/**
 * Destructive reconciliation actions: never a default, confirmed one by one, else ignored this
 * round (core `reconcile::Action::guarded`, product-spec §8.12).
 */
export const GUARDED: ReadonlySet<Action> = new Set<Action>([
  "deleteInSg",
  "deleteInXpm",
  "removeFromXpmGroup",
  "removeFromSgGroup",
]);

/** A decision with every optional part empty, then `parts` on top. */
export function decision(parts: Partial<ReconcileDecision>): ReconcileDecision {
  return {
    action: null,
    confirmed: false,
    fields: {},
    entityId: null,
    kind: null,
    trustType: null,
    rememberRule: false,
    relationshipKind: null,
    ...parts,
  };
}
