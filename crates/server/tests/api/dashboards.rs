//! The back office's statistics: raw events of a few known runs of a small
//! guide, rolled up into daily aggregates, then the funnel, the period
//! comparison, who sees what, the suggestions triage and the CSV exports,
//! checked figure by figure.

use locadocs::store::{Changes, Feedback, RawEvent, Role, Suggestion, SuggestionStatus};
use locadocs_core::{DocumentType, Service, ServiceKind};

use crate::backoffice::{get, location, post, signed_in, slug};
use crate::helpers::TestApp;

const GUIDE: &str = r#"
slug = "essai"
title = "Guide d'essai"

[[steps]]
id = "objet"
kind = "choice"
question = "Que cherchez-vous ?"
next = "commune"

[[steps.choices]]
value = "permis"
label = "Un permis de construire"
set = { document_type = "permis-de-construire" }

[[steps.choices]]
value = "autre"
label = "Autre chose"
goto = "impasse"

[[steps]]
id = "commune"
kind = "commune"
question = "Dans quelle commune ?"
next = "resultat"

[[steps]]
id = "resultat"
kind = "result"
question = "Où trouver votre document"

[[steps]]
id = "impasse"
kind = "dead_end"
question = "Nous ne savons pas encore"
"#;

/// This period (30 days) and the one before (2026-10-02 to 2026-10-31).
const PERIOD: &str = "du=2026-11-01&au=2026-11-30";

fn ev(day: &str, run: &str, kind: &str) -> RawEvent {
    RawEvent {
        at: format!("{day}T10:00:00Z"),
        day: day.into(),
        run: run.into(),
        kind: kind.into(),
        guide: "essai".into(),
        ..RawEvent::default()
    }
}

fn step(day: &str, run: &str, step: &str) -> RawEvent {
    RawEvent {
        step: step.into(),
        ..ev(day, run, "step_shown")
    }
}

fn answer(day: &str, run: &str, holder: &str, complete: bool, date_known: bool) -> RawEvent {
    RawEvent {
        document_type: "permis-de-construire".into(),
        holders: holder.into(),
        complete: Some(complete),
        date_known: Some(date_known),
        ..ev(day, run, "answer_shown")
    }
}

/// Runs of the current period (5 started, 3 reach the commune, 2 an
/// answer, 1 a dead end) and of the previous one (2 started, 1 answer).
async fn seed(app: &TestApp) {
    let changes = Changes {
        upsert_document_types: vec![DocumentType {
            slug: slug("permis-de-construire"),
            label: "Permis de construire".into(),
            theme: None,
            aliases: vec![],
            description: None,
            communicability_years: 0,
            communicability_note: None,
        }],
        upsert_services: vec![
            Service::new(
                slug("svc-a"),
                "Archives A",
                ServiceKind::ArchivesMunicipales,
            ),
            Service::new(slug("svc-b"), "Urbanisme B", ServiceKind::Urbanisme),
        ],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.store.save_guide("essai", GUIDE, true).await.unwrap();
    app.refresh().await;
    let now = "2026-11-20";
    let before = "2026-10-15";
    let mut events = vec![];
    for (run, steps) in [
        ("r1", &["objet", "commune", "resultat"][..]),
        ("r2", &["objet", "commune", "resultat"][..]),
        ("r3", &["objet", "commune"][..]),
        ("r4", &["objet", "impasse"][..]),
        ("r5", &["objet"][..]),
    ] {
        events.push(ev(now, run, "run_started"));
        for s in steps {
            events.push(step(now, run, s));
        }
    }
    events.push(answer(now, "r1", "svc-a", true, true));
    events.push(answer(now, "r2", "svc-b", false, false));
    events.push(RawEvent {
        step: "impasse".into(),
        ..ev(now, "r4", "dead_end")
    });
    events.push(RawEvent {
        holders: "svc-a".into(),
        value: "website".into(),
        ..ev(now, "r1", "link_clicked")
    });
    events.push(RawEvent {
        holders: "svc-b".into(),
        value: "contact".into(),
        ..ev(now, "r2", "link_clicked")
    });
    for (run, level) in [("r1", "4"), ("r2", "2")] {
        events.push(RawEvent {
            value: level.into(),
            document_type: "permis-de-construire".into(),
            ..ev(now, run, "feedback")
        });
    }
    for (run, guess, same) in [
        ("r1", "mairie", false),
        ("r2", "archives-departementales", true),
    ] {
        events.push(RawEvent {
            value: guess.into(),
            holders: "svc-a".into(),
            complete: Some(same),
            ..ev(now, run, "misdirection")
        });
    }
    events.push(RawEvent {
        holders: "svc-a".into(),
        document_type: "permis-de-construire".into(),
        ..ev(now, "r1", "request_sent")
    });
    for (run, steps) in [
        ("r6", &["objet", "commune", "resultat"][..]),
        ("r7", &["objet"][..]),
    ] {
        events.push(ev(before, run, "run_started"));
        for s in steps {
            events.push(step(before, run, s));
        }
    }
    events.push(answer(before, "r6", "svc-a", true, true));
    app.store.add_events(&events).await.unwrap();
    app.store
        .rollup(&[now.to_owned(), before.to_owned()])
        .await
        .unwrap();
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let r = get(app, path, cookie).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A row of a statistics table as rendered: its header, then its numbers.
fn row(label: &str, cells: &[&str]) -> String {
    let mut s = format!("<th scope=\"row\">{label}</th>");
    for c in cells {
        s.push_str(&format!(
            "<td class=\"ld-num\">{}</td>",
            c.replace(' ', "\u{a0}")
        ));
    }
    s
}

admin_test!(the_funnel_and_the_period_comparison_are_exact, |app| {
    seed(app).await;
    let ed = signed_in(app, Role::Editor, &[]).await;
    let (status, html) = page(
        app,
        &format!("/admin/statistiques/essai?{PERIOD}"),
        &ed.cookie,
    )
    .await;
    assert_eq!(status, 200, "{html}");
    for expected in [
        // Started, share of started, drop-off, previous, previous drop-off, change.
        row(
            "Parcours commencés",
            &["5", "100,0 %", "—", "2", "—", "+150,0 %"],
        ),
        row(
            "Que cherchez-vous ? (objet)",
            &["5", "100,0 %", "0,0 %", "2", "0,0 %", "+150,0 %"],
        ),
        row(
            "Dans quelle commune ? (commune)",
            &["3", "60,0 %", "40,0 %", "1", "50,0 %", "+200,0 %"],
        ),
        row(
            "Où trouver votre document (resultat)",
            &["2", "40,0 %", "33,3 %", "1", "0,0 %", "+100,0 %"],
        ),
        row(
            "Nous ne savons pas encore (impasse)",
            &["1", "20,0 %", "50,0 %", "0", "100,0 %", "—"],
        ),
        // Headline figures against the previous period.
        row("Taux de complétion", &["40,0 %", "50,0 %", "-10,0 pts"]),
        row("Parcours arrivés à une réponse", &["2", "1", "+100,0 %"]),
        row("Impasses atteintes", &["1", "0", "—"]),
        // Answers by holder service and by document type.
        row("Archives A", &["1", "1", "0,0 %"]),
        row("Urbanisme B", &["1", "0", "—"]),
        row("Permis de construire", &["1", "1", "2", "1", "+100,0 %"]),
        row("Date connue", &["1", "50,0 %", "1", "0,0 %"]),
        row("Page du guide", &["5", "2", "40,0 %", "1", "+100,0 %"]),
        // Feedback levels with the guide's labels.
        row("4 – Tout à fait", &["1", "50,0 %", "0", "—"]),
        row("1 – Pas du tout", &["0", "0,0 %", "0", "—"]),
        // Misdirection: one guess differs from the real holder's kind.
        row("Toutes les réponses", &["1", "1", "2", "50,0 %", "0", "—"]),
        row("mairie", &["0", "1", "1", "100,0 %", "0", "—"]),
        row(
            "archives-departementales",
            &["1", "0", "1", "0,0 %", "0", "—"],
        ),
        // Clicks to the services.
        row("Archives A", &["0", "1", "0", "1", "0", "—"]),
        row("Urbanisme B", &["1", "0", "0", "1", "0", "—"]),
    ] {
        assert!(html.contains(&expected), "missing {expected}");
    }
    assert!(!html.contains("NaN"));
    assert!(html.contains("<caption>Entonnoir du guide, du 01/11/2026 au 30/11/2026"));

    let csv = get(
        app,
        &format!("/admin/statistiques/essai/entonnoir.csv?{PERIOD}"),
        &ed.cookie,
    )
    .await;
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let body = csv.text().await.unwrap();
    assert_eq!(
        body,
        "\u{feff}Étape;Parcours;Part des parcours commencés;Abandon depuis la ligne précédente;\
         Parcours (période précédente);Abandon (période précédente);Évolution\r\n\
         Parcours commencés;5;100,0;;2;;150,0\r\n\
         Que cherchez-vous ? (objet);5;100,0;0,0;2;0,0;150,0\r\n\
         Dans quelle commune ? (commune);3;60,0;40,0;1;50,0;200,0\r\n\
         Où trouver votre document (resultat);2;40,0;33,3;1;0,0;100,0\r\n\
         Nous ne savons pas encore (impasse);1;20,0;50,0;0;100,0;\r\n"
    );
    let ind = get(
        app,
        &format!("/admin/statistiques/essai/indicateurs.csv?{PERIOD}"),
        &ed.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        ind.contains("\r\nTaux de complétion;40,0;50,0;-10,0\r\n"),
        "{ind}"
    );

    // A period without any event: dashes, never NaN.
    let (_, empty) = page(
        app,
        "/admin/statistiques/essai?du=2020-01-01&au=2020-01-31",
        &ed.cookie,
    )
    .await;
    assert!(empty.contains(&row("Taux de complétion", &["—", "—", "—"])));
    assert!(!empty.contains("NaN"));

    // The list of guides, with the headline figures.
    let (_, list) = page(app, &format!("/admin/statistiques?{PERIOD}"), &ed.cookie).await;
    assert!(list.contains("<a href=\"/admin/statistiques/essai?du=2026-11-01&amp;au=2026-11-30\">Guide d&#x27;essai</a>")
        || list.contains("/admin/statistiques/essai?du=2026-11-01"), "{list}");
    assert!(list.contains("<td class=\"ld-num\">5</td><td class=\"ld-num\">40,0\u{a0}%</td><td class=\"ld-num\">2</td><td class=\"ld-num\">1</td>"), "{list}");
    // And its link in the menu.
    let (_, home) = page(app, "/admin", &ed.cookie).await;
    assert!(home.contains("href=\"/admin/statistiques\""));
});

admin_test!(a_bad_period_is_refused_with_its_field, |app| {
    seed(app).await;
    let ed = signed_in(app, Role::Editor, &[]).await;
    let (status, html) = page(
        app,
        "/admin/statistiques/essai?du=2026-13-01&au=2026-11-30",
        &ed.cookie,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Date invalide « 2026-13-01 » : attendu AAAA-MM-JJ"),
        "{html}"
    );
    let (status, html) = page(
        app,
        "/admin/statistiques?du=2026-11-30&au=2026-11-01",
        &ed.cookie,
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("La date de fin doit être"), "{html}");
    let r = get(
        app,
        "/admin/statistiques/essai/entonnoir.csv?du=hier",
        &ed.cookie,
    )
    .await;
    assert_eq!(r.status(), 400);
    let (status, _) = page(app, "/admin/statistiques/inconnu", &ed.cookie).await;
    assert_eq!(status, 404);
});

admin_test!(contributors_see_their_services_figures_only, |app| {
    seed(app).await;
    app.store
        .add_feedback(&Feedback {
            guide: "essai".into(),
            document_type: Some("permis-de-construire".into()),
            commune: None,
            rating: 2,
            comment: Some("Commentaire réservé aux éditeurs".into()),
            site: None,
            lang: "fr".into(),
        })
        .await
        .unwrap();
    let c = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let wide = "du=2026-01-01&au=2030-12-31";
    let (status, html) = page(app, &format!("/admin/statistiques/essai?{wide}"), &c.cookie).await;
    assert_eq!(status, 200);
    assert!(html.contains("Vous voyez les chiffres qui concernent vos services (Archives A)"));
    assert!(
        html.contains(&row("Archives A", &["2", "0", "—"])),
        "{html}"
    );
    for hidden in [
        "Urbanisme B",
        "Commentaire réservé",
        "Entonnoir",
        "Page du guide",
        "Taux de complétion",
    ] {
        assert!(!html.contains(hidden), "{hidden} shown to a contributor");
    }
    for (table, code) in [
        ("entonnoir", 403),
        ("commentaires", 403),
        ("sites", 403),
        ("suggestions", 403),
        ("orientation", 403),
        ("detenteurs", 200),
        ("liens", 200),
        ("demandes", 200),
    ] {
        let r = get(
            app,
            &format!("/admin/statistiques/essai/{table}.csv?{wide}"),
            &c.cookie,
        )
        .await;
        assert_eq!(r.status().as_u16(), code, "{table}");
        let body = r.text().await.unwrap();
        assert!(!body.contains("Urbanisme B"), "{table}: {body}");
    }
    let links = get(
        app,
        &format!("/admin/statistiques/essai/liens.csv?{wide}"),
        &c.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(links.ends_with("\r\nArchives A;0;1;0;1;0;\r\n"), "{links}");
    let requests = get(
        app,
        &format!("/admin/statistiques/essai/demandes.csv?{wide}"),
        &c.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        requests.ends_with("\r\nArchives A;1;0;;0;0;—\r\n"),
        "{requests}"
    );
    // The list of guides shows the answers naming their services.
    let (_, list) = page(app, &format!("/admin/statistiques?{wide}"), &c.cookie).await;
    assert!(list.contains("Réponses désignant vos services"));
    assert!(list.contains("<td class=\"ld-num\">2</td>"), "{list}");
    assert!(!list.contains("Impasses"));
    // An editor sees the comment.
    let ed = signed_in(app, Role::Editor, &[]).await;
    let (_, html) = page(
        app,
        &format!("/admin/statistiques/essai?{wide}"),
        &ed.cookie,
    )
    .await;
    assert!(html.contains("Commentaire réservé aux éditeurs"));
    assert!(html.contains("2 – Un peu"));
});

admin_test!(suggestions_are_triaged_by_editors, |app| {
    seed(app).await;
    for text in ["Le cadastre napoléonien", "Un acte de 1850"] {
        app.store
            .add_suggestion(&Suggestion {
                guide: "essai".into(),
                step: "impasse".into(),
                text: text.into(),
                site: None,
                lang: "fr".into(),
            })
            .await
            .unwrap();
    }
    let all = app
        .store
        .guide_suggestions("essai", "2000-01-01", "2100-12-31")
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    // Newest first.
    assert_eq!(all[0].text, "Un acte de 1850");
    let id = all[1].id;
    assert_eq!(all[1].status, SuggestionStatus::New);
    let wide = "du=2026-01-01&au=2030-12-31";
    let c = signed_in(app, Role::Contributor, &["svc-a"]).await;
    let ed = signed_in(app, Role::Editor, &[]).await;
    let form = |who: &crate::backoffice::Who, statut: &'static str| {
        vec![
            ("csrf", who.csrf.clone()),
            ("id", id.to_string()),
            ("statut", statut.to_owned()),
            ("du", "2026-01-01".to_owned()),
            ("au", "2030-12-31".to_owned()),
        ]
    };
    let send = |who: &crate::backoffice::Who, statut: &'static str| {
        let f = form(who, statut);
        let cookie = who.cookie.clone();
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(
                app,
                "/admin/statistiques/essai/suggestions",
                &cookie,
                &pairs,
            )
            .await
        }
    };
    // A contributor may not triage.
    assert_eq!(send(&c, "traitee").await.status(), 403);
    let (_, html) = page(
        app,
        &format!("/admin/statistiques/essai?{wide}"),
        &ed.cookie,
    )
    .await;
    assert!(html.contains("Le cadastre napoléonien"));
    assert!(html.contains(&format!("Marquer traitée (n° {id})")));
    let r = send(&ed, "traitee").await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(
        to,
        "/admin/statistiques/essai?du=2026-01-01&au=2030-12-31&trie=traitee"
    );
    let (_, html) = page(app, &to, &ed.cookie).await;
    assert!(html.contains("Suggestion marquée comme traitée"), "{html}");
    assert!(!html.contains(&format!("Marquer traitée (n° {id})")));
    assert!(html.contains(&format!("Marquer non pertinente (n° {id})")));
    let now = app
        .store
        .guide_suggestions("essai", "2000-01-01", "2100-12-31")
        .await
        .unwrap();
    assert_eq!(now[1].status, SuggestionStatus::Done);
    assert!(now[1].triaged_at.is_some());
    assert_eq!(now[0].status, SuggestionStatus::New);
    let csv = get(
        app,
        &format!("/admin/statistiques/essai/suggestions.csv?{wide}"),
        &ed.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        csv.ends_with(&format!(
            "n° {id};{};Nous ne savons pas encore (impasse);Le cadastre napoléonien;traitée\r\n",
            day_of_now()
        )),
        "{csv}"
    );
    // Not relevant, then an unknown status and an unknown suggestion.
    assert_eq!(send(&ed, "non_pertinente").await.status(), 303);
    let now = app
        .store
        .guide_suggestions("essai", "2000-01-01", "2100-12-31")
        .await
        .unwrap();
    assert_eq!(now[1].status, SuggestionStatus::NotRelevant);
    assert_eq!(send(&ed, "supprimee").await.status(), 400);
    let r = post(
        app,
        "/admin/statistiques/essai/suggestions",
        &ed.cookie,
        &[("csrf", &ed.csrf), ("id", "999999"), ("statut", "traitee")],
    )
    .await;
    assert_eq!(r.status(), 404);
});

fn day_of_now() -> String {
    chrono::Utc::now().format("%d/%m/%Y").to_string()
}

admin_test!(exported_comments_cannot_run_as_formulas, |app| {
    seed(app).await;
    for comment in [
        "=HYPERLINK(\"http://evil\";\"clic\")",
        "@SUM(A1:A9)",
        "+33 2 23",
        "Très utile ; merci",
    ] {
        app.store
            .add_feedback(&Feedback {
                guide: "essai".into(),
                document_type: None,
                commune: None,
                rating: 4,
                comment: Some(comment.into()),
                site: None,
                lang: "fr".into(),
            })
            .await
            .unwrap();
    }
    let ed = signed_in(app, Role::Editor, &[]).await;
    let csv = get(
        app,
        "/admin/statistiques/essai/commentaires.csv?du=2026-01-01&au=2030-12-31",
        &ed.cookie,
    )
    .await
    .text()
    .await
    .unwrap();
    let today = day_of_now();
    for line in [
        format!("{today};;4 – Tout à fait;\"'=HYPERLINK(\"\"http://evil\"\";\"\"clic\"\")\"\r\n"),
        format!("{today};;4 – Tout à fait;'@SUM(A1:A9)\r\n"),
        format!("{today};;4 – Tout à fait;'+33 2 23\r\n"),
        format!("{today};;4 – Tout à fait;\"Très utile ; merci\"\r\n"),
    ] {
        assert!(csv.contains(&line), "missing {line} in {csv}");
    }
    // Newest first.
    assert!(csv.find("Très utile").unwrap() < csv.find("HYPERLINK").unwrap());
});

/// The usual periods computed ahead give the dashboard a view computed
/// from nothing gives; a settled day rewritten afterwards shows at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_computed_ahead_read_the_same_figures() {
    use locadocs::web::admin::{AdminConfig, Mailer};
    let captured = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = captured.clone();
    let app = TestApp::spawn_with(
        crate::helpers::Db::Sqlite,
        crate::helpers::Geo::Sample,
        move |s, base| {
            let s = s.with_admin(AdminConfig::for_tests(
                base,
                Mailer::Outbox(crate::backoffice::outbox_dir()),
            ));
            *keep.lock().unwrap() = Some(s.clone());
            s
        },
    )
    .await
    .unwrap();
    let state = captured.lock().unwrap().clone().unwrap();
    seed(&app).await;
    let ed = signed_in(&app, Role::Editor, &[]).await;
    // The last 30 days and the last 12 months, as the period chooser links them.
    for path in [
        "/admin/statistiques/essai",
        "/admin/statistiques/essai?du=2025-11-24&au=2026-11-23",
        "/admin/statistiques",
    ] {
        state.totals.clear();
        let (status, fresh) = page(&app, path, &ed.cookie).await;
        assert_eq!(status, 200, "{fresh}");
        state.totals.clear();
        locadocs::web::admin::screens::warm_dashboards(&state)
            .await
            .unwrap();
        state.totals.clear_recent();
        let (_, ahead) = page(&app, path, &ed.cookie).await;
        assert_eq!(ahead, fresh, "{path}");
    }
    let (_, before) = page(&app, "/admin/statistiques/essai", &ed.cookie).await;
    assert!(
        before.contains(&row(
            "Parcours arrivés à une réponse",
            &["2", "1", "+100,0 %"]
        )),
        "{before}"
    );
    // One more answered run on 2026-11-20, a settled day, rolled up late.
    app.store
        .add_events(&[
            ev("2026-11-20", "r9", "run_started"),
            RawEvent {
                holders: "svc-a".into(),
                ..answer("2026-11-20", "r9", "svc-a", true, true)
            },
        ])
        .await
        .unwrap();
    app.store.rollup(&["2026-11-20".to_owned()]).await.unwrap();
    let (_, after) = page(&app, "/admin/statistiques/essai", &ed.cookie).await;
    assert!(
        after.contains(&row(
            "Parcours arrivés à une réponse",
            &["3", "1", "+200,0 %"]
        )),
        "{after}"
    );
    app.cleanup().await;
}
