//! The authorization test: every route of the back office's table, for
//! every role, on every kind of record and scope its path can name — own
//! service / other service, a rule inside / outside the territory scope /
//! national, the history of each kind of record (accounts and data). Who
//! may is written here again, independently of the policy, with exhaustive
//! matches: a new permission or record kind does not compile until it is
//! taught here, and a new placeholder in a path fails the test.
//!
//! Then the holes this structure closed, each with its regression test.

use locadocs::store::{Author, Changes, Entity, Record, Role, UserFields};
use locadocs::web::admin::routes::{self, M, Perm};
use locadocs_core::{DocumentType, InseeCode, Service, ServiceKind, Territory};

use crate::backoffice::{Who, get, location, post, rule, session_of, signed_in_with, slug};
use crate::helpers::TestApp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    Anonymous,
    /// Contributor of svc-a, scope `commune:35238` (Rennes).
    ContributorA,
    /// Contributor of svc-b, scope `commune:35238`.
    ContributorB,
    Editor,
    Admin,
}

const ACTORS: [Actor; 5] = [
    Actor::Anonymous,
    Actor::ContributorA,
    Actor::ContributorB,
    Actor::Editor,
    Actor::Admin,
];

/// What a route's path names.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Nothing,
    /// A service, and whose it is.
    Service {
        id: &'static str,
        of_a: bool,
    },
    Rule(RuleCase),
    /// The history of a record of this kind, or one of its changes.
    History(Entity),
    Account,
    /// A request (or one of its attachments), and whose service holds it.
    Request {
        of_a: bool,
    },
    /// A guide's statistics table, and whether its rows each concern one
    /// service.
    StatisticsTable {
        of_services: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleCase {
    /// Held by svc-a on Rennes: inside A's scope.
    OwnInScope,
    /// Held by svc-a on Le Havre: A's service, outside A's territories.
    OwnOutOfScope,
    /// Held by svc-b on Rennes.
    OtherService,
    /// Held by svc-a on `france`.
    National,
}

/// Who may, written from the rules rather than from the policy.
fn expected(method: M, path: &str, perm: Perm, actor: Actor, target: &Target) -> bool {
    use Actor::*;
    let signed = actor != Anonymous;
    let editor = matches!(actor, Editor | Admin);
    // Exhaustive on purpose: a new kind of permission must be taught here.
    match perm {
        Perm::Anyone => true,
        Perm::Signed => signed,
        // Anyone signed in opens the form; the posted holder is svc-a.
        Perm::RuleCreate => match method {
            M::Get => signed,
            M::Post => editor || actor == ContributorA,
        },
        Perm::Service => match target {
            Target::Service { of_a, .. } => {
                editor || (actor == ContributorA && *of_a) || (actor == ContributorB && !*of_a)
            }
            other => panic!("a service route names {other:?}"),
        },
        Perm::Rule => match target {
            Target::Rule(case) => {
                // The edit form posts svc-a as the new holder.
                let moves_to_a = method == M::Post && path.ends_with("/modifier");
                editor
                    || match case {
                        RuleCase::OwnInScope => actor == ContributorA,
                        RuleCase::OtherService => actor == ContributorB && !moves_to_a,
                        RuleCase::OwnOutOfScope | RuleCase::National => false,
                    }
            }
            other => panic!("a rule route names {other:?}"),
        },
        Perm::DocumentTypes | Perm::Import | Perm::ServiceCreate | Perm::Sites | Perm::Impact => {
            editor
        }
        // Contributors import rows of their own; the walk's posts name no table.
        Perm::ImportOwn => editor || matches!(actor, ContributorA | ContributorB),
        Perm::Accounts => actor == Admin,
        Perm::History | Perm::Revert => {
            let Target::History(entity) = target else {
                panic!("a history route names {target:?}")
            };
            match entity {
                Entity::User => actor == Admin,
                Entity::Service | Entity::Holding | Entity::DocumentType => {
                    if perm == Perm::Revert { editor } else { signed }
                }
            }
        }
        // The agents of a service (contributors here) and administrators;
        // editors have no service. The label form posts svc-a.
        Perm::Inbox => match (method, path) {
            (M::Post, "/admin/demandes/etiquettes") => matches!(actor, ContributorA | Admin),
            _ => matches!(actor, ContributorA | ContributorB | Admin),
        },
        Perm::Request => match target {
            Target::Request { of_a } => {
                actor == Admin
                    || (actor == ContributorA && *of_a)
                    || (actor == ContributorB && !*of_a)
            }
            other => panic!("a request route names {other:?}"),
        },
        // Every signed-in account opens the statistics; the figures shown
        // are its services' only, unless an editor.
        Perm::Statistics => signed,
        // Tables of a whole guide (funnel, comments…) are the editors';
        // those of services are anyone's, restricted to their services.
        Perm::StatisticsTable => match target {
            Target::StatisticsTable { of_services } => editor || (signed && *of_services),
            other => panic!("a statistics table route names {other:?}"),
        },
        Perm::Suggestions => editor,
    }
}

struct World {
    rule_in: i64,
    rule_out: i64,
    rule_b: i64,
    rule_france: i64,
    user_a: i64,
    /// A request of svc-a and one of svc-b, each with an attachment:
    /// (request, attachment, of svc-a).
    requests: Vec<(i64, i64, bool)>,
    /// For each kind of record: its key, and one of its recorded changes
    /// that was already undone (so that an allowed revert is refused by the
    /// store, never by authorization, and nothing changes).
    history: Vec<(Entity, String, i64)>,
}

async fn world(app: &TestApp) -> World {
    app.store
        .save_site(&locadocs_core::Site {
            key: slug("site-test"),
            name: "Site de test".into(),
            origins: vec![],
            restrict_framing: false,
        })
        .await
        .unwrap();
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
            Service {
                commune: Some(InseeCode::parse("35238").unwrap()),
                ..Service::new(
                    slug("svc-a"),
                    "Archives A",
                    ServiceKind::ArchivesMunicipales,
                )
            },
            Service::new(slug("svc-b"), "Urbanisme B", ServiceKind::Urbanisme),
        ],
        upsert_holdings: vec![
            rule("commune:35238", "1908", "2015-06-30", "svc-a"),
            rule("commune:76351", "1904", "2015-12-31", "svc-a"),
            rule("commune:35238", "2015-07-01", "", "svc-b"),
            rule("france", "", "", "svc-a"),
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
    let admin = Author::command_line("test");
    let a = app
        .store
        .create_user(
            "contrib-a@exemple.fr",
            Role::Contributor,
            &["svc-a".into()],
            &[Territory::parse("commune:35238").unwrap()],
            &admin,
        )
        .await
        .unwrap();
    // One change to a record of each kind, then undone.
    let mut history = vec![];
    for entity in Entity::ALL {
        let (key, after) = match entity {
            Entity::Service => {
                let mut s = app.live.snapshot().service("svc-a").unwrap().clone();
                s.phone = Some("02 23 62 12 60".into());
                ("svc-a".to_owned(), Record::Service(s))
            }
            Entity::Holding => {
                let mut r = rule("commune:35238", "1908", "2015-06-30", "svc-a");
                r.instructions = Some("Sur rendez-vous".into());
                (id("commune:35238", "svc-a").to_string(), Record::Holding(r))
            }
            Entity::DocumentType => {
                let mut d = app
                    .live
                    .snapshot()
                    .document_type("acte-notarie")
                    .unwrap()
                    .clone();
                d.label = "Acte notarié".into();
                ("acte-notarie".to_owned(), Record::DocumentType(d))
            }
            Entity::User => (
                a.id.to_string(),
                Record::User(UserFields {
                    services: vec!["svc-a".into(), "svc-b".into()],
                    ..UserFields::from(&a)
                }),
            ),
        };
        app.store
            .save(&admin, entity, Some(&key), None, Some(after))
            .await
            .unwrap();
        let entry = app.store.history_of(entity, &key).await.unwrap()[0].clone();
        app.store.revert(&admin, entry.id).await.unwrap();
        history.push((entity, key, entry.id));
    }
    app.refresh().await;
    let mut requests = vec![];
    for (service, of_a) in [("svc-a", true), ("svc-b", false)] {
        let file = locadocs::store::NewFile {
            file_name: "plan.pdf".into(),
            mime: "application/pdf".into(),
            size: 3,
            storage_key: format!("absent-{service}"),
        };
        let id = crate::inbox::new_request(
            app,
            service,
            "permis-de-construire",
            "Jeanne Martin",
            1990,
            &[file],
        )
        .await;
        let att = app.store.attachments(id).await.unwrap()[0].id;
        requests.push((id, att, of_a));
    }
    World {
        rule_in: id("commune:35238", "svc-a"),
        rule_out: id("commune:76351", "svc-a"),
        rule_b: id("commune:35238", "svc-b"),
        rule_france: id("france", "svc-a"),
        user_a: a.id,
        requests,
        history,
    }
}

/// Every (path, target) a route's pattern stands for.
fn cases(pattern: &str, w: &World) -> Vec<(String, Target)> {
    let pattern_guide = pattern.replace("{guide}", "immobilier");
    if pattern_guide.contains("{table}") && pattern.starts_with("/admin/statistiques/") {
        return [
            ("entonnoir.csv", false),
            ("commentaires.csv", false),
            ("detenteurs.csv", true),
            ("demandes.csv", true),
        ]
        .iter()
        .map(|(t, of_services)| {
            (
                pattern_guide.replace("{table}", t),
                Target::StatisticsTable {
                    of_services: *of_services,
                },
            )
        })
        .collect();
    }
    let pattern = pattern_guide.as_str();
    let fixed = pattern
        .replace("{token}", &"x".repeat(43))
        .replace("{slug}", "permis-de-construire")
        .replace("{table}", "services");
    if fixed.contains("{entity}/{key}") {
        return w
            .history
            .iter()
            .map(|(e, key, _)| {
                (
                    fixed.replace("{entity}/{key}", &format!("{}/{key}", e.as_str())),
                    Target::History(*e),
                )
            })
            .collect();
    }
    if pattern.starts_with("/admin/sites/{key}") {
        return vec![(fixed.replace("{key}", "site-test"), Target::Nothing)];
    }
    if !fixed.contains("{id}") {
        assert!(
            !fixed.contains('{'),
            "no test value for a placeholder of {pattern}"
        );
        return vec![(fixed, Target::Nothing)];
    }
    let with = |v: String| fixed.replace("{id}", &v);
    if pattern.starts_with("/admin/services/") {
        vec![
            (
                with("svc-a".into()),
                Target::Service {
                    id: "svc-a",
                    of_a: true,
                },
            ),
            (
                with("svc-b".into()),
                Target::Service {
                    id: "svc-b",
                    of_a: false,
                },
            ),
        ]
    } else if pattern.starts_with("/admin/regles/") {
        vec![
            (
                with(w.rule_in.to_string()),
                Target::Rule(RuleCase::OwnInScope),
            ),
            (
                with(w.rule_out.to_string()),
                Target::Rule(RuleCase::OwnOutOfScope),
            ),
            (
                with(w.rule_b.to_string()),
                Target::Rule(RuleCase::OtherService),
            ),
            (
                with(w.rule_france.to_string()),
                Target::Rule(RuleCase::National),
            ),
        ]
    } else if pattern.starts_with("/admin/historique/") {
        w.history
            .iter()
            .map(|(e, _, entry)| (with(entry.to_string()), Target::History(*e)))
            .collect()
    } else if pattern.starts_with("/admin/demandes/") {
        w.requests
            .iter()
            .map(|(id, att, of_a)| {
                (
                    with(id.to_string()).replace("{att}", &att.to_string()),
                    Target::Request { of_a: *of_a },
                )
            })
            .collect()
    } else if pattern.starts_with("/admin/utilisateurs/") {
        vec![(with(w.user_a.to_string()), Target::Account)]
    } else {
        panic!("no test value for {{id}} in {pattern}")
    }
}

async fn browser(app: &TestApp, actor: Actor, w: &World) -> Who {
    match actor {
        // An anonymous browser has the pre-session form token of the page it came from.
        Actor::Anonymous => {
            let t = locadocs::web::admin::auth::random_token();
            Who {
                cookie: format!("ld_form={t}"),
                csrf: t,
                email: String::new(),
                user_id: 0,
            }
        }
        Actor::ContributorA => session_of(app, w.user_a, "contrib-a@exemple.fr").await,
        Actor::ContributorB => {
            signed_in_with(app, Role::Contributor, &["svc-b"], &["commune:35238"]).await
        }
        Actor::Editor => signed_in_with(app, Role::Editor, &[], &[]).await,
        Actor::Admin => signed_in_with(app, Role::Admin, &[], &[]).await,
    }
}

admin_test!(
    every_route_is_checked_for_every_role_record_kind_and_scope,
    |app| {
        let w = world(app).await;
        let version = app.store.data_version().await.unwrap();
        let table = routes::routes();
        assert!(table.len() > 20);
        let mut seen = std::collections::HashSet::new();
        let mut checked = 0;
        for route in &table {
            assert!(
                seen.insert((route.method, route.path)),
                "{} is declared twice",
                route.path
            );
            for (path, target) in cases(route.path, &w) {
                for actor in ACTORS {
                    // A fresh session per request: logging out must not leak into the next.
                    let who = browser(app, actor, &w).await;
                    let resp = match route.method {
                        M::Get => get(app, &path, &who.cookie).await,
                        // Forms that would change data carry a stale revision or an
                        // invalid value: allowed requests are refused by validation,
                        // never by authorization, and nothing changes.
                        M::Post => {
                            post(
                                app,
                                &path,
                                &who.cookie,
                                &[
                                    ("csrf", &who.csrf),
                                    ("revision", "-1"),
                                    ("service", "svc-a"),
                                    ("document_type", ""),
                                    ("role", "contributor"),
                                    ("services", "svc-a"),
                                    ("email", "pas-une-adresse"),
                                    ("name", ""),
                                    ("label", ""),
                                ],
                            )
                            .await
                        }
                    };
                    let status = resp.status().as_u16();
                    let to_login = location(&resp) == "/admin/login";
                    let allowed = expected(route.method, &path, route.perm, actor, &target);
                    let what = format!("{:?} {path} ({target:?}) as {actor:?}", route.method);
                    assert_ne!(status, 500, "{what}");
                    if allowed {
                        assert!(
                            status != 403 && status != 401 && !to_login
                                || route.path == "/admin/login",
                            "{what}: expected allowed, got {status}"
                        );
                    } else {
                        assert!(
                            status == 403 || to_login,
                            "{what}: expected forbidden, got {status}"
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked} requests");
        // Nothing was changed by all this.
        assert_eq!(app.store.data_version().await.unwrap(), version);
        let a = app.store.user(w.user_a).await.unwrap().unwrap();
        assert_eq!(a.services, vec!["svc-a".to_owned()]);
    }
);

/// The latest recorded change of a record.
async fn last_change(app: &TestApp, entity: Entity, key: i64) -> i64 {
    app.store
        .history_of(entity, &key.to_string())
        .await
        .unwrap()[0]
        .id
}

/// Undoes a recorded change as `who`, confirmed; the status answered.
async fn undo(app: &TestApp, who: &Who, entry: i64) -> u16 {
    post(
        app,
        &format!("/admin/historique/{entry}/annuler"),
        &who.cookie,
        &[("csrf", &who.csrf), ("confirm", "1")],
    )
    .await
    .status()
    .as_u16()
}

// ---------------------------------------------------------------- hole 1

admin_test!(
    a_demoted_administrator_cannot_revert_their_way_back,
    |app| {
        world(app).await;
        let admin = signed_in_with(app, Role::Admin, &[], &[]).await;
        let other = signed_in_with(app, Role::Admin, &[], &[]).await;
        let demoted = app.store.user(admin.user_id).await.unwrap().unwrap();
        // The other administrator demotes them to editor.
        let r = post(
            app,
            &format!("/admin/utilisateurs/{}", demoted.id),
            &other.cookie,
            &[
                ("csrf", &other.csrf),
                ("revision", &demoted.revision.to_string()),
                ("role", "editor"),
                ("active", "1"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let entry = last_change(app, Entity::User, demoted.id).await;
        // Their session still works, as an editor now.
        let r = post(
            app,
            &format!("/admin/historique/{entry}/annuler"),
            &admin.cookie,
            &[("csrf", &admin.csrf), ("confirm", "1")],
        )
        .await;
        assert_eq!(r.status(), 403);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("réservé aux administrateurs")
        );
        let now = app.store.user(demoted.id).await.unwrap().unwrap();
        assert_eq!(now.role, Role::Editor, "still an editor");
        // Nor can they read the history of accounts.
        let r = get(
            app,
            &format!("/admin/historique/utilisateur/{}", demoted.id),
            &admin.cookie,
        )
        .await;
        assert_eq!(r.status(), 403);
        // A deactivated account cannot be brought back by an editor either.
        let victim = signed_in_with(app, Role::Contributor, &["svc-a"], &["commune:35238"]).await;
        let v = app.store.user(victim.user_id).await.unwrap().unwrap();
        let r = post(
            app,
            &format!("/admin/utilisateurs/{}", v.id),
            &other.cookie,
            &[
                ("csrf", &other.csrf),
                ("revision", &v.revision.to_string()),
                ("role", "contributor"),
                ("active", "0"),
                ("services", "svc-a"),
                ("territories", "commune:35238"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let entry = last_change(app, Entity::User, v.id).await;
        assert_eq!(undo(app, &admin, entry).await, 403);
        assert!(!app.store.user(v.id).await.unwrap().unwrap().active);
        // The administrator may.
        assert_eq!(undo(app, &other, entry).await, 303);
        assert!(app.store.user(v.id).await.unwrap().unwrap().active);
    }
);

// ---------------------------------------------------------------- hole 2

admin_test!(a_contributor_cannot_make_their_service_a_town_hall, |app| {
    world(app).await;
    let a = signed_in_with(app, Role::Contributor, &["svc-a"], &["commune:35238"]).await;
    let before = app.live.snapshot().service("svc-a").unwrap().clone();
    let r = post(
        app,
        "/admin/services/svc-a/modifier",
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("name", "Archives A"),
            ("kind", "mairie"),
            ("commune", "75056"),
            ("request_url", "https://pirate.example/demande"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Seuls les éditeurs"));
    app.refresh().await;
    assert_eq!(app.live.snapshot().service("svc-a").unwrap(), &before);
    // Their own details they may change; the form sends no kind nor commune.
    let page = get(app, "/admin/services/svc-a/modifier", &a.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Seuls les éditeurs changent le type"),
        "{page}"
    );
    let r = post(
        app,
        "/admin/services/svc-a/modifier",
        &a.cookie,
        &[
            ("csrf", &a.csrf),
            ("name", "Archives A"),
            ("phone", "02 23 62 12 60"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    // Saving says so.
    let to = location(&r);
    assert_eq!(to, "/admin/services/svc-a?enregistre=1");
    let page = get(app, &to, &a.cookie).await.text().await.unwrap();
    assert!(page.contains("Modifications enregistrées"), "{page}");
    app.refresh().await;
    let after = app.live.snapshot().service("svc-a").unwrap().clone();
    assert_eq!(after.phone.as_deref(), Some("02 23 62 12 60"));
    assert_eq!((after.kind, after.commune), (before.kind, before.commune));
});

admin_test!(a_commune_has_one_town_hall_shown_on_its_page, |app| {
    world(app).await;
    let ed = signed_in_with(app, Role::Editor, &[], &[]).await;
    // svc-a becomes the town hall of Paris (an editor's decision).
    let r = post(
        app,
        "/admin/services/svc-a/modifier",
        &ed.cookie,
        &[
            ("csrf", &ed.csrf),
            ("name", "Mairie de Paris"),
            ("kind", "mairie"),
            ("commune", "75056"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = get(app, "/admin/services/svc-a", &ed.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Mairie de la commune"), "{page}");
    assert!(page.contains("Paris (75056)"), "{page}");
    // A second town hall for Paris is refused, naming both services.
    let r = post(
        app,
        "/admin/services/svc-b/modifier",
        &ed.cookie,
        &[
            ("csrf", &ed.csrf),
            ("name", "Urbanisme B"),
            ("kind", "mairie"),
            ("commune", "75056"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(text.contains("svc-a") && text.contains("svc-b"), "{text}");
    app.refresh().await;
    assert_eq!(
        app.live.snapshot().service("svc-b").unwrap().kind,
        ServiceKind::Urbanisme
    );
    // Imports cannot add one either.
    let mut second = app.live.snapshot().service("svc-b").unwrap().clone();
    second.kind = ServiceKind::Mairie;
    second.commune = Some(InseeCode::parse("75056").unwrap());
    let changes = Changes {
        upsert_services: vec![second],
        ..Changes::default()
    };
    let version = app.store.data_version().await.unwrap();
    assert!(
        app.store
            .apply_recorded(&Author::command_line("test"), &changes, version)
            .await
            .is_err()
    );
    assert!(app.store.apply(&changes, None).await.is_err());
    assert_eq!(app.store.data_version().await.unwrap(), version);
});

// ---------------------------------------------------------------- hole 3

admin_test!(
    contributors_write_rules_only_inside_their_territories,
    |app| {
        let w = world(app).await;
        let a = session_of(app, w.user_a, "contrib-a@exemple.fr").await;
        let count = || async { app.store.stored_holdings().await.unwrap().len() };
        let before = count().await;
        let create = |territory: &'static str, from: &'static str| {
            let a = &a;
            async move {
                post(
                    app,
                    "/admin/regles/nouvelle",
                    &a.cookie,
                    &[
                        ("csrf", &a.csrf),
                        ("document_type", "acte-notarie"),
                        ("territory", territory),
                        ("from", from),
                        ("service", "svc-a"),
                    ],
                )
                .await
            }
        };
        // Paris, from the Archives of Rennes: the national answer for all of
        // Paris would be overridden.
        for t in ["departement:75", "commune:76351", "departement:35"] {
            let r = create(t, "1900").await;
            assert_eq!(r.status(), 422, "{t}");
            let text = r.text().await.unwrap();
            assert!(text.contains("hors de votre périmètre"), "{t}: {text}");
        }
        assert_eq!(count().await, before, "nothing created");
        // Inside: Rennes itself.
        let r = create("commune:35238", "1900").await;
        assert_eq!(r.status(), 303);
        assert_eq!(count().await, before + 1);
        // Moving their own rule out of scope is refused and changes nothing.
        let held = app.store.stored_holding(w.rule_in).await.unwrap().unwrap();
        let r = post(
            app,
            &format!("/admin/regles/{}/modifier", w.rule_in),
            &a.cookie,
            &[
                ("csrf", &a.csrf),
                ("revision", &held.revision.to_string()),
                ("document_type", "permis-de-construire"),
                ("territory", "departement:75"),
                ("from", "1908"),
                ("to", "2015-06-30"),
                ("service", "svc-a"),
                ("action", "save"),
            ],
        )
        .await;
        assert_eq!(r.status(), 422);
        assert_eq!(
            app.store.stored_holding(w.rule_in).await.unwrap().unwrap(),
            held
        );
        // A rule of their service outside their territories is not theirs.
        let r = post(
            app,
            &format!("/admin/regles/{}/supprimer", w.rule_out),
            &a.cookie,
            &[("csrf", &a.csrf), ("revision", "1")],
        )
        .await;
        assert_eq!(r.status(), 403);
        assert!(
            app.store
                .stored_holding(w.rule_out)
                .await
                .unwrap()
                .is_some()
        );
        // An import may not do it either: the whole file is refused.
        let (status, html) = crate::backoffice::upload(
            app,
            "/admin/import",
            &a,
            &[("table", "holdings")],
            b"document_type;territory;from;to;service\nacte-notarie;commune:76351;1800;;svc-a\n",
        )
        .await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("votre périmètre"), "{html}");
        // The home page shows them their scope.
        let home = get(app, "/admin", &a.cookie).await.text().await.unwrap();
        assert!(
            home.contains("Mon périmètre") && home.contains("Rennes (35238)"),
            "{home}"
        );
    }
);

admin_test!(a_departement_scope_covers_its_epcis_and_communes, |app| {
    world(app).await;
    let d = signed_in_with(app, Role::Contributor, &["svc-a"], &["departement:35"]).await;
    for (t, from) in [("commune:35051", "1900"), ("epci:243500139", "1900")] {
        let r = post(
            app,
            "/admin/regles/nouvelle",
            &d.cookie,
            &[
                ("csrf", &d.csrf),
                ("document_type", "acte-notarie"),
                ("territory", t),
                ("from", from),
                ("service", "svc-a"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303, "{t}: {}", r.text().await.unwrap());
    }
    let r = post(
        app,
        "/admin/regles/nouvelle",
        &d.cookie,
        &[
            ("csrf", &d.csrf),
            ("document_type", "acte-notarie"),
            ("territory", "commune:76351"),
            ("from", "1900"),
            ("service", "svc-a"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
});

admin_test!(administrators_set_a_contributors_territories, |app| {
    let w = world(app).await;
    let admin = signed_in_with(app, Role::Admin, &[], &[]).await;
    let a = app.store.user(w.user_a).await.unwrap().unwrap();
    let page = get(app, &format!("/admin/utilisateurs/{}", a.id), &admin.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Rennes (35238)"),
        "territories shown by name: {page}"
    );
    let save = |territories: &'static str, revision: i64| {
        let admin = &admin;
        async move {
            post(
                app,
                &format!("/admin/utilisateurs/{}", w.user_a),
                &admin.cookie,
                &[
                    ("csrf", &admin.csrf),
                    ("revision", &revision.to_string()),
                    ("role", "contributor"),
                    ("active", "1"),
                    ("services", "svc-a"),
                    ("territories", territories),
                ],
            )
            .await
        }
    };
    for bad in ["france", "commune:99999", "canton:12"] {
        let r = save(bad, a.revision).await;
        assert_eq!(r.status(), 422, "{bad}");
    }
    // By name, as shown, or by code.
    let r = save("Rennes (35238)\nSeine-Maritime", a.revision).await;
    assert_eq!(r.status(), 303);
    let a = app.store.user(w.user_a).await.unwrap().unwrap();
    assert_eq!(
        a.territories,
        vec![
            Territory::parse("commune:35238").unwrap(),
            Territory::parse("departement:76").unwrap()
        ]
    );
    // The change is in the account's history, and can be undone.
    let h = app
        .store
        .history_of(Entity::User, &a.id.to_string())
        .await
        .unwrap();
    assert!(
        h[0].changed_fields()
            .iter()
            .any(|(f, _, _)| f == "territories"),
        "{:?}",
        h[0]
    );
});

// ---------------------------------------------------------------- checked against the store

fn town_hall(id: &str) -> Service {
    Service {
        commune: Some(InseeCode::parse("35238").unwrap()),
        ..Service::new(slug(id), "Mairie de Rennes", ServiceKind::Mairie)
    }
}

admin_test!(a_stale_snapshot_cannot_give_a_town_hall_back, |app| {
    let changes = Changes {
        upsert_services: vec![town_hall("svc-t")],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
    let c = signed_in_with(app, Role::Contributor, &["svc-t"], &["commune:35238"]).await;
    // An editor elsewhere (another server, the command line) removes the
    // designation; this server's snapshot has not caught up yet.
    let mut s = app.live.snapshot().service("svc-t").unwrap().clone();
    s.kind = ServiceKind::ArchivesMunicipales;
    s.commune = None;
    app.store
        .save(
            &Author::command_line("test"),
            Entity::Service,
            Some("svc-t"),
            None,
            Some(Record::Service(s)),
        )
        .await
        .unwrap();
    for path in [
        "/admin/services/svc-t/verifie",
        "/admin/services/svc-t/modifier",
    ] {
        post(
            app,
            path,
            &c.cookie,
            &[("csrf", &c.csrf), ("name", "Mairie de Rennes")],
        )
        .await;
    }
    app.refresh().await;
    let now = app.live.snapshot().service("svc-t").unwrap().clone();
    assert_eq!(
        (now.kind, now.commune),
        (ServiceKind::ArchivesMunicipales, None)
    );
});

admin_test!(a_grant_ends_with_its_service, |app| {
    let changes = Changes {
        upsert_services: vec![Service::new(
            slug("svc-x"),
            "Archives X",
            ServiceKind::ArchivesMunicipales,
        )],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
    let c = signed_in_with(app, Role::Contributor, &["svc-x"], &["commune:35238"]).await;
    let editor = Author::command_line("test");
    app.store
        .save(&editor, Entity::Service, Some("svc-x"), None, None)
        .await
        .unwrap();
    // Another service is made later under the same identifier.
    app.store
        .save(
            &editor,
            Entity::Service,
            None,
            None,
            Some(Record::Service(town_hall("svc-x"))),
        )
        .await
        .unwrap();
    app.refresh().await;
    let r = post(
        app,
        "/admin/services/svc-x/modifier",
        &c.cookie,
        &[
            ("csrf", &c.csrf),
            ("name", "Mairie de Rennes"),
            ("request_url", "https://pirate.example/"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(
        app.store
            .user(c.user_id)
            .await
            .unwrap()
            .unwrap()
            .services
            .is_empty()
    );
});

admin_test!(deactivating_an_account_ends_its_unused_links, |app| {
    world(app).await;
    let admin = signed_in_with(app, Role::Admin, &[], &[]).await;
    let cfg = locadocs::web::admin::AdminConfig::for_tests(
        &app.base,
        locadocs::web::admin::Mailer::Outbox(crate::backoffice::outbox_dir()),
    );
    let (user, link) = locadocs::web::admin::auth::invite(
        app.store.as_ref(),
        &cfg,
        "invite@exemple.fr",
        Role::Editor,
        &[],
        &[],
        &Author::command_line("test"),
    )
    .await
    .unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    for active in ["0", "1"] {
        let u = app.store.user(user.id).await.unwrap().unwrap();
        let r = post(
            app,
            &format!("/admin/utilisateurs/{}", user.id),
            &admin.cookie,
            &[
                ("csrf", &admin.csrf),
                ("revision", &u.revision.to_string()),
                ("role", "editor"),
                ("active", active),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
    }
    // Reactivated, the account's old invitation no longer works.
    let page = get(app, &path, "").await;
    assert_ne!(page.status(), 200);
});

admin_test!(
    an_administrator_cannot_revert_away_their_own_rights,
    |app| {
        world(app).await;
        let first = signed_in_with(app, Role::Admin, &[], &[]).await;
        let second = signed_in_with(app, Role::Editor, &[], &[]).await;
        // The second account is promoted, then demotes nobody but could undo
        // their own promotion: refused, they stay administrator.
        let u = app.store.user(second.user_id).await.unwrap().unwrap();
        let r = post(
            app,
            &format!("/admin/utilisateurs/{}", u.id),
            &first.cookie,
            &[
                ("csrf", &first.csrf),
                ("revision", &u.revision.to_string()),
                ("role", "admin"),
                ("active", "1"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let entry = last_change(app, Entity::User, u.id).await;
        assert_eq!(undo(app, &second, entry).await, 403);
        assert_eq!(
            app.store.user(u.id).await.unwrap().unwrap().role,
            Role::Admin
        );
    }
);

admin_test!(
    contributors_see_the_role_of_other_authors_not_their_address,
    |app| {
        world(app).await;
        let ed = signed_in_with(app, Role::Editor, &[], &[]).await;
        let a = signed_in_with(app, Role::Contributor, &["svc-a"], &["commune:35238"]).await;
        let r = post(
            app,
            "/admin/services/svc-a/modifier",
            &ed.cookie,
            &[
                ("csrf", &ed.csrf),
                ("name", "Archives A"),
                ("phone", "02 99 00 00 00"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let as_contributor = get(app, "/admin/historique/service/svc-a", &a.cookie)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            as_contributor.contains("par un éditeur"),
            "{as_contributor}"
        );
        assert!(!as_contributor.contains(&ed.email), "{as_contributor}");
        let home = get(app, "/admin", &a.cookie).await.text().await.unwrap();
        assert!(!home.contains(&ed.email), "{home}");
        let as_editor = get(app, "/admin/historique/service/svc-a", &ed.cookie)
            .await
            .text()
            .await
            .unwrap();
        assert!(as_editor.contains(&ed.email), "{as_editor}");
    }
);
