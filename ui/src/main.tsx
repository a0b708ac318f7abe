import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import "@xyflow/react/dist/style.css";
import "./app/global.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { AppShellLayout } from "./app/AppShellLayout";
import { Providers } from "./app/Providers";
import type { Backend } from "./ipc/backend";
import { MockBackend } from "./ipc/mockBackend";
import { createTauriBackend, isTauri } from "./ipc/tauriBackend";

// Inside Tauri talk to Rust; in a plain browser (npm run dev / preview) use the in-memory demo.
const backend: Backend = isTauri() ? createTauriBackend() : new MockBackend({ latencyMs: 150 });

const root = document.getElementById("root");
if (!root) throw new Error("#root missing from index.html");
createRoot(root).render(
  <StrictMode>
    <Providers backend={backend}>
      <AppShellLayout />
    </Providers>
  </StrictMode>,
);
