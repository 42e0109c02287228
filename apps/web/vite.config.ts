import react from '@vitejs/plugin-react';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin, type Rollup } from 'vite';

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

/**
 * A signed-in visit (a token is kept) fetches the shell and, on `/` or `/inbox`, the inbox page beside the entry
 * instead of after the entry has run and asked for them: the first screen most people open waits for one
 * round of downloads, not three. Visitors without a token (the sign-in page) fetch none of it.
 */
function preloadFirstScreen(): Plugin {
  const CHUNKS = { shell: 'src/app/SignedIn.tsx', inbox: 'src/features/inbox/InboxPage.tsx' };
  const chunks = (bundle: Rollup.OutputBundle) => Object.values(bundle).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
  /** A chunk and every chunk it imports statically, as URLs. */
  const files = (bundle: Rollup.OutputBundle, chunk: Rollup.OutputChunk | undefined, seen = new Set<string>()): string[] => {
    const walk = (c: Rollup.OutputChunk | undefined) => {
      if (!c || seen.has(c.fileName)) return;
      seen.add(c.fileName);
      for (const name of c.imports) walk(bundle[name] as Rollup.OutputChunk);
    };
    walk(chunk);
    return [...seen].map((f) => `/${f}`);
  };
  return {
    name: 'preload-first-screen',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, { bundle }) {
        if (!bundle) return html;
        const facade = (path: string) => chunks(bundle).find((c) => c.facadeModuleId?.endsWith(path));
        const known = new Set(files(bundle, chunks(bundle).find((c) => c.isEntry)));
        const shell = files(bundle, facade(CHUNKS.shell)).filter((f) => !known.has(f));
        const inbox = files(bundle, facade(CHUNKS.inbox)).filter((f) => !known.has(f) && !shell.includes(f));
        const code = `(function(){try{if(!localStorage.getItem('sop.accessToken'))return}catch(e){return}`
          + `var p=location.pathname,f=${JSON.stringify(shell)};if(p==='/'||p==='/inbox')f=f.concat(${JSON.stringify(inbox)});`
          + `f.forEach(function(h){var l=document.createElement('link');l.rel='modulepreload';l.href=h;document.head.appendChild(l)})})()`;
        return [{ tag: 'script', children: code, injectTo: 'head-prepend' }];
      },
    },
  };
}

// `npm run dev` serves the console with hot reload and sends API calls to `npm start`'s API.
const api = process.env.API_URL ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react(), precompress(), preloadFirstScreen()],
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
