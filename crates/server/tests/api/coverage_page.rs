//! The public coverage page, its open data, and the holding rules as open
//! data, on the demo dataset.

use locadocs::import;

use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

async fn load_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("the demo dataset loads");
    app.refresh().await;
}

dual_test!(
    coverage_counts_the_most_specific_rule_per_commune,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        let (status, body) = app.get_json("/couverture.json").await;
        assert_eq!(status, 200, "{body}");
        assert!(body["licence"].as_str().unwrap().contains("etalab-2.0"));
        let depts = body["departements"].as_array().unwrap();
        let dept = |code: &str| {
            depts
                .iter()
                .find(|d| d["code"] == code)
                .unwrap_or_else(|| panic!("département {code} in {body}"))
        };
        // Rennes has its own rules for building permits; the rest of
        // Ille-et-Vilaine only the national ones.
        let ille = dept("35");
        let n = ille["communes"].as_u64().unwrap();
        let permits = &ille["document_types"]["permis-de-construire"];
        assert_eq!(permits["local"], 1, "{ille}");
        assert_eq!(permits["national"].as_u64().unwrap(), n - 1, "{ille}");
        // Notarial deeds: the demo's département rule of Ille-et-Vilaine.
        assert_eq!(ille["document_types"]["acte-notarie"]["departement"], n);
        // Corse-du-Sud: national rules only, for every document type.
        let corse = dept("2A");
        let m = corse["communes"].as_u64().unwrap();
        assert!(m > 0);
        for (slug, c) in corse["document_types"].as_object().unwrap() {
            assert_eq!(c["national"].as_u64().unwrap(), m, "{slug}: {c}");
            assert_eq!(c["local"], 0);
            assert_eq!(c["uncovered"], 0);
        }
        // The page shows the same, as a chart and a table.
        let page = app.get("/couverture").await.text().await.unwrap();
        assert!(page.contains("<svg class=\"ld-chart\""), "{page}");
        assert!(page.contains("<caption>"), "{page}");
        assert!(page.contains("href=\"/couverture?departement=35\""));
        let detail = app
            .get("/couverture?departement=35")
            .await
            .text()
            .await
            .unwrap();
        assert!(detail.contains("Ille-et-Vilaine (35)"), "{detail}");
        assert!(detail.contains("<th scope=\"row\">Permis de construire</th><td>"));
        assert_eq!(app.get("/couverture?departement=99").await.status(), 404);
    }
);

dual_test!(
    holding_rules_are_open_data_with_sources,
    Geo::Sample,
    |app| {
        load_demo(app).await;
        let (status, body) = app.get_json("/donnees/regles.json").await;
        assert_eq!(status, 200);
        let rules = body["rules"].as_array().unwrap();
        let rennes = rules
            .iter()
            .find(|r| {
                r["territory"] == "commune:35238"
                    && r["document_type"] == "permis-de-construire"
                    && r["from"] == "1908"
            })
            .unwrap_or_else(|| panic!("Rennes' permits in {body}"));
        assert_eq!(rennes["holder"], "archives-rennes");
        assert!(rennes["holder_name"].as_str().is_some(), "{rennes}");
        assert!(rules.iter().any(|r| r["source"].as_str().is_some()));
        let resp = app.get("/donnees/regles.csv").await;
        assert_eq!(resp.status(), 200);
        let csv = resp.text().await.unwrap();
        assert!(csv.starts_with(
        "\u{feff}document_type;territory;from;to;service;instructions;source;verified_at;holder_name"
    ));
        // A rolling bound or a kind starts with a formula trigger: escaped.
        assert!(csv.contains(";'-75y;") || csv.contains(";'@"), "{csv}");
        assert!(
            !csv.contains(";-75y;") && !csv.contains(";@mairie;"),
            "{csv}"
        );
        let page = app.get("/donnees").await.text().await.unwrap();
        assert!(page.contains("/donnees/regles.csv") && page.contains("etalab-2.0"));
    }
);
