use locadocs::store::Changes;
use locadocs_core::{
    Bound, DocumentType, HoldingRule, Service, ServiceKind, ServiceRef, Slug, Territory,
};

use crate::dual_test;
use crate::helpers::{Geo, TestApp};

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

fn doc(s: &str, years: u32) -> DocumentType {
    DocumentType {
        slug: slug(s),
        label: s.replace('-', " "),
        theme: None,
        aliases: vec![],
        description: None,
        communicability_years: years,
        communicability_note: (years > 0)
            .then(|| "Les personnes concernées y ont accès plus tôt.".to_owned()),
    }
}

fn rule(doc: &str, territory: &str, from: &str, to: &str, service: &str) -> HoldingRule {
    let b = |s: &str| (!s.is_empty()).then(|| Bound::parse(s).unwrap().0);
    HoldingRule {
        document_type: slug(doc),
        territory: Territory::parse(territory).unwrap(),
        from: b(from),
        to: b(to),
        service: ServiceRef::parse(service).unwrap(),
        instructions: None,
        source: None,
        verified_at: None,
    }
}

/// The real cases of the brief, written directly into the store.
async fn seed(app: &TestApp) {
    let mut archives = Service::new(
        slug("archives-rennes"),
        "Archives de Rennes",
        ServiceKind::ArchivesMunicipales,
    );
    archives.commune = Some(locadocs_core::InseeCode::parse("35238").unwrap());
    let ads = Service::new(
        slug("rennes-metropole-ads"),
        "Rennes Métropole – Droit des sols",
        ServiceKind::Urbanisme,
    );
    let mut mairie_rennes = Service::new(
        slug("mairie-rennes"),
        "Mairie de Rennes",
        ServiceKind::Mairie,
    );
    mairie_rennes.commune = Some(locadocs_core::InseeCode::parse("35238").unwrap());
    mairie_rennes.phone = Some("02 23 62 10 10".into());
    let havre = Service::new(
        slug("archives-le-havre"),
        "Archives municipales du Havre",
        ServiceKind::ArchivesMunicipales,
    );
    let cherbourg = Service::new(
        slug("archives-equeurdreville"),
        "Archives d'Équeurdreville",
        ServiceKind::ArchivesMunicipales,
    );
    let ad35 = Service::new(
        slug("ad35"),
        "Archives départementales d'Ille-et-Vilaine",
        ServiceKind::ArchivesDepartementales,
    );
    let notaires = Service::new(
        slug("notaires-35"),
        "Chambre des notaires d'Ille-et-Vilaine",
        ServiceKind::Notaire,
    );
    let mut havre_rule = rule(
        "permis-de-construire",
        "commune:76351",
        "1949",
        "1997",
        "archives-le-havre",
    );
    havre_rule.instructions =
        Some("Demandez d'abord le numéro du permis au service Droit des sols.".into());
    let changes = Changes {
        upsert_document_types: vec![doc("permis-de-construire", 0), doc("acte-notarie", 75)],
        upsert_services: vec![
            archives,
            ads,
            mairie_rennes,
            havre,
            cherbourg,
            ad35,
            notaires,
        ],
        upsert_holdings: vec![
            rule(
                "permis-de-construire",
                "commune:35238",
                "1908",
                "2015-06-30",
                "archives-rennes",
            ),
            rule(
                "permis-de-construire",
                "epci:243500139",
                "2015-07-01",
                "",
                "rennes-metropole-ads",
            ),
            havre_rule,
            rule("permis-de-construire", "france", "1984", "", "@mairie"),
            rule(
                "permis-de-construire",
                "commune:50173",
                "1950",
                "1980",
                "archives-equeurdreville",
            ),
            rule("acte-notarie", "departement:35", "", "-75y", "ad35"),
            rule("acte-notarie", "departement:35", "-75y", "", "notaires-35"),
        ],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
}

dual_test!(
    rennes_2015_gives_both_holders_with_their_dates,
    Geo::Sample,
    |app| {
        seed(app).await;
        let (status, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015")
            .await;
        assert_eq!(status, 200, "{body}");
        let m = body["matches"].as_array().unwrap();
        assert_eq!(m.len(), 2, "{body}");
        assert_eq!(m[0]["service"]["id"], "archives-rennes");
        assert_eq!(m[0]["from"], "1908-01-01");
        assert_eq!(m[0]["to"], "2015-06-30");
        assert_eq!(m[0]["territory"], "commune:35238");
        assert_eq!(m[1]["service"]["id"], "rennes-metropole-ads");
        assert_eq!(m[1]["from"], "2015-07-01");
        assert_eq!(m[1]["to"], serde_json::Value::Null);
        assert_eq!(m[1]["territory"], "epci:243500139");
        assert_eq!(m[0]["communicability"]["free"], true);
        assert_eq!(body["commune"]["name"], "Rennes");
        assert_eq!(body["commune"]["current"], serde_json::Value::Null);
        assert_eq!(body["uncovered"].as_array().unwrap().len(), 0);

        // A date picks one holder.
        let (_, body) = app
            .get_json(
                "/api/v1/locate?document_type=permis-de-construire&commune=35238&date=2015-08-01",
            )
            .await;
        assert_eq!(body["matches"].as_array().unwrap().len(), 1);
        assert_eq!(body["matches"][0]["service"]["id"], "rennes-metropole-ads");

        // No date: the whole timeline, oldest first, and the gap before 1908 said plainly.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238")
            .await;
        assert_eq!(body["matches"].as_array().unwrap().len(), 2);
        assert_eq!(
            body["uncovered"],
            serde_json::json!([{"from": null, "to": "1907-12-31"}])
        );
        // Cesson-Sévigné, in Rennes Métropole: the EPCI rule after 2015-07-01, the town hall before.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35051")
            .await;
        let ids: Vec<_> = body["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["service"]["name"].clone())
            .collect();
        assert_eq!(
            ids,
            vec![
                serde_json::json!("Mairie de Cesson-Sévigné"),
                serde_json::json!("Rennes Métropole – Droit des sols")
            ]
        );
        assert_eq!(body["matches"][0]["to"], "2015-06-30");
        assert_eq!(body["matches"][0]["service"]["id"], serde_json::Value::Null);
    }
);

dual_test!(town_halls_and_specific_rules, Geo::Sample, |app| {
    seed(app).await;
    // Le Havre 1985: the city archives, with the instruction.
    let (_, body) = app
        .get_json("/api/v1/locate?document_type=permis-de-construire&commune=76351&year=1985")
        .await;
    assert_eq!(body["matches"][0]["service"]["id"], "archives-le-havre");
    assert_eq!(
        body["matches"][0]["instructions"],
        "Demandez d'abord le numéro du permis au service Droit des sols."
    );
    // Le Havre 2020: the france-level town hall rule, named in correct French.
    let (_, body) = app
        .get_json("/api/v1/locate?document_type=permis-de-construire&commune=76351&year=2020")
        .await;
    assert_eq!(body["matches"][0]["service"]["name"], "Mairie du Havre");
    assert_eq!(body["matches"][0]["from"], "1998-01-01");
    for (code, name) in [
        ("27229", "Mairie d'Évreux"),
        ("27016", "Mairie des Andelys"),
    ] {
        let (_, body) = app
            .get_json(&format!(
                "/api/v1/locate?document_type=permis-de-construire&commune={code}&year=2020"
            ))
            .await;
        assert_eq!(body["matches"][0]["service"]["name"], name);
        assert_eq!(body["matches"][0]["service"]["kind"], "mairie");
    }
    // A known town hall service is used when one exists for the commune.
    let (_, body) = app
        .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35288&year=2020")
        .await;
    assert_eq!(
        body["matches"][0]["service"]["name"],
        "Mairie de Saint-Malo"
    );
    // Before 1984 nothing covers Évreux: uncovered, not invented.
    let (_, body) = app
        .get_json("/api/v1/locate?document_type=permis-de-construire&commune=27229&year=1970")
        .await;
    assert_eq!(body["matches"].as_array().unwrap().len(), 0);
    assert_eq!(
        body["uncovered"],
        serde_json::json!([{"from": null, "to": "1983-12-31"}])
    );
});

dual_test!(
    former_communes_name_their_current_commune,
    Geo::Sample,
    |app| {
        seed(app).await;
        let (status, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=50173&year=1960")
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["commune"]["code"], "50173");
        assert_eq!(body["commune"]["current"]["code"], "50129");
        assert_eq!(body["commune"]["current"]["name"], "Cherbourg-en-Cotentin");
        assert_eq!(
            body["matches"][0]["service"]["id"],
            "archives-equeurdreville"
        );
        // Its own rule does not leak to the current commune.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=50129&year=1960")
            .await;
        assert_eq!(body["matches"].as_array().unwrap().len(), 0);
    }
);

dual_test!(
    communicability_follows_the_legal_delay,
    Geo::Sample,
    |app| {
        seed(app).await;
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-notarie&commune=35238&year=1985")
            .await;
        let m = &body["matches"][0];
        assert_eq!(m["service"]["id"], "notaires-35");
        assert_eq!(m["communicability"]["free"], false);
        assert_eq!(m["communicability"]["free_from"], "2061-01-01");
        assert_eq!(m["communicability"]["delay_years"], 75);
        assert!(
            m["communicability"]["note"]
                .as_str()
                .unwrap()
                .contains("plus tôt")
        );
        // 1940: older than 75 years, at the departmental archives, free.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-notarie&commune=35238&year=1940")
            .await;
        assert_eq!(body["matches"][0]["service"]["id"], "ad35");
        assert_eq!(body["matches"][0]["communicability"]["free"], true);
        assert_eq!(body["matches"][0]["to"], "1951-11-23");
        // No date: unknown, with the delay given.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=acte-notarie&commune=35238")
            .await;
        assert_eq!(body["communicability"]["free"], serde_json::Value::Null);
        assert_eq!(body["communicability"]["delay_years"], 75);
        assert_eq!(body["matches"].as_array().unwrap().len(), 2);
    }
);

dual_test!(bad_input_gets_clear_json_errors, Geo::Sample, |app| {
    seed(app).await;
    let long = "x".repeat(10_000);
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("/api/v1/locate?commune=35238".into(), 400, "invalid_parameter", Some("document_type")),
        ("/api/v1/locate?document_type=permis-de-construire".into(), 400, "invalid_parameter", Some("commune")),
        ("/api/v1/locate?document_type=permis-de-construire&commune=3523".into(), 400, "invalid_parameter", Some("commune")),
        ("/api/v1/locate?document_type=permis-de-construire&commune=99999".into(), 404, "unknown_commune", None),
        ("/api/v1/locate?document_type=nope&commune=35238".into(), 404, "unknown_document_type", None),
        ("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=19850".into(), 400, "invalid_parameter", Some("year")),
        ("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=-3".into(), 400, "invalid_parameter", Some("year")),
        ("/api/v1/locate?document_type=permis-de-construire&commune=35238&date=2015-02-30".into(), 400, "invalid_parameter", Some("date")),
        ("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015&date=2015-01-01".into(), 400, "invalid_parameter", Some("date")),
        ("/api/v1/locate?document_type=permis-de-construire&commune=35238&commune=76351".into(), 400, "invalid_parameter", Some("commune")),
        (format!("/api/v1/locate?document_type={long}&commune=35238"), 400, "invalid_parameter", Some("document_type")),
        ("/api/v1/locate?document_type=%FF%FE&commune=35238".into(), 404, "unknown_document_type", None),
        ("/api/v1/communes".into(), 400, "invalid_parameter", Some("q")),
        ("/api/v1/communes?q=rennes&limit=0".into(), 400, "invalid_parameter", Some("limit")),
        ("/api/v1/communes?q=rennes&limit=abc".into(), 400, "invalid_parameter", Some("limit")),
        ("/api/v1/document-types/nope".into(), 404, "unknown_document_type", None),
        ("/api/v1/services/nope".into(), 404, "unknown_service", None),
        ("/api/v1/nowhere".into(), 404, "not_found", None),
    ];
    for (path, status, code, parameter) in cases {
        let (got, body) = app.get_json(&path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
        if let Some(p) = parameter {
            assert_eq!(body["error"]["parameter"], p, "{path}: {body}");
        }
    }
    let resp = app
        .client
        .post(format!("{}/api/v1/locate", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
});

dual_test!(reference_endpoints_cache_and_cors, Geo::Sample, |app| {
    seed(app).await;
    let (status, body) = app.get_json("/api/v1/document-types").await;
    assert_eq!(status, 200);
    let slugs: Vec<_> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs, ["acte-notarie", "permis-de-construire"]);
    let (_, body) = app.get_json("/api/v1/document-types/acte-notarie").await;
    assert_eq!(body["communicability_years"], 75);
    let (_, body) = app.get_json("/api/v1/services/mairie-rennes").await;
    assert_eq!(body["name"], "Mairie de Rennes");
    assert_eq!(body["phone"], "02 23 62 10 10");
    assert_eq!(body["commune"], "35238");

    // Conditional requests: 304 while nothing changed, 200 after a change.
    let path = "/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015";
    let resp = app.get(path).await;
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(format!("{}{path}", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    app.store
        .apply(
            &Changes {
                upsert_document_types: vec![doc("cadastre", 0)],
                ..Changes::default()
            },
            None,
        )
        .await
        .unwrap();
    app.refresh().await;
    let after = app
        .client
        .get(format!("{}{path}", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status().as_u16(), 200);

    // CORS is open for GET.
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .header("origin", "https://www.mairie.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");

    let (status, body) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    for p in [
        "/api/v1/communes",
        "/api/v1/document-types",
        "/api/v1/document-types/{slug}",
        "/api/v1/services/{id}",
        "/api/v1/locate",
    ] {
        assert!(
            body["paths"][p]["get"].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    assert_eq!(app.get("/healthz").await.text().await.unwrap(), "ok");
});

dual_test!(
    a_saved_change_reaches_the_api_without_restart,
    Geo::Sample,
    |app| {
        seed(app).await;
        let _watch = app.live.watch(std::time::Duration::from_millis(50));
        let path = "/api/v1/locate?document_type=permis-de-construire&commune=35238&year=1990";
        let (_, body) = app.get_json(path).await;
        assert_eq!(body["matches"][0]["to"], "2015-06-30");
        let mut changed = rule(
            "permis-de-construire",
            "commune:35238",
            "1908",
            "2014-12-31",
            "archives-rennes",
        );
        changed.instructions = Some("Salle de lecture sur rendez-vous.".into());
        app.store
            .apply(
                &Changes {
                    upsert_holdings: vec![changed],
                    ..Changes::default()
                },
                None,
            )
            .await
            .unwrap();
        // The watcher picks the change up on its own.
        let mut seen = false;
        for _ in 0..100 {
            let (_, body) = app.get_json(path).await;
            if body["matches"][0]["to"] == "2014-12-31" {
                assert_eq!(
                    body["matches"][0]["instructions"],
                    "Salle de lecture sur rendez-vous."
                );
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(seen, "the change never reached the API");

        // An optimistic write against a stale version is refused, and nothing is written.
        let stale = app.live.snapshot().version - 1;
        let err = app
            .store
            .apply(
                &Changes {
                    upsert_document_types: vec![doc("cadastre", 0)],
                    ..Changes::default()
                },
                Some(stale),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("modifiées entre-temps"), "{err}");
        assert!(
            app.store
                .load_ref_data()
                .await
                .unwrap()
                .document_types
                .iter()
                .all(|d| d.slug.as_str() != "cadastre")
        );
    }
);

dual_test!(
    every_api_response_is_open_to_other_origins,
    Geo::Sample,
    |app| {
        seed(app).await;
        let locate = "/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015";
        let get = |path: &'static str| {
            let req = app
                .client
                .get(format!("{}{path}", app.base))
                .header("origin", "https://www.mairie.example");
            async move { req.send().await.unwrap() }
        };
        // Answers (computed, then from the answer cache), errors, the catch-all
        // and the OpenAPI document all carry the header.
        for (path, status) in [
            (locate, 200),
            (locate, 200),
            (
                "/api/v1/locate?document_type=permis-de-construire&commune=3523",
                400,
            ),
            (
                "/api/v1/locate?document_type=permis-de-construire&commune=99999",
                404,
            ),
            ("/api/v1/nothing-here", 404),
            ("/api/v1/openapi.json", 200),
            ("/api/v1/communes?q=rennes", 200),
            ("/api/v1/communes", 400),
            ("/api/v1/document-types", 200),
            ("/api/v1/document-types/acte-notarie", 200),
            ("/api/v1/services/mairie-rennes", 200),
            ("/api/v1/services/nobody", 404),
        ] {
            let resp = get(path).await;
            assert_eq!(resp.status().as_u16(), status, "{path}");
            assert_eq!(
                resp.headers()
                    .get("access-control-allow-origin")
                    .map(|v| v.to_str().unwrap()),
                Some("*"),
                "{path}"
            );
            assert!(
                resp.headers()
                    .get("access-control-allow-credentials")
                    .is_none(),
                "{path}"
            );
        }
        // A 304 and a refused method too.
        let first = get(locate).await;
        let etag = first.headers()["etag"].clone();
        let again = app
            .client
            .get(format!("{}{locate}", app.base))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304);
        assert_eq!(again.headers()["access-control-allow-origin"], "*");
        let post = app
            .client
            .post(format!("{}{locate}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(post.status().as_u16(), 405);
        assert_eq!(post.headers()["access-control-allow-origin"], "*");

        // Preflight: GET and HEAD allowed, the asked headers echoed, cached a day.
        let pre = app
            .client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/locate", app.base),
            )
            .header("origin", "https://www.mairie.example")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "x-requested-with")
            .send()
            .await
            .unwrap();
        assert_eq!(pre.status().as_u16(), 204);
        let h = pre.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(h["access-control-allow-methods"], "GET, HEAD");
        assert_eq!(h["access-control-allow-headers"], "x-requested-with");
        assert_eq!(h["access-control-max-age"], "86400");

        // The public pages are not part of the API: no CORS header there.
        let page = get("/").await;
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.headers().get("access-control-allow-origin").is_none());
    }
);

dual_test!(cached_answers_match_fresh_ones, Geo::Sample, |app| {
    seed(app).await;
    // The same question written three ways, asked twice each: every answer
    // is the same, whether computed or served from the answer cache.
    let spellings = [
        "/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015",
        "/api/v1/locate?year=2015&commune=35238&document_type=permis-de-construire",
        "/api/v1/locate?document_type=permis%2Dde%2Dconstruire&commune=+35238+&year=2015",
    ];
    let (status, reference) = app.get_json(spellings[0]).await;
    assert_eq!(status, 200);
    assert_eq!(reference["matches"].as_array().unwrap().len(), 2);
    for path in spellings.iter().chain(spellings.iter()) {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, reference, "{path}");
    }
    // Errors are never cached: a bad question stays bad, a good one good.
    for _ in 0..2 {
        let (status, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=15")
            .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["parameter"], "year");
    }
});
