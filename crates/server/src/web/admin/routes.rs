//! The route table of the back office: every route with the permission it
//! needs. The router is built from it (axum cannot list its routes), and the
//! authorization test walks it for every role.

use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};

use super::{
    Access, RouteRule, auth, can_edit_service, forbidden, imports, not_found, screens, unexpected,
};
use crate::store::Role;
use crate::web::AppState;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// Anyone, signed in or not (login, one-time links).
    Anyone,
    /// Any signed-in user (read-only screens, logout).
    Signed,
    /// Editing the service named by `{id}`: its contributors, editors, admins.
    Service,
    /// Editing the holding rule `{id}`: contributors of the service holding
    /// it (not on the `france` territory), editors, admins.
    Rule,
    /// Creating a holding rule: the posted holder must be one of the user's
    /// services (checked by the handler, which has the body).
    RuleCreate,
    Editor,
    Admin,
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
        r(Get, "/admin/types", Editor, get(s::types)),
        r(Get, "/admin/types/{slug}", Editor, get(s::type_edit)),
        r(Post, "/admin/types/{slug}", Editor, post(s::type_save)),
        r(
            Get,
            "/admin/historique/{entity}/{key}",
            Signed,
            get(s::history),
        ),
        r(
            Post,
            "/admin/historique/{id}/annuler",
            Editor,
            post(s::revert),
        ),
        // Imports write many records at once: editors and administrators
        // only (the page itself shows contributors the exports). Exports
        // are read-only, like every screen.
        r(Get, "/admin/import", Signed, get(imports::import_form)),
        r(Post, "/admin/import", Editor, post(imports::import_upload)),
        r(
            Post,
            "/admin/import/confirmer",
            Editor,
            post(imports::import_confirm),
        ),
        r(Get, "/admin/export/{table}", Signed, get(imports::export)),
        r(
            Get,
            "/admin/annuaire",
            Editor,
            get(imports::annuaire_form_page),
        ),
        r(
            Post,
            "/admin/annuaire",
            Editor,
            post(imports::annuaire_upload),
        ),
        r(
            Post,
            "/admin/annuaire/confirmer",
            Editor,
            post(imports::annuaire_confirm),
        ),
        r(Get, "/admin/utilisateurs", Admin, get(s::users)),
        r(Post, "/admin/utilisateurs", Admin, post(s::user_invite)),
        r(Get, "/admin/utilisateurs/{id}", Admin, get(s::user_edit)),
        r(Post, "/admin/utilisateurs/{id}", Admin, post(s::user_save)),
    ]
}

/// The `{id}` of the request's path, for the routes that have one.
fn path_id(parts: &Parts, rule: RouteRule) -> Option<String> {
    // The route's pattern and the request's path have the same segments.
    let pattern: Vec<&str> = rule.path.split('/').collect();
    let actual: Vec<&str> = parts.uri.path().split('/').collect();
    pattern
        .iter()
        .position(|s| *s == "{id}")
        .and_then(|i| actual.get(i))
        .map(|s| percent_decode(s))
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Checks a request against its route's permission.
#[allow(clippy::result_large_err)]
pub async fn check(
    rule: RouteRule,
    access: &Access,
    parts: &Parts,
    state: &AppState,
    safe: bool,
) -> Result<(), Response> {
    if rule.perm == Perm::Anyone {
        return Ok(());
    }
    let Some(user) = &access.user else {
        return Err(if safe {
            Redirect::to("/admin/login").into_response()
        } else {
            forbidden("Votre session a expiré : connectez-vous à nouveau.")
        });
    };
    let refuse = || {
        Err(forbidden(
            "Votre compte ne permet pas d'ouvrir cette page ni de modifier ces données.",
        ))
    };
    match rule.perm {
        Perm::Anyone | Perm::Signed | Perm::RuleCreate => Ok(()),
        Perm::Editor if user.role >= Role::Editor => Ok(()),
        Perm::Admin if user.role == Role::Admin => Ok(()),
        Perm::Editor | Perm::Admin => refuse(),
        Perm::Service => {
            let id = path_id(parts, rule).unwrap_or_default();
            if can_edit_service(user, &id) {
                Ok(())
            } else {
                refuse()
            }
        }
        Perm::Rule => {
            let Some(id) = path_id(parts, rule).and_then(|s| s.parse::<i64>().ok()) else {
                return Err(not_found());
            };
            let held = state
                .live
                .store()
                .stored_holding(id)
                .await
                .map_err(unexpected)?;
            let Some(held) = held else {
                return Err(not_found());
            };
            if screens::can_edit_rule(user, &held.rule) {
                Ok(())
            } else {
                refuse()
            }
        }
    }
}
