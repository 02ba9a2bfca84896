//! Holders named by kind (`@archives-departementales`…) resolve per commune
//! to the competent service; the services file's `competence` column and
//! its errors; the national baseline's answers.

use locadocs::import::{self, prepare};
use locadocs_core::formats::Kind;

use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

async fn load_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("the demo dataset loads");
    app.refresh().await;
}

async fn import_services(app: &TestApp, file: &str) -> Result<(), String> {
    let data = app.store.load_ref_data().await.unwrap();
    let territories = app.store.load_territories().await.unwrap();
    let p = prepare(
        Kind::Services,
        file.as_bytes(),
        &territories,
        &data,
        false,
        today(),
    )
    .map_err(|r| r.to_string())?;
    app.store
        .apply(&p.changes, None)
        .await
        .map_err(|e| e.to_string())?;
    app.refresh().await;
    Ok(())
}

dual_test!(
    the_demo_names_competent_services_and_honest_holders_elsewhere,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        // In the Eure, `@archives-departementales` is the demo's service.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=registre-hypotheques&commune=27229&year=1900")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["id"], "archives-eure",
            "{body}"
        );
        // In Corse-du-Sud no service is known: named with the COG's article,
        // without contact details, with a lead.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=registre-hypotheques&commune=2A004&year=1900")
            .await;
        let s = &body["matches"][0]["service"];
        assert_eq!(
            s["name"], "Archives départementales de la Corse-du-Sud",
            "{body}"
        );
        assert!(s["id"].is_null(), "{body}");
        assert_eq!(s["kind"], "archives-departementales");
        assert!(s["phone"].is_null() && s["address"].is_null(), "{body}");
        assert!(
            s["lead"].as_str().unwrap().contains("FranceArchives"),
            "{body}"
        );
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-notarie&commune=14001&year=2000")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["name"],
            "Le notaire qui a reçu l'acte, ou son successeur",
            "{body}"
        );
        // A period explicitly left without a holder says why, with its source.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=dossier-scolaire&commune=14001")
            .await;
        assert!(body["matches"].as_array().unwrap().is_empty(), "{body}");
        let u = &body["uncovered"][0];
        assert!(
            u["reason"].as_str().unwrap().contains("établissement"),
            "{body}"
        );
        assert!(
            u["source"].as_str().unwrap().contains("Code du patrimoine"),
            "{body}"
        );
    }
);

dual_test!(
    every_sample_commune_gets_a_complete_answer_from_the_demo,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        for code in crate::helpers::SAMPLE_CODES {
            for doc in [
                "permis-de-construire",
                "declaration-prealable",
                "acte-notarie",
                "registre-hypotheques",
                "acte-de-naissance",
                "acte-de-mariage",
                "acte-de-deces",
                "jugement-de-divorce",
                "cadastre",
                "dossier-scolaire",
                "conseil-abf",
            ] {
                let (status, body) = app
                    .get_json(&format!(
                        "/api/v1/locate?document_type={doc}&commune={code}"
                    ))
                    .await;
                assert_eq!(status, 200, "{doc} {code}: {body}");
                let matches = body["matches"].as_array().unwrap();
                let uncovered = body["uncovered"].as_array().unwrap();
                assert!(
                    !matches.is_empty() || !uncovered.is_empty(),
                    "{doc} {code}: empty answer"
                );
                for m in matches {
                    assert!(m["service"]["name"].as_str().is_some_and(|n| !n.is_empty()));
                    assert!(
                        m["source"].as_str().is_some(),
                        "{doc} {code}: no source {m}"
                    );
                }
                for u in uncovered {
                    assert!(
                        u["reason"].as_str().is_some(),
                        "{doc} {code}: a period without a holder and without a reason: {body}"
                    );
                }
            }
        }
    }
);

dual_test!(
    the_services_file_sets_competence_and_refuses_clashes,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        let version = app.store.data_version().await.unwrap();
        // An unknown territory, a bad one: refused where they are, nothing written.
        let err = import_services(
            app,
            "id;name;kind;competence\n\
             ad-calvados;Archives du Calvados;archives-departementales;departement:14|epci:200000000\n\
             autre;Autre;autre;region:28\n",
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("ligne 2, colonne competence : EPCI 200000000 inconnu"),
            "{err}"
        );
        assert!(
            err.contains("ligne 3, colonne competence : « region:28 »"),
            "{err}"
        );
        assert_eq!(app.store.data_version().await.unwrap(), version);

        // Two services of one kind for one territory: an error naming both.
        let err = import_services(
            app,
            "id;name;kind;competence\n\
             ad-calvados;Archives du Calvados;archives-departementales;departement:14\n\
             ad-calvados-bis;Archives bis;archives-departementales;departement:14\n",
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("ligne 3, colonne competence : deux services de type « archives-departementales » seraient compétents pour departement:14 (« ad-calvados » et « ad-calvados-bis »)"),
            "{err}"
        );
        // …also against a stored service the file does not touch.
        let err = import_services(
            app,
            "id;name;kind;competence\nad-eure-bis;Archives bis;archives-departementales;departement:27\n",
        )
        .await
        .unwrap_err();
        assert!(err.contains("ligne 2, colonne competence"), "{err}");
        assert!(
            err.contains("« archives-eure » et « ad-eure-bis »"),
            "{err}"
        );
        assert_eq!(app.store.data_version().await.unwrap(), version);

        // A more specific competence is not a clash: it answers for its commune.
        import_services(
            app,
            "id;name;kind;competence\n\
             ad-calvados;Archives du Calvados;archives-departementales;departement:14\n\
             archives-evreux;Archives d'Évreux;archives-departementales;commune:27229\n",
        )
        .await
        .unwrap();
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=registre-hypotheques&commune=14001&year=1900")
            .await;
        assert_eq!(body["matches"][0]["service"]["id"], "ad-calvados", "{body}");
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=registre-hypotheques&commune=27229&year=1900")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["id"], "archives-evreux",
            "{body}"
        );
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=registre-hypotheques&commune=27016&year=1900")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["id"], "archives-eure",
            "{body}"
        );
        // The column round-trips through the store and the export.
        let data = app.store.load_ref_data().await.unwrap();
        let s = data
            .services
            .iter()
            .find(|s| s.id.as_str() == "archives-evreux")
            .unwrap();
        assert_eq!(s.competence.len(), 1);
        let csv =
            String::from_utf8(locadocs_core::formats::write_services(&data.services)).unwrap();
        assert!(
            csv.lines()
                .next()
                .unwrap()
                .ends_with(";competence;francearchives_id;francearchives_url;search_url"),
            "{csv}"
        );
        assert!(csv.contains(";departement:14"), "{csv}");
    }
);

dual_test!(
    the_baseline_command_loads_the_national_rules_alone,
    Geo::Sample,
    |app| {
        let report = import::baseline(app.store.as_ref(), today(), false)
            .await
            .unwrap()
            .to_string();
        assert!(report.contains("Socle national chargé."), "{report}");
        let again = import::baseline(app.store.as_ref(), today(), false)
            .await
            .unwrap()
            .to_string();
        assert!(again.contains("déjà à jour"), "{again}");
        app.refresh().await;
        let data = app.store.load_ref_data().await.unwrap();
        assert!(data.services.is_empty());
        assert!(data.holdings.iter().all(|h| h.source.is_some()));
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-de-naissance&commune=76351&year=1900")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["name"], "Archives départementales de la Seine-Maritime",
            "{body}"
        );
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-de-naissance&commune=76351&year=2000")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["name"], "Mairie du Havre",
            "{body}"
        );
    }
);

dual_test!(
    an_import_may_hand_a_town_hall_over_within_one_file,
    Geo::Sample,
    |app| {
        use locadocs::store::{Author, Changes};
        use locadocs_core::{InseeCode, Service, ServiceKind, Slug};
        let town_hall = |id: &str, kind: ServiceKind| {
            let mut s = Service::new(Slug::parse(id).unwrap(), id, kind);
            s.commune = Some(InseeCode::parse("27229").unwrap());
            s
        };
        let author = Author::command_line("test");
        let apply = |services: Vec<Service>| {
            let author = &author;
            async move {
                let changes = Changes {
                    upsert_services: services,
                    ..Changes::default()
                };
                let version = app.store.data_version().await.unwrap();
                app.store
                    .apply_recorded(author, &changes, version)
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        apply(vec![town_hall("mairie-a", ServiceKind::Mairie)])
            .await
            .unwrap();
        // The new town hall comes first in the file, the old one stops being
        // a town hall further down: the check runs on the state the whole
        // file leaves, not after each row.
        apply(vec![
            town_hall("mairie-b", ServiceKind::Mairie),
            town_hall("mairie-a", ServiceKind::Urbanisme),
        ])
        .await
        .unwrap();
        app.refresh().await;
        let snap = app.live.snapshot();
        assert_eq!(
            snap.service("mairie-a").unwrap().kind,
            ServiceKind::Urbanisme
        );
        assert_eq!(snap.service("mairie-b").unwrap().kind, ServiceKind::Mairie);
        // A file that leaves two town halls is refused whole, naming both.
        let version = app.store.data_version().await.unwrap();
        let err = apply(vec![
            town_hall("mairie-c", ServiceKind::Mairie),
            town_hall("urbanisme-d", ServiceKind::Urbanisme),
        ])
        .await
        .unwrap_err();
        assert!(err.contains("« mairie-b » et « mairie-c »"), "{err}");
        assert_eq!(app.store.data_version().await.unwrap(), version);
        assert!(
            app.store
                .load_ref_data()
                .await
                .unwrap()
                .services
                .iter()
                .all(|s| s.id.as_str() != "urbanisme-d")
        );
    }
);
