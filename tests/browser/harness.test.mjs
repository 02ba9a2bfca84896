// Checks of the harness itself, with no Locadocs server: the audit really
// finds violations (so an empty list means something), and the host page
// really is served from another origin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, auditAxe, serveHostPage } from './harness.mjs';

const browser = useBrowser();

test('auditAxe reports each violation with its rule, impact and element', async () => {
  const page = await browser.context.newPage();
  try {
    await page.setContent(
      '<!doctype html><html><head><title>t</title></head><body><main>' +
        '<img src="data:," id="no-alt"><p style="color:#777;background:#888">pâle</p>' +
        '</main></body></html>',
    );
    const lines = await auditAxe(page);
    assert.ok(lines.some((l) => l.startsWith('html-has-lang [serious]') && l.includes('html')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('image-alt [critical]') && l.includes('#no-alt')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('color-contrast [serious]')), lines.join('\n'));
    // Excluding an element leaves its violations out.
    const rest = await auditAxe(page, { exclude: ['#no-alt'] });
    assert.ok(!rest.some((l) => l.startsWith('image-alt')), rest.join('\n'));
  } finally {
    await page.close();
  }
});

test('serveHostPage serves the given HTML from its own origin', async () => {
  const host = await serveHostPage('<!doctype html><html lang="fr"><title>Hôte</title><h1>Site partenaire</h1>');
  const page = await browser.context.newPage();
  try {
    assert.match(host.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(host.port, 0);
    const response = await page.goto(host.url);
    assert.equal(response.status(), 200);
    assert.equal(await page.title(), 'Hôte');
    assert.equal(await page.evaluate(() => location.origin), host.origin);
    await page.goto(host.crossSiteUrl);
    assert.equal(await page.textContent('h1'), 'Site partenaire');
    assert.equal((await page.goto(`${host.origin}/other`)).status(), 404);
  } finally {
    await page.close();
    await host.close();
  }
});
