//! Import of archive services from the FranceArchives directory export
//! (*Annuaire des services d'archives publiques*, CSV): matched on their
//! FranceArchives id, so that a second import updates what the first one
//! created. All-or-nothing, like the CSV imports: any bad row refuses the
//! whole file, `ligne N, colonne X`.
//!
//! - `D` (archives départementales): the `archives-departementales` service
//!   competent for the département of its `Code_insee_commune`. When no
//!   service has this FranceArchives id yet, the one already competent for
//!   that département (entered by hand, say) is updated rather than doubled.
//! - `C`: an `archives-municipales` service competent for its commune, or an
//!   `archives-intercommunales` one (its `Categorie` or name says
//!   "intercommunal") competent for the EPCI of its commune.
//! - `N`: `archives-nationales`; the other letters: `autre`. Both without a
//!   competence area: they can be named by a rule, never found by `@kind`.
//!
//! An empty cell leaves what is stored: the directory fills in, it does not
//! erase what a contributor typed.

use std::collections::HashSet;

use locadocs_core::formats::{self, ArchiveCategory, ArchiveRecord, Issue, Rejected};
use locadocs_core::{DeptCode, RefData, Service, ServiceKind, Slug, Territories, Territory};

use crate::import::{Known, Prepared};

/// Largest FranceArchives file accepted.
pub const MAX_FILE: u64 = 50 * 1024 * 1024;

const COMMUNE_COLUMN: &str = "code_insee_commune";

/// The kind and the competence area of a record, or why it has none.
fn kind_and_area(
    rec: &ArchiveRecord,
    territories: &Territories,
) -> Result<(ServiceKind, Vec<Territory>), String> {
    let commune = || {
        rec.commune
            .and_then(|c| territories.current(c))
            .ok_or_else(|| {
                "valeur obligatoire pour les catégories D et C : elle donne le territoire du service"
                    .to_owned()
            })
    };
    Ok(match rec.category {
        ArchiveCategory::Departementales => {
            let c = commune()?;
            let dept = DeptCode::parse(&c.departement).map_err(|e| e.to_string())?;
            (
                ServiceKind::ArchivesDepartementales,
                vec![Territory::Departement(dept)],
            )
        }
        ArchiveCategory::Communales if rec.is_intercommunal() => {
            let c = commune()?;
            let area = match &c.epci {
                Some(siren) => Territory::Epci(siren.clone()),
                None => Territory::Commune(c.code),
            };
            (ServiceKind::ArchivesIntercommunales, vec![area])
        }
        ArchiveCategory::Communales => {
            let c = commune()?;
            (
                ServiceKind::ArchivesMunicipales,
                vec![Territory::Commune(c.code)],
            )
        }
        ArchiveCategory::Nationales => (ServiceKind::ArchivesNationales, vec![]),
        _ => (ServiceKind::Autre, vec![]),
    })
}

/// `old` (or a blank service) with what the record says.
fn merged(old: &Service, rec: &ArchiveRecord, area: &[Territory]) -> Service {
    let mut s = old.clone();
    s.name = rec.name.clone();
    s.francearchives_id = Some(rec.id.clone());
    let keep = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
    s.francearchives_url = keep(&rec.francearchives_url, &old.francearchives_url);
    s.email = keep(&rec.email, &old.email);
    s.phone = keep(&rec.phone, &old.phone);
    s.address = keep(
        &rec.address.clone().or_else(|| rec.postal_address.clone()),
        &old.address,
    );
    s.city = keep(&rec.city, &old.city);
    s.postal_code = keep(&rec.postal_code, &old.postal_code);
    s.opening_hours = keep(&rec.opening_hours, &old.opening_hours);
    s.website = keep(&rec.website, &old.website);
    s.commune = rec.commune.or(old.commune);
    if rec.latitude.is_some() {
        s.latitude = rec.latitude;
        s.longitude = rec.longitude;
    }
    for t in area {
        if !s.competence.contains(t) {
            s.competence.push(t.clone());
        }
    }
    s
}

fn changed_fields(a: &Service, b: &Service) -> Vec<&'static str> {
    [
        ("nom", a.name == b.name),
        ("commune", a.commune == b.commune),
        ("adresse", a.address == b.address),
        ("code postal", a.postal_code == b.postal_code),
        ("ville", a.city == b.city),
        ("téléphone", a.phone == b.phone),
        ("courriel", a.email == b.email),
        ("site internet", a.website == b.website),
        ("horaires", a.opening_hours == b.opening_hours),
        ("latitude", a.latitude == b.latitude),
        ("longitude", a.longitude == b.longitude),
        ("compétence", a.competence == b.competence),
        (
            "id FranceArchives",
            a.francearchives_id == b.francearchives_id,
        ),
        (
            "page FranceArchives",
            a.francearchives_url == b.francearchives_url,
        ),
    ]
    .into_iter()
    .filter(|(_, same)| !same)
    .map(|(name, _)| name)
    .collect()
}

/// A free identifier made from the service's name.
fn new_id(name: &str, fa_id: &str, taken: &mut HashSet<String>) -> Result<Slug, String> {
    let base = crate::annuaire::slugify(name);
    let base = if base.is_empty() {
        "service".to_owned()
    } else {
        base
    };
    let mut id = base.clone();
    if taken.contains(&id) {
        let suffix: String = crate::annuaire::slugify(fa_id).chars().take(19).collect();
        id = format!("{base}-{suffix}");
        let mut n = 2;
        while taken.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
    }
    let slug = Slug::parse(&id).map_err(|e| format!("identifiant « {id} » impossible : {e}"))?;
    taken.insert(id);
    Ok(slug)
}

/// Checks a FranceArchives export against the stored data and plans the
/// services to add or update, writing nothing.
pub fn prepare(
    bytes: &[u8],
    territories: &Territories,
    existing: &RefData,
) -> Result<Prepared, Rejected> {
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
    let parsed = formats::read_francearchives(bytes, &known)?;
    let mut out = Prepared {
        warnings: parsed.warnings,
        ..Prepared::default()
    };
    let mut errors = Vec::new();
    let mut taken: HashSet<String> = existing.services.iter().map(|s| s.id.to_string()).collect();
    // Stored services already matched by a row: one row each.
    let mut matched: HashSet<Slug> = HashSet::new();
    // The services of the file once imported, with their line.
    let mut rows: Vec<(u64, Service)> = Vec::new();
    let (mut added, mut updated, mut unchanged, mut without_area) = (0, 0, 0, 0);
    for (line, rec) in &parsed.rows {
        let (kind, area) = match kind_and_area(rec, territories) {
            Ok(k) => k,
            Err(why) => {
                errors.push(Issue::at(*line, Some(COMMUNE_COLUMN), why));
                continue;
            }
        };
        if area.is_empty() {
            without_area += 1;
        }
        let old = existing
            .services
            .iter()
            .find(|s| s.francearchives_id.as_deref() == Some(rec.id.as_str()))
            .or_else(|| {
                // A service of the same kind already competent for the same
                // territory, not yet tied to FranceArchives.
                existing.services.iter().find(|s| {
                    !area.is_empty()
                        && s.kind == kind
                        && s.francearchives_id.is_none()
                        && !matched.contains(&s.id)
                        && area.iter().all(|t| s.competence_area().contains(t))
                })
            });
        let who = |id: &Slug| format!("{id} ({}, « {} »)", rec.id, rec.name);
        match old {
            Some(old) => {
                matched.insert(old.id.clone());
                let new = merged(old, rec, &area);
                let changed = changed_fields(old, &new);
                let name = who(&old.id);
                if changed.is_empty() {
                    unchanged += 1;
                } else {
                    updated += 1;
                    out.details
                        .push(format!("~ services {name} : {}", changed.join(", ")));
                    out.changes.upsert_services.push(new.clone());
                }
                rows.push((*line, new));
            }
            None => match new_id(&rec.name, &rec.id, &mut taken) {
                Err(why) => errors.push(Issue::at(*line, Some("nom_du_service"), why)),
                Ok(id) => {
                    let blank = Service::new(id.clone(), rec.name.clone(), kind);
                    let new = merged(&blank, rec, &area);
                    added += 1;
                    out.details.push(format!("+ services {}", who(&id)));
                    out.changes.upsert_services.push(new.clone());
                    rows.push((*line, new));
                }
            },
        }
    }
    errors.extend(clashes(existing, &rows));
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(Rejected {
            errors,
            warnings: out.warnings,
        });
    }
    out.summary.push(format!(
        "francearchives : {added} ajout(s), {updated} mise(s) à jour, {unchanged} inchangé(s)"
    ));
    if without_area > 0 {
        out.summary.push(format!(
            "dont {without_area} service(s) ni départemental ni communal, importé(s) sans compétence territoriale"
        ));
    }
    Ok(out)
}

/// Rows that would make two services of one kind competent for the same
/// territory (with each other or with a stored service), naming both.
fn clashes(existing: &RefData, rows: &[(u64, Service)]) -> Vec<Issue> {
    let in_file: HashSet<&Slug> = rows.iter().map(|(_, s)| &s.id).collect();
    let kept: Vec<&Service> = existing
        .services
        .iter()
        .filter(|s| !in_file.contains(&s.id))
        .collect();
    let all: Vec<&Service> = kept
        .iter()
        .copied()
        .chain(rows.iter().map(|(_, s)| s))
        .collect();
    locadocs_core::reference::competence_clashes(&all)
        .into_iter()
        .filter_map(|(kind, t, a, b)| {
            let (line, s) = &rows[b.checked_sub(kept.len())?];
            Some(Issue::at(
                *line,
                Some(COMMUNE_COLUMN),
                locadocs_core::reference::clash_message(kind, &t, &all[a].id, &s.id),
            ))
        })
        .collect()
}
