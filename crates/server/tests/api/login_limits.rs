//! Login and reset limits, the client address behind a reverse proxy,
//! bounded anonymous writes, the purge of expired rows, one-time links
//! ended by a new password, and the cap on API query parameters.

use std::path::{Path, PathBuf};

use locadocs::store::{
    AttemptKind, AttemptLimits, AttemptVerdict, Author, Role, TokenPurpose, TokenState,
};
use locadocs::store::{now_text, time_text};
use locadocs::web::admin::auth::{self, hash_password, random_token, token_hash};
use locadocs::web::admin::{AdminConfig, Mailer};

use crate::backoffice::{cookie_pair, get, hidden, outbox_dir, post, set_cookie};
use crate::helpers::{Db, Geo, TestApp};

const PASSWORD: &str = "un mot de passe solide";

/// A server trusting these reverse proxies (comma-separated, may be empty),
/// with mail to `mailer` or a fresh outbox.
async fn spawn_login(db: Db, proxies: &str, mailer: Option<Mailer>) -> Option<TestApp> {
    let items: Vec<String> = proxies.split(',').map(str::to_owned).collect();
    let proxies = locadocs::settings::trusted_proxies(&items).unwrap();
    let mailer = mailer.unwrap_or_else(|| Mailer::Outbox(outbox_dir()));
    TestApp::spawn_with(db, Geo::Sample, move |s, base| {
        s.with_admin(AdminConfig::for_tests(base, mailer).with_trusted_proxies(proxies))
    })
    .await
}

/// A test on a server trusting `$proxies` as reverse proxies, run once on
/// SQLite and once on PostgreSQL.
macro_rules! proxy_test {
    ($name:ident, $proxies:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: &TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = spawn_login(Db::Sqlite, $proxies, None).await.unwrap();
                body(&app).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = spawn_login(Db::Postgres, $proxies, None).await else {
                    return;
                };
                body(&app).await;
                app.cleanup().await;
            }
        }
    };
}

/// An active account with [`PASSWORD`].
async fn account(app: &TestApp, email: &str) -> i64 {
    let user = app
        .store
        .create_user(email, Role::Admin, &[], &[], &Author::command_line("test"))
        .await
        .unwrap();
    let hash = hash_password(PASSWORD.to_owned()).await.unwrap();
    app.store.set_password(user.id, &hash).await.unwrap();
    user.id
}

/// The pre-session cookie and CSRF token of an anonymous form page.
async fn form_of(app: &TestApp, path: &str) -> (String, String) {
    let page = get(app, path, "").await;
    let cookie = cookie_pair(&set_cookie(&page, "ld_form").unwrap());
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    (cookie, csrf)
}

/// A login attempt, as forwarded by a proxy for `forwarded_for` if given.
async fn login(
    app: &TestApp,
    form: &(String, String),
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/admin/login", app.base))
        .header("cookie", &form.0)
        .form(&[
            ("csrf", form.1.as_str()),
            ("email", email),
            ("password", password),
        ]);
    if let Some(x) = forwarded_for {
        req = req.header("x-forwarded-for", x);
    }
    req.send().await.unwrap()
}

fn since() -> String {
    time_text(chrono::Utc::now() - chrono::Duration::minutes(auth::LOCK_MINUTES))
}

// ---------------------------------------------------------------- login limits

admin_test!(
    parallel_wrong_passwords_are_checked_at_most_the_limit,
    |app| {
        account(app, "cible@exemple.fr").await;
        let form = form_of(app, "/admin/login").await;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..200 {
            let (client, base, form) = (app.client.clone(), app.base.clone(), form.clone());
            tasks.spawn(async move {
                let r = client
                    .post(format!("{base}/admin/login"))
                    .header("cookie", &form.0)
                    .form(&[
                        ("csrf", form.1.as_str()),
                        ("email", "cible@exemple.fr"),
                        ("password", "pas le bon"),
                    ])
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let retry = r.headers().get("retry-after").is_some();
                (status, retry, r.text().await.unwrap())
            });
        }
        let mut checked = 0;
        let mut refused = None;
        while let Some(done) = tasks.join_next().await {
            let (status, retry, body) = done.unwrap();
            match status {
                401 => checked += 1,
                429 => refused = Some((retry, body)),
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(
            checked,
            auth::LOCK_AFTER,
            "attempts whose password was checked"
        );
        let f = app
            .store
            .login_failures("cible@exemple.fr", "127.0.0.1", &since())
            .await
            .unwrap();
        assert_eq!(f.address, auth::LOCK_AFTER);
        // The refusal says plainly what happened and when to come back.
        let (retry, body) = refused.unwrap();
        assert!(retry, "a Retry-After header");
        assert!(
            body.contains("Trop d&#39;essais") || body.contains("Trop d'essais"),
            "{body}"
        );
        assert!(body.contains("Réessayez dans 15 minutes"), "{body}");
        assert!(!body.contains("incorrect"), "{body}");
        // Even the right password waits.
        let r = login(app, &form, "cible@exemple.fr", PASSWORD, None).await;
        assert_eq!(r.status(), 429);
    }
);

proxy_test!(account_limit_holds_across_addresses, "127.0.0.1", |app| {
    account(app, "cible@exemple.fr").await;
    let form = form_of(app, "/admin/login").await;
    // One wrong password from each of many addresses: each is a first try there.
    for i in 0..auth::ACCOUNT_LIMIT {
        let xff = format!("198.51.100.{i}");
        let r = login(app, &form, "cible@exemple.fr", "pas le bon", Some(&xff)).await;
        assert_eq!(r.status(), 401, "try {i}");
    }
    let r = login(
        app,
        &form,
        "cible@exemple.fr",
        "pas le bon",
        Some("198.51.100.200"),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("plusieurs connexions"));
    // The account is locked everywhere for now, right password included.
    let r = login(
        app,
        &form,
        "cible@exemple.fr",
        PASSWORD,
        Some("203.0.113.50"),
    )
    .await;
    assert_eq!(r.status(), 429);
    // Another account is not.
    account(app, "autre@exemple.fr").await;
    let r = login(
        app,
        &form,
        "autre@exemple.fr",
        PASSWORD,
        Some("203.0.113.50"),
    )
    .await;
    assert_eq!(r.status(), 303);
});

// The proxies trusted here do not include the test client (127.0.0.1).
proxy_test!(
    forged_forwarded_for_does_not_escape_the_address_limit,
    "192.0.2.0/24",
    |app| {
        let form = form_of(app, "/admin/login").await;
        // Password spraying: one try on each of many accounts, each request
        // claiming another origin.
        for i in 0..auth::ADDRESS_LIMIT {
            let email = format!("compte{i}@exemple.fr");
            let xff = format!("203.0.113.{i}, 192.0.2.1");
            let r = login(app, &form, &email, "pas le bon", Some(&xff)).await;
            assert_eq!(r.status(), 401, "try {i}");
        }
        let r = login(
            app,
            &form,
            "encore@exemple.fr",
            "pas le bon",
            Some("198.51.100.9"),
        )
        .await;
        assert_eq!(r.status(), 429);
        assert!(r.text().await.unwrap().contains("depuis votre adresse"));
    }
);

proxy_test!(
    one_visitor_behind_the_proxy_does_not_lock_out_another,
    "127.0.0.1",
    |app| {
        account(app, "admin@exemple.fr").await;
        let form = form_of(app, "/admin/login").await;
        for _ in 0..auth::LOCK_AFTER {
            let r = login(
                app,
                &form,
                "admin@exemple.fr",
                "pas le bon",
                Some("203.0.113.1"),
            )
            .await;
            assert_eq!(r.status(), 401);
        }
        let r = login(
            app,
            &form,
            "admin@exemple.fr",
            PASSWORD,
            Some("203.0.113.1"),
        )
        .await;
        assert_eq!(r.status(), 429, "the first visitor is locked out");
        // The real administrator, behind the same proxy, signs in.
        let r = login(
            app,
            &form,
            "admin@exemple.fr",
            PASSWORD,
            Some("203.0.113.2"),
        )
        .await;
        assert_eq!(r.status(), 303);
        // The proxy's own hop to the right of the visitor is skipped.
        let r = login(
            app,
            &form,
            "admin@exemple.fr",
            PASSWORD,
            Some("203.0.113.1, 127.0.0.1"),
        )
        .await;
        assert_eq!(r.status(), 429);
    }
);

proxy_test!(
    the_feedback_limit_counts_each_visitor_behind_the_proxy,
    "127.0.0.1",
    |app| {
        locadocs::import::demo(app.store.as_ref(), crate::helpers::today())
            .await
            .unwrap();
        app.refresh().await;
        let rate = |xff: &'static str| async move {
            app.client
                .post(format!("{}/g/immobilier/avis", app.base))
                .header("x-forwarded-for", xff)
                .form(&[("rating", "3")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        let mut first = Vec::new();
        for _ in 0..11 {
            first.push(rate("203.0.113.1").await);
        }
        assert_eq!(first.iter().filter(|s| **s == 303).count(), 10, "{first:?}");
        assert_eq!(first.last(), Some(&429));
        // Another visitor through the same proxy still may.
        assert_eq!(rate("203.0.113.2").await, 303);
    }
);

// ---------------------------------------------------------------- bounded writes

/// Rows in a table of the test database.
async fn count_rows(app: &TestApp, table: &str) -> i64 {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    row.try_get("n").unwrap()
}

admin_test!(an_overlong_email_is_refused_and_nothing_stored, |app| {
    let long = format!("{}@exemple.fr", "a".repeat(300));
    let form = form_of(app, "/admin/login").await;
    let r = login(app, &form, &long, "pas le bon", None).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("trop longue") && body.contains("254"),
        "{body}"
    );
    assert_eq!(count_rows(app, "auth_attempts").await, 0);
    // An over-long password is refused too, before anything is counted.
    let r = login(app, &form, "a@exemple.fr", &"x".repeat(129), None).await;
    assert_eq!(r.status(), 422);
    assert_eq!(count_rows(app, "auth_attempts").await, 0);

    let form = form_of(app, "/admin/mot-de-passe").await;
    let r = post(
        app,
        "/admin/mot-de-passe",
        &form.0,
        &[("csrf", &form.1), ("email", &long)],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("trop longue"));
    assert_eq!(count_rows(app, "auth_attempts").await, 0);
    // A link token of the wrong shape is not looked up.
    let r = get(
        app,
        &format!("/admin/reinitialisation/{}", "a".repeat(5000)),
        "",
    )
    .await;
    assert_eq!(r.status(), 404);
});

admin_test!(purge_removes_expired_tokens_attempts_and_sessions, |app| {
    let user = account(app, "agent@exemple.fr").await;
    let now = chrono::Utc::now();
    let at = |minutes: i64| time_text(now + chrono::Duration::minutes(minutes));
    let tokens: Vec<String> = (0..3).map(|_| random_token()).collect();
    for (t, expires) in tokens.iter().zip([at(-5), at(60), at(60)]) {
        app.store
            .add_token(user, TokenPurpose::Reset, &token_hash(t), &expires)
            .await
            .unwrap();
    }
    // The second is used; the third stays valid.
    app.store
        .use_token(&token_hash(&tokens[1]), TokenPurpose::Reset, &now_text())
        .await
        .unwrap();
    // In this order: opening a session sweeps the expired ones.
    app.store
        .add_session(&token_hash("en-cours"), user, "csrf", &at(60))
        .await
        .unwrap();
    app.store
        .add_session(&token_hash("ancienne"), user, "csrf", &at(-1))
        .await
        .unwrap();
    let limits = AttemptLimits {
        kind: AttemptKind::Login,
        per_account: 20,
        per_address: 50,
        per_account_and_address: 5,
    };
    for (minutes, addr) in [(-120, "192.0.2.1"), (-1, "192.0.2.2")] {
        let v = app
            .store
            .count_attempt(&limits, "agent@exemple.fr", addr, &at(minutes), &at(-240))
            .await
            .unwrap();
        assert!(matches!(v, AttemptVerdict::Counted { .. }));
    }
    assert_eq!(count_rows(app, "tokens").await, 3);
    assert_eq!(count_rows(app, "sessions").await, 2);
    let purged = app.store.purge_expired(&at(0), &at(-60)).await.unwrap();
    assert_eq!((purged.attempts, purged.tokens, purged.sessions), (1, 2, 1));
    assert_eq!(count_rows(app, "tokens").await, 1);
    assert_eq!(count_rows(app, "sessions").await, 1);
    assert_eq!(count_rows(app, "auth_attempts").await, 1);
    assert!(matches!(
        app.store
            .token_state(&token_hash(&tokens[2]), TokenPurpose::Reset, &now_text())
            .await
            .unwrap(),
        TokenState::Valid { .. }
    ));
    assert!(
        app.store
            .session(&token_hash("en-cours"), &now_text())
            .await
            .unwrap()
            .is_some()
    );
});

// ---------------------------------------------------------------- reset requests

/// The `.eml` files of an outbox, waiting up to ten seconds for `n` of them.
async fn mails(dir: &Path, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let found: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} mails in {}", dir.display());
}

async fn ask_reset(app: &TestApp, form: &(String, String), email: &str) -> (u16, String) {
    let r = post(
        app,
        "/admin/mot-de-passe",
        &form.0,
        &[("csrf", &form.1), ("email", email)],
    )
    .await;
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_answers_alike_and_mails_in_the_background_sqlite() {
    reset_answers_alike(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_answers_alike_and_mails_in_the_background_postgres() {
    reset_answers_alike(Db::Postgres).await;
}

async fn reset_answers_alike(db: Db) {
    let outbox: PathBuf = outbox_dir();
    let Some(app) = spawn_login(db, "", Some(Mailer::Outbox(outbox.clone()))).await else {
        return;
    };
    account(&app, "agent@exemple.fr").await;
    let form = form_of(&app, "/admin/mot-de-passe").await;
    let known = ask_reset(&app, &form, "agent@exemple.fr").await;
    let unknown = ask_reset(&app, &form, "personne@exemple.fr").await;
    assert_eq!(known.0, 200);
    assert_eq!(
        known, unknown,
        "the same answer whether the account exists or not"
    );
    let sent = mails(&outbox, 1).await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("agent@exemple.fr") && sent[0].contains("/admin/reinitialisation/"));

    // Three requests an hour for one account: the fourth gets the same page
    // and no mail.
    for _ in 0..2 {
        assert_eq!(ask_reset(&app, &form, "agent@exemple.fr").await, known);
    }
    mails(&outbox, 3).await;
    assert_eq!(ask_reset(&app, &form, "agent@exemple.fr").await, known);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(mails(&outbox, 3).await.len(), 3);
    // Five requests an hour from one address (four counted so far, the
    // refused one is not): the sixth is refused, plainly.
    assert_eq!(ask_reset(&app, &form, "encore@exemple.fr").await, known);
    let (status, body) = ask_reset(&app, &form, "toujours@exemple.fr").await;
    assert_eq!(status, 429);
    assert!(body.contains("Trop de demandes"), "{body}");
    let _ = std::fs::remove_dir_all(&outbox);
    app.cleanup().await;

    // With a mail server that never answers, the answer does not wait for it.
    let smtp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", smtp.local_addr().unwrap());
    let Some(app) = spawn_login(db, "", Some(Mailer::smtp(&url).unwrap())).await else {
        return;
    };
    account(&app, "agent@exemple.fr").await;
    let form = form_of(&app, "/admin/mot-de-passe").await;
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        ask_reset(&app, &form, "agent@exemple.fr"),
    )
    .await
    .expect("the reset page answers without waiting for the mail server");
    assert_eq!(answered.0, 200);
    assert!(answered.1.contains("Demande enregistrée"), "{}", answered.1);
    // The mail is on its way: the server connected.
    let conn = tokio::time::timeout(std::time::Duration::from_secs(10), smtp.accept()).await;
    assert!(matches!(conn, Ok(Ok(_))), "a connection to the mail server");
    app.cleanup().await;
}

admin_test!(
    a_password_set_through_one_link_ends_the_other_links,
    |app| {
        let cfg = AdminConfig::for_tests(&app.base, Mailer::Outbox(outbox_dir()));
        let (user, invitation) = auth::invite(
            app.store.as_ref(),
            &cfg,
            "nouvelle@exemple.fr",
            Role::Editor,
            &[],
            &[],
            &Author::command_line("test"),
        )
        .await
        .unwrap();
        let reset = auth::new_link(app.store.as_ref(), &cfg, &user, TokenPurpose::Reset)
            .await
            .unwrap();
        let second = auth::new_link(app.store.as_ref(), &cfg, &user, TokenPurpose::Invitation)
            .await
            .unwrap();
        let path = |link: &str| link.strip_prefix(&app.base).unwrap().to_owned();
        let form = form_of(app, &path(&invitation)).await;
        let r = post(
            app,
            &path(&invitation),
            &form.0,
            &[
                ("csrf", &form.1),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        for other in [&reset, &second] {
            let r = get(app, &path(other), "").await;
            assert_eq!(r.status(), 404, "{other}");
            // Nor can it set another password.
            let r = post(
                app,
                &path(other),
                &form.0,
                &[
                    ("csrf", &form.1),
                    ("password", "un autre mot de passe"),
                    ("confirm", "un autre mot de passe"),
                ],
            )
            .await;
            assert_ne!(r.status(), 303);
        }
        let form = form_of(app, "/admin/login").await;
        let r = login(app, &form, "nouvelle@exemple.fr", PASSWORD, None).await;
        assert_eq!(r.status(), 303);
    }
);

// ---------------------------------------------------------------- API

admin_test!(an_api_query_with_a_thousand_parameters_gets_400, |app| {
    let extra: Vec<String> = (0..1000).map(|i| format!("p{i}=1")).collect();
    let url = format!(
        "/api/v1/locate?document_type=permis-de-construire&commune=35238&{}",
        extra.join("&")
    );
    let (status, body) = app.get_json(&url).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_parameter");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("trop de paramètres"),
        "{body}"
    );
});
