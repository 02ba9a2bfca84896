//! Importing `.xlsx` and `.ods` files directly, as town halls keep them:
//! the same preview, line report and all-or-nothing rule as CSV. The files
//! are written here by hand in each format's minimal shape.

use std::io::Write;

use locadocs::store::{Changes, Role};
use locadocs_core::{DocumentType, Service, ServiceKind, Slug};

use crate::backoffice::{signed_in, upload};
use crate::helpers::TestApp;

/// A cell: text, or a number as a spreadsheet stores a typed year.
enum Cell<'a> {
    Text(&'a str),
    Number(f64),
}
use Cell::{Number, Text};

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn zip_of(files: &[(&str, String)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        for (name, content) in files {
            let opts = zip::write::SimpleFileOptions::default().compression_method(
                if *name == "mimetype" {
                    zip::CompressionMethod::Stored
                } else {
                    zip::CompressionMethod::Deflated
                },
            );
            z.start_file(*name, opts).unwrap();
            z.write_all(content.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

fn column(i: usize) -> char {
    (b'A' + i as u8) as char
}

/// An Office Open XML workbook (.xlsx) with one sheet.
fn xlsx(rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{}", column(c), r + 1);
            match cell {
                Text(t) => sheet.push_str(&format!(
                    r#"<c r="{at}" t="inlineStr"><is><t>{}</t></is></c>"#,
                    xml_escape(t)
                )),
                Number(n) => sheet.push_str(&format!(r#"<c r="{at}"><v>{n}</v></c>"#)),
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    zip_of(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
        ),
        (
            "_rels/.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
        ),
        (
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets><sheet name="Règles" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ])
}

/// An OpenDocument spreadsheet (.ods) with one sheet.
fn ods(rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let mut table = String::new();
    for row in rows {
        table.push_str("<table:table-row>");
        for cell in row {
            match cell {
                Text(t) => table.push_str(&format!(
                    r#"<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>"#,
                    xml_escape(t)
                )),
                Number(n) => table.push_str(&format!(
                    r#"<table:table-cell office:value-type="float" office:value="{n}"><text:p>{n}</text:p></table:table-cell>"#
                )),
            }
        }
        table.push_str("</table:table-row>");
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Feuille1">{table}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    zip_of(&[
        (
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet".to_owned(),
        ),
        (
            "META-INF/manifest.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#.to_owned(),
        ),
        ("content.xml", content),
    ])
}

fn header() -> Vec<Cell<'static>> {
    [
        "document_type",
        "territory",
        "from",
        "to",
        "service",
        "instructions",
    ]
    .into_iter()
    .map(Text)
    .collect()
}

async fn seed(app: &TestApp) {
    let changes = Changes {
        upsert_document_types: vec![DocumentType {
            slug: Slug::parse("permis-de-construire").unwrap(),
            label: "Permis de construire".into(),
            theme: None,
            aliases: vec![],
            description: None,
            communicability_years: 0,
            communicability_note: None,
        }],
        upsert_services: vec![Service::new(
            Slug::parse("svc-a").unwrap(),
            "Archives A",
            ServiceKind::ArchivesMunicipales,
        )],
        ..Changes::default()
    };
    app.store.apply(&changes, None).await.unwrap();
    app.refresh().await;
}

admin_test!(an_xlsx_file_is_previewed_and_imported_like_a_csv, |app| {
    seed(app).await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let file = xlsx(&[
        header(),
        vec![
            Text("permis-de-construire"),
            Text("commune:35238"),
            Number(1908.0),
            Text("2015-06-30"),
            Text("svc-a"),
            // A text that a spreadsheet would take for a formula reaches
            // the rule as typed.
            Text("=Écrivez aux archives ; précisez l'année"),
        ],
    ]);
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
        app.store.stored_holdings().await.unwrap().is_empty(),
        "a preview writes nothing"
    );
    let form = crate::import_screens::confirm_fields(&html, "/admin/import/confirmer");
    let resp = app
        .client
        .post(format!("{}/admin/import/confirmer", app.base))
        .header("cookie", &editor.cookie)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let held = app.store.stored_holdings().await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        held[0].rule.instructions.as_deref(),
        Some("=Écrivez aux archives ; précisez l'année")
    );
    let (_, body) = app
        .get_json("/api/v1/locate?document_type=permis-de-construire&commune=35238&year=1950")
        .await;
    assert_eq!(body["matches"][0]["service"]["id"], "svc-a", "{body}");
});

admin_test!(
    an_ods_file_with_a_bad_row_names_its_sheet_row_and_writes_nothing,
    |app| {
        seed(app).await;
        let editor = signed_in(app, Role::Editor, &[]).await;
        let good = || {
            vec![
                Text("permis-de-construire"),
                Text("commune:35238"),
                Number(1908.0),
                Text("2015-06-30"),
                Text("svc-a"),
                Text(""),
            ]
        };
        let file = ods(&[
            header(),
            good(),
            vec![
                Text("permis-de-construire"),
                Text("commune:35238"),
                Number(2016.0),
                Text(""),
                Text("service-inconnu"),
                Text(""),
            ],
        ]);
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
        assert!(html.contains("service-inconnu"), "{html}");
        // Row 3 of the sheet is line 3 of the report.
        assert!(
            html.contains("Ligne 3") || html.contains("ligne 3"),
            "the report names the sheet's row: {html}"
        );
        assert_eq!(app.store.data_version().await.unwrap(), version);
        assert!(app.store.stored_holdings().await.unwrap().is_empty());
    }
);

admin_test!(a_damaged_workbook_is_refused_with_a_message, |app| {
    seed(app).await;
    let editor = signed_in(app, Role::Editor, &[]).await;
    let mut file = xlsx(&[header()]);
    file.truncate(file.len() / 2);
    let (status, html) = upload(
        app,
        "/admin/import",
        &editor,
        &[("table", "holdings")],
        &file,
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("classeur illisible"), "{html}");
});
