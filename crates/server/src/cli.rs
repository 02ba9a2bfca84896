//! The `locadocs` command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::live::Live;
use crate::settings::AdminConfig;
use crate::store::{self, Store};
use crate::web::{AppState, app};

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://locadocs.db";

/// Locadocs: which document, who holds it, may I consult it, how to ask.
#[derive(Debug, Parser)]
#[command(name = "locadocs", version, about)]
pub struct Cli {
    /// Database: sqlite://file.db (default) or postgres://user@host/db.
    #[arg(long, global = true, env = "LOCADOCS_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Fix "today" (YYYY-MM-DD): legal delays and rolling bounds count from it.
    #[arg(long, global = true, env = "LOCADOCS_TODAY", value_parser = crate::settings::parse_today)]
    pub today: Option<chrono::NaiveDate>,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of `Serve`'s settings does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the guide pages and the API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "LOCADOCS_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        #[command(flatten)]
        web: crate::settings::WebArgs,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Import data: communes <dir>, document-types <file.csv>, services <file.csv>, holdings <file.csv>, annuaire <file.json>, francearchives <file.csv>, guide <file.toml>.
    Import {
        /// communes, document-types, services, holdings, annuaire, francearchives or guide.
        kind: String,
        /// A CSV file, or for communes the data directory of @etalab/decoupage-administratif.
        path: PathBuf,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also delete the rows the file does not contain (for holdings: on the territories it mentions).
        #[arg(long)]
        replace: bool,
    },
    /// Export document-types, services or holdings as CSV (UTF-8 with BOM, `;`).
    Export {
        kind: String,
        /// Output file; standard output if absent.
        path: Option<PathBuf>,
    },
    /// Load the demo dataset shipped with Locadocs (idempotent).
    Demo,
    /// Load the national baseline: document types and the rules that hold
    /// for every commune, with their sources (idempotent).
    Baseline {
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the coverage figure: over current communes × document types,
    /// asked without a date, the share of complete answers.
    Coverage {
        /// Only this many communes, taken at a regular stride.
        #[arg(long)]
        sample: Option<usize>,
    },
    /// Check the stored data and report problems; fails if any. Also warns
    /// when a setting the legal notice needs is unset (LOCADOCS_PUBLISHER,
    /// LOCADOCS_PUBLICATION_DIRECTOR, LOCADOCS_HOSTING_PROVIDER,
    /// LOCADOCS_CONTACT_EMAIL).
    Check {
        #[command(flatten)]
        legal: crate::settings::LegalArgs,
    },
    /// Sites registered to embed guides: add, list, remove.
    Site {
        #[command(subcommand)]
        action: SiteAction,
    },
    /// Back-office accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Mail about requests.
    Mail {
        #[command(subcommand)]
        action: MailCommand,
    },
}

/// `locadocs mail …`
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Read one mail (RFC 5322) on standard input and add it to its
    /// request's thread, as a mail server's pipe transport hands it over.
    /// A mail for no request, with a forged token or too large is refused:
    /// exit status 65 and a one-line reason on standard error.
    Receive,
}

#[derive(Debug, Subcommand)]
pub enum SiteAction {
    /// Register a site, or update the one with this key.
    Add {
        /// The key the site puts in `data-site` (lower-case letters, digits, hyphens).
        key: String,
        /// Who runs the site: « Ville de Rennes ».
        #[arg(long)]
        name: String,
        /// An origin its pages are served from (repeat for several): https://www.rennes.fr
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// Only these origins may frame guides asked for with this key.
        #[arg(long)]
        restrict_framing: bool,
    },
    /// List the registered sites.
    List,
    /// Remove a registered site.
    Remove { key: String },
}

/// `locadocs user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print its one-time invitation link.
    Add {
        email: String,
        /// Shorthand for --role admin.
        #[arg(long)]
        admin: bool,
        /// admin, editor or contributor.
        #[arg(long, default_value = "contributor")]
        role: String,
        /// A service the contributor edits (repeatable).
        #[arg(long = "service")]
        services: Vec<String>,
        /// A territory the contributor's rules may cover (repeatable):
        /// commune:35238, epci:243500139, departement:35.
        #[arg(long = "territory")]
        territories: Vec<String>,
    },
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let clock = Clock::new(cli.today);
    // The server's settings are checked before anything else: a wrong one
    // stops here, naming itself.
    let settings = match &cli.command {
        Command::Serve { web, .. } => Some(AdminConfig::from_args(web)?),
        _ => None,
    };
    let store = store::open(&cli.database_url).await.with_context(|| {
        format!(
            "ouverture de la base de données {}",
            redact(&cli.database_url)
        )
    })?;
    match cli.command {
        Command::Migrate => {
            println!("Schéma à jour ({}).", store.engine().name());
            Ok(())
        }
        Command::Serve { bind, .. } => match settings {
            Some(settings) => serve(store, clock, bind, settings).await,
            None => bail!("réglages du serveur absents"),
        },
        Command::Import {
            kind,
            path,
            dry_run,
            replace,
        } => {
            let report = crate::import::run(
                store.as_ref(),
                &kind,
                &path,
                dry_run,
                replace,
                clock.today(),
            )
            .await?;
            print!("{report}");
            Ok(())
        }
        Command::Export { kind, path } => {
            let bytes = crate::import::export(store.as_ref(), &kind).await?;
            write_out(path.as_deref(), &bytes)
        }
        Command::Demo => {
            print!(
                "{}",
                crate::import::demo(store.as_ref(), clock.today()).await?
            );
            Ok(())
        }
        Command::Baseline { dry_run } => {
            print!(
                "{}",
                crate::import::baseline(store.as_ref(), clock.today(), dry_run).await?
            );
            Ok(())
        }
        Command::Coverage { sample } => {
            let snap = Live::load(store.clone()).await?.snapshot();
            let c = locadocs_core::coverage::coverage(&snap, sample, clock.today());
            print!("{}", coverage_report(&c));
            Ok(())
        }
        Command::Check { legal } => {
            print!(
                "{}",
                crate::import::check(store.as_ref(), clock.today(), legal.warnings()).await?
            );
            Ok(())
        }
        Command::Site { action } => site(store.as_ref(), action).await,
        Command::User { action } => user(store, action).await,
        Command::Mail {
            action: MailCommand::Receive,
        } => receive_mail(store.as_ref(), clock).await,
    }
}

/// Exit status of a refused mail (`EX_DATAERR`: mail servers bounce it).
pub const MAIL_REFUSED: u8 = 65;

/// A mail refused by `locadocs mail receive`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailRefused(pub String);

async fn receive_mail(store: &dyn Store, clock: Clock) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let config = AdminConfig::from_env()?;
    let max = config.requests.max_message_bytes;
    let mut raw = Vec::new();
    tokio::io::stdin()
        .take(max as u64 + 1)
        .read_to_end(&mut raw)
        .await
        .context("lecture de l'entrée standard")?;
    if raw.len() > max {
        return Err(MailRefused(format!(
            "message trop volumineux : {} Mo au plus",
            max / (1024 * 1024)
        ))
        .into());
    }
    // The same setting as `serve --analytics`.
    let record_on =
        (std::env::var("LOCADOCS_ANALYTICS").as_deref() != Ok("off")).then(|| clock.today());
    match crate::requests::receive::receive(store, &config, &raw, record_on).await {
        Ok(crate::requests::receive::Received::Added {
            reference,
            from,
            attachments,
        }) => {
            println!(
                "Message ajouté à la demande {reference} ({from}, {attachments} pièce(s) jointe(s))."
            );
            Ok(())
        }
        Ok(crate::requests::receive::Received::Automatic) => {
            println!("Réponse automatique ignorée : rien n'est enregistré.");
            Ok(())
        }
        Err(e) => Err(MailRefused(e.0).into()),
    }
}

async fn site(store: &dyn Store, action: SiteAction) -> anyhow::Result<()> {
    match action {
        SiteAction::Add {
            key,
            name,
            origins,
            restrict_framing,
        } => {
            let key = locadocs_core::Slug::parse(&key)
                .map_err(|e| anyhow::anyhow!("clé « {key} » invalide : {e}"))?;
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                bail!("--name : donnez le nom du site (au plus 200 caractères)");
            }
            let mut parsed = Vec::new();
            for o in &origins {
                let o = locadocs_core::Origin::parse(o)
                    .map_err(|e| anyhow::anyhow!("--origin : {e}"))?;
                if !parsed.contains(&o) {
                    parsed.push(o);
                }
            }
            let site = locadocs_core::Site {
                key,
                name,
                origins: parsed,
                restrict_framing,
            };
            let created = store.save_site(&site).await?;
            println!(
                "Site « {} » {} : clé {}, origines {}{}.",
                site.name,
                if created {
                    "enregistré"
                } else {
                    "mis à jour"
                },
                site.key,
                site.origins
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if site.restrict_framing {
                    " ; le guide ne s'affiche que sur ces origines"
                } else {
                    ""
                }
            );
            println!("Code à intégrer : data-site=\"{}\"", site.key);
            Ok(())
        }
        SiteAction::List => {
            let sites = store.sites().await?;
            if sites.is_empty() {
                println!("Aucun site enregistré.");
            }
            for s in sites {
                println!(
                    "{}\t{}\t{}\t{}",
                    s.key,
                    s.name,
                    s.origins
                        .iter()
                        .map(|o| o.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    if s.restrict_framing {
                        "restreint"
                    } else {
                        "ouvert"
                    }
                );
            }
            Ok(())
        }
        SiteAction::Remove { key } => {
            if store.delete_site(&key).await? {
                println!("Site « {key} » supprimé.");
                Ok(())
            } else {
                bail!("aucun site n'est enregistré sous la clé « {key} »")
            }
        }
    }
}

/// `locadocs user add`: the first administrator, and accounts made from a
/// terminal, recorded in the history with the command line as author.
async fn user(store: Arc<dyn Store>, action: UserCommand) -> anyhow::Result<()> {
    use crate::store::Role;
    match action {
        UserCommand::Add {
            email,
            admin,
            role,
            services,
            territories,
        } => {
            let role = if admin {
                Role::Admin
            } else {
                match Role::parse(&role) {
                    Some(r) => r,
                    None => bail!("rôle « {role} » inconnu : admin, editor ou contributor"),
                }
            };
            if role == Role::Contributor && services.is_empty() {
                bail!("un contributeur a besoin d'au moins un --service");
            }
            if role != Role::Contributor && !(services.is_empty() && territories.is_empty()) {
                bail!(
                    "--service et --territory ne concernent que les contributeurs (--role contributor)"
                );
            }
            let snap = Live::load(store.clone()).await?.snapshot();
            for s in &services {
                if snap.service(s).is_none() {
                    bail!("--service : aucun service n'a l'identifiant « {s} »");
                }
            }
            let mut scope = vec![];
            for t in &territories {
                let parsed = locadocs_core::Territory::parse(t)
                    .map_err(|e| anyhow::anyhow!("--territory {t} : {e}"))?;
                if parsed == locadocs_core::Territory::France {
                    bail!("--territory france : les règles nationales sont réservées aux éditeurs");
                }
                if !snap.territories().has(&parsed) && snap.territories().commune_count() > 0 {
                    bail!("--territory {t} : aucun territoire ne correspond");
                }
                scope.push(parsed);
            }
            let command = std::iter::once(format!("user add --role {}", role.as_str()))
                .chain(services.iter().map(|s| format!("--service {s}")))
                .chain(territories.iter().map(|t| format!("--territory {t}")))
                .chain(std::iter::once(email.trim().to_lowercase()))
                .collect::<Vec<_>>()
                .join(" ");
            let cfg = crate::web::admin::AdminConfig::from_env()?;
            let link = crate::web::admin::auth::cli_add_user(
                store.as_ref(),
                &cfg,
                &email,
                role,
                &services,
                &scope,
                &format!("locadocs {command}"),
            )
            .await?;
            println!(
                "Compte créé pour {} ({}). Lien à usage unique pour choisir le mot de passe :\n{link}",
                email.trim().to_lowercase(),
                role.label()
            );
            Ok(())
        }
    }
}

/// Hides a password in a database URL before printing it.
/// The coverage figure, then one line per document type.
fn coverage_report(c: &locadocs_core::coverage::Coverage) -> String {
    let mut out = format!(
        "Couverture : {:.1} % de réponses complètes ({} sur {} questions, {} communes × {} types de document)\n",
        c.percent(),
        c.complete,
        c.questions,
        c.communes,
        c.by_document_type.len()
    );
    for (doc, questions, complete) in &c.by_document_type {
        let pct = if *questions == 0 {
            0.0
        } else {
            100.0 * *complete as f64 / *questions as f64
        };
        out.push_str(&format!(
            "  {doc} : {pct:.1} % ({complete} sur {questions})\n"
        ));
    }
    out
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn serve(
    store: Arc<dyn Store>,
    clock: Clock,
    bind: SocketAddr,
    settings: AdminConfig,
) -> anyhow::Result<()> {
    let live = Live::load(store).await.context("chargement des données")?;
    let snap = live.snapshot();
    if snap.territories().commune_count() == 0 {
        tracing::warn!("no communes loaded: run `locadocs import communes <dir>` (see README)");
    }
    let _watch = live.watch(Duration::from_millis(250));
    crate::requests::prepare(&settings.requests)?;
    settings.requests.attachments.clean_temporary().await;
    let state = AppState::new(live.clone(), clock, settings);
    crate::requests::outbox::spawn(
        live.store().clone(),
        state.admin.clone(),
        Duration::from_secs(1),
    );
    crate::requests::retention::spawn(
        live.store().clone(),
        state.admin.clone(),
        Duration::from_secs(3600),
    );
    crate::requests::digest::spawn(live.clone(), state.admin.clone(), Duration::from_secs(900));
    let usage = state.usage.clone();
    let _flusher = usage.spawn_flusher(live.store().clone(), Duration::from_secs(10));
    let analytics = state.analytics.clone();
    let _writer = analytics.spawn_writer(live.store().clone(), Duration::from_millis(500));
    // Daily figures include today's events within 30 seconds; raw events
    // older than the retention are purged at start, then daily.
    let _upkeep = analytics.spawn_upkeep(live.store().clone(), clock, Duration::from_secs(30));
    let _purger =
        crate::web::admin::auth::spawn_purger(live.store().clone(), Duration::from_secs(3600));
    let _stats = crate::web::stats::spawn_refresher(state.clone(), Duration::from_secs(5));
    let _dashboards =
        crate::web::admin::screens::spawn_dashboard_warmer(state.clone(), Duration::from_secs(60));
    let _coverage = crate::web::coverage::spawn_warmer(
        state.coverage.clone(),
        live.clone(),
        clock,
        Duration::from_secs(5),
    );
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("écoute sur {bind}"))?;
    println!("Locadocs sert sur http://{}", listener.local_addr()?);
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // Counts of the last seconds before a clean stop are kept too.
    if let Err(e) = usage.flush(live.store().as_ref()).await {
        tracing::warn!(error = %e, "usage counts lost at shutdown");
    }
    // Every event queued is written, then a last roll-up.
    analytics.finish(live.store().as_ref(), &clock).await;
    let summary = analytics.summary();
    tracing::info!("{summary}");
    println!("{summary}");
    Ok(())
}

/// Ctrl-C, or SIGTERM as sent by service managers.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Writes an export to a file (next to it then renamed, so a crash never
/// leaves half a file) or to standard output.
fn write_out(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            let tmp = p.with_extension("csv.tmp");
            std::fs::write(&tmp, bytes)
                .with_context(|| format!("écriture de {}", tmp.display()))?;
            std::fs::rename(&tmp, p).with_context(|| format!("écriture de {}", p.display()))?;
            eprintln!("{} : {} octets écrits.", p.display(), bytes.len());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(bytes)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
