// The agents' inbox as an agent meets it: a person sends a request from the
// guide's answer; an agent of the service (invited with `locadocs user add`)
// finds it under « À traiter », opens it, takes it and writes to the person.
// Every screen is audited with axe-core, and fits a 390 px wide screen.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useServer, launchBrowser, auditAxe, pageOutline } from './harness.mjs';

const PUBLIC_URL = 'https://locadocs.example.gouv.fr';
const outbox = await mkdtemp(join(tmpdir(), 'locadocs-outbox-'));
const pieces = await mkdtemp(join(tmpdir(), 'locadocs-pieces-'));
after(() => Promise.all([rm(outbox, { recursive: true, force: true }), rm(pieces, { recursive: true, force: true })]));

const server = useServer({
  extraEnv: {
    LOCADOCS_INSECURE_COOKIES: '1',
    LOCADOCS_PUBLIC_URL: PUBLIC_URL,
    LOCADOCS_OUTBOX: outbox,
    LOCADOCS_SMTP_URL: '',
    LOCADOCS_ATTACHMENTS_DIR: pieces,
  },
});

const PASSWORD = 'une phrase de passe assez longue 42';
const AGENT = 'agent@droit-des-sols.example.fr';

async function clean(page, what) {
  const outline = await pageOutline(page);
  assert.equal(outline.lang, 'fr', what);
  assert.equal(outline.h1.length, 1, `${what}: exactly one h1, got ${JSON.stringify(outline.h1)}`);
  assert.deepEqual(await auditAxe(page), [], `${what}: accessibility violations`);
}

async function click(page, name) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  return response.status();
}

for (const width of [1280, 390]) {
  test(`an agent finds, takes and answers a request (${width} px)`, async () => {
    const context = await launchBrowser({ contextOptions: { viewport: { width, height: 900 } } });
    try {
      const page = await context.newPage();
      // The person's request.
      await page.goto(`${server.baseUrl}/g/immobilier?document_type=permis-de-construire&commune=35238&year=2016`);
      await page.getByRole('link', { name: /Faire une demande à ce service/ }).first().click();
      await page.waitForURL(/\/demande\/nouvelle/);
      await page.getByLabel('Adresse du bien').fill('12 rue de la Monnaie');
      await page.getByLabel('Vos nom et prénom').fill(`Marie Durand ${width}`);
      await page.getByLabel('Votre adresse électronique').fill(`marie.${width}@exemple.fr`);
      await page.getByLabel('Votre message').fill('Je cherche les plans de ma maison.');
      assert.equal(await click(page, 'Envoyer la demande'), 200);
      const reference = await page.locator('.reference').innerText();

      // The agent, invited from the command line, chooses a password and signs in.
      const email = `${width}.${AGENT}`;
      const out = await server.cli('user', 'add', '--role', 'contributor', '--service', 'rennes-metropole-droit-des-sols', '--territory', 'commune:35238', email);
      const link = out.match(/https?:\/\/\S+\/admin\/invitation\/\S+/)[0];
      await page.goto(server.baseUrl + link.slice(PUBLIC_URL.length));
      await page.locator('input[name="password"]').fill(PASSWORD);
      await page.locator('input[name="confirm"]').fill(PASSWORD);
      assert.equal(await click(page, 'Enregistrer le mot de passe'), 200);
      await context.clearCookies();
      await page.goto(`${server.baseUrl}/admin/login`);
      await page.locator('input[name="email"]').fill(email);
      await page.locator('input[name="password"]').fill(PASSWORD);
      assert.equal(await click(page, 'Se connecter'), 200);

      // The inbox: the request under « À traiter ».
      await page.getByRole('link', { name: 'Demandes', exact: true }).first().click();
      await page.waitForURL(/\/admin\/demandes/);
      await clean(page, 'inbox');
      assert.match(await page.locator('main').innerText(), /À traiter/);
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(fits, `the inbox fits ${width} px`);
      await page.getByRole('link', { name: reference }).click();
      await page.waitForURL(/\/admin\/demandes\/\d+$/);
      await clean(page, 'request page');
      assert.match(await page.locator('main').innerText(), /12 rue de la Monnaie/);
      assert.equal(await click(page, "Je m'en occupe"), 200);
      await page.getByLabel(/^Message/).fill('Bonjour, nous avons retrouvé le dossier.');
      assert.equal(await click(page, 'Envoyer au demandeur'), 200);
      await clean(page, 'request page after a message');
      assert.match(await page.locator('main').innerText(), /nous avons retrouvé le dossier/);
      const fitsToo = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(fitsToo, `the request page fits ${width} px`);
      if (width === 390) await page.screenshot({ path: join(tmpdir(), 'locadocs-inbox-390.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
}
