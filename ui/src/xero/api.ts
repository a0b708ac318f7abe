import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { CatalogFilter } from "../ipc/bindings/CatalogFilter";
import { useBackend } from "../ipc/BackendProvider";
import { invalidate, queryKeys } from "../queryKeys";

/** Account → Integrations: the connection's state, linked count, catalog time. */
export function useXeroOverview() {
  const backend = useBackend();
  return useQuery({ queryKey: queryKeys.xeroOverview, queryFn: () => backend.xeroOverview() });
}

/** The cached XPM group catalog (no XPM call). */
export function useCatalog(filter: CatalogFilter) {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.catalog(filter),
    queryFn: () => backend.xpmCatalog(filter),
  });
}

/** The link shown on a group's XPM tab. */
export function useGroupLink(groupId: number) {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.groupLink(groupId),
    queryFn: () => backend.xpmGroupLink(groupId),
  });
}

/** Unlinking is not gated by an XPM call, so it is an ordinary mutation (still 2FA-checked). */
export function useInvalidateXpm() {
  const qc = useQueryClient();
  return () => invalidate.xpmChanged(qc);
}

export function useEstimate(groups: number, avgClients: number) {
  const backend = useBackend();
  return useQuery({
    queryKey: ["xpmEstimate", groups, avgClients],
    queryFn: () => backend.xpmEstimate(groups, avgClients),
    enabled: groups > 0,
  });
}

export function useSaveXeroSettings() {
  const backend = useBackend();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: backend.xeroSaveSettings.bind(backend),
    onSuccess: () => invalidate.xpmChanged(qc),
  });
}
