import react from '@vitejs/plugin-react';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

/** Writes .br and .gz beside each built asset once, so the API sends them compressed without compressing per request. */
function precompress(): Plugin {
  return {
    name: 'precompress',
    apply: 'build',
    closeBundle() {
      const dir = join(import.meta.dirname, 'dist/assets');
      for (const file of readdirSync(dir).filter((f) => /\.(js|css|svg)$/.test(f))) {
        const body = readFileSync(join(dir, file));
        writeFileSync(join(dir, `${file}.gz`), gzipSync(body, { level: 9 }));
        writeFileSync(join(dir, `${file}.br`), brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

// `npm run dev` serves the console with hot reload and sends API calls to `npm start`'s API.
const api = process.env.API_URL ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react(), precompress()],
  // Browser-safe modules of the domain library (the SOP definition's schema), shared with the API as they are.
  resolve: { alias: { '@sop/domain/': `${join(import.meta.dirname, '../../libs/domain/src')}/` } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // Vendor code in a few long-lived chunks, so a release that only changes our pages keeps the browser cache.
        manualChunks(id: string) {
          if (!id.includes('node_modules')) return undefined;
          if (/node_modules\/(echarts|zrender)\//.test(id)) return 'charts';
          if (/node_modules\/zod\//.test(id)) return 'zod';
          if (/node_modules\/(react|react-dom|scheduler|react-router)\//.test(id)) return 'react';
          return undefined;
        },
      },
    },
  },
  server: {
    port: 5173,
    proxy: Object.fromEntries(['/api', '/r', '/docs', '/docs-json', '/health'].map((p) => [p, { target: api, changeOrigin: false }])),
  },
});
