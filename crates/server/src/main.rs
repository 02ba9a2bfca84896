use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("LOCADOCS_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = locadocs::cli::Cli::parse();
    match locadocs::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if let Some(refused) = e.downcast_ref::<locadocs::cli::MailRefused>() {
                // One line, for the mail server's bounce.
                eprintln!("Refusé : {}", refused.0.replace('\n', " "));
                return std::process::ExitCode::from(locadocs::cli::MAIL_REFUSED);
            }
            eprintln!("Erreur : {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
