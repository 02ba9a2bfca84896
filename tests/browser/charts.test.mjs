// The holder timeline as people see it: the answer page of a building
// permit in Rennes, date unknown (two holders and a period no rule covers),
// and the back office's rules screen for the same type and commune.
// Each page is audited with axe-core at 1280 and 390 px, light and dark:
// the back office in the State design system's dark theme; the public pages
// have no dark theme of their own (neither the neutral stylesheet nor the
// design system's core one carries one), so the answer page is also shown
// with a dark palette given through the neutral theme's custom properties,
// as a host could. The chart must follow, fit the screen, keep its text at
// 12 px or more, and show the uncovered period hatched and named.
// Screenshots go to $LOCADOCS_SCREENSHOTS (default: the system's temporary
// directory).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useServer, launchBrowser, auditAxe, pageOutline } from './harness.mjs';

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
const ANSWER = '/g/immobilier?document_type=permis-de-construire&commune=35238&year=inconnu';
const RULES = '/admin/regles?type=permis-de-construire&commune=35238';

async function click(page, name) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  return response.status();
}

/** A dark palette through the neutral theme's custom properties. */
async function darkNeutral(page) {
  await page.evaluate(() => {
    const dark = {
      '--text': '#eeeeee', '--muted': '#c8c8c8', '--line': '#6a6a6a', '--bg': '#161616', '--soft': '#242424',
      '--accent': '#8cb4ff', '--accent-text': '#000000', '--link': '#8cb4ff',
      '--ok': '#6fd08c', '--warn': '#ffb35c', '--error': '#ff8a80',
    };
    for (const [k, v] of Object.entries(dark)) document.documentElement.style.setProperty(k, v);
  });
}

/** Switches the State design system's theme as its own switch does. */
async function theme(page, dark) {
  await page.evaluate((dark) => {
    document.documentElement.setAttribute('data-fr-scheme', dark ? 'dark' : 'light');
    document.documentElement.setAttribute('data-fr-theme', dark ? 'dark' : 'light');
  }, dark);
}

/** What the chart looks like on screen. */
async function measure(page) {
  return page.evaluate(() => {
    const svg = document.querySelector('svg.ld-chart');
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const texts = [...svg.querySelectorAll('text')].map((t) => t.textContent);
    const smallest = Math.min(
      ...[...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale),
    );
    const gap = svg.querySelector('.ld-gap');
    const bar = svg.querySelector('.ld-bar');
    const labelled = (svg.getAttribute('aria-labelledby') || '')
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent);
    return {
      role: svg.getAttribute('role'),
      labelled,
      width: box.width,
      fits: document.documentElement.scrollWidth <= window.innerWidth && box.right <= window.innerWidth,
      smallest,
      texts,
      gapFill: gap && getComputedStyle(gap).fill,
      barFill: bar && getComputedStyle(bar).fill,
      textFill: getComputedStyle(svg.querySelector('text')).fill,
      background: getComputedStyle(document.body).backgroundColor,
    };
  });
}

async function check(page, what) {
  const outline = await pageOutline(page);
  assert.equal(outline.h1.length, 1, `${what}: one h1`);
  assert.deepEqual(await auditAxe(page), [], `${what}: accessibility violations`);
  const m = await measure(page);
  assert.equal(m.role, 'img', what);
  assert.ok(m.labelled.length >= 1 && m.labelled.every((t) => t && t.length > 0), `${what}: named by its title and description`);
  assert.ok(m.fits, `${what}: fits the screen (${m.width} px)`);
  assert.ok(m.smallest >= 12, `${what}: text at ${m.smallest} px`);
  assert.ok(m.texts.includes('Non couvert · jusqu\'en 1907'), `${what}: ${m.texts}`);
  assert.ok(m.texts.includes('Archives de Rennes · 1908 – 2015'), `${what}: ${m.texts}`);
  assert.match(m.gapFill, /^url\(/, `${what}: the gap is hatched`);
  return m;
}

for (const width of [1280, 390]) {
  test(`the holder timeline on the answer page and the rules screen (${width} px)`, async () => {
    const context = await launchBrowser({ contextOptions: { viewport: { width, height: 900 } } });
    try {
      const page = await context.newPage();
      // The answer page, neutral theme, then the State design system light and dark.
      await page.goto(server.baseUrl + ANSWER);
      const light = await check(page, `answer page, neutral theme, ${width} px`);
      assert.equal(light.barFill, 'rgb(11, 92, 173)', 'the neutral accent');
      await page.locator('svg.ld-chart').screenshot({ path: join(SHOTS, `h4-answer-chart-${width}.png`) });
      await page.screenshot({ path: join(SHOTS, `h4-answer-${width}.png`), fullPage: true });
      await darkNeutral(page);
      const dark = await check(page, `answer page, dark palette, ${width} px`);
      assert.equal(dark.barFill, 'rgb(140, 180, 255)', 'the bars follow the palette');
      assert.equal(dark.textFill, 'rgb(238, 238, 238)', 'the text follows the palette');
      await page.locator('svg.ld-chart').screenshot({ path: join(SHOTS, `h4-answer-chart-dark-${width}.png`) });
      await page.screenshot({ path: join(SHOTS, `h4-answer-dark-${width}.png`), fullPage: true });
      await page.goto(`${server.baseUrl}${ANSWER}&theme=dsfr`);
      const dsfr = await check(page, `answer page, DSFR theme, ${width} px`);
      assert.equal(dsfr.barFill, 'rgb(0, 0, 145)', 'the design system\'s blue');

      // The rules screen, for a new editor.
      const email = `${width}.editrice@locadocs.example.gouv.fr`;
      const out = await server.cli('user', 'add', '--role', 'editor', email);
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
      await page.goto(server.baseUrl + RULES);
      const rules = await check(page, `rules screen, light, ${width} px`);
      assert.match(rules.labelled.join(' '), /Rennes Métropole – service Droit des sols : depuis 2015\./);
      await page.locator('svg.ld-chart').screenshot({ path: join(SHOTS, `h4-rules-chart-${width}.png`) });
      await page.screenshot({ path: join(SHOTS, `h4-rules-${width}.png`), fullPage: true });
      await theme(page, true);
      const rulesDark = await check(page, `rules screen, dark, ${width} px`);
      assert.equal(rulesDark.barFill, 'rgb(133, 133, 246)', 'the dark theme\'s blue');
      assert.notEqual(rulesDark.textFill, rules.textFill, 'the text follows the theme');
      await page.locator('svg.ld-chart').screenshot({ path: join(SHOTS, `h4-rules-chart-dark-${width}.png`) });
      await page.screenshot({ path: join(SHOTS, `h4-rules-dark-${width}.png`), fullPage: true });
    } finally {
      await context.close();
    }
  });
}
