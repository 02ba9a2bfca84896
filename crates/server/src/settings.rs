//! Settings of the server, read once at start: each is a command-line flag
//! and an environment variable (`locadocs serve --help` lists them all), and
//! the result is handed to the application ([`crate::web::AppState::new`]).
//! Nothing reads the environment while serving requests.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Parser;
use ipnet::IpNet;

use crate::web::admin::Mailer;

/// The default sender of outgoing mail.
pub const DEFAULT_FROM: &str = "Locadocs <ne-pas-repondre@locadocs.localhost>";

/// The default public address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The settings of the web application, as given on the command line or in
/// the environment (checked by [`AdminConfig::from_args`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WebArgs {
    /// The address people reach the site at, for links sent by email and
    /// embed snippets, e.g. https://locadocs.example.fr (default
    /// http://127.0.0.1:8080 for emails; snippets then use the address a
    /// page was asked for).
    #[arg(long, env = "LOCADOCS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// SMTP server for outgoing mail: smtp://host:25,
    /// smtps://user:password@host, smtp://host:587?tls=required. Without
    /// it, mail is written to the outbox directory.
    #[arg(long, env = "LOCADOCS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Directory where mail is written as .eml files when no SMTP server is
    /// set.
    #[arg(long, env = "LOCADOCS_OUTBOX", default_value = "outbox")]
    pub outbox: PathBuf,

    /// Sender address of outgoing mail.
    #[arg(long, env = "LOCADOCS_MAIL_FROM", default_value = DEFAULT_FROM)]
    pub mail_from: String,

    /// Reverse proxies whose X-Forwarded-For is believed: comma-separated
    /// addresses or CIDR ranges (127.0.0.1,10.0.0.0/8,::1).
    #[arg(long, env = "LOCADOCS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Directory where the attachments of requests are stored (outside the
    /// database).
    #[arg(long, env = "LOCADOCS_ATTACHMENTS_DIR", default_value = "attachments")]
    pub attachments_dir: PathBuf,

    /// Reply address of mails about a request, with `{token}` where the
    /// request's token goes: demande+{token}@locadocs.example.fr. Mail
    /// sent there is handed to `locadocs mail receive`.
    #[arg(
        long,
        env = "LOCADOCS_REPLY_ADDRESS",
        default_value = "demande+{token}@locadocs.localhost"
    )]
    pub reply_address: String,

    /// Days a closed request and its attachments are kept before deletion
    /// (the person is told two weeks before).
    #[arg(long, env = "LOCADOCS_REQUEST_RETENTION_DAYS", default_value_t = 365)]
    pub request_retention_days: u32,

    /// Requests one e-mail address may send per day.
    #[arg(long, env = "LOCADOCS_REQUESTS_PER_ADDRESS", default_value_t = 5)]
    pub requests_per_address: u32,

    /// Requests one service may receive per hour (against floods).
    #[arg(long, env = "LOCADOCS_REQUESTS_PER_SERVICE", default_value_t = 60)]
    pub requests_per_service: u32,

    /// Audience measurement: `on` (default) records anonymous guide events,
    /// `off` records nothing (and gives guide pages no run id).
    #[arg(long, env = "LOCADOCS_ANALYTICS", default_value = "on", value_parser = ["on", "off"])]
    pub analytics: String,

    /// Events waiting to be written at most; beyond, events are dropped
    /// and counted, never waited for.
    #[arg(long, env = "LOCADOCS_EVENTS_QUEUE", default_value_t = 100_000)]
    pub events_queue: usize,

    /// Days raw audience events are kept (at most 760, 25 months); daily
    /// totals are kept.
    #[arg(long, env = "LOCADOCS_EVENTS_RETENTION_DAYS", default_value_t = 90)]
    pub events_retention_days: u32,

    /// Events one address may post to /api/v1/events per minute.
    #[arg(long, env = "LOCADOCS_EVENTS_PER_ADDRESS", default_value_t = 120)]
    pub events_per_address: u32,

    /// Drop the Secure attribute of the back-office cookies (plain-HTTP
    /// development only).
    #[arg(
        long,
        env = "LOCADOCS_INSECURE_COOKIES",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub insecure_cookies: bool,

    #[command(flatten)]
    pub legal: LegalArgs,
}

/// Who answers for this instance, as the legal notice (`/mentions-legales`)
/// and the contact page (`/contact`) state it. French law (loi n° 2004-575
/// du 21 juin 2004, article 6) asks a site to name its publisher, its
/// publication director and its host; `locadocs check` warns when one is
/// unset.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LegalArgs {
    /// Publisher of the site, as the legal notice names it: the body that
    /// runs this instance, with its address ("Ville de Rennes, place de la
    /// Mairie, 35000 Rennes").
    #[arg(long, env = "LOCADOCS_PUBLISHER")]
    pub publisher: Option<String>,

    /// Publication director, as the legal notice names them (a person, or
    /// their office: "Le maire de Rennes").
    #[arg(long, env = "LOCADOCS_PUBLICATION_DIRECTOR")]
    pub publication_director: Option<String>,

    /// Host of the site, as the legal notice names it: the hosting
    /// provider's name, address and telephone number.
    #[arg(long, env = "LOCADOCS_HOSTING_PROVIDER")]
    pub hosting_provider: Option<String>,

    /// E-mail address where the public can write about Locadocs itself
    /// (an error, an accessibility problem), shown on /contact.
    #[arg(long, env = "LOCADOCS_CONTACT_EMAIL")]
    pub contact_email: Option<String>,
}

/// The legal notice's and contact page's facts, trimmed; `None` when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegalNotice {
    pub publisher: Option<String>,
    pub publication_director: Option<String>,
    pub hosting_provider: Option<String>,
    pub contact_email: Option<String>,
}

impl LegalArgs {
    /// The facts to show; a contact address that is not one refuses to
    /// start, naming the setting.
    pub fn notice(&self) -> anyhow::Result<LegalNotice> {
        let contact_email = given(&self.contact_email).map(str::to_owned);
        if let Some(e) = &contact_email {
            let ok = e.parse::<lettre::Address>().is_ok();
            if !ok {
                bail!(
                    "--contact-email (LOCADOCS_CONTACT_EMAIL) : « {e} » n'est pas une adresse \
                     électronique, attendu par exemple contact@exemple.fr"
                );
            }
        }
        Ok(LegalNotice {
            publisher: given(&self.publisher).map(str::to_owned),
            publication_director: given(&self.publication_director).map(str::to_owned),
            hosting_provider: given(&self.hosting_provider).map(str::to_owned),
            contact_email,
        })
    }

    /// What `locadocs check` warns about: each setting the legal notice or
    /// the contact page needs and that is unset (or wrong).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut unset = |v: &Option<String>, flag: &str, env: &str, what: &str| {
            if given(v).is_none() {
                out.push(format!("{env} (--{flag}) n'est pas renseigné : {what}"));
            }
        };
        unset(
            &self.publisher,
            "publisher",
            "LOCADOCS_PUBLISHER",
            "les mentions légales ne nomment pas l'éditeur du site",
        );
        unset(
            &self.publication_director,
            "publication-director",
            "LOCADOCS_PUBLICATION_DIRECTOR",
            "les mentions légales ne nomment pas le directeur de la publication",
        );
        unset(
            &self.hosting_provider,
            "hosting-provider",
            "LOCADOCS_HOSTING_PROVIDER",
            "les mentions légales ne nomment pas l'hébergeur",
        );
        unset(
            &self.contact_email,
            "contact-email",
            "LOCADOCS_CONTACT_EMAIL",
            "la page Contact ne donne aucune adresse où écrire",
        );
        if let Err(e) = self.notice() {
            out.push(e.to_string());
        }
        out
    }
}

/// Settings of the application (public address, back-office cookies and
/// sessions, mail, proxies), read once at start.
#[derive(Debug)]
pub struct AdminConfig {
    /// The address people reach the service at, for links in emails
    /// (`LOCADOCS_PUBLIC_URL`), without trailing slash.
    pub public_url: String,
    /// The public address when one was configured: embed snippets use it,
    /// and otherwise the address a page was asked for.
    pub configured_public_url: Option<String>,
    /// Whether cookies carry `Secure` (off with `LOCADOCS_INSECURE_COOKIES=1`
    /// for plain-HTTP development and tests).
    pub secure_cookies: bool,
    /// How long a session lasts after login.
    pub session_ttl: chrono::Duration,
    pub invitation_ttl: chrono::Duration,
    pub reset_ttl: chrono::Duration,
    /// Added wait per recent failed login on an account.
    pub failure_delay: Duration,
    pub mailer: Mailer,
    /// Reverse proxies whose `X-Forwarded-For` is believed
    /// (`LOCADOCS_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpNet>,
    /// Requests: attachments, reply address, retention, limits.
    pub requests: crate::requests::RequestConfig,
    /// Audience measurement: on/off, queue, retention, per-address limit.
    pub analytics: crate::analytics::AnalyticsConfig,
    /// Publisher, publication director, host and contact address shown on
    /// the legal notice and the contact page.
    pub legal: LegalNotice,
}

/// The web settings alone, parsed from the environment (commands other than
/// `serve` that need them, such as `user add`).
#[derive(Debug, Parser)]
struct EnvOnly {
    #[command(flatten)]
    web: WebArgs,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AdminConfig {
    /// The same settings with these trusted reverse proxies (tests).
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpNet>) -> AdminConfig {
        self.trusted_proxies = proxies;
        self
    }

    /// Checks the settings: a bad public URL, SMTP URL, sender or proxy
    /// refuses to start, with a message naming the setting.
    pub fn from_args(args: &WebArgs) -> anyhow::Result<AdminConfig> {
        let configured_public_url = match given(&args.public_url) {
            None => None,
            Some(url) => Some(public_url(url)?),
        };
        let from = args.mail_from.trim();
        let from = if from.is_empty() { DEFAULT_FROM } else { from };
        let from: lettre::message::Mailbox = from.parse().map_err(|_| {
            anyhow::anyhow!(
                "--mail-from (LOCADOCS_MAIL_FROM) : « {from} » n'est pas une adresse, \
                 attendu par exemple « Locadocs <ne-pas-repondre@exemple.fr> »"
            )
        })?;
        let mailer = match given(&args.smtp_url) {
            Some(url) => Mailer::smtp_from(url, from)?,
            None => Mailer::outbox_from(args.outbox.clone(), from),
        };
        Ok(AdminConfig {
            public_url: configured_public_url
                .clone()
                .unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned()),
            configured_public_url,
            secure_cookies: !args.insecure_cookies,
            session_ttl: chrono::Duration::hours(8),
            invitation_ttl: chrono::Duration::days(7),
            reset_ttl: chrono::Duration::hours(1),
            failure_delay: Duration::from_millis(250),
            mailer,
            trusted_proxies: trusted_proxies(&args.trusted_proxies)?,
            requests: crate::requests::RequestConfig::from_args(args)?,
            analytics: analytics_config(args)?,
            legal: args.legal.notice()?,
        })
    }

    /// The same settings read from the environment variables alone, for
    /// commands other than `serve` (`user add` writes links with the public
    /// address).
    pub fn from_env() -> anyhow::Result<AdminConfig> {
        let parsed = EnvOnly::try_parse_from(["locadocs"])
            .map_err(|e| anyhow::anyhow!("réglages invalides : {e}"))?;
        AdminConfig::from_args(&parsed.web)
    }

    /// Settings for tests: plain-HTTP cookies, mail to a directory.
    pub fn for_tests(public_url: &str, mailer: Mailer) -> AdminConfig {
        let url = public_url.trim_end_matches('/').to_owned();
        AdminConfig {
            public_url: url.clone(),
            configured_public_url: Some(url),
            secure_cookies: false,
            session_ttl: chrono::Duration::hours(8),
            invitation_ttl: chrono::Duration::days(7),
            reset_ttl: chrono::Duration::hours(1),
            failure_delay: Duration::from_millis(10),
            mailer,
            trusted_proxies: Vec::new(),
            requests: crate::requests::RequestConfig::for_tests(),
            analytics: crate::analytics::AnalyticsConfig::default(),
            legal: LegalNotice::default(),
        }
    }
}

fn analytics_config(args: &WebArgs) -> anyhow::Result<crate::analytics::AnalyticsConfig> {
    use crate::analytics::MAX_RETENTION_DAYS;
    let days = args.events_retention_days;
    if days == 0 || days > MAX_RETENTION_DAYS {
        bail!(
            "--events-retention-days (LOCADOCS_EVENTS_RETENTION_DAYS) : {days} jours, attendu \
             de 1 à {MAX_RETENTION_DAYS} (25 mois au plus)"
        );
    }
    if args.events_per_address == 0 {
        bail!("--events-per-address (LOCADOCS_EVENTS_PER_ADDRESS) : attendu au moins 1");
    }
    if args.events_queue == 0 {
        bail!("--events-queue (LOCADOCS_EVENTS_QUEUE) : attendu au moins 1");
    }
    Ok(crate::analytics::AnalyticsConfig {
        enabled: args.analytics != "off",
        queue_capacity: args.events_queue,
        retention_days: days,
        per_address: args.events_per_address,
    })
}

/// Another name for the application's settings.
pub type Settings = AdminConfig;

fn public_url(url: &str) -> anyhow::Result<String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && !url.contains(char::is_whitespace)
        && !url.contains(['"', '<', '>', '?', '#']);
    if !ok {
        bail!(
            "--public-url (LOCADOCS_PUBLIC_URL) : « {url} » n'est pas une adresse web, \
             attendu par exemple https://locadocs.exemple.fr"
        );
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `127.0.0.1`, `10.0.0.0/8`, `::1`: an address is a range of one.
pub fn trusted_proxies(items: &[String]) -> anyhow::Result<Vec<IpNet>> {
    let mut out = Vec::new();
    for item in items {
        let s = item.trim();
        if s.is_empty() {
            continue;
        }
        let net = match s.parse::<IpNet>() {
            Ok(n) => n,
            Err(_) => s
                .parse::<std::net::IpAddr>()
                .map(IpNet::from)
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--trusted-proxies (LOCADOCS_TRUSTED_PROXIES) : « {s} » n'est ni une \
                     adresse IP ni une plage CIDR (par exemple 10.0.0.1 ou 10.0.0.0/8)"
                    )
                })?,
        };
        if !out.contains(&net) {
            out.push(net);
        }
    }
    Ok(out)
}

/// `--today` / `LOCADOCS_TODAY`: a fixed "today", `AAAA-MM-JJ`.
pub fn parse_today(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("« {s} » : date attendue au format AAAA-MM-JJ"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> WebArgs {
        WebArgs {
            outbox: "outbox".into(),
            mail_from: DEFAULT_FROM.into(),
            analytics: "on".into(),
            events_queue: 100_000,
            events_retention_days: 90,
            events_per_address: 120,
            ..WebArgs::default()
        }
    }

    #[test]
    fn proxies_are_addresses_or_ranges() {
        let nets = trusted_proxies(&[
            "127.0.0.1".into(),
            " 10.0.0.0/8".into(),
            "::1".into(),
            "".into(),
            "127.0.0.1".into(),
        ])
        .unwrap();
        let shown: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let err = trusted_proxies(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(
            format!("{err:#}").contains("LOCADOCS_TRUSTED_PROXIES"),
            "{err:#}"
        );
        assert!(trusted_proxies(&["proxy.local".into()]).is_err());
    }

    #[test]
    fn bad_settings_name_themselves() {
        let mut a = args();
        a.smtp_url = Some("pas une adresse".into());
        let e = AdminConfig::from_args(&a).unwrap_err().to_string();
        assert!(e.contains("LOCADOCS_SMTP_URL"), "{e}");
        let mut a = args();
        a.public_url = Some("locadocs.fr".into());
        let e = AdminConfig::from_args(&a).unwrap_err().to_string();
        assert!(e.contains("LOCADOCS_PUBLIC_URL"), "{e}");
        let mut a = args();
        a.mail_from = "personne".into();
        let e = AdminConfig::from_args(&a).unwrap_err().to_string();
        assert!(e.contains("LOCADOCS_MAIL_FROM"), "{e}");
        let mut a = args();
        a.events_retention_days = 800;
        let e = AdminConfig::from_args(&a).unwrap_err().to_string();
        assert!(e.contains("LOCADOCS_EVENTS_RETENTION_DAYS"), "{e}");
    }

    #[test]
    fn legal_settings_are_shown_and_warned_about() {
        let mut a = args();
        let warnings = a.legal.warnings();
        for name in [
            "LOCADOCS_PUBLISHER",
            "LOCADOCS_PUBLICATION_DIRECTOR",
            "LOCADOCS_HOSTING_PROVIDER",
            "LOCADOCS_CONTACT_EMAIL",
        ] {
            assert!(
                warnings.iter().any(|w| w.starts_with(name)),
                "{name}: {warnings:?}"
            );
        }
        a.legal = LegalArgs {
            publisher: Some(" Ville de Rennes ".into()),
            publication_director: Some("Le maire de Rennes".into()),
            hosting_provider: Some("Hébergeur, 1 rue de l'Exemple, 75000 Paris".into()),
            contact_email: Some("contact@exemple.fr".into()),
        };
        assert_eq!(a.legal.warnings(), Vec::<String>::new());
        let c = AdminConfig::from_args(&a).unwrap();
        assert_eq!(c.legal.publisher.as_deref(), Some("Ville de Rennes"));
        a.legal.contact_email = Some("personne".into());
        let e = AdminConfig::from_args(&a).unwrap_err().to_string();
        assert!(e.contains("LOCADOCS_CONTACT_EMAIL"), "{e}");
        assert_eq!(a.legal.warnings().len(), 1);
    }

    #[test]
    fn defaults_and_empty_values() {
        let mut a = args();
        a.smtp_url = Some("  ".into());
        a.public_url = Some("".into());
        let c = AdminConfig::from_args(&a).unwrap();
        assert!(matches!(c.mailer, Mailer::OutboxFrom(..)));
        assert_eq!(c.public_url, DEFAULT_PUBLIC_URL);
        assert_eq!(c.configured_public_url, None);
        assert!(c.secure_cookies);
        let mut a = args();
        a.public_url = Some("https://locadocs.example.fr/".into());
        a.insecure_cookies = true;
        let c = AdminConfig::from_args(&a).unwrap();
        assert_eq!(c.public_url, "https://locadocs.example.fr");
        assert!(!c.secure_cookies);
    }
}
