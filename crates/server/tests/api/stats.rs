//! The public statistics (`/stats`, `/stats.json`): figures computed from
//! the daily aggregates of seeded raw events, checked exactly; the
//! misdirection question of the answer page; the request events; the
//! editors' impact setting.

use locadocs::import;
use locadocs::store::{RawEvent, Role, kind};
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::backoffice::{get, hidden, post, signed_in};
use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

/// Page text with askama's escapes of quotes undone, to compare with French text.
fn unescape(html: String) -> String {
    html.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

const TODAY: &str = "2026-11-23";
const OCTOBER: &str = "2026-10-05";

fn ev(day: &str, run: &str, k: &str) -> RawEvent {
    RawEvent {
        at: format!("{day}T10:00:00Z"),
        day: day.into(),
        run: run.into(),
        kind: k.into(),
        guide: "immobilier".into(),
        ..RawEvent::default()
    }
}

fn answer(day: &str, run: &str, doc: &str) -> RawEvent {
    RawEvent {
        document_type: doc.into(),
        holders: "archives-rennes".into(),
        complete: Some(true),
        date_known: Some(true),
        ..ev(day, run, kind::ANSWER_SHOWN)
    }
}

fn guess(value: &str, same: bool) -> RawEvent {
    RawEvent {
        value: value.into(),
        holders: "archives-rennes".into(),
        complete: Some(same),
        ..ev(TODAY, "", kind::MISDIRECTION)
    }
}

/// 50 runs (40 in October, 10 today, 6 of them from two sites), 35 of
/// them reaching an answer (5 with two document types, one reloaded), 5
/// dead ends, 5 feedbacks, 40 answers to the misdirection question.
fn seeded() -> Vec<RawEvent> {
    let mut e = vec![];
    for i in 0..40 {
        let mut r = ev(OCTOBER, &format!("r{i}"), kind::RUN_STARTED);
        if i == 0 {
            // Active in October only: not in the last 30 days.
            r.site = "ancien-site".into();
        }
        e.push(r);
    }
    for i in 40..50 {
        let mut r = ev(TODAY, &format!("r{i}"), kind::RUN_STARTED);
        r.site = match i {
            40..=44 => "mairie-x".into(),
            45 => "ville-y".into(),
            _ => String::new(),
        };
        e.push(r);
    }
    for i in 0..30 {
        e.push(answer(OCTOBER, &format!("r{i}"), "permis-de-construire"));
    }
    for i in 0..5 {
        e.push(answer(OCTOBER, &format!("r{i}"), "acte-notarie"));
    }
    // The same answer page loaded again.
    e.push(answer(OCTOBER, "r0", "permis-de-construire"));
    for i in 40..45 {
        e.push(answer(TODAY, &format!("r{i}"), "permis-de-construire"));
    }
    for i in 30..35 {
        let mut d = ev(OCTOBER, &format!("r{i}"), kind::DEAD_END);
        d.step = "fin".into();
        e.push(d);
    }
    for level in ["4", "4", "3", "1", "2"] {
        let mut f = ev(TODAY, "", kind::FEEDBACK);
        f.value = level.into();
        f.document_type = "permis-de-construire".into();
        e.push(f);
    }
    for _ in 0..20 {
        e.push(guess("archives-municipales", true));
    }
    for _ in 0..10 {
        e.push(guess("mairie", false));
    }
    for _ in 0..10 {
        e.push(guess("ne-sait-pas", false));
    }
    e
}

async fn seed(app: &TestApp, events: &[RawEvent]) {
    app.store.add_events(events).await.unwrap();
    app.store
        .rollup(&[OCTOBER.to_owned(), TODAY.to_owned()])
        .await
        .unwrap();
}

async fn stats(app: &TestApp) -> Value {
    let resp = app.get("/stats.json").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let mut v: Value = resp.json().await.unwrap();
    let at = v["generated_at"].as_str().unwrap().to_owned();
    assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
    v.as_object_mut().unwrap().remove("generated_at");
    v
}

const HOW: &str = "Demandes mal adressées évitées (parcours arrivés à une réponse × part des personnes \
                   qui, sans le guide, se seraient adressées à un autre type de service que le bon, \
                   « je ne sais pas » exclus) × minutes qu'un service passe sur une demande mal adressée \
                   (réglage des éditeurs, avec sa source) ÷ 60.";

dual_test!(
    the_open_data_figures_are_computed_exactly_from_the_aggregates,
    Geo::Sample,
    |app| {
        seed(app, &seeded()).await;
        let v = stats(app).await;
        let expected = json!({
            "min_sample": 30,
            "runs_started": 50,
            "runs_by_month": {"2026-10": 40, "2026-11": 10},
            "answers": 35,
            "answers_by_month": {"2026-10": 30, "2026-11": 5},
            "completion_rate": 0.7,
            "answers_by_document_type": {"acte-notarie": 5, "permis-de-construire": 35},
            "answers_by_theme": {"Sans thème": 40},
            "dead_ends": 5,
            "sites_embedding": 0,
            "sites_active_30_days": 2,
            "satisfaction": {
                "sample": 5,
                "levels": {"1": 1, "2": 1, "3": 1, "4": 2},
                "useful_rate": null
            },
            "misdirection_avoided": {
                "rate": 0.5,
                "sample": 40,
                "rate_without_unknown": 0.3333,
                "sample_without_unknown": 30,
                "guesses": {"archives-municipales": 20, "mairie": 10, "ne-sait-pas": 10}
            },
            // No service takes requests.
            "requests": null,
            "hours_saved": {
                "value": null,
                "method": format!("{HOW} Non calculé : le temps passé par un service sur une demande \
                                   mal adressée n'a pas encore été renseigné par les éditeurs."),
                "minutes_per_misdirected_request": null,
                "source": null,
                // round(35 × 0.3333)
                "misdirected_requests_avoided": 12
            }
        });
        assert_eq!(v, expected);

        // With the editors' setting: 12 requests × 20 minutes = 4 hours.
        app.store
            .set_impact_setting(
                20.0,
                "Enquête auprès de 12 services d'archives, 2025",
                "e@x.fr",
            )
            .await
            .unwrap();
        let v = stats(app).await;
        assert_eq!(
            v["hours_saved"],
            json!({
                "value": 4.0,
                "method": HOW,
                "minutes_per_misdirected_request": 20.0,
                "source": "Enquête auprès de 12 services d'archives, 2025",
                "misdirected_requests_avoided": 12
            })
        );

        // The page shows the same figures, in French.
        let resp = app.get("/stats").await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "public, max-age=60");
        let html = unescape(resp.text().await.unwrap());
        assert!(html.contains("<h1>Statistiques</h1>"), "{html}");
        assert!(html.contains("70,0 % (sur 50)"), "{html}");
        assert!(html.contains("50,0 % (sur 40)"), "{html}");
        assert!(html.contains("33,3 % (sur 30)"), "{html}");
        assert!(html.contains("<dd>4,0 h</dd>"), "{html}");
        assert!(html.contains("octobre 2026"), "{html}");
        assert!(
            html.contains("5 avis donnés : la répartition n'est publiée qu'à partir de 30 avis."),
            "{html}"
        );
        assert!(html.contains("<caption>Réponses données, par type de document</caption>"));
        assert!(html.contains("<th scope=\"row\">"));
        assert!(html.contains("href=\"/stats\""), "linked from the footer");
        assert!(
            !html.contains("Demandes aux services"),
            "no requests section"
        );
        // Both themes.
        let dsfr = app.get("/stats?theme=dsfr").await.text().await.unwrap();
        assert!(dsfr.contains("core.min.css"));
    }
);

dual_test!(small_samples_publish_no_share, Geo::Sample, |app| {
    let mut events = vec![];
    for i in 0..29 {
        events.push(ev(TODAY, &format!("r{i}"), kind::RUN_STARTED));
    }
    for i in 0..20 {
        events.push(answer(TODAY, &format!("r{i}"), "permis-de-construire"));
    }
    for _ in 0..29 {
        events.push(guess("mairie", false));
    }
    seed(app, &events).await;
    app.store
        .set_impact_setting(20.0, "Enquête", "e@x.fr")
        .await
        .unwrap();
    let v = stats(app).await;
    assert_eq!(v["runs_started"], 29);
    assert_eq!(v["answers"], 20);
    assert_eq!(v["completion_rate"], Value::Null);
    assert_eq!(
        v["misdirection_avoided"],
        json!({
            "rate": null,
            "sample": 29,
            "rate_without_unknown": null,
            "sample_without_unknown": 29,
            "guesses": {"mairie": 29}
        })
    );
    assert_eq!(v["hours_saved"]["value"], Value::Null);
    assert_eq!(
        v["hours_saved"]["misdirected_requests_avoided"],
        Value::Null
    );
    assert!(
            v["hours_saved"]["method"]
                .as_str()
                .unwrap()
                .ends_with("Non calculé : moins de 30 réponses à la question « Sans ce guide, à qui vous seriez-vous adressé ? » (hors « je ne sais pas »)."),
            "{v}"
        );
    let html = unescape(app.get("/stats").await.text().await.unwrap());
    assert!(
        html.contains("échantillon trop faible (29 sur 30 au moins) : non publié"),
        "{html}"
    );

    // Nothing at all: zeros and nulls, never an error.
    let empty = stats(app).await;
    assert_eq!(empty["sites_active_30_days"], 0);
});

async fn with_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("demo data loads");
    app.refresh().await;
}

const ANSWER: &str = "/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015";

async fn orientation(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(format!("{}/g/immobilier/orientation", app.base))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn flushed(app: &TestApp) -> Vec<RawEvent> {
    app.analytics.flush(app.store.as_ref()).await.unwrap();
    app.store.raw_events(&[TODAY.to_owned()]).await.unwrap()
}

dual_test!(
    the_misdirection_question_records_the_guess_against_the_real_holders,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let html = app.get(ANSWER).await.text().await.unwrap();
        assert!(
            html.contains("Sans ce guide, à qui vous seriez-vous adressé ?"),
            "{html}"
        );
        for label in [
            "La mairie",
            "Les archives municipales",
            "Les archives départementales",
            "Un notaire",
            "Un tribunal",
            "Un autre service",
            "Je ne sais pas",
        ] {
            assert!(html.contains(&format!(">{label}</button>")), "{label}");
        }
        assert_eq!(hidden(&html, "commune"), "35238");
        let back = hidden(&html, "back").replace("&#38;", "&");
        // The answer's address, with the run it belongs to.
        let (answer, run) = back.split_once("&run=").expect("the run is carried");
        assert_eq!(
            answer,
            "document_type=permis-de-construire&commune=35238&year=2015"
        );
        assert_eq!(run.len(), 38, "{run}");

        // One click: back to the answer, the thanks announced.
        let base = [
            ("document_type", "permis-de-construire"),
            ("commune", "35238"),
            ("year", "2015"),
            ("lang", "fr"),
            ("back", back.as_str()),
            // Posted holders are never trusted.
            ("holders", "faux-service"),
        ];
        let mut form = base.to_vec();
        form.push(("guess", "archives-municipales"));
        let resp = orientation(app, &form).await;
        assert_eq!(resp.status(), 303);
        let to = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            to.starts_with("/g/immobilier?") && to.contains("orientation=merci"),
            "{to}"
        );
        let thanks = app.get(&to).await.text().await.unwrap();
        assert!(
            thanks.contains(
                "<p class=\"notice\" role=\"status\">Merci, votre réponse est enregistrée.</p>"
            ),
            "{thanks}"
        );
        assert!(
            !thanks.contains(">La mairie</button>"),
            "the question is not asked again"
        );

        let mut form = base.to_vec();
        form.push(("guess", "mairie"));
        assert_eq!(orientation(app, &form).await.status(), 303);
        let mut form = base.to_vec();
        form.push(("guess", "ne-sait-pas"));
        assert_eq!(orientation(app, &form).await.status(), 303);

        // Bad input: refused with a page in French, nothing recorded.
        let mut form = base.to_vec();
        form.push(("guess", "le-voisin"));
        let resp = orientation(app, &form).await;
        assert_eq!(resp.status(), 400);
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("Choisissez une des réponses proposées"),
            "{body}"
        );
        let resp = orientation(app, &base).await;
        assert_eq!(resp.status(), 400, "no guess");
        let resp = orientation(
            app,
            &[
                ("guess", "mairie"),
                ("document_type", "pas-un-type"),
                ("commune", "35238"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 400);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Cette réponse est introuvable")
        );
        let resp = orientation(
            app,
            &[
                ("guess", "mairie"),
                ("document_type", "permis-de-construire"),
                ("commune", "99999"),
            ],
        )
        .await;
        assert_eq!(resp.status(), 400, "unknown commune");
        let resp = app
            .client
            .post(format!("{}/g/pas-un-guide/orientation", app.base))
            .form(&[("guess", "mairie")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404);

        let raw: Vec<RawEvent> = flushed(app)
            .await
            .into_iter()
            .filter(|e| e.kind == kind::MISDIRECTION)
            .collect();
        let got: Vec<(&str, &str, &str, Option<bool>)> = raw
            .iter()
            .map(|e| {
                (
                    e.value.as_str(),
                    e.holders.as_str(),
                    e.document_type.as_str(),
                    e.complete,
                )
            })
            .collect();
        let holders = "archives-rennes rennes-metropole-droit-des-sols";
        assert_eq!(
            got,
            vec![
                (
                    "archives-municipales",
                    holders,
                    "permis-de-construire",
                    Some(true)
                ),
                ("mairie", holders, "permis-de-construire", Some(false)),
                ("ne-sait-pas", holders, "permis-de-construire", Some(false)),
            ]
        );
        assert!(
            raw.iter()
                .all(|e| e.guide == "immobilier" && e.day == TODAY)
        );

        // In the figures: a sample of 3, too small for a rate.
        app.store.rollup(&[TODAY.to_owned()]).await.unwrap();
        let v = stats(app).await;
        assert_eq!(v["misdirection_avoided"]["sample"], 3);
        assert_eq!(v["misdirection_avoided"]["rate"], Value::Null);
        assert_eq!(
            v["misdirection_avoided"]["guesses"],
            json!({"archives-municipales": 1, "mairie": 1, "ne-sait-pas": 1})
        );
    }
);

dual_test!(the_question_is_asked_in_english_too, Geo::Sample, |app| {
    with_demo(app).await;
    let html = unescape(
        app.get(&format!("{ANSWER}&lang=en"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(
        html.contains("Without this guide, whom would you have asked?"),
        "{html}"
    );
    assert!(html.contains(">I don't know</button>"), "{html}");
    let resp = orientation(
        app,
        &[
            ("guess", "?"),
            ("document_type", "permis-de-construire"),
            ("commune", "35238"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Choose one of the answers offered.")
    );
});

async fn only_request(app: &TestApp) -> i64 {
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let id: i64 = sqlx::query("SELECT id FROM requests")
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    pool.close().await;
    id
}

fn request_form() -> Form {
    Form::new()
        .text("document", "permis-de-construire")
        .text("service", "rennes-metropole-droit-des-sols")
        .text("commune", "35238")
        .text("annee", "2016")
        .text("guide", "immobilier")
        .text("f_adresse", "12 rue de la Monnaie")
        .text("nom", "Marie Durand")
        .text("courriel", "marie.durand@exemple.fr")
        .text("telephone", "")
        .text("message", "Je cherche les plans du permis de ma maison.")
}

dual_test!(
    requests_sent_rerouted_and_answered_are_counted,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let agent = signed_in(app, Role::Contributor, &["rennes-metropole-droit-des-sols"]).await;
        let _other = signed_in(app, Role::Contributor, &["archives-rennes"]).await;
        let resp = app
            .client
            .post(format!("{}/demande/nouvelle", app.base))
            .multipart(request_form())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
        let id = only_request(app).await;
        let page = get(app, &format!("/admin/demandes/{id}"), &agent.cookie)
            .await
            .text()
            .await
            .unwrap();
        let rev = hidden(&page, "revision");
        // The first answer arrives by mail from the agent (`locadocs mail
        // receive`), then two from the inbox: one event.
        let stored = app.store.request(id).await.unwrap().unwrap();
        let cfg = locadocs::web::admin::AdminConfig::for_tests(
            &app.base,
            locadocs::web::admin::Mailer::Outbox(
                std::env::temp_dir().join("locadocs_outbox_stats"),
            ),
        );
        let mail = format!(
            "From: {}\r\nTo: demande+{}@locadocs.localhost\r\nSubject: Re: votre demande\r\nMessage-ID: <agent1@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour, nous regardons.\r\n",
            agent.email, stored.reply_token
        );
        let got = locadocs::requests::receive::receive(
            app.store.as_ref(),
            &cfg,
            mail.as_bytes(),
            Some(chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap()),
        )
        .await
        .expect("the agent's mail joins the thread");
        assert!(
            matches!(
                got,
                locadocs::requests::receive::Received::Added { from: "agent", .. }
            ),
            "{got:?}"
        );
        for text in ["Bonjour, nous cherchons.", "Nous avons trouvé."] {
            let page = get(app, &format!("/admin/demandes/{id}"), &agent.cookie)
                .await
                .text()
                .await
                .unwrap();
            let rev = hidden(&page, "revision");
            let r = post(
                app,
                &format!("/admin/demandes/{id}/message"),
                &agent.cookie,
                &[("csrf", &agent.csrf), ("revision", &rev), ("message", text)],
            )
            .await;
            assert_eq!(r.status(), 303);
        }
        let _ = rev;
        let page = get(app, &format!("/admin/demandes/{id}"), &agent.cookie)
            .await
            .text()
            .await
            .unwrap();
        let rev = hidden(&page, "revision");
        let r = post(
            app,
            &format!("/admin/demandes/{id}/rediriger"),
            &agent.cookie,
            &[
                ("csrf", &agent.csrf),
                ("revision", &rev),
                ("to", "archives-rennes"),
                ("reason", "Le permis de 2016 est aux archives."),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let mut got: Vec<(String, String, String, String, String)> = flushed(app)
            .await
            .into_iter()
            .filter(|e| e.kind.starts_with("request_"))
            .map(|e| (e.kind, e.guide, e.holders, e.document_type, e.value))
            .collect();
        // The mail's event is written by the command, the others by the
        // server's queue: compare regardless of order.
        got.sort();
        let s = |x: &str| x.to_owned();
        let mut want = vec![
            (
                s("request_sent"),
                s("immobilier"),
                s("rennes-metropole-droit-des-sols"),
                s("permis-de-construire"),
                s(""),
            ),
            (
                s("request_answered"),
                s("immobilier"),
                s("rennes-metropole-droit-des-sols"),
                s("permis-de-construire"),
                s("0"),
            ),
            (
                s("request_rerouted"),
                s("immobilier"),
                s("rennes-metropole-droit-des-sols archives-rennes"),
                s("permis-de-construire"),
                s(""),
            ),
        ];
        want.sort();
        assert_eq!(got, want);
        // Services take requests: the figures are there, small samples null.
        app.store.rollup(&[TODAY.to_owned()]).await.unwrap();
        let v = stats(app).await;
        assert_eq!(
            v["requests"],
            json!({
                "sent": 1,
                "rerouted": 1,
                "first_time_right": null,
                "answered": 1,
                "median_hours_to_first_answer": null,
                "p90_hours_to_first_answer": null
            })
        );
        let html = app.get("/stats").await.text().await.unwrap();
        assert!(html.contains("Demandes aux services"));
    }
);

dual_test!(
    editors_set_the_impact_estimate_and_bad_input_is_refused_next_to_its_field,
    Geo::Sample,
    |app| {
        let editor = signed_in(app, Role::Editor, &[]).await;
        let page = get(app, "/admin/impact", &editor.cookie).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Minutes passées par un service sur une demande mal adressée"));
        for (minutes, source, field, message) in [
            (
                "vingt",
                "Enquête",
                "minutes",
                "« vingt » n'est pas un nombre",
            ),
            ("-5", "Enquête", "minutes", "ne peut pas être négatif"),
            ("601", "Enquête", "minutes", "Au plus 600 minutes"),
            ("", "Enquête", "minutes", "Indiquez un nombre de minutes"),
            ("20", "  ", "source", "Indiquez d'où vient ce chiffre"),
        ] {
            let r = post(
                app,
                "/admin/impact",
                &editor.cookie,
                &[
                    ("csrf", &editor.csrf),
                    ("minutes", minutes),
                    ("source", source),
                ],
            )
            .await;
            assert_eq!(r.status(), 422, "{minutes} {source}");
            let body = unescape(r.text().await.unwrap());
            assert!(body.contains(message), "{message}: {body}");
            // The message is tied to its field.
            assert!(
                body.contains(&format!("aria-describedby=\"f-{field}-msg\"")),
                "{body}"
            );
        }
        assert!(app.store.impact_setting().await.unwrap().is_none());
        let r = post(
            app,
            "/admin/impact",
            &editor.cookie,
            &[
                ("csrf", &editor.csrf),
                ("minutes", "12,5"),
                ("source", "https://exemple.fr/etude-2025"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let s = app.store.impact_setting().await.unwrap().unwrap();
        assert_eq!(
            (s.minutes, s.source.as_str()),
            (12.5, "https://exemple.fr/etude-2025")
        );
        assert_eq!(s.updated_by, editor.email);
        let v = stats(app).await;
        assert_eq!(v["hours_saved"]["minutes_per_misdirected_request"], 12.5);

        // Contributors may not.
        let contributor = signed_in(app, Role::Contributor, &["archives-rennes"]).await;
        assert_eq!(
            get(app, "/admin/impact", &contributor.cookie)
                .await
                .status(),
            403
        );
        let r = post(
            app,
            "/admin/impact",
            &contributor.cookie,
            &[
                ("csrf", &contributor.csrf),
                ("minutes", "1"),
                ("source", "x"),
            ],
        )
        .await;
        assert_eq!(r.status(), 403);
        assert_eq!(
            app.store.impact_setting().await.unwrap().unwrap().minutes,
            12.5
        );
    }
);

// Totals over any period read whole months from the monthly sums and the
// edge days from the daily rows: the same figures as summing every day.
dual_test!(
    totals_over_months_equal_the_sum_of_days,
    Geo::Sample,
    |app| {
        use chrono::NaiveDate;
        use locadocs::store::{DailyRow, GroupBy, TotalsQuery};
        let first = NaiveDate::from_ymd_opt(2024, 1, 20).unwrap();
        let mut rows = Vec::new();
        for i in 0..140u32 {
            let day = first + chrono::Days::new(u64::from(i));
            for (k, dim) in [
                (kind::RUN_STARTED, ""),
                (kind::ANSWER_SHOWN, "permis-de-construire"),
            ] {
                rows.push(DailyRow {
                    day: day.format("%Y-%m-%d").to_string(),
                    kind: k.into(),
                    guide: if i % 3 == 0 {
                        "etat-civil"
                    } else {
                        "immobilier"
                    }
                    .into(),
                    site: ["", "ville-de-rennes", "le-havre"][i as usize % 3].into(),
                    dim: dim.into(),
                    value: String::new(),
                    events: i64::from(i % 7 + 1),
                    runs: i64::from(i % 5 + 1),
                });
            }
        }
        app.store.put_daily(&rows).await.unwrap();
        // A second write of some days (a roll-up) replaces them, months too.
        let again: Vec<DailyRow> = rows
            .iter()
            .filter(|r| r.day.starts_with("2024-03"))
            .map(|r| DailyRow {
                events: r.events * 10,
                ..r.clone()
            })
            .collect();
        app.store.put_daily(&again).await.unwrap();
        let expected_rows: Vec<DailyRow> = rows
            .iter()
            .map(|r| {
                if r.day.starts_with("2024-03") {
                    DailyRow {
                        events: r.events * 10,
                        ..r.clone()
                    }
                } else {
                    r.clone()
                }
            })
            .collect();
        let periods = [
            (None, None),
            (Some("2024-01-01"), Some("2024-06-30")),
            (Some("2024-01-25"), Some("2024-05-03")),
            (Some("2024-02-01"), Some("2024-02-29")),
            (Some("2024-03-10"), Some("2024-03-20")),
            (None, Some("2024-04-15")),
            (Some("2024-02-14"), None),
        ];
        for (from, to) in periods {
            let by_site = GroupBy {
                site: true,
                ..GroupBy::default()
            };
            let by_month_and_guide = GroupBy {
                month: true,
                guide: true,
                ..GroupBy::default()
            };
            for (group, site) in [
                (GroupBy::default(), None),
                (by_month_and_guide, None),
                (by_site, None),
                (GroupBy::default(), Some("le-havre")),
                (GroupBy::default(), Some("")),
            ] {
                let got = app
                    .store
                    .totals(&TotalsQuery {
                        kinds: vec![kind::RUN_STARTED.into(), kind::ANSWER_SHOWN.into()],
                        from: from.map(str::to_owned),
                        to: to.map(str::to_owned),
                        site: site.map(str::to_owned),
                        group,
                        ..TotalsQuery::default()
                    })
                    .await
                    .unwrap();
                type Key = (String, String, String, String);
                let mut want = std::collections::BTreeMap::<Key, (i64, i64)>::new();
                for r in &expected_rows {
                    if from.is_some_and(|f| r.day.as_str() < f)
                        || to.is_some_and(|t| r.day.as_str() > t)
                        || site.is_some_and(|s| r.site != s)
                    {
                        continue;
                    }
                    let pick = |on: bool, v: &str| if on { v.to_owned() } else { String::new() };
                    let key = (
                        r.kind.clone(),
                        pick(group.month, &r.day[..7]),
                        pick(group.guide, &r.guide),
                        pick(group.site, &r.site),
                    );
                    let e = want.entry(key).or_default();
                    e.0 += r.events;
                    e.1 += r.runs;
                }
                let got: Vec<_> = got
                    .iter()
                    .map(|t| {
                        (
                            (
                                t.kind.clone(),
                                t.period.clone(),
                                t.guide.clone(),
                                t.site.clone(),
                            ),
                            (t.events, t.runs),
                        )
                    })
                    .collect();
                let want: Vec<_> = want.into_iter().collect();
                assert_eq!(got, want, "{from:?}..{to:?}, {group:?}, site {site:?}");
            }
            // Read through the dashboards' cache, which splits a period on
            // the day before yesterday and keeps the settled part, on days
            // before, inside and after the data, twice (the second time
            // from what it kept), and for some services only: the same.
            let cache = locadocs::web::totals::TotalsCache::new();
            for today in [
                "2024-01-10",
                "2024-02-01",
                "2024-03-15",
                "2024-06-07",
                "2025-01-01",
            ] {
                let today = NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap();
                for (group, dims) in [
                    (GroupBy::default(), None),
                    (by_month_and_guide, None),
                    (by_site, None),
                    (
                        GroupBy {
                            dim: true,
                            ..GroupBy::default()
                        },
                        Some(vec!["permis-de-construire".to_owned()]),
                    ),
                ] {
                    let q = TotalsQuery {
                        kinds: vec![kind::RUN_STARTED.into(), kind::ANSWER_SHOWN.into()],
                        from: from.map(str::to_owned),
                        to: to.map(str::to_owned),
                        dims,
                        group,
                        ..TotalsQuery::default()
                    };
                    let want = app.store.totals(&q).await.unwrap();
                    for round in 0..2 {
                        let got = cache
                            .read(app.store.as_ref(), today, q.clone())
                            .await
                            .unwrap();
                        assert_eq!(
                            *got, want,
                            "{from:?}..{to:?} on {today}, {group:?}, round {round}"
                        );
                    }
                }
            }
        }
        // A settled day rewritten (here by a second write of past figures)
        // is read again, not taken from what was kept.
        let cache = locadocs::web::totals::TotalsCache::new();
        let today = NaiveDate::from_ymd_opt(2024, 6, 7).unwrap();
        let q = TotalsQuery {
            kinds: vec![kind::RUN_STARTED.into()],
            ..TotalsQuery::default()
        };
        let before = cache
            .read(app.store.as_ref(), today, q.clone())
            .await
            .unwrap();
        let once: Vec<DailyRow> = rows
            .iter()
            .filter(|r| r.day == "2024-02-02" && r.kind == kind::RUN_STARTED)
            .map(|r| DailyRow {
                events: r.events + 100,
                ..r.clone()
            })
            .collect();
        assert!(!once.is_empty());
        app.store.put_daily(&once).await.unwrap();
        let after = cache
            .read(app.store.as_ref(), today, q.clone())
            .await
            .unwrap();
        assert_eq!(after[0].events, before[0].events + 100 * once.len() as i64);
    }
);

/// The public figures are computed again ahead of visitors while people
/// read them, and not while nobody does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_are_kept_fresh_ahead_only_while_they_are_read() {
    use std::time::Duration;
    let captured = std::sync::Arc::new(std::sync::Mutex::new(None));
    let keep = captured.clone();
    let app = TestApp::spawn_with(crate::helpers::Db::Sqlite, Geo::Sample, move |s, _| {
        *keep.lock().unwrap() = Some(s.clone());
        s
    })
    .await
    .unwrap();
    let state = captured.lock().unwrap().clone().unwrap();
    let due = |ahead: u64| locadocs::web::stats::refresh_due(&state, Duration::from_secs(ahead));
    // Nobody asked yet: nothing to compute, even with nothing kept.
    assert!(!due(10));
    let (status, _) = app.get_json("/stats.json").await;
    assert_eq!(status, 200);
    // Just computed for that visit: not due within the next 10 seconds…
    assert!(!due(10));
    // …but due once they would expire within the margin.
    assert!(due(locadocs::web::stats::CACHE_SECONDS + 1));
    // A second later they are older than a 29-second margin allows; the
    // refresher (whose margin is twice its period, here always) computes
    // them again at its first tick.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(due(locadocs::web::stats::CACHE_SECONDS - 1));
    let refresher = locadocs::web::stats::spawn_refresher(state.clone(), Duration::from_secs(15));
    tokio::time::timeout(Duration::from_secs(10), async {
        while due(locadocs::web::stats::CACHE_SECONDS - 1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the refresher computed the figures again");
    refresher.abort();
    app.cleanup().await;
}
