//! Outgoing mail: through SMTP when `--smtp-url` / `LOCADOCS_SMTP_URL` is
//! set, otherwise written as `.eml` files to an outbox directory
//! (`--outbox` / `LOCADOCS_OUTBOX`, default `outbox/`) that a person can open
//! or forward. The settings are read once at start ([`crate::settings`]).

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use crate::settings::DEFAULT_FROM;

/// The headers that thread a mail about a request.
#[derive(Debug, Clone, Default)]
pub struct Threading {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub reply_to: Option<String>,
}

/// Where mail goes (one per server: the SMTP variant's size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Mailer {
    /// An SMTP server, with the sender address.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// A directory of `.eml` files, from the default sender.
    Outbox(PathBuf),
    /// A directory of `.eml` files, from a configured sender.
    OutboxFrom(PathBuf, Mailbox),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The SMTP URL may hold a password: never printed.
            Mailer::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
            Mailer::Outbox(dir) => write!(f, "Mailer::Outbox({})", dir.display()),
            Mailer::OutboxFrom(dir, from) => {
                write!(f, "Mailer::Outbox({}, from {from})", dir.display())
            }
        }
    }
}

fn default_sender() -> Mailbox {
    // A constant, checked by a test below.
    DEFAULT_FROM.parse().expect("DEFAULT_FROM is a mailbox")
}

impl Mailer {
    /// An SMTP mailer for a connection URL (`smtp://host:port`,
    /// `smtps://user:pass@host`, `smtp://host:587?tls=required`), from the
    /// default sender.
    pub fn smtp(url: &str) -> anyhow::Result<Mailer> {
        Mailer::smtp_from(url, default_sender())
    }

    /// An SMTP mailer with a sender. The URL is never repeated in the
    /// error: it may hold a password.
    pub fn smtp_from(url: &str, from: Mailbox) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| {
                anyhow::anyhow!(
                    "--smtp-url (LOCADOCS_SMTP_URL) n'est pas une adresse SMTP valide : attendu \
                     smtp://hôte:port, smtps://utilisateur:mot-de-passe@hôte ou \
                     smtp://hôte:587?tls=required"
                )
            })?
            .build();
        Ok(Mailer::Smtp { transport, from })
    }

    /// An outbox directory with a sender.
    pub fn outbox_from(dir: PathBuf, from: Mailbox) -> Mailer {
        Mailer::OutboxFrom(dir, from)
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        self.send_threaded(to, subject, body, &Threading::default())
            .await
    }

    /// The sender's domain, for Message-IDs.
    pub fn sender_domain(&self) -> String {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::OutboxFrom(_, from) => from.clone(),
            Mailer::Outbox(_) => default_sender(),
        };
        from.email.domain().to_owned()
    }

    /// Sends a plain-text message with threading headers and a reply
    /// address.
    pub async fn send_threaded(
        &self,
        to: &str,
        subject: &str,
        body: String,
        thread: &Threading,
    ) -> anyhow::Result<()> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::OutboxFrom(_, from) => from.clone(),
            Mailer::Outbox(_) => default_sender(),
        };
        let mut builder = Message::builder()
            .from(from)
            .to(to.parse().context("adresse de destination invalide")?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        if let Some(id) = &thread.message_id {
            builder = builder.message_id(Some(format!("<{id}>")));
        }
        if let Some(parent) = &thread.in_reply_to {
            builder = builder
                .in_reply_to(format!("<{parent}>"))
                .references(format!("<{parent}>"));
        }
        if let Some(reply) = &thread.reply_to {
            builder = builder.reply_to(reply.parse().context("adresse de réponse invalide")?);
        }
        let message = builder.body(body)?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await.context("envoi SMTP")?;
            }
            Mailer::Outbox(dir) | Mailer::OutboxFrom(dir, _) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("création de {}", dir.display()))?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
                    &super::auth::random_token()[..8]
                );
                tokio::fs::write(dir.join(&name), message.formatted())
                    .await
                    .with_context(|| format!("écriture de {}", dir.display()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_sender_parses() {
        assert!(
            super::DEFAULT_FROM
                .parse::<lettre::message::Mailbox>()
                .is_ok()
        );
    }
}
