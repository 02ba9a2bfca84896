//! The back office's *Import / export* and *Annuaire* screens: dry run,
//! confirmation, conflicts, row errors, permissions, exports, and the
//! Annuaire import (twice: updates, not duplicates).

use locadocs::store::{Changes, Entity, Role};
use locadocs_core::{DocumentType, Service, ServiceKind, Slug};

use crate::backoffice::{Who, signed_in, upload};
use crate::helpers::TestApp;

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
    app.refresh().await;
}

async fn post_form(
    app: &TestApp,
    path: &str,
    who: &Who,
    form: &[(String, String)],
) -> (u16, String) {
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The hidden fields of the confirmation form on a preview page.
pub(crate) fn confirm_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no confirmation form in {html}"));
    let form = &html[start..html[start..].find("</form>").unwrap() + start];
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|part| {
            let name = part.split('"').next().unwrap().to_owned();
            let value = part
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .replace("&#43;", "+")
                .replace("&#x2b;", "+");
            (name, value)
        })
        .collect()
}

/// A holdings file as Excel writes it in France: `;` and Windows-1252.
fn excel_holdings(rows: &str) -> Vec<u8> {
    let text = format!(
        "document_type;territory;from;to;service;instructions;source;verified_at\r\n{rows}"
    );
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    bytes.into_owned()
}

admin_test!(
    csv_dry_run_writes_nothing_then_confirm_applies_and_records,
    |app| {
        seed(app).await;
        let editor = signed_in(app, Role::Editor, &[]).await;
        let file = excel_holdings(
            "permis-de-construire;commune:35238;1908;2015-06-30;svc-a;Écrivez aux archives, précisez l'année.;;\r\n",
        );
        let version = app.store.data_version().await.unwrap();
        let (status, html) = upload(
            app,
            "/admin/import",
            &editor,
            &[("table", "holdings")],
            &file,
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("À ajouter (1)"), "{html}");
        assert!(
            html.contains("rien n&#39;est encore enregistré")
                || html.contains("rien n'est encore enregistré"),
            "{html}"
        );
        assert_eq!(
            app.store.data_version().await.unwrap(),
            version,
            "a dry run writes nothing"
        );
        assert!(app.store.stored_holdings().await.unwrap().is_empty());

        let form = confirm_fields(&html, "/admin/import/confirmer");
        let (status, html) = post_form(app, "/admin/import/confirmer", &editor, &form).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Import enregistré"), "{html}");
        let held = app.store.stored_holdings().await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(
            held[0].rule.instructions.as_deref(),
            Some("Écrivez aux archives, précisez l'année."),
            "Windows-1252 is decoded"
        );
        let history = app
            .store
            .history_of(Entity::Holding, &held[0].id.to_string())
            .await
            .unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].user_email, editor.email);
        assert!(history[0].before.is_none() && history[0].after.is_some());
        // Live at once on the public API.
        let (_, body) = app
            .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=1950")
            .await;
        assert_eq!(body["matches"][0]["service"]["id"], "svc-a", "{body}");

        // Confirming the same preview twice is a conflict, not a second write.
        let (status, html) = post_form(app, "/admin/import/confirmer", &editor, &form).await;
        assert_eq!(status, 409, "{html}");
        assert!(html.contains("Conflit"), "{html}");
    }
);

admin_test!(csv_row_errors_are_all_shown_and_nothing_is_written, |app| {
    seed(app).await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let file = excel_holdings(
        "permis-de-construire;commune:35238;1908;2015-06-30;svc-a;;;\r\n\
         permis-de-construire;commune:35238;pas-une-date;;svc-a;;;\r\n\
         permis-de-construire;commune:35238;2016;;service-inconnu;;;\r\n",
    );
    let version = app.store.data_version().await.unwrap();
    let (status, html) = upload(
        app,
        "/admin/import",
        &editor,
        &[("table", "holdings")],
        &file,
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("Fichier refusé"), "{html}");
    assert!(html.contains("ligne 3, colonne from"), "{html}");
    assert!(html.contains("ligne 4, colonne service"), "{html}");
    assert!(
        !html.contains("/admin/import/confirmer"),
        "no confirmation for a refused file"
    );
    assert_eq!(app.store.data_version().await.unwrap(), version);
});

admin_test!(
    csv_confirm_fails_with_a_conflict_if_data_changed_since_preview,
    |app| {
        seed(app).await;
        let editor = signed_in(app, Role::Editor, &[]).await;
        let file = "id;name;kind\nsvc-c;Archives C;archives-municipales\n";
        let (status, html) = upload(
            app,
            "/admin/import",
            &editor,
            &[("table", "services")],
            file.as_bytes(),
        )
        .await;
        assert_eq!(status, 200, "{html}");
        let form = confirm_fields(&html, "/admin/import/confirmer");
        // Someone else saves in between.
        app.store
            .apply(
                &Changes {
                    upsert_services: vec![Service::new(
                        slug("svc-d"),
                        "Archives D",
                        ServiceKind::Autre,
                    )],
                    ..Changes::default()
                },
                None,
            )
            .await
            .unwrap();
        let (status, html) = post_form(app, "/admin/import/confirmer", &editor, &form).await;
        assert_eq!(status, 409, "{html}");
        assert!(html.contains("modifiées"), "{html}");
        let data = app.store.load_ref_data().await.unwrap();
        assert!(
            data.services.iter().all(|s| s.id.as_str() != "svc-c"),
            "nothing written"
        );
    }
);

admin_test!(
    contributors_import_their_own_rows_only_and_everyone_signed_in_exports,
    |app| {
        seed(app).await;
        let contributor = signed_in(app, Role::Contributor, &["svc-a"]).await;
        // Their own service's details: previewed, then saved.
        let file = "id;name;kind\nsvc-a;Archives A renommées;archives-municipales\n";
        let (status, html) = upload(
            app,
            "/admin/import",
            &contributor,
            &[("table", "services")],
            file.as_bytes(),
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("À modifier (1)"), "{html}");
        let form = confirm_fields(&html, "/admin/import/confirmer");
        let (status, html) = post_form(app, "/admin/import/confirmer", &contributor, &form).await;
        assert_eq!(status, 200, "{html}");
        assert_eq!(
            app.store.load_ref_data().await.unwrap().services[0].name,
            "Archives A renommées"
        );
        // Another service's row, a new service, a kind changed, a rule outside
        // their scope, a replacement: the whole file is refused, each row named.
        let version = app.store.data_version().await.unwrap();
        for (table, file, replace, says) in [
            (
                "services",
                "id;name;kind\nsvc-b;Urbanisme B bis;urbanisme\n",
                "",
                "ne vous est pas confié",
            ),
            (
                "services",
                "id;name;kind\nsvc-z;Nouveau;archives-municipales\n",
                "",
                "créer un service est réservé aux éditeurs",
            ),
            (
                "services",
                "id;name;kind\nsvc-a;Archives A renommées;mairie\n",
                "",
                "type et sa commune sont tenus par les éditeurs",
            ),
            (
                "holdings",
                "document_type;territory;from;to;service\npermis-de-construire;commune:76351;1908;;svc-a\n",
                "",
                "ne relève pas de vos services ou de votre périmètre",
            ),
            (
                "services",
                "id;name;kind\nsvc-a;Archives A renommées;archives-municipales\n",
                "1",
                "remplacement complet",
            ),
            (
                "document-types",
                "slug;label\nplan;Plan\n",
                "",
                "tenus par les éditeurs",
            ),
        ] {
            let mut fields = vec![("table", table)];
            if replace == "1" {
                fields.push(("replace", "1"));
            }
            let (status, html) =
                upload(app, "/admin/import", &contributor, &fields, file.as_bytes()).await;
            assert_eq!(status, 422, "{table} {file}: {html}");
            assert!(html.contains("Fichier refusé"), "{html}");
            assert!(html.contains(says), "{says} in {html}");
        }
        assert_eq!(
            app.store.data_version().await.unwrap(),
            version,
            "nothing written"
        );
        // In scope: a rule of their service in Ille-et-Vilaine.
        let (status, html) = upload(
        app,
        "/admin/import",
        &contributor,
        &[("table", "holdings")],
        b"document_type;territory;from;to;service\npermis-de-construire;commune:35238;1908;;svc-a\n",
    )
    .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("À ajouter (1)"), "{html}");
        // The Annuaire stays the editors'.
        let (status, _) = upload(app, "/admin/annuaire", &contributor, &[], b"[]").await;
        assert_eq!(status, 403);

        // Anonymous: sent to the login page.
        let resp = app.get("/admin/export/services").await;
        assert_eq!(resp.status().as_u16(), 303);

        let resp = app
            .client
            .get(format!("{}/admin/export/services", app.base))
            .header("cookie", &contributor.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        let cd = resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cd.starts_with("attachment; filename=\"locadocs-services-"),
            "{cd}"
        );
        let bytes = resp.bytes().await.unwrap();
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBFid;name;kind;"),
            "UTF-8 with BOM, `;`"
        );
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.contains("svc-b;Urbanisme B;urbanisme"), "{text}");
        // An export imports back unchanged.
        let editor = signed_in(app, Role::Editor, &[]).await;
        let (status, html) = upload(
            app,
            "/admin/import",
            &editor,
            &[("table", "services")],
            text.as_bytes(),
        )
        .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Rien à changer"), "{html}");
        let resp = app
            .client
            .get(format!("{}/admin/export/inconnu", app.base))
            .header("cookie", &contributor.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404);
    }
);

const ANNUAIRE_1: &[u8] = include_bytes!("../data/annuaire-1.json");
const ANNUAIRE_2: &[u8] = include_bytes!("../data/annuaire-2.json");

admin_test!(
    annuaire_import_twice_updates_rather_than_duplicates,
    |app| {
        seed(app).await;
        let editor = signed_in(app, Role::Editor, &[]).await;
        let (status, html) = upload(app, "/admin/annuaire", &editor, &[], ANNUAIRE_1).await;
        assert_eq!(status, 200, "{html}");
        assert!(
            html.contains("2 ajouté(s), 0 mis à jour, 0 inchangé(s), 2 rejeté(s)"),
            "{html}"
        );
        assert!(
            html.contains("caf"),
            "the reason of a rejection is shown: {html}"
        );
        assert!(html.contains("champ « nom » manquant"), "{html}");
        let before = app.store.load_ref_data().await.unwrap().services.len();
        assert_eq!(before, 2, "the preview writes nothing");
        let form = confirm_fields(&html, "/admin/annuaire/confirmer");
        let (status, html) = post_form(app, "/admin/annuaire/confirmer", &editor, &form).await;
        assert_eq!(status, 200, "{html}");
        let data = app.store.load_ref_data().await.unwrap();
        assert_eq!(data.services.len(), 4);
        let mairie = data
            .services
            .iter()
            .find(|s| s.annuaire_id.as_deref() == Some("a1b2c3d4-0000-4000-8000-000000000001"))
            .unwrap();
        assert_eq!(mairie.kind, ServiceKind::Mairie);
        assert_eq!(mairie.id.as_str(), "mairie-d-evreux");
        assert_eq!(mairie.phone.as_deref(), Some("02 00 00 00 01"));
        assert_eq!(mairie.postal_code.as_deref(), Some("27000"));
        assert_eq!(
            mairie.commune.map(|c| c.to_string()).as_deref(),
            Some("27229")
        );
        assert_eq!(
            mairie.opening_hours.as_deref(),
            Some("Lundi au Vendredi : 08:30–12:00, 13:30–17:00")
        );
        // Its competence comes from `pivot[].code_insee_commune`.
        assert_eq!(
            mairie.competence,
            vec![locadocs_core::Territory::parse("commune:27229").unwrap()]
        );
        let ad = data
            .services
            .iter()
            .find(|s| s.kind == ServiceKind::ArchivesDepartementales)
            .expect("nested fields given as JSON text are read");
        assert_eq!(ad.email.as_deref(), Some("archives@departement-exemple.fr"));
        assert_eq!(
            app.store
                .history_of(Entity::Service, mairie.id.as_str())
                .await
                .unwrap()
                .len(),
            1
        );

        // The same file again: nothing to change.
        let (status, html) = upload(app, "/admin/annuaire", &editor, &[], ANNUAIRE_1).await;
        assert_eq!(status, 200, "{html}");
        assert!(
            html.contains("0 ajouté(s), 0 mis à jour, 2 inchangé(s), 2 rejeté(s)"),
            "{html}"
        );

        // A new phone number (bare array form): an update, not a new service.
        let (status, html) = upload(app, "/admin/annuaire", &editor, &[], ANNUAIRE_2).await;
        assert_eq!(status, 200, "{html}");
        assert!(
            html.contains("0 ajouté(s), 1 mis à jour, 1 inchangé(s), 2 rejeté(s)"),
            "{html}"
        );
        assert!(html.contains("téléphone"), "{html}");
        let form = confirm_fields(&html, "/admin/annuaire/confirmer");
        let (status, html) = post_form(app, "/admin/annuaire/confirmer", &editor, &form).await;
        assert_eq!(status, 200, "{html}");
        let data = app.store.load_ref_data().await.unwrap();
        assert_eq!(data.services.len(), 4, "updated, not duplicated");
        let mairie = data
            .services
            .iter()
            .find(|s| s.id.as_str() == "mairie-d-evreux")
            .unwrap();
        assert_eq!(mairie.phone.as_deref(), Some("02 00 00 00 09"));
        let history = app
            .store
            .history_of(Entity::Service, "mairie-d-evreux")
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].user_email, editor.email);

        // A file that is not JSON: a clear message, nothing written.
        let (status, html) = upload(app, "/admin/annuaire", &editor, &[], b"id;nom\n1;x\n").await;
        assert_eq!(status, 422, "{html}");
        assert!(html.contains("pas du JSON valide"), "{html}");
    }
);

admin_test!(annuaire_command_line_uses_the_same_code, |app| {
    seed(app).await;
    let dir = crate::backoffice::outbox_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("annuaire.json");
    std::fs::write(&path, ANNUAIRE_1).unwrap();
    let today = crate::helpers::today();
    locadocs::import::run(app.store.as_ref(), "annuaire", &path, true, false, today)
        .await
        .unwrap();
    assert_eq!(
        app.store.load_ref_data().await.unwrap().services.len(),
        2,
        "--dry-run writes nothing"
    );
    locadocs::import::run(app.store.as_ref(), "annuaire", &path, false, false, today)
        .await
        .unwrap();
    let version = app.store.data_version().await.unwrap();
    locadocs::import::run(app.store.as_ref(), "annuaire", &path, false, false, today)
        .await
        .unwrap();
    assert_eq!(
        app.store.data_version().await.unwrap(),
        version,
        "a second import changes nothing"
    );
    assert_eq!(app.store.load_ref_data().await.unwrap().services.len(), 4);
    let _ = std::fs::remove_dir_all(&dir);
});
