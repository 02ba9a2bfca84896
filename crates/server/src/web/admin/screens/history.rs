//! The history of a record, and undoing one of its changes.

use std::collections::HashMap;

use axum::extract::{Path, State};

use super::author_shown;
use crate::store::{Entity, HistoryEntry, Role, UserFields};
use crate::web::AppState;
use crate::web::admin::error::{AdminError, Result};
use crate::web::admin::policy::Act;
use crate::web::admin::view::{self, Block, Button, Cell, FormView, Page, Table};
use crate::web::admin::{SignedForm, SignedIn, see_other};
use crate::web::i18n::local_time;
use crate::web::theme::Lang;

fn field_label(f: &str) -> String {
    let known: HashMap<&str, &str> = [
        ("name", "Nom"),
        ("kind", "Type"),
        ("commune", "Commune"),
        ("address", "Adresse"),
        ("postal_code", "Code postal"),
        ("city", "Ville"),
        ("phone", "Téléphone"),
        ("email", "Courriel"),
        ("website", "Site internet"),
        ("request_url", "Formulaire de demande"),
        ("search_url", "Recherche dans les inventaires"),
        ("francearchives_url", "Page FranceArchives"),
        ("francearchives_id", "Identifiant FranceArchives"),
        ("opening_hours", "Horaires"),
        ("response_time", "Délai de réponse"),
        ("verified_at", "Vérifié le"),
        ("document_type", "Type de document"),
        ("territory", "Territoire"),
        ("from", "Du"),
        ("to", "Au"),
        ("service", "Détenteur"),
        ("instructions", "Consignes"),
        ("source", "Source"),
        ("label", "Libellé"),
        ("aliases", "Autres noms"),
        ("communicability_years", "Délai (années)"),
        ("role", "Rôle"),
        ("active", "Actif"),
        ("services", "Services"),
        ("territories", "Territoires"),
        ("requests_only", "Demandes seulement"),
    ]
    .into_iter()
    .collect();
    known
        .get(f)
        .map(|s| (*s).to_owned())
        .unwrap_or_else(|| f.to_owned())
}

/// A recorded value as people read it: roles and states in French.
fn value_text(field: &str, v: &str) -> String {
    match (field, v) {
        ("active", "true") => "oui".into(),
        ("active", "false") => "non".into(),
        ("requests_only", "true") => "oui".into(),
        ("requests_only", "false") => "non".into(),
        ("role", r) => Role::parse(r)
            .map(|r| r.label().to_owned())
            .unwrap_or_else(|| r.to_owned()),
        _ => v.to_owned(),
    }
}

pub async fn history(
    State(state): State<AppState>,
    Path((entity, key)): Path<(String, String)>,
    me: SignedIn,
) -> Result {
    let entity = Entity::parse(&entity).ok_or(AdminError::NotFound)?;
    // The route's rule already asked; asking again keeps the handler safe
    // whatever route reaches it.
    me.ensure(Act::ViewHistory(entity))?;
    let entries = state.live.store().history_of(entity, &key).await?;
    // The record named as people know it.
    let snap = state.live.snapshot();
    let name = match entity {
        Entity::Service => snap.service(&key).map(|s| s.name.clone()),
        Entity::Holding => match key.parse::<i64>() {
            Ok(id) => Some(match state.live.store().stored_holding(id).await? {
                Some(h) => super::rule_title(&snap, &h),
                None => format!("Règle n° {id} (supprimée)"),
            }),
            Err(_) => None,
        },
        Entity::DocumentType => snap.document_type(&key).map(|d| d.label.clone()),
        Entity::User => match key.parse::<i64>() {
            Ok(id) => state
                .live
                .store()
                .user(id)
                .await?
                .map(|u| format!("compte {}", u.email)),
            Err(_) => None,
        },
    }
    .unwrap_or_else(|| format!("{} {key}", entity.as_str()));
    let mut p = view::page(&me.access, &format!("Historique : {name}"));
    if entries.is_empty() {
        p.blocks.push(Block::P(
            "Aucune modification enregistrée depuis l'administration.".into(),
        ));
    }
    let may_revert = me.may(Act::Revert(entity));
    let users = state.live.store().users().await?;
    // Newest first: only the latest change can be undone (the store refuses
    // to undo one that later changes built on).
    for (i, e) in entries.iter().enumerate() {
        let what = match (&e.before, &e.after) {
            (None, _) => "création",
            (_, None) => "suppression",
            _ => "modification",
        };
        p.blocks.push(Block::H2(format!(
            "{} – {what} par {}",
            local_time(&e.at, Lang::Fr),
            author_shown(&me.user, &e.user_email, &users)
        )));
        if let Some(r) = e.reverts {
            p.blocks
                .push(Block::P(format!("Annule la modification n° {r}.")));
        }
        p.blocks.push(Block::Table(Table {
            caption: format!("Champs modifiés (modification n° {})", e.id),
            head: vec!["Champ".into(), "Avant".into(), "Après".into()],
            rows: e
                .changed_fields()
                .into_iter()
                .map(|(f, b, a)| {
                    vec![
                        Cell::text(field_label(&f)),
                        Cell::text(value_text(&f, &b)),
                        Cell::text(value_text(&f, &a)),
                    ]
                })
                .collect(),
        }));
        // An account is never deleted: its creation cannot be undone.
        let undoable = !(entity == Entity::User && e.before.is_none());
        if let Some(by) = e.reverted_by {
            p.blocks
                .push(Block::P(format!("Annulée par la modification n° {by}.")));
        } else if may_revert && undoable && i == 0 {
            p.blocks.push(Block::Form(FormView {
                action: format!("/admin/historique/{}/annuler", e.id),
                csrf: me.access.csrf.clone(),
                hidden: vec![],
                fields: vec![],
                buttons: vec![Button::named(
                    "revert",
                    "1",
                    &format!("Annuler la modification n° {}", e.id),
                    true,
                )],
            }));
        }
    }
    Ok(view::render(&p))
}

/// Undoing a change: asked once, confirmed with `confirm=1`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct RevertForm {
    #[serde(default)]
    confirm: String,
}

/// What undoing a change will do, before it is done.
fn confirm_page(me: &SignedIn, e: &HistoryEntry) -> Page {
    let mut p = view::page(&me.access, &format!("Annuler la modification n° {}", e.id));
    let what = match (&e.before, &e.after) {
        (None, _) => "Cette fiche créée le {at} par {by} sera supprimée.",
        (_, None) => "Cette fiche supprimée le {at} par {by} sera rétablie.",
        _ => "Ces champs, modifiés le {at} par {by}, reprendront leur valeur d'avant :",
    };
    p.blocks.push(Block::P(
        what.replace("{at}", &local_time(&e.at, Lang::Fr))
            .replace("{by}", &e.user_email),
    ));
    p.blocks.push(Block::Table(Table {
        caption: format!("Ce que l'annulation de la modification n° {} change", e.id),
        head: vec![
            "Champ".into(),
            "Valeur actuelle".into(),
            "Valeur rétablie".into(),
        ],
        rows: e
            .changed_fields()
            .into_iter()
            .map(|(f, b, a)| {
                vec![
                    Cell::text(field_label(&f)),
                    Cell::text(value_text(&f, &a)),
                    Cell::text(value_text(&f, &b)),
                ]
            })
            .collect(),
    }));
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/historique/{}/annuler", e.id),
        csrf: me.access.csrf.clone(),
        hidden: vec![("confirm".into(), "1".into())],
        fields: vec![],
        buttons: vec![Button::primary("Confirmer l'annulation")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Ne rien annuler".into(),
        format!("/admin/historique/{}/{}", e.entity.as_str(), e.key),
    )]));
    p
}

pub async fn revert(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<RevertForm>,
) -> Result {
    let store = state.live.store();
    let entry = store.history_entry(id).await?.ok_or(AdminError::NotFound)?;
    me.ensure(Act::Revert(entry.entity))?;
    // An administrator undoing a change to their own account must stay an
    // active administrator: the last one would otherwise lock everyone out.
    if entry.entity == Entity::User && entry.key == me.user.id.to_string() {
        let restored: Option<UserFields> = entry
            .before
            .clone()
            .and_then(|v| serde_json::from_value(v).ok());
        if restored.is_none_or(|u| u.role != Role::Admin || !u.active) {
            return Err(AdminError::forbidden(
                "Vous ne pouvez pas retirer vos propres droits d'administrateur.",
            ));
        }
    }
    if entry.reverted_by.is_some() {
        return Err(AdminError::Refused {
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            title: "Annulation impossible",
            text: "Cette modification a déjà été annulée.".into(),
        });
    }
    if form.confirm != "1" {
        return Ok(view::render(&confirm_page(&me, &entry)));
    }
    let done = store.revert(&me.author(), id).await?;
    let _ = state.live.refresh().await;
    Ok(see_other(&format!(
        "/admin/historique/{}/{}",
        done.entity.as_str(),
        done.key
    )))
}
