//! The SQL store, shared by SQLite and PostgreSQL through sqlx's `Any`
//! driver: both engines accept the same portable SQL (`$n` placeholders,
//! `ON CONFLICT … DO UPDATE`), and each has its own migrations.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use locadocs_core::cog::CogData;
use locadocs_core::{InseeCode, RefData, Service, ServiceKind, Site, Slug, Territories};
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::{Any, AnyPool, Arguments, Executor, Row, Transaction};

use super::rows::{self, format_day, from_bound_text, join_list};
use super::{
    Changes, Engine, Feedback, Store, StoreError, StoredGuide, Suggestion, TerritoryCounts,
    UsageKey,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Rows per multi-row INSERT: keeps under SQLite's and PostgreSQL's limits
/// on bound parameters.
const BATCH_ROWS: usize = 400;

/// A value to bind, so that rows of mixed types can be batched.
#[derive(Debug, Clone)]
pub(super) enum Val {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(Some(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(Some(v.to_owned()))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::Text(v)
    }
}
impl From<Option<&String>> for Val {
    fn from(v: Option<&String>) -> Self {
        Val::Text(v.cloned())
    }
}
impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(Some(v))
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::Int(v)
    }
}
impl From<Option<f64>> for Val {
    fn from(v: Option<f64>) -> Self {
        Val::Real(v)
    }
}

fn bind_all(vals: Vec<Val>) -> Result<AnyArguments, StoreError> {
    let mut args = AnyArguments::default();
    for v in vals {
        let r = match v {
            Val::Text(t) => args.add(t),
            Val::Int(i) => args.add(i),
            Val::Real(Some(f)) => args.add(f),
            // sqlx 0.9's `Any` driver turns a NULL `f64` into a NULL `float4`
            // for PostgreSQL (and a NULL `f32` into a `float8`): a batch mixing
            // values and NULLs in a DOUBLE PRECISION column would then send
            // one parameter with two types. A NULL `f32` arrives as `float8`.
            Val::Real(None) => args.add(Option::<f32>::None),
        };
        r.map_err(|e| StoreError::Database(sqlx::Error::Encode(e)))?;
    }
    Ok(args)
}

/// Inserts rows in batches; `suffix` follows the VALUES list (an ON CONFLICT clause).
pub(super) async fn insert_batched(
    tx: &mut Transaction<'_, Any>,
    head: &str,
    width: usize,
    rows: Vec<Vec<Val>>,
    suffix: &str,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(BATCH_ROWS) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * width * 5 + suffix.len());
        sql.push_str(head);
        sql.push_str(" VALUES ");
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for j in 0..width {
                n += 1;
                if j > 0 {
                    sql.push(',');
                }
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(suffix);
        let vals: Vec<Val> = chunk.iter().flat_map(|r| r.iter().cloned()).collect();
        // Only placeholders and fixed column lists are spliced in; values are bound.
        sqlx::query_with(sqlx::AssertSqlSafe(sql), bind_all(vals)?)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A commune with two town halls, as a message naming both, if any: every
/// `@mairie` rule resolves to the one town hall of the commune asked about,
/// so which service it is must never depend on the order of rows.
pub(crate) async fn second_town_hall(
    ex: impl sqlx::Executor<'_, Database = Any>,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        // Grouped rather than self-joined: one pass over the town halls
        // (index `services_kind_commune`), whatever their number.
        "SELECT commune, MIN(id) AS first, MAX(id) AS second FROM services \
         WHERE kind = 'mairie' AND commune IS NOT NULL GROUP BY commune HAVING COUNT(*) > 1 \
         ORDER BY commune LIMIT 1",
    )
    .fetch_optional(ex)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(format!(
        "la commune {} aurait deux mairies (« {} » et « {} ») : une commune n'a qu'une mairie ; changez le type ou la commune de l'un des deux services",
        r.try_get::<String, _>("commune")?,
        r.try_get::<String, _>("first")?,
        r.try_get::<String, _>("second")?
    )))
}

/// Two services of one kind competent for the same territory, as a message
/// naming both, if any: `@<kind>` must resolve to one service whatever the
/// order of rows.
pub(crate) async fn competence_clash(
    ex: impl sqlx::Executor<'_, Database = Any>,
) -> Result<Option<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, commune, competence FROM services \
         WHERE competence <> '' OR kind = 'mairie' ORDER BY id",
    )
    .fetch_all(ex)
    .await?;
    let mut services = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.try_get("id")?;
        let kind: String = r.try_get("kind")?;
        let commune: Option<String> = r.try_get("commune")?;
        let (Ok(slug), Some(kind)) = (Slug::parse(&id), ServiceKind::parse(&kind)) else {
            continue;
        };
        let mut s = Service::new(slug, "", kind);
        s.commune = commune.and_then(|c| InseeCode::parse(&c).ok());
        s.competence =
            locadocs_core::reference::parse_competence(&r.try_get::<String, _>("competence")?)
                .unwrap_or_default();
        services.push(s);
    }
    let refs: Vec<&Service> = services.iter().collect();
    Ok(locadocs_core::reference::competence_clashes(&refs)
        .first()
        .map(|(kind, t, a, b)| {
            locadocs_core::reference::clash_message(*kind, t, &services[*a].id, &services[*b].id)
        }))
}

/// The checks that span every service, run once per write transaction that
/// touched services (after all its rows, so that an import may move a town
/// hall or a competence from one service to another): one town hall per
/// commune, one competent service per kind and territory.
pub(crate) async fn services_clash(
    tx: &mut Transaction<'_, Any>,
) -> Result<Option<String>, StoreError> {
    if let Some(msg) = second_town_hall(&mut **tx).await? {
        return Ok(Some(msg));
    }
    competence_clash(&mut **tx).await
}

/// The store on a SQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: AnyPool,
    engine: Engine,
    /// Which daily aggregates this process rewrote (see
    /// [`super::Analytics::settled_writes`]).
    pub(super) written: std::sync::Arc<super::analytics::WrittenDays>,
}

impl SqlStore {
    /// Connects without migrating. A SQLite file is created if missing.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = Engine::from_url(url)?;
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 4 } else { 8 })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets readers proceed during a write; FULL makes an
                        // acknowledged commit survive a power loss.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(SqlStore {
            pool,
            engine,
            written: Default::default(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`): a deferred transaction that reads
    /// first and writes later fails with "database is locked", without
    /// waiting, when another writer committed in between.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
    }

    async fn meta(&self, key: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("value")?)
    }

    /// Bumps a version inside a transaction; with `expected`, refuses when
    /// the current value differs.
    async fn bump(
        tx: &mut Transaction<'_, Any>,
        key: &str,
        expected: Option<i64>,
    ) -> Result<i64, StoreError> {
        let done = match expected {
            Some(v) => {
                sqlx::query("UPDATE meta SET value = value + 1 WHERE key = $1 AND value = $2")
                    .bind(key)
                    .bind(v)
                    .execute(&mut **tx)
                    .await?
            }
            None => {
                sqlx::query("UPDATE meta SET value = value + 1 WHERE key = $1")
                    .bind(key)
                    .execute(&mut **tx)
                    .await?
            }
        };
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_one(&mut **tx)
            .await?;
        let found: i64 = row.try_get("value")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                expected: expected.unwrap_or_default(),
                found,
            });
        }
        Ok(found)
    }
}

#[async_trait]
impl Store for SqlStore {
    fn engine(&self) -> Engine {
        self.engine
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self.engine {
            Engine::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Engine::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    async fn data_version(&self) -> Result<i64, StoreError> {
        self.meta("data_version").await
    }

    async fn geo_version(&self) -> Result<i64, StoreError> {
        self.meta("geo_version").await
    }

    async fn load_territories(&self) -> Result<Territories, StoreError> {
        // Streamed row by row: the full table never sits in memory twice.
        let mut communes = Vec::new();
        let mut stream = sqlx::query("SELECT * FROM communes ORDER BY position").fetch(&self.pool);
        while let Some(row) = stream.try_next().await? {
            communes.push(rows::commune(&row)?);
        }
        drop(stream);
        let epcis = sqlx::query("SELECT siren, name, kind FROM epcis ORDER BY siren")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let siren: String = r.try_get("siren")?;
                Ok(locadocs_core::Epci {
                    siren: locadocs_core::Siren::parse(&siren).map_err(|e| {
                        StoreError::Corrupt {
                            table: "epcis",
                            key: siren.clone(),
                            message: e.to_string(),
                        }
                    })?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let departements =
            sqlx::query("SELECT code, name, region, liaison FROM departements ORDER BY code")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    Ok(locadocs_core::Departement {
                        code: r.try_get("code")?,
                        name: r.try_get("name")?,
                        region: r.try_get("region")?,
                        liaison: r
                            .try_get::<Option<i64>, _>("liaison")?
                            .and_then(|l| u8::try_from(l).ok()),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
        let regions = sqlx::query("SELECT code, name FROM regions ORDER BY code")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(locadocs_core::Region {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Territories::new(communes, epcis, departements, regions))
    }

    async fn replace_territories(&self, data: &CogData) -> Result<TerritoryCounts, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::bump(&mut tx, "geo_version", None).await?;
        for table in ["communes", "epcis", "departements", "regions"] {
            // `table` comes from the fixed list above.
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await?;
        }
        let regions = data
            .regions
            .iter()
            .map(|r| vec![r.code.as_str().into(), r.name.as_str().into()])
            .collect();
        insert_batched(&mut tx, "INSERT INTO regions (code, name)", 2, regions, "").await?;
        let deps = data
            .departements
            .iter()
            .map(|d| {
                vec![
                    d.code.as_str().into(),
                    d.name.as_str().into(),
                    d.region.as_str().into(),
                    d.liaison.map(i64::from).into(),
                ]
            })
            .collect();
        insert_batched(
            &mut tx,
            "INSERT INTO departements (code, name, region, liaison)",
            4,
            deps,
            "",
        )
        .await?;
        let epcis = data
            .epcis
            .iter()
            .map(|e| {
                vec![
                    e.siren.as_str().into(),
                    e.name.as_str().into(),
                    e.kind.as_str().into(),
                ]
            })
            .collect();
        insert_batched(
            &mut tx,
            "INSERT INTO epcis (siren, name, kind)",
            3,
            epcis,
            "",
        )
        .await?;
        let communes = data
            .communes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    c.code.as_str().into(),
                    c.kind.as_str().into(),
                    c.name.as_str().into(),
                    c.current.map(|x| x.to_string()).into(),
                    c.departement.as_str().into(),
                    c.region.as_str().into(),
                    c.epci.as_ref().map(|s| s.to_string()).into(),
                    join_list(&c.postal_codes).into(),
                    c.population.map(i64::from).into(),
                    c.liaison.map(i64::from).into(),
                    c.former_codes
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join("|")
                        .into(),
                    (i as i64).into(),
                ]
            })
            .collect();
        insert_batched(
            &mut tx,
            "INSERT INTO communes (code, kind, name, current_code, departement, region, epci, postal_codes, \
             population, liaison, former_codes, position)",
            12,
            communes,
            "",
        )
        .await?;
        // Territories change what holding rules resolve to: readers must rebuild.
        Self::bump(&mut tx, "data_version", None).await?;
        tx.commit().await?;
        Ok(TerritoryCounts {
            communes: data.communes.len(),
            epcis: data.epcis.len(),
            departements: data.departements.len(),
            regions: data.regions.len(),
        })
    }

    async fn load_ref_data(&self) -> Result<RefData, StoreError> {
        // One transaction, so that the three tables are read at one version.
        let mut tx = self.pool.begin().await?;
        let document_types = sqlx::query("SELECT * FROM document_types ORDER BY slug")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::document_type)
            .collect::<Result<_, _>>()?;
        let services = sqlx::query("SELECT * FROM services ORDER BY id")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(rows::service)
            .collect::<Result<_, _>>()?;
        let mut holdings = Vec::new();
        {
            let mut stream =
                sqlx::query("SELECT * FROM holdings ORDER BY document_type, territory, id")
                    .fetch(&mut *tx);
            while let Some(row) = stream.try_next().await? {
                holdings.push(rows::holding(&row)?);
            }
        }
        let sites =
            sqlx::query("SELECT key, name, origins, restrict_framing FROM sites ORDER BY key")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(rows::site)
                .collect::<Result<_, _>>()?;
        let requests = super::requests::load_settings(&mut tx).await?;
        tx.commit().await?;
        Ok(RefData {
            document_types,
            services,
            holdings,
            guides: Vec::new(),
            sites,
            requests,
        })
    }

    async fn apply(
        &self,
        changes: &Changes,
        expected_version: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        // Taking the version row first serializes writers and makes the
        // optimistic check atomic with the write.
        let version = Self::bump(&mut tx, "data_version", expected_version).await?;
        let ts = now();

        for k in &changes.delete_holdings {
            sqlx::query("DELETE FROM holdings WHERE document_type = $1 AND territory = $2 AND from_bound = $3")
                .bind(k.0.as_str())
                .bind(k.1.to_string())
                .bind(from_bound_text(k.2))
                .execute(&mut *tx)
                .await?;
        }

        let docs: Vec<Vec<Val>> = changes
            .upsert_document_types
            .iter()
            .map(|d| {
                vec![
                    d.slug.as_str().into(),
                    d.label.as_str().into(),
                    d.theme.as_ref().into(),
                    join_list(&d.aliases).into(),
                    d.description.as_ref().into(),
                    i64::from(d.communicability_years).into(),
                    d.communicability_note.as_ref().into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        insert_batched(
            &mut tx,
            "INSERT INTO document_types (slug, label, theme, aliases, description, communicability_years, \
             communicability_note, updated_at)",
            8,
            docs,
            "ON CONFLICT (slug) DO UPDATE SET label = excluded.label, theme = excluded.theme, \
             aliases = excluded.aliases, description = excluded.description, \
             communicability_years = excluded.communicability_years, \
             communicability_note = excluded.communicability_note, updated_at = excluded.updated_at, \
             revision = document_types.revision + 1",
        )
        .await?;

        let services: Vec<Vec<Val>> = changes
            .upsert_services
            .iter()
            .map(|s| {
                vec![
                    s.id.as_str().into(),
                    s.name.as_str().into(),
                    s.kind.as_str().into(),
                    s.commune.map(|c| c.to_string()).into(),
                    s.address.as_ref().into(),
                    s.postal_code.as_ref().into(),
                    s.city.as_ref().into(),
                    s.phone.as_ref().into(),
                    s.email.as_ref().into(),
                    s.website.as_ref().into(),
                    s.request_url.as_ref().into(),
                    s.opening_hours.as_ref().into(),
                    s.response_time.as_ref().into(),
                    s.latitude.into(),
                    s.longitude.into(),
                    s.annuaire_id.as_ref().into(),
                    format_day(s.verified_at).into(),
                    ts.as_str().into(),
                    locadocs_core::reference::format_competence(&s.competence).into(),
                    s.francearchives_id.as_ref().into(),
                    s.francearchives_url.as_ref().into(),
                    s.search_url.as_ref().into(),
                ]
            })
            .collect();
        insert_batched(
            &mut tx,
            "INSERT INTO services (id, name, kind, commune, address, postal_code, city, phone, email, website, \
             request_url, opening_hours, response_time, latitude, longitude, annuaire_id, verified_at, updated_at, \
             competence, francearchives_id, francearchives_url, search_url)",
            22,
            services,
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
             commune = excluded.commune, address = excluded.address, postal_code = excluded.postal_code, \
             city = excluded.city, phone = excluded.phone, email = excluded.email, website = excluded.website, \
             request_url = excluded.request_url, opening_hours = excluded.opening_hours, \
             response_time = excluded.response_time, latitude = excluded.latitude, \
             longitude = excluded.longitude, annuaire_id = excluded.annuaire_id, \
             verified_at = excluded.verified_at, updated_at = excluded.updated_at, \
             competence = excluded.competence, francearchives_id = excluded.francearchives_id, \
             francearchives_url = excluded.francearchives_url, search_url = excluded.search_url, \
             revision = services.revision + 1",
        )
        .await?;

        let holdings: Vec<Vec<Val>> = changes
            .upsert_holdings
            .iter()
            .map(|h| {
                vec![
                    h.document_type.as_str().into(),
                    h.territory.to_string().into(),
                    from_bound_text(h.from).into(),
                    h.to.map(|b| b.to_string()).into(),
                    h.service.to_string().into(),
                    h.instructions.as_ref().into(),
                    h.source.as_ref().into(),
                    format_day(h.verified_at).into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        insert_batched(
            &mut tx,
            "INSERT INTO holdings (document_type, territory, from_bound, to_bound, service, instructions, source, \
             verified_at, updated_at)",
            9,
            holdings,
            "ON CONFLICT (document_type, territory, from_bound) DO UPDATE SET to_bound = excluded.to_bound, \
             service = excluded.service, instructions = excluded.instructions, source = excluded.source, \
             verified_at = excluded.verified_at, updated_at = excluded.updated_at, \
             revision = holdings.revision + 1",
        )
        .await?;

        for id in &changes.delete_services {
            sqlx::query("DELETE FROM services WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for slug in &changes.delete_document_types {
            sqlx::query("DELETE FROM document_types WHERE slug = $1")
                .bind(slug.as_str())
                .execute(&mut *tx)
                .await?;
        }
        if !changes.upsert_services.is_empty()
            && let Some(msg) = services_clash(&mut tx).await?
        {
            return Err(StoreError::Invalid(msg));
        }
        tx.commit().await?;
        Ok(version)
    }

    async fn add_feedback(&self, f: &Feedback) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO feedback (created_at, guide, document_type, commune, rating, comment, site, lang) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(now())
        .bind(&f.guide)
        .bind(&f.document_type)
        .bind(&f.commune)
        .bind(i64::from(f.rating))
        .bind(&f.comment)
        .bind(&f.site)
        .bind(&f.lang)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn add_suggestion(&self, s: &Suggestion) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO suggestions (created_at, guide, step, text, site, lang) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now())
        .bind(&s.guide)
        .bind(&s.step)
        .bind(&s.text)
        .bind(&s.site)
        .bind(&s.lang)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn feedback(&self) -> Result<Vec<Feedback>, StoreError> {
        let rows = sqlx::query("SELECT * FROM feedback ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let rating: i64 = r.try_get("rating")?;
                Ok(Feedback {
                    guide: r.try_get("guide")?,
                    document_type: r.try_get("document_type")?,
                    commune: r.try_get("commune")?,
                    rating: u8::try_from(rating).unwrap_or(0),
                    comment: r.try_get("comment")?,
                    site: r.try_get("site")?,
                    lang: r.try_get("lang")?,
                })
            })
            .collect()
    }

    async fn suggestions(&self) -> Result<Vec<Suggestion>, StoreError> {
        let rows = sqlx::query("SELECT * FROM suggestions ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Suggestion {
                    guide: r.try_get("guide")?,
                    step: r.try_get("step")?,
                    text: r.try_get("text")?,
                    site: r.try_get("site")?,
                    lang: r.try_get("lang")?,
                })
            })
            .collect()
    }

    async fn save_guide(
        &self,
        slug: &str,
        source: &str,
        publish: bool,
    ) -> Result<StoredGuide, StoreError> {
        let mut tx = self.begin_write().await?;
        // Taking the version row first serializes concurrent saves.
        Self::bump(&mut tx, "data_version", None).await?;
        let latest = sqlx::query(
            "SELECT version, source, published_at FROM guide_versions WHERE slug = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(slug)
        .fetch_optional(&mut *tx)
        .await?;
        let ts = now();
        let (version, published) = match latest {
            Some(row) if row.try_get::<String, _>("source")? == source => {
                let version: i64 = row.try_get("version")?;
                let was_published = row.try_get::<Option<String>, _>("published_at")?.is_some();
                if publish && !was_published {
                    sqlx::query("UPDATE guide_versions SET published_at = $1 WHERE slug = $2 AND version = $3")
                        .bind(&ts)
                        .bind(slug)
                        .bind(version)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    // Nothing changes: do not move the data version either.
                    tx.rollback().await?;
                    return Ok(StoredGuide {
                        slug: slug.to_owned(),
                        version,
                        source: source.to_owned(),
                        published: was_published,
                    });
                }
                (version, true)
            }
            latest => {
                let version = match latest {
                    Some(row) => row.try_get::<i64, _>("version")? + 1,
                    None => 1,
                };
                sqlx::query(
                    "INSERT INTO guide_versions (slug, version, source, created_at, published_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(slug)
                .bind(version)
                .bind(source)
                .bind(&ts)
                .bind(publish.then(|| ts.clone()))
                .execute(&mut *tx)
                .await?;
                (version, publish)
            }
        };
        tx.commit().await?;
        Ok(StoredGuide {
            slug: slug.to_owned(),
            version,
            source: source.to_owned(),
            published,
        })
    }

    async fn published_guides(&self) -> Result<Vec<StoredGuide>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.slug, g.version, g.source FROM guide_versions g \
             WHERE g.published_at IS NOT NULL AND g.version = (SELECT MAX(v.version) FROM guide_versions v \
             WHERE v.slug = g.slug AND v.published_at IS NOT NULL) ORDER BY g.slug",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredGuide {
                    slug: r.try_get("slug")?,
                    version: r.try_get("version")?,
                    source: r.try_get("source")?,
                    published: true,
                })
            })
            .collect()
    }

    async fn latest_guides(&self) -> Result<Vec<StoredGuide>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.slug, g.version, g.source, g.published_at FROM guide_versions g \
             WHERE g.version = (SELECT MAX(v.version) FROM guide_versions v WHERE v.slug = g.slug) ORDER BY g.slug",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredGuide {
                    slug: r.try_get("slug")?,
                    version: r.try_get("version")?,
                    source: r.try_get("source")?,
                    published: r.try_get::<Option<String>, _>("published_at")?.is_some(),
                })
            })
            .collect()
    }
    async fn sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows =
            sqlx::query("SELECT key, name, origins, restrict_framing FROM sites ORDER BY key")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(rows::site).collect()
    }

    async fn save_site(&self, site: &Site) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::bump(&mut tx, "data_version", None).await?;
        let existed = sqlx::query("SELECT key FROM sites WHERE key = $1")
            .bind(site.key.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let origins = site
            .origins
            .iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let ts = now();
        sqlx::query(
            "INSERT INTO sites (key, name, origins, restrict_framing, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (key) DO UPDATE SET \
             name = excluded.name, origins = excluded.origins, \
             restrict_framing = excluded.restrict_framing, updated_at = excluded.updated_at",
        )
        .bind(site.key.as_str())
        .bind(&site.name)
        .bind(origins)
        .bind(i64::from(site.restrict_framing))
        .bind(ts)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(!existed)
    }

    async fn delete_site(&self, key: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::bump(&mut tx, "data_version", None).await?;
        let done = sqlx::query("DELETE FROM sites WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            // Nothing removed: leave the data version where it was.
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn add_usage(&self, counts: &[(UsageKey, u64)]) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (k, n) in counts {
            sqlx::query(
                "INSERT INTO usage_daily (day, guide, site, channel, event, count) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (day, guide, site, channel, event) \
                 DO UPDATE SET count = usage_daily.count + excluded.count",
            )
            .bind(&k.day)
            .bind(&k.guide)
            .bind(&k.site)
            .bind(k.channel)
            .bind(k.event)
            .bind(i64::try_from(*n).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn usage(&self) -> Result<Vec<(UsageKey, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, guide, site, channel, event, count FROM usage_daily \
             ORDER BY day, guide, site, channel, event",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::usage).collect()
    }
}
