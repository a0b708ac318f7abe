import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Set by `tauri dev` when the webview runs on another device (mobile); unset on the desktop.
const host = process.env.TAURI_DEV_HOST;

// Tauri loads the bundle from disk, so asset URLs are relative; everything is bundled (no CDNs,
// no external fonts) because the app must work offline. WebKitGTK wants an es2021 target.
export default defineConfig({
  base: "./",
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    // localhost only (as in Tauri's template), so the devUrl is http://localhost:1420.
    host: host || false,
    hmr: host ? { protocol: "ws", host, port: 1421 } : undefined,
  },
  build: {
    target: "es2021",
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 3000,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    // Generous: CI machines have two cores, shared with the Rust build.
    testTimeout: 30000,
  },
});
