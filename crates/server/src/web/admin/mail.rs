//! Outgoing mail: through SMTP when `LOCADOCS_SMTP_URL` is set, otherwise
//! written as `.eml` files to an outbox directory (`LOCADOCS_OUTBOX`,
//! default `outbox/`) that a person can open or forward.

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Where mail goes (one per server: the SMTP variant's size does not matter).
#[allow(clippy::large_enum_variant)]
pub enum Mailer {
    /// An SMTP server, with the sender address.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// A directory of `.eml` files.
    Outbox(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The SMTP URL may hold a password: never printed.
            Mailer::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
            Mailer::Outbox(dir) => write!(f, "Mailer::Outbox({})", dir.display()),
        }
    }
}

const DEFAULT_FROM: &str = "Locadocs <ne-pas-repondre@locadocs.localhost>";

fn sender() -> anyhow::Result<Mailbox> {
    let from = std::env::var("LOCADOCS_MAIL_FROM")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_FROM.into());
    from.parse()
        .with_context(|| format!("LOCADOCS_MAIL_FROM=« {from} » n'est pas une adresse"))
}

impl Mailer {
    /// `LOCADOCS_SMTP_URL` (`smtp://host:port`, `smtps://user:pass@host`,
    /// `smtp://host:587?tls=required`) or the outbox.
    pub fn from_env() -> anyhow::Result<Mailer> {
        match std::env::var("LOCADOCS_SMTP_URL") {
            Ok(url) if !url.trim().is_empty() => Mailer::smtp(url.trim()),
            _ => Ok(Mailer::Outbox(
                std::env::var_os("LOCADOCS_OUTBOX")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("outbox")),
            )),
        }
    }

    /// An SMTP mailer for a connection URL.
    pub fn smtp(url: &str) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| anyhow::anyhow!("LOCADOCS_SMTP_URL n'est pas une adresse SMTP valide"))?
            .build();
        Ok(Mailer::Smtp {
            transport,
            from: sender()?,
        })
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<()> {
        let from = match self {
            Mailer::Smtp { from, .. } => from.clone(),
            Mailer::Outbox(_) => sender()?,
        };
        let message = Message::builder()
            .from(from)
            .to(to.parse().context("adresse de destination invalide")?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await.context("envoi SMTP")?;
            }
            Mailer::Outbox(dir) => {
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
