//! The route table of the back office: every route with the permission it
//! needs. The router is built from it (axum cannot list its routes), and the
//! authorization test walks it for every role.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::routing::{MethodRouter, get, post};

use super::error::AdminError;
use super::policy::{self, Act};
use super::{Access, RouteRule, auth, imports, screens};
use crate::store::{Entity, User};
use crate::web::AppState;

/// What a route requires, as a question to the policy ([`policy::Act`])
/// about the record its path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// Anyone, signed in or not (login, one-time links).
    Anyone,
    /// Any signed-in account: read-only screens, exports, logout
    /// ([`Act::Read`]).
    Signed,
    /// Editing the service `{id}` ([`Act::EditService`]).
    Service,
    /// Changing the holding rule `{id}` as it is now ([`Act::WriteRule`]);
    /// the handler asks again about the rule as it will be.
    Rule,
    /// Creating a holding rule: any signed-in account may open the form; the
    /// handler asks [`Act::WriteRule`] about the rule sent.
    RuleCreate,
    /// Creating a service ([`Act::SetServiceIdentity`]).
    ServiceCreate,
    /// [`Act::EditDocumentTypes`].
    DocumentTypes,
    /// The embedding sites ([`Act::ManageSites`]).
    Sites,
    /// [`Act::Import`].
    Import,
    /// Importing a file: editors anything, contributors their own rows
    /// ([`Act::ImportOwn`]); the handler checks every row.
    ImportOwn,
    /// [`Act::ManageAccounts`].
    Accounts,
    /// The history of the record `{entity}/{key}` ([`Act::ViewHistory`]).
    History,
    /// Undoing the recorded change `{id}`, by the kind of record it changed
    /// ([`Act::Revert`]).
    Revert,
    /// The requests inbox ([`Act::OpenInbox`]); a handler that is sent a
    /// service asks [`Act::HandleRequests`] about it.
    Inbox,
    /// Setting the impact estimate of the public statistics
    /// ([`Act::SetImpact`]).
    Impact,
    /// Reading or working the request `{id}`, by the service that holds it
    /// ([`Act::HandleRequests`]); 404 for an unknown request.
    Request,
    /// The statistics screens ([`Act::ReadStatistics`]); what they show
    /// depends on the account ([`policy::statistics_services`]).
    Statistics,
    /// One statistics table `{table}` (`name.csv`) of a guide
    /// ([`Act::ReadStatisticsTable`]).
    StatisticsTable,
    /// Triage of a guide's suggestions ([`Act::TriageSuggestions`]).
    Suggestions,
}

/// HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum M {
    Get,
    Post,
}

/// One back-office route.
pub struct AdminRoute {
    pub method: M,
    pub path: &'static str,
    pub perm: Perm,
    pub handler: MethodRouter<AppState>,
}

fn r(method: M, path: &'static str, perm: Perm, handler: MethodRouter<AppState>) -> AdminRoute {
    AdminRoute {
        method,
        path,
        perm,
        handler,
    }
}

/// Every back-office route.
pub fn routes() -> Vec<AdminRoute> {
    use M::{Get, Post};
    use Perm::*;
    use screens as s;
    vec![
        r(Get, "/admin/login", Anyone, get(auth::login_page)),
        r(Post, "/admin/login", Anyone, post(auth::login_post)),
        r(Post, "/admin/logout", Signed, post(auth::logout)),
        r(
            Get,
            "/admin/invitation/{token}",
            Anyone,
            get(auth::link_page),
        ),
        r(
            Post,
            "/admin/invitation/{token}",
            Anyone,
            post(auth::link_post),
        ),
        r(Get, "/admin/mot-de-passe", Anyone, get(auth::forgot_page)),
        r(Post, "/admin/mot-de-passe", Anyone, post(auth::forgot_post)),
        r(
            Get,
            "/admin/reinitialisation/{token}",
            Anyone,
            get(auth::link_page),
        ),
        r(
            Post,
            "/admin/reinitialisation/{token}",
            Anyone,
            post(auth::link_post),
        ),
        r(Get, "/admin", Signed, get(s::home)),
        r(Get, "/admin/services", Signed, get(s::services)),
        r(
            Get,
            "/admin/services/nouveau",
            ServiceCreate,
            get(s::service_new),
        ),
        r(
            Post,
            "/admin/services/nouveau",
            ServiceCreate,
            post(s::service_create),
        ),
        r(Get, "/admin/services/{id}", Signed, get(s::service_page)),
        r(
            Get,
            "/admin/services/{id}/modifier",
            Service,
            get(s::service_edit),
        ),
        r(
            Post,
            "/admin/services/{id}/modifier",
            Service,
            post(s::service_save),
        ),
        r(
            Post,
            "/admin/services/{id}/verifie",
            Service,
            post(s::service_verified),
        ),
        r(
            Get,
            "/admin/territoires.json",
            Signed,
            get(s::territory_suggestions),
        ),
        r(Get, "/admin/regles", Signed, get(s::rules)),
        r(Get, "/admin/regles/nouvelle", Signed, get(s::rule_new)),
        r(
            Post,
            "/admin/regles/nouvelle",
            RuleCreate,
            post(s::rule_create),
        ),
        r(Get, "/admin/regles/{id}", Signed, get(s::rule_page)),
        r(Get, "/admin/regles/{id}/modifier", Rule, get(s::rule_edit)),
        r(
            Post,
            "/admin/regles/{id}/modifier",
            Rule,
            post(s::rule_save),
        ),
        r(
            Post,
            "/admin/regles/{id}/supprimer",
            Rule,
            post(s::rule_delete),
        ),
        r(
            Post,
            "/admin/regles/{id}/verifie",
            Rule,
            post(s::rule_verified),
        ),
        r(Get, "/admin/types", DocumentTypes, get(s::types)),
        r(Get, "/admin/types/{slug}", DocumentTypes, get(s::type_edit)),
        r(
            Post,
            "/admin/types/{slug}",
            DocumentTypes,
            post(s::type_save),
        ),
        r(
            Post,
            "/admin/types/{slug}/formulaire",
            DocumentTypes,
            post(s::request_form_save),
        ),
        r(
            Get,
            "/admin/historique/{entity}/{key}",
            History,
            get(s::history),
        ),
        r(
            Post,
            "/admin/historique/{id}/annuler",
            Revert,
            post(s::revert),
        ),
        // Imports write many records at once: editors and administrators
        // only (the page itself shows contributors the exports). Exports
        // are read-only, like every screen.
        r(Get, "/admin/sites", Sites, get(s::sites)),
        r(Get, "/admin/sites/nouveau", Sites, get(s::site_new)),
        r(Post, "/admin/sites/nouveau", Sites, post(s::site_create)),
        r(Get, "/admin/sites/{key}", Sites, get(s::site_page)),
        r(Post, "/admin/sites/{key}", Sites, post(s::site_save)),
        r(
            Get,
            "/admin/sites/{key}/supprimer",
            Sites,
            get(s::site_delete_page),
        ),
        r(
            Post,
            "/admin/sites/{key}/supprimer",
            Sites,
            post(s::site_delete),
        ),
        r(Get, "/admin/import", Signed, get(imports::import_form)),
        r(
            Post,
            "/admin/import",
            ImportOwn,
            post(imports::import_upload),
        ),
        r(
            Post,
            "/admin/import/confirmer",
            ImportOwn,
            post(imports::import_confirm),
        ),
        r(Get, "/admin/export/{table}", Signed, get(imports::export)),
        r(
            Get,
            "/admin/annuaire",
            Import,
            get(imports::annuaire_form_page),
        ),
        r(
            Post,
            "/admin/annuaire",
            Import,
            post(imports::annuaire_upload),
        ),
        r(
            Post,
            "/admin/annuaire/confirmer",
            Import,
            post(imports::annuaire_confirm),
        ),
        r(
            Get,
            "/admin/francearchives",
            Import,
            get(imports::francearchives_form_page),
        ),
        r(
            Post,
            "/admin/francearchives",
            Import,
            post(imports::francearchives_upload),
        ),
        r(
            Post,
            "/admin/francearchives/confirmer",
            Import,
            post(imports::francearchives_confirm),
        ),
        r(Get, "/admin/utilisateurs", Accounts, get(s::users)),
        r(Post, "/admin/utilisateurs", Accounts, post(s::user_invite)),
        r(Get, "/admin/utilisateurs/{id}", Accounts, get(s::user_edit)),
        r(
            Post,
            "/admin/utilisateurs/{id}",
            Accounts,
            post(s::user_save),
        ),
        r(Get, "/admin/impact", Impact, get(s::impact)),
        r(Post, "/admin/impact", Impact, post(s::impact_save)),
        r(Get, "/admin/demandes", Inbox, get(s::inbox)),
        r(
            Post,
            "/admin/demandes/notifications",
            Inbox,
            post(s::inbox_notify),
        ),
        r(
            Get,
            "/admin/demandes/etiquettes",
            Inbox,
            get(s::labels_page),
        ),
        r(
            Post,
            "/admin/demandes/etiquettes",
            Inbox,
            post(s::labels_save),
        ),
        r(Get, "/admin/demandes/{id}", Request, get(s::request_page)),
        r(
            Post,
            "/admin/demandes/{id}/prendre",
            Request,
            post(s::request_claim),
        ),
        r(
            Post,
            "/admin/demandes/{id}/message",
            Request,
            post(s::request_message),
        ),
        r(
            Post,
            "/admin/demandes/{id}/note",
            Request,
            post(s::request_note),
        ),
        r(
            Post,
            "/admin/demandes/{id}/statut",
            Request,
            post(s::request_status),
        ),
        r(
            Post,
            "/admin/demandes/{id}/etiquettes",
            Request,
            post(s::request_labels),
        ),
        r(
            Post,
            "/admin/demandes/{id}/rediriger",
            Request,
            post(s::request_reroute),
        ),
        r(
            Post,
            "/admin/demandes/{id}/coordonnees",
            Request,
            post(s::request_contact),
        ),
        r(
            Get,
            "/admin/demandes/{id}/pieces/{att}",
            Request,
            get(s::request_attachment),
        ),
        r(Get, "/admin/statistiques", Statistics, get(s::statistics)),
        r(
            Get,
            "/admin/statistiques/{guide}",
            Statistics,
            get(s::guide_statistics),
        ),
        r(
            Get,
            "/admin/statistiques/{guide}/{table}",
            StatisticsTable,
            get(s::statistics_csv),
        ),
        r(
            Post,
            "/admin/statistiques/{guide}/suggestions",
            Suggestions,
            post(s::suggestion_triage),
        ),
    ]
}

/// A placeholder of the request's path, decoded exactly as the handler's
/// `Path` extractor decodes it, so that the check is about the record the
/// handler will touch.
async fn param(parts: &mut Parts, state: &AppState, name: &str) -> Result<String, AdminError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| AdminError::NotFound)?;
    params.get(name).cloned().ok_or(AdminError::NotFound)
}

/// Checks a request against its route's permission, before the handler.
pub async fn check(
    rule: RouteRule,
    access: &Access,
    parts: &mut Parts,
    state: &AppState,
    safe: bool,
) -> Result<(), AdminError> {
    if rule.perm == Perm::Anyone {
        return Ok(());
    }
    let Some(user) = &access.user else {
        return Err(AdminError::SignedOut { page: safe });
    };
    let act = match rule.perm {
        Perm::Anyone => return Ok(()),
        Perm::Signed | Perm::RuleCreate => Act::Read,
        Perm::DocumentTypes => Act::EditDocumentTypes,
        Perm::ServiceCreate => Act::SetServiceIdentity,
        Perm::Sites => Act::ManageSites,
        Perm::Import => Act::Import,
        Perm::ImportOwn => Act::ImportOwn,
        Perm::Accounts => Act::ManageAccounts,
        Perm::Inbox => Act::OpenInbox,
        Perm::Statistics => Act::ReadStatistics,
        Perm::Suggestions => Act::TriageSuggestions,
        Perm::StatisticsTable => {
            let table = param(parts, state, "table").await?;
            let name = table.strip_suffix(".csv").unwrap_or(&table);
            return decide(user, Act::ReadStatisticsTable(name));
        }
        Perm::Impact => Act::SetImpact,
        Perm::Request => {
            let id: i64 = param(parts, state, "id")
                .await?
                .parse()
                .map_err(|_| AdminError::NotFound)?;
            let req = state.live.store().request(id).await?;
            let req = req.ok_or(AdminError::NotFound)?;
            return decide(user, Act::HandleRequests(&req.service));
        }
        Perm::Service => {
            let id = param(parts, state, "id").await?;
            return decide(user, Act::EditService(&id));
        }
        Perm::Rule => {
            let id: i64 = param(parts, state, "id")
                .await?
                .parse()
                .map_err(|_| AdminError::NotFound)?;
            let held = state.live.store().stored_holding(id).await?;
            let held = held.ok_or(AdminError::NotFound)?;
            let snap = state.live.snapshot();
            return decide(user, Act::WriteRule(&held.rule, snap.territories()));
        }
        Perm::History => {
            let entity = param(parts, state, "entity").await?;
            let entity = Entity::parse(&entity).ok_or(AdminError::NotFound)?;
            Act::ViewHistory(entity)
        }
        Perm::Revert => {
            let id: i64 = param(parts, state, "id")
                .await?
                .parse()
                .map_err(|_| AdminError::NotFound)?;
            let entry = state.live.store().history_entry(id).await?;
            let entry = entry.ok_or(AdminError::NotFound)?;
            Act::Revert(entry.entity)
        }
    };
    decide(user, act)
}

fn decide(user: &User, act: Act<'_>) -> Result<(), AdminError> {
    match policy::refusal(user, act) {
        None => Ok(()),
        Some(why) => Err(AdminError::forbidden(why)),
    }
}
