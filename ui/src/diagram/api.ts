import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useBackend } from "../ipc/BackendProvider";
import { queryKeys } from "../queryKeys";

/** The group's diagram as at `asAt`; keeps showing the previous diagram while a new one loads. */
export function useDiagram(groupId: number, asAt: string | null) {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.diagram(groupId, asAt),
    queryFn: () => backend.getDiagram(groupId, asAt),
    placeholderData: keepPreviousData,
  });
}
