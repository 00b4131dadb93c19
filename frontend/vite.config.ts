/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build lands in Django's static dir; flows/spa.py reads the manifest to find the entry files.
export default defineConfig(({ command }) => ({
  plugins: [react()],
  // Built files are served by Django under /static/build/; the dev server serves from the root.
  base: command === "build" ? "/static/build/" : "/",
  build: {
    outDir: "../static/build",
    emptyOutDir: true,
    manifest: true,
    rollupOptions: { input: "src/main.tsx" },
    // elkjs (auto-layout, ~1.5 MB) is its own chunk, loaded on the first "Organizar" only.
    chunkSizeWarningLimit: 1500,
  },
  server: {
    port: 5173,
    // During `npm run dev`, API and websocket calls go to a local Django (uvicorn) server.
    proxy: {
      "/api": "http://127.0.0.1:8310",
      "/ws": { target: "ws://127.0.0.1:8310", ws: true },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
}));
