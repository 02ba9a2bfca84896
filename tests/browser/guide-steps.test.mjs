// A person meets no silent step and every page a public service must have:
// a commune typed in full goes straight on, an ambiguous one asks for a
// choice in the list (with the département's name), a period of years is
// answered for the whole period, search results and thanks are read out;
// the legal notice carries the settings' publisher, director and host, the
// contact page exists, guide pages have a light header with a link home
// (never inside the widget) and an icon, the dead end's hints are a list.
// Each with and without guide.js, at 1280 and 390 px wide, axe-clean.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, useBrowser, auditAxe } from './harness.mjs';

const server = useServer({
  extraEnv: {
    LOCADOCS_PUBLISHER: 'Ville de Testville, 1 place de la Mairie, 99000 Testville',
    LOCADOCS_PUBLICATION_DIRECTOR: 'Le maire de Testville',
    LOCADOCS_HOSTING_PROVIDER: 'Hébergeur Exemple, 2 rue du Serveur, 75000 Paris, 01 00 00 00 00',
    LOCADOCS_CONTACT_EMAIL: 'contact@testville.example',
  },
});
const browser = useBrowser();

// demo/guides/immobilier.toml: « savoir=non », « besoin=plans » (building
// permit), the « urbanisme » info step, then the commune and date steps.
const TO_COMMUNE = 'savoir=non&besoin=plans&urbanisme=ok';
const TO_DATE = `${TO_COMMUNE}&commune=35238`;

const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: '390 px', width: 390, height: 844 },
];
const MODES = [
  { name: 'with JavaScript', js: true },
  { name: 'without JavaScript', js: false },
];

const url = (path) => new URL(path, server.baseUrl).href;

/** A page at this width, with or without the guide's script. */
async function newPage({ js, width, height }) {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width, height });
  if (!js) await page.route('**/assets/guide.js*', (route) => route.abort());
  return page;
}

/** Runs `action`, then waits for the step it leads to (in place with JS, a navigation without). */
async function step(page, js, action, until) {
  await Promise.all([js ? page.waitForFunction(until) : page.waitForNavigation(), action()]);
  if (!js) await page.waitForFunction(until);
}

const liveText = (page) => page.evaluate(() => document.getElementById('ld-live').textContent);

for (const w of WIDTHS) {
  for (const m of MODES) {
    const label = `${m.name}, ${w.name}`;

    test(`commune typed in full: « Rennes » and « 29200 » go straight on, « Saint-Denis » asks for the list (${label})`, { timeout: 120_000 }, async () => {
      const page = await newPage({ ...m, ...w });
      try {
        for (const [typed, code] of [['Rennes', '35238'], ['29200', '29019']]) {
          await page.goto(url(`/g/immobilier?${TO_COMMUNE}`), { waitUntil: 'load' });
          await page.locator('#commune-q').fill(typed);
          await step(page, m.js, () => page.locator('#commune-q').press('Enter'), () => !!document.getElementById('annee'));
          assert.match(await page.locator('h1').innerText(), /Quelle année vous intéresse/, typed);
          assert.equal(await page.locator('#erreur').count(), 0, typed);
          // The path names the commune that was taken.
          assert.match(await page.locator('ul.path').innerText(), code === '35238' ? /Rennes/ : /Brest/);
          await page.locator('#annee').fill('2000');
          await step(page, m.js, () => page.getByRole('button', { name: 'Continuer' }).click(), () => document.getElementById('ld-state')?.dataset.step === 'resultat');
          assert.equal(new URL(page.url()).searchParams.get('commune'), code, typed);
        }
        // Several communes of that name: the list, and what to do with it.
        await page.goto(url(`/g/immobilier?${TO_COMMUNE}`), { waitUntil: 'load' });
        await page.locator('#commune-q').fill('Saint-Denis');
        await step(page, m.js, () => page.locator('#commune-q').press('Enter'), () => !!document.getElementById('erreur'));
        assert.equal(await page.locator('#erreur').innerText(), 'Choisissez votre commune dans la liste.');
        assert.equal(await page.locator('#commune-q').getAttribute('aria-invalid'), 'true');
        assert.match(await page.locator('#commune-q').getAttribute('aria-describedby'), /\berreur\b/);
        const labels = await page.locator('input[type=radio][name=commune]').evaluateAll((rs) =>
          rs.map((r) => r.labels[0].textContent.replace(/\s+/g, ' ').trim()),
        );
        assert.ok(labels.some((l) => /^Saint-Denis \(Seine-Saint-Denis, 93\)/.test(l)), JSON.stringify(labels));
        assert.ok(labels.some((l) => /^Saint-Denis \(La Réunion, 974\)/.test(l)), JSON.stringify(labels));
        if (m.js) {
          await page.waitForFunction(() => /Choisissez votre commune dans la liste/.test(document.getElementById('ld-live').textContent));
          assert.equal(await page.evaluate(() => document.activeElement.id), 'commune-q');
        }
        assert.deepEqual(await auditAxe(page), [], 'the list of communes to choose from');
        // With JavaScript, the combobox's options name the département too.
        if (m.js) {
          await page.locator('#commune-q').fill('');
          await page.locator('#commune-q').pressSequentially('Saint-Denis');
          await page.locator('#commune-q-list [role=option]').first().waitFor({ state: 'visible', timeout: 10_000 });
          const options = await page.locator('#commune-q-list [role=option]').allTextContents();
          assert.ok(options.some((o) => /^Saint-Denis – Seine-Saint-Denis \(93\)/.test(o)), JSON.stringify(options));
        }
      } finally {
        await page.close();
      }
    });

    test(`a period of years is answered for the whole period, never cut (${label})`, { timeout: 60_000 }, async () => {
      const page = await newPage({ ...m, ...w });
      try {
        await page.goto(url(`/g/immobilier?${TO_DATE}`), { waitUntil: 'load' });
        assert.match(await page.locator('label[for=annee]').innerText(), /période/);
        await page.locator('#annee').fill('2010-2016');
        await step(page, m.js, () => page.getByRole('button', { name: 'Continuer' }).click(), () => document.getElementById('ld-state')?.dataset.step === 'resultat');
        const main = await page.locator('main').innerText();
        assert.match(main, /de 2010 à 2016/);
        // Both holders of the period: the city archives until 30 June 2015,
        // the métropole's « Droit des sols » since.
        assert.match(main, /Archives de Rennes[\s\S]*Rennes Métropole/);
        assert.equal(new URL(page.url()).searchParams.get('year'), '2010-2016');
        assert.deepEqual(await auditAxe(page), [], 'the answer for a period');
        // Backwards: said, at the field.
        await page.goto(url(`/g/immobilier?${TO_DATE}`), { waitUntil: 'load' });
        await page.locator('#annee').fill('1990-1985');
        await step(page, m.js, () => page.getByRole('button', { name: 'Continuer' }).click(), () => !!document.getElementById('erreur'));
        assert.match(await page.locator('#erreur').innerText(), /l'année la plus ancienne/);
        assert.equal(await page.locator('#annee').getAttribute('aria-invalid'), 'true');
      } finally {
        await page.close();
      }
    });

    test(`search results and the thanks for a rating are read out (${label})`, { timeout: 60_000 }, async () => {
      const page = await newPage({ ...m, ...w });
      try {
        await page.goto(url('/g/immobilier'), { waitUntil: 'load' });
        await page.locator('#cherche').fill('permis');
        await step(page, m.js, () => page.locator('#cherche').press('Enter'), () => !!document.getElementById('resultats'));
        const summary = await page.locator('#resultats').innerText();
        assert.match(summary, /^\d+ réponses? correspond/);
        assert.ok((await page.locator('form[role=search] li a').count()) >= 1);
        assert.equal(new URL(page.url()).hash, '#resultats');
        if (m.js) {
          await page.waitForFunction((s) => document.getElementById('ld-live').textContent === s, summary);
          assert.equal(await page.evaluate(() => document.activeElement.id), 'resultats');
        }
        assert.deepEqual(await auditAxe(page), [], 'the search results');
        // A rating sent: back on the answer, at the thanks.
        await page.goto(url('/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015'), { waitUntil: 'load' });
        await page.locator('label[for=note-3]').click();
        await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Envoyer' }).click()]);
        assert.equal(new URL(page.url()).hash, '#merci');
        assert.equal(await page.locator('#merci').innerText(), 'Merci pour votre avis.');
        if (m.js) {
          await page.waitForFunction(() => document.getElementById('ld-live').textContent === 'Merci pour votre avis.');
          assert.equal(await page.evaluate(() => document.activeElement.id), 'merci');
        }
        assert.deepEqual(await auditAxe(page), [], 'the thanks');
      } finally {
        await page.close();
      }
    });

    test(`« Je cherche… » finds the needs the guides list and leads into the guide that answers (${label})`, { timeout: 60_000 }, async () => {
      const page = await newPage({ ...m, ...w });
      const search = async (guide, q) => {
        await page.goto(url(`/g/${guide}`), { waitUntil: 'load' });
        await page.locator('#cherche').fill(q);
        await step(page, m.js, () => page.locator('#cherche').press('Enter'), () => !!document.getElementById('resultats'));
        return page.locator('form[role=search] li').evaluateAll((lis) =>
          lis.map((li) => ({ text: li.textContent.replace(/\s+/g, ' ').trim(), href: li.querySelector('a').getAttribute('href') })),
        );
      };
      try {
        // Needs, in the words people use.
        for (const [q, label, doc, guide] of [
          ['plans de ma maison', /^Les plans de la maison/, 'permis-de-construire', 'immobilier'],
          ['mitoyenneté', /^Savoir si un mur ou une clôture est mitoyen/, 'acte-notarie', 'immobilier'],
          ['année de construction', /^L'année de construction/, 'cadastre', 'immobilier'],
          ['anciens propriétaires', /^Les propriétaires successifs du bien/, 'registre-hypotheques', 'immobilier'],
          ['PLU', /^Plan local d'urbanisme \(PLU\)/, 'plan-local-urbanisme', 'immobilier'],
          // Asked from the property guide, answered by the civil-status one.
          ['livret de famille', /^Un acte de mariage/, 'acte-de-mariage', 'etat-civil'],
        ]) {
          const hits = await search('immobilier', q);
          const hit = hits.find((h) => label.test(h.text));
          assert.ok(hit, `${q}: ${JSON.stringify(hits)}`);
          const to = new URL(hit.href, server.baseUrl);
          assert.equal(to.pathname, `/g/${guide}`, q);
          assert.ok(to.searchParams.getAll('document_type').includes(doc), `${q}: ${hit.href}`);
        }
        // A permit looked for from the civil-status guide: the property
        // guide, said so, and its own commune question.
        // Each guide gives its own examples.
        await page.goto(url('/g/etat-civil'), { waitUntil: 'load' });
        const hint = await page.locator('#cherche-aide').innerText();
        assert.match(hint, /par exemple « Acte de naissance »/);
        assert.doesNotMatch(hint, /permis/i);
        await page.goto(url('/g/immobilier'), { waitUntil: 'load' });
        assert.match(await page.locator('#cherche-aide').innerText(), /« Permis de construire »/);
        const hits = await search('etat-civil', 'permis de construire');
        const permit = hits.find((h) => /^Permis de construire/.test(h.text));
        assert.ok(permit, JSON.stringify(hits));
        assert.match(permit.text, /\(guide « Trouver un document sur un terrain, une maison ou un immeuble »\)/);
        assert.equal(new URL(permit.href, server.baseUrl).pathname, '/g/immobilier');
        assert.deepEqual(await auditAxe(page), [], 'results leading to another guide');
        await step(page, m.js, () => page.locator(`form[role=search] a[href="${permit.href}"]`).click(), () => /\/g\/immobilier/.test(location.pathname));
        await page.waitForFunction(() => !!document.querySelector('main h1'));
        const h1 = await page.locator('main h1').innerText();
        assert.doesNotMatch(h1, /événement/);
        assert.match(h1, /Bon à savoir|Dans quelle commune se trouve le bien/);
      } finally {
        await page.close();
      }
    });

    test(`pages a public service must have: legal notice, contact, accessibility, header, icon, dead end (${label})`, { timeout: 120_000 }, async () => {
      const page = await newPage({ ...m, ...w });
      try {
        const checks = [
          ['/mentions-legales', /Éditeur du site : Ville de Testville, 1 place de la Mairie[\s\S]*Directeur de la publication : Le maire de Testville[\s\S]*Hébergeur : Hébergeur Exemple/],
          ['/contact', /Locadocs ne détient aucun document[\s\S]*écrivez-nous/],
          ['/accessibilite', /non conforme[\s\S]*aucun audit[\s\S]*axe-core/],
          ['/integrer', /n'a pas encore été auditée/],
          ['/g/immobilier', /Savez-vous|document/],
          ['/g/immobilier?savoir=oui&document=autre', /Quelques pistes/],
        ];
        for (const [path, text] of checks) {
          const response = await page.goto(url(path), { waitUntil: 'load' });
          assert.equal(response.status(), 200, path);
          assert.match(await page.locator('main').innerText(), text, path);
          // The light header: a link home, named, before the content.
          const home = page.locator('header.site-header a[href="/"]');
          assert.equal(await home.count(), 1, `${path}: a link home in the header`);
          assert.match(await home.innerText(), /Locadocs/);
          assert.equal(await page.locator('link[rel=icon][type="image/svg+xml"]').count(), 1, `${path}: the icon`);
          assert.equal(await page.locator('footer a[href="/contact"]').count(), 1, `${path}: the contact link`);
          assert.deepEqual(await auditAxe(page), [], path);
        }
        await page.goto(url('/integrer'), { waitUntil: 'load' });
        assert.doesNotMatch(await page.locator('main').innerText(), /respecte le RGAA/);
        await page.goto(url('/contact'), { waitUntil: 'load' });
        assert.equal(await page.locator('main a[href="mailto:contact@testville.example"]').count(), 1);
        // The dead end's hints are a list.
        await page.goto(url('/g/immobilier?savoir=oui&document=autre'), { waitUntil: 'load' });
        const items = await page.locator('main ul:not(.path) li').allTextContents();
        assert.equal(items.length, 3, JSON.stringify(items));
        assert.match(items[0], /^la mairie de la commune/);
        // Inside the widget: no header (the host page has its own).
        await page.goto(url('/g/immobilier?embed=1'), { waitUntil: 'load' });
        assert.equal(await page.locator('header.site-header').count(), 0, 'no header inside the widget');
        // The icon itself.
        const icon = await page.request.get(url('/assets/favicon.svg'));
        assert.equal(icon.status(), 200);
        assert.equal(icon.headers()['content-type'], 'image/svg+xml');
        assert.match(await icon.text(), /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      } finally {
        await page.close();
      }
    });
  }
}
