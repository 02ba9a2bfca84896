//! Back-office accounts and the history of changes: users and their scope,
//! one-time links, sessions, failed logins, and every change to a service,
//! holding rule, document type or user made through the back office, with
//! its before and after state so that it can be shown and reverted.
//!
//! Kept apart from the `Store` trait (a supertrait of it) so that reference
//! data and accounts evolve independently.

use async_trait::async_trait;
use locadocs_core::reference::parse_day;
use locadocs_core::{Bound, DocumentType, HoldingRule, Service, ServiceRef, Slug, Territory};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::rows::{self, format_day, from_bound_text, join_list};
use super::{Changes, SqlStore, StoreError};

/// What a back-office user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Edits the data of the services in their scope; reads everything.
    Contributor,
    /// Edits document types, every service and rule, guides.
    Editor,
    /// Everything, and users.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Contributor => "contributor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The French name shown in the back office.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrateur",
            Role::Editor => "Éditeur",
            Role::Contributor => "Contributeur",
        }
    }
}

/// A back-office account.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    /// Always lower-case.
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// Whether a password was chosen (an invited person has none yet).
    pub has_password: bool,
    /// The services a contributor may edit, sorted.
    pub services: Vec<String>,
    /// The territories a contributor's rules may cover, sorted: a rule is
    /// theirs to write only on a territory inside one of these.
    pub territories: Vec<Territory>,
    pub revision: i64,
    pub created_at: String,
    /// Handles the requests of their services without editing data.
    pub requests_only: bool,
    /// How they hear of new requests: `each`, `digest` or `none`.
    pub request_notify: String,
}

/// Why a one-time link is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    Invitation,
    Reset,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Invitation => "invitation",
            TokenPurpose::Reset => "reset",
        }
    }
}

/// What a one-time link is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Valid { user_id: i64 },
    Expired,
    Used,
    Unknown,
}

/// Failed logins counted over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures {
    /// For the account, from anywhere.
    pub account: i64,
    /// For the account from this address.
    pub address: i64,
    /// When the last failure from this address happened.
    pub last_from_address: Option<String>,
}

/// What is counted for rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    Login,
    /// A "forgotten password" request.
    Reset,
}

impl AttemptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Login => "login",
            AttemptKind::Reset => "reset",
        }
    }
}

/// How many attempts of a kind a window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimits {
    pub kind: AttemptKind,
    /// On one account, from anywhere.
    pub per_account: i64,
    /// From one address, on any account.
    pub per_address: i64,
    /// On one account from one address.
    pub per_account_and_address: i64,
}

/// Which limit an attempt ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    AccountAndAddress,
    Account,
    Address,
}

/// The outcome of counting an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// Within the limits and written; `account` attempts on the account in
    /// the window before this one.
    Counted { account: i64 },
    /// Over a limit; one more is allowed once the attempt made at `freed_at`
    /// leaves the window.
    Refused { scope: LimitScope, freed_at: String },
}

/// What a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub attempts: u64,
    pub tokens: u64,
    pub sessions: u64,
}

/// The kinds of records whose changes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Service,
    Holding,
    DocumentType,
    User,
}

impl Entity {
    pub const ALL: [Entity; 4] = [
        Entity::Service,
        Entity::Holding,
        Entity::DocumentType,
        Entity::User,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Service => "service",
            Entity::Holding => "regle",
            Entity::DocumentType => "type",
            Entity::User => "utilisateur",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A holding rule as kept in the history: its fields as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldingFields {
    pub document_type: String,
    pub territory: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub service: String,
    pub instructions: Option<String>,
    pub source: Option<String>,
    pub verified_at: Option<String>,
}

impl From<&HoldingRule> for HoldingFields {
    fn from(h: &HoldingRule) -> Self {
        HoldingFields {
            document_type: h.document_type.to_string(),
            territory: h.territory.to_string(),
            from: h.from.map(|b| b.to_string()),
            to: h.to.map(|b| b.to_string()),
            service: h.service.to_string(),
            instructions: h.instructions.clone(),
            source: h.source.clone(),
            verified_at: format_day(h.verified_at),
        }
    }
}

impl HoldingFields {
    /// Parses the fields back into a rule.
    pub fn to_rule(&self) -> Result<HoldingRule, String> {
        let bound = |s: &Option<String>| -> Result<Option<Bound>, String> {
            s.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| Bound::parse(s).map(|(b, _)| b).map_err(|e| e.to_string()))
                .transpose()
        };
        Ok(HoldingRule {
            document_type: Slug::parse(&self.document_type).map_err(|e| e.to_string())?,
            territory: Territory::parse(&self.territory).map_err(|e| e.to_string())?,
            from: bound(&self.from)?,
            to: bound(&self.to)?,
            service: ServiceRef::parse(&self.service).map_err(|e| e.to_string())?,
            instructions: self.instructions.clone(),
            source: self.source.clone(),
            verified_at: self
                .verified_at
                .as_deref()
                .map(|d| parse_day(d).map(|(d, _)| d).map_err(|e| e.to_string()))
                .transpose()?,
        })
    }
}

/// A user's editable fields as kept in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserFields {
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub services: Vec<String>,
    /// Absent from history entries written before territory scopes existed.
    #[serde(default)]
    pub territories: Vec<String>,
    /// Handles requests without editing data; absent from entries written
    /// before requests existed.
    #[serde(default)]
    pub requests_only: bool,
}

impl From<&User> for UserFields {
    fn from(u: &User) -> Self {
        UserFields {
            email: u.email.clone(),
            role: u.role,
            active: u.active,
            services: u.services.clone(),
            territories: u.territories.iter().map(|t| t.to_string()).collect(),
            requests_only: u.requests_only,
        }
    }
}

/// The state of a record, written or as it was.
// Records are handled one at a time (a save, a history entry): the size of
// the service variant costs nothing worth boxing it for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Service(Service),
    Holding(HoldingRule),
    DocumentType(DocumentType),
    User(UserFields),
}

impl Record {
    pub fn entity(&self) -> Entity {
        match self {
            Record::Service(_) => Entity::Service,
            Record::Holding(_) => Entity::Holding,
            Record::DocumentType(_) => Entity::DocumentType,
            Record::User(_) => Entity::User,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let v = match self {
            Record::Service(s) => serde_json::to_value(s),
            Record::Holding(h) => serde_json::to_value(HoldingFields::from(h)),
            Record::DocumentType(d) => serde_json::to_value(d),
            Record::User(u) => serde_json::to_value(u),
        };
        v.unwrap_or(serde_json::Value::Null)
    }

    fn from_json(entity: Entity, v: &serde_json::Value) -> Result<Record, String> {
        let e = |e: serde_json::Error| e.to_string();
        Ok(match entity {
            Entity::Service => Record::Service(serde_json::from_value(v.clone()).map_err(e)?),
            Entity::Holding => Record::Holding(
                serde_json::from_value::<HoldingFields>(v.clone())
                    .map_err(e)?
                    .to_rule()?,
            ),
            Entity::DocumentType => {
                Record::DocumentType(serde_json::from_value(v.clone()).map_err(e)?)
            }
            Entity::User => Record::User(serde_json::from_value(v.clone()).map_err(e)?),
        })
    }
}

/// Who makes a change: a signed-in account, or the command line.
#[derive(Debug, Clone)]
pub struct Author {
    /// The account; `None` for the command line.
    pub id: Option<i64>,
    /// The account's address, or the command that made the change.
    pub email: String,
}

impl Author {
    pub fn user(id: i64, email: &str) -> Author {
        Author {
            id: Some(id),
            email: email.to_owned(),
        }
    }

    /// Changes made from a terminal are recorded with the command line.
    pub fn command_line(command: &str) -> Author {
        Author {
            id: None,
            email: format!("ligne de commande : {command}"),
        }
    }
}

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub id: i64,
    pub entity: Entity,
    pub key: String,
    pub user_email: String,
    pub at: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// The change this one undid.
    pub reverts: Option<i64>,
    /// The change that undid this one.
    pub reverted_by: Option<i64>,
}

impl HistoryEntry {
    /// The fields that differ, with their value before and after (as text).
    pub fn changed_fields(&self) -> Vec<(String, String, String)> {
        let empty = serde_json::Map::new();
        let obj = |v: &Option<serde_json::Value>| match v {
            Some(serde_json::Value::Object(m)) => m.clone(),
            _ => empty.clone(),
        };
        let (b, a) = (obj(&self.before), obj(&self.after));
        let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
        keys.sort();
        keys.dedup();
        let text = |v: Option<&serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            Some(other) => other.to_string(),
        };
        keys.into_iter()
            .filter(|k| b.get(*k) != a.get(*k))
            .map(|k| (k.clone(), text(b.get(k)), text(a.get(k))))
            .collect()
    }
}

/// A holding rule with its row identity.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredHolding {
    pub id: i64,
    pub revision: i64,
    pub rule: HoldingRule,
}

/// Why a back-office write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Someone else saved the record since it was read.
    #[error(
        "cette fiche a été modifiée par quelqu'un d'autre depuis que vous l'avez ouverte : rechargez-la, vérifiez, puis recommencez"
    )]
    Conflict,
    #[error("cette fiche n'existe pas (ou plus)")]
    NotFound,
    #[error("une fiche avec cet identifiant existe déjà")]
    Duplicate,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(d) = &e
            && d.is_unique_violation()
        {
            return WriteError::Duplicate;
        }
        WriteError::Store(StoreError::Database(e))
    }
}

/// Accounts, sessions and history.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates an account without password, with its scope (services and
    /// territories, for a contributor). The email is lower-cased.
    async fn create_user(
        &self,
        email: &str,
        role: Role,
        services: &[String],
        territories: &[Territory],
        author: &Author,
    ) -> Result<User, WriteError>;

    async fn user(&self, id: i64) -> Result<Option<User>, StoreError>;

    /// The account and its password hash.
    async fn user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError>;

    async fn users(&self) -> Result<Vec<User>, StoreError>;

    async fn set_password(&self, user_id: i64, hash: &str) -> Result<(), StoreError>;

    /// Stores a one-time link (its hash only).
    async fn add_token(
        &self,
        user_id: i64,
        purpose: TokenPurpose,
        hash: &str,
        expires_at: &str,
    ) -> Result<(), StoreError>;

    /// What a link is worth now, without using it.
    async fn token_state(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: &str,
    ) -> Result<TokenState, StoreError>;

    /// Uses a link: valid only once, atomically.
    async fn use_token(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: &str,
    ) -> Result<TokenState, StoreError>;

    async fn add_session(
        &self,
        hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: &str,
    ) -> Result<(), StoreError>;

    /// The active account and CSRF token of an unexpired session.
    async fn session(&self, hash: &str, now: &str) -> Result<Option<(User, String)>, StoreError>;

    async fn delete_session(&self, hash: &str) -> Result<(), StoreError>;

    /// Ends every session of an account (deactivation, new password).
    async fn delete_sessions_of(&self, user_id: i64) -> Result<(), StoreError>;

    /// Counts one attempt against its limits, atomically: the limits are
    /// checked and the attempt written in one serialized transaction, so
    /// parallel attempts cannot all pass. A refused attempt is not written.
    /// `since` is the start of the window, `now` the attempt's time.
    async fn count_attempt(
        &self,
        limits: &AttemptLimits,
        email: &str,
        address: &str,
        now: &str,
        since: &str,
    ) -> Result<AttemptVerdict, StoreError>;

    /// Failed logins since a time, for the account and for (account, address).
    async fn login_failures(
        &self,
        email: &str,
        address: &str,
        since: &str,
    ) -> Result<Failures, StoreError>;

    /// Forgets the login attempts of an account from an address (after a success).
    async fn clear_login_failures(&self, email: &str, address: &str) -> Result<(), StoreError>;

    /// Deletes what no longer serves: attempts older than `attempts_before`,
    /// links expired or used by `now`, sessions expired by `now`.
    async fn purge_expired(&self, now: &str, attempts_before: &str) -> Result<Purged, StoreError>;

    /// Every holding rule with its id and revision.
    async fn stored_holdings(&self) -> Result<Vec<StoredHolding>, StoreError>;

    async fn stored_holding(&self, id: i64) -> Result<Option<StoredHolding>, StoreError>;

    /// The revision of a record, `None` if it does not exist.
    async fn revision(&self, entity: Entity, key: &str) -> Result<Option<i64>, StoreError>;

    /// A record as stored now, with its revision: what a write is checked
    /// against (the snapshot may be behind).
    async fn record(&self, entity: Entity, key: &str) -> Result<Option<(Record, i64)>, StoreError>;

    /// Writes one record and records the change, in one transaction.
    /// `key` is `None` to create; `after` is `None` to delete. With
    /// `expected_revision`, the write is refused if the record changed since.
    /// Returns the record's key (a new holding rule's id).
    async fn save(
        &self,
        author: &Author,
        entity: Entity,
        key: Option<&str>,
        expected_revision: Option<i64>,
        after: Option<Record>,
    ) -> Result<String, WriteError>;

    /// Applies a batch of changes (an import) in one transaction, recording
    /// every change in the history as if made on its screen. Refused with
    /// `WriteError::Conflict` if the data version is no longer
    /// `expected_version`. Returns the new data version.
    async fn apply_recorded(
        &self,
        author: &Author,
        changes: &Changes,
        expected_version: i64,
    ) -> Result<i64, WriteError>;

    /// Undoes a recorded change, if the record has not changed since; the
    /// undoing is itself recorded.
    async fn revert(&self, author: &Author, history_id: i64) -> Result<HistoryEntry, WriteError>;

    async fn history_of(&self, entity: Entity, key: &str) -> Result<Vec<HistoryEntry>, StoreError>;

    async fn history_entry(&self, id: i64) -> Result<Option<HistoryEntry>, StoreError>;

    /// The latest changes, newest first.
    async fn recent_history(&self, limit: i64) -> Result<Vec<HistoryEntry>, StoreError>;
}

/// Now, as stored: ISO 8601 UTC, comparable as text.
pub fn now_text() -> String {
    time_text(chrono::Utc::now())
}

pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What a contributor may edit: services, and territories.
#[derive(Debug, Default)]
struct Scope {
    services: Vec<String>,
    territories: Vec<Territory>,
}

/// The scope of an account, in one query.
async fn services_of(
    ex: impl sqlx::Executor<'_, Database = Any>,
    user_id: i64,
) -> Result<Scope, StoreError> {
    let rows = sqlx::query(
        "SELECT 's' AS k, service AS v FROM user_services WHERE user_id = $1 \
         UNION ALL SELECT 't' AS k, territory AS v FROM user_territories WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await?;
    let mut scope = Scope::default();
    for r in &rows {
        scope_add(
            &mut scope,
            user_id,
            &r.try_get::<String, _>("k")?,
            r.try_get("v")?,
        )?;
    }
    Ok(scope)
}

fn scope_add(scope: &mut Scope, user_id: i64, kind: &str, v: String) -> Result<(), StoreError> {
    if kind == "s" {
        scope.services.push(v);
    } else {
        let t = Territory::parse(&v).map_err(|e| StoreError::Corrupt {
            table: "user_territories",
            key: user_id.to_string(),
            message: e.to_string(),
        })?;
        scope.territories.push(t);
    }
    Ok(())
}

fn user_row(r: &AnyRow, mut scope: Scope) -> Result<User, StoreError> {
    let role: String = r.try_get("role")?;
    let id: i64 = r.try_get("id")?;
    scope.services.sort();
    scope.territories.sort();
    Ok(User {
        id,
        email: r.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt {
            table: "users",
            key: id.to_string(),
            message: format!("rôle {role}"),
        })?,
        active: r.try_get::<i64, _>("active")? != 0,
        has_password: r.try_get::<Option<String>, _>("password_hash")?.is_some(),
        services: scope.services,
        territories: scope.territories,
        revision: r.try_get("revision")?,
        created_at: r.try_get("created_at")?,
        requests_only: r.try_get::<i64, _>("requests_only")? != 0,
        request_notify: r.try_get("request_notify")?,
    })
}

fn history_row(r: &AnyRow) -> Result<HistoryEntry, StoreError> {
    let entity: String = r.try_get("entity")?;
    let id: i64 = r.try_get("id")?;
    let json = |col: &str| -> Result<Option<serde_json::Value>, StoreError> {
        let t: Option<String> = r.try_get(col)?;
        Ok(t.and_then(|t| serde_json::from_str(&t).ok()))
    };
    Ok(HistoryEntry {
        id,
        entity: Entity::parse(&entity).ok_or_else(|| StoreError::Corrupt {
            table: "history",
            key: id.to_string(),
            message: format!("entité {entity}"),
        })?,
        key: r.try_get("entity_key")?,
        user_email: r.try_get("user_email")?,
        at: r.try_get("at")?,
        before: json("before_json")?,
        after: json("after_json")?,
        reverts: r.try_get("reverts")?,
        reverted_by: r.try_get("reverted_by")?,
    })
}

pub(super) async fn bump_data_version(tx: &mut Transaction<'_, Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn data_version_in(tx: &mut Transaction<'_, Any>) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = 'data_version'")
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("value")?)
}

/// The id of the holding rule with this key, inside a transaction.
async fn holding_id_in(
    tx: &mut Transaction<'_, Any>,
    k: &super::HoldingKey,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(
        "SELECT id FROM holdings WHERE document_type = $1 AND territory = $2 AND from_bound = $3",
    )
    .bind(k.0.as_str())
    .bind(k.1.to_string())
    .bind(from_bound_text(k.2))
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| r.try_get("id")).transpose().map_err(Into::into)
}

/// Reads a record's current state and revision inside a transaction.
async fn read_record(
    tx: &mut Transaction<'_, Any>,
    entity: Entity,
    key: &str,
) -> Result<Option<(Record, i64)>, StoreError> {
    match entity {
        Entity::Service => {
            let row = sqlx::query("SELECT * FROM services WHERE id = $1")
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?;
            row.map(|r| Ok((Record::Service(rows::service(&r)?), r.try_get("revision")?)))
                .transpose()
        }
        Entity::DocumentType => {
            let row = sqlx::query("SELECT * FROM document_types WHERE slug = $1")
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?;
            row.map(|r| {
                Ok((
                    Record::DocumentType(rows::document_type(&r)?),
                    r.try_get("revision")?,
                ))
            })
            .transpose()
        }
        Entity::Holding => {
            let Ok(id) = key.parse::<i64>() else {
                return Ok(None);
            };
            let row = sqlx::query("SELECT * FROM holdings WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
            row.map(|r| Ok((Record::Holding(rows::holding(&r)?), r.try_get("revision")?)))
                .transpose()
        }
        Entity::User => {
            let Ok(id) = key.parse::<i64>() else {
                return Ok(None);
            };
            let row = sqlx::query("SELECT * FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
            match row {
                None => Ok(None),
                Some(r) => {
                    let services = services_of(&mut **tx, id).await?;
                    let u = user_row(&r, services)?;
                    Ok(Some((Record::User(UserFields::from(&u)), u.revision)))
                }
            }
        }
    }
}

/// Writes a record's new state (or deletes it) inside a transaction;
/// returns its key. `create_key` forces the id of a re-created holding rule.
async fn write_record(
    tx: &mut Transaction<'_, Any>,
    entity: Entity,
    key: Option<&str>,
    after: Option<&Record>,
    ts: &str,
) -> Result<String, WriteError> {
    let exists = key.is_some();
    match (after, key) {
        (None, None) => Err(WriteError::NotFound),
        (None, Some(key)) => {
            let (sql, id): (&str, Option<i64>) = match entity {
                Entity::Service => ("DELETE FROM services WHERE id = $1", None),
                Entity::DocumentType => ("DELETE FROM document_types WHERE slug = $1", None),
                Entity::Holding => (
                    "DELETE FROM holdings WHERE id = $1",
                    Some(key.parse().map_err(|_| WriteError::NotFound)?),
                ),
                Entity::User => {
                    return Err(WriteError::Invalid(
                        "un compte ne se supprime pas : désactivez-le".into(),
                    ));
                }
            };
            let q = sqlx::query(sql);
            let q = match id {
                Some(id) => q.bind(id),
                None => q.bind(key),
            };
            q.execute(&mut **tx).await?;
            if entity == Entity::Service {
                // A grant must not outlive its service: a new service made
                // later under the same id is nobody's until an
                // administrator says so.
                sqlx::query("DELETE FROM user_services WHERE service = $1")
                    .bind(key)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(key.to_owned())
        }
        (Some(Record::Service(s)), _) => {
            let sql = if exists {
                "UPDATE services SET name = $2, kind = $3, commune = $4, address = $5, postal_code = $6, \
                 city = $7, phone = $8, email = $9, website = $10, request_url = $11, opening_hours = $12, \
                 response_time = $13, latitude = $14, longitude = $15, annuaire_id = $16, verified_at = $17, \
                 updated_at = $18, competence = $19, francearchives_id = $20, francearchives_url = $21, \
                 search_url = $22, revision = revision + 1 WHERE id = $1"
            } else {
                "INSERT INTO services (id, name, kind, commune, address, postal_code, city, phone, email, \
                 website, request_url, opening_hours, response_time, latitude, longitude, annuaire_id, \
                 verified_at, updated_at, competence, francearchives_id, francearchives_url, search_url) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
            };
            sqlx::query(sql)
                .bind(s.id.as_str())
                .bind(&s.name)
                .bind(s.kind.as_str())
                .bind(s.commune.map(|c| c.to_string()))
                .bind(&s.address)
                .bind(&s.postal_code)
                .bind(&s.city)
                .bind(&s.phone)
                .bind(&s.email)
                .bind(&s.website)
                .bind(&s.request_url)
                .bind(&s.opening_hours)
                .bind(&s.response_time)
                .bind(s.latitude)
                .bind(s.longitude)
                .bind(&s.annuaire_id)
                .bind(format_day(s.verified_at))
                .bind(ts)
                .bind(locadocs_core::reference::format_competence(&s.competence))
                .bind(&s.francearchives_id)
                .bind(&s.francearchives_url)
                .bind(&s.search_url)
                .execute(&mut **tx)
                .await?;
            // The checks across services run once, at the end of the
            // transaction (`services_clash`).
            Ok(s.id.to_string())
        }
        (Some(Record::DocumentType(d)), _) => {
            let sql = if exists {
                "UPDATE document_types SET label = $2, theme = $3, aliases = $4, description = $5, \
                 communicability_years = $6, communicability_note = $7, updated_at = $8, \
                 revision = revision + 1 WHERE slug = $1"
            } else {
                "INSERT INTO document_types (slug, label, theme, aliases, description, communicability_years, \
                 communicability_note, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            };
            sqlx::query(sql)
                .bind(d.slug.as_str())
                .bind(&d.label)
                .bind(&d.theme)
                .bind(join_list(&d.aliases))
                .bind(&d.description)
                .bind(i64::from(d.communicability_years))
                .bind(&d.communicability_note)
                .bind(ts)
                .execute(&mut **tx)
                .await?;
            Ok(d.slug.to_string())
        }
        (Some(Record::Holding(h)), key) => {
            let id: Option<i64> = key
                .map(|k| k.parse().map_err(|_| WriteError::NotFound))
                .transpose()?;
            let vals = (
                h.document_type.as_str().to_owned(),
                h.territory.to_string(),
                from_bound_text(h.from),
                h.to.map(|b| b.to_string()),
                h.service.to_string(),
            );
            match id {
                Some(id) => {
                    let q = if exists_holding(tx, id).await? {
                        "UPDATE holdings SET document_type = $2, territory = $3, from_bound = $4, to_bound = $5, \
                         service = $6, instructions = $7, source = $8, verified_at = $9, updated_at = $10, \
                         revision = revision + 1 WHERE id = $1"
                    } else {
                        // A deleted rule brought back by a revert keeps its id.
                        "INSERT INTO holdings (id, document_type, territory, from_bound, to_bound, service, \
                         instructions, source, verified_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    };
                    sqlx::query(q)
                        .bind(id)
                        .bind(vals.0)
                        .bind(vals.1)
                        .bind(vals.2)
                        .bind(vals.3)
                        .bind(vals.4)
                        .bind(&h.instructions)
                        .bind(&h.source)
                        .bind(format_day(h.verified_at))
                        .bind(ts)
                        .execute(&mut **tx)
                        .await?;
                    Ok(id.to_string())
                }
                None => {
                    let row = sqlx::query(
                        "INSERT INTO holdings (document_type, territory, from_bound, to_bound, service, \
                         instructions, source, verified_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         RETURNING id",
                    )
                    .bind(vals.0)
                    .bind(vals.1)
                    .bind(vals.2)
                    .bind(vals.3)
                    .bind(vals.4)
                    .bind(&h.instructions)
                    .bind(&h.source)
                    .bind(format_day(h.verified_at))
                    .bind(ts)
                    .fetch_one(&mut **tx)
                    .await?;
                    Ok(row.try_get::<i64, _>("id")?.to_string())
                }
            }
        }
        (Some(Record::User(u)), key) => {
            let id: i64 = key
                .and_then(|k| k.parse().ok())
                .ok_or(WriteError::NotFound)?;
            sqlx::query(
                "UPDATE users SET role = $2, active = $3, requests_only = $4, revision = revision + 1 WHERE id = $1",
            )
            .bind(id)
            .bind(u.role.as_str())
            .bind(i64::from(u.active))
            .bind(i64::from(u.requests_only))
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM user_services WHERE user_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            for s in &u.services {
                sqlx::query("INSERT INTO user_services (user_id, service) VALUES ($1, $2)")
                    .bind(id)
                    .bind(s)
                    .execute(&mut **tx)
                    .await?;
            }
            write_territories(tx, id, &u.territories).await?;
            if !u.active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                // Nor may a link sent before bring it back once reactivated.
                sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND used_at IS NULL")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(id.to_string())
        }
    }
}

/// Replaces the territory scope of an account.
async fn write_territories(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    territories: &[String],
) -> Result<(), WriteError> {
    sqlx::query("DELETE FROM user_territories WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for t in territories {
        let t = Territory::parse(t).map_err(|e| WriteError::Invalid(e.to_string()))?;
        sqlx::query("INSERT INTO user_territories (user_id, territory) VALUES ($1, $2)")
            .bind(user_id)
            .bind(t.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn exists_holding(tx: &mut Transaction<'_, Any>, id: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT id FROM holdings WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .is_some())
}

#[allow(clippy::too_many_arguments)]
async fn insert_history(
    tx: &mut Transaction<'_, Any>,
    author: &Author,
    entity: Entity,
    key: &str,
    before: Option<&Record>,
    after: Option<&Record>,
    reverts: Option<i64>,
    ts: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO history (entity, entity_key, user_id, user_email, at, before_json, after_json, reverts) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(entity.as_str())
    .bind(key)
    .bind(author.id)
    .bind(&author.email)
    .bind(ts)
    .bind(before.map(|r| r.to_json().to_string()))
    .bind(after.map(|r| r.to_json().to_string()))
    .bind(reverts)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

/// The row read, the write and its record, in an open transaction.
async fn save_in(
    tx: &mut Transaction<'_, Any>,
    author: &Author,
    entity: Entity,
    key: Option<&str>,
    expected_revision: Option<i64>,
    after: Option<&Record>,
    reverts: Option<i64>,
) -> Result<String, WriteError> {
    // Taking the version row first serializes writers, so the revision
    // check below cannot race with another save.
    bump_data_version(tx).await?;
    let ts = now_text();
    let before = match key {
        Some(k) => read_record(tx, entity, k).await?,
        None => None,
    };
    match (&before, key, expected_revision) {
        (None, Some(_), _) if reverts.is_none() => return Err(WriteError::NotFound),
        (Some((_, rev)), _, Some(expected)) if *rev != expected => {
            return Err(WriteError::Conflict);
        }
        _ => {}
    }
    if let (None, Some(Record::Service(_) | Record::DocumentType(_)), None) = (&before, after, key)
    {
        // Creation: a record with this identifier must not exist yet.
        let id = match after {
            Some(Record::Service(s)) => s.id.to_string(),
            Some(Record::DocumentType(d)) => d.slug.to_string(),
            _ => String::new(),
        };
        if read_record(tx, entity, &id).await?.is_some() {
            return Err(WriteError::Duplicate);
        }
    }
    let key_for_write = if before.is_some() { key } else { None };
    let new_key = match (key_for_write, after, key) {
        // A revert re-creating a deleted holding rule keeps its id.
        (None, Some(Record::Holding(_)), Some(k)) => {
            write_record(tx, entity, Some(k), after, &ts).await?
        }
        _ => write_record(tx, entity, key_for_write, after, &ts).await?,
    };
    insert_history(
        tx,
        author,
        entity,
        &new_key,
        before.as_ref().map(|(r, _)| r),
        after,
        reverts,
        &ts,
    )
    .await?;
    Ok(new_key)
}

#[async_trait]
impl Accounts for SqlStore {
    async fn create_user(
        &self,
        email: &str,
        role: Role,
        services: &[String],
        territories: &[Territory],
        author: &Author,
    ) -> Result<User, WriteError> {
        let email = email.trim().to_lowercase();
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(WriteError::Duplicate);
        }
        let row = sqlx::query(
            "INSERT INTO users (email, role, active, created_at) VALUES ($1, $2, 1, $3) RETURNING id",
        )
        .bind(&email)
        .bind(role.as_str())
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let mut services = services.to_vec();
        services.sort();
        services.dedup();
        for s in &services {
            sqlx::query("INSERT INTO user_services (user_id, service) VALUES ($1, $2)")
                .bind(id)
                .bind(s)
                .execute(&mut *tx)
                .await?;
        }
        let mut territories: Vec<String> = territories.iter().map(|t| t.to_string()).collect();
        territories.sort();
        territories.dedup();
        write_territories(&mut tx, id, &territories).await?;
        let fields = UserFields {
            email: email.clone(),
            role,
            active: true,
            services: services.clone(),
            territories,
            requests_only: false,
        };
        insert_history(
            &mut tx,
            author,
            Entity::User,
            &id.to_string(),
            None,
            Some(&Record::User(fields)),
            None,
            &now_text(),
        )
        .await?;
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let user = user_row(&row, services_of(&mut *tx, id).await?)?;
        tx.commit().await?;
        Ok(user)
    }

    async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(user_row(&r, services_of(self.pool(), id).await?)?)),
        }
    }

    async fn user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let id: i64 = r.try_get("id")?;
                let hash: Option<String> = r.try_get("password_hash")?;
                Ok(Some((
                    user_row(&r, services_of(self.pool(), id).await?)?,
                    hash,
                )))
            }
        }
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY email")
            .fetch_all(self.pool())
            .await?;
        let links = sqlx::query(
            "SELECT user_id, 's' AS k, service AS v FROM user_services \
             UNION ALL SELECT user_id, 't' AS k, territory AS v FROM user_territories",
        )
        .fetch_all(self.pool())
        .await?;
        let mut scopes: std::collections::HashMap<i64, Scope> = Default::default();
        for l in &links {
            let id: i64 = l.try_get("user_id")?;
            scope_add(
                scopes.entry(id).or_default(),
                id,
                &l.try_get::<String, _>("k")?,
                l.try_get("v")?,
            )?;
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                user_row(r, scopes.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    async fn set_password(&self, user_id: i64, hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        // A new password ends every open session of the account,
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        // and every other unused invitation or reset link: one sent earlier
        // (or intercepted) must not open the account again.
        sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_token(
        &self,
        user_id: i64,
        purpose: TokenPurpose,
        hash: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(now_text())
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn token_state(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: &str,
    ) -> Result<TokenState, StoreError> {
        let row = sqlx::query(
            "SELECT t.user_id, t.expires_at, t.used_at, u.active FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.hash = $1 AND t.purpose = $2",
        )
        .bind(hash)
        .bind(purpose.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(TokenState::Unknown);
        };
        if r.try_get::<Option<String>, _>("used_at")?.is_some() {
            return Ok(TokenState::Used);
        }
        if r.try_get::<i64, _>("active")? == 0 {
            return Ok(TokenState::Unknown);
        }
        if r.try_get::<String, _>("expires_at")?.as_str() <= now {
            return Ok(TokenState::Expired);
        }
        Ok(TokenState::Valid {
            user_id: r.try_get("user_id")?,
        })
    }

    async fn use_token(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: &str,
    ) -> Result<TokenState, StoreError> {
        let state = self.token_state(hash, purpose, now).await?;
        if let TokenState::Valid { .. } = state {
            // The condition on used_at makes a second, concurrent use fail.
            let done = sqlx::query(
                "UPDATE tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(hash)
            .bind(now)
            .execute(self.pool())
            .await?;
            if done.rows_affected() == 0 {
                return Ok(TokenState::Used);
            }
        }
        Ok(state)
    }

    async fn add_session(
        &self,
        hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let now = now_text();
        // Expired sessions are swept as new ones open.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(&now)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(user_id)
        .bind(csrf)
        .bind(&now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn session(&self, hash: &str, now: &str) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT s.csrf, u.* FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.hash = $1 AND s.expires_at > $2 AND u.active = 1",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let id: i64 = r.try_get("id")?;
                let csrf: String = r.try_get("csrf")?;
                Ok(Some((
                    user_row(&r, services_of(self.pool(), id).await?)?,
                    csrf,
                )))
            }
        }
    }

    async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1")
            .bind(hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn delete_sessions_of(&self, user_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn count_attempt(
        &self,
        limits: &AttemptLimits,
        email: &str,
        address: &str,
        now: &str,
        since: &str,
    ) -> Result<AttemptVerdict, StoreError> {
        let email = email.trim().to_lowercase();
        let kind = limits.kind.as_str();
        // SQLite's write transactions are serialized by `BEGIN IMMEDIATE`;
        // on PostgreSQL this lock mode conflicts with itself, so counting
        // transactions run one after another (plain reads are not blocked).
        let mut tx = self.begin_write().await?;
        if super::Store::engine(self) == super::Engine::Postgres {
            sqlx::query("LOCK TABLE auth_attempts IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        // The `limit`-th newest attempt of the window: if there is one, the
        // limit is reached, and it is the one whose expiry frees a place.
        let checks = [
            (
                LimitScope::AccountAndAddress,
                limits.per_account_and_address,
                "email = $3 AND address = $4",
            ),
            (LimitScope::Account, limits.per_account, "email = $3"),
            (LimitScope::Address, limits.per_address, "address = $3"),
        ];
        for (scope, limit, cond) in checks {
            let sql = format!(
                "SELECT at FROM auth_attempts WHERE kind = $1 AND at > $2 AND {cond} \
                 ORDER BY at DESC LIMIT 1 OFFSET {}",
                limit.max(1) - 1
            );
            let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind).bind(since);
            let q = match scope {
                LimitScope::AccountAndAddress => q.bind(&email).bind(address),
                LimitScope::Account => q.bind(&email),
                LimitScope::Address => q.bind(address),
            };
            if let Some(r) = q.fetch_optional(&mut *tx).await? {
                let freed_at: String = r.try_get("at")?;
                tx.commit().await?;
                return Ok(AttemptVerdict::Refused { scope, freed_at });
            }
        }
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM auth_attempts WHERE kind = $1 AND email = $2 AND at > $3",
        )
        .bind(kind)
        .bind(&email)
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
        let account: i64 = row.try_get("n")?;
        sqlx::query("INSERT INTO auth_attempts (kind, email, address, at) VALUES ($1, $2, $3, $4)")
            .bind(kind)
            .bind(&email)
            .bind(address)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(AttemptVerdict::Counted { account })
    }

    async fn login_failures(
        &self,
        email: &str,
        address: &str,
        since: &str,
    ) -> Result<Failures, StoreError> {
        let email = email.trim().to_lowercase();
        let rows = sqlx::query(
            "SELECT address, at FROM auth_attempts WHERE kind = 'login' AND email = $1 AND at > $2 ORDER BY at",
        )
        .bind(&email)
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        let mut f = Failures::default();
        for r in &rows {
            f.account += 1;
            if r.try_get::<String, _>("address")? == address {
                f.address += 1;
                f.last_from_address = Some(r.try_get("at")?);
            }
        }
        Ok(f)
    }

    async fn clear_login_failures(&self, email: &str, address: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM auth_attempts WHERE kind = 'login' AND email = $1 AND address = $2",
        )
        .bind(email.trim().to_lowercase())
        .bind(address)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn purge_expired(&self, now: &str, attempts_before: &str) -> Result<Purged, StoreError> {
        let attempts = sqlx::query("DELETE FROM auth_attempts WHERE at <= $1")
            .bind(attempts_before)
            .execute(self.pool())
            .await?
            .rows_affected();
        let tokens =
            sqlx::query("DELETE FROM tokens WHERE expires_at <= $1 OR used_at IS NOT NULL")
                .bind(now)
                .execute(self.pool())
                .await?
                .rows_affected();
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(Purged {
            attempts,
            tokens,
            sessions,
        })
    }

    async fn stored_holdings(&self) -> Result<Vec<StoredHolding>, StoreError> {
        let rows = sqlx::query("SELECT * FROM holdings ORDER BY document_type, territory, id")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredHolding {
                    id: r.try_get("id")?,
                    revision: r.try_get("revision")?,
                    rule: rows::holding(r)?,
                })
            })
            .collect()
    }

    async fn stored_holding(&self, id: i64) -> Result<Option<StoredHolding>, StoreError> {
        let row = sqlx::query("SELECT * FROM holdings WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(StoredHolding {
                id: r.try_get("id")?,
                revision: r.try_get("revision")?,
                rule: rows::holding(&r)?,
            })
        })
        .transpose()
    }

    async fn record(&self, entity: Entity, key: &str) -> Result<Option<(Record, i64)>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let r = read_record(&mut tx, entity, key).await?;
        tx.commit().await?;
        Ok(r)
    }

    async fn revision(&self, entity: Entity, key: &str) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let r = read_record(&mut tx, entity, key).await?.map(|(_, rev)| rev);
        tx.commit().await?;
        Ok(r)
    }

    async fn save(
        &self,
        author: &Author,
        entity: Entity,
        key: Option<&str>,
        expected_revision: Option<i64>,
        after: Option<Record>,
    ) -> Result<String, WriteError> {
        if let Some(a) = &after
            && a.entity() != entity
        {
            return Err(WriteError::Invalid("type de fiche incohérent".into()));
        }
        let mut tx = self.begin_write().await?;
        let key = save_in(
            &mut tx,
            author,
            entity,
            key,
            expected_revision,
            after.as_ref(),
            None,
        )
        .await?;
        // Checked once the row is written (whole-table, so not per row of
        // an import: `apply_recorded` checks once at its end).
        if entity == Entity::Service
            && let Some(msg) = super::sql::services_clash(&mut tx).await?
        {
            return Err(WriteError::Invalid(msg));
        }
        tx.commit().await?;
        Ok(key)
    }

    async fn apply_recorded(
        &self,
        author: &Author,
        changes: &Changes,
        expected_version: i64,
    ) -> Result<i64, WriteError> {
        let mut tx = self.begin_write().await?;
        // Bumping first takes the version row: concurrent writers wait here,
        // and then see the version they moved.
        bump_data_version(&mut tx).await?;
        let found = data_version_in(&mut tx).await?;
        if found != expected_version + 1 {
            return Err(WriteError::Conflict);
        }
        // Deleted rules first (they may point at deleted services or types),
        // then types and services, then rules, then deleted services and types.
        for k in &changes.delete_holdings {
            if let Some(id) = holding_id_in(&mut tx, k).await? {
                save_in(
                    &mut tx,
                    author,
                    Entity::Holding,
                    Some(&id.to_string()),
                    None,
                    None,
                    None,
                )
                .await?;
            }
        }
        for d in &changes.upsert_document_types {
            let key = d.slug.to_string();
            let exists = read_record(&mut tx, Entity::DocumentType, &key)
                .await?
                .is_some();
            let after = Record::DocumentType(d.clone());
            save_in(
                &mut tx,
                author,
                Entity::DocumentType,
                exists.then_some(key.as_str()),
                None,
                Some(&after),
                None,
            )
            .await?;
        }
        for s in &changes.upsert_services {
            let key = s.id.to_string();
            let exists = read_record(&mut tx, Entity::Service, &key).await?.is_some();
            let after = Record::Service(s.clone());
            save_in(
                &mut tx,
                author,
                Entity::Service,
                exists.then_some(key.as_str()),
                None,
                Some(&after),
                None,
            )
            .await?;
        }
        for h in &changes.upsert_holdings {
            let id = holding_id_in(&mut tx, &h.key())
                .await?
                .map(|i| i.to_string());
            let after = Record::Holding(h.clone());
            save_in(
                &mut tx,
                author,
                Entity::Holding,
                id.as_deref(),
                None,
                Some(&after),
                None,
            )
            .await?;
        }
        for id in &changes.delete_services {
            if read_record(&mut tx, Entity::Service, id.as_str())
                .await?
                .is_some()
            {
                save_in(
                    &mut tx,
                    author,
                    Entity::Service,
                    Some(id.as_str()),
                    None,
                    None,
                    None,
                )
                .await?;
            }
        }
        for slug in &changes.delete_document_types {
            if read_record(&mut tx, Entity::DocumentType, slug.as_str())
                .await?
                .is_some()
            {
                save_in(
                    &mut tx,
                    author,
                    Entity::DocumentType,
                    Some(slug.as_str()),
                    None,
                    None,
                    None,
                )
                .await?;
            }
        }
        if (!changes.upsert_services.is_empty() || !changes.delete_services.is_empty())
            && let Some(msg) = super::sql::services_clash(&mut tx).await?
        {
            return Err(WriteError::Invalid(msg));
        }
        let version = data_version_in(&mut tx).await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn revert(&self, author: &Author, history_id: i64) -> Result<HistoryEntry, WriteError> {
        let entry = self
            .history_entry(history_id)
            .await?
            .ok_or(WriteError::NotFound)?;
        if entry.reverted_by.is_some() {
            return Err(WriteError::Invalid(
                "cette modification a déjà été annulée".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        // Only the latest state may be undone: the record must still be as
        // the change left it, or the revert would silently drop later work.
        let current = read_record(&mut tx, entry.entity, &entry.key).await?;
        let current_json = current.as_ref().map(|(r, _)| r.to_json());
        if current_json != entry.after {
            return Err(WriteError::Invalid(
                "la fiche a été modifiée depuis ce changement : annulez d'abord les changements plus récents".into(),
            ));
        }
        let restore = entry
            .before
            .as_ref()
            .map(|v| Record::from_json(entry.entity, v))
            .transpose()
            .map_err(WriteError::Invalid)?;
        let key = save_in(
            &mut tx,
            author,
            entry.entity,
            Some(&entry.key),
            current.map(|(_, rev)| rev),
            restore.as_ref(),
            Some(entry.id),
        )
        .await?;
        let new =
            sqlx::query("SELECT MAX(id) AS id FROM history WHERE entity = $1 AND entity_key = $2")
                .bind(entry.entity.as_str())
                .bind(&key)
                .fetch_one(&mut *tx)
                .await?;
        let new_id: i64 = new.try_get("id")?;
        sqlx::query("UPDATE history SET reverted_by = $2 WHERE id = $1")
            .bind(entry.id)
            .bind(new_id)
            .execute(&mut *tx)
            .await?;
        if entry.entity == Entity::Service
            && let Some(msg) = super::sql::services_clash(&mut tx).await?
        {
            return Err(WriteError::Invalid(msg));
        }
        tx.commit().await?;
        self.history_entry(new_id)
            .await?
            .ok_or(WriteError::NotFound)
    }

    async fn history_of(&self, entity: Entity, key: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM history WHERE entity = $1 AND entity_key = $2 ORDER BY id DESC",
        )
        .bind(entity.as_str())
        .bind(key)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(history_row).collect()
    }

    async fn history_entry(&self, id: i64) -> Result<Option<HistoryEntry>, StoreError> {
        let row = sqlx::query("SELECT * FROM history WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(history_row).transpose()
    }

    async fn recent_history(&self, limit: i64) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query("SELECT * FROM history ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(history_row).collect()
    }
}
