//! CSV exports never carry spreadsheet formulas: a cell starting with `=`,
//! `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`,
//! by the back office and the command line alike, and importing the export
//! gives back the original text.

use std::path::{Path, PathBuf};

use locadocs::store::{Changes, Role};
use locadocs_core::formats::Kind;
use locadocs_core::{
    Bound, DocumentType, HoldingRule, InseeCode, Service, ServiceKind, ServiceRef, Territory,
};

use crate::backoffice::{Who, get, signed_in, slug};
use crate::helpers::TestApp;

/// A service whose free-text cells all look like formulas.
fn formulas_service() -> Service {
    let mut s = Service::new(
        slug("formules"),
        "=HYPERLINK(\"http://evil\",\"clic\")",
        ServiceKind::ArchivesMunicipales,
    );
    s.commune = Some(InseeCode::parse("35238").unwrap());
    s.address = Some("@SUM(1+1)".into());
    s.postal_code = Some("35000".into());
    s.city = Some("\tRennes".into());
    s.phone = Some("+33 2 23 62 12 60".into());
    s.website = Some("https://archives.rennes.fr".into());
    s.opening_hours = Some("-9h à 17h".into());
    s.response_time = Some("\r1 mois".into());
    s.latitude = Some(48.11);
    s.longitude = Some(-1.68);
    s.annuaire_id = Some("'=déjà protégé".into());
    s
}

fn document_type() -> DocumentType {
    DocumentType {
        slug: slug("permis-de-construire"),
        label: "Permis de construire".into(),
        theme: Some("+urbanisme".into()),
        aliases: vec!["@pc".into(), "permis".into()],
        description: None,
        communicability_years: 0,
        communicability_note: None,
    }
}

fn holdings() -> Vec<HoldingRule> {
    let rennes = Territory::Commune(InseeCode::parse("35238").unwrap());
    vec![
        HoldingRule {
            document_type: slug("permis-de-construire"),
            territory: rennes.clone(),
            from: None,
            to: Some(Bound::YearsAgo(75)),
            service: ServiceRef::Id(slug("formules")),
            instructions: Some("=cmd|' /C calc'!A0".into()),
            source: None,
            verified_at: None,
        },
        HoldingRule {
            document_type: slug("permis-de-construire"),
            territory: rennes,
            from: Some(Bound::YearsAgo(75)),
            to: None,
            service: ServiceRef::TOWN_HALL_REF,
            instructions: None,
            source: Some("Mairie".into()),
            verified_at: None,
        },
    ]
}

async fn seed(app: &TestApp) {
    let changes = Changes {
        upsert_document_types: vec![document_type()],
        upsert_services: vec![
            formulas_service(),
            Service::new(slug("ordinaire"), "Mairie de Rennes", ServiceKind::Mairie),
        ],
        upsert_holdings: holdings(),
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
}

/// The body of `/admin/export/<kind>`, as `who` downloads it.
async fn export(app: &TestApp, who: &Who, kind: &str) -> Vec<u8> {
    let resp = get(app, &format!("/admin/export/{kind}"), &who.cookie).await;
    assert_eq!(resp.status().as_u16(), 200);
    resp.bytes().await.unwrap().to_vec()
}

/// `locadocs export <kind> <path>`: the file it writes.
async fn cli_export(app: &TestApp, dir: &Path, kind: &str) -> (PathBuf, Vec<u8>) {
    let path = dir.join(format!("{kind}.csv"));
    let cli = <locadocs::cli::Cli as clap::Parser>::try_parse_from([
        "locadocs",
        "--database-url",
        app.db.url.as_str(),
        "export",
        kind,
        path.to_str().unwrap(),
    ])
    .unwrap();
    locadocs::cli::run(cli).await.unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// The data lines (after the header), without their CRLF.
fn data_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap();
    let (_, body) = text.split_once("\r\n").unwrap();
    body.split_terminator("\r\n").map(str::to_owned).collect()
}

/// Checks the export against the store: no change planned.
async fn plans_no_change(app: &TestApp, kind: Kind, bytes: &[u8]) {
    let territories = app.store.load_territories().await.unwrap();
    let existing = app.store.load_ref_data().await.unwrap();
    let prepared = locadocs::import::prepare(
        kind,
        bytes,
        &territories,
        &existing,
        false,
        crate::helpers::today(),
    )
    .unwrap_or_else(|r| panic!("{r}"));
    assert!(
        prepared.changes.is_empty(),
        "{kind}: {:?}",
        prepared.details
    );
    assert!(prepared.warnings.is_empty(), "{:?}", prepared.warnings);
}

admin_test!(exports_escape_formula_cells_and_import_them_back, |app| {
    seed(app).await;
    let editor = signed_in(app, Role::Editor, &[]).await;

    // Services: every formula-looking cell starts with `'`, the others
    // (including the header) are as they were.
    let services = export(app, &editor, "services").await;
    assert!(
        services.starts_with(b"\xEF\xBB\xBFid;name;kind;commune;address;"),
        "the header is not escaped"
    );
    let lines = data_lines(&services);
    assert_eq!(
        lines,
        vec![
            "formules;\"'=HYPERLINK(\"\"http://evil\"\",\"\"clic\"\")\";archives-municipales;35238;'@SUM(1+1);35000;'\tRennes;'+33 2 23 62 12 60;;https://archives.rennes.fr;;'-9h à 17h;\"'\r1 mois\";48.11;'-1.68;''=déjà protégé;;;;;",
            "ordinaire;Mairie de Rennes;mairie;;;;;;;;;;;;;;;;;;",
        ]
    );
    let holdings_csv = export(app, &editor, "holdings").await;
    assert_eq!(
        data_lines(&holdings_csv),
        vec![
            "permis-de-construire;commune:35238;;'-75y;formules;'=cmd|' /C calc'!A0;;",
            "permis-de-construire;commune:35238;'-75y;;'@mairie;;Mairie;",
        ]
    );
    let types_csv = export(app, &editor, "document-types").await;
    assert_eq!(
        data_lines(&types_csv),
        vec!["permis-de-construire;Permis de construire;'+urbanisme;'@pc|permis;;0;"]
    );

    // The command line writes the same bytes.
    let dir = crate::backoffice::outbox_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let (services_path, cli_services) = cli_export(app, &dir, "services").await;
    assert_eq!(cli_services, services);
    let (holdings_path, cli_holdings) = cli_export(app, &dir, "holdings").await;
    assert_eq!(cli_holdings, holdings_csv);
    let (_, cli_types) = cli_export(app, &dir, "document-types").await;
    assert_eq!(cli_types, types_csv);

    // Read back, the exports are the stored data exactly: nothing to change.
    plans_no_change(app, Kind::Services, &services).await;
    plans_no_change(app, Kind::Holdings, &holdings_csv).await;
    plans_no_change(app, Kind::DocumentTypes, &types_csv).await;
    for (table, bytes) in [
        ("services", &services),
        ("holdings", &holdings_csv),
        ("document-types", &types_csv),
    ] {
        let (status, html) =
            crate::backoffice::upload(app, "/admin/import", &editor, &[("table", table)], bytes)
                .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Rien à changer"), "{table}: {html}");
    }

    // The command-line import gives back the original texts: after the
    // stored service is changed, importing the export restores it.
    let mut changed = formulas_service();
    changed.name = "Autre nom".into();
    changed.phone = Some("02 23 62 12 60".into());
    changed.city = Some("Rennes".into());
    changed.response_time = None;
    changed.longitude = Some(1.0);
    let changes = Changes {
        upsert_services: vec![changed],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    let today = crate::helpers::today();
    let store = app.store.as_ref();
    locadocs::import::run(store, "services", &services_path, false, false, today)
        .await
        .unwrap();
    let data = store.load_ref_data().await.unwrap();
    let back = data.services.iter().find(|s| s.id.as_str() == "formules");
    assert_eq!(back, Some(&formulas_service()));
    assert_eq!(
        back.and_then(|s| s.phone.as_deref()),
        Some("+33 2 23 62 12 60")
    );

    // A second import changes nothing, holdings neither.
    let version = store.data_version().await.unwrap();
    locadocs::import::run(store, "services", &services_path, false, false, today)
        .await
        .unwrap();
    locadocs::import::run(store, "holdings", &holdings_path, false, false, today)
        .await
        .unwrap();
    assert_eq!(store.data_version().await.unwrap(), version);
    assert_eq!(store.load_ref_data().await.unwrap().holdings, holdings());
    let _ = std::fs::remove_dir_all(&dir);
});
