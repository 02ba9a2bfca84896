//! What the back office's dashboards read besides the daily aggregates: the
//! comments left with feedback and the suggestions sent from dead ends, and
//! the triage of suggestions (done / not relevant).
//!
//! Figures are never read here: they come from `analytics_daily` through
//! [`super::Analytics::totals`].

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, StoreError};

/// A comment left with a feedback level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    /// UTC, RFC 3339.
    pub created_at: String,
    pub document_type: Option<String>,
    /// 1 (pas du tout) to 4 (tout à fait).
    pub rating: i64,
    pub comment: String,
}

/// Where a suggestion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionStatus {
    New,
    Done,
    NotRelevant,
}

impl SuggestionStatus {
    /// As stored and as posted by the triage forms.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionStatus::New => "",
            SuggestionStatus::Done => "traitee",
            SuggestionStatus::NotRelevant => "non_pertinente",
        }
    }

    pub fn parse(s: &str) -> Option<SuggestionStatus> {
        [
            SuggestionStatus::New,
            SuggestionStatus::Done,
            SuggestionStatus::NotRelevant,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// In French, as shown.
    pub fn label(self) -> &'static str {
        match self {
            SuggestionStatus::New => "à traiter",
            SuggestionStatus::Done => "traitée",
            SuggestionStatus::NotRelevant => "non pertinente",
        }
    }
}

/// A stored suggestion, with its triage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSuggestion {
    pub id: i64,
    pub created_at: String,
    pub step: String,
    pub text: String,
    pub status: SuggestionStatus,
    pub triaged_at: Option<String>,
}

#[async_trait]
pub trait Dashboards: Send + Sync {
    /// The non-empty comments of a guide's feedback whose day (UTC) lies in
    /// `from..=to` (`YYYY-MM-DD`), newest first.
    async fn guide_comments(
        &self,
        guide: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Comment>, StoreError>;

    /// A guide's suggestions whose day lies in `from..=to`, newest first.
    async fn guide_suggestions(
        &self,
        guide: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<StoredSuggestion>, StoreError>;

    /// Sets the triage of a guide's suggestion; `false` when the guide has
    /// no such suggestion.
    async fn triage_suggestion(
        &self,
        guide: &str,
        id: i64,
        status: SuggestionStatus,
        by_user: i64,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
impl Dashboards for SqlStore {
    async fn guide_comments(
        &self,
        guide: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<Comment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, created_at, document_type, rating, comment FROM feedback \
             WHERE guide = $1 AND substr(created_at, 1, 10) >= $2 \
             AND substr(created_at, 1, 10) <= $3 \
             AND comment IS NOT NULL AND comment <> '' ORDER BY created_at DESC, id DESC",
        )
        .bind(guide)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Comment {
                    id: r.try_get("id")?,
                    created_at: r.try_get("created_at")?,
                    document_type: r.try_get("document_type")?,
                    rating: r.try_get("rating")?,
                    comment: r.try_get("comment")?,
                })
            })
            .collect()
    }

    async fn guide_suggestions(
        &self,
        guide: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<StoredSuggestion>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, created_at, step, text, status, triaged_at FROM suggestions \
             WHERE guide = $1 AND substr(created_at, 1, 10) >= $2 \
             AND substr(created_at, 1, 10) <= $3 ORDER BY created_at DESC, id DESC",
        )
        .bind(guide)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let status: String = r.try_get("status")?;
                Ok(StoredSuggestion {
                    id,
                    created_at: r.try_get("created_at")?,
                    step: r.try_get("step")?,
                    text: r.try_get("text")?,
                    status: SuggestionStatus::parse(&status).ok_or_else(|| {
                        StoreError::Corrupt {
                            table: "suggestions",
                            key: id.to_string(),
                            message: format!("état inconnu « {status} »"),
                        }
                    })?,
                    triaged_at: r.try_get("triaged_at")?,
                })
            })
            .collect()
    }

    async fn triage_suggestion(
        &self,
        guide: &str,
        id: i64,
        status: SuggestionStatus,
        by_user: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE suggestions SET status = $1, triaged_at = $2, triaged_by = $3 \
             WHERE id = $4 AND guide = $5",
        )
        .bind(status.as_str())
        .bind(super::now_text())
        .bind(by_user)
        .bind(id)
        .bind(guide)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
