//! The back office's commune and territory fields: typed by name (never an
//! identifier syntax), read back on the server, and suggested while typing
//! from `/admin/territoires.json`.

use locadocs::store::Role;
use serde_json::Value;

use crate::backoffice::{get, location, post, signed_in};

async fn suggestions(
    app: &crate::helpers::TestApp,
    cookie: &str,
    query: &str,
) -> Vec<(String, String)> {
    let resp = get(app, &format!("/admin/territoires.json?{query}"), cookie).await;
    assert_eq!(resp.status().as_u16(), 200, "{query}");
    let body: Value = resp.json().await.unwrap();
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["value"].as_str().unwrap().to_owned(),
                s["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn page_of(app: &crate::helpers::TestApp, path: &str, cookie: &str) -> String {
    get(app, path, cookie).await.text().await.unwrap()
}

fn pair(value: &str, label: &str) -> (String, String) {
    (value.to_owned(), label.to_owned())
}

admin_test!(names_are_suggested_while_typing_and_read_back, |app| {
    let c = signed_in(app, Role::Contributor, &[]).await;
    // Communes first, from the guide's search (a typo tolerated), then the
    // intercommunality and the département whose names match.
    let found = suggestions(app, &c.cookie, "niveaux=territoires&q=renne").await;
    assert_eq!(
        found[0],
        pair("Rennes (35238)", "Ille-et-Vilaine"),
        "{found:?}"
    );
    assert!(
        found.contains(&pair("Rennes Métropole (243500139)", "Intercommunalité")),
        "{found:?}"
    );
    let found = suggestions(app, &c.cookie, "niveaux=territoires&q=ille-et").await;
    assert!(
        found.contains(&pair("Ille-et-Vilaine (35)", "Département")),
        "{found:?}"
    );
    let found = suggestions(app, &c.cookie, "niveaux=territoires&q=fran").await;
    assert!(found.contains(&pair("France", "Tout le pays")), "{found:?}");
    // A commune field suggests communes only; a postal code finds its commune.
    let found = suggestions(app, &c.cookie, "niveaux=communes&q=ille-et").await;
    assert!(found.iter().all(|(_, l)| l != "Département"), "{found:?}");
    let found = suggestions(app, &c.cookie, "niveaux=communes&q=35000").await;
    assert_eq!(found[0].0, "Rennes (35238)", "{found:?}");
    // One letter suggests nothing yet.
    assert!(
        suggestions(app, &c.cookie, "niveaux=communes&q=r")
            .await
            .is_empty()
    );
    // Signed-in accounts only.
    let resp = get(app, "/admin/territoires.json?q=rennes", "").await;
    assert_ne!(resp.status().as_u16(), 200);

    // Every suggestion reads back as its territory in a rule's form: the
    // preview's commune is read by name.
    let ed = signed_in(app, Role::Editor, &[]).await;
    let html = page_of(app, "/admin/regles?commune=Rennes", &ed.cookie).await;
    assert!(
        html.contains("Chronologie des détenteurs pour Rennes (35238)"),
        "{html}"
    );
    assert!(html.contains("data-ld-suggest=\"communes\""), "{html}");
    let html = page_of(app, "/admin/regles?commune=Rennes%20(35238)", &ed.cookie).await;
    assert!(html.contains("Chronologie des détenteurs pour Rennes (35238)"));
    // A name that is no commune says so next to the field instead of
    // silently listing every rule.
    let html = page_of(app, "/admin/regles?commune=Nulle-part", &ed.cookie).await;
    assert!(
        html.contains("id=\"f-commune-msg\">Aucune commune, intercommunalité ou département ne s&#39;appelle « Nulle-part »"),
        "{html}"
    );
    let html = page_of(app, "/admin/regles?commune=Ille-et-Vilaine", &ed.cookie).await;
    assert!(
        html.contains("« Ille-et-Vilaine (35) » n&#39;est pas une commune"),
        "{html}"
    );
    let form = page_of(app, "/admin/regles/nouvelle", &ed.cookie).await;
    assert!(form.contains("data-ld-suggest=\"territoires\""), "{form}");

    // A service's commune, typed by name, shown by name, its kind by label.
    let resp = post(
        app,
        "/admin/services/nouveau",
        &ed.cookie,
        &[
            ("csrf", ed.csrf.as_str()),
            ("name", "Archives de Saint-Malo"),
            ("kind", "archives-municipales"),
            ("commune", "Saint-Malo"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 303);
    let page = page_of(app, &location(&resp), &ed.cookie).await;
    assert!(page.contains("Saint-Malo (35288)"), "{page}");
    assert!(page.contains("Archives municipales"), "{page}");
    let snap = app.live.snapshot();
    let svc = snap
        .services()
        .iter()
        .find(|s| s.name == "Archives de Saint-Malo")
        .unwrap();
    assert_eq!(svc.commune.unwrap().as_str(), "35288");
    let resp = post(
        app,
        "/admin/services/nouveau",
        &ed.cookie,
        &[
            ("csrf", ed.csrf.as_str()),
            ("name", "Archives de nulle part"),
            ("kind", "archives-municipales"),
            ("commune", "Bretagne"),
        ],
    )
    .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("ne s&#39;appelle « Bretagne »"), "{html}");

    // A contributor's territories: the list, plus one added with suggestions.
    let admin = signed_in(app, Role::Admin, &[]).await;
    let form = page_of(app, "/admin/utilisateurs", &admin.cookie).await;
    assert!(
        form.contains("name=\"territoire_ajoute\" value=\"\" data-ld-suggest=\"territoires\""),
        "{form}"
    );
    let r = post(
        app,
        "/admin/utilisateurs",
        &admin.cookie,
        &[
            ("csrf", admin.csrf.as_str()),
            ("email", "agente.rennes@exemple.fr"),
            ("role", "contributor"),
            ("services", "archives-de-saint-malo"),
            ("territories", "Saint-Malo"),
            ("territoire_ajoute", "Rennes Métropole (243500139)"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    let users = app.store.users().await.unwrap();
    let invited = users
        .iter()
        .find(|u| u.email == "agente.rennes@exemple.fr")
        .unwrap();
    let scope: Vec<String> = invited.territories.iter().map(|t| t.to_string()).collect();
    assert_eq!(scope, ["commune:35288", "epci:243500139"]);

    // The inbox's commune filter, by name too.
    let agent = signed_in(app, Role::Contributor, &["archives-de-saint-malo"]).await;
    let html = page_of(app, "/admin/demandes?commune=Nulle-part", &agent.cookie).await;
    assert!(
        html.contains("id=\"f-commune-msg\">Aucune commune"),
        "{html}"
    );
    let html = page_of(app, "/admin/demandes?commune=Rennes", &agent.cookie).await;
    assert!(!html.contains("f-commune-msg"), "{html}");
});
