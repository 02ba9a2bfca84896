//! What the back-office tests share: a server whose mail goes to a fresh
//! outbox directory, signed-in browsers of each role, and small HTTP helpers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use locadocs::store::{Author, Role, time_text};
use locadocs::web::admin::auth::{random_token, token_hash};
use locadocs::web::admin::{AdminConfig, Mailer};
use locadocs_core::{Bound, HoldingRule, ServiceRef, Slug, Territory};

use crate::helpers::{Db, Geo, TestApp};

static N: AtomicU32 = AtomicU32::new(0);

fn next() -> u32 {
    N.fetch_add(1, Ordering::Relaxed)
}

/// A fresh directory for the mail a test server writes.
pub fn outbox_dir() -> PathBuf {
    std::env::temp_dir().join(format!("locadocs_outbox_{}_{}", std::process::id(), next()))
}

/// A server with the back office's test settings; mail to a fresh outbox
/// unless a mailer is given.
pub async fn spawn(db: Db, mailer: Option<Mailer>) -> Option<TestApp> {
    let mailer = mailer.unwrap_or_else(|| Mailer::Outbox(outbox_dir()));
    TestApp::spawn_with(db, Geo::Sample, move |s, base| {
        s.with_admin(AdminConfig::for_tests(base, mailer))
    })
    .await
}

/// A back-office test, run once on SQLite and once on PostgreSQL.
macro_rules! admin_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: &$crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::backoffice::spawn($crate::helpers::Db::Sqlite, None)
                    .await
                    .unwrap();
                body(&app).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::backoffice::spawn($crate::helpers::Db::Postgres, None).await
                else {
                    return;
                };
                body(&app).await;
                app.cleanup().await;
            }
        }
    };
}

/// A signed-in browser: its session cookie and CSRF token.
pub struct Who {
    pub cookie: String,
    pub csrf: String,
    pub email: String,
    pub user_id: i64,
}

/// A new account of this role, signed in. Contributors get these services
/// and Ille-et-Vilaine (`departement:35`, which covers Rennes) as their
/// territory scope; see [`signed_in_with`] for another scope.
pub async fn signed_in(app: &TestApp, role: Role, services: &[&str]) -> Who {
    let territories: &[&str] = if role == Role::Contributor {
        &["departement:35"]
    } else {
        &[]
    };
    signed_in_with(app, role, services, territories).await
}

/// A new account with exactly this scope, signed in.
pub async fn signed_in_with(
    app: &TestApp,
    role: Role,
    services: &[&str],
    territories: &[&str],
) -> Who {
    let email = format!("{}-{}@exemple.fr", role.as_str(), next());
    let services: Vec<String> = services.iter().map(|s| s.to_string()).collect();
    let territories: Vec<Territory> = territories
        .iter()
        .map(|t| Territory::parse(t).unwrap())
        .collect();
    let user = app
        .store
        .create_user(
            &email,
            role,
            &services,
            &territories,
            &Author::command_line("test"),
        )
        .await
        .unwrap();
    session_of(app, user.id, &email).await
}

/// A session for an existing account.
pub async fn session_of(app: &TestApp, user_id: i64, email: &str) -> Who {
    let token = random_token();
    let csrf = random_token();
    let expires = time_text(chrono::Utc::now() + chrono::Duration::hours(1));
    app.store
        .add_session(&token_hash(&token), user_id, &csrf, &expires)
        .await
        .unwrap();
    Who {
        cookie: format!("ld_session={token}"),
        csrf,
        email: email.to_owned(),
        user_id,
    }
}

pub async fn get(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

pub async fn post(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

pub fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The `name=value` part of a Set-Cookie header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The value of a hidden field of a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Posts a `multipart/form-data` form with text fields and one file.
pub async fn upload(
    app: &TestApp,
    path: &str,
    who: &Who,
    fields: &[(&str, &str)],
    file: &[u8],
) -> (u16, String) {
    let boundary = "----locadocs-test-boundary-7d1f";
    let mut body: Vec<u8> = vec![];
    let mut all = vec![("csrf", who.csrf.as_str())];
    all.extend_from_slice(fields);
    for (k, v) in all {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"donnees.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

pub fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

/// A building-permit rule: `from` and `to` as written in a CSV file
/// (empty for an open end).
pub fn rule(territory: &str, from: &str, to: &str, service: &str) -> HoldingRule {
    let b = |s: &str| (!s.is_empty()).then(|| Bound::parse(s).unwrap().0);
    HoldingRule {
        document_type: slug("permis-de-construire"),
        territory: Territory::parse(territory).unwrap(),
        from: b(from),
        to: b(to),
        service: ServiceRef::parse(service).unwrap(),
        instructions: None,
        source: None,
        verified_at: None,
    }
}
