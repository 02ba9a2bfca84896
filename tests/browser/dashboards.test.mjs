// The back office's statistics in a real browser, without JavaScript, on a
// desktop screen and on a 390 px phone, in light and dark colour schemes:
// an editor opens the list of guides and a guide's dashboard (charts with
// their data tables), chooses a period with the GET form, downloads a CSV,
// and triages a suggestion. Every page is audited with axe-core.
//
// The figures are daily aggregates written into the server's database
// (what the roll-up produces), a suggestion and a comment too.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useServer, launchBrowser, auditAxe, pageOutline } from './harness.mjs';

const execFileP = promisify(execFile);
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

const EDITOR = 'statistiques@locadocs.example.gouv.fr';
const PASSWORD = 'une phrase de passe assez longue 42';
const DAY = '2026-11-20';

/** Daily aggregates of the demo guide « immobilier »: (kind, dim, value, runs). */
const ROWS = [
  ['run_started', '', '', 40],
  ['step_shown', 'savoir', '', 40],
  ['step_shown', 'document', '', 34],
  ['step_shown', 'commune', '', 25],
  ['step_shown', 'date', '', 22],
  ['step_shown', 'resultat', '', 20],
  ['step_shown', 'autre-document', '', 3],
  ['answer_run', '', '', 20],
  ['answer_shown', 'permis-de-construire', 'complete', 15],
  ['answer_shown', 'permis-de-construire', 'incomplete', 5],
  ['answer_date', 'permis-de-construire', 'date_known', 12],
  ['answer_date', 'permis-de-construire', 'date_unknown', 8],
  ['answer_holder', 'archives-rennes', 'permis-de-construire', 14],
  ['answer_holder', 'rennes-metropole-droit-des-sols', 'permis-de-construire', 6],
  ['dead_end', 'autre-document', '', 3],
  ['feedback', 'permis-de-construire', '4', 6],
  ['feedback', 'permis-de-construire', '3', 3],
  ['feedback', 'permis-de-construire', '1', 1],
  ['misdirection', 'mairie', 'different', 4],
  ['misdirection', 'archives-municipales', 'same', 2],
];

async function sql(statement) {
  await execFileP('sqlite3', [server.db, statement]);
}

async function seed() {
  const values = ROWS.map(
    ([kind, dim, value, runs]) => `('${DAY}', '${kind}', 'immobilier', '', '${dim}', '${value}', ${runs}, ${runs})`,
  ).join(', ');
  await sql(`INSERT INTO analytics_daily (day, kind, guide, site, dim, value, events, runs) VALUES ${values}`);
  // What the store writes beside daily rows: their sum over sites (site '*')
  // and the month's sums.
  await sql(
    `INSERT INTO analytics_daily (day, kind, guide, site, dim, value, events, runs) SELECT day, kind, guide, '*', dim, value, SUM(events), SUM(runs) FROM analytics_daily WHERE day = '${DAY}' AND site <> '*' GROUP BY day, kind, guide, dim, value`,
  );
  const month = DAY.slice(0, 7);
  await sql(`DELETE FROM analytics_monthly WHERE month = '${month}'`);
  await sql(
    `INSERT INTO analytics_monthly (month, kind, guide, site, dim, value, events, runs) SELECT '${month}', kind, guide, site, dim, value, SUM(events), SUM(runs) FROM analytics_daily WHERE substr(day, 1, 7) = '${month}' GROUP BY kind, guide, site, dim, value`,
  );
  await sql(
    `INSERT INTO suggestions (created_at, guide, step, text, site, lang) VALUES ('${DAY}T09:00:00Z', 'immobilier', 'autre-document', 'Les plans cadastraux anciens', NULL, 'fr')`,
  );
  await sql(
    `INSERT INTO feedback (created_at, guide, document_type, commune, rating, comment, site, lang) VALUES ('${DAY}T09:30:00Z', 'immobilier', 'permis-de-construire', NULL, 4, 'Très clair, merci', NULL, 'fr')`,
  );
}

async function click(page, name) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  return response.status();
}

async function clean(page, what) {
  const outline = await pageOutline(page);
  assert.equal(outline.lang, 'fr', what);
  assert.equal(outline.h1.length, 1, `${what}: exactly one h1`);
  assert.deepEqual(await auditAxe(page), [], `${what}: accessibility violations`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${what}: the page is ${overflow} px wider than the screen`);
}

let signedIn = false;

/** The editor's session cookie, made once through the invitation link. */
async function signIn(page) {
  if (!signedIn) {
    await seed();
    const out = await server.cli('user', 'add', '--role', 'editor', EDITOR);
    const link = out.match(/https?:\/\/\S+\/admin\/invitation\/\S+/)[0];
    await page.goto(server.baseUrl + link.slice(PUBLIC_URL.length));
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('input[name="confirm"]').fill(PASSWORD);
    assert.equal(await click(page, 'Enregistrer le mot de passe'), 200);
    signedIn = true;
  }
  await page.context().clearCookies();
  await page.goto(`${server.baseUrl}/admin/login`);
  await page.locator('input[name="email"]').fill(EDITOR);
  await page.locator('input[name="password"]').fill(PASSWORD);
  assert.equal(await click(page, 'Se connecter'), 200);
  assert.equal(new URL(page.url()).pathname, '/admin', 'signed in');
}

for (const [width, scheme] of [
  [1280, 'light'],
  [390, 'dark'],
]) {
  test(`an editor reads a guide's dashboard without JavaScript (${width} px, ${scheme})`, async () => {
    const context = await launchBrowser({
      // The back office runs no script at all (its Content-Security-Policy allows
      // none): what the browser shows is what a browser without JavaScript shows.
      // JavaScript stays on in the browser only so that axe-core can run.
      contextOptions: { viewport: { width, height: 900 }, colorScheme: scheme },
    });
    try {
      const page = await context.newPage();
      await signIn(page);
      // From the menu to the list of guides.
      await page.getByRole('link', { name: 'Statistiques', exact: true }).click();
      await page.waitForURL(/\/admin\/statistiques$/);
      await clean(page, `list of guides (${width})`);
      // The period chooser is a plain GET form.
      await page.getByLabel(/^Du/).fill('2026-11-01');
      await page.getByLabel(/^Au/).fill('2026-11-30');
      assert.equal(await click(page, 'Afficher cette période'), 200);
      assert.match(page.url(), /du=2026-11-01&au=2026-11-30/);
      const row = page.locator('tr', { has: page.getByRole('link', { name: 'Trouver un document sur un terrain, une maison ou un immeuble' }) });
      await assert.doesNotReject(row.first().waitFor({ timeout: 2000 }), 'the guide is listed');
      await row.first().getByRole('link').click();
      await page.waitForURL(/\/admin\/statistiques\/immobilier\?/);
      await clean(page, `dashboard (${width})`);

      // Every chart is an image with a name, and its data table follows it.
      const charts = page.locator('svg[role="img"]');
      assert.ok((await charts.count()) >= 4, 'charts are drawn');
      const pairs = await page.evaluate(() =>
        [...document.querySelectorAll('svg[role="img"]')].map((svg) => {
          let next = svg.nextElementSibling;
          return { title: svg.querySelector('title')?.textContent ?? '', table: !!next?.querySelector('table') };
        }),
      );
      for (const p of pairs) {
        assert.notEqual(p.title, '', 'a chart has a title');
        assert.ok(p.table, `the chart « ${p.title} » is followed by its data table`);
      }
      // The funnel's figures, right-aligned numbers.
      const funnel = page.locator('table', { has: page.locator('caption', { hasText: 'Entonnoir du guide' }) });
      const started = funnel.locator('tr', { has: page.locator('th', { hasText: 'Parcours commencés' }) });
      assert.deepEqual((await started.locator('td').allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' ')), ['40', '100,0 %', '—', '0', '—', '—']);
      assert.equal(await started.locator('td').first().evaluate((td) => getComputedStyle(td).textAlign), 'right');
      assert.equal(await page.locator('th[scope="col"]').count() > 0, true);
      assert.ok((await page.locator('body').innerText()).includes('Très clair, merci'));
      assert.ok(!(await page.content()).includes('NaN'));

      // A CSV download link for the funnel.
      const csvHref = await page.getByRole('link', { name: 'Télécharger « Entonnoir » (CSV)' }).getAttribute('href');
      const csv = await page.request.get(server.baseUrl + csvHref);
      assert.equal(csv.status(), 200);
      assert.match(await csv.text(), /\r\nParcours commencés;40;100,0;;0;;\r\n/);

      // Triage of the suggestion, once.
      if (width === 1280) {
        assert.equal(await click(page, 'Marquer traitée (n° 1)'), 200);
        assert.match(await page.getByRole('status').innerText(), /Suggestion marquée comme traitée/);
        await clean(page, `dashboard after a triage (${width})`);
      }
    } finally {
      await context.close();
    }
  });
}
