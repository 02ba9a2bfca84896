//! Qualified requests, the person's side: the answer page offers the form
//! of a holder that takes requests, the form is prefilled and checks what
//! it gets (files by content), a request is stored with its mails in the
//! outbox before the confirmation, the private link shows the thread and
//! takes replies, and `mail receive` threads a reply sent by mail.

use locadocs::import;
use locadocs::requests::outbox::send_due;
use locadocs::requests::receive::{Received, receive};
use locadocs::web::admin::{AdminConfig, Mailer};
use reqwest::multipart::{Form, Part};

use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn with_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("demo data loads");
    app.refresh().await;
}

fn form(file: Option<(&str, &'static [u8])>) -> Form {
    let mut f = Form::new()
        .text("document", "permis-de-construire")
        .text("service", "rennes-metropole-droit-des-sols")
        .text("commune", "35238")
        .text("annee", "2016-2018")
        .text("guide", "immobilier")
        .text("f_adresse", "12 rue de la Monnaie")
        .text("nom", "Marie Durand")
        .text("courriel", "Marie.Durand@exemple.fr")
        .text("telephone", "")
        .text(
            "message",
            "Je cherche les plans du permis de ma maison.\n<script>alert(1)</script>",
        );
    if let Some((name, bytes)) = file {
        f = f.part("pieces", Part::bytes(bytes).file_name(name.to_owned()));
    }
    f
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    pool.close().await;
    n
}

fn config(app: &TestApp) -> AdminConfig {
    AdminConfig::for_tests(
        &app.base,
        Mailer::Outbox(std::env::temp_dir().join("locadocs_outbox_requests")),
    )
}

dual_test!(
    a_person_sends_a_qualified_request_and_follows_it,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        // The answer page offers the form of the holder that takes requests.
        let html = app
            .get("/g/immobilier?document_type=permis-de-construire&commune=35238&year=2016")
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Faire une demande à ce service"), "{html}");
        let start = html.find("/demande/nouvelle?").expect("a link to the form");
        let link = html[start..html[start..].find('"').unwrap() + start]
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        assert!(
            link.contains("service=rennes-metropole-droit-des-sols"),
            "{link}"
        );
        let page = app.get(&link).await;
        assert_eq!(page.status(), 200, "{link}");
        assert_eq!(page.headers()["cache-control"], "no-store");
        let page = page.text().await.unwrap();
        assert!(
            page.contains("Faire une demande à Rennes Métropole"),
            "{page}"
        );
        assert!(
            page.contains("Adresse du bien"),
            "the document type's own fields: {page}"
        );
        assert!(
            page.contains("Rennes (35238)"),
            "the commune is shown by name"
        );
        assert!(page.contains("value=\"2016\""), "the year is prefilled");

        // A required field left empty: refused next to it, the rest kept.
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(form(None).text("f_adresse", ""))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let body = resp.text().await.unwrap();
        assert!(body.contains("ce champ est obligatoire"), "{body}");
        assert!(body.contains("Marie Durand"), "what was typed is kept");
        assert!(!body.contains("<script>alert(1)"), "text is escaped");

        // A "PDF" that is an executable: refused by its content, nothing stored.
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(form(Some((
                "plans.pdf",
                b"MZ\x90\x00\x03\x00\x00\x00 not a pdf",
            ))))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422);
        let body = resp.text().await.unwrap();
        assert!(body.contains("est ni un PDF"), "{body}");
        assert_eq!(count(app, "SELECT COUNT(*) FROM requests").await, 0);

        // A good request: stored, mails in the outbox, then the confirmation.
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(form(Some(("plans.pdf", PDF))))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        let to = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/demande/envoyee?"), "{to}");
        let reference = to
            .split("reference=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        let sent = app.get(&to).await.text().await.unwrap();
        assert!(sent.contains(&reference), "{sent}");
        let stored = app
            .store
            .request_by_reference(&reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.email, "marie.durand@exemple.fr");
        assert_eq!((stored.year_from, stored.year_to), (Some(2016), Some(2018)));
        assert_eq!(
            stored.fields,
            vec![("adresse".to_owned(), "12 rue de la Monnaie".to_owned())]
        );
        assert_eq!(app.store.attachments(stored.id).await.unwrap().len(), 1);
        let due = app.store.due_mails("9999", 10).await.unwrap();
        let confirmation = due
            .iter()
            .find(|m| m.to == "marie.durand@exemple.fr")
            .expect("a mail to the person");
        assert!(confirmation.body.contains(&reference));
        assert!(
            confirmation
                .reply_to
                .as_deref()
                .unwrap()
                .starts_with("demande+")
        );
        let token_start =
            confirmation.body.find("/demande/suivi/").unwrap() + "/demande/suivi/".len();
        let token: String = confirmation.body[token_start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(token.len() >= 40);

        // The outbox sends them, with threading headers.
        let dir =
            std::env::temp_dir().join(format!("locadocs_requests_mail_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sent = send_due(app.store.as_ref(), &Mailer::Outbox(dir.clone())).await;
        assert_eq!(sent, due.len());
        assert_eq!(app.store.unsent_mails().await.unwrap(), 0);
        let eml = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(eml.contains("Message-ID: <"), "{eml}");
        assert!(eml.contains("Reply-To: demande+"), "{eml}");

        // The private page: the thread, no cache, no referrer.
        let resp = app.get(&format!("/demande/suivi/{token}")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
        let page = resp.text().await.unwrap();
        assert!(
            page.contains(&format!("Votre demande {reference}")),
            "{page}"
        );
        assert!(page.contains("plans.pdf"));
        assert!(
            page.contains("&#60;script&#62;") && !page.contains("<script>alert"),
            "escaped: {page}"
        );
        // A guessed token finds nothing.
        let other = if token.ends_with('A') { 'B' } else { 'A' };
        let guessed = format!("{}{other}", &token[..token.len() - 1]);
        assert_eq!(
            app.get(&format!("/demande/suivi/{guessed}")).await.status(),
            404
        );

        // The attachment, always as a download.
        let files = app.store.attachments(stored.id).await.unwrap();
        let resp = app
            .get(&format!("/demande/suivi/{token}/pieces/{}", files[0].id))
            .await;
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), PDF);
        assert_eq!(
            app.get(&format!("/demande/suivi/{guessed}/pieces/{}", files[0].id))
                .await
                .status(),
            404
        );

        // Another request's file is not reachable with this request's token.
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(form(Some(("autre.pdf", PDF))).text("courriel", "autre@exemple.fr"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        let other_ref = resp.headers()["location"]
            .to_str()
            .unwrap()
            .split("reference=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        let other = app
            .store
            .request_by_reference(&other_ref)
            .await
            .unwrap()
            .unwrap();
        let other_file = app.store.attachments(other.id).await.unwrap()[0].id;
        assert_eq!(
            app.get(&format!("/demande/suivi/{token}/pieces/{other_file}"))
                .await
                .status(),
            404
        );
        let page = app
            .get(&format!("/demande/suivi/{token}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !page.contains("autre.pdf") && !page.contains(&other_ref),
            "only this request's thread"
        );

        // A reply on the page joins the thread.
        let resp = app
            .client
            .post(format!("{}/demande/suivi/{token}", app.base))
            .multipart(Form::new().text("message", "J'ajoute : la maison date de 1930."))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        let page = app
            .get(&format!("/demande/suivi/{token}?envoye=1"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("la maison date de 1930"), "{page}");

        // A reply by mail, to the request's reply address.
        let cfg = config(app);
        let raw = format!(
            "From: Marie Durand <marie.durand@exemple.fr>\r\nTo: demande+{}@locadocs.localhost\r\nSubject: Re: votre demande\r\nMessage-ID: <abc123@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoici une précision.\r\n\r\nLe 1 déc. 2026 à 10:00, Locadocs <x@y.fr> a écrit :\r\n> Bonjour\r\n",
            stored.reply_token
        );
        let got = receive(app.store.as_ref(), &cfg, raw.as_bytes(), None)
            .await
            .expect("accepted");
        let Received::Added {
            reference: got_reference,
            from,
            ..
        } = got
        else {
            panic!("added to the thread: {got:?}");
        };
        assert_eq!(got_reference, reference);
        assert_eq!(from, "demandeur");
        let events = app.store.events(stored.id).await.unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.body.as_deref(), Some("Voici une précision."));
        // A forged token: refused, nothing stored.
        let forged = raw.replace(&stored.reply_token, "AAAAAAAAAAAAAAAAAAAAAAAAAA");
        let before = app.store.events(stored.id).await.unwrap().len();
        // A vacation reply to the reply address: dropped, not bounced.
        let away = raw.replace(
            "Subject: Re: votre demande",
            "Subject: Absence\r\nAuto-Submitted: auto-replied",
        );
        assert_eq!(
            receive(app.store.as_ref(), &cfg, away.as_bytes(), None).await,
            Ok(Received::Automatic)
        );
        assert_eq!(app.store.events(stored.id).await.unwrap().len(), before);
        let err = receive(app.store.as_ref(), &cfg, forged.as_bytes(), None)
            .await
            .unwrap_err();
        assert!(err.0.contains("aucune demande"), "{err}");
        // No token and unknown thread: refused.
        let lost = "From: a@b.fr\r\nTo: archives@exemple.fr\r\nSubject: x\r\nMessage-ID: <zz@b.fr>\r\n\r\nBonjour\r\n";
        assert!(
            receive(app.store.as_ref(), &cfg, lost.as_bytes(), None)
                .await
                .is_err()
        );
        assert_eq!(app.store.events(stored.id).await.unwrap().len(), before);
    }
);

dual_test!(
    a_service_without_requests_offers_no_form,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let resp = app
        .get("/demande/nouvelle?document=permis-de-construire&service=archives-le-havre&commune=76351")
        .await;
        assert_eq!(resp.status(), 404);
        let body = resp.text().await.unwrap();
        assert!(body.contains("ne reçoit pas encore de demandes"), "{body}");
    }
);

/// Requests made while the SMTP server is down are stored and confirmed;
/// their mails wait in the outbox, are retried, and arrive once each when
/// the server comes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_wait_for_a_stopped_smtp_server_and_arrive_once() {
    use std::sync::Arc;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let smtp = format!("smtp://127.0.0.1:{port}");
    let Some(app) = TestApp::spawn_with(crate::helpers::Db::Sqlite, Geo::Sample, |s, base| {
        s.with_admin(AdminConfig::for_tests(base, Mailer::smtp(&smtp).unwrap()))
    })
    .await
    else {
        return;
    };
    with_demo(&app).await;
    // The worker of `locadocs serve`, polling often.
    let worker_config = Arc::new(AdminConfig::for_tests(
        &app.base,
        Mailer::smtp(&smtp).unwrap(),
    ));
    locadocs::requests::outbox::spawn(
        app.store.clone(),
        worker_config,
        std::time::Duration::from_millis(200),
    );
    let people = ["a@exemple.fr", "b@exemple.fr", "c@exemple.fr"];
    for who in people {
        let started = std::time::Instant::now();
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(form(None).text("courriel", who))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            303,
            "stored and confirmed with the SMTP server down"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "mail never delays the page"
        );
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        app.store.unsent_mails().await.unwrap(),
        3,
        "waiting in the outbox"
    );
    assert!(
        count(&app, "SELECT COUNT(*) FROM outbox WHERE attempts > 0").await >= 1,
        "tried already"
    );

    // The server comes up.
    let dir = std::env::temp_dir().join(format!("locadocs_smtp_outage_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let venv = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp_sink.py");
    let _server = tokio::process::Command::new(venv)
        .arg(&script)
        .arg(port.to_string())
        .arg(&dir)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut unsent = 3;
    for _ in 0..300 {
        unsent = app.store.unsent_mails().await.unwrap();
        if unsent == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        unsent, 0,
        "every mail sent within a minute of the server's return"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mails: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 3, "each mail once");
    for who in people {
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.contains(&format!("To: {who}")))
                .count(),
            1,
            "{who}"
        );
    }
    app.cleanup().await;
}

dual_test!(
    an_agent_who_chose_the_digest_gets_one_mail_a_day,
    Geo::Sample,
    |app| {
        use locadocs::store::{Author, Role};
        with_demo(app).await;
        let agent = app
            .store
            .create_user(
                "agent.resume@exemple.fr",
                Role::Contributor,
                &["rennes-metropole-droit-des-sols".to_owned()],
                &[],
                &Author::command_line("test"),
            )
            .await
            .unwrap();
        app.store
            .set_request_notify(agent.id, "digest")
            .await
            .unwrap();
        for who in ["a@exemple.fr", "b@exemple.fr"] {
            let resp = app
                .client
                .post(format!("{}/demande/nouvelle", app.base))
                .multipart(form(None).text("courriel", who))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 303);
        }
        let to_agent = |mails: &[locadocs::store::OutboxMail]| {
            mails
                .iter()
                .filter(|m| m.to == "agent.resume@exemple.fr")
                .cloned()
                .collect::<Vec<_>>()
        };
        // No mail per request for an agent who chose the digest.
        let due = app.store.due_mails("9999", 100).await.unwrap();
        assert!(to_agent(&due).is_empty(), "{due:?}");
        let cfg = config(app);
        let snap = app.live.snapshot();
        let now = chrono::Utc::now();
        let written = locadocs::requests::digest::run_once(app.store.as_ref(), &snap, &cfg, now)
            .await
            .unwrap();
        assert_eq!(written, 1);
        let due = app.store.due_mails("9999", 100).await.unwrap();
        let digest = to_agent(&due);
        assert_eq!(digest.len(), 1);
        assert!(
            digest[0].subject.starts_with("2 nouvelle(s) demande(s)"),
            "{}",
            digest[0].subject
        );
        let refs = sqlx_refs(app).await;
        for r in &refs {
            assert!(digest[0].body.contains(r), "{r} in {}", digest[0].body);
        }
        // Not again the same day, even with a new request.
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(form(None).text("courriel", "c@exemple.fr"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        let later = now + chrono::Duration::hours(2);
        assert_eq!(
            locadocs::requests::digest::run_once(app.store.as_ref(), &snap, &cfg, later)
                .await
                .unwrap(),
            0
        );
        // The next day, only what came after the last digest.
        let next_day = now + chrono::Duration::hours(25);
        assert_eq!(
            locadocs::requests::digest::run_once(app.store.as_ref(), &snap, &cfg, next_day)
                .await
                .unwrap(),
            1
        );
        let due = app.store.due_mails("9999", 100).await.unwrap();
        let second = to_agent(&due)
            .into_iter()
            .find(|m| m.id != digest[0].id)
            .unwrap();
        assert!(
            second.subject.starts_with("1 nouvelle(s) demande(s)"),
            "{}",
            second.subject
        );
    }
);

/// The references of the stored requests, oldest first.
async fn sqlx_refs(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let refs = sqlx::query("SELECT reference FROM requests ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect();
    pool.close().await;
    refs
}

dual_test!(
    hostile_text_is_refused_next_to_its_field_or_cleaned,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let huge = "a".repeat(1024 * 1024);
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(form(None).text("message", huge.clone()).text("nom", huge))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "a 1 MB field is refused, not cut");
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("10000 caractères au plus"),
            "next to the message"
        );
        assert!(body.contains("200 caractères au plus"), "next to the name");
        assert!(
            body.len() < 200_000,
            "the page does not echo the megabyte: {} bytes",
            body.len()
        );
        assert_eq!(count(app, "SELECT COUNT(*) FROM requests").await, 0);
        // Control characters are dropped, markup is kept as text and escaped.
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(
                form(None)
                    .text("nom", "Marie\u{0}\u{7} <b>Durand</b>")
                    .text("message", "Bonjour\u{1b}[31m\r\nsuite"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);
        let to = resp.headers()["location"].to_str().unwrap().to_owned();
        let reference = to
            .split("reference=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap();
        let stored = app
            .store
            .request_by_reference(reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.name, "Marie <b>Durand</b>");
        assert_eq!(stored.body, "Bonjour[31m\nsuite");
    }
);

/// `locadocs serve` killed (SIGKILL) right after a request was confirmed,
/// before its mail could go (the SMTP server is down): after a restart,
/// the request is there and its mail arrives, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_storing_a_request_and_sending_its_mail_loses_neither() {
    let bin = env!("CARGO_BIN_EXE_locadocs");
    let dir = std::env::temp_dir().join(format!("locadocs_kill9_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("k.db").display());
    let free_port = || {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (http, smtp) = (free_port(), free_port());
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(["--database-url", &db])
            .args(args)
            .env("LOCADOCS_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    cli(&[
        "import",
        "communes",
        crate::helpers::cog_dir().to_str().unwrap(),
    ]);
    cli(&["demo"]);
    let serve = || {
        tokio::process::Command::new(bin)
            .args([
                "--database-url",
                &db,
                "serve",
                "--bind",
                &format!("127.0.0.1:{http}"),
            ])
            .env("LOCADOCS_SMTP_URL", format!("smtp://127.0.0.1:{smtp}"))
            .env("LOCADOCS_ATTACHMENTS_DIR", dir.join("pieces"))
            .env("LOCADOCS_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{http}");
    let wait_up = || async {
        for _ in 0..300 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the server did not start");
    };
    let mut server = serve();
    wait_up().await;
    let resp = client
        .post(format!("{base}/demande/nouvelle"))
        .multipart(form(None))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_owned();
    let reference = to
        .split("reference=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    // SIGKILL: no shutdown code runs.
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    let mails = dir.join("mails");
    let venv = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/smtp_sink.py");
    let _sink = tokio::process::Command::new(venv)
        .arg(&script)
        .arg(smtp.to_string())
        .arg(&mails)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let _server = serve();
    wait_up().await;
    let read_mails = || -> Vec<String> {
        std::fs::read_dir(&mails)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .map(|e| std::fs::read_to_string(e.path()).unwrap())
                    .collect()
            })
            .unwrap_or_default()
    };
    for _ in 0..600 {
        if !read_mails().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Time for a second copy to show, if one were sent.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let found = read_mails();
    assert_eq!(found.len(), 1, "the confirmation arrives once");
    assert!(found[0].contains(&reference), "{}", found[0]);
    let store = locadocs::store::open(&db).await.unwrap();
    assert!(
        store
            .request_by_reference(&reference)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.unsent_mails().await.unwrap(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The privacy page and the form state the retention this instance is set to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stated_retention_is_the_setting() {
    let Some(app) = TestApp::spawn_with(crate::helpers::Db::Sqlite, Geo::Sample, |s, base| {
        let mut cfg = AdminConfig::for_tests(
            base,
            Mailer::Outbox(std::env::temp_dir().join("locadocs_outbox_retention")),
        );
        cfg.requests.retention_days = 730;
        s.with_admin(cfg)
    })
    .await
    else {
        return;
    };
    with_demo(&app).await;
    let privacy = app.get("/confidentialite").await.text().await.unwrap();
    assert!(
        privacy.contains("pièces jointes, 2 ans après sa clôture"),
        "{privacy}"
    );
    let form = app
        .get("/demande/nouvelle?document=permis-de-construire&service=rennes-metropole-droit-des-sols")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("Elle est supprimée 2 ans après sa clôture."),
        "{form}"
    );
    app.cleanup().await;
}

/// A closed request is kept for the retention delay, its person warned two
/// weeks before, then deleted with its thread and its files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_requests_are_warned_then_deleted_with_their_files() {
    use locadocs::requests::retention::run_once;
    use locadocs::store::{EventDraft, EventKind};
    use locadocs_core::request::Status;
    let pieces = std::env::temp_dir().join(format!("locadocs_retention_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&pieces);
    let make = |base: &str| {
        let mut cfg = AdminConfig::for_tests(
            base,
            Mailer::Outbox(std::env::temp_dir().join("locadocs_outbox_retention2")),
        );
        cfg.requests = cfg.requests.with_attachments_dir(pieces.clone());
        cfg
    };
    let Some(app) = TestApp::spawn_with(crate::helpers::Db::Sqlite, Geo::Sample, |s, base| {
        s.with_admin(make(base))
    })
    .await
    else {
        return;
    };
    with_demo(&app).await;
    let cfg = make(&app.base);
    let resp = app
        .client
        .post(format!("{}/demande/nouvelle", app.base))
        .multipart(form(Some(("plans.pdf", PDF))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let files = || std::fs::read_dir(&pieces).unwrap().flatten().count();
    assert_eq!(files(), 1);
    let id = app.store.due_mails("9999", 10).await.unwrap()[0]
        .request_id
        .unwrap();
    let mut close = EventDraft::new(EventKind::Status, "agent@exemple.fr");
    close.status = Some((Status::Answered, Some("Copie envoyée.".into())));
    app.store
        .add_event(id, None, &close, &[], &[])
        .await
        .unwrap();
    let now = chrono::Utc::now();

    // Within the year: nothing.
    let r = run_once(app.store.as_ref(), &cfg, now + chrono::Duration::days(300))
        .await
        .unwrap();
    assert_eq!((r.warned, r.deleted_files), (0, 0));
    // Two weeks before the end: the person is told, once.
    let r = run_once(app.store.as_ref(), &cfg, now + chrono::Duration::days(352))
        .await
        .unwrap();
    assert_eq!(r.warned, 1);
    let notice = app.store.due_mails("9999", 10).await.unwrap();
    assert!(
        notice
            .iter()
            .any(|m| m.to == "marie.durand@exemple.fr" && m.subject.contains("sera supprimée")),
        "{notice:?}"
    );
    let r = run_once(app.store.as_ref(), &cfg, now + chrono::Duration::days(353))
        .await
        .unwrap();
    assert_eq!(r.warned, 0, "warned once");
    assert!(
        app.store.request(id).await.unwrap().is_some(),
        "kept until the end of the delay"
    );
    // After the delay: the request, its thread and its file are gone.
    let r = run_once(app.store.as_ref(), &cfg, now + chrono::Duration::days(367))
        .await
        .unwrap();
    assert_eq!(r.deleted_files, 1);
    assert!(app.store.request(id).await.unwrap().is_none());
    assert!(app.store.events(id).await.unwrap().is_empty());
    assert_eq!(files(), 0);
    app.cleanup().await;
    let _ = std::fs::remove_dir_all(&pieces);
}
