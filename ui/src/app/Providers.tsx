import { MantineProvider, Modal, createTheme } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { Notifications } from "@mantine/notifications";
import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import type { Backend } from "../ipc/backend";
import { BackendProvider } from "../ipc/BackendProvider";
import { IpcError } from "../ipc/IpcError";
import { queryKeys } from "../queryKeys";

const theme = createTheme({
  primaryColor: "indigo",
  // System fonts only: the app must work offline.
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif',
  defaultRadius: "sm",
  // Under vitest, transitions are switched off so that dialogs and menus open and close at once.
  components:
    import.meta.env.MODE === "test"
      ? {
          Modal: Modal.extend({ defaultProps: { transitionProps: { duration: 0 } } }),
        }
      : {},
});

export function createQueryClient() {
  const client: QueryClient = new QueryClient({
    // A query refused with `signedOut` (the app was locked elsewhere, say) re-reads who is signed
    // in, which brings up the sign-in page.
    queryCache: new QueryCache({
      onError: (error) => {
        if (IpcError.from(error).code === "signedOut")
          void client.invalidateQueries({ queryKey: queryKeys.auth });
      },
    }),
    defaultOptions: {
      queries: { retry: false, refetchOnWindowFocus: false, staleTime: 5_000 },
      mutations: { retry: false },
    },
  });
  return client;
}

export function Providers({
  backend,
  children,
  queryClient,
}: {
  backend: Backend;
  children: ReactNode;
  queryClient?: QueryClient;
}) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  return (
    <MantineProvider theme={theme}>
      <Notifications position="bottom-right" />
      <BackendProvider backend={backend}>
        <QueryClientProvider client={client}>
          <ModalsProvider>{children}</ModalsProvider>
        </QueryClientProvider>
      </BackendProvider>
    </MantineProvider>
  );
}
