// The back office as its users live it, in a real browser against a real
// server (fresh SQLite database, real communes, demo data):
//   an administrator created by `locadocs user add --admin` invites a
//   contributor of the Archives de Rennes; the contributor accepts by the
//   emailed link, shortens their building-permit rule after previewing the
//   public answer, and the public API follows; they cannot open or post to
//   another service's pages; the change is in the history and an editor
//   reverts it.
// Every screen type is audited with axe-core (WCAG 2.1 A and AA) on the way.
//
// Mail goes to an outbox directory here (the Rust suite tests real SMTP).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useServer, useBrowser, auditAxe, pageOutline, ROOT } from './harness.mjs';

const execFileP = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The links in mails and printed by the CLI use this public URL; the test
// follows them on the server under test, keeping path and token.
const PUBLIC_URL = 'https://locadocs.example.gouv.fr';
const outbox = await mkdtemp(join(tmpdir(), 'locadocs-outbox-'));
after(() => rm(outbox, { recursive: true, force: true }));

const server = useServer({
  extraEnv: {
    LOCADOCS_INSECURE_COOKIES: '1',
    LOCADOCS_PUBLIC_URL: PUBLIC_URL,
    LOCADOCS_OUTBOX: outbox,
    LOCADOCS_SMTP_URL: '',
  },
});
const browser = useBrowser();

const ADMIN = 'admin@locadocs.example.gouv.fr';
const CONTRIBUTOR = 'agent@archives.rennes.example.fr';
const EDITOR = 'editrice@locadocs.example.gouv.fr';
const PASSWORD = 'une phrase de passe assez longue 42';
const LOCATE = '/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015';

/** What the steps pass on to each other. */
const state = { page: null, ruleId: null, otherRuleId: null, missingAssets: [] };

/** A link made for PUBLIC_URL, followed on the server under test. */
function local(link) {
  assert.ok(link.startsWith(`${PUBLIC_URL}/admin/`), `a link on the public URL: ${link}`);
  return server.baseUrl + link.slice(PUBLIC_URL.length);
}

async function clean(page, what) {
  const outline = await pageOutline(page);
  assert.equal(outline.lang, 'fr', what);
  assert.notEqual(outline.title, '', what);
  assert.equal(outline.h1.length, 1, `${what}: exactly one h1, got ${JSON.stringify(outline.h1)}`);
  assert.deepEqual(await auditAxe(page), [], `${what}: accessibility violations`);
}

async function goto(path, status = 200) {
  const response = await state.page.goto(path.startsWith('http') ? path : server.baseUrl + path);
  assert.equal(response.status(), status, `GET ${path}`);
  return response;
}

/** Submits by clicking a button and waits for the next page; returns its status. */
async function submit(name) {
  const [response] = await Promise.all([
    state.page.waitForNavigation(),
    state.page.getByRole('button', { name, exact: true }).click(),
  ]);
  return response.status();
}

async function login(email) {
  await state.page.context().clearCookies();
  await goto('/admin/login');
  await state.page.locator('input[name="email"]').fill(email);
  await state.page.locator('input[name="password"]').fill(PASSWORD);
  assert.equal(await submit('Se connecter'), 200);
  assert.equal(new URL(state.page.url()).pathname, '/admin', `${email} lands on Mes données`);
  assert.match(await state.page.locator('h1').innerText(), /Mes données/);
}

/** Opens a one-time link, checks the page, chooses the password. */
async function choosePassword(link, what) {
  await state.page.context().clearCookies();
  await goto(link);
  await clean(state.page, `${what} page`);
  // A mismatch first: the errors are shown next to the fields, accessibly.
  await state.page.locator('input[name="password"]').fill(PASSWORD);
  await state.page.locator('input[name="confirm"]').fill('autre chose');
  assert.equal(await submit('Enregistrer le mot de passe'), 422);
  await clean(state.page, `${what} page with errors`);
  await state.page.locator('input[name="password"]').fill(PASSWORD);
  await state.page.locator('input[name="confirm"]').fill(PASSWORD);
  const status = await submit('Enregistrer le mot de passe');
  assert.ok(status === 200, `password chosen (${status})`);
}

/** The one-time link printed by `locadocs user add`. */
async function cliUser(...args) {
  const out = await server.cli('user', 'add', ...args);
  const m = out.match(/https?:\/\/\S+\/admin\/invitation\/\S+/);
  assert.ok(m, `a link in: ${out}`);
  return m[0];
}

/** The body of a mail, decoded from its transfer encoding. */
function mailBody(raw) {
  const split = raw.indexOf('\r\n\r\n') >= 0 ? raw.indexOf('\r\n\r\n') : raw.indexOf('\n\n');
  const head = raw.slice(0, split);
  const body = raw.slice(split).trim();
  const enc = (head.match(/^Content-Transfer-Encoding:\s*(\S+)/im) || [])[1]?.toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Waits for a mail to `to` among the files not yet read; returns its decoded body. */
const seen = new Set();
async function mailTo(to) {
  const deadline = Date.now() + 5000;
  for (;;) {
    for (const name of (await readdir(outbox)).sort()) {
      if (seen.has(name) || !name.endsWith('.eml')) continue;
      const raw = await readFile(join(outbox, name), 'utf8');
      if (new RegExp(`^To:.*${to.replace(/[.]/g, '\\.')}`, 'im').test(raw)) {
        seen.add(name);
        return mailBody(raw);
      }
    }
    if (Date.now() > deadline) assert.fail(`no mail to ${to} in ${outbox}`);
    await sleep(50);
  }
}

/** The holders of the public answer for Rennes building permits of 2015. */
async function publicHolders() {
  const res = await fetch(server.baseUrl + LOCATE);
  assert.equal(res.status, 200);
  const body = await res.json();
  return body.matches.map((m) => `${m.service.name} ${m.from ?? ''}–${m.to ?? ''}`);
}

/** Polls the public API until `ok(holders)`, for up to 2 s. */
async function publicAnswerBecomes(ok, what) {
  const start = Date.now();
  let holders;
  for (;;) {
    holders = await publicHolders();
    if (ok(holders)) return Date.now() - start;
    if (Date.now() - start > 2000) assert.fail(`${what} within 2 s; still ${JSON.stringify(holders)}`);
    await sleep(50);
  }
}

/** Sets a stored one-time link's expiry in the past. */
async function expireTokens() {
  await execFileP('sqlite3', [server.db, "UPDATE tokens SET expires_at = '2000-01-01T00:00:00Z' WHERE used_at IS NULL"]);
}

test('the DSFR theme and its fonts are served to the back office', async () => {
  state.page = await browser.context.newPage();
  // Every stylesheet, font and icon the screens ask for, on the whole journey.
  state.page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && !path.startsWith('/admin') && !path.startsWith('/api/')) {
      state.missingAssets.push(`${r.status()} ${path}`);
    }
  });
  const fonts = [];
  state.page.on('response', (r) => {
    if (/\.woff2?$/.test(new URL(r.url()).pathname)) fonts.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
  await goto('/admin/login');
  const sheet = await state.page.evaluate(() => document.querySelector('link[rel="stylesheet"]').href);
  const css = await fetch(sheet);
  assert.equal(css.status, 200, sheet);
  assert.match(css.headers.get('content-type'), /^text\/css/);
  await state.page.evaluate(() => document.fonts.ready);
  assert.ok(fonts.length > 0, 'the page loads the Marianne font');
  for (const f of fonts) assert.match(f, /^200 \/assets\/dsfr\/\d[^/]*\/fonts\/Marianne-/);
  const family = await state.page.evaluate(() => getComputedStyle(document.body).fontFamily);
  assert.match(family, /Marianne/);
  const loaded = await state.page.evaluate(() => document.fonts.check('1rem Marianne'));
  assert.ok(loaded, 'Marianne is loaded');
  // The icons the alerts and selects use come too.
  const icon = await fetch(new URL('icons/system/fr--error-fill.svg', sheet));
  assert.equal(icon.status, 200);
  assert.match(icon.headers.get('content-type'), /^image\/svg\+xml/);
});

test('login page: no accessibility violation, with and without an error', async () => {
  await goto('/admin/login');
  await clean(state.page, 'login');
  await state.page.locator('input[name="email"]').fill('personne@example.fr');
  await state.page.locator('input[name="password"]').fill('mauvais mot de passe');
  const status = await submit('Se connecter');
  assert.ok(status >= 400, `a failed login is refused (${status})`);
  await clean(state.page, 'login with an error');
  await goto('/admin/mot-de-passe');
  await clean(state.page, 'forgotten password');
});

test('the first administrator: `locadocs user add --admin` prints a one-time link', async () => {
  const link = await cliUser('--admin', ADMIN);
  await choosePassword(local(link), 'invitation');
  await login(ADMIN);
  await clean(state.page, 'Mes données (admin)');
  // The link served once: a clear page, not a form.
  await state.page.context().clearCookies();
  await goto(local(link), 410);
  assert.match(await state.page.locator('h1').innerText(), /déjà utilisé/);
  await clean(state.page, 'used invitation');
});

test('the administrator invites a contributor of the Archives de Rennes', async () => {
  await login(ADMIN);
  await goto('/admin/utilisateurs');
  await clean(state.page, 'users');
  // Invalid input first: messages next to the fields.
  await state.page.locator('input[name="email"]').fill('pas une adresse');
  assert.equal(await submit("Envoyer l'invitation"), 422);
  await clean(state.page, 'users with errors');
  await state.page.locator('input[name="email"]').fill(CONTRIBUTOR);
  await state.page.locator('select[name="role"]').selectOption('contributor');
  await state.page.locator('input[name="services"][value="archives-rennes"]').check({ force: true }); // the DSFR label covers the box
  // Their territory: Rennes, where the Archives de Rennes hold their rules,
  // typed in « Ajouter un territoire » and taken from its suggestions.
  await state.page.getByLabel('Ajouter un territoire').pressSequentially('Renn');
  const suggestion = state.page.locator('#f-territoire_ajoute-suggestions option[value="Rennes (35238)"]');
  await suggestion.waitFor({ state: 'attached' });
  await state.page.getByLabel('Ajouter un territoire').fill(await suggestion.getAttribute('value'));
  assert.equal(await submit("Envoyer l'invitation"), 200);
  assert.match(await state.page.locator('table').first().innerText(), /Rennes \(35238\)/);
  await clean(state.page, 'users after an invitation');
  assert.match(await state.page.locator('table').first().innerText(), new RegExp(CONTRIBUTOR.replace(/[.]/g, '\\.')));
  await state.page.getByRole('link', { name: CONTRIBUTOR }).click();
  await state.page.waitForLoadState();
  assert.match(new URL(state.page.url()).pathname, /^\/admin\/utilisateurs\/\d+$/);
  await clean(state.page, 'user edit');
  await goto('/admin/services');
  await clean(state.page, 'services');
  await goto('/admin/regles/nouvelle');
  await clean(state.page, 'new rule');
});

test('the contributor accepts by the emailed link and signs in', async () => {
  const body = await mailTo(CONTRIBUTOR);
  const m = body.match(/https?:\/\/\S+\/admin\/invitation\/\S+/);
  assert.ok(m, `an invitation link in the mail:\n${body}`);
  await choosePassword(local(m[0]), 'invitation (contributor)');
  await login(CONTRIBUTOR);
  await clean(state.page, 'Mes données (contributor)');
  // Their building-permit rule is listed on Mes données.
  const mine = state.page.locator('table').filter({
    has: state.page.locator('caption', { hasText: 'Règles dont mes services sont détenteurs' }),
  });
  const row = mine
    .locator('tr')
    .filter({ hasText: 'Permis de construire' })
    .filter({ hasText: 'Rennes (35238)' })
    .filter({ hasText: '1908' });
  assert.equal(await row.count(), 1);
  const href = await row.locator('a').first().getAttribute('href');
  state.ruleId = href.match(/\/admin\/regles\/(\d+)$/)[1];
});

test('the contributor previews and saves a new end date; the public answer follows', async (t) => {
  assert.deepEqual(
    (await publicHolders()).map((h) => h.replace(/ .*/, '')),
    ['Archives', 'Rennes'],
    'before: the Archives de Rennes then Rennes Métropole',
  );
  await goto(`/admin/regles?type=permis-de-construire&commune=35238`);
  await clean(state.page, 'rules timeline');
  await goto(`/admin/regles/${state.ruleId}`);
  await clean(state.page, 'rule');
  await goto(`/admin/regles/${state.ruleId}/modifier`);
  await clean(state.page, 'rule edit');
  const to = state.page.locator('input[name="to"]');
  assert.equal(await to.inputValue(), '30/06/2015', 'dates read as written in France');

  // Running past the 1 July 2015 of Rennes Métropole is refused, next to the field.
  await to.fill('2015-12-31');
  assert.equal(await submit('Enregistrer'), 422);
  // The end date causes it: the message sits next to that field and names the other rule.
  assert.match(await state.page.locator('#f-to-msg').innerText(), /chevauche la règle n° \d+/);
  assert.equal(await to.inputValue(), '2015-12-31', 'what was typed is kept');
  await clean(state.page, 'rule edit with an overlap error');

  // The archives stop at the end of 2014: preview first.
  await to.fill('2014-12-31');
  await state.page.locator('input[name="preview_commune"]').fill('Rennes');
  await state.page.locator('input[name="preview_date"]').fill('2015-03-01');
  assert.equal(await submit('Prévisualiser'), 200);
  const main = await state.page.locator('main').innerText();
  const before = main.slice(main.indexOf('Avant la modification'), main.indexOf('Après la modification'));
  const afterText = main.slice(main.indexOf('Après la modification'));
  assert.match(before, /Archives de Rennes/, main);
  assert.doesNotMatch(afterText.split('Autres actions')[0], /Archives de Rennes/, main);
  assert.equal(await to.inputValue(), '2014-12-31', 'the preview keeps the form as typed');
  await clean(state.page, 'rule edit with a preview');
  assert.deepEqual(
    (await publicHolders()).map((h) => h.replace(/ .*/, '')),
    ['Archives', 'Rennes'],
    'a preview changes nothing',
  );

  const status = await submit('Enregistrer');
  assert.equal(status, 200);
  const delay = await publicAnswerBecomes(
    (h) => !h.some((x) => x.startsWith('Archives de Rennes')),
    'the public answer drops the Archives de Rennes for 2015',
  );
  t.diagnostic(`save to public answer: ${delay} ms`);
  // The six months no rule of Rennes covers any more are shown as a gap.
  await goto('/admin/regles?type=permis-de-construire&commune=35238');
  const gap = 'Lacune : aucune règle commune:35238 pour permis-de-construire du 01/01/2015 au 30/06/2015.';
  assert.ok((await state.page.locator('main').innerText()).includes(gap), 'the gap is explained');
  assert.equal(await state.page.locator('td .fr-badge--warning', { hasText: /^lacune$/ }).count(), 1);
  await clean(state.page, 'rules timeline with a gap');
  await goto('/admin');
  assert.equal(await state.page.getByRole('link', { name: gap }).count(), 1, 'the gap is listed on Mes données');
  await clean(state.page, 'Mes données with a gap');
});

test('the contributor can neither open nor post to another service’s pages', async () => {
  // Another service's edit page.
  await goto('/admin/services/rennes-metropole-droit-des-sols/modifier', 403);
  await clean(state.page, 'forbidden page');
  // A hand-made POST with the contributor's own valid session and token.
  await goto('/admin/services/archives-rennes/modifier');
  const csrf = await state.page.locator('input[name="csrf"]').first().inputValue();
  const form = (extra) => ({
    csrf,
    revision: '1',
    name: 'Service détourné',
    kind: 'autre',
    ...extra,
  });
  const post = await state.page.request.post(
    `${server.baseUrl}/admin/services/rennes-metropole-droit-des-sols/modifier`,
    { form: form(), headers: { origin: server.baseUrl }, maxRedirects: 0 },
  );
  assert.equal(post.status(), 403);
  // Rennes Métropole's rule: readable, not editable.
  await goto('/admin/regles?type=permis-de-construire&commune=35238');
  const row = state.page.locator('tr').filter({ hasText: 'Droit des sols' }).filter({ hasText: 'Rennes (35238)' });
  const href = await row.locator('a').first().getAttribute('href');
  state.otherRuleId = href.match(/\/admin\/regles\/(\d+)$/)[1];
  await goto(`/admin/regles/${state.otherRuleId}/modifier`, 403);
  const rulePost = await state.page.request.post(
    `${server.baseUrl}/admin/regles/${state.otherRuleId}/modifier`,
    {
      form: { csrf, revision: '1', action: 'save', document_type: 'permis-de-construire', territory: 'commune:35238', from: '2015-07-01', to: '', service: 'archives-rennes' },
      headers: { origin: server.baseUrl },
      maxRedirects: 0,
    },
  );
  assert.equal(rulePost.status(), 403);
  const svc = await (await fetch(`${server.baseUrl}/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2020`)).json();
  assert.match(svc.matches[0].service.name, /Rennes Métropole/, 'nothing changed');
  // Editors' screens are closed to a contributor.
  await goto('/admin/types', 403);
  await goto('/admin/utilisateurs', 403);
});

test('the service edit page shows validation errors accessibly', async () => {
  await goto('/admin/services/archives-rennes/modifier');
  await clean(state.page, 'service edit');
  const email = state.page.locator('input[name="email"]');
  const typed = 'pas-une-adresse<script>';
  await email.fill(typed);
  await state.page.locator('input[name="website"]').fill('ftp:/nulle part');
  assert.equal(await submit('Enregistrer'), 422);
  assert.equal(await email.inputValue(), typed, 'what was typed is kept');
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  await clean(state.page, 'service edit with errors');
  await goto('/admin/services/archives-rennes');
  await clean(state.page, 'service');
});

test('the change is in the history; an editor reverts it and the public answer goes back', async () => {
  await goto(`/admin/historique/regle/${state.ruleId}`);
  const main = await state.page.locator('main').innerText();
  // A contributor reads their own change as theirs, and no other address.
  assert.match(main, /par vous/);
  assert.match(main, /2015-06-30/);
  assert.match(main, /2014-12-31/);
  await clean(state.page, 'history (contributor)');
  assert.equal(await state.page.getByRole('button', { name: /Annuler la modification/ }).count(), 0, 'a contributor cannot revert');

  const link = await cliUser('--role', 'editor', EDITOR);
  await choosePassword(local(link), 'invitation (editor)');
  await login(EDITOR);
  await clean(state.page, 'Mes données (editor)');
  await goto('/admin/types');
  await clean(state.page, 'document types');
  const typeHref = await state.page.locator('main a[href^="/admin/types/"]').first().getAttribute('href');
  await goto(typeHref);
  await clean(state.page, 'document type edit');

  await goto(`/admin/historique/regle/${state.ruleId}`);
  await clean(state.page, 'history (editor)');
  const revert = state.page.getByRole('button', { name: /Annuler la modification/ });
  assert.equal(await revert.count(), 1);
  await Promise.all([state.page.waitForNavigation(), revert.click()]);
  // First asked, with what it will undo; nothing is undone yet.
  assert.match(await state.page.locator('main').innerText(), /reprendront leur valeur/);
  await clean(state.page, 'revert confirmation');
  await Promise.all([
    state.page.waitForNavigation(),
    state.page.getByRole('button', { name: "Confirmer l'annulation" }).click(),
  ]);
  assert.match(await state.page.locator('main').innerText(), /Annule la modification/);
  await clean(state.page, 'history after a revert');
  await publicAnswerBecomes(
    (h) => h.length === 2 && h[0].startsWith('Archives de Rennes') && h[0].endsWith('2015-06-30'),
    'the public answer goes back to the Archives de Rennes until 30 June 2015',
  );
});

test('import and Annuaire screens: errors, a dry run and a confirmation, all accessible', async () => {
  await login(EDITOR);
  await goto('/admin/import');
  await clean(state.page, 'import / export');
  const upload = async (name, text, encoding = 'utf8') => {
    await state.page.locator('input[type=file]').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text, encoding) });
    return submit("Vérifier le fichier (rien n'est enregistré)");
  };
  // Excel's habits: ';' and Windows-1252; one bad row is named with its line and column.
  await state.page.locator('select[name=table]').selectOption('document-types');
  await upload('types.csv', 'slug;label;communicability_years\nacte-de-test;Acte de test é;0\nMauvais Slug;Autre;abc\n', 'latin1');
  const errors = await state.page.locator('main').innerText();
  assert.match(errors, /ligne 3, colonne slug/);
  await clean(state.page, 'import dry run with row errors');
  await goto('/admin/import');
  await state.page.locator('select[name=table]').selectOption('document-types');
  await upload('types.csv', 'slug;label;communicability_years\nacte-de-test;Acte de test é;0\n', 'latin1');
  const preview = await state.page.locator('main').innerText();
  assert.match(preview, /1 ajout, 0 modification, 0 suppression/);
  assert.match(preview, /lu en Windows-1252/);
  await clean(state.page, 'import dry run');
  assert.equal(await submit('Confirmer et enregistrer ces changements'), 200);
  await clean(state.page, 'import applied');
  // Live: the public API knows the new document type within its polling interval.
  let status = 0;
  for (let i = 0; i < 20 && status !== 200; i++) {
    status = (await fetch(`${server.baseUrl}/api/v1/document-types/acte-de-test`)).status;
    if (status !== 200) await sleep(100);
  }
  assert.equal(status, 200, 'the imported document type is public');
  await goto('/admin/annuaire');
  await clean(state.page, 'Annuaire');
  const json = await readFile(join(ROOT, 'crates/server/tests/data/annuaire-1.json'), 'utf8');
  await state.page.locator('input[type=file]').setInputFiles({ name: 'annuaire.json', mimeType: 'application/json', buffer: Buffer.from(json) });
  await submit("Vérifier le fichier (rien n'est enregistré)");
  await clean(state.page, 'Annuaire dry run');
});

test('reset links: valid, then expired, both clear and accessible', async () => {
  await state.page.context().clearCookies();
  await goto('/admin/mot-de-passe');
  await state.page.locator('input[name="email"]').fill(CONTRIBUTOR);
  await submit("Recevoir un lien");
  await clean(state.page, 'forgotten password sent');
  const body = await mailTo(CONTRIBUTOR);
  const m = body.match(/https?:\/\/\S+\/admin\/reinitialisation\/\S+/);
  assert.ok(m, `a reset link in the mail:\n${body}`);
  await goto(local(m[0]));
  await clean(state.page, 'reset');
  await expireTokens();
  await goto(local(m[0]), 410);
  assert.match(await state.page.locator('h1').innerText(), /expiré/);
  await clean(state.page, 'expired reset');
  // An expired invitation gets the same clear page.
  const invitation = await cliUser('--role', 'contributor', '--service', 'archives-rennes', 'tard@example.fr');
  await expireTokens();
  await goto(local(invitation), 410);
  assert.match(await state.page.locator('h1').innerText(), /expiré/);
  await clean(state.page, 'expired invitation');
  await state.page.close();
  assert.deepEqual(state.missingAssets, [], 'every asset the screens use is served');
});
