// Qualified requests as a person meets them: from the guide's answer to the
// request form, filled in and sent, with and without JavaScript, inside the
// widget's frame mode, with no accessibility violation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useServer, useBrowser, open, auditAxe, launchBrowser } from './harness.mjs';

const server = useServer({
  extraEnv: { LOCADOCS_ATTACHMENTS_DIR: mkdtempSync(join(tmpdir(), 'locadocs-pieces-')) },
});
const browser = useBrowser();

const ANSWER = '/g/immobilier?document_type=permis-de-construire&commune=35238&year=2016';

async function fillAndSend(page) {
  await page.getByLabel('Adresse du bien').fill('12 rue de la Monnaie');
  await page.getByLabel('Vos nom et prénom').fill('Marie Durand');
  await page.getByLabel('Votre adresse électronique').fill('marie.durand@exemple.fr');
  await page.getByLabel('Votre message').fill('Je cherche les plans de ma maison.');
  await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Envoyer la demande' }).click()]);
}

for (const embed of [false, true]) {
  test(`from the answer to a sent request${embed ? ' (widget)' : ''}`, async () => {
    const url = `${server.baseUrl}${ANSWER}${embed ? '&embed=1' : ''}`;
    const { page } = await open(browser.context, url);
    try {
      await page.getByRole('link', { name: /Faire une demande à ce service/ }).first().click();
      await page.waitForURL(/\/demande\/nouvelle/);
      assert.match(await page.locator('h1').innerText(), /Faire une demande à Rennes Métropole/);
      assert.equal(await page.getByLabel('Commune').inputValue(), 'Rennes (35238)');
      assert.deepEqual(await auditAxe(page), []);
      // Sent empty: errors listed, announced, each field marked.
      await page.getByLabel('Adresse du bien').fill('');
      await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Envoyer la demande' }).click()]);
      assert.equal(await page.getByRole('alert').count(), 1);
      assert.equal(await page.getByLabel('Adresse du bien').getAttribute('aria-invalid'), 'true');
      assert.deepEqual(await auditAxe(page), []);
      await fillAndSend(page);
      assert.match(await page.locator('h1').innerText(), /Votre demande est envoyée/);
      const reference = await page.locator('.reference').innerText();
      assert.match(reference, /^\d{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      assert.deepEqual(await auditAxe(page), []);
    } finally {
      await page.close();
    }
  });
}

test('the request form works without JavaScript', async () => {
  const context = await launchBrowser({ contextOptions: { javaScriptEnabled: false } });
  try {
    const { page } = await open(context, `${server.baseUrl}${ANSWER}`);
    await page.getByRole('link', { name: /Faire une demande à ce service/ }).first().click();
    await page.waitForURL(/\/demande\/nouvelle/);
    await fillAndSend(page);
    assert.match(await page.locator('h1').innerText(), /Votre demande est envoyée/);
  } finally {
    await context.close();
  }
});

test('the request form in English', async () => {
  const { page } = await open(browser.context, `${server.baseUrl}${ANSWER}&lang=en`);
  try {
    await page.getByRole('link', { name: /Send a request to this service/ }).first().click();
    await page.waitForURL(/\/demande\/nouvelle/);
    assert.match(await page.locator('h1').innerText(), /Send a request to Rennes Métropole/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.deepEqual(await auditAxe(page), []);
  } finally {
    await page.close();
  }
});
