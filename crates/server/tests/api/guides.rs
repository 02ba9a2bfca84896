use locadocs::import;
use locadocs::store::Changes;

use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

async fn with_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("demo data loads");
    app.refresh().await;
}

/// The run id a guide page carries in its forms.
fn run_of(html: &str) -> String {
    let at = html
        .find("name=\"run\" value=\"")
        .unwrap_or_else(|| panic!("no run in {html}"));
    let rest = &html[at + "name=\"run\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app.get(path).await;
    assert!(
        resp.headers().get("set-cookie").is_none(),
        "{path} must not set a cookie"
    );
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

dual_test!(
    a_preset_link_goes_straight_to_the_answer,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let (status, html) = page(
            app,
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015",
        )
        .await;
        assert_eq!(status, 200);
        assert!(html.contains("<h1>Où trouver ce document</h1>"), "{html}");
        assert!(
            html.contains("Archives de Rennes")
                && html.contains("Du 1er janvier 1908 au 30 juin 2015"),
            "{html}"
        );
        assert!(html.contains("Rennes Métropole") && html.contains("Depuis le 1er juillet 2015"));
        assert!(html.contains("Est-ce que cela vous a été utile ?"));
        assert!(html.contains("lang=\"fr\""));

        // A page that begins a run (a new run id in its links) is never
        // cached; once the run is in the address, conditional requests get
        // 304 while nothing changed.
        let resp = app
            .get("/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015")
            .await;
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert!(resp.headers().get("etag").is_none());
        let run = run_of(&resp.text().await.unwrap());
        let with_run = format!(
            "/g/immobilier?run={run}&document_type=permis-de-construire&commune=35238&year=2015"
        );
        let resp = app.get(&with_run).await;
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        let again = app
            .client
            .get(format!("{}{with_run}", app.base))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304);

        // Unknown date: the whole timeline; a former commune names the current one.
        let (_, html) = page(
            app,
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=inconnu",
        )
        .await;
        assert!(html.contains("date inconnue"), "{html}");
        // The date step's form sends the empty year field and the « Je ne
        // sais pas » button under one name: the button wins.
        let resp = app
            .get(
                "/g/immobilier?document_type=permis-de-construire&commune=35238&year=&year=inconnu",
            )
            .await;
        assert_eq!(resp.status().as_u16(), 303, "to the clean address");
        let to = resp.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(
            to,
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=inconnu"
        );
        let (status, same) = page(app, &to).await;
        assert_eq!(status, 200);
        assert!(same.contains("date inconnue"), "{same}");
        assert!(!same.contains("Indiquez une année"), "{same}");
        // « Continuer » with nothing chosen says so next to the question.
        let (_, first) = page(app, "/g/immobilier").await;
        assert!(first.contains("name=\"savoir\" value=\"\""), "{first}");
        assert!(!first.contains("Choisissez une réponse"), "{first}");
        let (_, empty) = page(app, "/g/immobilier?savoir=").await;
        assert!(empty.contains("Choisissez une réponse"), "{empty}");
        // A town hall's widget keeps its commune through « Recommencer »,
        // and offers a visitor from elsewhere to change it.
        let (_, w) = page(
            app,
            "/g/immobilier?embed=1&commune=35238&host_commune=35238&savoir=non",
        )
        .await;
        let run = run_of(&w);
        assert!(
            w.contains(&format!(
                "href=\"/g/immobilier?embed=1&#38;host_commune=35238&#38;run={run}\""
            )),
            "{w}"
        );
        assert!(w.contains("Chercher pour une autre commune"), "{w}");
        let (_, html) = page(
            app,
            "/g/immobilier?document_type=acte-notarie&commune=50173&year=1990",
        )
        .await;
        assert!(
            html.contains("aujourd&#39;hui Cherbourg-en-Cotentin"),
            "{html}"
        );
        // The national rules name the competent service of the département…
        let (_, html) = page(
            app,
            "/g/immobilier?document_type=permis-de-construire&commune=27229&year=1970",
        )
        .await;
        assert!(
            html.contains("<h3>Archives départementales de l&#39;Eure</h3>")
                && html.contains("souvent après un tri"),
            "{html}"
        );
        // Each holder says where its rule comes from and when it was checked.
        assert!(
            html.contains(
                "Source : Loi du 15 juin 1943 (création du permis de construire) ; loi n° 83-8 du 7 janvier 1983"
            ) && html.contains("art. L212-11. Vérifiée le 1er décembre 2026.</p>"),
            "{html}"
        );
        // Holders oldest first, a period without a holder in its place in
        // time: Rennes before 1908, then its archives, then the métropole.
        let (_, rennes) = page(
            app,
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=inconnu",
        )
        .await;
        let at = |needle: &str| {
            rennes
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} missing: {rennes}"))
        };
        assert!(
            at("Période non renseignée") < at("<h3>Archives de Rennes</h3>")
                && at("<h3>Archives de Rennes</h3>")
                    < at("<h3>Rennes Métropole – service Droit des sols</h3>"),
            "{rennes}"
        );
        // …and a period no holder can be named for says so plainly, with why.
        let (_, html) = page(
            app,
            "/g/immobilier?document_type=declaration-prealable&commune=27229&year=1970",
        )
        .await;
        assert!(
            html.contains("Période non renseignée")
                && html.contains("La déclaration de travaux n&#39;existe que depuis 1986"),
            "{html}"
        );
        // A holder named without contact details comes with a lead.
        let (_, html) = page(
            app,
            "/g/immobilier?document_type=acte-notarie&commune=14001&year=2000",
        )
        .await;
        assert!(
            html.contains("Le notaire qui a reçu l&#39;acte, ou son successeur")
                && html.contains("notaires.fr"),
            "{html}"
        );
    }
);

dual_test!(
    each_step_is_a_plain_get_that_works_without_javascript,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let (status, html) = page(app, "/g/immobilier").await;
        assert_eq!(status, 200);
        assert!(html.contains("Savez-vous quel document contient"), "{html}");
        assert!(html.contains("Je cherche"));
        // The document search finds a branch by an alias.
        let (_, html) = page(app, "/g/immobilier?cherche=PC").await;
        let run = run_of(&html);
        assert!(
            html.contains(&format!(
                "href=\"/g/immobilier?run={run}&#38;document_type=permis-de-construire\""
            )),
            "{html}"
        );
        // Without JavaScript, the commune step lists the matching communes.
        let (_, html) = page(
            app,
            "/g/immobilier?document_type=permis-de-construire&urbanisme=ok&commune_q=rennes",
        )
        .await;
        assert!(html.contains("name=\"commune\" value=\"35238\""), "{html}");
        // Changing an earlier answer drops the later ones: the step's form carries only earlier answers.
        let (_, html) = page(app, "/g/immobilier?savoir=oui").await;
        assert!(html.contains("name=\"savoir\" value=\"oui\""), "{html}");
        assert!(!html.contains("name=\"year\" value=\"2015\""));
        // English interface.
        let (_, html) = page(app, "/g/immobilier?lang=en").await;
        assert!(
            html.contains("lang=\"en\"") && html.contains("Continue"),
            "{html}"
        );
    }
);

dual_test!(forged_query_strings_get_a_clear_page, Geo::Sample, |app| {
    with_demo(app).await;
    let long = "x".repeat(10_000);
    for (path, expected) in [
        ("/g/immobilier?savoir=zzz".to_owned(), "class=\"error\""),
        (
            "/g/immobilier?document_type=permis-de-construire&urbanisme=ok&commune=99999"
                .to_owned(),
            "class=\"error\"",
        ),
        (
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=19850".to_owned(),
            "class=\"error\"",
        ),
        (
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=-3".to_owned(),
            "class=\"error\"",
        ),
        (format!("/g/immobilier?savoir={long}"), "class=\"error\""),
        (
            "/g/immobilier?inconnue=1&autre=%3Cscript%3E".to_owned(),
            "Savez-vous",
        ),
        (
            "/g/immobilier?document_type=%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
            "Recommencer",
        ),
    ] {
        let (status, html) = page(app, &path).await;
        assert!(status < 500, "{path}: {status}");
        assert!(html.contains(expected), "{path}: {html}");
        assert!(!html.contains("<script>alert"), "{path}: unescaped input");
        assert!(
            html.contains("<h1>"),
            "{path}: the page must say where the person is"
        );
    }
    let (status, html) = page(app, "/g/inexistant").await;
    assert_eq!(status, 404);
    assert!(html.contains("Page introuvable") && html.contains("href=\"/\""));
});

dual_test!(
    feedback_and_suggestions_are_stored_without_addresses,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let post = |path: &str, form: Vec<(&str, &str)>| {
            let req = app.client.post(format!("{}{path}", app.base)).form(&form);
            async move { req.send().await.unwrap() }
        };
        let resp = post(
            "/g/immobilier/avis",
            vec![
                ("rating", "4"),
                ("comment", "Clair"),
                ("document_type", "permis-de-construire"),
                ("commune", "35238"),
                (
                    "back",
                    "document_type=permis-de-construire&commune=35238&year=2015",
                ),
            ],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        assert!(
            resp.headers()["location"]
                .to_str()
                .unwrap()
                .contains("merci=1")
        );
        // A bot that fills the hidden field is thanked but not stored.
        let resp = post(
            "/g/immobilier/avis",
            vec![("rating", "1"), ("website", "http://spam.example")],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        let resp = post("/g/immobilier/avis", vec![("rating", "9")]).await;
        assert_eq!(resp.status().as_u16(), 400);
        let long = "é".repeat(5_000);
        post(
            "/g/immobilier/suggestion",
            vec![("text", long.as_str()), ("step", "autre-document")],
        )
        .await;
        let stored = app.store.feedback().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].rating, 4);
        assert_eq!(stored[0].comment.as_deref(), Some("Clair"));
        let suggestions = app.store.suggestions().await.unwrap();
        assert_eq!(suggestions.len(), 1);
        assert_eq!(
            suggestions[0].text.chars().count(),
            1000,
            "texts are cut to 1,000 characters"
        );
        // A flood from one address is refused.
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(
                post("/g/immobilier/avis", vec![("rating", "3")])
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert!(statuses.contains(&429), "{statuses:?}");
    }
);

dual_test!(document_and_required_pages, Geo::Sample, |app| {
    with_demo(app).await;
    let (status, html) = page(app, "/documents/acte-notarie").await;
    assert_eq!(status, 200);
    assert!(html.contains("75 ans"), "{html}");
    assert!(
        html.contains("href=\"/g/immobilier?document_type=acte-notarie\""),
        "{html}"
    );
    for path in [
        "/accessibilite",
        "/mentions-legales",
        "/confidentialite",
        "/documents",
        "/",
    ] {
        let (status, html) = page(app, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("<h1>"), "{path}");
    }
    assert_eq!(page(app, "/documents/nope").await.0, 404);
    // Without an audit, the statement says « non conforme » (RGAA), with
    // the test results it does have.
    let (_, a11y) = page(app, "/accessibilite").await;
    assert!(a11y.contains("est non conforme"), "{a11y}");
    assert!(!a11y.contains("partiellement conforme"), "{a11y}");
    assert!(a11y.contains("axe-core"), "{a11y}");

    // Every page answers a conditional request with 304 while nothing changed.
    // A guide page once its run is in the address (the first page, which
    // begins a run, is never cached).
    let run = run_of(&page(app, "/g/divorce").await.1);
    let divorce = format!("/g/divorce?run={run}");
    for path in [
        "/",
        "/documents",
        "/documents/acte-notarie",
        "/accessibilite",
        "/mentions-legales",
        "/confidentialite",
        divorce.as_str(),
    ] {
        let resp = app.get(path).await;
        let etag = resp
            .headers()
            .get("etag")
            .unwrap_or_else(|| panic!("{path} has no ETag"))
            .to_str()
            .unwrap()
            .to_owned();
        let again = app
            .client
            .get(format!("{}{path}", app.base))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
    }

    // Content written by editors is escaped.
    let mut doc = app
        .store
        .load_ref_data()
        .await
        .unwrap()
        .document_types
        .into_iter()
        .next()
        .unwrap();
    doc.label = "<script>alert(1)</script>".into();
    let slug = doc.slug.to_string();
    app.store
        .apply(
            &Changes {
                upsert_document_types: vec![doc],
                ..Changes::default()
            },
            None,
        )
        .await
        .unwrap();
    app.refresh().await;
    let (_, html) = page(app, &format!("/documents/{slug}")).await;
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            && !html.contains("<script>alert"),
        "{html}"
    );

    // Themes and colours: only a valid colour reaches the page.
    let (_, html) = page(app, "/g/immobilier?theme=dsfr&color=%23ffcc00").await;
    assert!(
        html.contains("/assets/dsfr/core/core.min.css") || html.contains("/assets/dsfr/"),
        "{html}"
    );
    assert!(
        html.contains("--accent:#ffcc00;--accent-text:#000000"),
        "{html}"
    );
    let (_, html) = page(app, "/g/immobilier?color=red;}body{display:none").await;
    assert!(
        !html.contains("<style>:root{--accent"),
        "an invalid colour must not reach the stylesheet"
    );
    // A font family is carried along the steps and reaches the stylesheet.
    let (_, html) = page(app, "/g/immobilier?font=Open%20Sans").await;
    assert!(
        html.contains("--font:\"Open Sans\"") || html.contains("--font:&#34;Open Sans&#34;"),
        "{html}"
    );
    assert!(html.contains("name=\"font\" value=\"Open Sans\""), "{html}");
    let css = app.get("/assets/neutral.css").await;
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
});

/// A page with its apostrophes as written (the templates escape them).
async fn read(app: &TestApp, path: &str) -> (u16, String) {
    let (status, html) = page(app, path).await;
    (status, html.replace("&#39;", "'"))
}

dual_test!(
    answers_say_what_the_person_can_do_and_read_humanly,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        // A former spouse asking for their own judgment: what they may do now
        // leads, the date from which anyone may consult it follows.
        let own = "/g/divorce?a-savoir=ok&procedure=juge&ex-epoux=oui&copie-ex-epoux=ok&commune=27229&year=2010";
        let (status, html) = read(app, own).await;
        assert_eq!(status, 200, "{html}");
        let lead = html
            .find("Vous pouvez l'obtenir dès maintenant.")
            .unwrap_or_else(|| panic!("no lead for one's own judgment: {html}"));
        let others = html
            .find("Pour toute autre personne :")
            .unwrap_or_else(|| panic!("{html}"));
        assert!(lead < others, "what one may do now comes first");
        assert!(html.contains("Chaque ex-époux peut obtenir"), "{html}");
        // One's own birth record (or a close relative's), less than 75 years old.
        let (_, html) = read(
            app,
            "/g/etat-civil?acte=naissance&concerne=oui&delais=ok&commune=35238&year=1990",
        )
        .await;
        assert!(
            html.contains("Vous pouvez l'obtenir dès maintenant."),
            "{html}"
        );
        assert!(
            html.contains("peuvent obtenir à tout moment une copie intégrale"),
            "{html}"
        );
        let (_, html) = read(
            app,
            "/g/etat-civil?acte=naissance&concerne=non&delais=ok&commune=35238&year=1990",
        )
        .await;
        assert!(!html.contains("dès maintenant"), "{html}");
        // Anyone else: the access line as before, no own-record lead.
        let other = "/g/divorce?a-savoir=ok&procedure=juge&ex-epoux=non&commune=27229&year=2010";
        let (_, html) = read(app, other).await;
        assert!(!html.contains("dès maintenant"), "{html}");
        assert!(html.contains("Accès :"), "{html}");

        // « Comment demander » fits the document: no property address for a
        // divorce, no reading room for a notary's deed.
        assert!(html.contains("les noms des deux ex-époux"), "{html}");
        assert!(!html.contains("adresse du bien"), "{html}");
        let (_, html) = read(
            app,
            "/g/immobilier?document_type=acte-notarie&commune=35238&year=1990",
        )
        .await;
        assert!(html.contains("le nom des parties à l'acte"), "{html}");
        assert!(!html.contains("salle de lecture, ou écrire"), "{html}");

        // Rolling bounds read as ages, the days after.
        let (_, html) = read(
            app,
            "/g/etat-civil?acte=naissance&concerne=non&delais=ok&commune=35238&year=inconnu",
        )
        .await;
        assert!(
            html.contains("Documents de plus de 100 ans (jusqu'au"),
            "{html}"
        );
        assert!(
            html.contains("Documents de moins de 100 ans (depuis le"),
            "{html}"
        );

        // A year shared by two holders: which date counts, whom to ask first.
        let (_, html) = read(
            app,
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015",
        )
        .await;
        assert!(
        html.contains("L'année 2015 est partagée entre 2 détenteurs : c'est la date de dépôt de la demande qui décide"),
        "{html}"
    );
        assert!(
            html.contains("écrivez d'abord au service « Rennes Métropole"),
            "{html}"
        );
        let (_, html) = read(
            app,
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=1985",
        )
        .await;
        assert!(!html.contains("est partagée entre"), "{html}");

        // Reached from needs: the question asks about the property, and each
        // document says which need it answers.
        let (_, html) = read(
            app,
            "/g/immobilier?savoir=non&besoin=plans&besoin=annee&urbanisme=ok&commune=35238",
        )
        .await;
        assert!(html.contains("Quelle année vous intéresse ?"), "{html}");
        assert!(
            !html.contains("De quelle année date le document ?"),
            "{html}"
        );
        let (_, html) = read(
        app,
        "/g/immobilier?savoir=non&besoin=plans&besoin=annee&urbanisme=ok&commune=35238&year=1985",
    )
    .await;
        assert!(
        html.contains("Ce document répond à ce que vous cherchez : « Les plans de la maison ou du bâtiment » et « L'année de construction »"),
        "{html}"
    );
    }
);

dual_test!(
    the_answer_page_offers_the_holders_own_inventories,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let answer = "/g/immobilier?document_type=permis-de-construire&commune=35238&year=1985";
        let (_, before) = read(app, answer).await;
        assert!(
            !before.contains("Chercher dans les inventaires en ligne de ce service"),
            "no link without a template"
        );
        // The holder of a Rennes permit of 1985 gets a search template and
        // its FranceArchives page (as `import francearchives` or the
        // service's edit form would set them).
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=1985")
            .await;
        let id = body["matches"][0]["service"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut s = app.live.snapshot().service(&id).unwrap().clone();
        s.search_url =
            Some("https://archives.example.fr/r?c={commune}&a={annee}&d={document}".into());
        s.francearchives_url = Some("https://francearchives.gouv.fr/fr/service/12345".into());
        app.store
            .apply(
                &Changes {
                    upsert_services: vec![s.clone()],
                    ..Changes::default()
                },
                None,
            )
            .await
            .unwrap();
        app.refresh().await;
        let (status, html) = read(app, answer).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Chercher dans les inventaires en ligne de ce service"),
            "{html}"
        );
        assert!(
            html.contains(
                "href=\"https://archives.example.fr/r?c=Rennes&#38;a=1985&#38;d=Permis%20de%20construire\""
            ),
            "{html}"
        );
        // One link: the search, which leads further than the service's page.
        assert!(
            !html.contains("Voir ce service sur FranceArchives"),
            "{html}"
        );
        // Without a template, its FranceArchives page.
        s.search_url = None;
        app.store
            .apply(
                &Changes {
                    upsert_services: vec![s],
                    ..Changes::default()
                },
                None,
            )
            .await
            .unwrap();
        app.refresh().await;
        let (_, html) = read(app, answer).await;
        assert!(
            html.contains("Voir ce service sur FranceArchives"),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://francearchives.gouv.fr/fr/service/12345\""),
            "{html}"
        );
        assert!(
            !html.contains("Chercher dans les inventaires en ligne de ce service"),
            "{html}"
        );
    }
);

dual_test!(
    the_local_urban_plan_is_asked_for_as_a_plan_not_as_a_file,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let (status, html) = read(
            app,
            "/g/immobilier?document_type=plan-local-urbanisme&commune=35288&year=inconnu",
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Mairie de Saint-Malo"), "{html}");
        assert!(
            html.contains("Code de l'urbanisme, art. L153-22"),
            "the rule's source: {html}"
        );
        assert!(
            html.contains("Demandez à consulter le plan à la mairie, ou consultez-le en ligne."),
            "{html}"
        );
        assert!(!html.contains("le nom du demandeur"), "{html}");
        let (_, html) = read(
            app,
            "/g/immobilier?document_type=plan-local-urbanisme&commune=35288&year=inconnu&lang=en",
        )
        .await;
        assert!(
            html.contains("Ask to consult the plan at the town hall, or consult it online."),
            "{html}"
        );
    }
);
