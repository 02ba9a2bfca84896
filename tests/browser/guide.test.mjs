// The public guide pages through a real browser: accessibility audits of
// every page type in both themes, the « immobilier » guide completed with
// the keyboard alone, visible focus, no cookie, heading outline and the
// browser's back button.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, useBrowser, open, auditAxe, pageOutline } from './harness.mjs';

const server = useServer();
const browser = useBrowser();

// Answers that reach each step of the demo guide demo/guides/immobilier.toml:
// savoir=non leads to the « besoin » (multiple) step, besoin=plans sets the
// document type to a building permit, so the « urbanisme » info step shows;
// then the commune and the date steps.
const TO_MULTIPLE = 'savoir=non';
const TO_INFO = `${TO_MULTIPLE}&besoin=plans`;
const TO_COMMUNE = `${TO_INFO}&urbanisme=ok`;
const TO_DATE = `${TO_COMMUNE}&commune=35238`;

/**
 * One entry per page type: its path and query, and a check that the page
 * really is of that type (so that a change of the demo guide cannot make
 * the audit silently test another page).
 */
const PAGES = [
  { name: 'first step (choice)', path: '/g/immobilier', is: 'input[type=radio][name=savoir]' },
  { name: 'multiple-choice step', path: `/g/immobilier?${TO_MULTIPLE}`, is: 'input[type=checkbox][name=besoin]' },
  { name: 'info step', path: `/g/immobilier?${TO_INFO}`, is: 'input[type=hidden][name=urbanisme][value=ok]' },
  {
    name: 'commune step (empty)',
    path: `/g/immobilier?${TO_COMMUNE}`,
    is: '#commune-q',
    not: 'input[type=radio][name=commune]',
  },
  {
    name: 'commune step (matches without JavaScript)',
    path: `/g/immobilier?${TO_COMMUNE}&commune_q=renne&commune=`,
    is: 'input[type=radio][name=commune][value="35238"]',
  },
  { name: 'date step', path: `/g/immobilier?${TO_DATE}`, is: '#annee' },
  {
    name: 'result page',
    path: '/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015',
    is: 'main .card',
    text: /Archives de Rennes[\s\S]*Rennes Métropole/,
  },
  { name: 'dead end', path: '/g/immobilier?savoir=oui&document=autre', is: 'textarea#suggestion' },
  { name: 'document page', path: '/documents/permis-de-construire', is: 'main h1' },
  { name: 'accessibility statement', path: '/accessibilite', is: 'main h1' },
  { name: 'legal notice', path: '/mentions-legales', is: 'main h1' },
  { name: 'privacy page', path: '/confidentialite', is: 'main h1' },
  { name: 'coverage page', path: '/couverture', is: 'main svg', text: /Ille-et-Vilaine/ },
  { name: 'coverage of a département', path: '/couverture?departement=35', is: 'main table', text: /Permis de construire/ },
  { name: 'open data page', path: '/donnees', is: 'main a[href$="regles.csv"]' },
];

const THEMES = [
  { name: 'neutral theme', param: null },
  { name: 'DSFR theme', param: 'dsfr' },
];

/** The server URL of `path`, with `theme` (and other display parameters) added. */
function urlOf(path, params = {}) {
  const url = new URL(path, server.baseUrl);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** Opens a page, checks it answered 200 and is of the expected type. */
async function openPage(entry, params = {}) {
  const url = urlOf(entry.path, params);
  const { page, response } = await open(browser.context, url);
  try {
    assert.equal(response.status(), 200, `${url} answered ${response.status()}`);
    assert.ok((await page.locator(entry.is).count()) >= 1, `${url}: expected ${entry.is} (${entry.name})`);
    if (entry.not) assert.equal(await page.locator(entry.not).count(), 0, `${url}: unexpected ${entry.not}`);
    if (entry.text) assert.match(await page.locator('main').innerText(), entry.text, url);
    return { page, url };
  } catch (e) {
    await page.close();
    throw e;
  }
}

/**
 * The headings in document order, and the places where the outline does not
 * start with an h1 or goes down more than one level at a time.
 */
async function headingProblems(page) {
  const headings = await page.evaluate(() =>
    Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6, [role=heading]')).map((h) => ({
      level: h.getAttribute('aria-level') ? Number(h.getAttribute('aria-level')) : Number(h.tagName.slice(1)),
      text: h.textContent.replace(/\s+/g, ' ').trim().slice(0, 60),
    })),
  );
  const problems = [];
  let previous = 0;
  for (const h of headings) {
    if (h.level > previous + 1) {
      problems.push(
        previous === 0
          ? `the first heading is an h${h.level} (« ${h.text} »), not an h1`
          : `h${previous} followed by h${h.level} (« ${h.text} »)`,
      );
    }
    previous = h.level;
  }
  return { headings, problems };
}

/**
 * Presses Tab (or Shift+Tab) until the focused element matches `selector`;
 * fails after `max` presses.
 */
async function tabTo(page, selector, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  const where = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 160));
  assert.fail(`${max} presses of ${back ? 'Shift+Tab' : 'Tab'} never reached ${selector} (focus on ${where})`);
}

/** A short description of the focused element, for assertion messages. */
const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    if (!a) return null;
    return {
      tag: a.tagName.toLowerCase(),
      id: a.id,
      name: a.getAttribute('name'),
      value: a.value ?? null,
      text: a.textContent.replace(/\s+/g, ' ').trim().slice(0, 80),
      inMain: !!a.closest('main'),
    };
  });

const h1Text = (page) => page.evaluate(() => document.querySelector('h1')?.textContent.replace(/\s+/g, ' ').trim() ?? '');

/**
 * Waits for guide.js to replace the step after a submission: a new h1,
 * focus on it (or at least inside main), the new heading announced in the
 * live region, and no page load (the marker set on the first page survives).
 */
async function expectNewStep(page, previousH1, expected) {
  await page.waitForFunction(
    (prev) => {
      const h = document.querySelector('h1');
      return h && h.textContent.replace(/\s+/g, ' ').trim() !== prev && !document.querySelector('main[aria-busy]');
    },
    previousH1,
    { timeout: 10_000 },
  );
  const h1 = await h1Text(page);
  assert.match(h1, expected, `new step heading after « ${previousH1} »`);
  const f = await focused(page);
  assert.ok(f && (f.tag === 'h1' || f.inMain), `focus should move to the new heading, is on ${JSON.stringify(f)}`);
  await page.waitForFunction(
    (text) => document.getElementById('ld-live')?.textContent.replace(/\s+/g, ' ').trim() === text,
    h1,
    { timeout: 5_000 },
  ).catch(async () => {
    const live = await page.evaluate(() => document.getElementById('ld-live')?.textContent);
    assert.fail(`the live region should announce « ${h1} », holds ${JSON.stringify(live)}`);
  });
  assert.equal(
    await page.evaluate(() => window.ldSamePage === true),
    true,
    'the step should change in place (guide.js), not by loading a new page',
  );
  return h1;
}

// 1. Accessibility audits -------------------------------------------------

for (const theme of THEMES) {
  test(`axe-core: no WCAG 2.1 A/AA violation on any page type (${theme.name})`, { timeout: 180_000 }, async (t) => {
    for (const entry of PAGES) {
      await t.test(entry.name, async () => {
        const { page, url } = await openPage(entry, { theme: theme.param });
        try {
          if (theme.param === 'dsfr') {
            // The DSFR stylesheet is really applied, not a 404.
            const dsfr = await page.evaluate(() =>
              Array.from(document.styleSheets).some((s) => {
                try {
                  return /\/assets\/dsfr\/\d[^/]*\/core\/core\.min\.css/.test(s.href || '') && s.cssRules.length > 100;
                } catch {
                  return false;
                }
              }),
            );
            assert.ok(dsfr, `${url}: the DSFR core stylesheet is not loaded`);
          }
          assert.deepEqual(await auditAxe(page), [], `accessibility violations on ${url}`);
        } finally {
          await page.close();
        }
      });
    }
  });
}

for (const theme of THEMES) {
  test(`axe-core: the commune combobox, open, has no violation (${theme.name})`, { timeout: 60_000 }, async () => {
    const url = urlOf(`/g/immobilier?${TO_COMMUNE}`, { theme: theme.param });
    const { page } = await open(browser.context, url);
    try {
      await page.focus('#commune-q');
      await page.keyboard.type('Rennes');
      const option = page.locator('#commune-q-list [role=option]').first();
      await option.waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.press('ArrowDown');
      assert.equal(await page.getAttribute('#commune-q', 'aria-expanded'), 'true');
      assert.deepEqual(await auditAxe(page), [], `accessibility violations on ${url} with the combobox open`);
    } finally {
      await page.close();
    }
  });
}

// 2. The whole guide with the keyboard alone ---------------------------------

test('keyboard only: the immobilier guide from the first step to the result', { timeout: 120_000 }, async () => {
  const { page } = await open(browser.context, urlOf('/g/immobilier'));
  try {
    await page.evaluate(() => {
      window.ldSamePage = true;
    });
    const kb = page.keyboard;

    // Step 1 (choice): Tab into the radio group, arrow to « Non », Continuer.
    let h1 = await h1Text(page);
    assert.match(h1, /Savez-vous quel document/);
    await tabTo(page, 'input[type=radio][name=savoir]');
    assert.equal((await focused(page)).value, 'oui', 'Tab enters the group on its first radio');
    await kb.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.querySelector('input[name=savoir]:checked')?.value), 'non');
    await tabTo(page, 'form button[type=submit]:not([name])');
    assert.equal((await focused(page)).text, 'Continuer');
    await kb.press('Enter');
    h1 = await expectNewStep(page, h1, /Que cherchez-vous/);

    // Step 2 (multiple): Tab to the first checkbox (the plans), Space, Continuer.
    await tabTo(page, 'input[type=checkbox][name=besoin]');
    assert.equal((await focused(page)).value, 'plans');
    await kb.press('Space');
    assert.deepEqual(
      await page.evaluate(() => Array.from(document.querySelectorAll('input[name=besoin]:checked'), (i) => i.value)),
      ['plans'],
    );
    await tabTo(page, 'form button[type=submit]:not([name])');
    await kb.press('Enter');
    h1 = await expectNewStep(page, h1, /Bon à savoir/);

    // Step 3 (info): Continuer, activated with Space this time.
    await tabTo(page, 'form button[type=submit]:not([name])');
    assert.equal((await focused(page)).text, 'Continuer');
    await kb.press('Space');
    h1 = await expectNewStep(page, h1, /Dans quelle commune/);

    // Step 4 (commune): type, pick from the combobox with ArrowDown + Enter,
    // then Enter submits the form.
    await tabTo(page, '#commune-q');
    assert.equal(await page.getAttribute('#commune-q', 'role'), 'combobox');
    await kb.type('Rennes');
    await page.locator('#commune-q-list [role=option]').first().waitFor({ state: 'visible', timeout: 10_000 });
    const activeOption = () =>
      page.evaluate(() => {
        const id = document.getElementById('commune-q').getAttribute('aria-activedescendant');
        return id ? document.getElementById(id)?.textContent : null;
      });
    // Down the list to Rennes (35); that it should come first is checked
    // by the commune search test below.
    const seen = [];
    for (let i = 0; i < 8; i++) {
      await kb.press('ArrowDown');
      seen.push(await activeOption());
      if (/^Rennes – Ille-et-Vilaine \(35\)/.test(seen.at(-1) ?? '')) break;
    }
    assert.match(seen.at(-1) ?? '', /^Rennes – Ille-et-Vilaine \(35\)/, `ArrowDown never reached Rennes (35): ${JSON.stringify(seen)}`);
    await kb.press('Enter');
    assert.equal(await page.inputValue('input[type=hidden][name=commune]'), '35238', 'the combobox fills the commune code');
    assert.equal(await page.getAttribute('#commune-q', 'aria-expanded'), 'false', 'the list closes after the choice');
    assert.equal((await focused(page)).id, 'commune-q', 'focus stays in the field after the choice');
    await kb.press('Enter');
    h1 = await expectNewStep(page, h1, /Quelle année vous intéresse/);

    // Step 5 (date): type the year; Tab past Continuer to « Je ne sais pas »,
    // Shift+Tab back to Continuer, Enter.
    await tabTo(page, '#annee');
    await kb.type('1985');
    await tabTo(page, 'form button[type=submit][name=year]');
    assert.equal((await focused(page)).text, 'Je ne sais pas');
    await tabTo(page, 'form button[type=submit]:not([name])', { back: true, max: 1 });
    await kb.press('Enter');
    h1 = await expectNewStep(page, h1, /Où trouver ce document/);

    // Result.
    const main = await page.locator('main').innerText();
    assert.match(main, /Archives de Rennes/);
    assert.match(main, /1985/);
    const url = new URL(page.url());
    assert.equal(url.pathname, '/g/immobilier');
    assert.equal(url.searchParams.get('commune'), '35238');
    assert.equal(url.searchParams.get('year'), '1985');
  } finally {
    await page.close();
  }
});

test('commune search: « renne » proposes Rennes (Ille-et-Vilaine, 35) first, with and without JavaScript', { timeout: 60_000 }, async () => {
  // Without JavaScript: the list of matches, its first radio checked, so
  // that « Continuer » right away keeps the commune that was typed. (The
  // whole name « Rennes » goes straight on: see guide-steps.test.mjs.)
  const noJs = `/g/immobilier?${TO_COMMUNE}&commune_q=renne&commune=`;
  const { page } = await open(browser.context, urlOf(noJs));
  try {
    const radios = await page.evaluate(() =>
      Array.from(document.querySelectorAll('input[type=radio][name=commune]'), (r) => ({
        value: r.value,
        label: r.labels[0]?.textContent.replace(/\s+/g, ' ').trim(),
        checked: r.checked,
      })),
    );
    assert.deepEqual(radios[0], { value: '35238', label: 'Rennes (Ille-et-Vilaine, 35)', checked: true }, `radios: ${JSON.stringify(radios)}`);

    // With JavaScript: the first option of the combobox.
    await page.goto(urlOf(`/g/immobilier?${TO_COMMUNE}`));
    await page.focus('#commune-q');
    await page.keyboard.type('Rennes');
    const first = page.locator('#commune-q-list [role=option]').first();
    await first.waitFor({ state: 'visible', timeout: 10_000 });
    const options = await page.locator('#commune-q-list [role=option]').allTextContents();
    assert.match(options[0], /^Rennes – Ille-et-Vilaine \(35\)/, `options: ${JSON.stringify(options)}`);
  } finally {
    await page.close();
  }
});

test('commune step with its list of matches: a commune chosen in the combobox is the one kept', { timeout: 60_000 }, async () => {
  // A person typed « renne » and got the list of matches (first radio
  // checked); then types another name in the field and picks it with the
  // keyboard: that commune, not the checked radio, must be answered.
  const { page } = await open(browser.context, urlOf(`/g/immobilier?${TO_COMMUNE}&commune_q=renne&commune=`));
  try {
    await page.evaluate(() => {
      window.ldSamePage = true;
    });
    const h1 = await h1Text(page);
    await tabTo(page, '#commune-q');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Brest');
    await page.locator('#commune-q-list [role=option]').first().waitFor({ state: 'visible', timeout: 10_000 });
    const seen = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('ArrowDown');
      seen.push(
        await page.evaluate(() => {
          const id = document.getElementById('commune-q').getAttribute('aria-activedescendant');
          return id ? document.getElementById(id)?.textContent : null;
        }),
      );
      if (/^Brest – Finistère \(29\)/.test(seen.at(-1) ?? '')) break;
    }
    assert.match(seen.at(-1) ?? '', /^Brest – Finistère \(29\)/, `ArrowDown never reached Brest (29): ${JSON.stringify(seen)}`);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await expectNewStep(page, h1, /Quelle année vous intéresse/);
    assert.equal(new URL(page.url()).searchParams.getAll('commune').join(','), '29019', `answered ${page.url()}`);
  } finally {
    await page.close();
  }
});

// 3. Visible focus -----------------------------------------------------------

for (const theme of THEMES) {
  test(`visible focus: a radio and a button focused with the keyboard are outlined (${theme.name})`, { timeout: 60_000 }, async () => {
    const { page } = await open(browser.context, urlOf('/g/immobilier', { theme: theme.param }));
    try {
      const outline = () =>
        page.evaluate(() => {
          const s = getComputedStyle(document.activeElement);
          return { style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor, shadow: s.boxShadow };
        });
      const visible = (o) => o.style !== 'none' && parseFloat(o.width) >= 1;
      await tabTo(page, 'input[type=radio][name=savoir]');
      const radio = await outline();
      assert.ok(visible(radio), `focused radio has no visible outline: ${JSON.stringify(radio)}`);
      await tabTo(page, 'form button[type=submit]:not([name])');
      const button = await outline();
      assert.ok(visible(button), `focused button has no visible outline: ${JSON.stringify(button)}`);
    } finally {
      await page.close();
    }
  });
}

// 4. Language, headings, cookies ---------------------------------------------

test('every page type: lang set, a title, one h1, headings that do not skip a level', { timeout: 120_000 }, async (t) => {
  for (const entry of PAGES) {
    await t.test(entry.name, async () => {
      const { page, url } = await openPage(entry);
      try {
        const outline = await pageOutline(page);
        assert.equal(outline.lang, 'fr', url);
        assert.notEqual(outline.title, '', url);
        assert.equal(outline.h1.length, 1, `${url}: exactly one h1, got ${JSON.stringify(outline.h1)}`);
        const { headings, problems } = await headingProblems(page);
        assert.deepEqual(problems, [], `${url}: heading outline ${JSON.stringify(headings.map((h) => `h${h.level} ${h.text}`))}`);
      } finally {
        await page.close();
      }
    });
  }
});

test('lang=en: the interface and the lang attribute are English', { timeout: 30_000 }, async () => {
  const { page } = await open(browser.context, urlOf('/g/immobilier', { lang: 'en' }));
  try {
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await h1Text(page), /Do you know which document/);
  } finally {
    await page.close();
  }
});

// 5. Back button ---------------------------------------------------------------

/** The address's query without its run id (every page after the first carries one). */
function searchWithoutRun(url) {
  const u = new URL(url);
  u.searchParams.delete('run');
  return u.search;
}

async function twoStepsThenBack(page) {
  await page.check('input[name=savoir][value=non]');
  await page.click('form button[type=submit]:not([name])');
  await page.waitForFunction(() => /Que cherchez-vous/.test(document.querySelector('h1')?.textContent ?? ''));
  await page.check('input[name=besoin][value=plans]');
  await page.click('form button[type=submit]:not([name])');
  await page.waitForFunction(() => /Bon à savoir/.test(document.querySelector('h1')?.textContent ?? ''));
  assert.equal(searchWithoutRun(page.url()), `?${TO_INFO}`);
  const run = new URL(page.url()).searchParams.get('run');
  assert.match(run, /^[A-Za-z0-9_-]{38}$/);

  await page.goBack();
  await page.waitForFunction(() => /Que cherchez-vous/.test(document.querySelector('h1')?.textContent ?? ''), null, {
    timeout: 10_000,
  });
  assert.equal(searchWithoutRun(page.url()), `?${TO_MULTIPLE}`);
  assert.equal(new URL(page.url()).searchParams.get('run'), run);
  assert.ok((await page.locator('input[type=checkbox][name=besoin]').count()) > 0, 'the multiple-choice step is back');

  await page.goBack();
  await page.waitForFunction(() => /Savez-vous quel document/.test(document.querySelector('h1')?.textContent ?? ''), null, {
    timeout: 10_000,
  });
  assert.equal(new URL(page.url()).search, '');
}

test('back button: after two steps, goBack shows the previous steps (with guide.js)', { timeout: 60_000 }, async () => {
  const { page } = await open(browser.context, urlOf('/g/immobilier'));
  try {
    await twoStepsThenBack(page);
    // guide.js reloaded the step in place and moved the focus to it.
    assert.equal((await focused(page)).tag, 'h1');
  } finally {
    await page.close();
  }
});

test('back button: after two steps, goBack shows the previous steps (without JavaScript)', { timeout: 60_000 }, async () => {
  const page = await browser.context.newPage();
  try {
    await page.route('**/assets/guide.js*', (route) => route.abort());
    await page.goto(urlOf('/g/immobilier'), { waitUntil: 'load' });
    await twoStepsThenBack(page);
  } finally {
    await page.close();
  }
});

test('no silent step: an empty « Continuer » and a wrong year are said, announced, with focus on the field', { timeout: 60_000 }, async () => {
  for (const js of [true, false]) {
    const page = await browser.context.newPage();
    try {
      if (!js) await page.route('**/assets/guide.js*', (route) => route.abort());
      await page.goto(urlOf('/g/immobilier'), { waitUntil: 'load' });
      // « Continuer » with nothing chosen.
      await Promise.all([
        js ? page.waitForFunction(() => !!document.getElementById('erreur')) : page.waitForNavigation(),
        page.getByRole('button', { name: 'Continuer' }).click(),
      ]);
      assert.match(await page.locator('#erreur').innerText(), /Choisissez une réponse/);
      assert.equal(await page.locator('fieldset').getAttribute('aria-describedby'), 'erreur');
      if (js) {
        await page.waitForFunction(() => /Choisissez une réponse/.test(document.getElementById('ld-live').textContent));
        assert.equal(await page.evaluate(() => document.activeElement.getAttribute('name')), 'savoir');
      }
      // A year that is not one.
      await page.goto(urlOf(`/g/immobilier?${TO_DATE}`), { waitUntil: 'load' });
      await page.locator('#annee').fill('85');
      await Promise.all([
        js ? page.waitForFunction(() => !!document.getElementById('erreur')) : page.waitForNavigation(),
        page.getByRole('button', { name: 'Continuer' }).click(),
      ]);
      assert.match(await page.locator('#erreur').innerText(), /« 85 » n'est pas une année/);
      assert.equal(await page.locator('#annee').getAttribute('aria-invalid'), 'true');
      assert.match(await page.locator('#annee').getAttribute('aria-describedby'), /erreur/);
      if (js) {
        await page.waitForFunction(() => /n'est pas une année/.test(document.getElementById('ld-live').textContent));
        assert.equal(await page.evaluate(() => document.activeElement.id), 'annee');
      }
      assert.deepEqual(await auditAxe(page), [], `accessibility violations on the error, ${js ? 'with' : 'without'} JavaScript`);
      // « Je ne sais pas »: the whole timeline, never « Indiquez une année ».
      await page.locator('#annee').fill('');
      await Promise.all([
        js ? page.waitForFunction(() => document.getElementById('ld-state')?.dataset.step === 'resultat') : page.waitForNavigation(),
        page.getByRole('button', { name: 'Je ne sais pas' }).click(),
      ]);
      assert.doesNotMatch(await page.locator('main').innerText(), /Indiquez une année/);
      assert.equal(await page.evaluate(() => document.getElementById('ld-state').dataset.step), 'resultat');
    } finally {
      await page.close();
    }
  }
});

// Last: every test above ran in this browser profile.
test('no cookie was set by any page visited', async () => {
  assert.deepEqual(await browser.context.cookies(), []);
});
