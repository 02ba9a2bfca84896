// Audience measurement in a real browser: the same guide run records exactly
// the same raw events with and without JavaScript, and inside the widget of
// a host page (plus the host's origin); a click on a holder's website is
// sent as a beacon. Events are read from the server's SQLite file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useServer, useBrowser, serveHostPage } from './harness.mjs';

const execFileP = promisify(execFile);
const server = useServer();
const browser = useBrowser();
const nojs = useBrowser({ contextOptions: { javaScriptEnabled: false } });

/** The raw events of one run, oldest first, once `count` of them are written. */
async function eventsOf(run, count) {
  const deadline = Date.now() + 10_000;
  let rows = [];
  for (;;) {
    const { stdout } = await execFileP('sqlite3', [
      '-json',
      server.db,
      `SELECT kind, step, value, document_type, holders, origin, site FROM analytics_events WHERE run = '${run.replace(/[^A-Za-z0-9_-]/g, '')}' ORDER BY id`,
    ]);
    rows = stdout.trim() ? JSON.parse(stdout) : [];
    if (rows.length >= count || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // The writer runs every 500 ms: anything extra would be there by now.
  await new Promise((r) => setTimeout(r, 1200));
  const { stdout } = await execFileP('sqlite3', [
    '-json',
    server.db,
    `SELECT kind, step, value, document_type, holders, origin, site FROM analytics_events WHERE run = '${run.replace(/[^A-Za-z0-9_-]/g, '')}' ORDER BY id`,
  ]);
  rows = stdout.trim() ? JSON.parse(stdout) : [];
  return rows.map((r) => [r.kind, r.step, r.value, r.document_type, r.holders, r.origin].join('|'));
}

const e = (kind, step = '', value = '', doc = '', holders = '', origin = '') =>
  [kind, step, value, doc, holders, origin].join('|');

/** savoir = oui, then « Un autre document »: a dead end. */
const DEAD_END_RUN = [
  e('run_started'),
  e('step_shown', 'savoir'),
  e('choice', 'savoir', 'oui'),
  e('step_shown', 'document'),
  e('choice', 'document', 'autre'),
  e('step_shown', 'autre-document'),
  e('dead_end', 'autre-document'),
];

async function runOf(frame) {
  return frame.locator('main input[name=run]').first().inputValue();
}

async function waitStep(frame, step) {
  await frame.waitForFunction((s) => document.getElementById('ld-state')?.dataset.step === s, step, {
    timeout: 10_000,
  });
}

async function walkToDeadEnd(frame) {
  await frame.locator('input[name=savoir][value=oui]').check();
  await frame.locator('main form button[type=submit]').first().click();
  await waitStep(frame, 'document');
  await frame.locator('input[name=document][value=autre]').check();
  await frame.locator('main form button[type=submit]').first().click();
  await waitStep(frame, 'autre-document');
}

for (const [name, handle] of [['without JavaScript', nojs], ['with guide.js', browser]]) {
  test(`a guide run records exactly its events (${name})`, { timeout: 60_000 }, async () => {
    const page = await handle.context.newPage();
    await page.goto(`${server.baseUrl}/g/immobilier`);
    const run = await runOf(page);
    assert.match(run, /^[A-Za-z0-9_-]{38}$/);
    await walkToDeadEnd(page);
    assert.equal(await runOf(page), run);
    // The address carries the run (pushState with guide.js, a GET without).
    assert.match(page.url(), new RegExp(`run=${run}`));
    assert.deepEqual(await eventsOf(run, DEAD_END_RUN.length), DEAD_END_RUN);
    await page.close();
  });
}

test('a click on a holder\'s website is a beacon (with guide.js)', { timeout: 60_000 }, async () => {
  const context = browser.context;
  await context.route('https://www.archives.rennes.fr/**', (r) =>
    r.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' }),
  );
  const page = await context.newPage();
  await page.goto(`${server.baseUrl}/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015`);
  const run = await runOf(page);
  const expected = [
    e('run_started'),
    e('step_shown', 'resultat'),
    e('answer_shown', 'resultat', '', 'permis-de-construire', 'archives-rennes rennes-metropole-droit-des-sols'),
  ];
  assert.deepEqual(await eventsOf(run, expected.length), expected);
  await page.locator('.card[data-service=archives-rennes] dl.contact a[href^="http"]').click();
  expected.push(e('link_clicked', 'resultat', 'website', 'permis-de-construire', 'archives-rennes'));
  assert.deepEqual(await eventsOf(run, expected.length), expected);
  await page.close();
  await context.unroute('https://www.archives.rennes.fr/**');
});

test('inside the widget: the same events, and the host page\'s origin', { timeout: 60_000 }, async () => {
  const host = await serveHostPage(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Mairie</title></head>
<body><main><h1>Documents</h1><script src="${server.baseUrl}/embed.js" data-guide="immobilier" async></script></main></body></html>`);
  const page = await browser.context.newPage();
  await page.goto(host.url);
  const iframe = page.locator('div.locadocs-widget > iframe');
  await iframe.waitFor({ state: 'attached', timeout: 10_000 });
  const frame = await (await iframe.elementHandle()).contentFrame();
  await frame.waitForLoadState('load');
  await waitStep(frame, 'savoir');
  const run = await runOf(frame);
  const shown = [e('run_started'), e('step_shown', 'savoir'), e('widget_shown', 'savoir', '', '', '', host.origin)];
  assert.deepEqual(await eventsOf(run, shown.length), shown);
  await walkToDeadEnd(frame);
  assert.deepEqual(await eventsOf(run, 9), [...shown, ...DEAD_END_RUN.slice(2)]);
  await page.close();
  await host.close();
});
