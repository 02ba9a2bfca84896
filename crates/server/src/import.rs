//! Imports, exports, demo data and checks, shared by the CLI and (later) the back office.

use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use locadocs_core::cog;

use crate::store::Store;

/// Largest data file accepted.
const MAX_FILE: u64 = 200 * 1024 * 1024;

pub async fn run(
    store: &dyn Store,
    kind: &str,
    path: &Path,
    dry_run: bool,
    replace: bool,
    today: NaiveDate,
) -> anyhow::Result<()> {
    match kind {
        "communes" => import_communes(store, path, dry_run).await,
        other => bail!(
            "« {other} » : type d'import inconnu (communes, document-types, services, holdings) {replace} {today}"
        ),
    }
}

async fn import_communes(store: &dyn Store, dir: &Path, dry_run: bool) -> anyhow::Result<()> {
    let read = |name: &str| crate::cli::read_limited(&dir.join(name), MAX_FILE);
    let data = cog::parse(
        &read("communes.json")?,
        &read("epci.json")?,
        &read("departements.json")?,
        &read("regions.json")?,
    )
    .context("données territoriales invalides")?;
    if dry_run {
        println!(
            "Vérification seule : {} communes, {} EPCI, {} départements, {} régions lus ; rien n'est écrit.",
            data.communes.len(),
            data.epcis.len(),
            data.departements.len(),
            data.regions.len()
        );
        return Ok(());
    }
    let n = store.replace_territories(&data).await?;
    println!(
        "Importé : {} communes, {} EPCI, {} départements, {} régions.",
        n.communes, n.epcis, n.departements, n.regions
    );
    Ok(())
}

pub async fn export(_store: &dyn Store, kind: &str, _path: Option<&Path>) -> anyhow::Result<()> {
    bail!("export de « {kind} »")
}

pub async fn demo(_store: &dyn Store, _today: NaiveDate) -> anyhow::Result<()> {
    bail!("demo")
}

pub async fn check(_store: &dyn Store, _today: NaiveDate) -> anyhow::Result<()> {
    bail!("check")
}
