//! Accounts (administrators): the list, invitations, and an account's
//! role, state and scope — services and territories.

use axum::extract::{Path, Query, State};
use locadocs_core::{Snapshot, Territory};

use super::{Errors, SavedQuery, err_of, saved};
use crate::store::{Entity, Record, Role, User, UserFields};
use crate::web::AppState;
use crate::web::admin::auth;
use crate::web::admin::error::{AdminError, Result, write_notice};
use crate::web::admin::view::{self, Block, Button, Cell, Field, FormView, Notice, Page, Table};
use crate::web::admin::{SignedForm, SignedIn};

/// The territories of a scope, as shown and typed: one name per line.
fn territories_text(ts: &[Territory], snap: &Snapshot) -> String {
    ts.iter()
        .map(|t| snap.territories().display_name(t))
        .collect::<Vec<_>>()
        .join("\n")
}

fn users_page(
    me: &SignedIn,
    snap: &Snapshot,
    users: &[User],
    f: &InviteForm,
    errors: Errors,
    notice: Option<Notice>,
) -> Page {
    let mut p = view::page(&me.access, "Utilisateurs");
    p.notice = notice;
    let geo = snap.territories();
    p.blocks.push(Block::Table(Table {
        caption: "Comptes".into(),
        head: vec![
            "Adresse".into(),
            "Rôle".into(),
            "Services".into(),
            "Territoires".into(),
            "État".into(),
        ],
        rows: users
            .iter()
            .map(|u| {
                vec![
                    Cell::link(&u.email, format!("/admin/utilisateurs/{}", u.id)),
                    Cell::text(u.role.label()),
                    Cell::text(u.services.join(", ")),
                    Cell::text(
                        u.territories
                            .iter()
                            .map(|t| geo.display_name(t))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    Cell::text(match (u.active, u.has_password) {
                        (false, _) => "désactivé",
                        (true, false) => "invitation en attente",
                        (true, true) => "actif",
                    }),
                ]
            })
            .collect(),
    }));
    p.blocks.push(Block::H2("Inviter une personne".into()));
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: "/admin/utilisateurs".into(),
        csrf: me.access.csrf.clone(),
        hidden: vec![],
        fields: vec![
            Field::email("email", "Adresse électronique", &f.email).error(e("email")),
            role_field(&f.role).error(e("role")),
            services_field(snap, &f.services).error(e("services")),
            territories_field(&f.territories).error(e("territories")),
            added_territory_field(),
        ],
        buttons: vec![Button::primary("Envoyer l'invitation")],
    }));
    p.errors = errors;
    p
}

fn role_field(selected: &str) -> Field {
    Field::select(
        "role",
        "Rôle",
        Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
            .collect(),
        if selected.is_empty() {
            "contributor"
        } else {
            selected
        },
    )
}

fn services_field(snap: &Snapshot, selected: &[String]) -> Field {
    Field::checkboxes(
        "services",
        "Services confiés (pour un contributeur)",
        snap.services()
            .iter()
            .map(|s| {
                (
                    s.id.to_string(),
                    s.name.clone(),
                    selected.iter().any(|x| x == s.id.as_str()),
                )
            })
            .collect(),
    )
}

fn territories_field(text: &str) -> Field {
    Field::textarea("territories", "Territoires confiés (pour un contributeur)", text).hint(
        "Les territoires sur lesquels ses services tiennent leurs règles, un par ligne : une commune (Rennes, ou 35238), une intercommunalité (Rennes Métropole) ou un département (Ille-et-Vilaine, ou 35 : avec ses intercommunalités et ses communes).",
    )
}

/// One more territory, typed with suggestions (`admin.js`), added to the
/// list at saving ([`territories_of_form`]).
fn added_territory_field() -> Field {
    Field::text("territoire_ajoute", "Ajouter un territoire", "")
        .hint("Tapez son nom : des territoires vous sont proposés. Il s'ajoute à la liste ci-dessus à l'enregistrement.")
        .suggest(view::Suggest::Territories)
}

/// The territories of a posted form: the list, and the one added.
fn territories_of_form(list: String, added: String) -> String {
    match (list.trim(), added.trim()) {
        (l, "") => l.to_owned(),
        ("", a) => a.to_owned(),
        (l, a) => format!("{l}\n{a}"),
    }
}

/// Reads repeated `services` fields, which serde's form decoding cannot.
fn services_of_form(raw: &[(String, String)]) -> Vec<String> {
    raw.iter()
        .filter(|(k, _)| k == "services")
        .map(|(_, v)| v.clone())
        .collect()
}

#[derive(Debug, Default)]
pub struct InviteForm {
    email: String,
    role: String,
    services: Vec<String>,
    territories: String,
}

pub async fn users(
    State(state): State<AppState>,
    Query(q): Query<SavedQuery>,
    me: SignedIn,
) -> Result {
    let users = state.live.store().users().await?;
    let snap = state.live.snapshot();
    Ok(view::render(&users_page(
        &me,
        &snap,
        &users,
        &InviteForm::default(),
        vec![],
        q.notice(),
    )))
}

/// A contributor's scope as typed, checked: known services, known
/// territories (never all of France: national rules are the editors').
pub fn parse_scope(
    snap: &Snapshot,
    role: Option<Role>,
    services: &[String],
    territories: &str,
) -> std::result::Result<Vec<Territory>, Errors> {
    let mut errors = vec![];
    if role.is_none() {
        errors.push(("role".into(), "Choisissez un rôle dans la liste.".into()));
    }
    if let Some(s) = services.iter().find(|s| snap.service(s).is_none()) {
        errors.push((
            "services".into(),
            format!("Aucun service n'a l'identifiant « {s} »."),
        ));
    }
    if role == Some(Role::Contributor) && services.is_empty() {
        errors.push((
            "services".into(),
            "Un contributeur doit avoir au moins un service.".into(),
        ));
    }
    let mut parsed = vec![];
    for (n, t) in territories
        .split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        if n >= 200 {
            errors.push(("territories".into(), "Au plus 200 territoires.".into()));
            break;
        }
        match super::territory_from_words(snap, t) {
            Ok(Territory::France) => errors.push((
                "territories".into(),
                "« France » ne peut pas être confiée à un contributeur : les règles nationales sont tenues par les éditeurs.".into(),
            )),
            Ok(t) => {
                if !parsed.contains(&t) {
                    parsed.push(t)
                }
            }
            Err(message) => errors.push(("territories".into(), message)),
        }
    }
    if errors.is_empty() {
        parsed.sort();
        Ok(parsed)
    } else {
        Err(errors)
    }
}

fn valid_email(e: &str) -> bool {
    e.contains('@') && !e.contains(char::is_whitespace) && e.len() <= 254
}

pub async fn user_invite(
    State(state): State<AppState>,
    SignedForm { me, form }: SignedForm<Vec<(String, String)>>,
) -> Result {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let f = InviteForm {
        email: get("email").to_lowercase(),
        role: get("role"),
        services: services_of_form(&form),
        territories: territories_of_form(get("territories"), get("territoire_ajoute")),
    };
    let snap = state.live.snapshot();
    let store = state.live.store();
    let role = Role::parse(&f.role);
    let scope = parse_scope(&snap, role, &f.services, &f.territories);
    let mut errors = scope.as_ref().err().cloned().unwrap_or_default();
    if !valid_email(&f.email) {
        errors.push((
            "email".into(),
            "Adresse électronique invalide (exemple : prenom.nom@ville.fr).".into(),
        ));
    }
    let users = store.users().await?;
    if users.iter().any(|u| u.email == f.email) {
        errors.push((
            "email".into(),
            "Un compte existe déjà pour cette adresse.".into(),
        ));
    }
    let (Some(role), Ok(territories), true) = (role, scope, errors.is_empty()) else {
        return Err(AdminError::invalid(users_page(
            &me, &snap, &users, &f, errors, None,
        )));
    };
    let (services, territories) = if role == Role::Contributor {
        (f.services.clone(), territories)
    } else {
        (vec![], vec![])
    };
    let (user, link) = auth::invite(
        store.as_ref(),
        &state.admin,
        &f.email,
        role,
        &services,
        &territories,
        &me.author(),
    )
    .await?;
    let (subject, body) = auth::invitation_mail(&link, role);
    let notice = match state.admin.mailer.send(&user.email, &subject, body).await {
        Ok(()) => Notice::success(
            "Invitation envoyée",
            &format!("Un lien d'invitation a été envoyé à {}.", user.email),
        ),
        Err(e) => {
            tracing::error!(error = %e, "invitation mail not sent");
            Notice::error(
                "Compte créé, message non envoyé",
                "Le compte est créé mais le message n'a pas pu partir : vérifiez la configuration de l'envoi de courriels.",
            )
        }
    };
    let users = store.users().await.unwrap_or(users);
    Ok(view::render(&users_page(
        &me,
        &snap,
        &users,
        &InviteForm::default(),
        vec![],
        Some(notice),
    )))
}

/// What the account form shows: as stored, or as sent back with errors.
struct AccountForm<'a> {
    role: &'a str,
    active: bool,
    requests_only: bool,
    services: &'a [String],
    territories: &'a str,
}

fn user_page(
    me: &SignedIn,
    snap: &Snapshot,
    u: &User,
    f: &AccountForm<'_>,
    rev: i64,
    errors: Errors,
    notice: Option<Notice>,
) -> Page {
    let mut p = view::page(&me.access, &format!("Compte {}", u.email));
    p.notice = notice;
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/utilisateurs/{}", u.id),
        csrf: me.access.csrf.clone(),
        hidden: vec![("revision".into(), rev.to_string())],
        fields: vec![
            role_field(f.role).error(e("role")),
            Field::select(
                "active",
                "État du compte",
                vec![
                    ("1".into(), "actif".into()),
                    ("0".into(), "désactivé".into()),
                ],
                if f.active { "1" } else { "0" },
            ),
            services_field(snap, f.services).error(e("services")),
            territories_field(f.territories).error(e("territories")),
            added_territory_field(),
            Field::checkboxes(
                "requests_only",
                "Demandes",
                vec![(
                    "1".into(),
                    "Traite les demandes sans modifier les données".into(),
                    f.requests_only,
                )],
            )
            .hint("Pour un agent qui répond aux demandes de ses services sans modifier leurs fiches ni leurs règles."),
        ],
        buttons: vec![Button::primary("Enregistrer")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Historique du compte".into(),
        format!("/admin/historique/utilisateur/{}", u.id),
    )]));
    p.errors = errors;
    p
}

pub async fn user_edit(State(state): State<AppState>, Path(id): Path<i64>, me: SignedIn) -> Result {
    let u = state
        .live
        .store()
        .user(id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let snap = state.live.snapshot();
    let territories = territories_text(&u.territories, &snap);
    let f = AccountForm {
        role: u.role.as_str(),
        active: u.active,
        requests_only: u.requests_only,
        services: &u.services,
        territories: &territories,
    };
    Ok(view::render(&user_page(
        &me,
        &snap,
        &u,
        &f,
        u.revision,
        vec![],
        None,
    )))
}

pub async fn user_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<Vec<(String, String)>>,
) -> Result {
    let store = state.live.store();
    let u = store.user(id).await?.ok_or(AdminError::NotFound)?;
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let role_s = get("role");
    let active = get("active") != "0";
    let services = services_of_form(&form);
    let territories_s = territories_of_form(get("territories"), get("territoire_ajoute"));
    let rev = get("revision").parse().unwrap_or(u.revision);
    let snap = state.live.snapshot();
    let role = Role::parse(&role_s);
    let scope = parse_scope(&snap, role, &services, &territories_s);
    let mut errors = scope.as_ref().err().cloned().unwrap_or_default();
    if u.id == me.user.id && (role != Some(Role::Admin) || !active) {
        errors.push((
            "role".into(),
            "Vous ne pouvez pas retirer vos propres droits d'administrateur.".into(),
        ));
    }
    let requests_only = get("requests_only") == "1";
    let sent = AccountForm {
        role: &role_s,
        active,
        requests_only,
        services: &services,
        territories: &territories_s,
    };
    let (Some(role), Ok(territories), true) = (role, scope, errors.is_empty()) else {
        return Err(AdminError::invalid(user_page(
            &me, &snap, &u, &sent, rev, errors, None,
        )));
    };
    let (mut services, territories) = if role == Role::Contributor {
        (services.clone(), territories)
    } else {
        (vec![], vec![])
    };
    services.sort();
    services.dedup();
    let fields = UserFields {
        email: u.email.clone(),
        role,
        active,
        services,
        territories: territories.iter().map(|t| t.to_string()).collect(),
        requests_only,
    };
    let written = store
        .save(
            &me.author(),
            Entity::User,
            Some(&id.to_string()),
            Some(rev),
            Some(Record::User(fields)),
        )
        .await;
    match written {
        Ok(_) => Ok(saved("/admin/utilisateurs")),
        Err(e) => match write_notice(&e) {
            Some((status, notice)) => Err(AdminError::Form(
                status,
                Box::new(user_page(&me, &snap, &u, &sent, rev, vec![], Some(notice))),
            )),
            None => Err(e.into()),
        },
    }
}
