import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useBackend } from "../ipc/BackendProvider";
import type { EntityInput } from "../ipc/bindings/EntityInput";
import { invalidate, queryKeys } from "../queryKeys";

export function useEntities(groupId: number | null) {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.entities(groupId),
    queryFn: () => backend.listEntities(groupId),
  });
}

export function useSaveEntity() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (v: { id: number | null; input: EntityInput; groupIds: number[] }) =>
      v.id === null
        ? backend.createEntity(v.input, v.groupIds)
        : backend.updateEntity(v.id, v.input),
    onSuccess: () => invalidate.entityChanged(qc),
  });
}

export function useDeleteEntity() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => backend.deleteEntity(id),
    onSuccess: () => invalidate.entityChanged(qc),
  });
}
