//! Document types: the list and a type's form (editors).

use axum::extract::{Path, Query, State};
use locadocs_core::DocumentType;
use serde::Deserialize;

use super::{Errors, SavedQuery, check_len, clean, err_of, opt, saved};
use crate::store::{Entity, Record};
use crate::web::AppState;
use crate::web::admin::error::{AdminError, Result, write_notice};
use crate::web::admin::policy::Act;
use crate::web::admin::view::{self, Block, Button, Cell, Field, FormView, Notice, Page, Table};
use crate::web::admin::{SignedForm, SignedIn};

pub async fn types(
    State(state): State<AppState>,
    Query(q): Query<SavedQuery>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let mut p = view::page(&me.access, "Types de documents");
    p.notice = q.notice();
    p.blocks.push(Block::Table(Table {
        caption: "Types de documents".into(),
        head: vec![
            "Libellé".into(),
            "Identifiant".into(),
            "Délai (années)".into(),
        ],
        rows: snap
            .document_types()
            .iter()
            .map(|d| {
                vec![
                    Cell::link(&d.label, format!("/admin/types/{}", d.slug)),
                    Cell::text(d.slug.as_str()),
                    Cell::text(d.communicability_years.to_string()),
                ]
            })
            .collect(),
    }));
    Ok(view::render(&p))
}

#[derive(Debug, Default, Deserialize)]
pub struct TypeForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    aliases: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    communicability_years: String,
    #[serde(default)]
    communicability_note: String,
    #[serde(default)]
    revision: Option<i64>,
}

impl TypeForm {
    fn of(d: &DocumentType) -> TypeForm {
        TypeForm {
            label: d.label.clone(),
            theme: opt(&d.theme),
            aliases: d.aliases.join(", "),
            description: opt(&d.description),
            communicability_years: d.communicability_years.to_string(),
            communicability_note: opt(&d.communicability_note),
            revision: None,
        }
    }

    fn apply(&self, base: &DocumentType) -> std::result::Result<DocumentType, Errors> {
        let mut errors = vec![];
        let mut d = base.clone();
        if self.label.trim().is_empty() {
            errors.push(("label".into(), "Indiquez un libellé.".into()));
        }
        check_len(&mut errors, "label", &self.label, 200);
        check_len(&mut errors, "theme", &self.theme, 200);
        check_len(&mut errors, "aliases", &self.aliases, 1000);
        check_len(&mut errors, "description", &self.description, 5000);
        check_len(
            &mut errors,
            "communicability_note",
            &self.communicability_note,
            2000,
        );
        match self.communicability_years.trim().parse::<u32>() {
            Ok(y) if y <= 200 => d.communicability_years = y,
            _ => errors.push((
                "communicability_years".into(),
                "Indiquez un nombre d'années entre 0 et 200 (0 : librement communicable).".into(),
            )),
        }
        d.label = self.label.trim().to_owned();
        d.theme = clean(&self.theme);
        d.aliases = self.aliases.split([',', '|']).filter_map(clean).collect();
        d.description = clean(&self.description);
        d.communicability_note = clean(&self.communicability_note);
        if errors.is_empty() {
            Ok(d)
        } else {
            Err(errors)
        }
    }
}

/// The request form of a type as its editor shows it.
struct RequestFormText<'a> {
    text: &'a str,
    error: Option<String>,
}

fn type_page(
    me: &SignedIn,
    slug: &str,
    f: &TypeForm,
    rev: i64,
    errors: Errors,
    notice: Option<Notice>,
    request_form: RequestFormText<'_>,
) -> Page {
    let mut p = view::page(&me.access, "Modifier le type de document");
    p.notice = notice;
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/types/{slug}"),
        csrf: me.access.csrf.clone(),
        hidden: vec![("revision".into(), rev.to_string())],
        fields: vec![
            Field::text("label", "Libellé", &f.label).error(e("label")),
            Field::text("theme", "Thème", &f.theme).error(e("theme")),
            Field::text("aliases", "Autres noms", &f.aliases)
                .hint("séparés par des virgules, par exemple : PC, permis")
                .error(e("aliases")),
            Field::textarea("description", "Description", &f.description).error(e("description")),
            Field::text(
                "communicability_years",
                "Délai de communicabilité (années)",
                &f.communicability_years,
            )
            .error(e("communicability_years")),
            Field::textarea(
                "communicability_note",
                "Exceptions au délai",
                &f.communicability_note,
            )
            .error(e("communicability_note")),
        ],
        buttons: vec![Button::primary("Enregistrer")],
    }));
    p.blocks.push(Block::H2("Formulaire de demande".into()));
    p.blocks.push(Block::P(
        "Les champs qu'une demande pour ce type de document pose, en plus du nom, de l'adresse électronique, \
         du téléphone, de la commune, de l'année, du message et des pièces jointes."
            .into(),
    ));
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/types/{slug}/formulaire"),
        csrf: me.access.csrf.clone(),
        hidden: vec![],
        fields: vec![
            Field::textarea("champs", "Champs (format TOML)", request_form.text)
                .hint(
                    "Un bloc [[champ]] par champ, dans l'ordre : key (minuscules, chiffres et _), label, \
                     help, label_en, help_en, required (true ou false), kind (text, textarea ou date).",
                )
                .error(request_form.error),
        ],
        buttons: vec![Button::primary("Enregistrer le formulaire")],
    }));
    if me.may(Act::ViewHistory(Entity::DocumentType)) {
        p.blocks.push(Block::Links(vec![(
            "Historique des modifications".into(),
            format!("/admin/historique/type/{slug}"),
        )]));
    }
    p.errors = errors;
    p
}

pub async fn type_edit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let d = snap.document_type(&slug).ok_or(AdminError::NotFound)?;
    let rev = state
        .live
        .store()
        .revision(Entity::DocumentType, &slug)
        .await?
        .ok_or(AdminError::NotFound)?;
    let text = locadocs_core::request::fields_toml(snap.request_fields(&slug));
    Ok(view::render(&type_page(
        &me,
        &slug,
        &TypeForm::of(d),
        rev,
        vec![],
        None,
        RequestFormText {
            text: &text,
            error: None,
        },
    )))
}

pub async fn type_save(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SignedForm { me, form }: SignedForm<TypeForm>,
) -> Result {
    let snap = state.live.snapshot();
    let base = snap.document_type(&slug).ok_or(AdminError::NotFound)?;
    let rev = form.revision.unwrap_or_default();
    let text = locadocs_core::request::fields_toml(snap.request_fields(&slug));
    let current = || RequestFormText {
        text: &text,
        error: None,
    };
    let d = form.apply(base).map_err(|errors| {
        AdminError::invalid(type_page(&me, &slug, &form, rev, errors, None, current()))
    })?;
    let written = state
        .live
        .store()
        .save(
            &me.author(),
            Entity::DocumentType,
            Some(&slug),
            Some(rev),
            Some(Record::DocumentType(d)),
        )
        .await;
    match written {
        Ok(_) => {
            let _ = state.live.refresh().await;
            Ok(saved("/admin/types"))
        }
        Err(e) => match write_notice(&e) {
            Some((status, notice)) => Err(AdminError::Form(
                status,
                Box::new(type_page(
                    &me,
                    &slug,
                    &form,
                    rev,
                    vec![],
                    Some(notice),
                    current(),
                )),
            )),
            None => Err(e.into()),
        },
    }
}

#[derive(Debug, Deserialize)]
pub struct RequestFormPost {
    /// Absent only from a post that is not this form (an empty form is
    /// sent as an empty field, and clears the fields).
    champs: Option<String>,
}

/// Saves a type's request form, written as TOML; an error names its line.
pub async fn request_form_save(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SignedForm { me, form }: SignedForm<RequestFormPost>,
) -> Result {
    let snap = state.live.snapshot();
    let d = snap.document_type(&slug).ok_or(AdminError::NotFound)?;
    let champs = form.champs.ok_or_else(|| {
        AdminError::BadRequest("formulaire incomplet : le champ « champs » manque".into())
    })?;
    match locadocs_core::request::parse_fields_toml(&champs) {
        Ok(fields) => {
            state.live.store().set_request_form(&slug, &fields).await?;
            let _ = state.live.refresh().await;
            Ok(saved(&format!("/admin/types/{slug}")))
        }
        Err(e) => {
            let rev = state
                .live
                .store()
                .revision(Entity::DocumentType, &slug)
                .await?
                .ok_or(AdminError::NotFound)?;
            let message = e.message.clone();
            Err(AdminError::invalid(type_page(
                &me,
                &slug,
                &TypeForm::of(d),
                rev,
                vec![("champs".into(), message.clone())],
                None,
                RequestFormText {
                    text: &champs,
                    error: Some(message),
                },
            )))
        }
    }
}
