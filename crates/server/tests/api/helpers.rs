//! Test harness: a real server on 127.0.0.1:0 over a fresh database per
//! test, once on SQLite and once on PostgreSQL.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use locadocs::clock::Clock;
use locadocs::live::Live;
use locadocs::store::{self, Store};
use locadocs::web::admin::{AdminConfig, Mailer};
use locadocs::web::{AppState, app};
use locadocs_core::cog::{self, CogData};
use sqlx::Connection;

/// The day every test runs on, so that delays and rolling bounds are stable.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Which territories a test starts with.
#[derive(Debug, Clone, Copy)]
pub enum Geo {
    /// A dozen real communes (Rennes, Le Havre, Évreux, Cherbourg…), taken
    /// at run time from the installed data package.
    Sample,
    /// All 37,590 entries.
    Full,
}

/// The codes of the sample: enough for the real cases of the brief.
pub const SAMPLE_CODES: &[&str] = &[
    "35238", "35051", "35288", "76351", "76540", "27229", "27016", "50129", "50173", "75056",
    "75101", "2A004", "14001",
];

pub fn cog_dir() -> PathBuf {
    std::env::var_os("LOCADOCS_COG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../node_modules/@etalab/decoupage-administratif/data")
        })
}

/// The full national data, parsed once per test binary.
pub fn full_cog() -> &'static CogData {
    static DATA: OnceLock<CogData> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = cog_dir();
        let read = |f: &str| {
            std::fs::read(dir.join(f)).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}. Install the data with `npm ci --ignore-scripts` (make test does it).",
                    dir.join(f).display()
                )
            })
        };
        cog::parse(
            &read("communes.json"),
            &read("epci.json"),
            &read("departements.json"),
            &read("regions.json"),
        )
        .expect("the installed COG data parses")
    })
}

pub fn sample_cog() -> CogData {
    let full = full_cog();
    let keep = |code: &str| SAMPLE_CODES.contains(&code);
    let communes: Vec<_> = full
        .communes
        .iter()
        .filter(|c| keep(c.code.as_str()))
        .cloned()
        .collect();
    let used_epcis: Vec<_> = communes.iter().filter_map(|c| c.epci.clone()).collect();
    let deps: Vec<_> = communes.iter().map(|c| c.departement.clone()).collect();
    let regions: Vec<_> = communes.iter().map(|c| c.region.clone()).collect();
    CogData {
        epcis: full
            .epcis
            .iter()
            .filter(|e| used_epcis.contains(&e.siren))
            .cloned()
            .collect(),
        departements: full
            .departements
            .iter()
            .filter(|d| deps.contains(&d.code))
            .cloned()
            .collect(),
        regions: full
            .regions
            .iter()
            .filter(|r| regions.contains(&r.code))
            .cloned()
            .collect(),
        communes,
    }
}

fn postgres_admin_url() -> String {
    std::env::var("LOCADOCS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Whether PostgreSQL tests run: when the server answers; CI sets
/// `LOCADOCS_TEST_REQUIRE_POSTGRES=1` so that an unreachable server fails.
async fn postgres_available() -> bool {
    static CHECKED: tokio::sync::OnceCell<bool> = tokio::sync::OnceCell::const_new();
    *CHECKED
        .get_or_init(|| async {
            sqlx::any::install_default_drivers();
            let ok = tokio::time::timeout(std::time::Duration::from_secs(3), sqlx::AnyConnection::connect(&postgres_admin_url()))
                .await
                .map(|r| r.is_ok())
                .unwrap_or(false);
            if !ok {
                if std::env::var("LOCADOCS_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                    panic!("PostgreSQL is required (LOCADOCS_TEST_REQUIRE_POSTGRES=1) but {} is unreachable", postgres_admin_url());
                }
                eprintln!("PostgreSQL unreachable at {}: PostgreSQL variants are skipped", postgres_admin_url());
            }
            ok
        })
        .await
}

/// A fresh, empty database, removed when the test ends.
pub struct TestDb {
    pub url: String,
    db: Db,
    name: String,
    _dir: Option<tempdir::Dir>,
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn new(db: Db) -> Option<TestDb> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("locadocs_t_{}_{}", std::process::id(), n);
        match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("test.db").display());
                Some(TestDb {
                    url,
                    db,
                    name,
                    _dir: Some(tempdir::Dir(dir)),
                })
            }
            Db::Postgres => {
                if !postgres_available().await {
                    return None;
                }
                let admin = postgres_admin_url();
                let mut conn = sqlx::AnyConnection::connect(&admin)
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Some(TestDb {
                    url: format!("{base}/{name}"),
                    db,
                    name,
                    _dir: None,
                })
            }
        }
    }

    /// Drops a PostgreSQL test database (SQLite's goes with its directory).
    pub async fn cleanup(self) {
        if self.db == Db::Postgres
            && let Ok(mut conn) = sqlx::AnyConnection::connect(&postgres_admin_url()).await
        {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await;
        }
    }
}

/// A running server and what it stands on.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub live: Arc<Live>,
    /// Guide use counted by the server, not yet written.
    pub usage: Arc<locadocs::usage::Usage>,
    /// Audience events recorded by the server, not yet written.
    pub analytics: Arc<locadocs::analytics::Recorder>,
    pub db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn spawn(db: Db, geo: Geo) -> Option<TestApp> {
        Self::spawn_with(db, geo, |s, _| s).await
    }

    /// Like `spawn`, with a change to the application state (back-office
    /// settings, for example). The listener is bound first so that the
    /// change can use the server's address (`base` is passed in).
    pub async fn spawn_with(
        db: Db,
        geo: Geo,
        configure: impl FnOnce(AppState, &str) -> AppState,
    ) -> Option<TestApp> {
        let db = TestDb::new(db).await?;
        let store = store::open(&db.url)
            .await
            .expect("open and migrate the test database");
        match geo {
            Geo::Sample => {
                store.replace_territories(&sample_cog()).await.unwrap();
            }
            Geo::Full => {
                store.replace_territories(full_cog()).await.unwrap();
            }
        }
        let live = Live::load(store.clone()).await.expect("load the snapshot");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let settings = AdminConfig::for_tests(
            &base,
            Mailer::Outbox(std::env::temp_dir().join("locadocs_outbox_default")),
        );
        let state = configure(
            AppState::new(live.clone(), Clock::fixed(today()), settings),
            &base,
        );
        let usage = state.usage.clone();
        let analytics = state.analytics.clone();
        let router = app(state);
        let server = tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, service).await.unwrap();
        });
        Some(TestApp {
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            store,
            live,
            usage,
            analytics,
            db,
            server,
        })
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// GET and parse JSON, returning the status too.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// Makes the server see the latest writes now instead of at its next poll.
    pub async fn refresh(&self) {
        self.live.refresh().await.unwrap();
    }

    pub async fn cleanup(self) {
        self.server.abort();
        drop(self.live);
        drop(self.store);
        self.db.cleanup().await;
    }
}

/// Declares one test run on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! dual_test {
    ($name:ident, $geo:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: &$crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Db::Sqlite, $geo).await.unwrap();
                body(&app).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Db::Postgres, $geo).await else {
                    return;
                };
                body(&app).await;
                app.cleanup().await;
            }
        }
    };
}
