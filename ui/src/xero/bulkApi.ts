import { useQuery } from "@tanstack/react-query";
import { useBackend } from "../ipc/BackendProvider";
import { queryKeys } from "../queryKeys";

/**
 * *Sync the whole practice*: the queue of the organisation's XPM practice, the next run's plan,
 * whether a run is going and how the last one stopped (`null` before the first connection).
 * No XPM call. Polled while a run is going in another window or an earlier page visit, so the
 * card notices when it ends.
 */
export function useBulkStatus() {
  const backend = useBackend();
  return useQuery({
    queryKey: queryKeys.bulk,
    queryFn: () => backend.xpmBulkStatus(),
    refetchInterval: (q) => (q.state.data?.running ? 5_000 : false),
  });
}
