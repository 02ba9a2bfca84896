//! Closed requests are kept `retention_days` (default 365) after closing,
//! then deleted with their threads and attachments. The person is warned
//! by mail two weeks before; a request is never deleted less than two
//! weeks after its warning, even if the warning went late.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::mails::{self, MailContext};
use crate::settings::AdminConfig;
use crate::store::{Store, StoreError, time_text};

/// Two weeks.
pub const NOTICE_DAYS: i64 = 14;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub warned: usize,
    pub deleted_files: usize,
}

/// Warns and deletes what is due, as of `now`.
pub async fn run_once(
    store: &dyn Store,
    config: &AdminConfig,
    now: chrono::DateTime<Utc>,
) -> Result<Round, StoreError> {
    let keep = chrono::Duration::days(i64::from(config.requests.retention_days));
    let notice = chrono::Duration::days(NOTICE_DAYS);
    let mut round = Round::default();
    for req in store
        .requests_to_warn(&time_text(now - keep + notice))
        .await?
    {
        let closed = req
            .closed_at
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map(|c| c.with_timezone(&Utc))
            .unwrap_or(now);
        let on = (closed + keep).max(now + notice);
        let lang = if req.english() {
            crate::web::theme::Lang::En
        } else {
            crate::web::theme::Lang::Fr
        };
        let on = crate::web::i18n::long_date(on.date_naive(), lang);
        let ctx = MailContext {
            public_url: &config.public_url,
            reply: &config.requests.reply,
            domain: config.mailer.sender_domain(),
            parent: store.last_message_id(req.id).await?,
        };
        let mail = mails::deletion_notice(&ctx, &req, &on);
        store.warned(req.id, &[mail]).await?;
        round.warned += 1;
    }
    let keys = store
        .purge_requests(&time_text(now - keep), &time_text(now - notice))
        .await?;
    round.deleted_files = keys.len();
    config.requests.attachments.delete(&keys).await;
    Ok(round)
}

/// Runs a round every `every` until the process ends.
pub fn spawn(store: Arc<dyn Store>, config: Arc<AdminConfig>, every: Duration) {
    crate::clock::every(every, move || {
        let (store, config) = (store.clone(), config.clone());
        async move {
            if let Err(e) = run_once(store.as_ref(), &config, Utc::now()).await {
                tracing::warn!(error = %e, "request retention round failed");
            }
        }
    });
}
