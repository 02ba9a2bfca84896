//! Server-side handling of guide pages and API answers, through the whole
//! router (routing, guide walk, locate, template rendering), on the full
//! national territories and the demo data. The `api` group puts `/healthz`,
//! a locate answer served from the answer cache and locate answers computed
//! each time side by side: the in-process part of the locate/healthz ratio
//! that `bench/run.sh` measures over HTTP.

use std::hint::black_box;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use locadocs::clock::Clock;
use locadocs::live::Live;
use locadocs::web::{AppState, app};
use locadocs_core::cog;
use tower::ServiceExt;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("locadocs-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut codes: Vec<String> = Vec::new();
    let router = rt.block_on(async {
        let store = locadocs::store::open(&format!("sqlite://{}", dir.join("b.db").display()))
            .await
            .unwrap();
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../node_modules/@etalab/decoupage-administratif/data");
        let read = |f: &str| std::fs::read(data.join(f)).expect("run npm ci --ignore-scripts");
        let cog = cog::parse(
            &read("communes.json"),
            &read("epci.json"),
            &read("departements.json"),
            &read("regions.json"),
        )
        .unwrap();
        store.replace_territories(&cog).await.unwrap();
        codes = cog
            .communes
            .iter()
            .filter(|c| c.current.is_none())
            .map(|c| c.code.to_string())
            .collect();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        locadocs::import::demo(store.as_ref(), today).await.unwrap();
        let live = Live::load(store).await.unwrap();
        let settings = locadocs::web::admin::AdminConfig::for_tests(
            "http://127.0.0.1:8080",
            locadocs::web::admin::Mailer::Outbox(
                std::env::temp_dir().join("locadocs_bench_outbox"),
            ),
        );
        app(AppState::new(live, Clock::fixed(today), settings))
    });

    let pages = [
        ("first step", "/g/immobilier"),
        (
            "commune step, matches listed",
            "/g/immobilier?savoir=non&besoin=plans&urbanisme=ok&commune_q=rennes",
        ),
        (
            "date step",
            "/g/immobilier?savoir=non&besoin=plans&urbanisme=ok&commune=35238",
        ),
        (
            "answer page (Rennes, 2015)",
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015",
        ),
        (
            "answer page, unknown date",
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=inconnu",
        ),
        ("document page", "/documents/acte-notarie"),
    ];
    // One request through the whole router, its body read to the end.
    let get = |uri: &'static str| {
        let router = router.clone();
        async move {
            let resp = router
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{uri}");
            black_box(
                axum::body::to_bytes(resp.into_body(), usize::MAX)
                    .await
                    .unwrap()
                    .len(),
            )
        }
    };
    let mut group = c.benchmark_group("pages");
    for (name, uri) in pages {
        group.bench_function(name, |b| b.to_async(&rt).iter(|| get(uri)));
    }
    group.finish();

    // Every current commune in turn: about 35,000 distinct questions, eight
    // times what the answer cache keeps (4,096, dropping one entry per new
    // one), so that practically every answer is computed again.
    // Leaked once, so that a request costs the same here as above.
    let fresh: Vec<&'static str> = codes
        .iter()
        .map(|c| {
            &*Box::leak(
                format!("/api/v1/locate?document_type=permis-de-construire&commune={c}&year=1985")
                    .into_boxed_str(),
            )
        })
        .collect();
    assert!(
        fresh.len() > 30_000,
        "not enough communes for the cold case"
    );
    let mut group = c.benchmark_group("api");
    group.bench_function("healthz", |b| b.to_async(&rt).iter(|| get("/healthz")));
    group.bench_function("locate, answer cached (Rennes, 2015)", |b| {
        b.to_async(&rt).iter(|| {
            get("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015")
        })
    });
    let mut i = 0;
    group.bench_function("locate, computed (all communes in turn)", |b| {
        b.to_async(&rt).iter(|| {
            i = (i + 1) % fresh.len();
            get(fresh[i])
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
