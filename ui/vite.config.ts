/// <reference types="vitest/config" />
// Vite builds the UI into ui/dist, which Tauri embeds (tauri.conf.json
// `frontendDist`); `npm run dev` serves it at the `devUrl` Tauri opens.
import { defineConfig } from 'vite';

export default defineConfig({
  clearScreen: false,
  server: {
    host: '127.0.0.1',
    port: 1420,
    strictPort: true,
    // The translations live in the repository's locales/ folder, above ui/.
    fs: { allow: ['..'] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['src/testSetup.ts'],
  },
});
