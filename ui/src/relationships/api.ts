import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useBackend } from "../ipc/BackendProvider";
import type { RelationshipInput } from "../ipc/bindings/RelationshipInput";
import { invalidate, queryKeys } from "../queryKeys";

export function useRelationships(groupId: number) {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.relationships(groupId),
    queryFn: () => backend.listRelationships(groupId),
  });
}

export function useSaveRelationship() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { id: number | null; input: RelationshipInput }) =>
      v.id === null
        ? backend.createRelationship(v.input)
        : backend.updateRelationship(v.id, v.input),
    onSuccess: () => invalidate.relationshipChanged(qc),
  });
}

export function useDeleteRelationship() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => backend.deleteRelationship(id),
    onSuccess: () => invalidate.relationshipChanged(qc),
  });
}
