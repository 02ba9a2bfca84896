//! The snapshot: an immutable, indexed copy of the published reference data.
//!
//! The server builds one at start and after every change, then swaps it in
//! atomically; readers (locate, commune search, guide pages) only ever read
//! a snapshot, never the database.

use crate::request::{RequestField, RequestSettings};
use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::codes::{InseeCode, Siren, Slug};
use crate::communicability::{Communicability, communicability};
use crate::french::{departmental_archives_name, of_departement, of_place, town_hall_name};
use crate::guide::Guide;
use crate::locate::{Period, Segment, When, timeline};
use crate::reference::{DocumentType, HoldingRule, Service, ServiceKind, ServiceRef, Territory};
use crate::search::SearchIndex;
use crate::site::Site;
use crate::territory::{Commune, Resolution, Territories};

/// Reference data as loaded from the store.
#[derive(Debug, Clone, Default)]
pub struct RefData {
    pub document_types: Vec<DocumentType>,
    pub services: Vec<Service>,
    pub holdings: Vec<HoldingRule>,
    /// Published guides.
    pub guides: Vec<Guide>,
    /// Sites registered to embed guides.
    pub sites: Vec<Site>,
    /// Which services take requests, and each document type's form.
    pub requests: RequestSettings,
}

/// An immutable, indexed copy of the published reference data.
#[derive(Debug)]
pub struct Snapshot {
    /// The published data version this snapshot was built from.
    pub version: i64,
    geo: Arc<Geo>,
    document_types: Vec<DocumentType>,
    doc_by_slug: HashMap<Slug, usize>,
    services: Vec<Service>,
    service_by_id: HashMap<Slug, usize>,
    /// The service of each kind competent for each territory.
    competent: HashMap<(ServiceKind, TerritoryKey), usize>,
    holdings: Vec<HoldingRule>,
    guides: Vec<Guide>,
    sites: Vec<Site>,
    requests: RequestSettings,
    /// Rules by (document type index, territory): keys are `Copy`, so a
    /// lookup allocates nothing.
    rules_by_key: HashMap<(u32, TerritoryKey), Vec<u32>>,
}

/// A territory as a small `Copy` value, for index keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TerritoryKey {
    Commune(InseeCode),
    Epci(u32),
    Departement([u8; 3]),
    France,
}

impl TerritoryKey {
    fn of(t: &Territory) -> TerritoryKey {
        match t {
            Territory::Commune(c) => TerritoryKey::Commune(*c),
            Territory::Epci(s) => TerritoryKey::epci(s),
            Territory::Departement(d) => TerritoryKey::departement(d.as_str()),
            Territory::France => TerritoryKey::France,
        }
    }

    /// A SIREN is nine digits: it fits in a u32.
    fn epci(siren: &Siren) -> TerritoryKey {
        TerritoryKey::Epci(siren.as_str().parse().unwrap_or(u32::MAX))
    }

    /// A département code has two or three characters.
    fn departement(code: &str) -> TerritoryKey {
        let mut b = [0u8; 3];
        for (i, c) in code.bytes().take(3).enumerate() {
            b[i] = c;
        }
        TerritoryKey::Departement(b)
    }
}

/// Territories and their search index: rebuilt only when the communes are
/// re-imported, shared by every snapshot in between.
#[derive(Debug)]
pub struct Geo {
    pub territories: Territories,
    pub search: SearchIndex,
}

impl Geo {
    /// Indexes the territories for search.
    pub fn new(territories: Territories) -> Self {
        let search = SearchIndex::build(territories.communes());
        Geo {
            territories,
            search,
        }
    }
}

impl Default for Geo {
    fn default() -> Self {
        Geo::new(Territories::default())
    }
}

/// Who holds the documents for one stretch of time.
#[derive(Debug, Clone, Copy)]
pub enum Holder<'a> {
    /// A known service.
    Service(&'a Service),
    /// The service of this kind competent for the commune asked about, not
    /// (yet) described by any contributor: the answer names it from what is
    /// known of the commune, without contact details.
    Unknown {
        kind: ServiceKind,
        commune: &'a Commune,
        departement: Option<&'a crate::territory::Departement>,
        epci: Option<&'a crate::territory::Epci>,
    },
}

impl Holder<'_> {
    /// The holder's name, in correct French: "Mairie du Havre",
    /// "Archives départementales de l'Ain", "Le notaire qui a reçu l'acte,
    /// ou son successeur".
    pub fn name(&self) -> String {
        match *self {
            Holder::Service(s) => s.name.clone(),
            Holder::Unknown {
                kind,
                commune,
                departement,
                epci,
            } => unknown_holder_name(kind, commune, departement, epci),
        }
    }

    /// The kind of service, as in files (`archives-departementales`).
    pub fn kind(&self) -> ServiceKind {
        match *self {
            Holder::Service(s) => s.kind,
            Holder::Unknown { kind, .. } => kind,
        }
    }

    /// For a holder named without contact details, a general lead on how
    /// to find it.
    pub fn lead(&self) -> Option<&'static str> {
        match *self {
            Holder::Service(_) => None,
            Holder::Unknown { kind, .. } => Some(unknown_holder_lead(kind)),
        }
    }
}

/// The name of the service of a kind competent for a commune, when no
/// contributor has described it.
pub fn unknown_holder_name(
    kind: ServiceKind,
    commune: &Commune,
    departement: Option<&crate::territory::Departement>,
    epci: Option<&crate::territory::Epci>,
) -> String {
    let dept = |prefix: &str| match departement {
        Some(d) if d.liaison.is_some() => {
            format!("{prefix} {}", of_departement(&d.name, d.liaison))
        }
        Some(d) => format!("{prefix} ({})", d.name),
        None => format!("{prefix} du département"),
    };
    match kind {
        ServiceKind::Mairie => town_hall_name(&commune.name, commune.liaison),
        ServiceKind::ArchivesDepartementales => match departement {
            Some(d) => departmental_archives_name(&d.name, d.liaison),
            None => "Archives départementales du département".to_owned(),
        },
        ServiceKind::Udap => dept("Unité départementale de l'architecture et du patrimoine"),
        ServiceKind::Notaire => "Le notaire qui a reçu l'acte, ou son successeur".to_owned(),
        ServiceKind::PubliciteFonciere => {
            "Le service de publicité foncière dont dépend la commune".to_owned()
        }
        ServiceKind::Tribunal => "Le tribunal qui a rendu la décision".to_owned(),
        ServiceKind::Urbanisme => format!(
            "Le service d'urbanisme {} ou de son intercommunalité",
            of_place(&commune.name, commune.liaison)
        ),
        ServiceKind::Epci => match epci {
            Some(e) => e.name.clone(),
            None => "L'intercommunalité dont fait partie la commune".to_owned(),
        },
        ServiceKind::ArchivesMunicipales => format!(
            "Archives municipales {}",
            of_place(&commune.name, commune.liaison)
        ),
        ServiceKind::ArchivesIntercommunales => match epci {
            Some(e) => format!("Service d'archives de l'intercommunalité ({})", e.name),
            None => "Le service d'archives de l'intercommunalité".to_owned(),
        },
        ServiceKind::ArchivesNationales => "Archives nationales".to_owned(),
        ServiceKind::Autre => "Le service compétent pour la commune".to_owned(),
    }
}

/// How to find a holder the answer names without contact details.
pub fn unknown_holder_lead(kind: ServiceKind) -> &'static str {
    match kind {
        ServiceKind::Mairie => {
            "Ses coordonnées figurent dans l'Annuaire de l'administration (lannuaire.service-public.fr)."
        }
        ServiceKind::ArchivesDepartementales
        | ServiceKind::ArchivesMunicipales
        | ServiceKind::ArchivesIntercommunales
        | ServiceKind::ArchivesNationales => {
            "L'annuaire des services d'archives de FranceArchives (francearchives.gouv.fr) donne leurs coordonnées et le lien vers leurs inventaires en ligne."
        }
        ServiceKind::Notaire => {
            "Si vous ne savez pas quelle étude conserve l'acte, la chambre des notaires du département peut vous l'indiquer ; l'annuaire des notaires de France (notaires.fr) donne les coordonnées des études."
        }
        ServiceKind::PubliciteFonciere => {
            "L'annuaire des services des Finances publiques, sur impots.gouv.fr, indique le service compétent pour chaque commune."
        }
        ServiceKind::Tribunal => {
            "L'annuaire des juridictions du ministère de la Justice (justice.fr) donne les coordonnées des tribunaux."
        }
        ServiceKind::Udap => {
            "Chaque département a une UDAP, rattachée à la direction régionale des affaires culturelles (DRAC) : ses coordonnées figurent sur le site culture.gouv.fr, à la page de la DRAC de la région."
        }
        ServiceKind::Urbanisme | ServiceKind::Epci | ServiceKind::Autre => {
            "Renseignez-vous à la mairie de la commune : elle saura vous orienter."
        }
    }
}

/// One holder of the answer.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub holder: Holder<'a>,
    pub rule: &'a HoldingRule,
    pub period: Period,
    pub communicability: Communicability,
}

/// The whole answer to "who holds documents of type D for commune C at W".
#[derive(Debug, Clone)]
pub struct Answer<'a> {
    pub document_type: &'a DocumentType,
    pub commune: Resolution<'a>,
    pub matches: Vec<Match<'a>>,
    pub uncovered: Vec<Period>,
    /// Periods no holder can be named for, with the rule saying why
    /// (`@inconnu`: its instructions give the reason, its source the basis).
    pub unstated: Vec<Unstated<'a>>,
    pub communicability: Communicability,
    /// Stretches held under a rule naming a service that does not exist
    /// (the store refuses such rules; counted so that they are not hidden).
    pub dangling: usize,
}

/// A period explicitly left without a holder, and why.
#[derive(Debug, Clone)]
pub struct Unstated<'a> {
    pub rule: &'a HoldingRule,
    pub period: Period,
}

impl Unstated<'_> {
    /// Why no holder is named.
    pub fn reason(&self) -> Option<&str> {
        self.rule.instructions.as_deref()
    }
}

impl Answer<'_> {
    /// Every period without a holder, oldest first: gaps no rule covers and
    /// periods explicitly left without one.
    pub fn periods_without_holder(&self) -> Vec<Period> {
        let mut out: Vec<Period> = self.uncovered.clone();
        out.extend(self.unstated.iter().map(|u| u.period));
        out.sort_by_key(|p| p.from);
        out
    }

    /// Whether every period of the timeline is held by a named holder or
    /// explicitly left without one, with a reason: no gap, no rule pointing
    /// nowhere.
    pub fn is_complete(&self) -> bool {
        self.uncovered.is_empty()
            && self.dangling == 0
            && (!self.matches.is_empty() || !self.unstated.is_empty())
    }
}

/// Why a locate request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocateError {
    #[error("type de document inconnu : « {0} »")]
    UnknownDocumentType(String),
    #[error("commune inconnue : « {0} »")]
    UnknownCommune(String),
}

impl Snapshot {
    /// Indexes the data. Holding rules pointing at unknown document types or
    /// services are kept but can never match (the store refuses them anyway).
    pub fn build(version: i64, geo: Arc<Geo>, data: RefData) -> Snapshot {
        let doc_by_slug: HashMap<Slug, usize> = data
            .document_types
            .iter()
            .enumerate()
            .map(|(i, d)| (d.slug.clone(), i))
            .collect();
        let service_by_id = data
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let mut competent = HashMap::new();
        for (i, s) in data.services.iter().enumerate() {
            for t in s.competence_area() {
                // Clashes are refused by the store; the first one wins here.
                competent.entry((s.kind, TerritoryKey::of(&t))).or_insert(i);
            }
        }
        let mut rules_by_key: HashMap<(u32, TerritoryKey), Vec<u32>> = HashMap::new();
        for (i, r) in data.holdings.iter().enumerate() {
            // Rules of unknown document types can never be asked for.
            if let Some(&doc) = doc_by_slug.get(&r.document_type) {
                rules_by_key
                    .entry((doc as u32, TerritoryKey::of(&r.territory)))
                    .or_default()
                    .push(i as u32);
            }
        }
        Snapshot {
            version,
            geo,
            document_types: data.document_types,
            doc_by_slug,
            services: data.services,
            service_by_id,
            competent,
            holdings: data.holdings,
            guides: data.guides,
            sites: data.sites,
            requests: data.requests,
            rules_by_key,
        }
    }

    /// An empty snapshot (no communes, no data), for a server that has not
    /// loaded anything yet.
    pub fn empty() -> Snapshot {
        Snapshot::build(0, Arc::new(Geo::default()), RefData::default())
    }

    pub fn geo(&self) -> &Arc<Geo> {
        &self.geo
    }

    pub fn territories(&self) -> &Territories {
        &self.geo.territories
    }

    /// Communes matching what a person typed, best first.
    pub fn search_communes(&self, query: &str, limit: usize) -> Vec<&Commune> {
        let communes = self.geo.territories.communes();
        self.geo
            .search
            .search(query, limit)
            .into_iter()
            .filter_map(|hit| communes.get(hit.index as usize))
            .collect()
    }

    /// The commune meant beyond doubt by what a person typed: the only
    /// commune of that exact name (case and accents aside), or the only one
    /// of that postal or INSEE code. `None` when several fit, or none: the
    /// person then chooses in the list. A former commune that shares its
    /// current commune's code (the chef-lieu of a commune nouvelle) counts
    /// as that commune.
    pub fn obvious_commune(&self, query: &str) -> Option<&Commune> {
        let communes = self.geo.territories.communes();
        let mut distinct: Vec<&Commune> = Vec::new();
        for hit in self.geo.search.search(query, 20) {
            if hit.kind != crate::search::MatchKind::Exact {
                continue;
            }
            let Some(c) = communes.get(hit.index as usize) else {
                continue;
            };
            if !distinct.iter().any(|d| d.code == c.code) {
                distinct.push(c);
            }
        }
        match distinct.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    pub fn document_types(&self) -> &[DocumentType] {
        &self.document_types
    }

    pub fn document_type(&self, slug: &str) -> Option<&DocumentType> {
        self.doc_by_slug.get(slug).map(|&i| &self.document_types[i])
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.service_by_id.get(id).map(|&i| &self.services[i])
    }

    /// A published guide.
    pub fn guide(&self, slug: &str) -> Option<&Guide> {
        self.guides.iter().find(|g| g.slug.as_str() == slug)
    }

    /// Every published guide, by slug.
    pub fn guides(&self) -> impl Iterator<Item = &Guide> {
        self.guides.iter()
    }

    /// Whether a service takes requests through Locadocs.
    pub fn accepts_requests(&self, service: &str) -> bool {
        self.requests.accepting.contains(service)
    }

    /// The fields a request for a document type asks for (none when its
    /// form was never defined).
    pub fn request_fields(&self, document_type: &str) -> &[RequestField] {
        self.requests
            .forms
            .get(document_type)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// A registered site, by the key it embeds guides with.
    pub fn site(&self, key: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.key.as_str() == key)
    }

    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    pub fn holdings(&self) -> &[HoldingRule] {
        &self.holdings
    }

    fn rules_at(&self, doc: usize, key: TerritoryKey) -> Vec<&HoldingRule> {
        self.rules_by_key
            .get(&(doc as u32, key))
            .map(|ids| ids.iter().map(|&i| &self.holdings[i as usize]).collect())
            .unwrap_or_default()
    }

    /// The index keys of the levels that apply to a commune, most specific
    /// first: its own former code, the current commune, its EPCI, its
    /// département, France.
    fn level_keys(&self, commune: &Resolution<'_>) -> [Option<TerritoryKey>; 5] {
        let current = commune.current;
        [
            commune.former_code.map(TerritoryKey::Commune),
            Some(TerritoryKey::Commune(current.code)),
            current.epci.as_ref().map(TerritoryKey::epci),
            Some(TerritoryKey::departement(&current.departement)),
            Some(TerritoryKey::France),
        ]
    }

    /// Answers "who holds documents of this type for this commune, at this
    /// time, and may they be consulted" as of `today`.
    pub fn locate(
        &self,
        document_type: &str,
        commune: &str,
        when: When,
        today: NaiveDate,
    ) -> Result<Answer<'_>, LocateError> {
        let doc = self
            .document_type(document_type)
            .ok_or_else(|| LocateError::UnknownDocumentType(document_type.to_owned()))?;
        let resolution = InseeCode::parse_lenient(commune)
            .ok()
            .and_then(|(code, _)| self.geo.territories.resolve(code))
            .ok_or_else(|| LocateError::UnknownCommune(commune.to_owned()))?;
        let doc_index = self
            .doc_by_slug
            .get(document_type)
            .copied()
            .unwrap_or(usize::MAX);
        let levels: Vec<Vec<&HoldingRule>> = self
            .level_keys(&resolution)
            .into_iter()
            .flatten()
            .map(|k| self.rules_at(doc_index, k))
            .collect();
        let t = timeline(&levels, when.window(), today);
        let comm = communicability(
            doc.communicability_years,
            doc.communicability_note.as_deref(),
            when.year(),
            today,
        );
        let unstated: Vec<Unstated<'_>> = t
            .segments
            .iter()
            .filter(|seg| seg.rule.service == ServiceRef::Unstated)
            .map(|seg| Unstated {
                rule: seg.rule,
                period: seg.period,
            })
            .collect();
        let dangling = t
            .segments
            .iter()
            .filter(|seg| self.holder(&seg.rule.service, resolution.current).is_none())
            .count()
            - unstated.len();
        let matches = t
            .segments
            .iter()
            .filter_map(|seg: &Segment| {
                let holder = self.holder(&seg.rule.service, resolution.current)?;
                Some(Match {
                    holder,
                    rule: seg.rule,
                    period: seg.period,
                    communicability: comm.clone(),
                })
            })
            .collect();
        Ok(Answer {
            document_type: doc,
            commune: resolution,
            matches,
            uncovered: t.uncovered,
            unstated,
            communicability: comm,
            dangling,
        })
    }

    /// Resolves a rule's holder; `None` for a service id that does not
    /// exist, and for `@inconnu` (no holder can be named).
    fn holder<'a>(&'a self, service: &ServiceRef, current: &'a Commune) -> Option<Holder<'a>> {
        match service {
            ServiceRef::Id(id) => self
                .service_by_id
                .get(id)
                .map(|&i| Holder::Service(&self.services[i])),
            ServiceRef::Competent(kind) => Some(self.competent_for(*kind, current)),
            ServiceRef::Unstated => None,
        }
    }

    /// The service of a kind competent for a commune: the one whose
    /// competence is the most specific territory containing it (the
    /// commune, its EPCI, its département, France); when none is known, the
    /// holder named from the commune.
    pub fn competent_for<'a>(&'a self, kind: ServiceKind, current: &'a Commune) -> Holder<'a> {
        let keys = [
            Some(TerritoryKey::Commune(current.code)),
            current.epci.as_ref().map(TerritoryKey::epci),
            Some(TerritoryKey::departement(&current.departement)),
            Some(TerritoryKey::France),
        ];
        for key in keys.into_iter().flatten() {
            if let Some(&i) = self.competent.get(&(kind, key)) {
                return Holder::Service(&self.services[i]);
            }
        }
        let t = &self.geo.territories;
        Holder::Unknown {
            kind,
            commune: current,
            departement: t.departement(&current.departement),
            epci: current.epci.as_ref().and_then(|e| t.epci(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Bound;
    use crate::territory::{CommuneKind, Departement, Epci};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn commune(code: &str, name: &str, dept: &str, epci: Option<&str>, liaison: u8) -> Commune {
        Commune {
            code: InseeCode::parse(code).unwrap(),
            kind: CommuneKind::Current,
            name: name.into(),
            current: None,
            departement: dept.into(),
            region: "53".into(),
            epci: epci.map(|e| Siren::parse(e).unwrap()),
            postal_codes: vec![],
            population: None,
            liaison: Some(liaison),
            former_codes: vec![],
        }
    }

    fn geo() -> Arc<Geo> {
        let t = Territories::new(
            vec![
                commune("35238", "Rennes", "35", Some("243500139"), 0),
                commune("35051", "Cesson-Sévigné", "35", Some("243500139"), 0),
                commune("35288", "Saint-Malo", "35", None, 0),
                commune("40192", "Mont-de-Marsan", "40", None, 0),
                commune("2A004", "Ajaccio", "2A", None, 1),
            ],
            vec![Epci {
                siren: Siren::parse("243500139").unwrap(),
                name: "Rennes Métropole".into(),
                kind: "METRO".into(),
            }],
            vec![
                Departement {
                    code: "35".into(),
                    name: "Ille-et-Vilaine".into(),
                    region: "53".into(),
                    liaison: Some(1),
                },
                Departement {
                    code: "40".into(),
                    name: "Landes".into(),
                    region: "75".into(),
                    liaison: Some(4),
                },
                Departement {
                    code: "2A".into(),
                    name: "Corse-du-Sud".into(),
                    region: "94".into(),
                    liaison: Some(3),
                },
            ],
            vec![],
        );
        Arc::new(Geo::new(t))
    }

    fn service(id: &str, kind: ServiceKind, competence: &[&str]) -> Service {
        let mut s = Service::new(Slug::parse(id).unwrap(), id, kind);
        s.competence = competence
            .iter()
            .map(|t| Territory::parse(t).unwrap())
            .collect();
        s
    }

    fn rule(territory: &str, from: &str, to: &str, service: &str) -> HoldingRule {
        let b = |s: &str| (!s.is_empty()).then(|| Bound::parse(s).unwrap().0);
        HoldingRule {
            document_type: Slug::parse("permis-de-construire").unwrap(),
            territory: Territory::parse(territory).unwrap(),
            from: b(from),
            to: b(to),
            service: ServiceRef::parse(service).unwrap(),
            instructions: Some("Pourquoi.".into()),
            source: Some("Source.".into()),
            verified_at: None,
        }
    }

    fn snapshot(services: Vec<Service>, holdings: Vec<HoldingRule>) -> Snapshot {
        let doc = DocumentType {
            slug: Slug::parse("permis-de-construire").unwrap(),
            label: "Permis".into(),
            theme: None,
            aliases: vec![],
            description: None,
            communicability_years: 0,
            communicability_note: None,
        };
        Snapshot::build(
            1,
            geo(),
            RefData {
                document_types: vec![doc],
                services,
                holdings,
                ..RefData::default()
            },
        )
    }

    fn holders(snap: &Snapshot, commune: &str, when: When) -> Vec<String> {
        snap.locate("permis-de-construire", commune, when, today())
            .unwrap()
            .matches
            .iter()
            .map(|m| m.holder.name())
            .collect()
    }

    #[test]
    fn a_kind_resolves_to_the_most_specific_competent_service() {
        let snap = snapshot(
            vec![
                service(
                    "ad35",
                    ServiceKind::ArchivesDepartementales,
                    &["departement:35"],
                ),
                service(
                    "archives-metropole",
                    ServiceKind::ArchivesDepartementales,
                    &["epci:243500139"],
                ),
                service(
                    "archives-rennes-seule",
                    ServiceKind::ArchivesDepartementales,
                    &["commune:35238"],
                ),
            ],
            vec![rule("france", "", "", "@archives-departementales")],
        );
        assert_eq!(
            holders(&snap, "35238", When::Unknown),
            ["archives-rennes-seule"]
        );
        assert_eq!(
            holders(&snap, "35051", When::Unknown),
            ["archives-metropole"]
        );
        assert_eq!(holders(&snap, "35288", When::Unknown), ["ad35"]);
        // No service competent in the Landes: the holder is named, not invented.
        assert_eq!(
            holders(&snap, "40192", When::Unknown),
            ["Archives départementales des Landes"]
        );
        assert_eq!(
            holders(&snap, "2A004", When::Unknown),
            ["Archives départementales de la Corse-du-Sud"]
        );
    }

    #[test]
    fn a_town_hall_is_competent_for_its_commune_by_default() {
        let mut mairie = service("mairie-rennes", ServiceKind::Mairie, &[]);
        mairie.name = "Mairie de Rennes (hôtel de ville)".into();
        mairie.commune = Some(InseeCode::parse("35238").unwrap());
        let snap = snapshot(vec![mairie], vec![rule("france", "", "", "@mairie")]);
        assert_eq!(
            holders(&snap, "35238", When::Unknown),
            ["Mairie de Rennes (hôtel de ville)"]
        );
        assert_eq!(
            holders(&snap, "35051", When::Unknown),
            ["Mairie de Cesson-Sévigné"]
        );
        let a = snap
            .locate("permis-de-construire", "35051", When::Unknown, today())
            .unwrap();
        assert!(matches!(
            a.matches[0].holder,
            Holder::Unknown {
                kind: ServiceKind::Mairie,
                ..
            }
        ));
        assert!(a.matches[0].holder.lead().is_some());
    }

    #[test]
    fn a_specific_rule_naming_a_service_overrides_the_national_one_over_its_period_only() {
        let snap = snapshot(
            vec![service(
                "archives-rennes",
                ServiceKind::ArchivesMunicipales,
                &[],
            )],
            vec![
                rule("france", "", "1942", "@inconnu"),
                rule("france", "1943", "1983", "@archives-departementales"),
                rule("france", "1984", "", "@mairie"),
                rule("commune:35238", "1908", "1990", "archives-rennes"),
            ],
        );
        let a = snap
            .locate("permis-de-construire", "35238", When::Unknown, today())
            .unwrap();
        let names: Vec<String> = a.matches.iter().map(|m| m.holder.name()).collect();
        assert_eq!(names, ["archives-rennes", "Mairie de Rennes",]);
        assert_eq!(
            a.matches[1].period.from,
            NaiveDate::from_ymd_opt(1991, 1, 1)
        );
        // Before 1908 the national rule says why no holder is named.
        assert_eq!(a.unstated.len(), 1);
        assert_eq!(
            a.unstated[0].period.to,
            NaiveDate::from_ymd_opt(1907, 12, 31)
        );
        assert_eq!(a.unstated[0].reason(), Some("Pourquoi."));
        assert!(a.uncovered.is_empty());
        assert!(a.is_complete());
        // Elsewhere, the national timeline.
        assert_eq!(
            holders(&snap, "35288", When::Unknown),
            [
                "Archives départementales d'Ille-et-Vilaine",
                "Mairie de Saint-Malo"
            ]
        );
    }

    #[test]
    fn a_gap_or_a_missing_service_makes_an_answer_incomplete() {
        let snap = snapshot(
            vec![],
            vec![
                rule("france", "1984", "", "@mairie"),
                rule("departement:40", "", "1983", "disparu"),
            ],
        );
        let a = snap
            .locate("permis-de-construire", "35238", When::Unknown, today())
            .unwrap();
        assert!(!a.is_complete());
        assert_eq!(a.uncovered.len(), 1);
        let a = snap
            .locate("permis-de-construire", "40192", When::Unknown, today())
            .unwrap();
        assert_eq!(a.dangling, 1);
        assert!(!a.is_complete());
    }

    #[test]
    fn clashing_competences_are_found_unless_one_is_more_specific() {
        let a = service("a", ServiceKind::Notaire, &["departement:35"]);
        let b = service("b", ServiceKind::Notaire, &["commune:35238"]);
        let c = service(
            "c",
            ServiceKind::Notaire,
            &["epci:243500139", "departement:35"],
        );
        let d = service("d", ServiceKind::Udap, &["departement:35"]);
        assert!(crate::reference::competence_clashes(&[&a, &b, &d]).is_empty());
        let clashes = crate::reference::competence_clashes(&[&a, &b, &c, &d]);
        assert_eq!(
            clashes,
            vec![(
                ServiceKind::Notaire,
                Territory::parse("departement:35").unwrap(),
                0,
                2
            )]
        );
        // Two town halls of one commune clash through their default.
        let mut m1 = service("m1", ServiceKind::Mairie, &[]);
        m1.commune = Some(InseeCode::parse("35238").unwrap());
        let mut m2 = m1.clone();
        m2.id = Slug::parse("m2").unwrap();
        assert_eq!(crate::reference::competence_clashes(&[&m1, &m2]).len(), 1);
    }
}
