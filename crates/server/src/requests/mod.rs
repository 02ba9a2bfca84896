//! Qualified requests outside the store: settings, secrets, the
//! attachments directory, the mails a request sends (through the outbox),
//! the worker that sends them, incoming replies and the retention purge.
//! The web pages are in `web/request_pages.rs` (the person's side) and
//! `web/admin/screens/inbox.rs` (the agents' side).

pub mod attachments;
pub mod digest;
pub mod mails;
pub mod outbox;
pub mod receive;
pub mod retention;

use anyhow::Context;

use crate::filetype::Limits;
use crate::inbound::ReplyAddress;
use crate::settings::WebArgs;
use crate::store::Secrets;
use crate::web::admin::auth::{random_token, token_hash};

pub use attachments::Attachments;

/// Settings of requests, read once at start.
#[derive(Debug, Clone)]
pub struct RequestConfig {
    pub attachments: Attachments,
    /// The reply address of mails about a request.
    pub reply: ReplyAddress,
    /// Days a closed request is kept.
    pub retention_days: u32,
    /// Requests per e-mail address per day.
    pub per_address: u32,
    /// Requests per target service per hour.
    pub per_service: u32,
    /// Attachments: size and count.
    pub limits: Limits,
    /// The largest incoming mail accepted by `locadocs mail receive`.
    pub max_message_bytes: usize,
}

/// The default reply address.
pub const DEFAULT_REPLY: &str = "demande+{token}@locadocs.localhost";

impl RequestConfig {
    pub fn from_args(args: &WebArgs) -> anyhow::Result<RequestConfig> {
        let template = args.reply_address.trim();
        let template = if template.is_empty() {
            DEFAULT_REPLY
        } else {
            template
        };
        let reply = ReplyAddress::parse(template)
            .map_err(|e| anyhow::anyhow!("--reply-address (LOCADOCS_REPLY_ADDRESS) : {e}"))?;
        let dir = if args.attachments_dir.as_os_str().is_empty() {
            "attachments".into()
        } else {
            args.attachments_dir.clone()
        };
        Ok(RequestConfig {
            attachments: Attachments::new(dir),
            reply,
            retention_days: if args.request_retention_days == 0 {
                365
            } else {
                args.request_retention_days
            },
            per_address: args.requests_per_address.max(1),
            per_service: args.requests_per_service.max(1),
            limits: Limits::default(),
            max_message_bytes: 30 * 1024 * 1024,
        })
    }

    /// Settings for tests: attachments in a fresh temporary directory.
    pub fn for_tests() -> RequestConfig {
        let dir = std::env::temp_dir().join(format!("locadocs-pieces-{}", &random_token()[..12]));
        RequestConfig {
            attachments: Attachments::new(dir),
            reply: ReplyAddress::parse(DEFAULT_REPLY).expect("default reply address"),
            retention_days: 365,
            per_address: 50,
            per_service: 500,
            limits: Limits::default(),
            max_message_bytes: 30 * 1024 * 1024,
        }
    }

    /// The same settings with another attachments directory.
    pub fn with_attachments_dir(mut self, dir: std::path::PathBuf) -> RequestConfig {
        self.attachments = Attachments::new(dir);
        self
    }
}

/// A retention delay in words: « 12 mois » for 365 days, « 2 ans » for
/// 730, otherwise in days.
pub fn retention_words(days: u32, lang: crate::web::theme::Lang) -> String {
    use crate::web::theme::Lang;
    match (days, lang) {
        (365, Lang::Fr) => "12 mois".into(),
        (365, Lang::En) => "12 months".into(),
        (d, Lang::Fr) if d % 365 == 0 => format!("{} ans", d / 365),
        (d, Lang::En) if d % 365 == 0 => format!("{} years", d / 365),
        (d, Lang::Fr) => format!("{d} jours"),
        (d, Lang::En) => format!("{d} days"),
    }
}

/// A new request's secrets: the person's access token (in the private
/// link, stored hashed) and the reply token (in the reply address).
pub struct NewSecrets {
    pub access: String,
    pub reply: String,
}

impl NewSecrets {
    pub fn generate() -> NewSecrets {
        NewSecrets {
            access: random_token(),
            reply: random_token()[..26].to_owned(),
        }
    }

    pub fn stored(&self) -> Secrets {
        Secrets {
            access_hash: token_hash(&self.access),
            reply_token: self.reply.clone(),
        }
    }
}

/// A fresh Message-ID (without angle brackets) in a domain.
pub fn message_id(domain: &str) -> String {
    format!("{}@{domain}", &random_token()[..24])
}

/// Writes the attachments directory if missing, so that a bad setting is
/// found at start rather than on the first upload.
pub fn prepare(config: &RequestConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(config.attachments.dir()).with_context(|| {
        format!(
            "--attachments-dir (LOCADOCS_ATTACHMENTS_DIR) : impossible de créer {}",
            config.attachments.dir().display()
        )
    })
}
