//! Import of services from records in the shape of the *Annuaire de
//! l'administration* (JSON): matched on their Annuaire id, so that a second
//! import updates the services it created instead of duplicating them.
//!
//! Accepted input: a JSON array of records, or an object whose `service`
//! member is that array (the shape of the Annuaire's export). Nested fields
//! (`adresse`, `telephone`, …) may be arrays or JSON text holding an array,
//! as both appear in the Annuaire's exports.

use std::collections::{HashMap, HashSet};

use locadocs_core::{InseeCode, RefData, Service, ServiceKind, Slug, Territories, Territory};
use serde_json::Value;

use crate::store::Changes;

/// Largest Annuaire file accepted.
pub const MAX_FILE: u64 = 50 * 1024 * 1024;

/// What happens to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Added,
    /// With the names of the fields that change.
    Updated(Vec<&'static str>),
    Unchanged,
    Rejected(String),
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Position of the record in the file, from 1.
    pub index: usize,
    pub annuaire_id: String,
    pub name: String,
    /// Our identifier of the service (none when rejected).
    pub service: Option<String>,
    pub outcome: Outcome,
}

/// A checked Annuaire import: the changes and the report.
#[derive(Debug, Default)]
pub struct Report {
    pub changes: Changes,
    pub lines: Vec<Line>,
}

impl Report {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.lines.iter().filter(|l| f(&l.outcome)).count()
    }
    pub fn added(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Added))
    }
    pub fn updated(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Updated(_)))
    }
    pub fn unchanged(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unchanged))
    }
    pub fn rejected(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Rejected(_)))
    }

    /// "2 ajoutés, 1 mis à jour, 0 inchangé, 1 rejeté".
    pub fn summary(&self) -> String {
        format!(
            "{} ajouté(s), {} mis à jour, {} inchangé(s), {} rejeté(s)",
            self.added(),
            self.updated(),
            self.unchanged(),
            self.rejected()
        )
    }

    /// One line of text per record.
    pub fn line_text(l: &Line) -> String {
        let who = format!(
            "enregistrement {} ({}{})",
            l.index,
            if l.annuaire_id.is_empty() {
                "sans id"
            } else {
                &l.annuaire_id
            },
            if l.name.is_empty() {
                String::new()
            } else {
                format!(", « {} »", l.name)
            }
        );
        let svc = l.service.as_deref().unwrap_or("");
        match &l.outcome {
            Outcome::Added => format!("+ {who} : ajouté comme « {svc} »"),
            Outcome::Updated(f) => format!("~ {who} : « {svc} » mis à jour ({})", f.join(", ")),
            Outcome::Unchanged => format!("= {who} : « {svc} » inchangé"),
            Outcome::Rejected(why) => format!("! {who} : rejeté, {why}"),
        }
    }
}

/// Our kind of service for an Annuaire `type_service_local`.
pub fn kind_of(type_service_local: &str) -> Option<ServiceKind> {
    use ServiceKind::*;
    Some(match type_service_local.trim().to_lowercase().as_str() {
        "mairie" | "mairie_mairie_deleguee" | "mairie_com" | "mairie_annexe" => Mairie,
        "archives_departementales" => ArchivesDepartementales,
        "archives_municipales" | "archives_communales" => ArchivesMunicipales,
        "archives_intercommunales" => ArchivesIntercommunales,
        "archives_nationales" | "archives_nationales_site" => ArchivesNationales,
        "epci" | "communaute_communes" | "communaute_agglomeration" | "metropole" => Epci,
        "urbanisme" | "service_urbanisme" | "droit_des_sols" => Urbanisme,
        "tribunal_judiciaire"
        | "tj"
        | "tgi"
        | "ti"
        | "tribunal_proximite"
        | "tribunal_commerce"
        | "cour_appel"
        | "conseil_prud_hommes" => Tribunal,
        "spf" | "service_publicite_fonciere" | "hypotheque" | "conservation_hypotheques" => {
            PubliciteFonciere
        }
        "udap" | "sdap" => Udap,
        "chambre_notaires" | "chambre_departementale_notaires" | "notaire" => Notaire,
        _ => return None,
    })
}

/// An array field, given as an array or as JSON text holding one.
fn list(v: &Value, key: &str) -> Vec<Value> {
    match v.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => {
            serde_json::from_str::<Vec<Value>>(s).unwrap_or_default()
        }
        Some(Value::String(s)) if !s.trim().is_empty() => vec![Value::String(s.clone())],
        Some(Value::Object(o)) => vec![Value::Object(o.clone())],
        _ => vec![],
    }
}

/// A text field (strings and numbers), trimmed; empty means absent.
fn text(v: &Value, key: &str) -> Option<String> {
    let t = match v.get(key)? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!t.is_empty()).then_some(t)
}

/// The first `valeur` (or plain string) of a list field.
fn first_value(v: &Value, key: &str) -> Option<String> {
    list(v, key).iter().find_map(|item| match item {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        other => text(other, "valeur"),
    })
}

fn hours(v: &Value) -> Option<String> {
    let parts: Vec<String> = list(v, "plage_ouverture")
        .iter()
        .filter_map(|p| {
            let from = text(p, "nom_jour_debut")?;
            let days = match text(p, "nom_jour_fin") {
                Some(to) if to != from => format!("{from} au {to}"),
                _ => from,
            };
            let mut slots = vec![];
            for i in 1..=2 {
                if let (Some(a), Some(b)) = (
                    text(p, &format!("valeur_heure_debut_{i}")),
                    text(p, &format!("valeur_heure_fin_{i}")),
                ) {
                    let short = |t: String| t.get(..5).map(str::to_owned).unwrap_or(t);
                    slots.push(format!("{}–{}", short(a), short(b)));
                }
            }
            let mut s = format!("{days} : {}", slots.join(", "));
            if let Some(c) = text(p, "commentaire") {
                s.push_str(&format!(" ({c})"));
            }
            Some(s)
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" ; "))
}

/// A slug made from a name: lower case, no accents, words joined by `-`.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
            'î' | 'ï' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            'œ' | 'Œ' => 'o',
            c => c.to_ascii_lowercase(),
        };
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut s: String = out.chars().take(60).collect();
    while s.ends_with('-') {
        s.pop();
    }
    s
}

const MAX_TEXT: usize = 500;

/// Reads the records of an Annuaire file and plans the services to add or
/// update. Writes nothing. Errs only when the file is not JSON in the
/// expected shape; bad records are reported and left out.
pub fn prepare(
    bytes: &[u8],
    territories: &Territories,
    existing: &RefData,
) -> Result<Report, String> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "le fichier n'est pas du JSON valide (ligne {}, colonne {}) : {e}",
            e.line(),
            e.column()
        )
    })?;
    let records = match &root {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("service") {
            Some(Value::Array(a)) => a.clone(),
            _ => return Err("attendu : un tableau d'enregistrements, ou un objet dont le membre « service » est ce tableau".into()),
        },
        _ => return Err("attendu : un tableau d'enregistrements JSON".into()),
    };
    let by_annuaire: HashMap<&str, &Service> = existing
        .services
        .iter()
        .filter_map(|s| s.annuaire_id.as_deref().map(|a| (a, s)))
        .collect();
    let mut taken: HashSet<String> = existing.services.iter().map(|s| s.id.to_string()).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut report = Report::default();
    for (i, rec) in records.iter().enumerate() {
        let annuaire_id = text(rec, "id").unwrap_or_default();
        let name = text(rec, "nom").unwrap_or_default();
        let mut line = Line {
            index: i + 1,
            annuaire_id: annuaire_id.clone(),
            name: name.chars().take(120).collect(),
            service: None,
            outcome: Outcome::Unchanged,
        };
        match record(rec, territories) {
            Err(why) => line.outcome = Outcome::Rejected(why),
            Ok(_) if !seen.insert(annuaire_id.clone()) => {
                line.outcome = Outcome::Rejected(format!(
                    "l'id « {annuaire_id} » apparaît déjà plus haut dans le fichier"
                ))
            }
            Ok(fresh) => match by_annuaire.get(annuaire_id.as_str()) {
                Some(old) => {
                    // Ours: the identifier, the kind chosen, the request page,
                    // the response time and the verification date.
                    let new = Service {
                        id: old.id.clone(),
                        kind: old.kind,
                        request_url: old.request_url.clone(),
                        response_time: old.response_time.clone(),
                        verified_at: old.verified_at,
                        ..fresh
                    };
                    line.service = Some(old.id.to_string());
                    let changed = changed_fields(old, &new);
                    if changed.is_empty() {
                        line.outcome = Outcome::Unchanged;
                    } else {
                        line.outcome = Outcome::Updated(changed);
                        report.changes.upsert_services.push(new);
                    }
                }
                None => {
                    let base = slugify(&fresh.name);
                    let base = if base.is_empty() {
                        "service".to_owned()
                    } else {
                        base
                    };
                    let mut id = base.clone();
                    if taken.contains(&id) {
                        let suffix = slugify(&annuaire_id);
                        id = format!("{base}-{}", suffix.chars().take(19).collect::<String>());
                        let mut n = 2;
                        while taken.contains(&id) {
                            id = format!("{base}-{n}");
                            n += 1;
                        }
                    }
                    match Slug::parse(&id) {
                        Err(e) => {
                            line.outcome =
                                Outcome::Rejected(format!("identifiant « {id} » impossible : {e}"))
                        }
                        Ok(slug) => {
                            taken.insert(id.clone());
                            line.service = Some(id);
                            line.outcome = Outcome::Added;
                            report
                                .changes
                                .upsert_services
                                .push(Service { id: slug, ..fresh });
                        }
                    }
                }
            },
        }
        report.lines.push(line);
    }
    Ok(report)
}

fn changed_fields(a: &Service, b: &Service) -> Vec<&'static str> {
    let mut out = vec![];
    let mut check = |name: &'static str, same: bool| {
        if !same {
            out.push(name);
        }
    };
    check("nom", a.name == b.name);
    check("commune", a.commune == b.commune);
    check("adresse", a.address == b.address);
    check("code postal", a.postal_code == b.postal_code);
    check("ville", a.city == b.city);
    check("téléphone", a.phone == b.phone);
    check("courriel", a.email == b.email);
    check("site internet", a.website == b.website);
    check("horaires", a.opening_hours == b.opening_hours);
    check("latitude", a.latitude == b.latitude);
    check("longitude", a.longitude == b.longitude);
    check("compétence", a.competence == b.competence);
    out
}

/// One record as a service (with a placeholder identifier), or why not.
fn record(rec: &Value, territories: &Territories) -> Result<Service, String> {
    if !rec.is_object() {
        return Err("ce n'est pas un objet JSON".into());
    }
    let annuaire_id = text(rec, "id").ok_or("champ « id » manquant")?;
    if annuaire_id.chars().count() > 100 {
        return Err("champ « id » trop long (100 caractères au plus)".into());
    }
    let name = text(rec, "nom").ok_or("champ « nom » manquant")?;
    if name.chars().count() > 200 {
        return Err("champ « nom » trop long (200 caractères au plus)".into());
    }
    let types: Vec<String> = list(rec, "pivot")
        .iter()
        .filter_map(|p| text(p, "type_service_local"))
        .collect();
    if types.is_empty() {
        return Err("aucun « pivot[].type_service_local » : type de service inconnu".into());
    }
    let kind = types.iter().find_map(|t| kind_of(t)).ok_or_else(|| {
        format!(
            "type_service_local « {} » non pris en charge (mairie, archives_departementales, tribunal_judiciaire, spf, udap…)",
            types.join(", ")
        )
    })?;
    let commune = match text(rec, "code_insee_commune") {
        None => None,
        Some(c) => {
            let code = InseeCode::parse(&c)
                .map_err(|e| format!("code_insee_commune « {c} » invalide : {e}"))?;
            if !territories.knows(code) {
                return Err(format!("code_insee_commune « {c} » : commune inconnue"));
            }
            Some(code)
        }
    };
    // The communes the service is competent for: `pivot[].code_insee_commune`
    // of the entries of its kind.
    let mut competence: Vec<Territory> = Vec::new();
    for p in list(rec, "pivot") {
        if text(&p, "type_service_local").and_then(|t| kind_of(&t)) != Some(kind) {
            continue;
        }
        for c in list(&p, "code_insee_commune") {
            let Some(c) = (match &c {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }) else {
                continue;
            };
            let code = InseeCode::parse(&c)
                .map_err(|e| format!("pivot[].code_insee_commune « {c} » invalide : {e}"))?;
            if !territories.knows(code) {
                return Err(format!(
                    "pivot[].code_insee_commune « {c} » : commune inconnue"
                ));
            }
            let t = Territory::Commune(code);
            if !competence.contains(&t) {
                competence.push(t);
            }
        }
    }
    if kind == ServiceKind::Mairie && commune.is_none() {
        return Err("une mairie doit avoir un « code_insee_commune »".into());
    }
    let addresses = list(rec, "adresse");
    let address = addresses
        .iter()
        .find(|a| text(a, "type_adresse").as_deref() == Some("Adresse"))
        .or_else(|| addresses.first());
    let mut s = Service::new(Slug::parse("annuaire").expect("a valid slug"), name, kind);
    s.annuaire_id = Some(annuaire_id);
    s.commune = commune;
    s.competence = competence;
    if let Some(a) = address {
        let street: Vec<String> = [
            "complement1",
            "complement2",
            "numero_voie",
            "service_distribution",
        ]
        .iter()
        .filter_map(|k| text(a, k))
        .collect();
        s.address = (!street.is_empty()).then(|| street.join(", "));
        s.postal_code = text(a, "code_postal");
        s.city = text(a, "nom_commune");
        s.latitude = text(a, "latitude").and_then(|t| t.parse().ok());
        s.longitude = text(a, "longitude").and_then(|t| t.parse().ok());
    }
    s.phone = first_value(rec, "telephone");
    s.email = first_value(rec, "adresse_courriel");
    s.website = first_value(rec, "site_internet");
    s.opening_hours = hours(rec);
    if let Some(e) = &s.email
        && !e.contains('@')
    {
        return Err(format!("adresse_courriel « {e} » invalide"));
    }
    if let Some(w) = &s.website
        && !(w.starts_with("https://") || w.starts_with("http://"))
    {
        return Err(format!(
            "site_internet « {w} » : une adresse http(s):// est attendue"
        ));
    }
    for (field, v) in [
        ("adresse", &s.address),
        ("telephone", &s.phone),
        ("adresse_courriel", &s.email),
        ("site_internet", &s.website),
        ("plage_ouverture", &s.opening_hours),
    ] {
        if v.as_ref().is_some_and(|v| v.chars().count() > MAX_TEXT * 4) {
            return Err(format!("champ « {field} » trop long"));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_kinds() {
        assert_eq!(
            slugify("Mairie de Saint-Étienne-en-Coglès"),
            "mairie-de-saint-etienne-en-cogles"
        );
        assert_eq!(
            kind_of("archives_departementales"),
            Some(ServiceKind::ArchivesDepartementales)
        );
        assert_eq!(kind_of("caf"), None);
    }
}
