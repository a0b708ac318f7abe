import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import "@xyflow/react/dist/style.css";
import "./app/global.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { AuthGate } from "./account/AuthGate";
import { AppShellLayout } from "./app/AppShellLayout";
import { Providers } from "./app/Providers";
import type { Backend } from "./ipc/backend";
import { largeSeed, MockBackend } from "./ipc/mockBackend";
import { createTauriBackend, isTauri } from "./ipc/tauriBackend";

// Inside Tauri talk to Rust; in a plain browser (npm run dev / preview) use the in-memory demo.
// `?seed=large` (or large=N) seeds one group with 300 (or N) entities to check diagram performance;
// `?seed=empty` starts with no data; `?auth=firstRun` (or signedOut) starts at that page.
function browserBackend(): Backend {
  const params = new URLSearchParams(window.location.search);
  const auth = params.get("auth");
  if (auth === "firstRun" || auth === "signedOut") return new MockBackend({ latencyMs: 150, auth });
  const seed = params.get("seed");
  if (seed === "large")
    return new MockBackend({ latencyMs: 150, seed: largeSeed(Number(params.get("n") ?? 300)) });
  if (seed === "empty")
    return new MockBackend({
      latencyMs: 150,
      seed: { groups: [], entities: [], relationships: [] },
    });
  return new MockBackend({ latencyMs: 150 });
}
const backend: Backend = isTauri() ? createTauriBackend() : browserBackend();
if (backend instanceof MockBackend) {
  // Lets a person (or a screenshot script) inspect the demo data and exported files.
  (window as unknown as { __structuregramMock?: MockBackend }).__structuregramMock = backend;
}

const root = document.getElementById("root");
if (!root) throw new Error("#root missing from index.html");
createRoot(root).render(
  <StrictMode>
    <Providers backend={backend}>
      <AuthGate>
        <AppShellLayout />
      </AuthGate>
    </Providers>
  </StrictMode>,
);
