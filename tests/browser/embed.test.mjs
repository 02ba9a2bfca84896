// The widget as a webmaster uses it: a host page served from another origin
// (another port, or another host name) embeds a guide with one script tag.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, useBrowser, serveHostPage, auditAxe } from './harness.mjs';

const server = useServer();
const browser = useBrowser();

/** Records the widget's events on the host page, per widget container. */
const RECORDER = `<script>
window.__ev = [];
["ready", "step", "result", "resize"].forEach(function (n) {
  document.addEventListener("locadocs:" + n, function (e) {
    window.__ev.push({ type: n, detail: e.detail, widget: e.target.parentNode.id });
  });
});
</script>`;

function hostHtml(body, { recorder = true } = {}) {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Mairie de test</title></head>
<body><header><p>Site de la mairie</p></header><main><h1>Retrouver un document</h1>
${recorder ? RECORDER : ''}${body}</main></body></html>`;
}

function snippet(attrs) {
  return `<script src="${server.baseUrl}/embed.js" ${attrs} async></script>`;
}

/** Serves a host page; opens it; returns { page, host, close() }. */
async function openHost(html, { headers = {}, crossSite = false } = {}) {
  const host = await serveHostPage(html, 0, headers);
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(crossSite ? host.crossSiteUrl : host.url, { waitUntil: 'load' });
  return {
    page,
    host,
    errors,
    close: async () => {
      await page.close();
      await host.close();
    },
  };
}

/** The frame of the n-th widget, once it exists. */
async function widgetFrame(page, n = 0) {
  const iframe = page.locator('div.locadocs-widget > iframe').nth(n);
  await iframe.waitFor({ state: 'attached', timeout: 10_000 });
  const handle = await iframe.elementHandle();
  const frame = await handle.contentFrame();
  await frame.waitForLoadState('load');
  return { iframe, frame };
}

/** Waits until the widget shows `step` (its id in the guide). */
async function waitStep(frame, step) {
  await frame.waitForFunction((s) => document.getElementById('ld-state')?.dataset.step === s, step, {
    timeout: 10_000,
  });
}

/**
 * Waits until the iframe is exactly as tall as its content, and checks that
 * the content has no scrollbar of its own.
 */
async function assertFits(page, iframe, frame, label) {
  let last = null;
  const deadline = Date.now() + 5_000;
  for (;;) {
    const inner = await frame.evaluate(() => ({
      content: Math.ceil(document.documentElement.getBoundingClientRect().height),
      scroll: document.documentElement.scrollHeight,
      viewport: window.innerHeight,
    }));
    const outer = await iframe.evaluate((el) => el.getBoundingClientRect().height);
    last = { ...inner, outer };
    if (Math.abs(outer - inner.content) <= 1 && inner.scroll <= inner.viewport) return last;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${label}: iframe does not fit its content: ${JSON.stringify(last)}`);
}

async function continueIn(frame) {
  await frame.locator('main form button[type=submit]').first().click();
}

/** Answers the immobilier guide from its first step to the commune step. */
async function toCommune(page, iframe, frame) {
  await waitStep(frame, 'savoir');
  await assertFits(page, iframe, frame, 'first step');
  await frame.locator('input[name=savoir][value=non]').check();
  await continueIn(frame);
  await waitStep(frame, 'besoin');
  await assertFits(page, iframe, frame, 'multiple-choice step');
  await frame.locator('input[name=besoin][value=plans]').check();
  await continueIn(frame);
  await waitStep(frame, 'urbanisme');
  await assertFits(page, iframe, frame, 'info step');
  await continueIn(frame);
}

/** From the year step (reached from needs: « periode ») to the answer. */
async function dateToResult(page, iframe, frame) {
  await waitStep(frame, 'periode');
  await assertFits(page, iframe, frame, 'date step');
  await frame.locator('#annee').fill('2015');
  await continueIn(frame);
  await waitStep(frame, 'resultat');
  await assertFits(page, iframe, frame, 'result');
}

test('a host page on another origin: the guide appears, is completed to the answer, and always fits', { timeout: 120_000 }, async () => {
  const h = await openHost(hostHtml(`<div id="w1">${snippet('data-guide="immobilier"')}</div>`));
  try {
    const { iframe, frame } = await widgetFrame(h.page);
    assert.match(await iframe.getAttribute('title'), /Guide Locadocs|Locadocs/);
    assert.equal(await iframe.evaluate((el) => getComputedStyle(el).borderTopWidth), '0px');
    const widths = await iframe.evaluate((el) => [el.getBoundingClientRect().width, el.parentNode.getBoundingClientRect().width]);
    assert.equal(widths[0], widths[1], 'full width');
    await toCommune(h.page, iframe, frame);
    await waitStep(frame, 'commune');
    await assertFits(h.page, iframe, frame, 'commune step');
    await frame.locator('#commune-q').fill('Rennes');
    await frame.locator('[role=option]').first().waitFor({ timeout: 10_000 });
    // The open list makes the content taller: the frame follows.
    await assertFits(h.page, iframe, frame, 'commune list open');
    await frame.locator('#commune-q').press('ArrowDown');
    await frame.locator('#commune-q').press('Enter');
    await continueIn(frame);
    await dateToResult(h.page, iframe, frame);
    assert.match(await frame.locator('main').innerText(), /Archives de Rennes[\s\S]*Rennes Métropole/);
    // The iframe's title names what it shows.
    assert.match(await iframe.getAttribute('title'), /Immobilier|immobilier|document/i);

    const events = await h.page.evaluate(() => window.__ev);
    const types = events.map((e) => e.type);
    assert.equal(types.filter((t) => t === 'ready').length, 1, JSON.stringify(types));
    assert.deepEqual(
      events.filter((e) => e.type === 'step').map((e) => e.detail.step),
      ['savoir', 'besoin', 'urbanisme', 'commune', 'periode', 'resultat'],
    );
    const result = events.find((e) => e.type === 'result');
    assert.equal(result.detail.guide, 'immobilier');
    assert.equal(result.detail.documentType, 'permis-de-construire');
    assert.deepEqual(result.detail.holders, ['archives-rennes', 'rennes-metropole-droit-des-sols']);
    assert.equal(result.detail.commune, '35238');
    assert.ok(types.includes('resize'));
    assert.ok(events.every((e) => e.widget === 'w1'));

    // No cookie anywhere, and nothing broke on the host page.
    assert.deepEqual(await browser.context.cookies(), []);
    assert.deepEqual(h.errors, []);
    // Links leaving the guide open in a new tab rather than inside the frame.
    const targets = await frame.evaluate(() =>
      Array.from(document.querySelectorAll('main .card a[href^="http"]')).map((a) => a.target),
    );
    assert.ok(targets.length > 0 && targets.every((t) => t === '_blank'), JSON.stringify(targets));
    // The host page and its widget stay accessible together.
    assert.deepEqual(await auditAxe(h.page), []);
  } finally {
    await h.close();
  }
});

test('two widgets on one page work independently; a preset commune skips that step', { timeout: 120_000 }, async () => {
  const h = await openHost(
    hostHtml(
      `<div id="w1">${snippet('data-guide="immobilier"')}</div><p>Entre les deux</p>` +
        `<div id="w2">${snippet('data-guide="immobilier" data-commune="35238" data-theme="dsfr" data-lang="en"')}</div>`,
    ),
  );
  try {
    const a = await widgetFrame(h.page, 0);
    const b = await widgetFrame(h.page, 1);
    await waitStep(a.frame, 'savoir');
    await waitStep(b.frame, 'savoir');
    assert.equal(await b.frame.evaluate(() => document.documentElement.lang), 'en');
    // The second one goes ahead; the first stays where it was. With the
    // commune preset, the commune step never comes.
    await toCommune(h.page, b.iframe, b.frame);
    await dateToResult(h.page, b.iframe, b.frame);
    assert.equal(await a.frame.evaluate(() => document.getElementById('ld-state').dataset.step), 'savoir');
    await assertFits(h.page, a.iframe, a.frame, 'first widget, untouched');
    const steps = await h.page.evaluate(() => window.__ev.filter((e) => e.type === 'step').map((e) => `${e.widget}:${e.detail.step}`));
    assert.deepEqual(steps.filter((s) => s.startsWith('w1:')), ['w1:savoir']);
    assert.deepEqual(
      steps.filter((s) => s.startsWith('w2:')),
      ['w2:savoir', 'w2:besoin', 'w2:urbanisme', 'w2:periode', 'w2:resultat'],
      'no commune step with data-commune',
    );
    // « Start again » keeps the host's commune: still no commune step.
    assert.equal(await b.frame.getByRole('link', { name: 'Look for another municipality' }).count(), 1);
    await b.frame.getByRole('link', { name: 'Start again' }).first().click();
    await toCommune(h.page, b.iframe, b.frame);
    await dateToResult(h.page, b.iframe, b.frame);
    // A visitor from elsewhere changes it: the commune step comes back.
    await b.frame.getByRole('link', { name: 'Look for another municipality' }).click();
    await waitStep(b.frame, 'commune');
  } finally {
    await h.close();
  }
});

test('a host page with a strict CSP allowing only Locadocs for scripts and frames', { timeout: 60_000 }, async () => {
  const csp = `default-src 'none'; script-src ${server.baseUrl}; frame-src ${server.baseUrl}; style-src 'none'`;
  const h = await openHost(hostHtml(`<div id="w1">${snippet('data-guide="immobilier"')}</div>`, { recorder: false }), {
    headers: { 'content-security-policy': csp },
  });
  const violations = [];
  h.page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  try {
    const { iframe, frame } = await widgetFrame(h.page);
    await toCommune(h.page, iframe, frame);
    await waitStep(frame, 'commune');
    await assertFits(h.page, iframe, frame, 'commune step under strict CSP');
    assert.deepEqual(violations, []);
    assert.deepEqual(h.errors, []);
  } finally {
    await h.close();
  }
});

test('a forged message from the host page changes nothing', { timeout: 60_000 }, async () => {
  const h = await openHost(hostHtml(`<div id="w1">${snippet('data-guide="immobilier"')}</div>`));
  try {
    const { iframe, frame } = await widgetFrame(h.page);
    await waitStep(frame, 'savoir');
    const before = await assertFits(h.page, iframe, frame, 'first step');
    const count = await h.page.evaluate(() => window.__ev.length);
    await h.page.evaluate(() => {
      const forged = [
        { ld: 1, type: 'resize', height: 5000 },
        { ld: 1, type: 'step', step: 'resultat', title: 'x', height: 20, result: { documentTypes: ['x'], holders: ['y'] } },
      ];
      for (const m of forged) window.postMessage(m, '*');
      // Even sent to the frame itself, a host cannot make it report a step.
      const f = document.querySelector('iframe');
      f.contentWindow.postMessage({ ld: 1, type: 'step', height: 9000 }, '*');
    });
    await new Promise((r) => setTimeout(r, 500));
    const after = await assertFits(h.page, iframe, frame, 'after forged messages');
    assert.equal(after.outer, before.outer);
    assert.equal(await h.page.evaluate(() => window.__ev.length), count, 'no event from forged messages');
  } finally {
    await h.close();
  }
});

test('registered sites: framing restricted to their origins when they ask; open otherwise', { timeout: 60_000 }, async () => {
  const allowed = await serveHostPage('placeholder');
  const allowedOrigin = allowed.origin;
  await allowed.close();
  await server.cli('site', 'add', 'mairie-test', '--name', 'Mairie de test', '--origin', allowedOrigin, '--restrict-framing');
  // The running server sees the new site within its polling interval.
  for (let i = 0; i < 40; i++) {
    const r = await fetch(`${server.baseUrl}/g/immobilier?embed=1&site=mairie-test`);
    // Every page has a policy now: wait for the one naming the site's origin.
    if ((r.headers.get('content-security-policy') || '').includes(allowedOrigin)) break;
    await new Promise((ok) => setTimeout(ok, 100));
  }

  // From another origin than the registered one, the guide asked for with
  // the key is refused by the browser…
  const other = await openHost(hostHtml(`<div id="w1">${snippet('data-guide="immobilier" data-site="mairie-test"')}</div>`));
  try {
    const iframe = other.page.locator('iframe');
    await iframe.waitFor({ state: 'attached' });
    await new Promise((r) => setTimeout(r, 1000));
    const frame = await (await iframe.elementHandle()).contentFrame();
    const hasGuide = await frame.evaluate(() => !!document.getElementById('ld-state')).catch(() => false);
    assert.equal(hasGuide, false, 'the guide must not render in a frame of an unlisted origin');
    assert.equal(await other.page.evaluate(() => window.__ev.length), 0);
  } finally {
    await other.close();
  }
  // …while without a key, an unregistered origin may embed it (counted without a site).
  const open = await openHost(hostHtml(`<div id="w1">${snippet('data-guide="immobilier"')}</div>`), { crossSite: true });
  try {
    const { frame } = await widgetFrame(open.page);
    await waitStep(frame, 'savoir');
  } finally {
    await open.close();
  }
  // And the registered origin itself may embed it with its key.
  const port = Number(new URL(allowedOrigin).port);
  const own = await serveHostPage(hostHtml(`<div id="w1">${snippet('data-guide="immobilier" data-site="mairie-test"')}</div>`), port);
  const page = await browser.context.newPage();
  try {
    await page.goto(own.url);
    const { frame } = await widgetFrame(page);
    await waitStep(frame, 'savoir');
  } finally {
    await page.close();
    await own.close();
  }
});

test('/integrer builds the snippet and previews it, without and with JavaScript', { timeout: 60_000 }, async () => {
  const page = await browser.context.newPage();
  try {
    await page.goto(`${server.baseUrl}/integrer?guide=immobilier&commune=35238&theme=dsfr&color=%23aa3300&lang=fr`);
    const serverCode = await page.locator('#code').innerText();
    assert.match(serverCode, /data-guide="immobilier" data-commune="35238" data-theme="dsfr" data-color="#aa3300"/);
    // The preview is the real widget.
    const { frame } = await widgetFrame(page);
    await waitStep(frame, 'savoir');
    assert.deepEqual(await auditAxe(page, { exclude: ['#apercu'] }), []);
    // Changing the form rewrites the code and the preview at once.
    await page.locator('#lang-en').check();
    await page.waitForFunction(() => /data-lang="en"/.test(document.getElementById('code').textContent));
    const jsCode = await page.locator('#code').innerText();
    const { frame: f2 } = await widgetFrame(page);
    await waitStep(f2, 'savoir');
    assert.equal(await f2.evaluate(() => document.documentElement.lang), 'en');
    // The server writes the same code for the same choice.
    await page.goto(`${server.baseUrl}/integrer?guide=immobilier&commune=35238&theme=dsfr&color=%23aa3300&lang=en`);
    assert.equal(await page.locator('#code').innerText(), jsCode);
  } finally {
    await page.close();
  }
});

test('focus stays on the host page at first load; a new step brings the widget top into view', { timeout: 60_000 }, async () => {
  const html = hostHtml(
    `<label for="q">Recherche du site</label> <input id="q" autofocus>` +
      `<div id="w1">${snippet('data-guide="immobilier"')}</div><div style="height:2000px"></div>`,
  );
  const h = await openHost(html);
  try {
    await h.page.setViewportSize({ width: 800, height: 400 });
    const { iframe, frame } = await widgetFrame(h.page);
    await waitStep(frame, 'savoir');
    await h.page.waitForFunction(() => window.__ev.some((e) => e.type === 'ready'));
    assert.equal(await h.page.evaluate(() => document.activeElement.id), 'q', 'the host keeps its focus');
    assert.equal(await h.page.evaluate(() => window.scrollY), 0, 'the host page did not scroll');
    // The person scrolls down to the widget's buttons, past its top.
    await frame.locator('input[name=savoir][value=non]').check();
    await frame.locator('main form button[type=submit]').first().scrollIntoViewIfNeeded();
    assert.ok((await iframe.evaluate((el) => el.parentNode.getBoundingClientRect().top)) < 0, 'widget top is off-screen');
    await continueIn(frame);
    await waitStep(frame, 'besoin');
    await h.page.waitForFunction(() => {
      const top = document.querySelector('.locadocs-widget').getBoundingClientRect().top;
      return top >= -1 && top < window.innerHeight;
    });
  } finally {
    await h.close();
  }
});
