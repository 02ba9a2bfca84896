// The pages that exist today (home, 404) and one API answer, through a real
// browser against a real server with the national communes and demo data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, useBrowser, open, auditAxe, pageOutline } from './harness.mjs';

const server = useServer();
const browser = useBrowser();

test('home page: French, titled, one h1, no accessibility violation', async () => {
  const { page, response } = await open(browser.context, `${server.baseUrl}/`);
  try {
    assert.equal(response.status(), 200);
    const outline = await pageOutline(page);
    assert.equal(outline.lang, 'fr');
    assert.match(outline.title, /Locadocs/);
    assert.equal(outline.h1.length, 1, `exactly one h1, got ${JSON.stringify(outline.h1)}`);
    assert.notEqual(outline.h1[0], '');
    assert.deepEqual(await auditAxe(page), []);
  } finally {
    await page.close();
  }
});

test('404 page: French, titled, one h1, no accessibility violation', async () => {
  const { page, response } = await open(browser.context, `${server.baseUrl}/nope`);
  try {
    assert.equal(response.status(), 404);
    const outline = await pageOutline(page);
    assert.equal(outline.lang, 'fr');
    assert.notEqual(outline.title, '');
    assert.equal(outline.h1.length, 1, `exactly one h1, got ${JSON.stringify(outline.h1)}`);
    assert.notEqual(outline.h1[0], '');
    // A way back for a person who followed a dead link.
    assert.ok((await page.locator('a[href="/"]').count()) >= 1, 'a link back to the home page');
    assert.deepEqual(await auditAxe(page), []);
  } finally {
    await page.close();
  }
});

test('locate API in the browser: Rennes 2015 building permits have two holders', async () => {
  const url = `${server.baseUrl}/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015`;
  const { page, response } = await open(browser.context, url);
  try {
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'], /^application\/json/);
    const body = await response.json();
    const holders = body.matches.map((m) => ({ name: m.service.name, from: m.from, to: m.to }));
    assert.equal(holders.length, 2, JSON.stringify(holders, null, 2));
    assert.match(holders[0].name, /Archives de Rennes/);
    assert.equal(holders[0].to, '2015-06-30');
    assert.match(holders[1].name, /Rennes Métropole/);
    assert.equal(holders[1].from, '2015-07-01');
  } finally {
    await page.close();
  }
});
