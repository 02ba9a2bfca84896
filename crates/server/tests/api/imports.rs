use locadocs::import::{self, prepare};
use locadocs_core::formats::{self, Kind};

use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

async fn load_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("the demo dataset loads");
    app.refresh().await;
}

dual_test!(
    demo_loads_idempotently_and_answers_the_real_cases,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        let version = app.store.data_version().await.unwrap();
        import::demo(app.store.as_ref(), today()).await.unwrap();
        assert_eq!(
            app.store.data_version().await.unwrap(),
            version,
            "a second demo load must change nothing"
        );

        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015")
            .await;
        let m = body["matches"].as_array().unwrap();
        assert_eq!(m.len(), 2, "{body}");
        assert_eq!(m[0]["service"]["name"], "Archives de Rennes");
        assert_eq!(m[0]["to"], "2015-06-30");
        assert_eq!(m[1]["from"], "2015-07-01");

        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=76351&year=1960")
            .await;
        assert!(
            body["matches"][0]["instructions"]
                .as_str()
                .unwrap()
                .contains("Droit des sols"),
            "{body}"
        );

        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-notarie&commune=27229&year=1930")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["kind"], "archives-departementales",
            "{body}"
        );
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-notarie&commune=27229&year=1990")
            .await;
        assert_eq!(body["matches"][0]["service"]["kind"], "notaire", "{body}");
        assert_eq!(body["matches"][0]["communicability"]["free"], false);

        let (_, body) = app
            .get_json("/api/v1/locate?document_type=registre-hypotheques&commune=35238&year=1950")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["kind"], "archives-departementales",
            "{body}"
        );
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=registre-hypotheques&commune=35238&year=1960")
            .await;
        assert_eq!(
            body["matches"][0]["service"]["kind"], "publicite-fonciere",
            "{body}"
        );

        let (_, body) = app
            .get_json("/api/v1/locate?document_type=jugement-de-divorce&commune=76351&year=2010")
            .await;
        assert_eq!(body["matches"][0]["service"]["kind"], "tribunal", "{body}");
        assert_eq!(body["matches"][0]["communicability"]["delay_years"], 75);
    }
);

dual_test!(
    a_bad_file_writes_nothing_and_reports_every_row,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        let before = app.store.load_ref_data().await.unwrap();
        let version = app.store.data_version().await.unwrap();
        let territories = app.store.load_territories().await.unwrap();
        let file = "document_type;territory;from;to;service\n\
                permis-de-construire;commune:35238;2030;2040;archives-rennes\n\
                permis-de-construire;commune:99999;1900;1910;archives-rennes\n\
                permis-de-construire;commune:35238;2015-02-30;;archives-rennes\n";
        let rejected = prepare(
            Kind::Holdings,
            file.as_bytes(),
            &territories,
            &before,
            false,
            today(),
        )
        .unwrap_err();
        let report = rejected.to_string();
        assert!(report.contains("ligne 3, colonne territory"), "{report}");
        assert!(report.contains("ligne 4, colonne from"), "{report}");
        // The valid first row was not written either.
        assert_eq!(app.store.data_version().await.unwrap(), version);
        assert_eq!(
            app.store.load_ref_data().await.unwrap().holdings.len(),
            before.holdings.len()
        );
    }
);

dual_test!(
    export_then_import_is_a_round_trip_and_replace_deletes,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        let data = app.store.load_ref_data().await.unwrap();
        let territories = app.store.load_territories().await.unwrap();
        for (kind, bytes) in [
            (
                Kind::DocumentTypes,
                formats::write_document_types(&data.document_types),
            ),
            (Kind::Services, formats::write_services(&data.services)),
            (Kind::Holdings, formats::write_holdings(&data.holdings)),
        ] {
            let p = prepare(kind, &bytes, &territories, &data, true, today()).unwrap();
            assert!(
                p.changes.is_empty(),
                "{kind}: re-importing an export must change nothing: {:?}",
                p.summary
            );
        }

        // --replace on holdings removes the rules of the territories the file mentions, and only those.
        let file = "document_type;territory;from;to;service\npermis-de-construire;commune:35238;1908;;archives-rennes\n";
        let p = prepare(
            Kind::Holdings,
            file.as_bytes(),
            &territories,
            &data,
            true,
            today(),
        )
        .unwrap();
        app.store.apply(&p.changes, None).await.unwrap();
        let after = app.store.load_ref_data().await.unwrap();
        let on_rennes: Vec<_> = after
            .holdings
            .iter()
            .filter(|h| h.territory.to_string() == "commune:35238")
            .collect();
        assert_eq!(on_rennes.len(), 1);
        assert_eq!(on_rennes[0].to, None);
        let elsewhere = |d: &locadocs_core::RefData| {
            d.holdings
                .iter()
                .filter(|h| h.territory.to_string() != "commune:35238")
                .count()
        };
        assert_eq!(elsewhere(&after), elsewhere(&data));

        // Removing a service still used by rules is refused, with the reason.
        let services_file = "id;name;kind\nautre-service;Un autre service;autre\n";
        let err = prepare(
            Kind::Services,
            services_file.as_bytes(),
            &territories,
            &after,
            true,
            today(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("l'utilisent encore"), "{err}");
    }
);

dual_test!(
    excel_files_in_windows_1252_import_cleanly,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        let data = app.store.load_ref_data().await.unwrap();
        let territories = app.store.load_territories().await.unwrap();
        let text = "slug;label;communicability_years\r\narrete-de-peril;Arrêté de péril;0\r\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        let p = prepare(
            Kind::DocumentTypes,
            &bytes,
            &territories,
            &data,
            false,
            today(),
        )
        .unwrap();
        assert!(
            p.warnings.iter().any(|w| w.to_string().contains("1252")),
            "{:?}",
            p.warnings
        );
        app.store.apply(&p.changes, None).await.unwrap();
        app.refresh().await;
        let (_, body) = app.get_json("/api/v1/document-types/arrete-de-peril").await;
        assert_eq!(body["label"], "Arrêté de péril");
    }
);
