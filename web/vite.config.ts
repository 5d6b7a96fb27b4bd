// Builds the single-page app into web/dist, which `harrier server` serves. In development,
// `npm run dev` in web/ proxies the server's paths to a server on HARRIER_DEV_SERVER (default :8080).
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const server = process.env.HARRIER_DEV_SERVER ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { '@core': path.resolve(import.meta.dirname, '../core') } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The app is small; one chunk loads fastest on a CI server's LAN.
    chunkSizeWarningLimit: 400,
    reportCompressedSize: false,
  },
  server: {
    fs: { allow: ['..'] },
    proxy: Object.fromEntries(['/api', '/login', '/logout'].map((p) => [p, { target: server, changeOrigin: false }])),
  },
});
