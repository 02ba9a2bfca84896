// Widget weight and speed, in a real browser: a host page on another origin
// embeds the immobilier guide; for each theme, with an empty cache, reports
// the size of embed.js (gzip, as transferred), everything transferred until
// the guide's first step is visible inside the host page, and the time from
// the host page's start to that moment (median of several runs).
//
//   node bench/embed.mjs            (uses target/release/locadocs if built, else LOCADOCS_BIN)
//   LOCADOCS_BIN=target/debug/locadocs node bench/embed.mjs
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { resolve } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
if (!process.env.LOCADOCS_BIN && existsSync(resolve(ROOT, 'target/release/locadocs'))) {
  process.env.LOCADOCS_BIN = 'target/release/locadocs';
}
const { startServer, launchBrowser, serveHostPage } = await import('../tests/browser/harness.mjs');

const RUNS = Number(process.env.BENCH_EMBED_RUNS || 7);
const server = await startServer();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

try {
  const js = await (await fetch(`${server.baseUrl}/embed.js`)).text();
  console.log(`embed.js: ${js.length} B raw, ${gzipSync(js, { level: 9 }).length} B gzip -9 (target <= 2048 B gzip)`);

  for (const theme of ['neutral', 'dsfr']) {
    const attrs = theme === 'dsfr' ? 'data-guide="immobilier" data-theme="dsfr"' : 'data-guide="immobilier"';
    const html = `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Hôte</title></head><body>
<h1>Site hôte</h1><script>document.addEventListener("locadocs:ready", function () { window.__ready = performance.now(); });</script>
<script src="${server.baseUrl}/embed.js" ${attrs} async></script></body></html>`;
    const host = await serveHostPage(html);
    const times = [];
    let detail = null;
    for (let i = 0; i < RUNS; i++) {
      // A new profile each time: nothing cached.
      const context = await launchBrowser();
      const page = await context.newPage();
      const requests = [];
      page.on('requestfinished', async (req) => {
        const sizes = await req.sizes().catch(() => null);
        requests.push({ url: req.url(), sizes });
      });
      await page.goto(host.url, { waitUntil: 'commit' });
      await page.waitForFunction(() => typeof window.__ready === 'number', null, { timeout: 30_000 });
      times.push(await page.evaluate(() => window.__ready));
      await page.waitForTimeout(300);
      if (i === 0) detail = requests.slice();
      await context.close();
    }
    await host.close();
    const own = detail.filter((r) => r.url.startsWith(server.baseUrl));
    const body = (r) => r.sizes?.responseBodySize ?? 0;
    const headers = (r) => r.sizes?.responseHeadersSize ?? 0;
    const total = own.reduce((s, r) => s + body(r), 0);
    const withHeaders = own.reduce((s, r) => s + body(r) + headers(r), 0);
    console.log(`\n== theme ${theme} ==`);
    for (const r of own) {
      console.log(`  ${String(body(r)).padStart(7)} B  ${r.url.replace(server.baseUrl, '')}`);
    }
    const fonts = own.filter((r) => /Marianne/.test(r.url));
    if (fonts.length) {
      console.log(`  Marianne: ${fonts.length} file(s), ${kb(fonts.reduce((s, r) => s + body(r), 0))} (${fonts.map((r) => r.url.split('/').pop()).join(', ')})`);
    }
    console.log(`  transferred until the first step is visible: ${total} B = ${kb(total)} gzip bodies, ${kb(withHeaders)} with headers` +
      (theme === 'neutral' ? ' (target <= 30 KB)' : ''));
    console.log(`  host page start -> first step visible: median ${median(times).toFixed(0)} ms over ${RUNS} cold runs (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
  }
} finally {
  await server.stop();
}
