//! The FranceArchives directory import: command line and back-office screen,
//! all-or-nothing, matched on the FranceArchives id.

use locadocs::store::{Changes, Role};
use locadocs_core::{Service, ServiceKind, Slug, Territory};

use crate::backoffice::{signed_in, upload};
use crate::helpers::TestApp;
use crate::import_screens::confirm_fields;

const GOOD: &[u8] = include_bytes!("../data/francearchives-1.csv");
const BAD: &[u8] = include_bytes!("../data/francearchives-bad.csv");

/// Departmental archives of Ille-et-Vilaine entered by hand, without a
/// FranceArchives id: the `D` row of the file updates them.
async fn seed(app: &TestApp) {
    let mut ad = Service::new(
        Slug::parse("archives-35").unwrap(),
        "AD 35",
        ServiceKind::ArchivesDepartementales,
    );
    ad.competence = vec![Territory::parse("departement:35").unwrap()];
    ad.request_url = Some("https://archives.example.fr/demande".into());
    let changes = Changes {
        upsert_services: vec![ad],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
}

fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = crate::backoffice::outbox_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

admin_test!(francearchives_command_line_imports_and_updates, |app| {
    seed(app).await;
    let today = crate::helpers::today();
    let path = write("francearchives.csv", GOOD);
    let store = app.store.as_ref();
    let dry = locadocs::import::run(store, "francearchives", &path, true, false, today)
        .await
        .unwrap()
        .to_string();
    assert!(
        dry.contains("francearchives : 3 ajout(s), 1 mise(s) à jour, 0 inchangé(s)"),
        "{dry}"
    );
    assert!(
        dry.contains("1 service(s) ni départemental ni communal"),
        "{dry}"
    );
    assert_eq!(store.load_ref_data().await.unwrap().services.len(), 1);

    locadocs::import::run(store, "francearchives", &path, false, false, today)
        .await
        .unwrap();
    let data = store.load_ref_data().await.unwrap();
    assert_eq!(data.services.len(), 4);
    let by_fa = |id: &str| {
        data.services
            .iter()
            .find(|s| s.francearchives_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{id} not imported"))
    };
    let ad = by_fa("FA-0001");
    assert_eq!(
        ad.id.as_str(),
        "archives-35",
        "the hand-entered service is updated"
    );
    assert_eq!(ad.name, "Archives départementales de l'Exemple");
    assert_eq!(
        ad.request_url.as_deref(),
        Some("https://archives.example.fr/demande"),
        "what the file does not say is kept"
    );
    assert_eq!(
        ad.francearchives_url.as_deref(),
        Some("https://francearchives.gouv.fr/fr/service/0001")
    );
    assert_eq!(ad.email.as_deref(), Some("archives@departement-exemple.fr"));
    let am = by_fa("FA-0002");
    assert_eq!(am.kind, ServiceKind::ArchivesMunicipales);
    assert_eq!(
        am.competence,
        vec![Territory::parse("commune:76351").unwrap()]
    );
    let ai = by_fa("FA-0003");
    assert_eq!(ai.kind, ServiceKind::ArchivesIntercommunales);
    assert!(
        matches!(ai.competence.as_slice(), [Territory::Epci(_)]),
        "competent for the EPCI of its commune: {:?}",
        ai.competence
    );
    let other = by_fa("FA-0004");
    assert_eq!(other.kind, ServiceKind::Autre);
    assert!(other.competence.is_empty());

    // Again: nothing changes.
    let version = store.data_version().await.unwrap();
    let again = locadocs::import::run(store, "francearchives", &path, false, false, today)
        .await
        .unwrap()
        .to_string();
    assert!(
        again.contains("0 ajout(s), 0 mise(s) à jour, 4 inchangé(s)"),
        "{again}"
    );
    assert_eq!(store.data_version().await.unwrap(), version);
});

admin_test!(francearchives_bad_file_is_refused_whole, |app| {
    seed(app).await;
    let today = crate::helpers::today();
    let path = write("francearchives-bad.csv", BAD);
    let err = locadocs::import::run(
        app.store.as_ref(),
        "francearchives",
        &path,
        false,
        false,
        today,
    )
    .await
    .unwrap_err()
    .to_string();
    for expected in [
        "ligne 2, colonne categorie_de_service : « Z » n'est pas une catégorie de service",
        "ligne 3, colonne id_francearchives : valeur obligatoire manquante",
        "ligne 4, colonne courriel : « archives-exemple.fr » n'est pas une adresse électronique",
        "ligne 5, colonne site_internet : « www.archives-exemple.fr » n'est pas une adresse web",
        "ligne 6, colonne code_insee_commune : commune 99999 inconnue",
        "rien n'a été écrit",
    ] {
        assert!(err.contains(expected), "{expected} not in {err}");
    }
    assert_eq!(app.store.load_ref_data().await.unwrap().services.len(), 1);
});

admin_test!(francearchives_screen_previews_then_confirms, |app| {
    seed(app).await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let (status, html) = upload(app, "/admin/francearchives", &editor, &[], BAD).await;
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("ligne 6, colonne code_insee_commune"),
        "{html}"
    );

    let (status, html) = upload(app, "/admin/francearchives", &editor, &[], GOOD).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("3 ajout(s), 1 mise(s) à jour"), "{html}");
    assert_eq!(app.store.load_ref_data().await.unwrap().services.len(), 1);
    let form = confirm_fields(&html, "/admin/francearchives/confirmer");
    let resp = app
        .client
        .post(format!("{}/admin/francearchives/confirmer", app.base))
        .header("cookie", &editor.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(app.store.load_ref_data().await.unwrap().services.len(), 4);

    // A contributor may not use it.
    let contributor = signed_in(app, Role::Contributor, &["archives-35"]).await;
    let (status, _) = upload(app, "/admin/francearchives", &contributor, &[], GOOD).await;
    assert_eq!(status, 403);
});

admin_test!(
    locate_offers_the_inventory_search_and_the_francearchives_page,
    |app| {
        let mut am = Service::new(
            Slug::parse("archives-rennes").unwrap(),
            "Archives de Rennes",
            ServiceKind::ArchivesMunicipales,
        );
        am.search_url =
            Some("https://archives.example.fr/r?c={commune}&a={annee}&d={document}".into());
        let mut ad = Service::new(
            Slug::parse("archives-35").unwrap(),
            "AD 35",
            ServiceKind::ArchivesDepartementales,
        );
        ad.francearchives_url = Some("https://francearchives.gouv.fr/fr/service/35".into());
        let rule =
            |from: Option<&str>, to: Option<&str>, service: &str| locadocs_core::HoldingRule {
                document_type: Slug::parse("permis-de-construire").unwrap(),
                territory: Territory::parse("commune:35238").unwrap(),
                from: from.map(|b| locadocs_core::Bound::parse(b).unwrap().0),
                to: to.map(|b| locadocs_core::Bound::parse(b).unwrap().0),
                service: locadocs_core::ServiceRef::parse(service).unwrap(),
                instructions: None,
                source: None,
                verified_at: None,
            };
        let changes = Changes {
            upsert_document_types: vec![locadocs_core::DocumentType {
                slug: Slug::parse("permis-de-construire").unwrap(),
                label: "Permis de construire".into(),
                theme: None,
                aliases: vec![],
                description: None,
                communicability_years: 0,
                communicability_note: None,
            }],
            upsert_services: vec![am, ad],
            upsert_holdings: vec![
                rule(Some("1900"), Some("1999-12-31"), "archives-rennes"),
                rule(Some("2000"), None, "archives-35"),
            ],
            ..Changes::default()
        };
        app.store.apply(&changes, None).await.unwrap();
        app.refresh().await;
        let (status, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=1985")
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["matches"][0]["inventory_search_url"],
            "https://archives.example.fr/r?c=Rennes&a=1985&d=Permis%20de%20construire"
        );
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238")
            .await;
        let matches = body["matches"].as_array().unwrap();
        assert_eq!(
            matches[0]["inventory_search_url"],
            "https://archives.example.fr/r?c=Rennes&a=&d=Permis%20de%20construire",
            "no year: {{annee}} left empty"
        );
        assert!(matches[1].get("inventory_search_url").is_none(), "{body}");
        assert_eq!(
            matches[1]["francearchives_url"],
            "https://francearchives.gouv.fr/fr/service/35"
        );
    }
);
