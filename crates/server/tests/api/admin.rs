//! The back office: accounts, the route table for every role, editing with
//! history, revert and conflicts, and mail through a real SMTP server.

use std::path::PathBuf;

use locadocs::store::{Author, Changes, Entity, Role, TokenPurpose, now_text, time_text};
use locadocs::web::admin::auth::{random_token, token_hash};
use locadocs::web::admin::{AdminConfig, Mailer};
use locadocs_core::{Bound, DocumentType, HoldingRule, Service, ServiceKind, Territory};

use crate::backoffice::{
    cookie_pair, get, hidden, location, outbox_dir, post, rule, set_cookie, signed_in, slug, spawn,
};
use crate::helpers::{Db, TestApp};

/// Two services, A and B, each holding one rule in Rennes, and a national
/// rule held by A.
struct Seed {
    rule_a: i64,
    rule_b: i64,
    rule_france: i64,
}

async fn seed(app: &TestApp) -> Seed {
    let changes = Changes {
        upsert_document_types: ["permis-de-construire", "acte-notarie"]
            .iter()
            .map(|s| DocumentType {
                slug: slug(s),
                label: s.replace('-', " "),
                theme: None,
                aliases: vec![],
                description: None,
                communicability_years: 0,
                communicability_note: None,
            })
            .collect(),
        upsert_services: vec![
            Service::new(
                slug("svc-a"),
                "Archives A",
                ServiceKind::ArchivesMunicipales,
            ),
            Service::new(slug("svc-b"), "Urbanisme B", ServiceKind::Urbanisme),
        ],
        upsert_holdings: vec![
            rule("commune:35238", "1908", "2015-06-30", "svc-a"),
            rule("commune:35238", "2015-07-01", "", "svc-b"),
            HoldingRule {
                document_type: slug("acte-notarie"),
                ..rule("france", "", "", "svc-a")
            },
        ],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
    let held = app.store.stored_holdings().await.unwrap();
    let id = |t: &str, s: &str| {
        held.iter()
            .find(|h| h.rule.territory.to_string() == t && h.rule.service.to_string() == s)
            .unwrap()
            .id
    };
    Seed {
        rule_a: id("commune:35238", "svc-a"),
        rule_b: id("commune:35238", "svc-b"),
        rule_france: id("france", "svc-a"),
    }
}

admin_test!(hand_made_posts_cannot_reach_other_services_data, |app| {
    let seed = seed(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let b = signed_in(app, Role::Contributor, &["svc-b"]).await;
    let rev = "1";
    // B edits A's rule, A's service, creates a rule for A.
    let r = post(
        app,
        &format!("/admin/regles/{}/modifier", seed.rule_a),
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("revision", rev),
            ("document_type", "permis-de-construire"),
            ("territory", "commune:35238"),
            ("from", "1908"),
            ("to", "2015-06-30"),
            ("service", "svc-b"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = post(
        app,
        "/admin/services/svc-a/modifier",
        &b.cookie,
        &[("csrf", &b.csrf), ("name", "Piraté"), ("kind", "autre")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = get(app, "/admin/services/svc-a/modifier", &b.cookie).await;
    assert_eq!(r.status(), 403);
    let r = post(
        app,
        "/admin/regles/nouvelle",
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("document_type", "permis-de-construire"),
            ("territory", "commune:35051"),
            ("service", "svc-a"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    // A moves its own rule to B: refused.
    let r = post(
        app,
        &format!("/admin/regles/{}/modifier", seed.rule_a),
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("revision", rev),
            ("document_type", "permis-de-construire"),
            ("territory", "commune:35238"),
            ("from", "1908"),
            ("to", "2015-06-30"),
            ("service", "svc-b"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    // A's national rule is for editors only.
    let r = get(
        app,
        &format!("/admin/regles/{}/modifier", seed.rule_france),
        &a.cookie,
    )
    .await;
    assert_eq!(r.status(), 403);
    // A cannot make a national rule either.
    let r = post(
        app,
        "/admin/regles/nouvelle",
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("document_type", "permis-de-construire"),
            ("territory", "france"),
            ("from", "2030"),
            ("service", "svc-a"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("réservées aux éditeurs"));
    // B's own rule is fine for B to open.
    let r = get(
        app,
        &format!("/admin/regles/{}/modifier", seed.rule_b),
        &b.cookie,
    )
    .await;
    assert_eq!(r.status(), 200);
    // Without the CSRF token, or from another site: refused.
    let r = post(
        app,
        &format!("/admin/regles/{}/verifie", seed.rule_b),
        &b.cookie,
        &[("revision", "1")],
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(format!("{}/admin/regles/{}/verifie", app.base, seed.rule_b))
        .header("cookie", &b.cookie)
        .header("origin", "https://malveillant.example")
        .form(&[("csrf", b.csrf.as_str()), ("revision", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.store
            .stored_holding(seed.rule_b)
            .await
            .unwrap()
            .unwrap()
            .revision,
        1
    );
    assert_eq!(
        app.store
            .stored_holding(seed.rule_a)
            .await
            .unwrap()
            .unwrap()
            .revision,
        1
    );
});

// ---------------------------------------------------------------- accounts

admin_test!(invitation_login_logout_and_lockout, |app| {
    seed(app).await;
    let cfg = AdminConfig::for_tests(&app.base, Mailer::Outbox(outbox_dir()));
    let (user, link) = locadocs::web::admin::auth::invite(
        app.store.as_ref(),
        &cfg,
        "Agent@Exemple.FR",
        Role::Contributor,
        &["svc-a".to_owned()],
        &[Territory::parse("commune:35238").unwrap()],
        &Author::command_line("test"),
    )
    .await
    .unwrap();
    assert_eq!(user.email, "agent@exemple.fr");
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    assert!(path.starts_with("/admin/invitation/"));

    let page = get(app, &path, "").await;
    assert_eq!(page.status(), 200);
    let form_cookie = cookie_pair(&set_cookie(&page, "ld_form").unwrap());
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let short = post(
        app,
        &path,
        &form_cookie,
        &[("csrf", &csrf), ("password", "court"), ("confirm", "court")],
    )
    .await;
    assert_eq!(short.status(), 422);
    assert!(short.text().await.unwrap().contains("au moins 12"));
    let pw = "un mot de passe solide";
    let ok = post(
        app,
        &path,
        &form_cookie,
        &[("csrf", &csrf), ("password", pw), ("confirm", pw)],
    )
    .await;
    assert_eq!(ok.status(), 303);
    let session = set_cookie(&ok, "ld_session").unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let session = cookie_pair(&session);
    let home = get(app, "/admin", &session).await;
    assert_eq!(home.status(), 200);
    let home_html = home.text().await.unwrap();
    assert!(home_html.contains("Mes données") && home_html.contains("Archives A"));

    // The link was single-use.
    let again = get(app, &path, "").await;
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("déjà servi"));

    // Logout ends the session.
    let csrf = hidden(&home_html, "csrf");
    let out = post(app, "/admin/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), 200);
    let after = get(app, "/admin", &session).await;
    assert_eq!(location(&after), "/admin/login");

    // Login: wrong password, then right one with a new session id.
    let login = get(app, "/admin/login", "").await;
    let form_cookie = cookie_pair(&set_cookie(&login, "ld_form").unwrap());
    let csrf = hidden(&login.text().await.unwrap(), "csrf");
    let bad = post(
        app,
        "/admin/login",
        &form_cookie,
        &[
            ("csrf", &csrf),
            ("email", "agent@exemple.fr"),
            ("password", "faux"),
        ],
    )
    .await;
    assert_eq!(bad.status(), 401);
    let body = bad.text().await.unwrap();
    assert!(body.contains("incorrect"));
    assert!(
        body.contains("agent@exemple.fr"),
        "the typed address is kept"
    );
    let no_csrf = post(
        app,
        "/admin/login",
        &form_cookie,
        &[("email", "agent@exemple.fr"), ("password", pw)],
    )
    .await;
    assert_eq!(no_csrf.status(), 403);
    let good = post(
        app,
        "/admin/login",
        &form_cookie,
        &[
            ("csrf", &csrf),
            ("email", "AGENT@exemple.fr"),
            ("password", pw),
        ],
    )
    .await;
    assert_eq!(good.status(), 303);
    let session2 = cookie_pair(&set_cookie(&good, "ld_session").unwrap());
    assert_ne!(session2, session);
    assert_eq!(get(app, "/admin", &session2).await.status(), 200);

    // Five failures from this address lock the account here, even for the right password.
    for _ in 0..5 {
        let r = post(
            app,
            "/admin/login",
            &form_cookie,
            &[
                ("csrf", &csrf),
                ("email", "agent@exemple.fr"),
                ("password", "faux"),
            ],
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    let locked = post(
        app,
        "/admin/login",
        &form_cookie,
        &[
            ("csrf", &csrf),
            ("email", "agent@exemple.fr"),
            ("password", pw),
        ],
    )
    .await;
    assert_eq!(locked.status(), 429);
    assert!(locked.text().await.unwrap().contains("bloqué"));
    // Elsewhere, the account is not locked: failures are counted per address.
    let since = time_text(chrono::Utc::now() - chrono::Duration::minutes(15));
    let f = app
        .store
        .login_failures("agent@exemple.fr", "192.0.2.7", &since)
        .await
        .unwrap();
    assert_eq!((f.account, f.address), (5, 0));

    // An expired link gets its own page.
    let token = random_token();
    app.store
        .add_token(
            user.id,
            TokenPurpose::Reset,
            &token_hash(&token),
            &now_text(),
        )
        .await
        .unwrap();
    let expired = get(app, &format!("/admin/reinitialisation/{token}"), "").await;
    assert_eq!(expired.status(), 410);
    assert!(expired.text().await.unwrap().contains("expiré"));
    let unknown = get(
        app,
        &format!("/admin/reinitialisation/{}", random_token()),
        "",
    )
    .await;
    assert_eq!(unknown.status(), 404);
});

// ---------------------------------------------------------------- editing

admin_test!(rule_edit_preview_history_conflict_and_revert, |app| {
    let seed = seed(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let path = format!("/admin/regles/{}/modifier", seed.rule_a);
    let page = get(app, &path, &a.cookie).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let rev = hidden(&html, "revision");
    let fields = |to: &'static str, action: &'static str, rev: String| {
        vec![
            ("csrf", a.csrf.clone()),
            ("revision", rev),
            ("document_type", "permis-de-construire".to_owned()),
            ("territory", "commune:35238".to_owned()),
            ("from", "1908".to_owned()),
            ("to", to.to_owned()),
            ("service", "svc-a".to_owned()),
            ("action", action.to_owned()),
            ("preview_commune", "35238".to_owned()),
            ("preview_date", "2012-05-01".to_owned()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let path = path.clone();
        let cookie = a.cookie.clone();
        async move {
            app.client
                .post(format!("{}{path}", app.base))
                .header("cookie", cookie)
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    // An overlap with B's rule is refused, with what was typed kept.
    let r = send(fields("2016-12-31", "save", rev.clone())).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("chevauche") && body.contains("2016-12-31"),
        "{body}"
    );
    // It names the other rule and its holder, and, as that rule is not
    // the contributor's, says who can change it.
    assert!(
        body.contains("Cette période chevauche la règle n° "),
        "{body}"
    );
    assert!(body.contains("demandez aux éditeurs"), "{body}");
    assert!(!body.contains("ajustez les dates de l"), "{body}");
    // Preview: before, A holds 2012; after, nobody does.
    let r = send(fields("2010-12-31", "preview", rev.clone())).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("Avant la modification") && body.contains("Archives A"));
    assert!(body.contains("aucune règle"), "{body}");
    assert_eq!(
        app.store
            .stored_holding(seed.rule_a)
            .await
            .unwrap()
            .unwrap()
            .revision,
        1
    );

    let url = "/api/v1/locate?document_type=permis-de-construire&commune=35238&date=2012-05-01";
    let (_, before) = app.get_json(url).await;
    assert_eq!(before["matches"][0]["service"]["id"], "svc-a");
    let r = send(fields("2010-12-31", "save", rev.clone())).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, after) = app.get_json(url).await;
    assert_ne!(after["matches"][0]["service"]["id"], "svc-a", "{after}");

    // The same form sent again with the old revision: a conflict, not a lost update.
    let r = send(fields("2011-12-31", "save", rev.clone())).await;
    assert_eq!(r.status(), 409);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("modifiée par quelqu") && body.contains("2011-12-31"),
        "{body}"
    );

    // History: who, before, after.
    let hist = app
        .store
        .history_of(Entity::Holding, &seed.rule_a.to_string())
        .await
        .unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].user_email, a.email);
    assert!(hist[0].changed_fields().contains(&(
        "to".into(),
        "2015-06-30".into(),
        "2010-12-31".into()
    )));
    let page = get(
        app,
        &format!("/admin/historique/regle/{}", seed.rule_a),
        &a.cookie,
    )
    .await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("2010-12-31") && !page.contains("/annuler"),
        "contributors do not revert"
    );

    // An editor reverts: first asked what it will undo, then done; the
    // revert is recorded too.
    let ed = signed_in(app, Role::Editor, &[]).await;
    let r = post(
        app,
        &format!("/admin/historique/{}/annuler", hist[0].id),
        &ed.cookie,
        &[("csrf", &ed.csrf)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let ask = r.text().await.unwrap();
    assert!(
        ask.contains("Confirmer l&#39;annulation") || ask.contains("Confirmer l'annulation"),
        "{ask}"
    );
    assert!(
        ask.contains("2010-12-31") && ask.contains("2015-06-30"),
        "{ask}"
    );
    assert_eq!(
        app.store
            .stored_holding(seed.rule_a)
            .await
            .unwrap()
            .unwrap()
            .rule
            .to,
        Some(Bound::parse("2010-12-31").unwrap().0),
        "nothing undone before the confirmation"
    );
    let r = post(
        app,
        &format!("/admin/historique/{}/annuler", hist[0].id),
        &ed.cookie,
        &[("csrf", &ed.csrf), ("confirm", "1")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let held = app
        .store
        .stored_holding(seed.rule_a)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(held.rule.to, Some(Bound::parse("2015-06-30").unwrap().0));
    let hist = app
        .store
        .history_of(Entity::Holding, &seed.rule_a.to_string())
        .await
        .unwrap();
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[0].reverts, Some(hist[1].id));
    assert_eq!(hist[1].reverted_by, Some(hist[0].id));
    let (_, back) = app.get_json(url).await;
    assert_eq!(back["matches"][0]["service"]["id"], "svc-a");

    // Deleting and reverting brings the rule back with its id.
    let r = post(
        app,
        &format!("/admin/regles/{}/supprimer", seed.rule_a),
        &a.cookie,
        &[("csrf", &a.csrf), ("revision", &held.revision.to_string())],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(
        app.store
            .stored_holding(seed.rule_a)
            .await
            .unwrap()
            .is_none()
    );
    let hist = app
        .store
        .history_of(Entity::Holding, &seed.rule_a.to_string())
        .await
        .unwrap();
    app.store
        .revert(
            &locadocs::store::Author {
                id: Some(1),
                email: ed.email.clone(),
            },
            hist[0].id,
        )
        .await
        .unwrap();
    assert!(
        app.store
            .stored_holding(seed.rule_a)
            .await
            .unwrap()
            .is_some()
    );
});

admin_test!(service_form_validates_and_keeps_what_was_typed, |app| {
    seed(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let page = get(app, "/admin/services/svc-a/modifier", &a.cookie).await;
    let rev = hidden(&page.text().await.unwrap(), "revision");
    let long = "x".repeat(600);
    let r = post(
        app,
        "/admin/services/svc-a/modifier",
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("revision", &rev),
            ("name", "<script>alert(1)</script>"),
            ("kind", "archives-municipales"),
            ("email", "pas-une-adresse"),
            ("website", "ftp://x"),
            ("commune", "99999"),
            ("address", &long),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("alert(1)"), "{body}");
    assert!(body.contains("Adresse électronique invalide"));
    assert!(body.contains("commence par https://"));
    assert!(body.contains("Aucune commune"));
    assert!(body.contains("Au plus 500"));
    assert!(body.contains("pas-une-adresse"), "typed values are kept");
    let r = post(
        app,
        "/admin/services/svc-a/modifier",
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("revision", &rev),
            ("name", "Archives municipales A"),
            // A contributor's form has no kind nor commune to send.
            ("email", "archives@a.fr"),
            ("website", "https://a.fr"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.live.snapshot().service("svc-a").unwrap().name,
        "Archives municipales A"
    );
    let (_, svc) = app.get_json("/api/v1/services/svc-a").await;
    assert_eq!(svc["name"], "Archives municipales A");
    // "Ces informations sont à jour".
    let page = get(app, "/admin/services/svc-a/modifier", &a.cookie).await;
    let rev = hidden(&page.text().await.unwrap(), "revision");
    let r = post(
        app,
        "/admin/services/svc-a/verifie",
        &a.cookie,
        &[("csrf", &a.csrf), ("revision", &rev)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.live.snapshot().service("svc-a").unwrap().verified_at,
        Some(crate::helpers::today())
    );
    let hist = app
        .store
        .history_of(Entity::Service, "svc-a")
        .await
        .unwrap();
    assert_eq!(hist.len(), 2);
});

// ---------------------------------------------------------------- mail

/// The Python of the project's virtual environment, where setup installs aiosmtpd.
fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run ./scripts/setup.sh (it installs aiosmtpd)",
        venv.display()
    );
    venv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_arrives_through_a_real_smtp_server() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = outbox_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp_sink.py");
    let mut server = tokio::process::Command::new(python())
        .arg(&script)
        .arg(port.to_string())
        .arg(&dir)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Wait for the server to listen.
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mailer = Mailer::smtp(&format!("smtp://127.0.0.1:{port}")).unwrap();
    let app = spawn(Db::Sqlite, Some(mailer)).await.unwrap();
    seed(&app).await;
    let admin = signed_in(&app, Role::Admin, &[]).await;
    let r = post(
        &app,
        "/admin/utilisateurs",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("email", "nouvelle@exemple.fr"),
            ("role", "contributor"),
            ("services", "svc-a"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Invitation envoyée"));
    let mut mail = String::new();
    for _ in 0..100 {
        if let Some(f) = std::fs::read_dir(&dir).unwrap().flatten().next() {
            mail = std::fs::read_to_string(f.path()).unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(mail.contains("nouvelle@exemple.fr"), "{mail}");
    // The link, possibly folded by quoted-printable encoding.
    let unfolded = mail.replace("=\r\n", "").replace("=\n", "");
    let start = unfolded
        .find(&format!("{}/admin/invitation/", app.base))
        .expect("link in mail");
    let link: String = unfolded[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let path = link.strip_prefix(&app.base).unwrap();
    let page = get(&app, path, "").await;
    assert_eq!(page.status(), 200);
    let form_cookie = cookie_pair(&set_cookie(&page, "ld_form").unwrap());
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let pw = "mot de passe de test 1";
    let ok = post(
        &app,
        path,
        &form_cookie,
        &[("csrf", &csrf), ("password", pw), ("confirm", pw)],
    )
    .await;
    assert_eq!(ok.status(), 303);
    let session = cookie_pair(&set_cookie(&ok, "ld_session").unwrap());
    let home = get(&app, "/admin", &session).await.text().await.unwrap();
    assert!(home.contains("nouvelle@exemple.fr") && home.contains("Archives A"));
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    app.cleanup().await;
}

admin_test!(gaps_and_stale_data_are_listed, |app| {
    let seed = seed(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let timeline = "/admin/regles?type=permis-de-construire&commune=35238";
    let gap = "Lacune : aucune règle commune:35238 pour permis-de-construire du 01/01/2015 au 30/06/2015.";

    // A then B, day after day: no gap.
    let home = get(app, "/admin", &a.cookie).await.text().await.unwrap();
    assert!(!home.contains("Lacune"), "{home}");
    let page = get(app, timeline, &a.cookie).await.text().await.unwrap();
    assert!(!page.contains("lacune"), "{page}");

    // A's rule now ends six months before B's starts.
    let path = format!("/admin/regles/{}/modifier", seed.rule_a);
    let html = get(app, &path, &a.cookie).await.text().await.unwrap();
    let form = [
        ("csrf", a.csrf.as_str()),
        ("revision", &hidden(&html, "revision")),
        ("document_type", "permis-de-construire"),
        ("territory", "commune:35238"),
        ("from", "1908"),
        ("to", "2014-12-31"),
        ("service", "svc-a"),
        ("action", "save"),
    ];
    let r = post(app, &path, &a.cookie, &form).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());

    // The timeline shows the gap in a row of its own, right after A's rule.
    let page = get(app, timeline, &a.cookie).await.text().await.unwrap();
    let row_a = page.find(&format!("n° {}", seed.rule_a)).expect("A's rule");
    let row_gap = page.find(">lacune</span></td>").expect("a gap row");
    let row_b = page.find(&format!("n° {}", seed.rule_b)).expect("B's rule");
    assert!(row_a < row_gap && row_gap < row_b, "{page}");
    assert!(
        page.contains("<td>01/01/2015</td><td>30/06/2015</td>"),
        "{page}"
    );
    assert!(page.contains(gap), "{page}");

    // Mes données: the contributor whose timeline it is, and editors, see it.
    for who in [&a, &editor] {
        let home = get(app, "/admin", &who.cookie).await.text().await.unwrap();
        assert!(home.contains(gap), "{}: {home}", who.email);
        assert!(
            home.contains("href=\"/admin/regles?type=permis-de-construire&#38;commune=35238\""),
            "{home}"
        );
    }
    // Another service's contributor, with no rule in that timeline, does not.
    let other = signed_in(app, Role::Contributor, &["svc-c"]).await;
    let home = get(app, "/admin", &other.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(!home.contains("Lacune"), "{home}");

    // Editors see every service and rule not verified for 12 months,
    // whoever holds it; a contributor sees only theirs.
    let home = get(app, "/admin", &editor.cookie)
        .await
        .text()
        .await
        .unwrap();
    let stale = &home[home.find("À vérifier").expect("the attention section")..];
    for name in ["Archives A", "Urbanisme B"] {
        assert!(stale.contains(name), "{name} is stale: {stale}");
    }
    for id in [seed.rule_b, seed.rule_france] {
        assert!(
            stale.contains(&format!("n° {id}<")),
            "rule {id} is stale: {stale}"
        );
    }
    let home = get(app, "/admin", &a.cookie).await.text().await.unwrap();
    let stale = &home[home.find("À vérifier").expect("the attention section")..];
    assert!(!stale.contains("Urbanisme B"), "{stale}");
    assert!(!stale.contains(&format!("n° {}<", seed.rule_b)), "{stale}");
});

// With `no-referrer`, browsers send `Origin: null` with form posts, which the
// cross-site check refuses: pages keep the referrer on the same origin only.
admin_test!(pages_let_browsers_send_their_origin, |app| {
    seed(app).await;
    let cfg = AdminConfig::for_tests(&app.base, Mailer::Outbox(outbox_dir()));
    let (_, link) = locadocs::web::admin::auth::invite(
        app.store.as_ref(),
        &cfg,
        "origine@exemple.fr",
        Role::Contributor,
        &["svc-a".to_owned()],
        &[Territory::parse("commune:35238").unwrap()],
        &Author::command_line("test"),
    )
    .await
    .unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    for p in ["/admin/login", path.as_str()] {
        let page = get(app, p, "").await;
        assert_eq!(page.status(), 200);
        if let Some(policy) = page.headers().get("referrer-policy") {
            assert_eq!(policy, "same-origin", "{p}");
        }
        let html = page.text().await.unwrap();
        assert!(
            html.contains(r#"<meta name="referrer" content="same-origin">"#),
            "{p}: {html}"
        );
        assert!(!html.contains("no-referrer"), "{p}");
    }
    // A form that says it comes from nowhere is still refused.
    let page = get(app, "/admin/login", "").await;
    let form_cookie = cookie_pair(&set_cookie(&page, "ld_form").unwrap());
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let r = app
        .client
        .post(format!("{}/admin/login", app.base))
        .header("cookie", &form_cookie)
        .header("origin", "null")
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "x@exemple.fr"),
            ("password", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The stylesheet the pages link to is the one /assets/dsfr serves with
    // its fonts and icons; nothing else is served from there.
    let html = get(app, "/admin/login", "").await.text().await.unwrap();
    assert!(
        html.contains(&format!(
            r#"href="{}/dsfr.min.css""#,
            locadocs::web::pages::dsfr_prefix()
        )),
        "{html}"
    );
    for p in [
        "/assets/dsfr/icons/logo/x.svg",
        "/assets/dsfr/icons/system/..%2F..%2Fpackage.json",
        "/assets/dsfr/icons/system/x.css",
        "/assets/dsfr/utility/utility.min.css",
    ] {
        assert_eq!(get(app, p, "").await.status(), 404, "{p}");
    }
});

admin_test!(
    an_editor_sets_a_service_competence_by_territory_names,
    |app| {
        seed(app).await;
        let e = signed_in(app, Role::Editor, &[]).await;
        let page = get(app, "/admin/services/svc-a/modifier", &e.cookie).await;
        let text = page.text().await.unwrap();
        assert!(text.contains("Compétent pour"), "{text}");
        let rev = hidden(&text, "revision");
        let r = post(
            app,
            "/admin/services/svc-a/modifier",
            &e.cookie,
            &[
                ("csrf", &e.csrf),
                ("revision", &rev),
                ("name", "Archives A"),
                ("kind", "archives-municipales"),
                ("competence", "Ille-et-Vilaine\nNulle-part-sur-Loire"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        assert!(body.contains("Ligne 2 : "), "{body}");
        let r = post(
            app,
            "/admin/services/svc-a/modifier",
            &e.cookie,
            &[
                ("csrf", &e.csrf),
                ("revision", &rev),
                ("name", "Archives A"),
                ("kind", "archives-municipales"),
                ("competence", "Ille-et-Vilaine\n\nRennes (35238)\n"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let snap = app.live.snapshot();
        let s = snap.service("svc-a").unwrap();
        assert_eq!(
            s.competence,
            vec![
                Territory::parse("departement:35").unwrap(),
                Territory::parse("commune:35238").unwrap()
            ]
        );
        // A contributor may not change it.
        let c = signed_in(app, Role::Contributor, &["svc-a"]).await;
        let page = get(app, "/admin/services/svc-a/modifier", &c.cookie).await;
        let rev = hidden(&page.text().await.unwrap(), "revision");
        let r = post(
            app,
            "/admin/services/svc-a/modifier",
            &c.cookie,
            &[
                ("csrf", &c.csrf),
                ("revision", &rev),
                ("name", "Archives A"),
                ("competence", "Ille-et-Vilaine"),
            ],
        )
        .await;
        assert_eq!(r.status(), 403);
    }
);
