import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Tauri loads the bundle from disk, so asset URLs are relative; everything is bundled (no CDNs,
// no external fonts) because the app must work offline. WebKitGTK wants an es2021 target.
export default defineConfig({
  base: "./",
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: "127.0.0.1",
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
    testTimeout: 15000,
  },
});
