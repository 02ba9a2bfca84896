// English all the way: with lang=en, every question, help text and choice
// of every demo guide is in English (each compared with the same page in
// French), with and without guide.js, at 1280 and 390 px, axe-clean; a
// text without translation says lang="fr" (a guide imported with one
// step left in French), and `locadocs check` names it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useServer, useBrowser, auditAxe } from './harness.mjs';

const server = useServer();
const browser = useBrowser();

const GUIDES = ['immobilier', 'etat-civil', 'divorce', 'travaux-site-protege'];
const url = (path) => new URL(path, server.baseUrl).href;

/**
 * The guide's own texts on the page (heading, help, content, choices) and
 * whether each says lang="fr"; on an answer, its heading only (the rest is
 * data: names, addresses).
 */
function guideTexts(page) {
  return page.evaluate(() => {
    const pick = (sel) =>
      Array.from(document.querySelectorAll(sel)).map((e) => ({
        text: e.textContent.replace(/\s+/g, ' ').trim(),
        fr: !!e.closest('[lang=fr]'),
      }));
    const answer = document.getElementById('ld-state')?.dataset.step === 'resultat';
    const step = 'main form:not([role=search])';
    return {
      lang: document.documentElement.lang,
      items: answer
        ? pick('main h1')
        : [
            ...pick('main h1'),
            // The step's help, not the interface's hints (commune, year).
            ...pick(`${step} p.help:not([id])`),
            ...pick(`${step} > p:not(.help):not(.error)`),
            ...pick(`${step} > ul li`),
            ...pick(`${step} .choices .choice > span > span`),
            ...pick(`${step} .choices .choice small`),
            // A dead end's text.
            ...pick('main > p:not(.no-print):not(.guide-title):not(.notice)'),
            ...pick('main > ul:not(.path) li'),
          ],
    };
  });
}

/** Answers the current step with its first choice, Rennes, 1990 or « Continue ». */
async function answer(page, js) {
  const nav = (action) =>
    js
      ? Promise.all([page.waitForResponse((r) => r.url().includes('/g/') && r.request().method() === 'GET'), action()]).then(() => page.waitForTimeout(150))
      : Promise.all([page.waitForNavigation(), action()]);
  if (await page.locator('#commune-q').count()) {
    await page.locator('#commune-q').fill('Rennes');
    return nav(() => page.locator('#commune-q').press('Enter'));
  }
  if (await page.locator('#annee').count()) {
    await page.locator('#annee').fill('1990');
    return nav(() => page.locator('form:not([role=search]) button[type=submit]:not([name])').click());
  }
  const choice = page.locator('main .choices input').first();
  if (await choice.count()) await choice.check();
  return nav(() => page.locator('form:not([role=search]) button[type=submit]:not([name])').click());
}

const stepOf = (page) => page.evaluate(() => document.getElementById('ld-state')?.dataset.step);

for (const { name, js, width, height } of [
  { name: 'with JavaScript, desktop', js: true, width: 1280, height: 900 },
  { name: 'without JavaScript, 390 px', js: false, width: 390, height: 844 },
]) {
  test(`every demo guide reads in English from its first step to its answer (${name})`, { timeout: 240_000 }, async () => {
    const page = await browser.context.newPage();
    const fr = await browser.context.newPage();
    await page.setViewportSize({ width, height });
    if (!js) await page.route('**/assets/guide.js*', (route) => route.abort());
    try {
      for (const slug of GUIDES) {
        await page.goto(url(`/g/${slug}?lang=en`), { waitUntil: 'load' });
        const seen = [];
        for (let i = 0; i < 15; i++) {
          const step = await stepOf(page);
          seen.push(step);
          const en = await guideTexts(page);
          assert.equal(en.lang, 'en', `${slug}/${step}`);
          // The same page in French: every text of the guide differs.
          const address = new URL(page.url());
          address.searchParams.delete('lang');
          await fr.goto(address.href, { waitUntil: 'load' });
          const french = await guideTexts(fr);
          assert.equal(french.lang, 'fr');
          assert.equal(en.items.length, french.items.length, `${slug}/${step}: ${JSON.stringify([en.items, french.items])}`);
          en.items.forEach((item, k) => {
            assert.equal(item.fr, false, `${slug}/${step}: « ${item.text} » is marked French`);
            assert.notEqual(item.text, french.items[k].text, `${slug}/${step}: « ${item.text} » is not translated`);
          });
          assert.deepEqual(await auditAxe(page), [], `${slug}/${step} in English`);
          if (step === 'resultat' || (await page.locator('textarea#suggestion').count())) break;
          await answer(page, js);
          await page.waitForFunction((s) => document.getElementById('ld-state')?.dataset.step !== s || !!document.getElementById('erreur'), step);
          assert.equal(await page.locator('#erreur').count(), 0, `${slug}: an error after ${step}`);
        }
        assert.equal(seen.at(-1), 'resultat', `${slug}: ${seen.join(' → ')}`);
        // On the answer, the document's name (data, in French) says so.
        const label = page.locator('main section.document h2').first();
        assert.equal(await label.getAttribute('lang'), 'fr', `${slug}: the document's name`);
      }
    } finally {
      await page.close();
      await fr.close();
    }
  });
}

test('a text without translation says lang="fr", and `locadocs check` names it', { timeout: 120_000 }, async () => {
  const file = join(server.dir, 'essai.toml');
  await writeFile(
    file,
    `slug = "essai-traduction"
title = "Guide d'essai"

[translations.en]
title = "Test guide"

[translations.en.steps.doc]
choices = { pc = "A building permit" }

[translations.en.steps.date]
question = "What year?"

[[steps]]
id = "doc"
kind = "choice"
question = "Quel document cherchez-vous ?"
help = "Une aide restée en français."
next = "commune"
choices = [
  { value = "pc", label = "Un permis de construire", set = { document_type = "permis-de-construire" } },
  { value = "cad", label = "Le cadastre", set = { document_type = "cadastre" } },
]

[[steps]]
id = "commune"
kind = "commune"
question = "Dans quelle commune ?"
next = "date"

[[steps]]
id = "date"
kind = "date"
question = "De quelle année ?"
next = "fin"

[[steps]]
id = "fin"
kind = "result"
question = "Résultat"
`,
  );
  await server.cli('import', 'guide', file);
  const report = await server.cli('check');
  assert.match(report, /guide essai-traduction : \d+ texte\(s\) sans traduction « en »[^\n]*étape « doc » : question[^\n]*choix « cad »/);
  assert.doesNotMatch(report, /guide immobilier : \d+ texte\(s\) sans traduction/);
  // The settings of the legal notice are unset on this server: check says so.
  assert.match(report, /avertissement : LOCADOCS_PUBLISHER \(--publisher\) n'est pas renseigné/);
  assert.match(report, /avertissement : LOCADOCS_CONTACT_EMAIL/);

  const page = await browser.context.newPage();
  try {
    // The server sees the new guide at its next refresh.
    for (let i = 0; i < 60; i++) {
      const r = await page.goto(url('/g/essai-traduction?lang=en'), { waitUntil: 'load' });
      if (r.status() === 200) break;
      await page.waitForTimeout(250);
    }
    assert.equal(await page.locator('legend h1').getAttribute('lang'), 'fr');
    assert.equal(await page.locator('fieldset > p.help').getAttribute('lang'), 'fr');
    const labels = await page.locator('.choices .choice > span > span').evaluateAll((xs) => xs.map((x) => [x.textContent, x.getAttribute('lang')]));
    assert.deepEqual(labels, [['A building permit', null], ['Le cadastre', 'fr']]);
    assert.equal(await page.locator('p.guide-title').getAttribute('lang'), null);
    // The engine's messages are French: an empty « Continue » says so in French, marked.
    await Promise.all([page.waitForFunction(() => !!document.getElementById('erreur')), page.getByRole('button', { name: 'Continue' }).click()]);
    assert.equal(await page.locator('#erreur').getAttribute('lang'), 'fr');
    assert.deepEqual(await auditAxe(page), []);
    // A translated step is not marked.
    await page.goto(url('/g/essai-traduction?lang=en&doc=pc&commune=35238'), { waitUntil: 'load' });
    assert.equal(await page.locator('h1').innerText(), 'What year?');
    assert.equal(await page.locator('h1').getAttribute('lang'), null);
    // The path: the question left in French is marked, the translated answer is not.
    const row = page.locator('ul.path li').first();
    assert.equal(await row.locator('.q').getAttribute('lang'), 'fr');
    assert.equal(await row.locator('strong').getAttribute('lang'), null);
    assert.deepEqual(await auditAxe(page), []);
  } finally {
    await page.close();
  }
});
