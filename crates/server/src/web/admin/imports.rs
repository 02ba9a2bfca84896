//! The *Import / export*, *Annuaire* and *FranceArchives* screens.
//!
//! An upload is checked first (a dry run that writes nothing and shows what
//! would be added, changed and removed, and every row error). The preview
//! page carries the file itself back in a hidden field, with the data
//! version it was checked against and a digest of the planned changes: the
//! confirmation re-plans the same file and applies it only if the data has
//! not changed since and the plan is the one shown. Every applied change is
//! recorded in the history, as edits on the screens are.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use locadocs_core::formats::{self, Kind, Rejected};
use sha2::{Digest, Sha256};

use super::error::{AdminError, Result};
use super::policy::Act;
use super::view::{self, Block, Button, Cell, Field, FormView, Notice, Page, Table, Upload};
use super::{Access, CsrfChecked, bad_request};
use crate::annuaire::{self, Outcome};
use crate::import::{Prepared, prepare};
use crate::store::WriteError;
use crate::web::AppState;

/// Largest file accepted on the screen (the request carries it twice at
/// confirmation time, encoded; larger files go through the command line).
const MAX_UPLOAD: usize = 640 * 1024;

fn page(access: &Access, title: &str) -> Page {
    let nav = access.user.as_ref().map(|u| view::Nav::of(u, &access.csrf));
    Page::new(title, nav)
}

/// A POSTed `multipart/form-data` form whose CSRF token was checked: its
/// text fields and its file, if any.
pub struct Uploaded {
    pub access: Access,
    pub fields: Vec<(String, String)>,
    pub file: Option<Vec<u8>>,
}

impl Uploaded {
    fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

impl FromRequest<AppState> for Uploaded {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> std::result::Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(CsrfChecked);
        // Permissions first: a forbidden request learns nothing more.
        let access = Access::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let too_big = || {
            bad_request(&format!(
                "Fichier trop gros pour l'écran ({} Ko au plus) : importez-le avec la ligne de commande `locadocs import`.",
                MAX_UPLOAD / 1024
            ))
        };
        let mut mp = Multipart::from_request(req, state).await.map_err(|_| {
            bad_request("Envoyez le fichier avec le formulaire de la page d'import.")
        })?;
        let mut fields = vec![];
        let mut file = None;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
                Err(_) => return Err(bad_request("Formulaire incomplet ou mal formé.")),
            };
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field.file_name().is_some();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad_request("Formulaire incomplet ou mal formé."))?;
            if is_file {
                if bytes.len() > MAX_UPLOAD {
                    return Err(too_big());
                }
                if !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            } else {
                fields.push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        access.check_csrf(sent)?;
        Ok(Uploaded {
            access,
            fields,
            file,
        })
    }
}

fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::DocumentTypes => "Types de documents",
        Kind::Services => "Services",
        Kind::Holdings => "Règles de détention",
    }
}

fn digest(lines: &[String]) -> String {
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

// ---------------------------------------------------------------- CSV import

fn upload_form(access: &Access, kind: &str, error: Option<String>) -> Block {
    Block::Upload(Box::new(Upload {
        action: "/admin/import".into(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        file: Some(
            Field::new(
                "fichier",
                "Fichier CSV ou classeur (.csv, .xlsx, .ods)",
                ".csv,text/csv,.xlsx,.ods,.xls,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.oasis.opendocument.spreadsheet",
                view::Kind::Text,
            )
                .hint(&format!(
                    "Un classeur .xlsx ou .ods (première feuille lue, la première ligne nomme les colonnes), ou un CSV : séparateur « ; » (Excel) ou « , », encodage UTF-8 ou Windows-1252. Colonnes décrites dans la documentation des formats ; {} Ko au plus.",
                    MAX_UPLOAD / 1024
                ))
                .error(error),
        ),
        fields: vec![
            Field::select(
                "table",
                "Table à importer",
                Kind::ALL
                    .iter()
                    .map(|k| (k.as_str().to_owned(), kind_label(*k).to_owned()))
                    .collect(),
                kind,
            ),
            Field::checkboxes(
                "replace",
                "Remplacement",
                vec![(
                    "1".into(),
                    "Supprimer les lignes absentes du fichier (remplacement complet de la table)".into(),
                    false,
                )],
            ),
        ],
        button: Button::primary("Vérifier le fichier (rien n'est enregistré)"),
    }))
}

fn import_page(access: &Access, kind: &str, error: Option<String>) -> Page {
    let mut p = page(access, "Import / export");
    p.blocks.push(Block::H2("Importer un fichier".into()));
    if !access.may(Act::ImportOwn) {
        p.blocks.push(Block::P(
            "L'import de fichiers est réservé aux éditeurs, et aux contributeurs pour les données de leurs services : demandez à un administrateur de vous confier un service, ou envoyez votre fichier à un éditeur.".into(),
        ));
    } else if !access.may(Act::Import) {
        p.blocks.push(Block::P(
            "Votre fichier peut modifier les informations de vos services et les règles qu'ils détiennent dans votre périmètre, et en ajouter. S'il touche autre chose, il est refusé en entier, avec la liste des lignes en cause.".into(),
        ));
    }
    p.blocks.push(Block::P(
        "Le fichier est d'abord vérifié : vous voyez ce qui serait ajouté, modifié et supprimé, et chaque erreur de ligne. Rien n'est enregistré avant votre confirmation.".into(),
    ));
    if let Some(e) = &error {
        p.errors = vec![("fichier".into(), e.clone())];
    }
    if access.may(Act::ImportOwn) {
        p.blocks.push(upload_form(access, kind, error));
    }
    p.blocks.push(Block::H2("Exporter".into()));
    p.blocks.push(Block::P(
        "Fichiers CSV en UTF-8 avec BOM, séparateur « ; » : ils s'ouvrent tels quels dans Excel, LibreOffice et Grist.".into(),
    ));
    p.blocks.push(Block::Links(
        Kind::ALL
            .iter()
            .map(|k| {
                (
                    format!("Exporter : {} (CSV)", kind_label(*k)),
                    format!("/admin/export/{}", k.as_str()),
                )
            })
            .collect(),
    ));
    if access.may(Act::Import) {
        p.blocks.push(Block::Links(vec![
            (
                "Importer des services depuis l'Annuaire de l'administration".into(),
                "/admin/annuaire".into(),
            ),
            (
                "Importer des services d'archives depuis l'annuaire FranceArchives".into(),
                "/admin/francearchives".into(),
            ),
        ]));
    }
    p
}

pub async fn import_form(access: Access) -> Response {
    view::render(&import_page(&access, "holdings", None))
}

fn rejected_blocks(r: &Rejected) -> Vec<Block> {
    let mut out = vec![Block::Table(Table {
        caption: format!("Erreurs ({})", r.errors.len()),
        head: vec!["Erreur".into()],
        rows: r
            .errors
            .iter()
            .map(|e| vec![Cell::text(e.to_string())])
            .collect(),
    })];
    if !r.warnings.is_empty() {
        out.push(Block::Table(Table {
            caption: format!("Avertissements ({})", r.warnings.len()),
            head: vec!["Avertissement".into()],
            rows: r
                .warnings
                .iter()
                .map(|e| vec![Cell::text(e.to_string())])
                .collect(),
        }));
    }
    out
}

fn change_tables(p: &Prepared) -> Vec<Block> {
    let mut out = vec![];
    for (prefix, caption) in [
        ("+ ", "À ajouter"),
        ("~ ", "À modifier"),
        ("- ", "À supprimer"),
    ] {
        let rows: Vec<Vec<Cell>> = p
            .details
            .iter()
            .filter_map(|d| d.strip_prefix(prefix))
            .map(|d| vec![Cell::text(d)])
            .collect();
        if rows.is_empty() {
            out.push(Block::P(format!("{caption} : rien.")));
        } else {
            out.push(Block::Table(Table {
                caption: format!("{caption} ({})", rows.len()),
                head: vec!["Ligne".into()],
                rows,
            }));
        }
    }
    if !p.warnings.is_empty() {
        out.push(Block::Table(Table {
            caption: format!("Avertissements ({})", p.warnings.len()),
            head: vec!["Avertissement".into()],
            rows: p
                .warnings
                .iter()
                .map(|e| vec![Cell::text(e.to_string())])
                .collect(),
        }));
    }
    out
}

/// Checks a file against the current data: the version it was checked
/// against and the plan (or the errors).
async fn check(
    state: &AppState,
    access: &Access,
    kind: Kind,
    bytes: &[u8],
    replace: bool,
) -> Result<(i64, std::result::Result<Prepared, Rejected>)> {
    let store = state.live.store();
    // The version is read first: if anything is written while the data is
    // read, the confirmation will see a newer version and refuse.
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    let existing = store.load_ref_data().await?;
    let today = state.clock.today();
    let mut result = prepare(kind, bytes, &territories, &existing, replace, today);
    // A contributor's file may only touch what they may write by hand.
    if let (Ok(prepared), Some(user)) = (&result, &access.user)
        && !access.may(Act::Import)
    {
        let refusals = outside_scope(user, &territories, &existing, kind, replace, prepared);
        if !refusals.is_empty() {
            result = Err(Rejected {
                errors: refusals.into_iter().map(formats::Issue::file).collect(),
                warnings: prepared.warnings.clone(),
            });
        }
    }
    Ok((version, result))
}

/// What a contributor's file would change that they may not change by
/// hand, one sentence per row; empty when all of it is theirs.
fn outside_scope(
    user: &crate::store::User,
    territories: &locadocs_core::Territories,
    existing: &locadocs_core::RefData,
    kind: Kind,
    replace: bool,
    prepared: &Prepared,
) -> Vec<String> {
    use super::policy::allows;
    let editors = "réservé aux éditeurs";
    let mut out = vec![];
    if replace {
        out.push(format!(
            "Le remplacement complet d'une table est {editors} : il supprimerait les lignes des autres services. Envoyez le fichier sans cocher « Remplacement »."
        ));
    }
    let c = &prepared.changes;
    if kind == Kind::DocumentTypes || !c.upsert_document_types.is_empty() {
        out.push(format!(
            "Les types de documents sont tenus par les éditeurs : leur import est {editors}."
        ));
    }
    for s in &c.upsert_services {
        match existing.services.iter().find(|e| e.id == s.id) {
            None => out.push(format!(
                "Service « {} » : créer un service est {editors}.",
                s.id
            )),
            Some(_) if !allows(user, Act::EditService(s.id.as_str())) => out.push(format!(
                "Service « {} » : ce service ne vous est pas confié.",
                s.id
            )),
            Some(e) if e.kind != s.kind || e.commune != s.commune => out.push(format!(
                "Service « {} » : son type et sa commune sont tenus par les éditeurs (ils désignent la mairie de chaque commune).",
                s.id
            )),
            Some(_) => {}
        }
    }
    for id in &c.delete_services {
        out.push(format!(
            "Service « {id} » : supprimer un service est {editors}."
        ));
    }
    let old_rule =
        |key: &crate::store::HoldingKey| existing.holdings.iter().find(|h| &h.key() == key);
    let why_not = |h: &locadocs_core::HoldingRule| {
        if allows(user, Act::WriteRule(h, territories)) {
            None
        } else {
            Some(format!(
                "Règle {} : elle ne relève pas de vos services ou de votre périmètre.",
                crate::import::holding_name(h)
            ))
        }
    };
    for h in &c.upsert_holdings {
        out.extend(why_not(h));
        if let Some(old) = old_rule(&h.key())
            && old != h
        {
            out.extend(why_not(old));
        }
    }
    for key in &c.delete_holdings {
        if let Some(old) = old_rule(key) {
            out.extend(why_not(old));
        }
    }
    out.dedup();
    out
}

pub async fn import_upload(State(state): State<AppState>, up: Uploaded) -> Result {
    let access = &up.access;
    let kind_text = up.field("table").to_owned();
    let Some(kind) = Kind::parse(&kind_text) else {
        return Err(AdminError::invalid(import_page(
            access,
            "holdings",
            Some("Choisissez la table à importer.".into()),
        )));
    };
    let Some(bytes) = &up.file else {
        return Err(AdminError::invalid(import_page(
            access,
            kind.as_str(),
            Some("Choisissez un fichier CSV, .xlsx ou .ods.".into()),
        )));
    };
    let replace = up.field("replace") == "1";
    let (version, result) = check(&state, access, kind, bytes, replace).await?;
    let mut p = page(access, "Vérification de l'import");
    p.blocks.push(Block::Dl(vec![
        ("Table".into(), kind_label(kind).into()),
        (
            "Mode".into(),
            if replace {
                "remplacement complet (les lignes absentes du fichier sont supprimées)".into()
            } else {
                "ajout et mise à jour".into()
            },
        ),
    ]));
    match result {
        Err(rejected) => {
            p.notice = Some(Notice::error(
                "Fichier refusé : rien ne sera enregistré",
                &format!(
                    "{} erreur(s) à corriger dans le fichier, puis envoyez-le à nouveau.",
                    rejected.errors.len()
                ),
            ));
            p.blocks.extend(rejected_blocks(&rejected));
            p.blocks.push(upload_form(access, kind.as_str(), None));
            Err(AdminError::invalid(p))
        }
        Ok(prepared) => {
            p.blocks.extend(change_tables(&prepared));
            if prepared.changes.is_empty() {
                p.notice = Some(Notice::info(
                    "Rien à changer",
                    "Le fichier correspond déjà aux données enregistrées.",
                ));
                p.blocks.push(Block::Links(vec![(
                    "Retour à l'import".into(),
                    "/admin/import".into(),
                )]));
            } else {
                p.notice = Some(Notice::info(
                    "Vérification terminée : rien n'est encore enregistré",
                    &prepared.summary.join(" ; "),
                ));
                p.blocks.push(Block::Form(FormView {
                    action: "/admin/import/confirmer".into(),
                    csrf: access.csrf.clone(),
                    hidden: vec![
                        ("table".into(), kind.as_str().into()),
                        ("replace".into(), if replace { "1" } else { "" }.into()),
                        ("version".into(), version.to_string()),
                        ("digest".into(), digest(&prepared.details)),
                        ("data".into(), b64().encode(bytes)),
                    ],
                    fields: vec![],
                    buttons: vec![Button::primary("Confirmer et enregistrer ces changements")],
                }));
                p.blocks.push(Block::Links(vec![(
                    "Annuler (ne rien enregistrer)".into(),
                    "/admin/import".into(),
                )]));
            }
            Ok(view::render(&p))
        }
    }
}

/// The confirmation form of a preview.
#[derive(Debug, serde::Deserialize)]
pub struct ConfirmForm {
    table: String,
    #[serde(default)]
    replace: String,
    version: i64,
    digest: String,
    data: String,
}

impl ConfirmForm {
    /// The file the preview carried, as checked then.
    fn file(&self) -> std::result::Result<Vec<u8>, AdminError> {
        b64()
            .decode(self.data.as_bytes())
            .map_err(|_| AdminError::BadRequest("Formulaire incomplet ou mal formé.".into()))
    }
}

fn conflict_page(access: &Access, back: &str) -> AdminError {
    let mut p = page(access, "Données modifiées entre-temps");
    p.notice = Some(Notice::error(
        "Conflit : rien n'a été enregistré",
        "Les données ont été modifiées (par quelqu'un d'autre ou par un autre import) depuis la vérification de ce fichier. Renvoyez le fichier pour voir ce qu'il changerait maintenant.",
    ));
    p.blocks.push(Block::Links(vec![(
        "Recommencer l'import".into(),
        back.into(),
    )]));
    AdminError::Form(StatusCode::CONFLICT, Box::new(p))
}

pub async fn import_confirm(
    State(state): State<AppState>,
    super::SignedForm { me, form }: super::SignedForm<ConfirmForm>,
) -> Result {
    let author = me.author();
    let access = me.access;
    let Some(kind) = Kind::parse(&form.table) else {
        return Err(AdminError::BadRequest("Table inconnue.".into()));
    };
    let bytes = form.file()?;
    let replace = form.replace == "1";
    let checked = check(&state, &access, kind, &bytes, replace).await?;
    write_confirmed(
        &state,
        &access,
        &author,
        &form,
        checked,
        Confirmed {
            back: "/admin/import",
            title: "Import enregistré",
            history: "Chaque changement figure dans l'historique de sa fiche.",
            back_label: "Retour à l'import",
        },
    )
    .await
}

/// Where a confirmed import page leads and what it says.
struct Confirmed {
    /// The import's own screen.
    back: &'static str,
    title: &'static str,
    /// Where the changes can be found again.
    history: &'static str,
    back_label: &'static str,
}

/// Writes a file's changes once the person confirmed the preview they saw:
/// refused (conflict page) when the data or the file's outcome changed
/// since, written all at once otherwise.
async fn write_confirmed(
    state: &AppState,
    access: &Access,
    author: &crate::store::Author,
    form: &ConfirmForm,
    (version, result): (i64, std::result::Result<Prepared, Rejected>),
    c: Confirmed,
) -> Result {
    if version != form.version {
        return Err(conflict_page(access, c.back));
    }
    let prepared = match result {
        Ok(p) if digest(&p.details) == form.digest => p,
        Ok(_) => return Err(conflict_page(access, c.back)),
        Err(_) => {
            return Err(AdminError::BadRequest(
                "Ce fichier est refusé : vérifiez-le d'abord.".into(),
            ));
        }
    };
    match state
        .live
        .store()
        .apply_recorded(author, &prepared.changes, form.version)
        .await
    {
        Ok(_) => {
            let _ = state.live.refresh().await;
            let mut p = page(access, c.title);
            p.notice = Some(Notice::success(
                "Import enregistré",
                &format!("{} {}", prepared.summary.join(" ; "), c.history),
            ));
            p.blocks.extend(change_tables(&prepared));
            p.blocks
                .push(Block::Links(vec![(c.back_label.into(), c.back.into())]));
            Ok(view::render(&p))
        }
        Err(WriteError::Conflict) => Err(conflict_page(access, c.back)),
        Err(e) => Err(e.into()),
    }
}

pub async fn export(
    State(state): State<AppState>,
    Path(table): Path<String>,
    _access: Access,
) -> Result {
    let kind = Kind::parse(&table).ok_or(AdminError::NotFound)?;
    let data = state.live.store().load_ref_data().await?;
    let body = match kind {
        Kind::DocumentTypes => formats::write_document_types(&data.document_types),
        Kind::Services => formats::write_services(&data.services),
        Kind::Holdings => formats::write_holdings(&data.holdings),
    };
    let name = format!("locadocs-{}-{}.csv", kind.as_str(), state.clock.today());
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

// ---------------------------------------------------------------- Annuaire

fn annuaire_form(access: &Access, error: Option<String>) -> Block {
    Block::Upload(Box::new(Upload {
        action: "/admin/annuaire".into(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        file: Some(
            Field::new("fichier", "Fichier JSON de l'Annuaire", ".json,application/json", view::Kind::Text)
                .hint(&format!(
                    "Enregistrements au format de l'Annuaire de l'administration (id, nom, pivot, code_insee_commune, adresse, telephone, adresse_courriel, site_internet, plage_ouverture) ; {} Ko au plus.",
                    MAX_UPLOAD / 1024
                ))
                .error(error),
        ),
        fields: vec![],
        button: Button::primary("Vérifier le fichier (rien n'est enregistré)"),
    }))
}

fn annuaire_page(access: &Access, error: Option<String>) -> Page {
    let mut p = page(access, "Annuaire de l'administration");
    p.blocks.push(Block::P(
        "Les services sont reconnus par leur identifiant dans l'Annuaire : un nouvel import met à jour les services déjà importés au lieu de les dupliquer. Le type de service, l'adresse de demande et le délai de réponse saisis ici sont conservés.".into(),
    ));
    if let Some(e) = &error {
        p.errors = vec![("fichier".into(), e.clone())];
    }
    p.blocks.push(annuaire_form(access, error));
    p
}

pub async fn annuaire_form_page(access: Access) -> Response {
    view::render(&annuaire_page(&access, None))
}

async fn annuaire_check(
    state: &AppState,
    bytes: &[u8],
) -> Result<(i64, std::result::Result<annuaire::Report, String>)> {
    let store = state.live.store();
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    let existing = store.load_ref_data().await?;
    Ok((version, annuaire::prepare(bytes, &territories, &existing)))
}

fn report_table(r: &annuaire::Report) -> Block {
    Block::Table(Table {
        caption: format!("Compte rendu : {}", r.summary()),
        head: vec![
            "Enregistrement".into(),
            "Nom".into(),
            "Service".into(),
            "Résultat".into(),
        ],
        rows: r
            .lines
            .iter()
            .map(|l| {
                let outcome = match &l.outcome {
                    Outcome::Added => "ajouté".to_owned(),
                    Outcome::Updated(f) => format!("mis à jour : {}", f.join(", ")),
                    Outcome::Unchanged => "inchangé".to_owned(),
                    Outcome::Rejected(why) => format!("rejeté : {why}"),
                };
                vec![
                    Cell::text(format!("{} ({})", l.index, l.annuaire_id)),
                    Cell::text(&l.name),
                    match &l.service {
                        Some(s) if !matches!(l.outcome, Outcome::Added) => {
                            Cell::link(s, format!("/admin/services/{s}"))
                        }
                        Some(s) => Cell::text(s),
                        None => Cell::text("—"),
                    },
                    Cell::text(outcome),
                ]
            })
            .collect(),
    })
}

pub async fn annuaire_upload(State(state): State<AppState>, up: Uploaded) -> Result {
    let access = &up.access;
    let Some(bytes) = &up.file else {
        return Err(AdminError::invalid(annuaire_page(
            access,
            Some("Choisissez un fichier JSON.".into()),
        )));
    };
    let (version, result) = annuaire_check(&state, bytes).await?;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            return Err(AdminError::invalid(annuaire_page(
                access,
                Some(format!("Fichier refusé : {e}")),
            )));
        }
    };
    let mut p = page(access, "Vérification de l'import Annuaire");
    p.blocks.push(report_table(&report));
    if report.changes.is_empty() {
        p.notice = Some(Notice::info("Rien à changer", &report.summary()));
        p.blocks.push(Block::Links(vec![(
            "Retour".into(),
            "/admin/annuaire".into(),
        )]));
    } else {
        p.notice = Some(Notice::info(
            "Vérification terminée : rien n'est encore enregistré",
            &format!(
                "{}. Les enregistrements rejetés ne seront pas importés.",
                report.summary()
            ),
        ));
        let lines: Vec<String> = report
            .lines
            .iter()
            .map(annuaire::Report::line_text)
            .collect();
        p.blocks.push(Block::Form(FormView {
            action: "/admin/annuaire/confirmer".into(),
            csrf: access.csrf.clone(),
            hidden: vec![
                ("table".into(), "annuaire".into()),
                ("version".into(), version.to_string()),
                ("digest".into(), digest(&lines)),
                ("data".into(), b64().encode(bytes)),
            ],
            fields: vec![],
            buttons: vec![Button::primary("Confirmer et enregistrer ces services")],
        }));
        p.blocks.push(Block::Links(vec![(
            "Annuler (ne rien enregistrer)".into(),
            "/admin/annuaire".into(),
        )]));
    }
    Ok(view::render(&p))
}

pub async fn annuaire_confirm(
    State(state): State<AppState>,
    super::SignedForm { me, form }: super::SignedForm<ConfirmForm>,
) -> Result {
    let author = me.author();
    let access = me.access;
    let bytes = form.file()?;
    let (version, result) = annuaire_check(&state, &bytes).await?;
    if version != form.version {
        return Err(conflict_page(&access, "/admin/annuaire"));
    }
    let report = match result {
        Ok(r) => r,
        Err(_) => {
            return Err(AdminError::BadRequest(
                "Ce fichier est refusé : vérifiez-le d'abord.".into(),
            ));
        }
    };
    let lines: Vec<String> = report
        .lines
        .iter()
        .map(annuaire::Report::line_text)
        .collect();
    if digest(&lines) != form.digest {
        return Err(conflict_page(&access, "/admin/annuaire"));
    }
    match state
        .live
        .store()
        .apply_recorded(&author, &report.changes, form.version)
        .await
    {
        Ok(_) => {
            let _ = state.live.refresh().await;
            let mut p = page(&access, "Import Annuaire enregistré");
            p.notice = Some(Notice::success(
                "Import enregistré",
                &format!(
                    "{}. Chaque changement figure dans l'historique du service.",
                    report.summary()
                ),
            ));
            p.blocks.push(report_table(&report));
            p.blocks.push(Block::Links(vec![(
                "Retour".into(),
                "/admin/annuaire".into(),
            )]));
            Ok(view::render(&p))
        }
        Err(WriteError::Conflict) => Err(conflict_page(&access, "/admin/annuaire")),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- FranceArchives

fn francearchives_form(access: &Access, error: Option<String>) -> Block {
    Block::Upload(Box::new(Upload {
        action: "/admin/francearchives".into(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        file: Some(
            Field::new(
                "fichier",
                "Export CSV de l'annuaire FranceArchives",
                ".csv,text/csv",
                view::Kind::Text,
            )
            .hint(&format!(
                "Export de l'« Annuaire des services d'archives publiques » (id_francearchives, Nom_du_service, Courriel, Code_insee_commune, Lien_FranceArchives, Categorie_de_service…), séparateur « ; » ou « , » ; {} Ko au plus.",
                MAX_UPLOAD / 1024
            ))
            .error(error),
        ),
        fields: vec![],
        button: Button::primary("Vérifier le fichier (rien n'est enregistré)"),
    }))
}

fn francearchives_page(access: &Access, error: Option<String>) -> Page {
    let mut p = page(access, "Annuaire FranceArchives");
    p.blocks.push(Block::P(
        "Les services sont reconnus par leur identifiant FranceArchives : un nouvel import met à jour les services déjà importés. Des archives départementales (catégorie D) deviennent le service compétent pour leur département, des archives municipales ou intercommunales (C) pour leur commune ou leur intercommunalité. Une ligne en erreur refuse tout le fichier.".into(),
    ));
    if let Some(e) = &error {
        p.errors = vec![("fichier".into(), e.clone())];
    }
    p.blocks.push(francearchives_form(access, error));
    p
}

pub async fn francearchives_form_page(access: Access) -> Response {
    view::render(&francearchives_page(&access, None))
}

async fn francearchives_check(
    state: &AppState,
    bytes: &[u8],
) -> Result<(i64, std::result::Result<Prepared, Rejected>)> {
    let store = state.live.store();
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    let existing = store.load_ref_data().await?;
    Ok((
        version,
        crate::francearchives::prepare(bytes, &territories, &existing),
    ))
}

pub async fn francearchives_upload(State(state): State<AppState>, up: Uploaded) -> Result {
    let access = &up.access;
    let Some(bytes) = &up.file else {
        return Err(AdminError::invalid(francearchives_page(
            access,
            Some("Choisissez un fichier CSV.".into()),
        )));
    };
    let (version, result) = francearchives_check(&state, bytes).await?;
    let mut p = page(access, "Vérification de l'import FranceArchives");
    match result {
        Err(rejected) => {
            p.notice = Some(Notice::error(
                "Fichier refusé : rien ne sera enregistré",
                &format!(
                    "{} erreur(s) à corriger dans le fichier, puis envoyez-le à nouveau.",
                    rejected.errors.len()
                ),
            ));
            p.blocks.extend(rejected_blocks(&rejected));
            p.blocks.push(francearchives_form(access, None));
            Err(AdminError::invalid(p))
        }
        Ok(prepared) => {
            p.blocks.extend(change_tables(&prepared));
            if prepared.changes.is_empty() {
                p.notice = Some(Notice::info(
                    "Rien à changer",
                    &prepared.summary.join(" ; "),
                ));
                p.blocks.push(Block::Links(vec![(
                    "Retour".into(),
                    "/admin/francearchives".into(),
                )]));
            } else {
                p.notice = Some(Notice::info(
                    "Vérification terminée : rien n'est encore enregistré",
                    &prepared.summary.join(" ; "),
                ));
                p.blocks.push(Block::Form(FormView {
                    action: "/admin/francearchives/confirmer".into(),
                    csrf: access.csrf.clone(),
                    hidden: vec![
                        ("table".into(), "francearchives".into()),
                        ("version".into(), version.to_string()),
                        ("digest".into(), digest(&prepared.details)),
                        ("data".into(), b64().encode(bytes)),
                    ],
                    fields: vec![],
                    buttons: vec![Button::primary("Confirmer et enregistrer ces services")],
                }));
                p.blocks.push(Block::Links(vec![(
                    "Annuler (ne rien enregistrer)".into(),
                    "/admin/francearchives".into(),
                )]));
            }
            Ok(view::render(&p))
        }
    }
}

pub async fn francearchives_confirm(
    State(state): State<AppState>,
    super::SignedForm { me, form }: super::SignedForm<ConfirmForm>,
) -> Result {
    let author = me.author();
    let access = me.access;
    let bytes = form.file()?;
    let checked = francearchives_check(&state, &bytes).await?;
    write_confirmed(
        &state,
        &access,
        &author,
        &form,
        checked,
        Confirmed {
            back: "/admin/francearchives",
            title: "Import FranceArchives enregistré",
            history: "Chaque changement figure dans l'historique du service.",
            back_label: "Retour",
        },
    )
    .await
}
