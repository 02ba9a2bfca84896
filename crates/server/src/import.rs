//! Imports, exports, the demo dataset and data checks. The command line
//! uses these today; the back office will use `prepare` for its dry runs.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use locadocs_core::formats::{self, ImportContext, Issue, Kind, Plan, Rejected};
use locadocs_core::guide;
use locadocs_core::{
    DeptCode, DocumentType, HoldingRule, InseeCode, RefData, Service, ServiceRef, Siren, Slug,
    Territories, Territory, cog,
};

use crate::store::{Author, Changes, Store};

/// Largest data file accepted.
const MAX_FILE: u64 = 200 * 1024 * 1024;

/// The demo dataset, shipped inside the binary.
const DEMO_DOCUMENT_TYPES: &[u8] = include_bytes!("../../../demo/document-types.csv");
const DEMO_SERVICES: &[u8] = include_bytes!("../../../demo/services.csv");
const DEMO_HOLDINGS: &[u8] = include_bytes!("../../../demo/holdings.csv");
/// The national baseline: rules that hold for every commune, with sources.
const BASELINE_HOLDINGS: &[u8] = include_bytes!("../../../data/baseline.csv");
const DEMO_GUIDES: [&str; 4] = [
    include_str!("../../../demo/guides/immobilier.toml"),
    include_str!("../../../demo/guides/etat-civil.toml"),
    include_str!("../../../demo/guides/divorce.toml"),
    include_str!("../../../demo/guides/travaux-site-protege.toml"),
];
/// The fields of each document type's request form.
const DEMO_REQUEST_FORMS: &str = include_str!("../../../demo/request-forms.toml");
/// The demo services that take requests through Locadocs (a setting of
/// this instance, not a fact about the services).
pub const DEMO_ACCEPTING: [&str; 4] = [
    "archives-rennes",
    "rennes-metropole-droit-des-sols",
    "archives-ille-et-vilaine",
    "udap-35",
];

/// What a command did, line by line, for the command line to print.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub lines: Vec<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in &self.lines {
            writeln!(f, "{l}")?;
        }
        Ok(())
    }
}

/// Adds a line to a report, as `println!` would print it.
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        $out.lines.push(format!($($arg)*))
    };
}

/// Reads a file whole, refusing what is too large to be a data file.
pub fn read_limited(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("lecture de {}", path.display()))?;
    if meta.len() > max {
        bail!(
            "{} : fichier trop gros ({} octets, au plus {max})",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("lecture de {}", path.display()))
}

/// Parses a guide file and checks it against the document types known.
pub fn check_guide(
    source: &str,
    document_types: &HashSet<String>,
) -> Result<guide::Guide, Vec<String>> {
    let g = guide::parse(source).map_err(|e| vec![e.to_string()])?;
    let problems = guide::validate(&g, &|slug| document_types.contains(slug));
    if problems.is_empty() {
        Ok(g)
    } else {
        Err(problems
            .iter()
            .map(|p| format!("guide {} : {p}", g.slug))
            .collect())
    }
}

/// Longest list of untranslated texts one warning names.
const UNTRANSLATED_NAMED: usize = 12;

/// The warning of `locadocs check` for a guide's texts without a
/// translation in `lang` (shown in French there), if any.
pub fn untranslated_warning(g: &guide::Guide, lang: &str) -> Option<String> {
    let missing = g.untranslated(lang);
    if missing.is_empty() {
        return None;
    }
    let mut named = missing
        .iter()
        .take(UNTRANSLATED_NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ; ");
    if missing.len() > UNTRANSLATED_NAMED {
        named.push_str(&format!(
            " ; et {} autre(s)",
            missing.len() - UNTRANSLATED_NAMED
        ));
    }
    Some(format!(
        "guide {} : {} texte(s) sans traduction « {lang} » (affichés en français) : {named}",
        g.slug,
        missing.len()
    ))
}

/// What the store knows, plus what is being imported alongside.
pub struct Known<'a> {
    pub territories: &'a Territories,
    pub document_types: HashSet<Slug>,
    pub services: HashSet<Slug>,
}

impl<'a> Known<'a> {
    pub fn new(territories: &'a Territories, data: &RefData) -> Self {
        Known {
            territories,
            document_types: data.document_types.iter().map(|d| d.slug.clone()).collect(),
            services: data.services.iter().map(|s| s.id.clone()).collect(),
        }
    }
}

impl ImportContext for Known<'_> {
    fn commune_known(&self, code: InseeCode) -> bool {
        self.territories.knows(code)
    }
    fn epci_known(&self, siren: &Siren) -> bool {
        self.territories.epci(siren).is_some()
    }
    fn departement_known(&self, code: &DeptCode) -> bool {
        self.territories.departement(code.as_str()).is_some()
    }
    fn document_type_known(&self, slug: &Slug) -> bool {
        self.document_types.contains(slug)
    }
    fn service_known(&self, id: &Slug) -> bool {
        self.services.contains(id)
    }
}

/// A checked import, ready to apply: what changes, and what to tell the person.
#[derive(Debug, Default)]
pub struct Prepared {
    pub changes: Changes,
    pub warnings: Vec<Issue>,
    /// One line per kind: "document-types : 1 ajout, …".
    pub summary: Vec<String>,
    /// Every change, one line each ("+ permis-de-construire", "~ …", "- …").
    pub details: Vec<String>,
}

impl Prepared {
    fn absorb<T>(&mut self, kind: Kind, plan: &Plan<T>, name: impl Fn(&T) -> String) {
        self.summary.push(format!("{kind} : {}", plan.summary()));
        self.details
            .extend(plan.add.iter().map(|t| format!("+ {kind} {}", name(t))));
        self.details.extend(
            plan.update
                .iter()
                .map(|(_, t)| format!("~ {kind} {}", name(t))),
        );
        self.details
            .extend(plan.remove.iter().map(|t| format!("- {kind} {}", name(t))));
    }
}

pub fn holding_name(h: &HoldingRule) -> String {
    let b =
        |x: Option<locadocs_core::Bound>| x.map(|b| b.to_string()).unwrap_or_else(|| "…".into());
    format!(
        "{} / {} / {} → {} : {}",
        h.document_type,
        h.territory,
        b(h.from),
        b(h.to),
        h.service
    )
}

fn rejected(errors: Vec<Issue>, warnings: Vec<Issue>) -> Rejected {
    Rejected { errors, warnings }
}

/// Checks one file against the stored data and plans its changes, writing
/// nothing. All-or-nothing: any bad row rejects the whole file.
pub fn prepare(
    kind: Kind,
    bytes: &[u8],
    territories: &Territories,
    existing: &RefData,
    replace: bool,
    today: NaiveDate,
) -> Result<Prepared, Rejected> {
    // A spreadsheet is read as the CSV of its first sheet.
    let converted;
    let bytes = match crate::spreadsheet::to_csv(bytes) {
        None => bytes,
        Some(Ok(csv)) => {
            converted = csv;
            converted.as_slice()
        }
        Some(Err(message)) => return Err(Rejected::file(message)),
    };
    let known = Known::new(territories, existing);
    let mut out = Prepared::default();
    match kind {
        Kind::DocumentTypes => {
            let parsed = formats::read_document_types(bytes)?;
            out.warnings = parsed.warnings;
            let plan = formats::plan_document_types(&existing.document_types, parsed.rows, replace);
            let removed: HashSet<&Slug> = plan.remove.iter().map(|d| &d.slug).collect();
            let errors = still_used(
                &existing.holdings,
                |h| removed.contains(&h.document_type),
                "type de document",
                |h| h.document_type.to_string(),
            );
            if !errors.is_empty() {
                return Err(rejected(errors, out.warnings));
            }
            out.absorb(kind, &plan, |d: &DocumentType| d.slug.to_string());
            out.changes.delete_document_types =
                plan.remove.iter().map(|d| d.slug.clone()).collect();
            out.changes.upsert_document_types = plan
                .add
                .into_iter()
                .chain(plan.update.into_iter().map(|(_, n)| n))
                .collect();
        }
        Kind::Services => {
            let parsed = formats::read_services(bytes, &known)?;
            out.warnings = parsed.warnings;
            let errors = competence_errors(&existing.services, &parsed.rows, replace);
            if !errors.is_empty() {
                return Err(rejected(errors, out.warnings));
            }
            let plan = formats::plan_services(&existing.services, parsed.rows, replace);
            let removed: HashSet<&Slug> = plan.remove.iter().map(|s| &s.id).collect();
            let errors = still_used(
                &existing.holdings,
                |h| matches!(&h.service, ServiceRef::Id(id) if removed.contains(id)),
                "service",
                |h| h.service.to_string(),
            );
            if !errors.is_empty() {
                return Err(rejected(errors, out.warnings));
            }
            out.absorb(kind, &plan, |s: &Service| s.id.to_string());
            out.changes.delete_services = plan.remove.iter().map(|s| s.id.clone()).collect();
            out.changes.upsert_services = plan
                .add
                .into_iter()
                .chain(plan.update.into_iter().map(|(_, n)| n))
                .collect();
        }
        Kind::Holdings => {
            let parsed = formats::read_holdings(bytes, &known, today)?;
            out.warnings = parsed.warnings;
            let plan = formats::plan_holdings(&existing.holdings, parsed.rows, replace, today)
                .map_err(|mut r| {
                    r.warnings.extend(out.warnings.clone());
                    r
                })?;
            out.absorb(kind, &plan, holding_name);
            out.changes.delete_holdings = plan.remove.iter().map(HoldingRule::key).collect();
            out.changes.upsert_holdings = plan
                .add
                .into_iter()
                .chain(plan.update.into_iter().map(|(_, n)| n))
                .collect();
        }
    }
    Ok(out)
}

/// Errors for rows of a services file that would make two services of one
/// kind competent for the same territory, with each other or with a stored
/// service the file keeps: `ligne N, colonne competence`, naming both.
fn competence_errors(existing: &[Service], rows: &[(u64, Service)], replace: bool) -> Vec<Issue> {
    let in_file: HashSet<&Slug> = rows.iter().map(|(_, s)| &s.id).collect();
    // Stored services first (no line), then the file's rows.
    let kept: Vec<&Service> = if replace {
        Vec::new()
    } else {
        existing
            .iter()
            .filter(|s| !in_file.contains(&s.id))
            .collect()
    };
    let all: Vec<&Service> = kept
        .iter()
        .copied()
        .chain(rows.iter().map(|(_, s)| s))
        .collect();
    let mut errors = Vec::new();
    for (kind, t, a, b) in locadocs_core::reference::competence_clashes(&all) {
        // `b` comes later, so it is always one of the file's rows.
        let Some((line, s)) = b.checked_sub(kept.len()).map(|i| &rows[i]) else {
            continue;
        };
        let column = if s.competence.is_empty() {
            "commune"
        } else {
            "competence"
        };
        errors.push(Issue::at(
            *line,
            Some(column),
            locadocs_core::reference::clash_message(kind, &t, &all[a].id, &s.id),
        ));
    }
    errors
}

/// Errors for rows that would be removed while rules still point at them.
fn still_used(
    holdings: &[HoldingRule],
    uses: impl Fn(&HoldingRule) -> bool,
    what: &str,
    name: impl Fn(&HoldingRule) -> String,
) -> Vec<Issue> {
    let mut counts: HashMap<String, (usize, &HoldingRule)> = HashMap::new();
    for h in holdings.iter().filter(|h| uses(h)) {
        counts.entry(name(h)).or_insert((0, h)).0 += 1;
    }
    let mut errors: Vec<Issue> = counts
        .into_iter()
        .map(|(n, (count, example))| Issue {
            line: None,
            column: None,
            message: format!(
                "le {what} « {n} » serait supprimé (absent du fichier, avec --replace) mais {count} règle(s) l'utilisent encore, \
                 par exemple {} ; supprimez ou modifiez d'abord ces règles",
                holding_name(example)
            ),
        })
        .collect();
    errors.sort_by(|a, b| a.message.cmp(&b.message));
    errors
}

/// `locadocs import <kind> <path>`.
pub async fn run(
    store: &dyn Store,
    kind: &str,
    path: &Path,
    dry_run: bool,
    replace: bool,
    today: NaiveDate,
) -> anyhow::Result<Report> {
    let mut out = Report::default();
    if kind == "communes" {
        return import_communes(store, path, dry_run).await;
    }
    if kind == "guide" || kind == "guides" {
        return import_guide(store, path, dry_run).await;
    }
    if kind == "annuaire" {
        return import_annuaire(store, path, dry_run).await;
    }
    if kind == "francearchives" {
        return import_francearchives(store, path, dry_run).await;
    }
    let Some(kind) = Kind::parse(kind) else {
        bail!(
            "« {kind} » : type d'import inconnu (attendu : communes, document-types, services, holdings, annuaire, francearchives ou guide)"
        );
    };
    let bytes = read_limited(path, MAX_FILE)?;
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    let existing = store.load_ref_data().await?;
    let prepared = match prepare(kind, &bytes, &territories, &existing, replace, today) {
        Ok(p) => p,
        Err(rejected) => {
            bail!(
                "{}\n{rejected}\nimport refusé : rien n'a été écrit",
                path.display()
            );
        }
    };
    print_prepared(&mut out, &prepared);
    if dry_run {
        say!(out, "Vérification seule (--dry-run) : rien n'a été écrit.");
        return Ok(out);
    }
    if prepared.changes.is_empty() {
        say!(out, "Rien à changer.");
        return Ok(out);
    }
    // Refused if anything changed since the file was checked; recorded in
    // the history like an import from the back office.
    let author = Author::command_line(&format!(
        "locadocs import {} {}",
        kind.as_str(),
        path.display()
    ));
    store
        .apply_recorded(&author, &prepared.changes, version)
        .await
        .map_err(|e| anyhow::anyhow!("import refusé : {e}"))?;
    say!(out, "Import enregistré.");
    Ok(out)
}

fn print_prepared(out: &mut Report, p: &Prepared) {
    for w in &p.warnings {
        say!(out, "avertissement : {w}");
    }
    for s in &p.summary {
        say!(out, "{s}");
    }
    const SHOWN: usize = 200;
    for d in p.details.iter().take(SHOWN) {
        say!(out, "  {d}");
    }
    if p.details.len() > SHOWN {
        say!(out, "  … et {} autres changements", p.details.len() - SHOWN);
    }
}

/// `locadocs import francearchives <file.csv>`: archive services from the
/// FranceArchives directory; all-or-nothing.
async fn import_francearchives(
    store: &dyn Store,
    path: &Path,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let mut out = Report::default();
    let bytes = read_limited(path, crate::francearchives::MAX_FILE)?;
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    let existing = store.load_ref_data().await?;
    let prepared =
        crate::francearchives::prepare(&bytes, &territories, &existing).map_err(|rejected| {
            anyhow::anyhow!(
                "{}\n{rejected}\nimport refusé : rien n'a été écrit",
                path.display()
            )
        })?;
    print_prepared(&mut out, &prepared);
    if dry_run {
        say!(out, "Vérification seule (--dry-run) : rien n'a été écrit.");
        return Ok(out);
    }
    if prepared.changes.is_empty() {
        say!(out, "Rien à changer.");
        return Ok(out);
    }
    let author = Author::command_line(&format!(
        "locadocs import francearchives {}",
        path.display()
    ));
    store
        .apply_recorded(&author, &prepared.changes, version)
        .await
        .map_err(|e| anyhow::anyhow!("import refusé : {e}"))?;
    say!(out, "Import enregistré.");
    Ok(out)
}

/// `locadocs import annuaire <file.json>`: services from Annuaire records.
async fn import_annuaire(store: &dyn Store, path: &Path, dry_run: bool) -> anyhow::Result<Report> {
    let mut out = Report::default();
    let bytes = read_limited(path, crate::annuaire::MAX_FILE)?;
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    let existing = store.load_ref_data().await?;
    let report = crate::annuaire::prepare(&bytes, &territories, &existing)
        .map_err(|e| anyhow::anyhow!("{} : {e}", path.display()))?;
    for l in &report.lines {
        say!(out, "{}", crate::annuaire::Report::line_text(l));
    }
    say!(out, "services : {}", report.summary());
    if dry_run {
        say!(out, "Vérification seule (--dry-run) : rien n'a été écrit.");
        return Ok(out);
    }
    if report.changes.is_empty() {
        say!(out, "Rien à changer.");
        return Ok(out);
    }
    let author = Author::command_line(&format!("locadocs import annuaire {}", path.display()));
    store
        .apply_recorded(&author, &report.changes, version)
        .await
        .map_err(|e| anyhow::anyhow!("import refusé : {e}"))?;
    say!(out, "Import enregistré.");
    Ok(out)
}

async fn import_guide(store: &dyn Store, path: &Path, dry_run: bool) -> anyhow::Result<Report> {
    let mut out = Report::default();
    let bytes = read_limited(path, 2 * 1024 * 1024)?;
    let source = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} : le fichier n'est pas en UTF-8", path.display()))?;
    let docs: HashSet<String> = store
        .load_ref_data()
        .await?
        .document_types
        .iter()
        .map(|d| d.slug.to_string())
        .collect();
    let g = check_guide(&source, &docs)
        .map_err(|errors| anyhow::anyhow!("{} :\n{}", path.display(), errors.join("\n")))?;
    if dry_run {
        say!(
            out,
            "Guide « {} » valide ({} étapes) ; rien n'a été écrit.",
            g.slug,
            g.steps.len()
        );
        return Ok(out);
    }
    let saved = store.save_guide(g.slug.as_str(), &source, true).await?;
    say!(
        out,
        "Guide « {} » publié (version {}).",
        saved.slug,
        saved.version
    );
    Ok(out)
}

async fn import_communes(store: &dyn Store, dir: &Path, dry_run: bool) -> anyhow::Result<Report> {
    let mut out = Report::default();
    let read = |name: &str| read_limited(&dir.join(name), MAX_FILE);
    let data = cog::parse(
        &read("communes.json")?,
        &read("epci.json")?,
        &read("departements.json")?,
        &read("regions.json")?,
    )
    .context("données territoriales invalides")?;
    let counts = format!(
        "{} communes, {} EPCI, {} départements, {} régions",
        data.communes.len(),
        data.epcis.len(),
        data.departements.len(),
        data.regions.len()
    );
    if dry_run {
        say!(
            out,
            "Vérification seule : {counts} lus ; rien n'a été écrit."
        );
        return Ok(out);
    }
    store.replace_territories(&data).await?;
    say!(out, "Importé : {counts}.");
    Ok(out)
}

/// `locadocs export <kind>`: the CSV of a table (UTF-8 with BOM, `;`), with
/// cells Excel would read as formulas neutralized.
pub async fn export(store: &dyn Store, kind: &str) -> anyhow::Result<Vec<u8>> {
    let Some(kind) = Kind::parse(kind) else {
        bail!(
            "« {kind} » : type d'export inconnu (attendu : document-types, services ou holdings)"
        );
    };
    let data = store.load_ref_data().await?;
    Ok(match kind {
        Kind::DocumentTypes => formats::write_document_types(&data.document_types),
        Kind::Services => formats::write_services(&data.services),
        Kind::Holdings => formats::write_holdings(&data.holdings),
    })
}

/// Checks the demo dataset (the national baseline included) against the
/// stored data and plans its changes, writing nothing.
pub fn prepare_demo(
    territories: &Territories,
    existing: &RefData,
    today: NaiveDate,
) -> Result<Prepared, (Kind, Rejected)> {
    prepare_files(
        territories,
        existing,
        today,
        &[
            (Kind::DocumentTypes, DEMO_DOCUMENT_TYPES),
            (Kind::Services, DEMO_SERVICES),
            (Kind::Holdings, BASELINE_HOLDINGS),
            (Kind::Holdings, DEMO_HOLDINGS),
        ],
    )
}

/// Checks the national baseline (the document types and the national rules,
/// no service) against the stored data and plans its changes.
pub fn prepare_baseline(
    territories: &Territories,
    existing: &RefData,
    today: NaiveDate,
) -> Result<Prepared, (Kind, Rejected)> {
    prepare_files(
        territories,
        existing,
        today,
        &[
            (Kind::DocumentTypes, DEMO_DOCUMENT_TYPES),
            (Kind::Holdings, BASELINE_HOLDINGS),
        ],
    )
}

/// Prepares files in order, each checked against the stored data and the
/// files before it; the changes of all, or the first refusal.
fn prepare_files(
    territories: &Territories,
    existing: &RefData,
    today: NaiveDate,
    files: &[(Kind, &[u8])],
) -> Result<Prepared, (Kind, Rejected)> {
    let mut with = existing.clone();
    let mut out = Prepared::default();
    for &(kind, bytes) in files {
        let p = prepare(kind, bytes, territories, &with, false, today).map_err(|r| (kind, r))?;
        with.document_types
            .extend(p.changes.upsert_document_types.iter().cloned());
        with.services
            .extend(p.changes.upsert_services.iter().cloned());
        with.holdings
            .extend(p.changes.upsert_holdings.iter().cloned());
        out.warnings.extend(p.warnings);
        out.summary.extend(p.summary);
        out.details.extend(p.details);
        out.changes
            .upsert_document_types
            .extend(p.changes.upsert_document_types);
        out.changes
            .upsert_services
            .extend(p.changes.upsert_services);
        out.changes
            .upsert_holdings
            .extend(p.changes.upsert_holdings);
    }
    Ok(out)
}

/// `locadocs baseline`: loads the national baseline (document types and
/// national rules, each with its source) in one transaction, for an
/// instance without the demo; running it again changes nothing.
pub async fn baseline(
    store: &dyn Store,
    today: NaiveDate,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let mut out = Report::default();
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    if territories.commune_count() == 0 {
        bail!(
            "aucune commune chargée : lancez d'abord `locadocs import communes node_modules/@etalab/decoupage-administratif/data`"
        );
    }
    let existing = store.load_ref_data().await?;
    let prepared =
        prepare_baseline(&territories, &existing, today).map_err(|(kind, rejected)| {
            anyhow::anyhow!("socle national ({kind}) refusé :\n{rejected}")
        })?;
    for s in &prepared.summary {
        say!(out, "{s}");
    }
    for w in &prepared.warnings {
        say!(out, "attention : {w}");
    }
    if dry_run {
        say!(out, "Essai : rien n'a été écrit.");
    } else if prepared.changes.is_empty() {
        say!(out, "Socle national déjà à jour.");
    } else {
        store
            .apply_recorded(
                &Author::command_line("locadocs baseline"),
                &prepared.changes,
                version,
            )
            .await
            .map_err(|e| anyhow::anyhow!("socle national refusé : {e}"))?;
        say!(out, "Socle national chargé.");
    }
    Ok(out)
}

/// `locadocs demo`: loads the shipped dataset in one transaction; running it
/// again changes nothing.
pub async fn demo(store: &dyn Store, today: NaiveDate) -> anyhow::Result<Report> {
    let mut out = Report::default();
    let version = store.data_version().await?;
    let territories = store.load_territories().await?;
    if territories.commune_count() == 0 {
        bail!(
            "aucune commune chargée : lancez d'abord `locadocs import communes node_modules/@etalab/decoupage-administratif/data`"
        );
    }
    let existing = store.load_ref_data().await?;
    let prepared = prepare_demo(&territories, &existing, today).map_err(|(kind, rejected)| {
        anyhow::anyhow!("données de démonstration ({kind}) refusées :\n{rejected}")
    })?;
    for s in &prepared.summary {
        say!(out, "{s}");
    }
    let mut docs: HashSet<String> = existing
        .document_types
        .iter()
        .map(|d| d.slug.to_string())
        .collect();
    docs.extend(
        prepared
            .changes
            .upsert_document_types
            .iter()
            .map(|d| d.slug.to_string()),
    );
    let mut guides = Vec::new();
    for source in DEMO_GUIDES {
        let g = check_guide(source, &docs)
            .map_err(|e| anyhow::anyhow!("guide de démonstration refusé :\n{}", e.join("\n")))?;
        guides.push((g.slug.to_string(), source));
    }
    if prepared.changes.is_empty() {
        say!(out, "Données de référence de démonstration déjà à jour.");
    } else {
        store
            .apply_recorded(
                &Author::command_line("locadocs demo"),
                &prepared.changes,
                version,
            )
            .await
            .map_err(|e| anyhow::anyhow!("données de démonstration refusées : {e}"))?;
        say!(out, "Données de démonstration chargées.");
    }
    for (slug, source) in guides {
        let saved = store.save_guide(&slug, source, true).await?;
        say!(out, "guide {slug} : version {} publiée", saved.version);
    }
    let forms = locadocs_core::request::parse_forms_file(DEMO_REQUEST_FORMS)
        .map_err(|e| anyhow::anyhow!("demo/request-forms.toml refusé : {e}"))?;
    let mut changed = 0;
    for (slug, fields) in &forms {
        if !docs.contains(slug.as_str()) {
            bail!("demo/request-forms.toml : type de document inconnu « {slug} »");
        }
        if existing.requests.forms.get(slug.as_str()) != Some(fields) {
            store.set_request_form(slug.as_str(), fields).await?;
            changed += 1;
        }
    }
    for id in DEMO_ACCEPTING {
        if !existing.requests.accepting.contains(id) {
            store.set_accepting(id, true).await?;
            changed += 1;
        }
    }
    if changed > 0 {
        say!(
            out,
            "Demandes : {} formulaires, {} services qui reçoivent les demandes.",
            forms.len(),
            DEMO_ACCEPTING.len()
        );
    }
    Ok(out)
}

/// Problems found in stored data.
pub fn check_data(
    territories: &Territories,
    data: &RefData,
    today: NaiveDate,
) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let docs: HashSet<&Slug> = data.document_types.iter().map(|d| &d.slug).collect();
    let services: HashSet<&Slug> = data.services.iter().map(|s| &s.id).collect();
    let mut groups: HashMap<(&Slug, &Territory), Vec<&HoldingRule>> = HashMap::new();
    for h in &data.holdings {
        let name = holding_name(h);
        if !docs.contains(&h.document_type) {
            errors.push(format!("règle {name} : type de document inconnu"));
        }
        if let ServiceRef::Id(id) = &h.service
            && !services.contains(id)
        {
            errors.push(format!("règle {name} : service inconnu"));
        }
        let territory_known = match &h.territory {
            Territory::Commune(c) => territories.knows(*c),
            Territory::Epci(s) => territories.epci(s).is_some(),
            Territory::Departement(d) => territories.departement(d.as_str()).is_some(),
            Territory::France => true,
        };
        if !territory_known {
            errors.push(format!(
                "règle {name} : territoire inconnu (les communes sont-elles importées ?)"
            ));
        }
        if h.is_empty_period(today) {
            warnings.push(format!("règle {name} : période vide à ce jour"));
        }
        groups
            .entry((&h.document_type, &h.territory))
            .or_default()
            .push(h);
    }
    for rules in groups.values_mut() {
        rules.sort_by_key(|r| r.start(today));
        for pair in rules.windows(2) {
            if pair[0].overlaps(pair[1], today) {
                errors.push(format!(
                    "règles qui se chevauchent : {} et {}",
                    holding_name(pair[0]),
                    holding_name(pair[1])
                ));
            }
        }
    }
    let stale = today - chrono::Duration::days(365);
    for s in &data.services {
        if s.kind == locadocs_core::ServiceKind::Mairie && s.commune.is_none() {
            warnings.push(format!(
                "service {} : mairie sans commune, elle ne sera jamais proposée pour @mairie",
                s.id
            ));
        }
        if s.verified_at.is_some_and(|d| d < stale) {
            warnings.push(format!(
                "service {} : coordonnées non vérifiées depuis plus de 12 mois",
                s.id
            ));
        }
    }
    errors.sort();
    warnings.sort();
    (errors, warnings)
}

/// `locadocs check`.
/// Checks the stored data; `settings` are warnings about the instance's
/// settings (see [`crate::settings::LegalArgs::warnings`]), reported first.
pub async fn check(
    store: &dyn Store,
    today: NaiveDate,
    settings: Vec<String>,
) -> anyhow::Result<Report> {
    let mut out = Report::default();
    let territories = store.load_territories().await?;
    let data = store.load_ref_data().await?;
    let (mut errors, data_warnings) = check_data(&territories, &data, today);
    let mut warnings = settings;
    warnings.extend(data_warnings);
    let docs: HashSet<String> = data
        .document_types
        .iter()
        .map(|d| d.slug.to_string())
        .collect();
    let guides = store.latest_guides().await?;
    for g in &guides {
        match check_guide(&g.source, &docs) {
            Err(problems) => errors.extend(
                problems
                    .into_iter()
                    .map(|p| format!("{p} (version {})", g.version)),
            ),
            Ok(parsed) => warnings.extend(untranslated_warning(&parsed, "en")),
        }
    }
    let mut report = String::new();
    for w in &warnings {
        let _ = writeln!(report, "avertissement : {w}");
    }
    for e in &errors {
        let _ = writeln!(report, "erreur : {e}");
    }
    out.lines.extend(report.lines().map(str::to_owned));
    say!(
        out,
        "{} communes, {} types de documents, {} services, {} règles, {} guides : {} erreur(s), {} avertissement(s).",
        territories.commune_count(),
        data.document_types.len(),
        data.services.len(),
        data.holdings.len(),
        guides.len(),
        errors.len(),
        warnings.len()
    );
    if !errors.is_empty() {
        bail!("les données contiennent des erreurs");
    }
    Ok(out)
}
