//! Embedding sites: the websites that show guides under a key of their own
//! (for statistics and, when they ask, to restrict which origins may frame
//! them). Registered here or with `locadocs site add`.

use axum::extract::{Path, Query, State};
use locadocs_core::{Origin, Site, Slug};
use serde::Deserialize;

use super::{Errors, SavedQuery, err_of, free_slug, saved};
use crate::web::AppState;
use crate::web::admin::error::{AdminError, Result};
use crate::web::admin::view::{self, Block, Button, Cell, Field, FormView, Notice, Page, Table};
use crate::web::admin::{SignedForm, SignedIn, see_other};

/// The form of a site, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    name: String,
    /// One origin per line (or separated by spaces or commas).
    #[serde(default)]
    origins: String,
    /// The checkbox « Seules ces adresses peuvent afficher le guide ».
    #[serde(default)]
    restrict_framing: Option<String>,
}

impl SiteForm {
    fn of(s: &Site) -> SiteForm {
        SiteForm {
            name: s.name.clone(),
            origins: s
                .origins
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            restrict_framing: s.restrict_framing.then(|| "1".to_owned()),
        }
    }

    /// The site with this key, or what is wrong, field by field.
    fn apply(&self, key: Slug) -> std::result::Result<Site, Errors> {
        let mut errors = vec![];
        let name = self.name.trim();
        if name.is_empty() {
            errors.push((
                "name".into(),
                "Indiquez le nom du site, par exemple « Ville de Rennes ».".into(),
            ));
        } else if name.chars().count() > 200 {
            errors.push(("name".into(), "Au plus 200 caractères.".into()));
        }
        let mut origins: Vec<Origin> = vec![];
        let mut bad = vec![];
        for raw in self
            .origins
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
        {
            match Origin::parse(raw) {
                Ok(o) if !origins.contains(&o) => origins.push(o),
                Ok(_) => {}
                Err(e) => bad.push(e.to_string()),
            }
        }
        if !bad.is_empty() {
            errors.push((
                "origins".into(),
                format!(
                    "{}. Une adresse s'écrit https://www.ville.fr, sans chemin.",
                    bad.join(" ; ")
                ),
            ));
        } else if origins.len() > 20 {
            errors.push(("origins".into(), "Au plus 20 adresses.".into()));
        }
        let restrict = self.restrict_framing.is_some();
        if restrict && origins.is_empty() && bad.is_empty() {
            errors.push((
                "origins".into(),
                "Indiquez au moins une adresse : sans elle, le guide ne pourrait s'afficher nulle part."
                    .into(),
            ));
        }
        if errors.is_empty() {
            Ok(Site {
                key,
                name: name.to_owned(),
                origins,
                restrict_framing: restrict,
            })
        } else {
            Err(errors)
        }
    }
}

fn origins_text(s: &Site) -> String {
    if s.origins.is_empty() {
        "—".into()
    } else {
        s.origins
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The line a site pastes into its pages.
fn embed_code(state: &AppState, key: &str) -> String {
    let base = state.admin.public_url.trim_end_matches('/');
    format!(
        "<script src=\"{base}/embed.js\" data-guide=\"immobilier\" data-site=\"{key}\" async></script>"
    )
}

/// `?supprime=1` after a deletion.
#[derive(Debug, Default, Deserialize)]
pub struct DeletedQuery {
    #[serde(default)]
    supprime: Option<String>,
}

pub async fn sites(
    State(state): State<AppState>,
    Query(q): Query<DeletedQuery>,
    me: SignedIn,
) -> Result {
    let list = state.live.store().sites().await?;
    let mut p = view::page(&me.access, "Sites qui intègrent les guides");
    p.notice = q.supprime.as_ref().map(|_| {
        Notice::success(
            "Site supprimé",
            "Ses pages affichent encore les guides, sans compte à part.",
        )
    });
    p.blocks.push(Block::P(
        "Un site enregistré affiche les guides sous sa clé : ses visites sont comptées à part dans les statistiques et, s'il le demande, seules ses adresses peuvent afficher les guides qu'il demande."
            .into(),
    ));
    p.blocks.push(Block::Links(vec![(
        "Enregistrer un site".into(),
        "/admin/sites/nouveau".into(),
    )]));
    if list.is_empty() {
        p.blocks.push(Block::P("Aucun site enregistré.".into()));
    } else {
        p.blocks.push(Block::Table(Table {
            caption: format!("Sites enregistrés ({})", list.len()),
            head: vec![
                "Site".into(),
                "Clé (data-site)".into(),
                "Adresses".into(),
                "Affichage".into(),
            ],
            rows: list
                .iter()
                .map(|s| {
                    vec![
                        Cell::link(&s.name, format!("/admin/sites/{}", s.key)),
                        Cell::text(s.key.as_str()),
                        Cell::text(origins_text(s)),
                        Cell::text(if s.restrict_framing {
                            "sur ces adresses seulement"
                        } else {
                            "partout"
                        }),
                    ]
                })
                .collect(),
        }));
    }
    Ok(view::render(&p))
}

fn site_form_page(
    me: &SignedIn,
    key: Option<&str>,
    f: &SiteForm,
    errors: Errors,
    notice: Option<Notice>,
) -> Page {
    let title = if key.is_some() {
        "Modifier le site"
    } else {
        "Enregistrer un site"
    };
    let mut p = view::page(&me.access, title);
    p.notice = notice;
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: match key {
            Some(k) => format!("/admin/sites/{k}"),
            None => "/admin/sites/nouveau".into(),
        },
        csrf: me.access.csrf.clone(),
        hidden: vec![],
        fields: vec![
            Field::text("name", "Nom du site", &f.name)
                .hint("Qui le publie, par exemple « Ville de Rennes ».")
                .error(e("name")),
            Field::textarea("origins", "Adresses du site", &f.origins)
                .hint("Une par ligne, sans chemin : https://www.ville.fr")
                .error(e("origins")),
            Field::checkboxes(
                "restrict_framing",
                "Affichage",
                vec![(
                    "1".into(),
                    "Seules ces adresses peuvent afficher les guides demandés avec cette clé"
                        .into(),
                    f.restrict_framing.is_some(),
                )],
            ),
        ],
        buttons: vec![Button::primary(if key.is_some() {
            "Enregistrer"
        } else {
            "Enregistrer le site"
        })],
    }));
    p.errors = errors;
    p
}

pub async fn site_new(me: SignedIn) -> Result {
    Ok(view::render(&site_form_page(
        &me,
        None,
        &SiteForm::default(),
        vec![],
        None,
    )))
}

pub async fn site_create(
    State(state): State<AppState>,
    SignedForm { me, form }: SignedForm<SiteForm>,
) -> Result {
    let store = state.live.store();
    let taken = store.sites().await?;
    let Some(key) = free_slug(&form.name, "site", |k| taken.iter().any(|s| &s.key == k)) else {
        let errors = vec![(
            "name".to_owned(),
            "Trop de sites portent déjà ce nom : précisez-le.".to_owned(),
        )];
        return Err(AdminError::invalid(site_form_page(
            &me, None, &form, errors, None,
        )));
    };
    let site = form
        .apply(key)
        .map_err(|errors| AdminError::invalid(site_form_page(&me, None, &form, errors, None)))?;
    store.save_site(&site).await?;
    let _ = state.live.refresh().await;
    Ok(saved(&format!("/admin/sites/{}", site.key)))
}

async fn stored_site(state: &AppState, key: &str) -> Result<Site> {
    let sites = state.live.store().sites().await?;
    sites
        .into_iter()
        .find(|s| s.key.as_str() == key)
        .ok_or(AdminError::NotFound)
}

pub async fn site_page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<SavedQuery>,
    me: SignedIn,
) -> Result {
    let site = stored_site(&state, &key).await?;
    let mut p = site_form_page(&me, Some(&key), &SiteForm::of(&site), vec![], q.notice());
    p.title = site.name.clone();
    p.blocks.insert(
        0,
        Block::Dl(vec![
            ("Clé (data-site)".into(), site.key.to_string()),
            (
                "Code à coller dans vos pages".into(),
                embed_code(&state, &key),
            ),
        ]),
    );
    p.blocks.push(Block::Links(vec![
        (
            "Supprimer ce site".into(),
            format!("/admin/sites/{key}/supprimer"),
        ),
        ("Tous les sites".into(), "/admin/sites".into()),
    ]));
    Ok(view::render(&p))
}

pub async fn site_save(
    State(state): State<AppState>,
    Path(key): Path<String>,
    SignedForm { me, form }: SignedForm<SiteForm>,
) -> Result {
    let current = stored_site(&state, &key).await?;
    let site = form.apply(current.key.clone()).map_err(|errors| {
        AdminError::invalid(site_form_page(&me, Some(&key), &form, errors, None))
    })?;
    state.live.store().save_site(&site).await?;
    let _ = state.live.refresh().await;
    Ok(saved(&format!("/admin/sites/{key}")))
}

/// Asks before deleting: what it removes, what it keeps.
pub async fn site_delete_page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    me: SignedIn,
) -> Result {
    let site = stored_site(&state, &key).await?;
    let mut p = view::page(
        &me.access,
        &format!("Supprimer le site « {} » ?", site.name),
    );
    p.blocks.push(Block::P(format!(
        "Les pages qui utilisent la clé « {} » afficheront encore les guides, mais leurs visites ne seront plus comptées à part{}. Les statistiques déjà comptées restent.",
        site.key,
        if site.restrict_framing {
            ", et la restriction aux adresses du site sera levée"
        } else {
            ""
        }
    )));
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/sites/{key}/supprimer"),
        csrf: me.access.csrf.clone(),
        hidden: vec![("confirm".into(), "1".into())],
        fields: vec![],
        buttons: vec![Button::primary("Supprimer le site")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Annuler".into(),
        format!("/admin/sites/{key}"),
    )]));
    Ok(view::render(&p))
}

/// The confirmation page's button sends `confirm=1`.
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: Option<String>,
}

pub async fn site_delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
    SignedForm { me, form }: SignedForm<ConfirmForm>,
) -> Result {
    let site = stored_site(&state, &key).await?;
    if form.confirm.as_deref() != Some("1") {
        let mut p = view::page(
            &me.access,
            &format!("Supprimer le site « {} » ?", site.name),
        );
        p.notice = Some(Notice::error(
            "Suppression non confirmée",
            "Rien n'a été supprimé : utilisez le bouton « Supprimer le site » de la page de confirmation.",
        ));
        return Err(AdminError::invalid(p));
    }
    if !state.live.store().delete_site(&key).await? {
        return Err(AdminError::NotFound);
    }
    let _ = state.live.refresh().await;
    Ok(see_other("/admin/sites?supprime=1"))
}
