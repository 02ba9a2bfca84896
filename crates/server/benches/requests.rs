//! Requests at scale, through the whole router (routing, session, policy,
//! store, template), on SQLite and on PostgreSQL:
//!
//! - an agent's inbox tab with filters, with 100,000 requests stored across
//!   200 services (and one event each);
//! - a request submission without attachments (stored with its mails in
//!   the outbox, then the redirect to the confirmation);
//!
//! each beside `/healthz` in the same run, so that the figures read as a
//! ratio on a shared machine too. Prints p50 and p95 in milliseconds.
//!
//! `cargo bench -p locadocs --bench requests` (PostgreSQL at
//! `LOCADOCS_BENCH_POSTGRES_URL`, default postgres://postgres@127.0.0.1:5432/test;
//! skipped when unreachable). `BENCH_REQUESTS` changes the 100,000.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use locadocs::clock::Clock;
use locadocs::live::Live;
use locadocs::store::{Author, Changes, Role, Store};
use locadocs::web::admin::auth::{random_token, token_hash};
use locadocs::web::{AppState, app};
use locadocs_core::{Service, ServiceKind, Slug, cog};
use sqlx::Connection;
use tower::ServiceExt;

const SERVICES: usize = 200;
const SAMPLES: usize = 300;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Figures {
    p50: Duration,
    p95: Duration,
}

async fn timed<F, Fut>(n: usize, mut f: F) -> Figures
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        f(i).await;
        times.push(start.elapsed());
    }
    times.sort();
    Figures {
        p50: percentile(&times, 0.5),
        p95: percentile(&times, 0.95),
    }
}

async fn status_of(router: &Router, req: Request<Body>) -> u16 {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    // The whole body is produced, as a client would read it.
    let _ = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    status
}

fn cog_data() -> cog::CogData {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../node_modules/@etalab/decoupage-administratif/data");
    let read = |f: &str| std::fs::read(data.join(f)).expect("run npm ci --ignore-scripts");
    cog::parse(
        &read("communes.json"),
        &read("epci.json"),
        &read("departements.json"),
        &read("regions.json"),
    )
    .unwrap()
}

/// Writes `n` requests spread over the generated services, with one event
/// each, in batches of literal rows (generated values only).
async fn generate(url: &str, n: usize, codes: &[String], docs: &[String], agent: i64) {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let statuses = [
        "nouvelle",
        "nouvelle",
        "en_cours",
        "attente",
        "repondue",
        "non_detenu",
        "sans_suite",
    ];
    let start = chrono::Utc::now() - chrono::Duration::days(400);
    let batch = 500;
    let mut id = 0usize;
    while id < n {
        let mut rows = Vec::with_capacity(batch);
        let mut events = Vec::with_capacity(batch);
        for _ in 0..batch.min(n - id) {
            id += 1;
            let service = format!("bench-{:03}", id % SERVICES);
            let status = statuses[id % statuses.len()];
            let at = (start + chrono::Duration::seconds((id as i64) * 345))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let closed = if matches!(status, "repondue" | "non_detenu" | "sans_suite") {
                format!("'{at}'")
            } else {
                "NULL".into()
            };
            let assignee = if status == "en_cours" && id % SERVICES == 7 {
                agent.to_string()
            } else {
                "NULL".into()
            };
            rows.push(format!(
                "('2026-B{id:07}', '{service}', '{doc}', '{commune}', {year}, {year}, NULL, '[]', 'Personne {id}', \
                 'p{id}@exemple.fr', NULL, 'Je cherche le dossier {id} de ma maison.', 'fr', '{status}', NULL, {assignee}, \
                 'a{id}', 'r{id:026}', '{at}', '{at}', NULL, {closed}, {id})",
                doc = docs[id % docs.len()],
                commune = codes[id % codes.len()],
                year = 1950 + (id % 70),
            ));
            events.push(format!(
                "({id}, '{at}', 'created', NULL, 'demandeur', 'Je cherche le dossier {id}.', NULL, '{service}')"
            ));
        }
        let sql = format!(
            "INSERT INTO requests (reference, service, document_type, commune, year_from, year_to, guide, fields_json, \
             name, email, phone, body, lang, status, status_reason, assignee, access_hash, reply_token, created_at, \
             updated_at, first_answer_at, closed_at, last_event_id) VALUES {}",
            rows.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
        let sql = format!(
            "INSERT INTO request_events (request_id, at, kind, user_id, author, body, data_json, service) VALUES {}",
            events.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

fn multipart(i: usize) -> (String, Vec<u8>) {
    let boundary = "----locadocsbench";
    let mut body = String::new();
    let service = format!("bench-{:03}", i % SERVICES);
    let email = format!("envoi{i}@exemple.fr");
    for (k, v) in [
        ("document", "permis-de-construire"),
        ("service", service.as_str()),
        ("commune", "35238"),
        ("annee", "1990"),
        ("guide", "immobilier"),
        ("f_adresse", "12 rue de la Monnaie"),
        ("nom", "Marie Durand"),
        ("courriel", email.as_str()),
        ("message", "Je cherche les plans du permis de ma maison."),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

async fn run(engine: &str, url: &str, cog: &cog::CogData, n: usize) {
    let store = locadocs::store::open(url).await.unwrap();
    store.replace_territories(cog).await.unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    locadocs::import::demo(store.as_ref(), today).await.unwrap();
    // 200 services that take requests.
    let services: Vec<Service> = (0..SERVICES)
        .map(|i| {
            Service::new(
                Slug::parse(&format!("bench-{i:03}")).unwrap(),
                format!("Archives de banc d'essai {i}"),
                ServiceKind::ArchivesMunicipales,
            )
        })
        .collect();
    let version = store.data_version().await.unwrap();
    store
        .apply(
            &Changes {
                upsert_services: services,
                ..Changes::default()
            },
            Some(version),
        )
        .await
        .unwrap();
    for i in 0..SERVICES {
        store
            .set_accepting(&format!("bench-{i:03}"), true)
            .await
            .unwrap();
    }
    let agent = store
        .create_user(
            "agent@exemple.fr",
            Role::Contributor,
            &["bench-007".to_owned()],
            &[],
            &Author::command_line("bench"),
        )
        .await
        .unwrap();
    let token = random_token();
    let expires = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    store
        .add_session(&token_hash(&token), agent.id, &random_token(), &expires)
        .await
        .unwrap();
    let codes: Vec<String> = ["35238", "35051", "35288", "76351", "27229"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let data = store.load_ref_data().await.unwrap();
    let docs: Vec<String> = data
        .document_types
        .iter()
        .map(|d| d.slug.to_string())
        .collect();
    let started = Instant::now();
    generate(url, n, &codes, &docs, agent.id).await;
    println!(
        "{engine}: {n} requests and their events generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let store: std::sync::Arc<dyn Store> = store;
    let live = Live::load(store).await.unwrap();
    let settings = locadocs::web::admin::AdminConfig::for_tests(
        "http://127.0.0.1:8080",
        locadocs::web::admin::Mailer::Outbox(std::env::temp_dir().join("locadocs_bench_outbox")),
    );
    let router = app(AppState::new(live, Clock::fixed(today), settings));
    let cookie = format!("ld_session={token}");

    let get = |path: String| {
        Request::get(path)
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap()
    };
    let inbox_paths = [
        "/admin/demandes".to_owned(),
        "/admin/demandes?onglet=toutes".to_owned(),
        "/admin/demandes?onglet=traitees&type=permis-de-construire".to_owned(),
        "/admin/demandes?onglet=toutes&commune=35238&statut=attente".to_owned(),
        "/admin/demandes?onglet=toutes&q=maison&age=30".to_owned(),
        "/admin/demandes?onglet=suivies".to_owned(),
        "/admin/demandes?onglet=toutes&page=5".to_owned(),
    ];
    // Warm up: caches, prepared statements, the snapshot.
    for p in &inbox_paths {
        assert_eq!(status_of(&router, get(p.clone())).await, 200, "{p}");
    }
    let base = timed(SAMPLES, |_| async {
        let s = status_of(
            &router,
            Request::get("/healthz").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(s, 200);
    })
    .await;
    let inbox = timed(SAMPLES, |i| {
        let req = get(inbox_paths[i % inbox_paths.len()].clone());
        let router = &router;
        async move {
            assert_eq!(status_of(router, req).await, 200);
        }
    })
    .await;
    let submit = timed(SAMPLES, |i| {
        let (ctype, body) = multipart(i);
        let req = Request::post("/demande/nouvelle")
            .header("content-type", ctype)
            .body(Body::from(body))
            .unwrap();
        let router = &router;
        async move {
            assert_eq!(status_of(router, req).await, 303);
        }
    })
    .await;
    println!(
        "{engine}: /healthz                        p50 {:>7.3} ms  p95 {:>7.3} ms",
        ms(base.p50),
        ms(base.p95)
    );
    println!(
        "{engine}: inbox tab with filters          p50 {:>7.3} ms  p95 {:>7.3} ms  (target p95 < 50 ms; p95 / healthz p95 = {:.0})",
        ms(inbox.p50),
        ms(inbox.p95),
        ms(inbox.p95) / ms(base.p95).max(0.001)
    );
    println!(
        "{engine}: request submission, no files    p50 {:>7.3} ms  p95 {:>7.3} ms  (target p95 < 20 ms; p95 / healthz p95 = {:.0})",
        ms(submit.p50),
        ms(submit.p95),
        ms(submit.p95) / ms(base.p95).max(0.001)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    let n: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cog = cog_data();
        let dir =
            std::env::temp_dir().join(format!("locadocs-bench-requests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        run(
            "SQLite",
            &format!("sqlite://{}", dir.join("b.db").display()),
            &cog,
            n,
        )
        .await;
        let _ = std::fs::remove_dir_all(&dir);

        sqlx::any::install_default_drivers();
        let admin = std::env::var("LOCADOCS_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        match sqlx::AnyConnection::connect(&admin).await {
            Ok(mut conn) => {
                let name = format!("locadocs_bench_{}", std::process::id());
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                run("PostgreSQL", &format!("{base}/{name}"), &cog, n).await;
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
            Err(e) => println!("PostgreSQL: skipped ({e})"),
        }
    });
}
