// Shared harness of the browser tests: a real `locadocs` server over a fresh
// SQLite database with the real communes and the demo data, Debian's
// Chromium driven by playwright-core, and axe-core accessibility audits.
//
// It builds nothing: `make test` builds the debug binary first; set
// LOCADOCS_BIN to test another one (e.g. target/release/locadocs).

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const execFileP = promisify(execFile);

/** The repository root, whatever the working directory. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The day every test runs on, so that legal delays and rolling bounds are stable. */
export const TODAY = '2026-11-23';

const BIN = resolve(ROOT, process.env.LOCADOCS_BIN || 'target/debug/locadocs');
const COG_DIR = join(ROOT, 'node_modules/@etalab/decoupage-administratif/data');
const AXE_PATH = join(ROOT, 'node_modules/axe-core/axe.min.js');
const CHROMIUM = process.env.LOCADOCS_CHROMIUM || '/usr/bin/chromium';

/** The accessibility rules checked: WCAG 2.1 levels A and AA (what RGAA builds on). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Asks the system for a free TCP port on 127.0.0.1 by binding port 0. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createNetServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a server over a fresh database: imports the communes, loads the
 * demo data, serves on a free port and waits for /healthz.
 * Returns { baseUrl, port, dir, env, stop(), logs() }.
 */
export async function startServer({ today = TODAY, extraEnv = {} } = {}) {
  if (!existsSync(BIN)) {
    throw new Error(`${BIN} is missing: build it with \`cargo build -p locadocs\` (make test does), or set LOCADOCS_BIN`);
  }
  if (!existsSync(COG_DIR)) {
    throw new Error(`${COG_DIR} is missing: run ./scripts/setup.sh (npm ci --ignore-scripts)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'locadocs-browser-'));
  const env = {
    ...process.env,
    LOCADOCS_TODAY: today,
    LOCADOCS_LOG: process.env.LOCADOCS_LOG || 'warn',
    ...extraEnv,
  };
  // Take the URL from the command line only, never from the caller's environment.
  delete env.LOCADOCS_DATABASE_URL;
  delete env.LOCADOCS_BIND;
  const db = ['--database-url', `sqlite://${join(dir, 't.db')}`];
  const run = async (...args) => {
    try {
      const { stdout } = await execFileP(BIN, [...db, ...args], { env, cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (e) {
      throw new Error(`locadocs ${args.join(' ')} failed (${e.code}):\n${e.stdout}\n${e.stderr}`);
    }
  };
  try {
    await run('import', 'communes', COG_DIR);
    await run('demo');
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(BIN, [...db, 'serve', '--bind', `127.0.0.1:${port}`], {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = null;
  const exit = new Promise((r) => child.on('exit', (code, signal) => r((exited = { code, signal }))));

  const stop = async () => {
    if (exited === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) {
      await stop();
      throw new Error(`locadocs serve exited (${JSON.stringify(exited)}) before answering:\n${output}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`locadocs serve did not answer /healthz within 30 s:\n${output}`);
    }
    await sleep(50);
  }
  // `cli('site', 'add', …)` runs the command line on this server's database
  // and resolves to what it printed; `db` is the SQLite file.
  return { baseUrl, port, dir, db: join(dir, 't.db'), env, stop, logs: () => output, cli: run };
}

/**
 * A resource for the current test file: started in `before`, released in
 * `after`. When one `before` hook fails, Node 20's runner runs the `after`
 * hooks without waiting for the other `before` hooks still in flight; so
 * `after` waits for a start in progress, and a start that ends after the
 * release releases at once: no server or browser is left running.
 */
function useResource(start, release, timeout) {
  let starting = null;
  let released = false;
  let releasing = null;
  const releaseOnce = (value) => (releasing ??= release(value));
  before(async () => {
    starting = start();
    const value = await starting;
    if (released) await releaseOnce(value);
  }, { timeout });
  after(async () => {
    released = true;
    if (starting === null) return;
    const value = await starting.catch(() => null);
    if (value !== null) await releaseOnce(value);
  }, { timeout });
}

/**
 * Starts one server for the current test file (in `before`) and stops it
 * in `after`. Returns an object whose `baseUrl`, `port`, `logs()` are set
 * once started.
 */
export function useServer(options) {
  const handle = { baseUrl: null, port: null, db: null, logs: () => '', cli: null };
  useResource(
    async () => Object.assign(handle, await startServer(options)),
    (h) => h.stop(),
    120_000,
  );
  return handle;
}

/** The Chromium flags that work on a machine without a network or a GPU. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Debian's headless Chromium with a fresh, empty profile.
 * Returns a playwright BrowserContext (it has newPage()); close() also
 * removes the profile.
 */
export async function launchBrowser({ contextOptions = {} } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run ./scripts/setup.sh (apt-get install chromium)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'locadocs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: 'fr-FR',
    ...contextOptions,
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    await rm(profile, { recursive: true, force: true });
  };
  return context;
}

/**
 * Launches one browser for the current test file (in `before`) and closes
 * it in `after`. Returns an object whose `context` is set once launched.
 */
export function useBrowser(options) {
  const handle = { context: null };
  useResource(
    async () => (handle.context = await launchBrowser(options)),
    (context) => context.close(),
    60_000,
  );
  return handle;
}

/**
 * Runs axe-core (WCAG 2.1 A and AA rules) on the page.
 * `exclude`: CSS selectors to leave out (e.g. a host page around an embed).
 * Returns the violations as readable lines, one per failing element:
 *   "color-contrast [serious] Elements must meet minimum color contrast ratio thresholds: main > p > a — <html…>"
 * so that `assert.deepEqual(await auditAxe(page), [])` says exactly what is wrong.
 */
export async function auditAxe(page, { exclude = [] } = {}) {
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  // Evaluated through the DevTools protocol rather than added as an inline
  // <script>: the pages' Content-Security-Policy forbids inline scripts, and
  // must not be weakened for the audit.
  if (!loaded) await page.evaluate(`${readFileSync(AXE_PATH, 'utf8')}\n;true`);
  const results = await page.evaluate(
    async ({ tags, exclude }) => {
      const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
      const r = await window.axe.run(context, { runOnly: { type: 'tag', values: tags } });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({
          target: n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' | '),
          html: n.html,
          summary: n.failureSummary,
        })),
      }));
    },
    { tags: AXE_TAGS, exclude },
  );
  return formatViolations(results);
}

/** One line per failing element, stable and readable in an assertion diff. */
export function formatViolations(violations) {
  const lines = [];
  for (const v of violations) {
    for (const n of v.nodes) {
      const html = n.html.length > 160 ? `${n.html.slice(0, 157)}...` : n.html;
      const why = (n.summary || '').replace(/\s+/g, ' ').trim();
      lines.push(`${v.id} [${v.impact}] ${v.help}: ${n.target} — ${html}${why ? ` — ${why}` : ''}`);
    }
  }
  return lines;
}

/**
 * Serves `html` at "/" from another origin than the server under test
 * (127.0.0.1 on another port), for testing the embed as a host site would.
 * `headers` are added to its response (e.g. a Content-Security-Policy).
 * Other paths answer 404. Returns { url, origin, port, crossSiteUrl, close() }:
 * `url` is another origin on the same site (cookies still count as
 * first-party); `crossSiteUrl` names the host "localhost", another site, as
 * a real partner site would be.
 */
export async function serveHostPage(html, port = 0, headers = {}) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://host').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(html);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found');
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const actual = server.address().port;
  const origin = `http://127.0.0.1:${actual}`;
  return {
    url: `${origin}/`,
    origin,
    crossSiteUrl: `http://localhost:${actual}/`,
    port: actual,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

/** Opens `url` in a new page; returns { page, response }. */
export async function open(context, url) {
  const page = await context.newPage();
  const response = await page.goto(url, { waitUntil: 'load' });
  return { page, response };
}

/** The basic structure every page must have: lang="fr", a title, exactly one h1. */
export async function pageOutline(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.getAttribute('lang'),
    title: document.title.trim(),
    h1: Array.from(document.querySelectorAll('h1')).map((h) => h.textContent.trim()),
  }));
}
