import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Decision } from "../ipc/bindings/Decision";
import { useBackend } from "../ipc/BackendProvider";
import { invalidate, queryKeys } from "../queryKeys";

/** A group's open review items with the ready / needs input / waiting counts. */
export function useReviewList(groupId: number) {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.review(groupId),
    queryFn: () => backend.reviewList(groupId),
  });
}

/** Records a decision on a review item. */
export function useDecide(groupId: number) {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ itemId, decision }: { itemId: number; decision: Decision }) =>
      backend.reviewDecide(itemId, decision),
    onSuccess: () => invalidate.reviewDecided(qc, groupId),
  });
}

/** A group's latest pulls, newest first. */
export function useSyncRuns(groupId: number) {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.syncRuns(groupId),
    queryFn: () => backend.syncRuns(groupId),
  });
}

/** The organisation's saved business-structure rules. */
export function useStructureRules() {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.structureRules,
    queryFn: () => backend.structureRulesList(),
  });
}

export function useDeleteStructureRule() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => backend.structureRuleDelete(id),
    onSuccess: () => qc.invalidateQueries({ queryKey: queryKeys.structureRules }),
  });
}
