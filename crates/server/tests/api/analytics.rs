//! Audience measurement: real guide runs over HTTP record exactly the
//! expected raw events and daily rows; nothing personal is ever stored; the
//! events endpoint refuses bad input, counts it and stores nothing of it.

use locadocs::analytics::AnalyticsConfig;
use locadocs::import;
use locadocs::settings::AdminConfig;
use locadocs::store::{GroupBy, RawEvent, TotalsQuery};
use locadocs::web::AppState;
use locadocs::web::admin::Mailer;
use serde_json::json;

use crate::dual_test;
use crate::helpers::{Db, Geo, TestApp, today};

const DAY: &str = "2026-11-23";

async fn with_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("demo data loads");
    app.refresh().await;
}

async fn html(app: &TestApp, path: &str) -> String {
    let resp = app.get(path).await;
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    assert!(resp.headers().get("set-cookie").is_none(), "{path}");
    resp.text().await.unwrap()
}

/// The run id a page carries in its forms.
fn run_of(html: &str) -> String {
    let at = html
        .find("name=\"run\" value=\"")
        .unwrap_or_else(|| panic!("no run in {html}"));
    let rest = &html[at + "name=\"run\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn stored(app: &TestApp) -> Vec<RawEvent> {
    app.analytics.flush(app.store.as_ref()).await.unwrap();
    app.store.raw_events(&[DAY.to_owned()]).await.unwrap()
}

/// An event as compared: kind, run (by its label), step, value, document
/// type, holders, origin, date known, complete.
type Seen = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<bool>,
    Option<bool>,
);

fn seen(events: &[RawEvent], runs: &[(&str, &str)]) -> Vec<Seen> {
    events
        .iter()
        .map(|e| {
            assert_eq!(e.day, DAY);
            assert!(
                e.at.len() == 20 && e.at.ends_with('Z') && e.at.as_bytes()[10] == b'T',
                "{}",
                e.at
            );
            assert_eq!(e.guide, "immobilier");
            let label = runs
                .iter()
                .find(|(_, r)| *r == e.run)
                .map(|(l, _)| *l)
                .unwrap_or_else(|| panic!("unknown run {}", e.run));
            (
                e.kind.clone(),
                label.to_owned(),
                e.step.clone(),
                e.value.clone(),
                e.document_type.clone(),
                e.holders.clone(),
                e.origin.clone(),
                e.date_known,
                e.complete,
            )
        })
        .collect()
}

fn ev(kind: &str, run: &str, step: &str, value: &str) -> Seen {
    (
        kind.into(),
        run.into(),
        step.into(),
        value.into(),
        String::new(),
        String::new(),
        String::new(),
        None,
        None,
    )
}

async fn post_event(app: &TestApp, body: &str) -> (u16, serde_json::Value) {
    let resp = app
        .client
        .post(format!("{}/api/v1/events", app.base))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/99.0";
const IP: &str = "203.0.113.77";
const COMMENT: &str = "Merci, je suis Jeanne Martin au 06 12 34 56 78";
const SUGGESTION: &str = "Je cherche le bail de mon grand-père Marcel Lefebvre";

dual_test!(
    guide_runs_record_exactly_their_events_and_daily_rows,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        app.store
            .set_accepting("rennes-metropole-droit-des-sols", true)
            .await
            .unwrap();
        app.refresh().await;
        let send = |path: String| {
            app.client
                .get(format!("{}{path}", app.base))
                .header("user-agent", UA)
                .header("x-forwarded-for", IP)
                .send()
        };

        // Run A: to the answer, feedback, the request form, a website click.
        let first = send("/g/immobilier".into()).await.unwrap();
        assert_eq!(first.headers()["cache-control"], "no-store");
        assert!(first.headers().get("etag").is_none());
        let a = run_of(&first.text().await.unwrap());
        assert_eq!(a.len(), 38);
        let mut q = format!("/g/immobilier?run={a}");
        for step in [
            "&savoir=oui",
            "&document=permis-de-construire",
            "&urbanisme=ok",
            "&commune=35238",
            "&year=2015",
        ] {
            q.push_str(step);
            let resp = send(q.clone()).await.unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{q}");
            let page = resp.text().await.unwrap();
            assert_eq!(run_of(&page), a, "{q}");
        }
        // The answer again (a reload): nothing more.
        let answer = html(app, &q).await;
        assert!(answer.contains("Archives de Rennes"), "{answer}");
        // Feedback with a comment: the level only is an event.
        let back = q.trim_start_matches("/g/immobilier?").to_owned();
        let resp = app
            .client
            .post(format!("{}/g/immobilier/avis", app.base))
            .header("user-agent", UA)
            .header("x-forwarded-for", IP)
            .form(&[
                ("rating", "3"),
                ("comment", COMMENT),
                ("document_type", "permis-de-construire"),
                ("commune", "35238"),
                ("back", back.as_str()),
                ("run", a.as_str()),
                ("lang", "fr"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303);
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.contains("merci=1"), "{location}");
        html(app, &location).await;
        // The answer's request link carries the run.
        let start = answer.find("/demande/nouvelle?").expect("request link");
        let link = answer[start..answer[start..].find('"').unwrap() + start].replace("&#38;", "&");
        assert!(link.contains(&format!("run={a}")), "{link}");
        assert_eq!(app.get(&link).await.status().as_u16(), 200, "{link}");
        let (status, _) = post_event(
            app,
            &json!({"type": "link_clicked", "run": a, "seq": 1, "guide": "immobilier",
                "step": "resultat", "service": "rennes-metropole-droit-des-sols", "link": "website",
                "document_type": "permis-de-construire"})
            .to_string(),
        )
        .await;
        assert_eq!(status, 202);

        // Run B: a dead end and a suggestion.
        let b = run_of(&html(app, "/g/immobilier").await);
        assert_ne!(a, b);
        html(app, &format!("/g/immobilier?run={b}&savoir=oui")).await;
        let dead = html(
            app,
            &format!("/g/immobilier?run={b}&savoir=oui&document=autre"),
        )
        .await;
        assert!(
            dead.contains("Nous ne pouvons pas encore vous aider"),
            "{dead}"
        );
        let resp = app
            .client
            .post(format!("{}/g/immobilier/suggestion", app.base))
            .header("user-agent", UA)
            .form(&[
                ("text", SUGGESTION),
                ("step", "autre-document"),
                ("back", &format!("run={b}&savoir=oui&document=autre")),
                ("run", b.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303);

        // Run C: inside a host page's widget; the beacon tells its origin.
        let c_page = app
            .client
            .get(format!("{}/g/immobilier?embed=1", app.base))
            .header("referer", "https://www.exemple.fr/demarches/urbanisme?x=1")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let c = run_of(&c_page);
        let (status, _) = post_event(
            app,
            &json!({"type": "widget_shown", "run": c, "seq": 1700000000000u64,
                "guide": "immobilier", "step": "savoir", "origin": "https://www.exemple.fr"})
            .to_string(),
        )
        .await;
        assert_eq!(status, 202);

        // A forged run on a page load: a new run begins.
        let forged = format!("{}{}", &a[..37], if a.ends_with('x') { 'y' } else { 'x' });
        let d = run_of(&html(app, &format!("/g/immobilier?run={forged}")).await);
        assert!(d != forged && d != a);

        let events = stored(app).await;
        let runs = [
            ("A", a.as_str()),
            ("B", b.as_str()),
            ("C", c.as_str()),
            ("D", d.as_str()),
        ];
        let answer_shown = (
            "answer_shown".to_owned(),
            "A".to_owned(),
            "resultat".to_owned(),
            String::new(),
            "permis-de-construire".to_owned(),
            "archives-rennes rennes-metropole-droit-des-sols".to_owned(),
            String::new(),
            Some(true),
            Some(true),
        );
        let mut feedback = ev("feedback", "A", "", "3");
        feedback.4 = "permis-de-construire".into();
        let mut request = ev("link_clicked", "A", "", "request");
        request.4 = "permis-de-construire".into();
        request.5 = "archives-rennes".into();
        let mut website = ev("link_clicked", "A", "resultat", "website");
        website.4 = "permis-de-construire".into();
        website.5 = "rennes-metropole-droit-des-sols".into();
        let mut c_started = ev("run_started", "C", "", "");
        c_started.6 = "https://www.exemple.fr".into();
        let mut widget = ev("widget_shown", "C", "savoir", "");
        widget.6 = "https://www.exemple.fr".into();
        assert_eq!(
            seen(&events, &runs),
            vec![
                ev("run_started", "A", "", ""),
                ev("step_shown", "A", "savoir", ""),
                ev("choice", "A", "savoir", "oui"),
                ev("step_shown", "A", "document", ""),
                ev("choice", "A", "document", "permis-de-construire"),
                ev("step_shown", "A", "urbanisme", ""),
                ev("step_shown", "A", "commune", ""),
                ev("step_shown", "A", "date", ""),
                ev("step_shown", "A", "resultat", ""),
                answer_shown,
                feedback,
                request,
                website,
                ev("run_started", "B", "", ""),
                ev("step_shown", "B", "savoir", ""),
                ev("choice", "B", "savoir", "oui"),
                ev("step_shown", "B", "document", ""),
                ev("choice", "B", "document", "autre"),
                ev("step_shown", "B", "autre-document", ""),
                ev("dead_end", "B", "autre-document", ""),
                ev("suggestion", "B", "autre-document", ""),
                c_started,
                ev("step_shown", "C", "savoir", ""),
                widget,
                ev("run_started", "D", "", ""),
                ev("step_shown", "D", "savoir", ""),
            ]
        );

        // After the roll-up: runs per step, as the funnel reads them.
        app.store.rollup(&[DAY.to_owned()]).await.unwrap();
        let totals = app
            .store
            .totals(&TotalsQuery {
                kinds: vec!["run_started".into(), "step_shown".into()],
                guide: Some("immobilier".into()),
                group: GroupBy {
                    dim: true,
                    ..GroupBy::default()
                },
                ..TotalsQuery::default()
            })
            .await
            .unwrap();
        let got: Vec<(String, String, i64, i64)> = totals
            .into_iter()
            .map(|t| (t.kind, t.dim, t.events, t.runs))
            .collect();
        let row = |k: &str, d: &str, e: i64, r: i64| (k.to_owned(), d.to_owned(), e, r);
        assert_eq!(
            got,
            vec![
                row("run_started", "", 4, 4),
                row("step_shown", "autre-document", 1, 1),
                row("step_shown", "commune", 1, 1),
                row("step_shown", "date", 1, 1),
                row("step_shown", "document", 2, 2),
                row("step_shown", "resultat", 1, 1),
                row("step_shown", "savoir", 4, 4),
                row("step_shown", "urbanisme", 1, 1),
            ]
        );
        let answers = app
            .store
            .totals(&TotalsQuery {
                kinds: vec![
                    "answer_shown".into(),
                    "answer_holder".into(),
                    "feedback".into(),
                    "link_clicked".into(),
                    "widget_shown".into(),
                ],
                group: GroupBy {
                    dim: true,
                    value: true,
                    ..GroupBy::default()
                },
                ..TotalsQuery::default()
            })
            .await
            .unwrap();
        let got: Vec<(String, String, String, i64)> = answers
            .into_iter()
            .map(|t| (t.kind, t.dim, t.value, t.events))
            .collect();
        let row = |k: &str, d: &str, v: &str, e: i64| (k.to_owned(), d.to_owned(), v.to_owned(), e);
        assert_eq!(
            got,
            vec![
                row(
                    "answer_holder",
                    "archives-rennes",
                    "permis-de-construire",
                    1
                ),
                row(
                    "answer_holder",
                    "rennes-metropole-droit-des-sols",
                    "permis-de-construire",
                    1
                ),
                row("answer_shown", "permis-de-construire", "complete", 1),
                row("feedback", "permis-de-construire", "3", 1),
                row("link_clicked", "archives-rennes", "request", 1),
                row(
                    "link_clicked",
                    "rennes-metropole-droit-des-sols",
                    "website",
                    1
                ),
                row("widget_shown", "https://www.exemple.fr", "", 1),
            ]
        );

        // Nothing personal in any column of any stored event.
        let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
        let rows = sqlx::query("SELECT * FROM analytics_events")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), events.len());
        for r in &rows {
            use sqlx::{Column, Row};
            for (i, col) in r.columns().iter().enumerate() {
                let text = match r.try_get::<Option<String>, _>(i) {
                    Ok(v) => v.unwrap_or_default(),
                    Err(_) => r
                        .try_get::<Option<i64>, _>(i)
                        .unwrap()
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                };
                for bad in [
                    IP,
                    "127.0.0.1",
                    "203.0.113",
                    UA,
                    "Mozilla",
                    "Jeanne",
                    "06 12",
                    "Marcel",
                    "grand-père",
                    "35238",
                    "2015",
                ] {
                    assert!(
                        !text.contains(bad),
                        "column {} holds « {bad} »: {text}",
                        col.name()
                    );
                }
            }
        }
        // The comment and the suggestion's text stay in their own tables.
        use sqlx::Row;
        let comment: String = sqlx::query("SELECT comment FROM feedback")
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(comment, COMMENT);
        let text: String = sqlx::query("SELECT text FROM suggestions")
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(text, SUGGESTION);
        pool.close().await;
    }
);

dual_test!(
    bad_event_posts_are_refused_counted_and_never_stored,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let run = run_of(&html(app, "/g/immobilier").await);
        let before = stored(app).await.len();
        let ok = |seq: u64| {
            json!({"type": "link_clicked", "run": run, "seq": seq, "guide": "immobilier",
                "service": "archives-rennes", "link": "contact"})
        };
        let with = |key: &str, value: serde_json::Value| {
            let mut v = ok(10);
            v[key] = value;
            v.to_string()
        };
        let big = with("document_type", json!("x".repeat(5000)));
        let cases: Vec<(String, u16, &str)> = vec![
            ("{not json".into(), 400, "malformed"),
            (String::new(), 400, "malformed"),
            (big, 413, "too_large"),
            (
                json!({"type": "page_viewed", "run": run, "seq": 1, "guide": "immobilier"})
                    .to_string(),
                400,
                "unknown_type",
            ),
            (
                json!({"run": run, "seq": 1, "guide": "immobilier"}).to_string(),
                400,
                "unknown_type",
            ),
            (with("user_agent", json!("Mozilla/5.0")), 400, "malformed"),
            (with("link", json!("phone")), 400, "malformed"),
            (with("seq", json!(-1)), 400, "malformed"),
            (
                with(
                    "run",
                    json!(format!(
                        "{}{}",
                        &run[..37],
                        if run.ends_with('x') { 'y' } else { 'x' }
                    )),
                ),
                400,
                "bad_run",
            ),
            (with("run", json!("AAAA")), 400, "bad_run"),
            (with("guide", json!("nope")), 400, "unknown_guide"),
            (with("step", json!("nope")), 400, "unknown_step"),
            (with("service", json!("nope")), 400, "unknown_service"),
            (with("document_type", json!("nope")), 400, "malformed"),
        ];
        for (body, status, code) in &cases {
            let (got, err) = post_event(app, body).await;
            assert_eq!(got, *status, "{body:.200}: {err}");
            assert_eq!(err["error"]["code"], *code, "{body:.200}: {err}");
            assert!(
                err["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{err}"
            );
        }
        // Out of order: a seq must be greater than the run's previous one.
        assert_eq!(post_event(app, &ok(5).to_string()).await.0, 202);
        let (status, err) = post_event(app, &ok(5).to_string()).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("out_of_order"))
        );
        let (status, _) = post_event(app, &ok(4).to_string()).await;
        assert_eq!(status, 400);
        assert_eq!(post_event(app, &ok(6).to_string()).await.0, 202);

        let events = stored(app).await;
        assert_eq!(events.len(), before + 2);
        assert!(events[before..].iter().all(|e| e.kind == "link_clicked"));
        let refusals: std::collections::BTreeMap<&str, u64> =
            app.analytics.refusals().into_iter().collect();
        assert_eq!(refusals["malformed"], 6);
        assert_eq!(refusals["too_large"], 1);
        assert_eq!(refusals["unknown_type"], 2);
        assert_eq!(refusals["bad_run"], 2);
        assert_eq!(refusals["unknown_guide"], 1);
        assert_eq!(refusals["unknown_step"], 1);
        assert_eq!(refusals["unknown_service"], 1);
        assert_eq!(refusals["out_of_order"], 2);
        assert_eq!(refusals["rate_limited"], 0);
        assert_eq!(app.analytics.counts().refused, 16);

        // The endpoint and every event type are in the OpenAPI document.
        let (_, doc) = app.get_json("/api/v1/openapi.json").await;
        assert!(doc["paths"]["/api/v1/events"]["post"].is_object(), "{doc}");
        let schema = doc["components"]["schemas"]["ClientEvent"].to_string();
        for t in [
            "link_clicked",
            "widget_shown",
            "contact",
            "website",
            "request",
        ] {
            assert!(
                schema.contains(t) || doc["components"]["schemas"].to_string().contains(t),
                "{t}: {schema}"
            );
        }
    }
);

async fn limited(db: Db) -> Option<TestApp> {
    TestApp::spawn_with(db, Geo::Sample, |s, base| {
        let mut settings = AdminConfig::for_tests(
            base,
            Mailer::Outbox(std::env::temp_dir().join("locadocs_outbox_analytics")),
        );
        settings.analytics = AnalyticsConfig {
            per_address: 5,
            ..AnalyticsConfig::default()
        };
        AppState::new(s.live.clone(), s.clock, settings)
    })
    .await
}

async fn a_flood_is_refused(app: &TestApp) {
    with_demo(app).await;
    let run = run_of(&html(app, "/g/immobilier").await);
    let before = stored(app).await.len();
    let mut statuses = Vec::new();
    for seq in 1..=8u64 {
        let body = json!({"type": "link_clicked", "run": run, "seq": seq,
            "guide": "immobilier", "service": "archives-rennes", "link": "website"});
        statuses.push(post_event(app, &body.to_string()).await.0);
    }
    assert_eq!(statuses, [202, 202, 202, 202, 202, 429, 429, 429]);
    assert_eq!(stored(app).await.len(), before + 5);
    let refusals: std::collections::BTreeMap<&str, u64> =
        app.analytics.refusals().into_iter().collect();
    assert_eq!(refusals["rate_limited"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_is_refused_sqlite() {
    let app = limited(Db::Sqlite).await.unwrap();
    a_flood_is_refused(&app).await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_is_refused_postgres() {
    let Some(app) = limited(Db::Postgres).await else {
        return;
    };
    a_flood_is_refused(&app).await;
    app.cleanup().await;
}

dual_test!(
    every_accepted_event_is_written_by_the_flush,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let runs: Vec<String> = {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(run_of(&html(app, "/g/immobilier").await));
            }
            v
        };
        let before = stored(app).await.len();
        // 100 posts, 25 per run, four at a time.
        let mut accepted = 0;
        for seq in 1..=25u64 {
            let posts = runs.iter().map(|run| {
                let body = json!({"type": "link_clicked", "run": run, "seq": seq,
                    "guide": "immobilier", "service": "archives-rennes", "link": "contact"});
                let app = &app;
                async move { post_event(app, &body.to_string()).await.0 }
            });
            for s in futures_util::future::join_all(posts).await {
                assert_eq!(s, 202);
                accepted += 1;
            }
        }
        // Straight to the recorder too: 10,000 events in one go.
        for i in 0..10_000 {
            assert!(app.analytics.record(RawEvent {
                at: format!("{DAY}T12:00:00Z"),
                day: DAY.into(),
                kind: "step_shown".into(),
                guide: "immobilier".into(),
                step: format!("s{}", i % 7),
                ..RawEvent::default()
            }));
        }
        let events = stored(app).await;
        assert_eq!(events.len(), before + accepted + 10_000);
        let c = app.analytics.counts();
        assert_eq!(c.dropped, 0);
        assert_eq!(c.written, c.accepted);
    }
);
