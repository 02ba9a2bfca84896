//! The requests inbox of the back office: tabs and filters, unread
//! markers, claiming, messages, private notes, statuses, labels, reroutes
//! (to the holder the locate engine proposes, and refused towards a service
//! that takes no requests) and attachment downloads.

use locadocs::store::{Changes, Entity, EventKind, NewFile, NewRequest, Role, Secrets, time_text};
use locadocs_core::request::Status;
use locadocs_core::{DocumentType, InseeCode, Service, ServiceKind};

use crate::backoffice::{Who, get, hidden, location, post, rule, signed_in, slug};
use crate::helpers::TestApp;

/// svc-a (Archives A, Rennes) and svc-b (Urbanisme B, which the rules name
/// for building permits of Rennes since 2015-07-01); two document types.
pub async fn services(app: &TestApp) {
    let changes = Changes {
        upsert_document_types: [
            ("permis-de-construire", "Permis de construire"),
            ("acte-notarie", "Acte notarié"),
        ]
        .iter()
        .map(|(s, label)| DocumentType {
            slug: slug(s),
            label: (*label).into(),
            theme: None,
            aliases: vec![],
            description: None,
            communicability_years: 0,
            communicability_note: None,
        })
        .collect(),
        upsert_services: vec![
            Service {
                commune: Some(InseeCode::parse("35238").unwrap()),
                ..Service::new(
                    slug("svc-a"),
                    "Archives A",
                    ServiceKind::ArchivesMunicipales,
                )
            },
            Service {
                address: Some("4 avenue Henri Fréville".into()),
                postal_code: Some("35200".into()),
                city: Some("Rennes".into()),
                email: Some("urbanisme-b@exemple.fr".into()),
                ..Service::new(slug("svc-b"), "Urbanisme B", ServiceKind::Urbanisme)
            },
        ],
        upsert_holdings: vec![
            rule("commune:35238", "1908", "2015-06-30", "svc-a"),
            rule("commune:35238", "2015-07-01", "", "svc-b"),
        ],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
}

/// A request sent to `service`, with these files; returns its id.
pub async fn new_request(
    app: &TestApp,
    service: &str,
    document_type: &str,
    name: &str,
    year: i32,
    files: &[NewFile],
) -> i64 {
    let token = locadocs::web::admin::auth::random_token();
    let (id, _) = app
        .store
        .create_request(
            &NewRequest {
                service: service.into(),
                document_type: document_type.into(),
                commune: Some("35238".into()),
                year_from: Some(year),
                year_to: Some(year),
                guide: None,
                fields: vec![],
                name: name.into(),
                email: format!("{}@exemple.fr", name.to_lowercase().replace(' ', ".")),
                phone: None,
                body: format!("Bonjour, je cherche le document de {name}."),
                lang: "fr".into(),
            },
            &locadocs::store::new_reference(2026),
            &Secrets {
                access_hash: locadocs::web::admin::auth::token_hash(&token),
                reply_token: locadocs::web::admin::auth::random_token(),
            },
            files,
            &[],
        )
        .await
        .unwrap();
    id
}

/// Every mail in the outbox, sent or not yet.
async fn mails(app: &TestApp) -> Vec<locadocs::store::OutboxMail> {
    let later = time_text(chrono::Utc::now() + chrono::Duration::days(2));
    app.store.due_mails(&later, 1000).await.unwrap()
}

async fn page(app: &TestApp, who: &Who, path: &str) -> (u16, String) {
    let r = get(app, path, &who.cookie).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts one of a request page's forms, with the revision the page shows.
async fn act(app: &TestApp, who: &Who, id: i64, action: &str, fields: &[(&str, &str)]) -> u16 {
    let (_, html) = page(app, who, &format!("/admin/demandes/{id}")).await;
    let rev = hidden(&html, "revision");
    let mut form = vec![("csrf", who.csrf.as_str()), ("revision", rev.as_str())];
    form.extend_from_slice(fields);
    post(
        app,
        &format!("/admin/demandes/{id}/{action}"),
        &who.cookie,
        &form,
    )
    .await
    .status()
    .as_u16()
}

fn badges(html: &str) -> usize {
    html.matches("fr-badge--warning\">Nouveau</span>").count()
}

admin_test!(tabs_filters_and_unread_markers, |app| {
    services(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let one = new_request(
        app,
        "svc-a",
        "permis-de-construire",
        "Jeanne Martin",
        1990,
        &[],
    )
    .await;
    new_request(app, "svc-a", "acte-notarie", "Paul Durand", 1960, &[]).await;
    new_request(
        app,
        "svc-a",
        "permis-de-construire",
        "Anne Petit",
        2001,
        &[],
    )
    .await;
    new_request(
        app,
        "svc-b",
        "permis-de-construire",
        "Luc Bernard",
        2020,
        &[],
    )
    .await;

    let (status, html) = page(app, &a, "/admin/demandes").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("href=\"/admin/demandes\">Demandes</a>"),
        "menu link"
    );
    assert!(html.contains("À traiter (3)"), "{html}");
    assert!(html.contains("Toutes (3)"));
    assert!(html.contains("Jeanne Martin") && html.contains("Paul Durand"));
    assert!(!html.contains("Luc Bernard"), "another service's request");
    assert_eq!(badges(&html), 3);
    assert!(html.contains("Chiffres du service"));
    assert!(html.contains("Me prévenir"));

    let (_, html) = page(app, &a, "/admin/demandes?type=acte-notarie").await;
    assert!(html.contains("Paul Durand") && !html.contains("Jeanne Martin"));
    assert!(html.contains("À traiter (1)"));
    let (_, html) = page(app, &a, "/admin/demandes?q=Petit").await;
    assert!(html.contains("Anne Petit") && !html.contains("Paul Durand"));
    let (_, html) = page(app, &a, "/admin/demandes?statut=repondue").await;
    assert!(html.contains("Aucune demande"));
    let (_, html) = page(app, &a, "/admin/demandes?age=3").await;
    assert!(html.contains("Aucune demande"), "all are from today");
    let (status, _) = page(app, &a, "/admin/demandes?age=beaucoup").await;
    assert_eq!(status, 200);

    // Opening a request marks it read for this agent only.
    let (status, html) = page(app, &a, &format!("/admin/demandes/{one}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Jeanne Martin") && html.contains("Permis de construire"));
    let (_, html) = page(app, &a, "/admin/demandes").await;
    assert_eq!(badges(&html), 2);
    let admin = signed_in(app, Role::Admin, &[]).await;
    let (_, html) = page(app, &admin, "/admin/demandes").await;
    assert_eq!(badges(&html), 4, "an administrator sees every service");
    assert!(html.contains("Luc Bernard"));

    // Editors without the service neither open the inbox nor a request.
    let (status, _) = page(app, &editor, "/admin/demandes").await;
    assert_eq!(status, 403);
    let (status, _) = page(app, &editor, &format!("/admin/demandes/{one}")).await;
    assert_eq!(status, 403);
    let (status, _) = page(app, &a, "/admin/demandes/999999").await;
    assert_eq!(status, 404);

    // The notification choice.
    let r = post(
        app,
        "/admin/demandes/notifications",
        &a.cookie,
        &[("csrf", &a.csrf), ("notify", "digest")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let u = app.store.user(a.user_id).await.unwrap().unwrap();
    assert_eq!(u.request_notify, "digest");
    let r = post(
        app,
        "/admin/demandes/notifications",
        &a.cookie,
        &[("csrf", &a.csrf), ("notify", "toujours")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 400);
});

admin_test!(claim_message_note_and_status, |app| {
    services(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let id = new_request(
        app,
        "svc-a",
        "permis-de-construire",
        "Jeanne Martin",
        1990,
        &[],
    )
    .await;
    let before = mails(app).await.len();

    assert_eq!(act(app, &a, id, "prendre", &[]).await, 303);
    let req = app.store.request(id).await.unwrap().unwrap();
    assert_eq!(req.assignee, Some(a.user_id));
    assert_eq!(req.status, Status::InProgress);
    let (_, html) = page(app, &a, "/admin/demandes?onglet=suivies").await;
    assert!(html.contains("Suivies par moi (1)") && html.contains("Jeanne Martin"));

    let text = "Votre permis est consultable sur rendez-vous.";
    assert_eq!(act(app, &a, id, "message", &[("message", text)]).await, 303);
    let sent = mails(app).await;
    assert_eq!(sent.len(), before + 1);
    let m = sent.last().unwrap();
    assert_eq!(m.to, "jeanne.martin@exemple.fr");
    assert!(m.body.contains(text));
    let req = app.store.request(id).await.unwrap().unwrap();
    assert!(req.first_answer_at.is_some());
    assert_eq!(act(app, &a, id, "message", &[("message", "  ")]).await, 422);

    let note = "Voir avec le service du cadastre avant de répondre.";
    assert_eq!(act(app, &a, id, "note", &[("note", note)]).await, 303);
    assert_eq!(mails(app).await.len(), before + 1, "a note sends nothing");
    let events = app.store.events(id).await.unwrap();
    let n = events.iter().find(|e| e.kind == EventKind::Note).unwrap();
    assert!(!n.kind.public(), "notes are never on the person's page");
    let (_, html) = page(app, &a, &format!("/admin/demandes/{id}")).await;
    assert!(html.contains("Note privée") && html.contains(note));

    // A final status needs a reason, which the person is told.
    assert_eq!(
        act(
            app,
            &a,
            id,
            "statut",
            &[("status", "repondue"), ("reason", "")]
        )
        .await,
        422
    );
    assert_eq!(
        app.store.request(id).await.unwrap().unwrap().status,
        Status::InProgress
    );
    let reason = "Copie envoyée par courrier.";
    assert_eq!(
        act(
            app,
            &a,
            id,
            "statut",
            &[("status", "repondue"), ("reason", reason)]
        )
        .await,
        303
    );
    let req = app.store.request(id).await.unwrap().unwrap();
    assert_eq!(req.status, Status::Answered);
    assert_eq!(req.status_reason.as_deref(), Some(reason));
    assert!(req.closed_at.is_some());
    let sent = mails(app).await;
    let m = sent.last().unwrap();
    assert!(m.body.contains("Le service a répondu à votre demande.") && m.body.contains(reason));
    assert!(sent.iter().all(|m| !m.body.contains(note)));
    assert_eq!(
        act(
            app,
            &a,
            id,
            "statut",
            &[("status", "redirigee"), ("reason", "x")]
        )
        .await,
        422,
        "a reroute has its own form"
    );

    // A form read before another change is refused.
    let r = post(
        app,
        &format!("/admin/demandes/{id}/note"),
        &a.cookie,
        &[("csrf", &a.csrf), ("revision", "1"), ("note", "trop tard")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 409);
    let (_, html) = page(app, &a, "/admin/demandes?onglet=traitees").await;
    assert!(html.contains("Traitées (1)"));
});

admin_test!(labels_of_a_service, |app| {
    services(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let b = signed_in(app, Role::Contributor, &["svc-b"]).await;
    let id = new_request(
        app,
        "svc-a",
        "permis-de-construire",
        "Jeanne Martin",
        1990,
        &[],
    )
    .await;
    let other = new_request(
        app,
        "svc-a",
        "permis-de-construire",
        "Paul Durand",
        1991,
        &[],
    )
    .await;
    let create = |who: &Who, name: &'static str| {
        let (cookie, csrf) = (who.cookie.clone(), who.csrf.clone());
        async move {
            post(
                app,
                "/admin/demandes/etiquettes",
                &cookie,
                &[("csrf", &csrf), ("service", "svc-a"), ("name", name)],
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(create(&a, "Urgent").await, 303);
    assert_eq!(create(&a, "Urgent").await, 422, "twice the same name");
    assert_eq!(
        create(&b, "Piratage").await,
        403,
        "another service's labels"
    );
    let labels = app.store.labels("svc-a").await.unwrap();
    assert_eq!(labels.len(), 1);
    let label = labels[0].id.to_string();
    let (_, html) = page(app, &a, "/admin/demandes/etiquettes?service=svc-a").await;
    assert!(html.contains("Urgent"));

    assert_eq!(
        act(app, &a, id, "etiquettes", &[("labels", &label)]).await,
        303
    );
    let on = app.store.labels_of(id).await.unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].name, "Urgent");
    let (_, html) = page(app, &a, &format!("/admin/demandes?etiquette={label}")).await;
    assert!(html.contains("Jeanne Martin") && !html.contains("Paul Durand"));
    assert!(app.store.labels_of(other).await.unwrap().is_empty());

    // Deleting it.
    let r = post(
        app,
        "/admin/demandes/etiquettes",
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("service", "svc-a"),
            ("supprimer", &label),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(app.store.labels("svc-a").await.unwrap().is_empty());
});

admin_test!(reroute_to_the_proposed_holder, |app| {
    services(app).await;
    app.store.set_accepting("svc-b", true).await.unwrap();
    app.refresh().await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let b = signed_in(app, Role::Contributor, &["svc-b"]).await;
    // A permit of 2020 in Rennes is held by svc-b since 2015-07-01.
    let id = new_request(
        app,
        "svc-a",
        "permis-de-construire",
        "Jeanne Martin",
        2020,
        &[],
    )
    .await;
    let (_, html) = page(app, &a, &format!("/admin/demandes/{id}")).await;
    assert!(
        html.contains(
            "<option value=\"svc-b\" selected>Urbanisme B (proposé par Locadocs)</option>"
        ),
        "{html}"
    );
    let before = mails(app).await.len();
    let reason = "Les permis depuis juillet 2015 sont au service de l'urbanisme.";
    assert_eq!(
        act(
            app,
            &a,
            id,
            "rediriger",
            &[("to", "svc-b"), ("reason", reason)]
        )
        .await,
        303
    );
    let req = app.store.request(id).await.unwrap().unwrap();
    assert_eq!(req.service, "svc-b");
    assert_eq!(req.status, Status::New);
    let events = app.store.events(id).await.unwrap();
    let e = events
        .iter()
        .find(|e| e.kind == EventKind::Reroute)
        .unwrap();
    assert_eq!(e.data, serde_json::json!({"to": "svc-b", "from": "svc-a"}));
    let sent = mails(app).await;
    assert_eq!(sent.len(), before + 2);
    let to_person = sent
        .iter()
        .find(|m| m.to == "jeanne.martin@exemple.fr")
        .unwrap();
    assert!(to_person.body.contains(reason));
    let to_agent = sent.iter().find(|m| m.to == b.email).unwrap();
    assert!(to_agent.body.contains("redirigée par Archives A"));
    let out = app.store.figures("svc-a", 1).await.unwrap();
    assert_eq!(out[0].rerouted_out, 1);
    let into = app.store.figures("svc-b", 1).await.unwrap();
    assert_eq!(into[0].rerouted_in, 1);
    // It left svc-a's inbox for svc-b's.
    let (status, _) = page(app, &a, &format!("/admin/demandes/{id}")).await;
    assert_eq!(status, 403);
    let (_, html) = page(app, &b, "/admin/demandes").await;
    assert!(html.contains("Jeanne Martin"));
});

admin_test!(reroute_refused_where_no_requests_are_taken, |app| {
    services(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    signed_in(app, Role::Contributor, &["svc-b"]).await;
    let id = new_request(
        app,
        "svc-a",
        "permis-de-construire",
        "Jeanne Martin",
        2020,
        &[],
    )
    .await;
    let (_, html) = page(app, &a, &format!("/admin/demandes/{id}")).await;
    let rev = hidden(&html, "revision");
    let r = post(
        app,
        &format!("/admin/demandes/{id}/rediriger"),
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("revision", &rev),
            ("to", "svc-b"),
            ("reason", "Pas chez nous."),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("ne reçoit pas les demandes par Locadocs"),
        "{html}"
    );
    assert!(html.contains(&format!("/admin/demandes/{id}/coordonnees")));
    assert_eq!(
        app.store.request(id).await.unwrap().unwrap().service,
        "svc-a"
    );

    // Instead, the person gets the service's contact and the request closes.
    assert_eq!(
        act(app, &a, id, "coordonnees", &[("to", "svc-b")]).await,
        303
    );
    let req = app.store.request(id).await.unwrap().unwrap();
    assert_eq!(req.status, Status::NotHeld);
    let sent = mails(app).await;
    let m = sent.last().unwrap();
    assert_eq!(m.to, "jeanne.martin@exemple.fr");
    assert!(
        m.body.contains("4 avenue Henri Fréville") && m.body.contains("urbanisme-b@exemple.fr")
    );
});

async fn attachment_download(db: crate::helpers::Db) {
    let dir = std::env::temp_dir().join(format!(
        "locadocs_pieces_test_{}",
        &locadocs::web::admin::auth::random_token()[..12]
    ));
    let dir2 = dir.clone();
    let Some(app) = TestApp::spawn_with(db, crate::helpers::Geo::Sample, move |s, base| {
        let mut cfg = locadocs::web::admin::AdminConfig::for_tests(
            base,
            locadocs::web::admin::Mailer::Outbox(crate::backoffice::outbox_dir()),
        );
        cfg.requests = cfg.requests.with_attachments_dir(dir2);
        s.with_admin(cfg)
    })
    .await
    else {
        return;
    };
    services(&app).await;
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = b"%PDF-1.4 contenu de test".to_vec();
    std::fs::write(dir.join("cle-de-test-1"), &bytes).unwrap();
    let file = NewFile {
        file_name: "relevé été.pdf".into(),
        mime: "application/pdf".into(),
        size: bytes.len() as i64,
        storage_key: "cle-de-test-1".into(),
    };
    let id = new_request(
        &app,
        "svc-a",
        "permis-de-construire",
        "Jeanne Martin",
        1990,
        &[file],
    )
    .await;
    let att = app.store.attachments(id).await.unwrap()[0].id;
    let a = signed_in(&app, Role::Contributor, &["svc-a"]).await;
    let b = signed_in(&app, Role::Contributor, &["svc-b"]).await;
    let path = format!("/admin/demandes/{id}/pieces/{att}");
    let (_, html) = page(&app, &a, &format!("/admin/demandes/{id}")).await;
    assert!(html.contains(&path), "the page links the file");
    let r = get(&app, &path, &a.cookie).await;
    assert_eq!(r.status().as_u16(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"relev_ _t_.pdf\"; filename*=UTF-8''relev%C3%A9%20%C3%A9t%C3%A9.pdf"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "private, no-store");
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
    assert_eq!(get(&app, &path, &b.cookie).await.status().as_u16(), 403);
    let wrong = format!("/admin/demandes/{id}/pieces/{}", att + 1000);
    assert_eq!(get(&app, &wrong, &a.cookie).await.status().as_u16(), 404);
    assert_eq!(location(&get(&app, &path, "").await), "/admin/login");
    app.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}

mod attachment_download_headers {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::attachment_download(crate::helpers::Db::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::attachment_download(crate::helpers::Db::Postgres).await;
    }
}

admin_test!(accepting_requests_and_agents_without_data_rights, |app| {
    services(app).await;
    let a = signed_in(app, Role::Contributor, &["svc-a"]).await;
    assert!(!app.live.snapshot().accepts_requests("svc-a"));
    let (_, html) = page(app, &a, "/admin/services/svc-a/modifier").await;
    assert!(html.contains("Reçoit les demandes par Locadocs"));
    let rev = hidden(&html, "revision");
    let save = |accepts: bool| {
        let (cookie, csrf, rev) = (a.cookie.clone(), a.csrf.clone(), rev.clone());
        async move {
            let mut form = vec![
                ("csrf", csrf.as_str()),
                ("revision", rev.as_str()),
                ("name", "Archives A"),
            ];
            if accepts {
                form.push(("accepts_requests", "1"));
            }
            post(app, "/admin/services/svc-a/modifier", &cookie, &form)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(save(true).await, 303);
    assert!(app.live.snapshot().accepts_requests("svc-a"));
    let (_, html) = page(app, &a, "/admin/services/svc-a").await;
    assert!(html.contains("<dd>reçues</dd>"), "{html}");

    // An administrator makes an agent handle requests without editing data.
    let admin = signed_in(app, Role::Admin, &[]).await;
    let agent = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let path = format!("/admin/utilisateurs/{}", agent.user_id);
    let (_, html) = page(app, &admin, &path).await;
    assert!(html.contains("Traite les demandes sans modifier les données"));
    let rev = hidden(&html, "revision");
    let r = post(
        app,
        &path,
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("revision", &rev),
            ("role", "contributor"),
            ("active", "1"),
            ("services", "svc-a"),
            ("territories", "departement:35"),
            ("requests_only", "1"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        app.store
            .user(agent.user_id)
            .await
            .unwrap()
            .unwrap()
            .requests_only
    );
    // The change is in the account's history, and can be undone there.
    let hist = app
        .store
        .history_of(Entity::User, &agent.user_id.to_string())
        .await
        .unwrap();
    assert_eq!(
        hist[0].after.as_ref().and_then(|a| a.get("requests_only")),
        Some(&serde_json::json!(true))
    );
    let (_, html) = page(
        app,
        &admin,
        &format!("/admin/historique/utilisateur/{}", agent.user_id),
    )
    .await;
    assert!(html.contains("Demandes seulement"), "{html}");
    let (status, _) = page(app, &agent, "/admin/demandes").await;
    assert_eq!(status, 200);
    let (status, _) = page(app, &agent, "/admin/services/svc-a/modifier").await;
    assert_eq!(status, 403);
});

admin_test!(editors_define_a_types_request_form, |app| {
    services(app).await;
    app.store.set_accepting("svc-b", true).await.unwrap();
    app.refresh().await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let path = "/admin/types/permis-de-construire";
    let (status, html) = page(app, &editor, path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Formulaire de demande"), "{html}");
    // A mistake is shown with its line, and nothing changes.
    let bad = "[[champ]]\nkey = \"adresse\"\nlabel = \"Adresse du bien\"\nrequired = oui\n";
    let r = post(
        app,
        "/admin/types/permis-de-construire/formulaire",
        &editor.cookie,
        &[("csrf", &editor.csrf), ("champs", bad)],
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("ligne 4"), "{body}");
    assert!(
        app.live
            .snapshot()
            .request_fields("permis-de-construire")
            .is_empty()
    );
    // A good one is used by the public form at once.
    let good = "[[champ]]\nkey = \"adresse\"\nlabel = \"Adresse du bien\"\nhelp = \"Numéro et rue\"\nrequired = true\n";
    let r = post(
        app,
        "/admin/types/permis-de-construire/formulaire",
        &editor.cookie,
        &[("csrf", &editor.csrf), ("champs", good)],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    app.refresh().await;
    let fields = app
        .live
        .snapshot()
        .request_fields("permis-de-construire")
        .to_vec();
    assert_eq!(fields.len(), 1);
    assert!(fields[0].required);
    let form = app
        .client
        .get(format!(
            "{}/demande/nouvelle?document=permis-de-construire&service=svc-b",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("Adresse du bien") && form.contains("Numéro et rue"),
        "{form}"
    );
    // A contributor may not.
    let contributor = signed_in(app, Role::Contributor, &["svc-b"]).await;
    let r = post(
        app,
        "/admin/types/permis-de-construire/formulaire",
        &contributor.cookie,
        &[("csrf", &contributor.csrf), ("champs", "")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 403);
});
