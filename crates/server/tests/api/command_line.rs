//! The command line writes through the same code as the back office: its
//! accounts carry a territory scope, its imports are recorded in the
//! history with the command as author; and the migration that introduced
//! territory scopes gives existing contributors the territories of their
//! rules.

use clap::Parser;
use locadocs::cli::{Cli, run};
use locadocs::store::{Changes, Entity, Role};
use locadocs_core::{DocumentType, Service, ServiceKind, Slug, Territory};
use sqlx::Row;

use crate::helpers::{Db, TestApp, TestDb};

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

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
        upsert_services: vec![Service::new(
            slug("archives-rennes"),
            "Archives de Rennes",
            ServiceKind::ArchivesMunicipales,
        )],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
}

async fn locadocs(app: &TestApp, args: &[&str]) -> anyhow::Result<()> {
    let mut all = vec!["locadocs", "--database-url", app.db.url.as_str()];
    all.extend_from_slice(args);
    run(Cli::try_parse_from(all)?).await
}

admin_test!(user_add_sets_a_contributors_territories, |app| {
    seed(app).await;
    locadocs(
        app,
        &[
            "user",
            "add",
            "--role",
            "contributor",
            "--service",
            "archives-rennes",
            "--territory",
            "commune:35238",
            "--territory",
            "departement:35",
            "Agent@Exemple.fr",
        ],
    )
    .await
    .unwrap();
    let (user, _) = app
        .store
        .user_by_email("agent@exemple.fr")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, Role::Contributor);
    assert_eq!(user.services, vec!["archives-rennes".to_owned()]);
    assert_eq!(
        user.territories,
        vec![
            Territory::parse("commune:35238").unwrap(),
            Territory::parse("departement:35").unwrap()
        ]
    );
    let h = app
        .store
        .history_of(Entity::User, &user.id.to_string())
        .await
        .unwrap();
    assert_eq!(h.len(), 1);
    assert!(
        h[0].user_email
            .starts_with("ligne de commande : locadocs user add"),
        "{}",
        h[0].user_email
    );
    // Bad scopes are refused with the option named, and nothing is created.
    for (bad, says) in [
        ("france", "--territory france"),
        ("commune:99999", "aucun territoire"),
        ("canton:1", "n'est pas un territoire"),
    ] {
        let e = locadocs(
            app,
            &[
                "user",
                "add",
                "--role",
                "contributor",
                "--service",
                "archives-rennes",
                "--territory",
                bad,
                "autre@exemple.fr",
            ],
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(e.contains(says), "{bad}: {e}");
    }
    assert!(
        app.store
            .user_by_email("autre@exemple.fr")
            .await
            .unwrap()
            .is_none()
    );
});

admin_test!(command_line_imports_are_recorded_in_the_history, |app| {
    seed(app).await;
    let dir = crate::backoffice::outbox_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("services.csv");
    std::fs::write(
        &file,
        "id;name;kind;phone\narchives-rennes;Archives de Rennes;archives-municipales;02 23 62 12 60\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    locadocs(app, &["import", "services", path]).await.unwrap();
    let h = app
        .store
        .history_of(Entity::Service, "archives-rennes")
        .await
        .unwrap();
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(
        h[0].user_email,
        format!("ligne de commande : locadocs import services {path}")
    );
    // Like any change, it can be undone from the back office's history.
    let admin = crate::backoffice::signed_in(app, Role::Admin, &[]).await;
    let r = crate::backoffice::post(
        app,
        &format!("/admin/historique/{}/annuler", h[0].id),
        &admin.cookie,
        &[("csrf", &admin.csrf), ("confirm", "1")],
    )
    .await;
    assert_eq!(r.status(), 303);
    app.refresh().await;
    assert_eq!(
        app.live
            .snapshot()
            .service("archives-rennes")
            .unwrap()
            .phone,
        None
    );
});

async fn migration_gives_contributors_the_territories_of_their_rules(db: Db) {
    let Some(test_db) = TestDb::new(db).await else {
        return;
    };
    sqlx::any::install_default_drivers();
    let url = match db {
        Db::Sqlite => format!("{}?mode=rwc", test_db.url),
        Db::Postgres => test_db.url.clone(),
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(match db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        });
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let run_file = |name: std::path::PathBuf| {
        let pool = pool.clone();
        async move {
            let sql = std::fs::read_to_string(&name).unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", name.display()));
        }
    };
    let (before, after): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| f.file_name().unwrap().to_str().unwrap() < "0005");
    for f in before {
        run_file(f).await;
    }
    // The data of a deployment from before territory scopes.
    for sql in [
        "INSERT INTO document_types (slug, label, updated_at) VALUES ('permis-de-construire', 'Permis', 'x')",
        "INSERT INTO users (email, role, created_at) VALUES ('c@exemple.fr', 'contributor', 'x')",
        "INSERT INTO users (email, role, created_at) VALUES ('e@exemple.fr', 'editor', 'x')",
        "INSERT INTO user_services (user_id, service) SELECT id, 'archives-rennes' FROM users",
        "INSERT INTO holdings (document_type, territory, from_bound, service, updated_at) VALUES \
         ('permis-de-construire', 'commune:35238', '1908', 'archives-rennes', 'x'), \
         ('permis-de-construire', 'commune:35051', '1908', 'archives-rennes', 'x'), \
         ('permis-de-construire', 'france', '', 'archives-rennes', 'x'), \
         ('permis-de-construire', 'commune:76351', '1904', 'archives-le-havre', 'x')",
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    for f in after {
        run_file(f).await;
    }
    let rows = sqlx::query(
        "SELECT u.email AS email, t.territory AS territory FROM user_territories t \
         JOIN users u ON u.id = t.user_id ORDER BY u.email, t.territory",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.get("email"), r.get("territory")))
        .collect();
    assert_eq!(
        got,
        vec![
            ("c@exemple.fr".to_owned(), "commune:35051".to_owned()),
            ("c@exemple.fr".to_owned(), "commune:35238".to_owned()),
        ],
        "the contributor gets the territories of their service's rules, not the national one; the editor none"
    );
    pool.close().await;
    test_db.cleanup().await;
}

#[tokio::test]
async fn migration_backfills_territory_scopes_sqlite() {
    migration_gives_contributors_the_territories_of_their_rules(Db::Sqlite).await;
}

#[tokio::test]
async fn migration_backfills_territory_scopes_postgres() {
    migration_gives_contributors_the_territories_of_their_rules(Db::Postgres).await;
}
