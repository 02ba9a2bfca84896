// The public statistics page and the misdirection question of the answer
// page, in a real browser: axe-core finds nothing on a desktop and a 390 px
// wide screen, in light and dark colour schemes and both themes; the
// question works with one click, with and without JavaScript.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, useBrowser, launchBrowser, open, auditAxe, pageOutline } from './harness.mjs';

const server = useServer();
const browser = useBrowser();

for (const width of [1280, 390]) {
  for (const colorScheme of ['light', 'dark']) {
    for (const theme of ['', '?theme=dsfr']) {
      test(`/stats${theme} at ${width} px, ${colorScheme}: one h1, tables with captions, no violation, no overflow`, async () => {
        const { page, response } = await open(browser.context, `${server.baseUrl}/stats${theme}`);
        try {
          await page.setViewportSize({ width, height: 900 });
          await page.emulateMedia({ colorScheme });
          assert.equal(response.status(), 200);
          const outline = await pageOutline(page);
          assert.equal(outline.lang, 'fr');
          assert.deepEqual(outline.h1, ['Statistiques']);
          const tables = await page.locator('table').count();
          assert.ok(tables >= 2, `${tables} tables`);
          assert.equal(await page.locator('table caption').count(), tables);
          assert.ok((await page.locator('footer a[href="/stats"]').count()) === 1, 'linked from the footer');
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
          assert.deepEqual(await auditAxe(page), []);
        } finally {
          await page.close();
        }
      });
    }
  }
}

const ANSWER = '/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015';

// axe-core runs in the page, so only with JavaScript; the page audited is the same.
async function answerOnce(context, label, { audit = true } = {}) {
  const { page, response } = await open(context, `${server.baseUrl}${ANSWER}`);
  try {
    assert.equal(response.status(), 200);
    await page.getByRole('group', { name: 'Sans ce guide, à qui vous seriez-vous adressé ?' }).waitFor();
    if (audit) assert.deepEqual(await auditAxe(page), []);
    await Promise.all([
      page.waitForURL(/orientation=merci/),
      page.getByRole('button', { name: 'Les archives municipales' }).click(),
    ]);
    const status = page.locator('[role=status]', { hasText: 'Merci, votre réponse est enregistrée.' });
    assert.equal(await status.count(), 1, `${label}: the thanks are announced`);
    // Back on the same answer.
    assert.match(page.url(), /document_type=permis-de-construire&commune=35238&year=2015/);
    assert.equal(await page.getByRole('button', { name: 'La mairie' }).count(), 0);
    if (audit) assert.deepEqual(await auditAxe(page), []);
  } finally {
    await page.close();
  }
}

test('the misdirection question: one click, with JavaScript', async () => {
  await answerOnce(browser.context, 'with JavaScript');
});

test('the misdirection question: one click, without JavaScript', async () => {
  const context = await launchBrowser({ contextOptions: { javaScriptEnabled: false } });
  try {
    await answerOnce(context, 'without JavaScript', { audit: false });
  } finally {
    await context.close();
  }
});
