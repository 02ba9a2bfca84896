//! Signing in and out, invitations and password resets, sessions and the
//! protections around them (CSRF, origin check, counted and limited logins
//! and reset requests, bounded password hashing).
//!
//! Session ids and one-time link tokens are random 256-bit values; only
//! their SHA-256 hash is stored, and none of them is ever logged.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::view::{self, Block, Button, Field, FormView, Notice, Page};
use super::{Access, AdminConfig, Posted, cookie, see_other, unexpected, with_cookie};
use crate::store::{
    Accounts, AttemptKind, AttemptLimits, AttemptVerdict, LimitScope, Role, TokenPurpose,
    TokenState, User, now_text, time_text,
};
use crate::web::AppState;
use crate::web::client_ip::{ClientIp, limit_key};

pub const SESSION_COOKIE: &str = "ld_session";
pub const FORM_COOKIE: &str = "ld_form";
/// Login attempts on one account from one address in a window: a person
/// who mistypes gets five tries, then a pause.
pub const LOCK_AFTER: i64 = 5;
/// Login attempts on one account from anywhere in a window: stops guessing
/// spread over many addresses, while leaving the real person (whose success
/// clears their own tries) room after a few strangers' failures.
pub const ACCOUNT_LIMIT: i64 = 20;
/// Login attempts from one address over all accounts in a window: a whole
/// office behind one NAT mistyping fits; trying one password on many
/// accounts does not.
pub const ADDRESS_LIMIT: i64 = 50;
/// How long login attempts count (the window of the three limits above).
pub const LOCK_MINUTES: i64 = 15;
/// Reset requests per account and per address in a window: a person who
/// did not get the mail asks again once or twice; more is someone filling
/// another person's mailbox, or probing.
pub const RESET_ACCOUNT_LIMIT: i64 = 3;
pub const RESET_ADDRESS_LIMIT: i64 = 5;
/// How long reset requests count.
pub const RESET_MINUTES: i64 = 60;
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 128;
/// An email address is at most 254 characters (RFC 5321 path limit).
pub const MAX_EMAIL: usize = 254;
/// Argon2 computations at a time: each takes 19 MiB and a core for a
/// fraction of a second, so a flood of logins waits here instead of
/// exhausting memory.
pub const ARGON2_PERMITS: usize = 4;
/// How long a login waits for an Argon2 slot before being told to retry.
pub const ARGON2_WAIT: Duration = Duration::from_secs(5);

const LOGIN_LIMITS: AttemptLimits = AttemptLimits {
    kind: AttemptKind::Login,
    per_account: ACCOUNT_LIMIT,
    per_address: ADDRESS_LIMIT,
    per_account_and_address: LOCK_AFTER,
};

const RESET_LIMITS: AttemptLimits = AttemptLimits {
    kind: AttemptKind::Reset,
    per_account: RESET_ACCOUNT_LIMIT,
    per_address: RESET_ADDRESS_LIMIT,
    per_account_and_address: RESET_ACCOUNT_LIMIT,
};

static ARGON2_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(ARGON2_PERMITS);

/// Every Argon2 slot stayed taken for [`ARGON2_WAIT`].
#[derive(Debug, thiserror::Error)]
#[error("trop de connexions simultanées : réessayez dans un instant")]
pub struct Busy;

async fn argon2_slot(wait: Duration) -> Result<tokio::sync::SemaphorePermit<'static>, Busy> {
    match tokio::time::timeout(wait, ARGON2_SLOTS.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Busy),
    }
}

/// 503 for a login or password change that found every Argon2 slot taken.
fn busy() -> Response {
    let mut r = view::message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        "Service très sollicité",
        "Trop de connexions sont en cours en ce moment. Réessayez dans une minute.",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    r
}

/// A random 256-bit token, URL-safe.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The system's generator failing is not something to recover from.
    getrandom::fill(&mut b).expect("system random generator");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Argon2id with the crate's default parameters (19 MiB, 2 passes), when
/// a slot is free (an error of type [`Busy`] otherwise).
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let _slot = argon2_slot(ARGON2_WAIT).await?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hachage du mot de passe : {e}"))
    })
    .await?
}

/// Checks a password; with no stored hash, spends the same time and fails,
/// so that response times do not tell which accounts exist. Waits for an
/// Argon2 slot, or fails with [`Busy`].
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, Busy> {
    verify_within(password, stored, ARGON2_WAIT).await
}

async fn verify_within(
    password: String,
    stored: Option<String>,
    wait: Duration,
) -> Result<bool, Busy> {
    let _slot = argon2_slot(wait).await?;
    let ok = tokio::task::spawn_blocking(move || {
        // A real hash of a random password, made once, for unknown accounts.
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| {
            Argon2::default()
                .hash_password(random_token().as_bytes())
                .map(|h| h.to_string())
                .unwrap_or_default()
        });
        let (hash, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (dummy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && real
    })
    .await
    .unwrap_or(false);
    Ok(ok)
}

fn cookie_attrs(cfg: &AdminConfig, max_age: i64) -> String {
    format!(
        "; Path=/admin; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if cfg.secure_cookies { "; Secure" } else { "" }
    )
}

/// The pre-session token that anonymous forms (login, invitation, reset)
/// carry, double-submitted as a cookie; a new one is made when missing.
pub fn form_token(headers: &HeaderMap, cfg: &AdminConfig) -> (String, Option<String>) {
    match cookie(headers, FORM_COOKIE).filter(|t| t.len() == 43) {
        Some(t) => (t.to_owned(), None),
        None => {
            let t = random_token();
            let c = format!("{FORM_COOKIE}={t}{}", cookie_attrs(cfg, 3600 * 12));
            (t, Some(c))
        }
    }
}

/// A POST is refused when its `Origin` names another site. Browsers send
/// `Origin` on every form POST; requests without it (scripts) still need the
/// CSRF token.
pub fn origin_ok(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == public_url {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}

/// The signed-in user of a request: (user, CSRF token, session hash).
pub async fn session_of(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<(User, String, String)>, Response> {
    let Some(id) = cookie(headers, SESSION_COOKIE).filter(|t| t.len() == 43) else {
        return Ok(None);
    };
    let hash = token_hash(id);
    let found = state
        .live
        .store()
        .session(&hash, &now_text())
        .await
        .map_err(unexpected)?;
    Ok(found.map(|(u, csrf)| (u, csrf, hash)))
}

/// Opens a session: a new id every time (never one the browser brought).
async fn open_session(state: &AppState, user: &User) -> anyhow::Result<String> {
    let cfg = &state.admin;
    let id = random_token();
    let expires = time_text(chrono::Utc::now() + cfg.session_ttl);
    state
        .live
        .store()
        .add_session(&token_hash(&id), user.id, &random_token(), &expires)
        .await?;
    Ok(format!(
        "{SESSION_COOKIE}={id}{}",
        cookie_attrs(cfg, cfg.session_ttl.num_seconds())
    ))
}

fn clear_session_cookie(cfg: &AdminConfig) -> String {
    format!("{SESSION_COOKIE}={}", cookie_attrs(cfg, 0))
}

/// Creates an account and its invitation link; returns the link.
pub async fn invite(
    state_store: &dyn Accounts,
    cfg: &AdminConfig,
    email: &str,
    role: Role,
    services: &[String],
    territories: &[locadocs_core::Territory],
    author: &crate::store::Author,
) -> Result<(User, String), crate::store::WriteError> {
    let user = state_store
        .create_user(email, role, services, territories, author)
        .await?;
    let link = new_link(state_store, cfg, &user, TokenPurpose::Invitation).await?;
    Ok((user, link))
}

/// A new one-time link for an account.
pub async fn new_link(
    store: &dyn Accounts,
    cfg: &AdminConfig,
    user: &User,
    purpose: TokenPurpose,
) -> Result<String, crate::store::StoreError> {
    let token = random_token();
    let ttl = match purpose {
        TokenPurpose::Invitation => cfg.invitation_ttl,
        TokenPurpose::Reset => cfg.reset_ttl,
    };
    store
        .add_token(
            user.id,
            purpose,
            &token_hash(&token),
            &time_text(chrono::Utc::now() + ttl),
        )
        .await?;
    let path = match purpose {
        TokenPurpose::Invitation => "invitation",
        TokenPurpose::Reset => "reinitialisation",
    };
    Ok(format!("{}/admin/{path}/{token}", cfg.public_url))
}

/// The invitation email.
pub fn invitation_mail(link: &str, role: Role) -> (String, String) {
    (
        "Votre accès à Locadocs".to_owned(),
        format!(
            "Bonjour,\n\nUn accès à l'administration de Locadocs vous a été ouvert (rôle : {}).\n\n\
             Pour choisir votre mot de passe, ouvrez ce lien (valable 7 jours, une seule fois) :\n\n{link}\n\n\
             Si vous n'attendiez pas ce message, ignorez-le.\n",
            role.label()
        ),
    )
}

// ---------------------------------------------------------------- login

fn login_form(access: &Access, email: &str, error: Option<&str>) -> Page {
    let mut page = Page::new("Connexion", None);
    if let Some(e) = error {
        page.notice = Some(Notice::error("Connexion impossible", e));
    }
    page.blocks.push(Block::Form(FormView {
        action: "/admin/login".into(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        fields: vec![
            Field::email("email", "Adresse électronique", email).autocomplete("username"),
            Field::password("password", "Mot de passe", "current-password"),
        ],
        buttons: vec![Button::primary("Se connecter")],
    }));
    page.blocks.push(Block::Links(vec![(
        "Mot de passe oublié ?".into(),
        "/admin/mot-de-passe".into(),
    )]));
    page
}

pub async fn login_page(access: Access) -> Response {
    if access.user.is_some() {
        return see_other("/admin");
    }
    let cookie = access.set_cookie.clone();
    with_cookie(view::render(&login_form(&access, "", None)), cookie)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The email as stored and compared: trimmed, lower-case.
fn normalized_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What is wrong with a typed email, before anything is looked up or
/// stored; `None` when it may be an address.
fn email_problem(email: &str) -> Option<String> {
    if email.chars().count() > MAX_EMAIL {
        Some(format!(
            "L'adresse électronique est trop longue : au plus {MAX_EMAIL} caractères."
        ))
    } else if !email.contains('@') {
        Some("Indiquez une adresse électronique (nom@domaine.fr).".to_owned())
    } else {
        None
    }
}

/// The address the limits count by, as stored.
fn address_of(ip: ClientIp) -> String {
    ip.0.map(|ip| limit_key(ip).to_string())
        .unwrap_or_else(|| "inconnue".to_owned())
}

/// Whole minutes (at least one) until an attempt made at `freed_at` leaves
/// a window of `window` minutes.
fn minutes_until_free(freed_at: &str, window: i64, now: chrono::DateTime<chrono::Utc>) -> i64 {
    chrono::DateTime::parse_from_rfc3339(freed_at)
        .map(|t| {
            let until = t.with_timezone(&chrono::Utc) + chrono::Duration::minutes(window);
            let secs = (until - now).num_seconds().max(0);
            (secs + 59) / 60
        })
        .unwrap_or(window)
        .max(1)
}

fn minutes_text(m: i64) -> String {
    format!("{m} minute{}", if m > 1 { "s" } else { "" })
}

/// 429: too many tries, and when to come back.
fn too_many_tries(title: &str, text: &str, minutes: i64) -> Response {
    let mut page = Page::new(title, None);
    page.notice = Some(Notice::error(title, text));
    page.blocks.push(Block::Links(vec![
        ("Mot de passe oublié ?".into(), "/admin/mot-de-passe".into()),
        ("Page de connexion".into(), "/admin/login".into()),
    ]));
    let mut r = view::render(&page);
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    if let Ok(v) = header::HeaderValue::from_str(&(minutes * 60).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn login_refused(scope: LimitScope, minutes: i64) -> Response {
    let wait = minutes_text(minutes);
    let text = match scope {
        LimitScope::AccountAndAddress => format!(
            "Trop d'essais infructueux sur ce compte depuis votre connexion : il est bloqué ici pendant {wait}. \
             Réessayez dans {wait}, ou choisissez « Mot de passe oublié ? »."
        ),
        LimitScope::Account => format!(
            "Trop d'essais infructueux sur ce compte, depuis plusieurs connexions : par précaution, il est bloqué pendant {wait}. \
             Réessayez dans {wait}, ou choisissez « Mot de passe oublié ? »."
        ),
        LimitScope::Address => format!(
            "Trop d'essais de connexion depuis votre adresse : les connexions en sont bloquées pendant {wait}. \
             Réessayez dans {wait}."
        ),
    };
    too_many_tries("Trop d'essais de connexion", &text, minutes)
}

pub async fn login_post(
    State(state): State<AppState>,
    client: ClientIp,
    Posted { access, form }: Posted<LoginForm>,
) -> Response {
    let store = state.live.store();
    let email = normalized_email(&form.email);
    let fail = |status: StatusCode, msg: &str| {
        let shown: String = email.chars().take(MAX_EMAIL).collect();
        let mut r = view::render(&login_form(&access, &shown, Some(msg)));
        *r.status_mut() = status;
        r
    };
    // Refused before anything is read or written.
    if let Some(problem) = email_problem(&email) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, &problem);
    }
    if form.password.chars().count() > MAX_PASSWORD {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Un mot de passe compte au plus {MAX_PASSWORD} caractères."),
        );
    }
    let address = address_of(client);
    let now = chrono::Utc::now();
    let since = time_text(now - chrono::Duration::minutes(LOCK_MINUTES));
    // The attempt counts before the password is checked, in one atomic step:
    // of many parallel attempts, only those within the limits go on.
    let earlier = match store
        .count_attempt(&LOGIN_LIMITS, &email, &address, &time_text(now), &since)
        .await
    {
        Ok(AttemptVerdict::Counted { account }) => account,
        Ok(AttemptVerdict::Refused { scope, freed_at }) => {
            tracing::info!(?scope, "back-office login refused: too many attempts");
            return login_refused(scope, minutes_until_free(&freed_at, LOCK_MINUTES, now));
        }
        Err(e) => return unexpected(e),
    };
    // Each recent failure on the account, from anywhere, slows the next try.
    if earlier > 0 {
        let n = earlier.min(ACCOUNT_LIMIT) as u32;
        tokio::time::sleep(state.admin.failure_delay * n).await;
    }
    let found = match store.user_by_email(&email).await {
        Ok(f) => f,
        Err(e) => return unexpected(e),
    };
    let (user, hash) = match found {
        Some((u, h)) if u.active => (Some(u), h),
        _ => (None, None),
    };
    let verified = match verify_password(form.password, hash).await {
        Ok(v) => v,
        Err(Busy) => return busy(),
    };
    let Some(user) = user.filter(|_| verified) else {
        // The attempt stays counted: it is a failure.
        tracing::info!("failed back-office login");
        return fail(
            StatusCode::UNAUTHORIZED,
            "Adresse électronique ou mot de passe incorrect.",
        );
    };
    if let Err(e) = store.clear_login_failures(&email, &address).await {
        return unexpected(e);
    }
    // A session the browser already had is ended: the id changes at login.
    if let Some(h) = &access.session_hash {
        let _ = store.delete_session(h).await;
    }
    match open_session(&state, &user).await {
        Ok(c) => {
            tracing::info!(user = user.id, "back-office login");
            with_cookie(see_other("/admin"), Some(c))
        }
        Err(e) => unexpected(e),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(state): State<AppState>,
    Posted { access, .. }: Posted<Empty>,
) -> Response {
    if let Some(h) = &access.session_hash
        && let Err(e) = state.live.store().delete_session(h).await
    {
        return unexpected(e);
    }
    let mut page = Page::new("Vous êtes déconnecté", None);
    page.blocks.push(Block::Links(vec![(
        "Se connecter à nouveau".into(),
        "/admin/login".into(),
    )]));
    with_cookie(
        view::render(&page),
        Some(clear_session_cookie(&state.admin)),
    )
}

// ---------------------------------------------------------------- one-time links

fn link_problem(state: TokenState, purpose: TokenPurpose) -> Response {
    let (title, text) = match state {
        TokenState::Expired => (
            "Lien expiré",
            "Ce lien a expiré. Demandez-en un nouveau à votre administrateur, ou utilisez « Mot de passe oublié ? ».",
        ),
        TokenState::Used => (
            "Lien déjà utilisé",
            "Ce lien a déjà servi : il ne vaut qu'une fois. Connectez-vous avec votre mot de passe, ou utilisez « Mot de passe oublié ? ».",
        ),
        _ => (
            "Lien invalide",
            "Ce lien n'est pas (ou plus) valable. Vérifiez qu'il a été copié en entier.",
        ),
    };
    let _ = purpose;
    let mut r = view::message_page(StatusCode::GONE, None, title, text);
    if state == TokenState::Unknown {
        *r.status_mut() = StatusCode::NOT_FOUND;
    }
    r
}

fn password_form(
    access: &Access,
    action: &str,
    heading: &str,
    errors: Vec<(String, String)>,
) -> Page {
    let mut page = Page::new(heading, None);
    let err = |name: &str| {
        errors
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.clone())
    };
    page.errors = errors.clone();
    page.blocks.push(Block::P(format!(
        "Choisissez un mot de passe d'au moins {MIN_PASSWORD} caractères."
    )));
    page.blocks.push(Block::Form(FormView {
        action: action.to_owned(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        fields: vec![
            Field::password("password", "Nouveau mot de passe", "new-password")
                .error(err("password")),
            Field::password("confirm", "Confirmez le mot de passe", "new-password")
                .error(err("confirm")),
        ],
        buttons: vec![Button::primary("Enregistrer le mot de passe")],
    }));
    page
}

/// Whether a link's token has the shape of one we make (43 URL-safe
/// base64 characters): anything else is refused without a look-up.
fn token_shaped(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn purpose_of(path: &str) -> TokenPurpose {
    if path.contains("/invitation/") {
        TokenPurpose::Invitation
    } else {
        TokenPurpose::Reset
    }
}

pub async fn link_page(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    Path(token): Path<String>,
    access: Access,
) -> Response {
    let purpose = purpose_of(uri.path());
    if !token_shaped(&token) {
        return link_problem(TokenState::Unknown, purpose);
    }
    let st = match state
        .live
        .store()
        .token_state(&token_hash(&token), purpose, &now_text())
        .await
    {
        Ok(s) => s,
        Err(e) => return unexpected(e),
    };
    if !matches!(st, TokenState::Valid { .. }) {
        return link_problem(st, purpose);
    }
    let heading = match purpose {
        TokenPurpose::Invitation => "Bienvenue : choisissez votre mot de passe",
        TokenPurpose::Reset => "Choisissez un nouveau mot de passe",
    };
    let cookie = access.set_cookie.clone();
    let mut r = view::render(&password_form(&access, uri.path(), heading, vec![]));
    // The page's address holds the token: never sent on to other sites.
    // Not `no-referrer`: browsers then send `Origin: null` with the form,
    // which the cross-site check refuses.
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    with_cookie(r, cookie)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// Checks a new password; the errors are per field.
pub fn password_errors(password: &str, confirm: &str) -> Vec<(String, String)> {
    let mut errors = vec![];
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        errors.push((
            "password".into(),
            format!("Le mot de passe doit compter au moins {MIN_PASSWORD} caractères."),
        ));
    } else if n > MAX_PASSWORD {
        errors.push((
            "password".into(),
            format!("Le mot de passe doit compter au plus {MAX_PASSWORD} caractères."),
        ));
    }
    if password != confirm {
        errors.push((
            "confirm".into(),
            "Les deux mots de passe ne sont pas identiques.".into(),
        ));
    }
    errors
}

pub async fn link_post(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    Path(token): Path<String>,
    Posted { access, form }: Posted<PasswordForm>,
) -> Response {
    let purpose = purpose_of(uri.path());
    if !token_shaped(&token) {
        return link_problem(TokenState::Unknown, purpose);
    }
    let store = state.live.store();
    let hash = token_hash(&token);
    let errors = password_errors(&form.password, &form.confirm);
    if !errors.is_empty() {
        match store.token_state(&hash, purpose, &now_text()).await {
            Ok(TokenState::Valid { .. }) => {}
            Ok(st) => return link_problem(st, purpose),
            Err(e) => return unexpected(e),
        }
        let mut r = view::render(&password_form(
            &access,
            uri.path(),
            "Choisissez votre mot de passe",
            errors,
        ));
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    let user_id = match store.use_token(&hash, purpose, &now_text()).await {
        Ok(TokenState::Valid { user_id }) => user_id,
        Ok(st) => return link_problem(st, purpose),
        Err(e) => return unexpected(e),
    };
    let pw_hash = match hash_password(form.password).await {
        Ok(h) => h,
        Err(e) if e.is::<Busy>() => return busy(),
        Err(e) => return unexpected(e),
    };
    // Also ends the account's sessions and its other unused links.
    if let Err(e) = store.set_password(user_id, &pw_hash).await {
        return unexpected(e);
    }
    let user = match store.user(user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return link_problem(TokenState::Unknown, purpose),
        Err(e) => return unexpected(e),
    };
    tracing::info!(user = user.id, "password set from a one-time link");
    match open_session(&state, &user).await {
        Ok(c) => with_cookie(see_other("/admin"), Some(c)),
        Err(e) => unexpected(e),
    }
}

// ---------------------------------------------------------------- forgotten password

fn forgot_form(access: &Access, done: bool, error: Option<&str>) -> Page {
    let mut page = Page::new("Mot de passe oublié", None);
    if done {
        page.notice = Some(Notice::info(
            "Demande enregistrée",
            "Si un compte actif existe pour cette adresse, un lien pour choisir un nouveau mot de passe vient d'y être envoyé. Il est valable une heure.",
        ));
    }
    if let Some(e) = error {
        page.notice = Some(Notice::error("Demande impossible", e));
    }
    page.blocks.push(Block::Form(FormView {
        action: "/admin/mot-de-passe".into(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        fields: vec![Field::email("email", "Adresse électronique", "").autocomplete("username")],
        buttons: vec![Button::primary("Recevoir un lien")],
    }));
    page
}

pub async fn forgot_page(access: Access) -> Response {
    let cookie = access.set_cookie.clone();
    with_cookie(view::render(&forgot_form(&access, false, None)), cookie)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot_post(
    State(state): State<AppState>,
    client: ClientIp,
    Posted { access, form }: Posted<ForgotForm>,
) -> Response {
    let email = normalized_email(&form.email);
    if let Some(problem) = email_problem(&email) {
        let mut r = view::render(&forgot_form(&access, false, Some(&problem)));
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    }
    let store = state.live.store().clone();
    let now = chrono::Utc::now();
    let since = time_text(now - chrono::Duration::minutes(RESET_MINUTES));
    match store
        .count_attempt(
            &RESET_LIMITS,
            &email,
            &address_of(client),
            &time_text(now),
            &since,
        )
        .await
    {
        Ok(AttemptVerdict::Counted { .. }) => {}
        // Said plainly: it is about the person's own address.
        Ok(AttemptVerdict::Refused {
            scope: LimitScope::Address,
            freed_at,
        }) => {
            let minutes = minutes_until_free(&freed_at, RESET_MINUTES, now);
            let wait = minutes_text(minutes);
            return too_many_tries(
                "Trop de demandes",
                &format!(
                    "Trop de demandes de nouveau mot de passe depuis votre adresse. Réessayez dans {wait}."
                ),
                minutes,
            );
        }
        // Quietly, with the usual answer: saying "too many requests for this
        // account" would tell that the account exists.
        Ok(AttemptVerdict::Refused { .. }) => {
            tracing::info!("reset request over the account limit: no mail sent");
            return view::render(&forgot_form(&access, true, None));
        }
        Err(e) => return unexpected(e),
    }
    // The look-up and the mail happen after the answer, so that it takes
    // the same time whether the account exists or not.
    let cfg = state.admin.clone();
    tokio::spawn(async move {
        if let Err(e) = send_reset_link(store.as_ref(), &cfg, &email).await {
            tracing::error!(error = %e, "reset mail not sent");
        }
    });
    view::render(&forgot_form(&access, true, None))
}

/// Mails a reset link to an active account with this address; nothing for
/// an unknown or deactivated one.
async fn send_reset_link(
    store: &dyn Accounts,
    cfg: &AdminConfig,
    email: &str,
) -> anyhow::Result<()> {
    let Some((user, _)) = store.user_by_email(email).await? else {
        return Ok(());
    };
    if !user.active {
        return Ok(());
    }
    let link = new_link(store, cfg, &user, TokenPurpose::Reset).await?;
    let body = format!(
        "Bonjour,\n\nPour choisir un nouveau mot de passe Locadocs, ouvrez ce lien (valable une heure, une seule fois) :\n\n{link}\n\n\
         Si vous n'avez rien demandé, ignorez ce message : votre mot de passe reste le même.\n"
    );
    cfg.mailer
        .send(&user.email, "Nouveau mot de passe Locadocs", body)
        .await
}

// ---------------------------------------------------------------- purge

/// Deletes expired sessions, spent links and attempts older than every
/// window, once now and then every `every`, for as long as the server runs.
pub fn spawn_purger(
    store: std::sync::Arc<dyn crate::store::Store>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    crate::clock::every(every, move || {
        let store = store.clone();
        async move {
            let now = chrono::Utc::now();
            let window = LOCK_MINUTES.max(RESET_MINUTES);
            let before = time_text(now - chrono::Duration::minutes(window));
            match store.purge_expired(&time_text(now), &before).await {
                Ok(p) => tracing::debug!(
                    attempts = p.attempts,
                    tokens = p.tokens,
                    sessions = p.sessions,
                    "purged expired back-office rows"
                ),
                Err(e) => tracing::warn!(error = %e, "purge of expired back-office rows failed"),
            }
        }
    })
}

/// `locadocs user add`: creates an account and prints its invitation link.
/// Creates an account from the command line (the first administrator, or
/// any account), recorded in its history with the command as author;
/// returns its invitation link.
pub async fn cli_add_user(
    store: &dyn Accounts,
    cfg: &AdminConfig,
    email: &str,
    role: Role,
    services: &[String],
    territories: &[locadocs_core::Territory],
    command: &str,
) -> anyhow::Result<String> {
    if !email.contains('@') || email.len() > 254 {
        anyhow::bail!("« {email} » n'est pas une adresse électronique");
    }
    let author = crate::store::Author::command_line(command);
    let (_, link) = invite(store, cfg, email, role, services, territories, &author)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(link)
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        view::render(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn password_checks_wait_for_a_free_argon2_slot() {
        let held = ARGON2_SLOTS
            .acquire_many(ARGON2_PERMITS as u32)
            .await
            .unwrap();
        let wait = Duration::from_millis(50);
        assert!(matches!(
            verify_within("x".into(), None, wait).await,
            Err(Busy)
        ));
        drop(held);
        assert!(matches!(
            verify_within("x".into(), None, wait).await,
            Ok(false)
        ));
        let hash = hash_password("un mot de passe solide".into())
            .await
            .unwrap();
        assert!(matches!(
            verify_within("un mot de passe solide".into(), Some(hash), wait).await,
            Ok(true)
        ));
    }

    #[test]
    fn minutes_until_a_place_is_free() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:30Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(minutes_until_free("2026-11-23T10:00:00Z", 15, now), 15);
        assert_eq!(minutes_until_free("2026-11-23T09:45:10Z", 15, now), 1);
        assert_eq!(minutes_until_free("2026-11-23T09:00:00Z", 15, now), 1);
        assert_eq!(minutes_until_free("n'importe quoi", 15, now), 15);
    }

    #[test]
    fn emails_and_tokens_are_checked_before_any_look_up() {
        assert!(email_problem(&format!("{}@exemple.fr", "a".repeat(250))).is_some());
        assert!(email_problem("sans-arobase").is_some());
        assert!(email_problem("agent@exemple.fr").is_none());
        assert!(token_shaped(&random_token()));
        assert!(!token_shaped("court"));
        assert!(!token_shaped(&format!("{}a", "é".repeat(21))));
    }
}
