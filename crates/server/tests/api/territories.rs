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

    let (status, body) = app
        .get_json("/api/v1/locate?document_type=x&commune=50173")
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "unknown_document_type");
});
