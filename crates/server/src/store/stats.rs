//! What the public statistics page needs beyond the daily aggregates: the
//! editors' setting of the impact estimate.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, StoreError};

/// How many minutes a service spends on one misdirected request, and the
/// source of that figure (a text or an address).
#[derive(Debug, Clone, PartialEq)]
pub struct ImpactSetting {
    pub minutes: f64,
    pub source: String,
    pub updated_at: String,
    pub updated_by: String,
}

#[async_trait]
pub trait Impact: Send + Sync {
    /// The impact setting, `None` while no editor has set it.
    async fn impact_setting(&self) -> Result<Option<ImpactSetting>, StoreError>;

    /// Sets it (`minutes` between 0 and 600, `source` not empty: checked by
    /// the caller and by the table).
    async fn set_impact_setting(
        &self,
        minutes: f64,
        source: &str,
        by: &str,
    ) -> Result<(), StoreError>;
}

#[async_trait]
impl Impact for SqlStore {
    async fn impact_setting(&self) -> Result<Option<ImpactSetting>, StoreError> {
        let row = sqlx::query(
            "SELECT minutes, source, updated_at, updated_by FROM impact_setting WHERE id = 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ImpactSetting {
                minutes: r.try_get("minutes")?,
                source: r.try_get("source")?,
                updated_at: r.try_get("updated_at")?,
                updated_by: r.try_get("updated_by")?,
            })
        })
        .transpose()
    }

    async fn set_impact_setting(
        &self,
        minutes: f64,
        source: &str,
        by: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO impact_setting (id, minutes, source, updated_at, updated_by) \
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET \
             minutes = excluded.minutes, source = excluded.source, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(minutes)
        .bind(source)
        .bind(super::now_text())
        .bind(by)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
