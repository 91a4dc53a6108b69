/// <reference types="vitest/config" />
import { defineConfig, type ProxyOptions } from 'vite';
import react from '@vitejs/plugin-react';

// The Python backend (`make run`) listens here in development.
const backend = process.env.BACKEND_URL ?? 'http://127.0.0.1:8080';
const wsBackend = backend.replace(/^http/, 'ws');

// The backend only accepts WebSocket upgrades and writes from allowed origins;
// present the backend's own origin so the dev/preview server needs no extra config.
const proxy: Record<string, ProxyOptions> = {
  '/api': {
    target: backend,
    changeOrigin: true,
    configure: (p) => {
      p.on('proxyReq', (proxyReq) => {
        if (proxyReq.getHeader('origin')) proxyReq.setHeader('origin', backend);
      });
    },
  },
  '/ws': {
    target: wsBackend,
    ws: true,
    changeOrigin: true,
    configure: (p) => {
      p.on('proxyReqWs', (proxyReq) => proxyReq.setHeader('origin', backend));
    },
  },
};

export default defineConfig({
  plugins: [react()],
  server: { host: '127.0.0.1', port: 5173, proxy },
  preview: { host: '127.0.0.1', port: 4173, proxy },
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 700 },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    pool: 'threads',
    maxWorkers: 2,
    css: false,
  },
});
