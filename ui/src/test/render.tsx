import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { createQueryClient, Providers } from "../app/Providers";
import type { Backend } from "../ipc/backend";

/** Renders UI with the real providers and an injected backend (usually a MockBackend). */
export function renderWithBackend(ui: ReactNode, backend: Backend) {
  const queryClient = createQueryClient();
  return {
    queryClient,
    ...render(
      <Providers backend={backend} queryClient={queryClient}>
        {ui}
      </Providers>,
    ),
  };
}
