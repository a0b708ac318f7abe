import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useBackend } from "../ipc/BackendProvider";
import { invalidate, queryKeys } from "../queryKeys";

export function useGroups() {
  const backend = useBackend();
  return useQuery({ queryKey: queryKeys.groups, queryFn: () => backend.listGroups() });
}

export function useCreateGroup() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => backend.createGroup(name),
    onSuccess: () => invalidate.groupChanged(qc),
  });
}

export function useRenameGroup() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, name }: { id: number; name: string }) => backend.renameGroup(id, name),
    onSuccess: () => invalidate.groupChanged(qc),
  });
}

export function useDeleteGroup() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: number) => backend.deleteGroup(id),
    onSuccess: () => invalidate.groupChanged(qc),
  });
}

export function useSetGroupEntities() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ groupId, entityIds }: { groupId: number; entityIds: number[] }) =>
      backend.setGroupEntities(groupId, entityIds),
    onSuccess: (_data, { groupId }) => invalidate.membershipChanged(qc, groupId),
  });
}
