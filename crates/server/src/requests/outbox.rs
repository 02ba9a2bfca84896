//! The outbox worker: sends the mails the store holds, oldest due first,
//! and on failure tries again later — within a minute at first, then
//! spacing out to twice a day — until the SMTP server accepts each one.
//! A mail is marked sent only after the server accepted it, so a crash
//! loses none (at worst one mail is sent twice).

use std::sync::Arc;
use std::time::Duration;

use crate::store::{Store, time_text};
use crate::web::admin::Mailer;
use crate::web::admin::mail::Threading;

/// Seconds before the next attempt, after `attempts` failures.
pub fn backoff(attempts: i64) -> i64 {
    const STEPS: [i64; 12] = [
        5, 15, 30, 60, 120, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800,
    ];
    let i = (attempts.max(1) - 1) as usize;
    STEPS.get(i).copied().unwrap_or(43_200)
}

/// Sends what is due once; returns how many were sent.
pub async fn send_due(store: &dyn Store, mailer: &Mailer) -> usize {
    let now = chrono::Utc::now();
    let due = match store.due_mails(&time_text(now), 50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "outbox: reading due mails failed");
            return 0;
        }
    };
    let mut sent = 0;
    for mail in due {
        let thread = Threading {
            message_id: Some(mail.message_id.clone()),
            in_reply_to: mail.in_reply_to.clone(),
            reply_to: mail.reply_to.clone(),
        };
        match mailer
            .send_threaded(&mail.to, &mail.subject, mail.body.clone(), &thread)
            .await
        {
            Ok(()) => {
                sent += 1;
                if let Err(e) = store
                    .mail_sent(mail.id, &time_text(chrono::Utc::now()))
                    .await
                {
                    tracing::warn!(mail = mail.id, error = %e, "outbox: could not mark a mail sent");
                }
            }
            Err(e) => {
                let wait = backoff(mail.attempts + 1);
                let next = chrono::Utc::now() + chrono::Duration::seconds(wait);
                // The error names the server's answer, never the address.
                tracing::info!(
                    mail = mail.id,
                    attempts = mail.attempts + 1,
                    retry_in_s = wait,
                    "outbox: sending failed"
                );
                let _ = store
                    .mail_failed(mail.id, &format!("{e:#}"), &time_text(next))
                    .await;
                // The server is probably down: wait for the next round.
                break;
            }
        }
    }
    sent
}

/// Runs the worker until the process ends.
pub fn spawn(store: Arc<dyn Store>, config: Arc<crate::settings::AdminConfig>, every: Duration) {
    crate::clock::every(every, move || {
        let (store, config) = (store.clone(), config.clone());
        async move { while send_due(store.as_ref(), &config.mailer).await == 50 {} }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn retries_start_within_a_minute_then_space_out() {
        let waits: Vec<i64> = (1..=14).map(super::backoff).collect();
        assert!(waits[0] <= 60 && waits[1] <= 60 && waits[2] <= 60);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*waits.last().unwrap(), 43_200);
    }
}
