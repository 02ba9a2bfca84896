//! Persistence: the `Store` trait and its SQL implementation for SQLite (the
//! embedded default) and PostgreSQL (several instances serving one country).
//!
//! Every write runs in one transaction that also bumps `data_version`, so a
//! write is either entirely visible or not at all, and every server instance
//! notices it by comparing versions.

mod accounts;
mod analytics;
mod dashboards;
mod requests;
mod rows;
mod sql;
mod stats;

use async_trait::async_trait;
use locadocs_core::cog::CogData;
use locadocs_core::{
    Bound, DocumentType, HoldingRule, RefData, Service, Site, Slug, Territories, Territory,
};

pub use accounts::*;
pub use analytics::*;
pub use dashboards::*;
pub use requests::*;
pub use sql::SqlStore;
pub use stats::*;

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// Chooses the engine from a database URL.
    pub fn from_url(url: &str) -> Result<Engine, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else {
            Err(StoreError::BadUrl(url.to_owned()))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "adresse de base de données non reconnue : « {0} » (attendu : sqlite://fichier.db ou postgres://…)"
    )]
    BadUrl(String),
    #[error(
        "les données ont été modifiées entre-temps (version {expected} attendue, {found} trouvée) : recommencez"
    )]
    Conflict { expected: i64, found: i64 },
    #[error("donnée stockée invalide ({table}, {key}) : {message}")]
    Corrupt {
        table: &'static str,
        key: String,
        message: String,
    },
    /// The data would break a rule of the domain (the message says which).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// What a territories import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TerritoryCounts {
    pub communes: usize,
    pub epcis: usize,
    pub departements: usize,
    pub regions: usize,
}

/// The key of a holding rule: document type, territory and start.
pub type HoldingKey = (Slug, Territory, Option<Bound>);

/// A batch of changes to the reference data, applied all together or not at all.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub upsert_document_types: Vec<DocumentType>,
    pub delete_document_types: Vec<Slug>,
    pub upsert_services: Vec<Service>,
    pub delete_services: Vec<Slug>,
    pub upsert_holdings: Vec<HoldingRule>,
    pub delete_holdings: Vec<HoldingKey>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.upsert_document_types.is_empty()
            && self.delete_document_types.is_empty()
            && self.upsert_services.is_empty()
            && self.delete_services.is_empty()
            && self.upsert_holdings.is_empty()
            && self.delete_holdings.is_empty()
    }
}

/// A rating left on an answer page ("Est-ce que cela vous a été utile ?").
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub guide: String,
    pub document_type: Option<String>,
    pub commune: Option<String>,
    /// 1 (pas du tout) to 4 (tout à fait).
    pub rating: u8,
    pub comment: Option<String>,
    pub site: Option<String>,
    pub lang: String,
}

/// What a person wished the guide had covered, from a dead end.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub guide: String,
    pub step: String,
    pub text: String,
    pub site: Option<String>,
    pub lang: String,
}

/// One stored version of a guide.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGuide {
    pub slug: String,
    pub version: i64,
    /// The guide file (TOML), exactly as saved.
    pub source: String,
    pub published: bool,
}

/// One anonymous count of guide use: per day, guide, registered site (or
/// none), channel (`embed` or `direct`) and event (`start` or `result`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageKey {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub guide: String,
    /// A registered site's key; empty when none.
    pub site: String,
    pub channel: &'static str,
    pub event: &'static str,
}

/// Where the reference data lives.
#[async_trait]
pub trait Store: Accounts + Analytics + Dashboards + Impact + Requests + Send + Sync {
    fn engine(&self) -> Engine;

    /// Creates or upgrades the schema.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// The version of the reference data; it grows with every write.
    async fn data_version(&self) -> Result<i64, StoreError>;

    /// The version of the territories; it grows with every communes import.
    async fn geo_version(&self) -> Result<i64, StoreError>;

    async fn load_territories(&self) -> Result<Territories, StoreError>;

    /// Replaces all territories in one transaction. Holding rules are kept:
    /// they name territories by code, and former codes still resolve.
    async fn replace_territories(&self, data: &CogData) -> Result<TerritoryCounts, StoreError>;

    async fn load_ref_data(&self) -> Result<RefData, StoreError>;

    /// Applies the changes in one transaction. With `expected_version`, the
    /// write is refused if anything changed since that version was read.
    async fn apply(
        &self,
        changes: &Changes,
        expected_version: Option<i64>,
    ) -> Result<i64, StoreError>;

    async fn add_feedback(&self, feedback: &Feedback) -> Result<(), StoreError>;

    async fn add_suggestion(&self, suggestion: &Suggestion) -> Result<(), StoreError>;

    /// Every feedback, oldest first (for statistics and tests).
    async fn feedback(&self) -> Result<Vec<Feedback>, StoreError>;

    async fn suggestions(&self) -> Result<Vec<Suggestion>, StoreError>;

    /// Saves a new version of a guide, published at once or kept as a draft.
    /// Saving the same source as the latest version changes nothing.
    async fn save_guide(
        &self,
        slug: &str,
        source: &str,
        publish: bool,
    ) -> Result<StoredGuide, StoreError>;

    /// The published version of every guide.
    async fn published_guides(&self) -> Result<Vec<StoredGuide>, StoreError>;

    /// The latest version of every guide, published or draft.
    async fn latest_guides(&self) -> Result<Vec<StoredGuide>, StoreError>;

    /// Every registered site, by key.
    async fn sites(&self) -> Result<Vec<Site>, StoreError>;

    /// Registers a site or updates it; returns whether it was new.
    async fn save_site(&self, site: &Site) -> Result<bool, StoreError>;

    /// Removes a site; returns whether it existed.
    async fn delete_site(&self, key: &str) -> Result<bool, StoreError>;

    /// Adds counts of guide use, all in one transaction. Does not move the
    /// data version: counts are not reference data.
    async fn add_usage(&self, counts: &[(UsageKey, u64)]) -> Result<(), StoreError>;

    /// Every usage count, in key order.
    async fn usage(&self) -> Result<Vec<(UsageKey, u64)>, StoreError>;
}

/// Opens the store for a database URL, creating a SQLite file if needed,
/// and brings its schema up to date.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    let store = SqlStore::connect(url).await?;
    store.migrate().await?;
    Ok(std::sync::Arc::new(store))
}
