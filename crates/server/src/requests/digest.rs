//! The daily digest: an agent who chose it gets, at most once a day, one
//! mail listing the requests that arrived for their services since the
//! previous one and are still new. Nothing new, no mail (the day still
//! counts, so the next digest covers only what comes after).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::mails::{self, Names};
use crate::live::Live;
use crate::settings::AdminConfig;
use crate::store::{Store, StoreError, time_text};

/// Sends the digests due at `now`; returns how many mails were written.
pub async fn run_once(
    store: &dyn Store,
    snap: &locadocs_core::Snapshot,
    config: &AdminConfig,
    now: chrono::DateTime<Utc>,
) -> Result<usize, StoreError> {
    let day_ago = time_text(now - chrono::Duration::days(1));
    let mut written = 0;
    for r in store.digest_recipients().await? {
        if r.last_sent.as_deref().is_some_and(|t| t > day_ago.as_str()) {
            continue;
        }
        let since = r.last_sent.clone().unwrap_or_else(|| day_ago.clone());
        let new: Vec<_> = store
            .new_requests_since(&r.services, r.last_request, &since)
            .await?
            .into_iter()
            .map(|req| {
                let names = Names::of(snap, &req);
                (req, names)
            })
            .collect();
        let mail = (!new.is_empty()).then(|| {
            mails::digest(
                &config.public_url,
                &config.mailer.sender_domain(),
                &r.email,
                &new,
            )
        });
        let last = new.iter().map(|(req, _)| req.id).max();
        store
            .digest_sent(r.id, &time_text(now), last, mail.as_ref())
            .await?;
        written += usize::from(mail.is_some());
    }
    Ok(written)
}

/// Looks for due digests every `every` until the process ends.
pub fn spawn(live: Arc<Live>, config: Arc<AdminConfig>, every: Duration) {
    crate::clock::every(every, move || {
        let (live, config) = (live.clone(), config.clone());
        async move {
            let snap = live.snapshot();
            if let Err(e) = run_once(live.store().as_ref(), &snap, &config, Utc::now()).await {
                tracing::warn!(error = %e, "request digest round failed");
            }
        }
    });
}
