use crate::dual_test;
use crate::helpers::{Geo, full_cog};

dual_test!(full_national_data_loads_and_resolves, Geo::Full, |app| {
    let snap = app.live.snapshot();
    let t = snap.territories();
    assert_eq!(t.commune_count(), 37_590);
    assert_eq!(t.epcis().count(), full_cog().epcis.len());
    assert_eq!(t.epcis().count(), 1_255);
    let code = |s: &str| locadocs_core::InseeCode::parse(s).unwrap();
    // A bare shared code means the current commune.
    assert_eq!(
        t.resolve(code("50129")).unwrap().current.name,
        "Cherbourg-en-Cotentin"
    );
    // A delegated commune resolves to its current commune.
    let r = t.resolve(code("50173")).unwrap();
    assert_eq!(r.current.code, code("50129"));
    // Paris arrondissements resolve to Paris.
    assert_eq!(
        t.resolve(code("75101")).unwrap().current.code,
        code("75056")
    );
    assert_eq!(
        t.resolve(code("35238"))
            .unwrap()
            .current
            .epci
            .as_ref()
            .unwrap()
            .as_str(),
        "243500139"
    );

    // Re-importing updates in place.
    let before = app.store.data_version().await.unwrap();
    app.store.replace_territories(full_cog()).await.unwrap();
    app.refresh().await;
    assert!(app.live.snapshot().version > before);
    assert_eq!(app.live.snapshot().territories().commune_count(), 37_590);

    // Commune search over the full index, through the API.
    let first =
        |body: &serde_json::Value| body["results"][0]["code"].as_str().unwrap_or("").to_owned();
    for (q, code) in [
        ("rennes", "35238"),
        ("Rennes", "35238"),
        ("havre", "76351"),
        ("st%20malo", "35288"),
        ("marsielle", "13055"),
        ("35000", "35238"),
        ("2a004", "2A004"),
        ("%C3%A9vreux", "27229"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/communes?q={q}")).await;
        assert_eq!(status, 200);
        assert_eq!(first(&body), code, "{q}: {body}");
    }
    let (_, body) = app
        .get_json("/api/v1/communes?q=cherbourg%20octeville&limit=3")
        .await;
    assert_eq!(body["results"][0]["name"], "Cherbourg-Octeville");
    assert_eq!(body["results"][0]["type"], "commune-deleguee");
    assert_eq!(
        body["results"][0]["current"]["name"],
        "Cherbourg-en-Cotentin"
    );
    assert!(
        !body["results"][0]["postal_codes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, body) = app.get_json("/api/v1/communes?q=50129").await;
    assert_eq!(body["results"][0]["name"], "Cherbourg-en-Cotentin");
    assert_eq!(body["results"][0]["current"], serde_json::Value::Null);
    assert_eq!(body["results"][1]["name"], "Cherbourg-Octeville");
    let (_, body) = app.get_json("/api/v1/communes?q=sai&limit=50").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 50);
    let (_, body) = app.get_json("/api/v1/communes?q=zzzzzzzz").await;
    assert_eq!(body["results"].as_array().unwrap().len(), 0);

    let (status, body) = app
        .get_json("/api/v1/locate?document_type=x&commune=50173")
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_document_type");
});
