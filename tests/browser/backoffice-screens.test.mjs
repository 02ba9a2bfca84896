// Back-office screens that used to need a file or the command line, as an
// editor meets them, by clicks and plain forms (the back office's only script
// suggests names while typing; everything works without it): creating a
// service, registering an embedding site, writing a rule by names and years. Each page is audited with axe-core at
// 1280 and 390 px. Screenshots go to $LOCADOCS_SCREENSHOTS (default: the
// system's temporary directory).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useServer, launchBrowser, auditAxe } from './harness.mjs';

const PUBLIC_URL = 'https://locadocs.example.gouv.fr';
const outbox = await mkdtemp(join(tmpdir(), 'locadocs-outbox-'));
after(() => rm(outbox, { recursive: true, force: true }));
const SHOTS = process.env.LOCADOCS_SCREENSHOTS || tmpdir();

const server = useServer({
  extraEnv: {
    LOCADOCS_INSECURE_COOKIES: '1',
    LOCADOCS_PUBLIC_URL: PUBLIC_URL,
    LOCADOCS_OUTBOX: outbox,
    LOCADOCS_SMTP_URL: '',
  },
});

const PASSWORD = 'une phrase de passe assez longue 42';

async function click(page, name) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  return response.status();
}

async function clean(page, what) {
  const violations = await auditAxe(page);
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 1)}`);
}

async function signInEditor(page, email) {
  const out = await server.cli('user', 'add', '--role', 'editor', email);
  const link = out.match(/https?:\/\/\S+\/admin\/invitation\/\S+/)[0];
  await page.goto(server.baseUrl + link.slice(PUBLIC_URL.length));
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('input[name="confirm"]').fill(PASSWORD);
  assert.equal(await click(page, 'Enregistrer le mot de passe'), 200);
  await page.context().clearCookies();
  await page.goto(`${server.baseUrl}/admin/login`);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(PASSWORD);
  assert.equal(await click(page, 'Se connecter'), 200);
}

for (const width of [1280, 390]) {
  test(`an editor creates a service, registers a site and writes a rule by names, at ${width} px`, async () => {
    const context = await launchBrowser({ contextOptions: { viewport: { width, height: 900 } } });
    const page = await context.newPage();
    try {
      await signInEditor(page, `${width}.editeur@locadocs.example.gouv.fr`);

      // A service from a blank form.
      await page.goto(`${server.baseUrl}/admin/services`);
      await page.getByRole('link', { name: 'Créer un service' }).click();
      await clean(page, `new service form, ${width} px`);
      assert.equal(await click(page, 'Créer le service'), 422);
      assert.match(await page.locator('#f-name-msg').innerText(), /Indiquez le nom du service/);
      assert.match(await page.locator('#f-kind-msg').innerText(), /Choisissez le type de service/);
      await clean(page, `new service form with errors, ${width} px`);
      const name = `Archives de Combourg ${width}`;
      await page.locator('input[name="name"]').fill(name);
      await page.locator('select[name="kind"]').selectOption({ label: 'Archives municipales' });
      await page.locator('input[name="email"]').fill('archives@combourg.fr');
      assert.equal(await click(page, 'Créer le service'), 200);
      assert.match(await page.locator('main').innerText(), /Modifications enregistrées/);
      assert.match(page.url(), new RegExp(`/admin/services/archives-de-combourg-${width}\\?enregistre=1$`));
      await clean(page, `created service, ${width} px`);
      await page.screenshot({ path: join(SHOTS, `bo-service-created-${width}.png`), fullPage: true });

      // An embedding site.
      await page.goto(`${server.baseUrl}/admin/sites`);
      await clean(page, `sites, ${width} px`);
      await page.getByRole('link', { name: 'Enregistrer un site' }).click();
      await page.locator('input[name="name"]').fill(`Ville de Combourg ${width}`);
      await page.locator('textarea[name="origins"]').fill('https://www.combourg.fr/accueil');
      assert.equal(await click(page, 'Enregistrer le site'), 422);
      assert.match(await page.locator('#f-origins-msg').innerText(), /sans chemin/);
      await clean(page, `site form with an error, ${width} px`);
      await page.locator('textarea[name="origins"]').fill('https://www.combourg.fr');
      assert.equal(await click(page, 'Enregistrer le site'), 200);
      const site = await page.locator('main').innerText();
      assert.match(site, /Modifications enregistrées/);
      assert.match(site, new RegExp(`data-site="ville-de-combourg-${width}"`));
      await clean(page, `registered site, ${width} px`);
      await page.screenshot({ path: join(SHOTS, `bo-site-${width}.png`), fullPage: true });
      await page.getByRole('link', { name: 'Supprimer ce site' }).click();
      await clean(page, `site deletion confirmation, ${width} px`);
      assert.equal(await click(page, 'Supprimer le site'), 200);
      assert.match(await page.locator('main').innerText(), /Site supprimé/);

      // A rule by names and a rolling bound in years.
      await page.goto(`${server.baseUrl}/admin/regles/nouvelle`);
      await page.locator('select[name="document_type"]').selectOption({ label: 'Acte notarié' });
      await page.locator('input[name="territory"]').fill('Saint-Martin');
      await page.locator('input[name="to"]').fill('75 ans');
      await page.locator('select[name="service"]').selectOption({ label: name });
      assert.equal(await click(page, 'Créer la règle'), 422);
      // Several communes bear that name: the message lists them with their département.
      assert.match(await page.locator('#f-territory-msg').innerText(), /territoires s'appellent « Saint-Martin »/);
      await clean(page, `rule form with an ambiguous name, ${width} px`);
      // One commune per run: the two runs share the database. Typing its
      // first letters suggests it, as the field reads it back.
      const wanted = width === 390 ? 'Cancale' : 'Combourg';
      const territory = page.locator('input[name="territory"]');
      await territory.fill('');
      await territory.pressSequentially(wanted.slice(0, 5));
      const option = page.locator(`#f-territory-suggestions option[value^="${wanted} ("]`);
      await option.first().waitFor({ state: 'attached' });
      const value = await option.first().getAttribute('value');
      assert.match(value, new RegExp(`^${wanted} \\(35\\d{3}\\)$`));
      assert.equal(await option.first().getAttribute('label'), 'Ille-et-Vilaine');
      await page.screenshot({ path: join(SHOTS, `bo-rule-suggestions-${width}.png`) });
      await territory.fill(value);
      assert.equal(await click(page, 'Créer la règle'), 200);
      const rule = await page.locator('main').innerText();
      assert.match(rule, /Modifications enregistrées/);
      assert.match(rule, /Acte notarié, (Combourg|Cancale) \(35\d{3}\)/);
      assert.match(rule, /il y a 75 ans/);
      await clean(page, `saved rule, ${width} px`);
      await page.screenshot({ path: join(SHOTS, `bo-rule-by-name-${width}.png`), fullPage: true });
    } finally {
      await context.close();
    }
  });
}

test('without JavaScript, communes and territories are typed by name and read back', async () => {
  const context = await launchBrowser({ contextOptions: { javaScriptEnabled: false, viewport: { width: 390, height: 900 } } });
  const page = await context.newPage();
  try {
    await signInEditor(page, 'sans-script.editeur@locadocs.example.gouv.fr');
    await page.goto(`${server.baseUrl}/admin/regles`);
    await page.getByLabel('Commune').fill('Rennes');
    assert.equal(await click(page, 'Afficher'), 200);
    assert.match(await page.locator('main').innerText(), /Chronologie des détenteurs pour Rennes \(35238\)/);
    // No datalist without the script: nothing but the typed name.
    assert.equal(await page.locator('datalist').count(), 0);
    await page.getByLabel('Commune').fill('Nulle-part-sur-mer');
    assert.equal(await click(page, 'Afficher'), 200);
    assert.match(await page.locator('#f-commune-msg').innerText(), /ne s'appelle « Nulle-part-sur-mer »/);
    assert.equal(await page.getByLabel('Commune').getAttribute('aria-invalid'), 'true');
    await page.screenshot({ path: join(SHOTS, 'bo-rules-unknown-commune-nojs-390.png') });
    const url = page.url();
    // axe runs with scripts: the same page, audited in a context that has them.
    const cookies = await context.cookies();
    const withJs = await launchBrowser({ contextOptions: { viewport: { width: 390, height: 900 } } });
    try {
      await withJs.addCookies(cookies);
      const audited = await withJs.newPage();
      await audited.goto(url);
      assert.match(await audited.locator('#f-commune-msg').innerText(), /Nulle-part-sur-mer/);
      await clean(audited, 'rules filtered by an unknown commune, 390 px');
    } finally {
      await withJs.close();
    }
  } finally {
    await context.close();
  }
});
