//! Screens that used to need a file or the command line: creating a service
//! from scratch, and registering the sites that embed the guides.

use locadocs::store::{Entity, Role};

use crate::backoffice::{get, location, post, signed_in};

admin_test!(an_editor_creates_a_service_from_a_blank_form, |app| {
    let editor = signed_in(app, Role::Editor, &[]).await;
    let page = get(app, "/admin/services", &editor.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("href=\"/admin/services/nouveau\""), "{page}");
    let form = get(app, "/admin/services/nouveau", &editor.cookie).await;
    assert_eq!(form.status().as_u16(), 200);
    let form = form.text().await.unwrap();
    // Kinds read as people say them.
    assert!(form.contains("Archives départementales"), "{form}");

    // Nothing chosen: each missing field says so, nothing is written.
    let version = app.store.data_version().await.unwrap();
    let resp = post(
        app,
        "/admin/services/nouveau",
        &editor.cookie,
        &[("csrf", &editor.csrf), ("name", ""), ("kind", "")],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Indiquez le nom du service."), "{html}");
    assert!(html.contains("Choisissez le type de service."), "{html}");
    assert_eq!(app.store.data_version().await.unwrap(), version);

    let fields = [
        ("csrf", editor.csrf.as_str()),
        ("name", "Archives de Saint-Malo"),
        ("kind", "archives-municipales"),
        ("commune", "35288"),
        ("email", "archives@saint-malo.fr"),
        ("website", "https://archives.saint-malo.fr"),
    ];
    let resp = post(app, "/admin/services/nouveau", &editor.cookie, &fields).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(
        location(&resp),
        "/admin/services/archives-de-saint-malo?enregistre=1"
    );
    let page = get(app, &location(&resp), &editor.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Modifications enregistrées"), "{page}");
    assert!(page.contains("archives@saint-malo.fr"), "{page}");
    let history = app
        .store
        .history_of(Entity::Service, "archives-de-saint-malo")
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "the creation is in the history");
    assert_eq!(history[0].user_email, editor.email);
    // Its history reads in Paris time and in words, not as a stored timestamp.
    let page = get(
        app,
        "/admin/historique/service/archives-de-saint-malo",
        &editor.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        page.contains("Historique : Archives de Saint-Malo"),
        "{page}"
    );
    let at = &history[0].at;
    let paris = chrono::DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Paris);
    let expected = format!(
        "{} à {} – création par",
        paris.format("%Y"),
        paris.format("%H:%M")
    );
    assert!(page.contains(&expected), "{expected} in {page}");
    assert!(!page.contains(at.as_str()), "{page}");

    // The same name again gets an identifier of its own.
    let resp = post(app, "/admin/services/nouveau", &editor.cookie, &fields).await;
    assert_eq!(
        location(&resp),
        "/admin/services/archives-de-saint-malo-2?enregistre=1"
    );

    // The search link template: an unknown field is refused next to the
    // field, with the accepted ones; a good one is kept and shown.
    let with_template = |t: &'static str| {
        let mut f = fields.to_vec();
        f[1] = ("name", "Archives de Dinard");
        f.push(("search_url", t));
        f
    };
    let resp = post(
        app,
        "/admin/services/nouveau",
        &editor.cookie,
        &with_template("https://archives.dinard.fr/recherche?lieu={ville}"),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap().replace("&#39;", "'");
    assert!(
        html.contains("« {ville} » n'est pas un champ connu ; champs acceptés : {commune}, {annee}, {document}"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    let resp = post(
        app,
        "/admin/services/nouveau",
        &editor.cookie,
        &with_template("https://archives.dinard.fr/recherche?lieu={commune}&an={annee}"),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let snap = {
        app.refresh().await;
        app.live.snapshot()
    };
    assert_eq!(
        snap.service("archives-de-dinard")
            .unwrap()
            .search_url
            .as_deref(),
        Some("https://archives.dinard.fr/recherche?lieu={commune}&an={annee}")
    );

    // A contributor may not create services (it would choose town halls).
    let contributor = signed_in(app, Role::Contributor, &["archives-de-saint-malo"]).await;
    let resp = get(app, "/admin/services/nouveau", &contributor.cookie).await;
    assert_eq!(resp.status().as_u16(), 403);
    let list = get(app, "/admin/services", &contributor.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains("/admin/services/nouveau"), "{list}");
});

admin_test!(
    an_editor_registers_changes_and_removes_an_embedding_site,
    |app| {
        let editor = signed_in(app, Role::Editor, &[]).await;
        let page = get(app, "/admin/sites", &editor.cookie)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Aucun site enregistré."), "{page}");

        // A bad address is refused next to its field; nothing is saved.
        let resp = post(
            app,
            "/admin/sites/nouveau",
            &editor.cookie,
            &[
                ("csrf", &editor.csrf),
                ("name", "Ville de Rennes"),
                (
                    "origins",
                    "https://metropole.rennes.fr/guide\nhttps://www.rennes.fr",
                ),
            ],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 422);
        let html = resp.text().await.unwrap();
        assert!(html.contains("sans chemin"), "{html}");
        assert!(app.store.sites().await.unwrap().is_empty());

        let resp = post(
            app,
            "/admin/sites/nouveau",
            &editor.cookie,
            &[
                ("csrf", &editor.csrf),
                ("name", "Ville de Rennes"),
                (
                    "origins",
                    "https://www.rennes.fr\nhttps://metropole.rennes.fr/",
                ),
                ("restrict_framing", "1"),
            ],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        assert_eq!(location(&resp), "/admin/sites/ville-de-rennes?enregistre=1");
        let sites = app.store.sites().await.unwrap();
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0].key.as_str(), "ville-de-rennes");
        assert_eq!(
            sites[0]
                .origins
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>(),
            ["https://www.rennes.fr", "https://metropole.rennes.fr"]
        );
        assert!(sites[0].restrict_framing);
        let page = get(
            app,
            "/admin/sites/ville-de-rennes?enregistre=1",
            &editor.cookie,
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(page.contains("Modifications enregistrées"), "{page}");
        assert!(
            page.contains("data-site=&quot;ville-de-rennes&quot;")
                || page.contains("data-site=&#34;ville-de-rennes&#34;"),
            "{page}"
        );

        // Restricted framing applies at once to guide pages asked with the key.
        app.refresh().await;
        let resp = app
            .client
            .get(format!("{}/g/immobilier?site=ville-de-rennes", app.base))
            .send()
            .await
            .unwrap();
        let csp = resp
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(csp.contains("https://www.rennes.fr"), "{csp}");

        // Edit: framing opened.
        let resp = post(
            app,
            "/admin/sites/ville-de-rennes",
            &editor.cookie,
            &[
                ("csrf", &editor.csrf),
                ("name", "Ville de Rennes"),
                ("origins", "https://www.rennes.fr"),
            ],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        let sites = app.store.sites().await.unwrap();
        assert!(!sites[0].restrict_framing);
        assert_eq!(sites[0].origins.len(), 1);

        // Delete asks first; a post without the confirmation deletes nothing.
        let confirm = get(
            app,
            "/admin/sites/ville-de-rennes/supprimer",
            &editor.cookie,
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(
            confirm.contains("Supprimer le site « Ville de Rennes » ?"),
            "{confirm}"
        );
        let resp = post(
            app,
            "/admin/sites/ville-de-rennes/supprimer",
            &editor.cookie,
            &[("csrf", &editor.csrf)],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 422);
        assert_eq!(app.store.sites().await.unwrap().len(), 1);
        let resp = post(
            app,
            "/admin/sites/ville-de-rennes/supprimer",
            &editor.cookie,
            &[("csrf", &editor.csrf), ("confirm", "1")],
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        assert!(app.store.sites().await.unwrap().is_empty());
        let page = get(app, &location(&resp), &editor.cookie)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Site supprimé"), "{page}");

        // Contributors do not manage sites.
        let contributor = signed_in(app, Role::Contributor, &[]).await;
        assert_eq!(
            get(app, "/admin/sites", &contributor.cookie)
                .await
                .status()
                .as_u16(),
            403
        );
    }
);

admin_test!(mes_donnees_lists_rules_that_came_to_overlap, |app| {
    use locadocs::store::Changes;
    use locadocs_core::{
        Bound, DocumentType, HoldingRule, Service, ServiceKind, ServiceRef, Slug, Territory,
    };
    let slug = |s: &str| Slug::parse(s).unwrap();
    let rule = |from: &str, to: &str, service: &str| HoldingRule {
        document_type: slug("acte-notarie"),
        territory: Territory::parse("departement:35").unwrap(),
        from: (!from.is_empty()).then(|| Bound::parse(from).unwrap().0),
        to: (!to.is_empty()).then(|| Bound::parse(to).unwrap().0),
        service: ServiceRef::parse(service).unwrap(),
        instructions: None,
        source: None,
        verified_at: None,
    };
    // Saved apart, they did not overlap; the rolling bound (75 years before
    // today, 1 December 2026) has since moved past 1950.
    app.store
        .apply(
            &Changes {
                upsert_document_types: vec![DocumentType {
                    slug: slug("acte-notarie"),
                    label: "Acte notarié".into(),
                    theme: None,
                    aliases: vec![],
                    description: None,
                    communicability_years: 75,
                    communicability_note: None,
                }],
                upsert_services: vec![
                    Service::new(
                        slug("ad35"),
                        "Archives d'Ille-et-Vilaine",
                        ServiceKind::ArchivesDepartementales,
                    ),
                    Service::new(
                        slug("notaires-35"),
                        "Notaires d'Ille-et-Vilaine",
                        ServiceKind::Notaire,
                    ),
                ],
                upsert_holdings: vec![rule("", "-75y", "ad35"), rule("1950", "", "notaires-35")],
                ..Changes::default()
            },
            None,
        )
        .await
        .unwrap();
    app.refresh().await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let home = get(app, "/admin", &editor.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("Chevauchements (1)"), "{home}");
    assert!(home.contains("Acte notarié, Ille-et-Vilaine"), "{home}");
    assert!(
        home.contains("Archives d&#39;Ille-et-Vilaine")
            || home.contains("Archives d'Ille-et-Vilaine"),
        "{home}"
    );
    assert!(
        home.contains("Notaires d&#39;Ille-et-Vilaine")
            || home.contains("Notaires d'Ille-et-Vilaine"),
        "{home}"
    );
    // The rules table reads in words, not identifiers.
    let rules = get(app, "/admin/regles", &editor.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(rules.contains("il y a 75 ans"), "{rules}");
    assert!(!rules.contains("-75y"), "{rules}");
});

admin_test!(
    a_rule_is_written_with_names_and_years_not_identifiers,
    |app| {
        use locadocs::store::Changes;
        use locadocs_core::{Bound, DocumentType, Service, ServiceKind, Slug, Territory};
        let slug = |s: &str| Slug::parse(s).unwrap();
        app.store
            .apply(
                &Changes {
                    upsert_document_types: vec![DocumentType {
                        slug: slug("acte-notarie"),
                        label: "Acte notarié".into(),
                        theme: None,
                        aliases: vec![],
                        description: None,
                        communicability_years: 75,
                        communicability_note: None,
                    }],
                    upsert_services: vec![Service::new(
                        slug("ad35"),
                        "Archives d'Ille-et-Vilaine",
                        ServiceKind::ArchivesDepartementales,
                    )],
                    ..Changes::default()
                },
                None,
            )
            .await
            .unwrap();
        app.refresh().await;
        let editor = signed_in(app, Role::Editor, &[]).await;
        let post_rule = |territory: &'static str, to: &'static str| {
            let csrf = editor.csrf.clone();
            let cookie = editor.cookie.clone();
            async move {
                post(
                    app,
                    "/admin/regles/nouvelle",
                    &cookie,
                    &[
                        ("csrf", csrf.as_str()),
                        ("document_type", "acte-notarie"),
                        ("territory", territory),
                        ("from", ""),
                        ("to", to),
                        ("service", "ad35"),
                        ("action", "save"),
                    ],
                )
                .await
            }
        };
        // An unknown name says what to type instead; nothing is written.
        let resp = post_rule("Rennnes", "75 ans").await;
        assert_eq!(resp.status().as_u16(), 422);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("ne s&#39;appelle « Rennnes »")
                || html.contains("ne s'appelle « Rennnes »"),
            "{html}"
        );
        assert!(app.store.stored_holdings().await.unwrap().is_empty());

        let resp = post_rule("Ille-et-Vilaine", "les documents de plus de 75 ans").await;
        assert_eq!(
            resp.status().as_u16(),
            303,
            "{}",
            resp.text().await.unwrap()
        );
        let held = app.store.stored_holdings().await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(
            held[0].rule.territory,
            Territory::parse("departement:35").unwrap()
        );
        assert_eq!(held[0].rule.to, Some(Bound::YearsAgo(75)));
        // The edit form shows them back in words.
        let form = get(
            app,
            &format!("/admin/regles/{}/modifier", held[0].id),
            &editor.cookie,
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(form.contains("value=\"Ille-et-Vilaine (35)\""), "{form}");
        assert!(form.contains("value=\"75 ans\""), "{form}");
    }
);
