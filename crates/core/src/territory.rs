//! Communes, EPCI, départements and régions, and how any commune code —
//! current, delegated, associated, arrondissement or absorbed — resolves to
//! the commune that exists today.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::codes::{DeptCode, InseeCode, Siren};
use crate::reference::Territory;

/// What an entry of the Code officiel géographique is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommuneKind {
    /// A commune that exists today.
    Current,
    /// A former commune merged into a commune nouvelle (commune déléguée).
    Delegated,
    /// A former commune associated with another (commune associée).
    Associated,
    /// A municipal arrondissement of Paris, Lyon or Marseille.
    Arrondissement,
}

impl CommuneKind {
    /// The identifier used in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CommuneKind::Current => "commune-actuelle",
            CommuneKind::Delegated => "commune-deleguee",
            CommuneKind::Associated => "commune-associee",
            CommuneKind::Arrondissement => "arrondissement-municipal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CommuneKind::Current,
            CommuneKind::Delegated,
            CommuneKind::Associated,
            CommuneKind::Arrondissement,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One entry of the Code officiel géographique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commune {
    pub code: InseeCode,
    pub kind: CommuneKind,
    pub name: String,
    /// For a former commune or an arrondissement: the current commune.
    pub current: Option<InseeCode>,
    pub departement: String,
    pub region: String,
    /// The EPCI the (current) commune belongs to.
    pub epci: Option<Siren>,
    pub postal_codes: Vec<String>,
    pub population: Option<u32>,
    /// INSEE's "type de nom en clair" (0–8), which tells how to write "de"
    /// before the name (de, d', du, de la, des…).
    pub liaison: Option<u8>,
    /// Codes of communes absorbed into this one (`anciensCodes`).
    pub former_codes: Vec<InseeCode>,
}

/// An inter-municipal body (EPCI à fiscalité propre).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Epci {
    pub siren: Siren,
    pub name: String,
    /// `CA`, `CC`, `CU`, `METRO`, `MET69`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Departement {
    pub code: String,
    /// Without article, as the COG writes it: « Rhône », « Landes ».
    pub name: String,
    pub region: String,
    /// The COG's `typeLiaison` (0–8): how to write "de" before the name.
    #[serde(default)]
    pub liaison: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub code: String,
    pub name: String,
}

/// How a code asked about maps onto today's map.
#[derive(Debug, Clone, Copy)]
pub struct Resolution<'a> {
    /// The entry the code names, when the code has one of its own.
    pub entry: Option<&'a Commune>,
    /// The commune that exists today.
    pub current: &'a Commune,
    /// The code asked about when it is not the current commune's own code
    /// (a former commune or an arrondissement): its own rules are the most
    /// specific.
    pub former_code: Option<InseeCode>,
}

/// All territories, indexed for lookups.
#[derive(Debug, Default, Clone)]
pub struct Territories {
    communes: Vec<Commune>,
    current_by_code: HashMap<InseeCode, u32>,
    others_by_code: HashMap<InseeCode, Vec<u32>>,
    absorbed: HashMap<InseeCode, InseeCode>,
    epcis: HashMap<Siren, Epci>,
    departements: HashMap<String, Departement>,
    regions: HashMap<String, Region>,
}

impl Territories {
    pub fn new(
        communes: Vec<Commune>,
        epcis: Vec<Epci>,
        departements: Vec<Departement>,
        regions: Vec<Region>,
    ) -> Self {
        let mut current_by_code = HashMap::with_capacity(communes.len());
        let mut others_by_code: HashMap<InseeCode, Vec<u32>> = HashMap::new();
        let mut absorbed = HashMap::new();
        for (i, c) in communes.iter().enumerate() {
            if c.kind == CommuneKind::Current {
                current_by_code.insert(c.code, i as u32);
                for old in &c.former_codes {
                    absorbed.insert(*old, c.code);
                }
            } else {
                others_by_code.entry(c.code).or_default().push(i as u32);
            }
        }
        Territories {
            communes,
            current_by_code,
            others_by_code,
            absorbed,
            epcis: epcis.into_iter().map(|e| (e.siren.clone(), e)).collect(),
            departements: departements
                .into_iter()
                .map(|d| (d.code.clone(), d))
                .collect(),
            regions: regions.into_iter().map(|r| (r.code.clone(), r)).collect(),
        }
    }

    /// Every entry, in the order given.
    pub fn communes(&self) -> &[Commune] {
        &self.communes
    }

    pub fn commune_count(&self) -> usize {
        self.communes.len()
    }

    /// The current commune with this code.
    pub fn current(&self, code: InseeCode) -> Option<&Commune> {
        self.current_by_code
            .get(&code)
            .map(|&i| &self.communes[i as usize])
    }

    /// Resolves any known code: a bare code shared by a current commune and
    /// its chef-lieu delegated commune means the current commune.
    pub fn resolve(&self, code: InseeCode) -> Option<Resolution<'_>> {
        if let Some(c) = self.current(code) {
            return Some(Resolution {
                entry: Some(c),
                current: c,
                former_code: None,
            });
        }
        if let Some(ids) = self.others_by_code.get(&code) {
            let entry = &self.communes[ids[0] as usize];
            let current = entry.current.and_then(|cur| self.current(cur))?;
            return Some(Resolution {
                entry: Some(entry),
                current,
                former_code: Some(code),
            });
        }
        let current = self
            .absorbed
            .get(&code)
            .and_then(|cur| self.current(*cur))?;
        Some(Resolution {
            entry: None,
            current,
            former_code: Some(code),
        })
    }

    /// Whether the code names anything, current or former.
    pub fn knows(&self, code: InseeCode) -> bool {
        self.resolve(code).is_some()
    }

    pub fn epci(&self, siren: &Siren) -> Option<&Epci> {
        self.epcis.get(siren)
    }

    pub fn epcis(&self) -> impl Iterator<Item = &Epci> {
        self.epcis.values()
    }

    pub fn departement(&self, code: &str) -> Option<&Departement> {
        self.departements.get(code)
    }

    pub fn departements(&self) -> impl Iterator<Item = &Departement> {
        self.departements.values()
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.get(code)
    }

    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }
}

impl Territories {
    /// The territories whose rules apply to a commune, most specific first:
    /// the former commune asked about (if any), the current commune, its
    /// EPCI, its département, France.
    pub fn levels(&self, code: InseeCode) -> Vec<Territory> {
        let Some(r) = self.resolve(code) else {
            return vec![];
        };
        let mut levels = vec![];
        if let Some(f) = r.former_code {
            levels.push(Territory::Commune(f));
        }
        levels.push(Territory::Commune(r.current.code));
        if let Some(e) = &r.current.epci {
            levels.push(Territory::Epci(e.clone()));
        }
        if let Ok(d) = DeptCode::parse(&r.current.departement) {
            levels.push(Territory::Departement(d));
        }
        levels.push(Territory::France);
        levels
    }

    /// Whether `inner` lies wholly inside `outer`: a commune (current or
    /// former) inside its current commune, its EPCI and its département; an
    /// EPCI inside a département when all its member communes are; anything
    /// inside France. A territory contains itself. Unknown codes are inside
    /// nothing but themselves, so a scope never grows by a typo.
    pub fn contains(&self, outer: &Territory, inner: &Territory) -> bool {
        if outer == inner || *outer == Territory::France {
            return true;
        }
        match (outer, inner) {
            (_, Territory::France) => false,
            (Territory::Commune(o), Territory::Commune(i)) => {
                self.resolve(*i).is_some_and(|r| r.current.code == *o)
            }
            (Territory::Epci(o), Territory::Commune(i)) => self
                .resolve(*i)
                .is_some_and(|r| r.current.epci.as_ref() == Some(o)),
            (Territory::Departement(o), Territory::Commune(i)) => self
                .resolve(*i)
                .is_some_and(|r| r.current.departement == o.as_str()),
            (Territory::Departement(o), Territory::Epci(i)) => {
                let mut members = self
                    .communes
                    .iter()
                    .filter(|c| c.kind == CommuneKind::Current && c.epci.as_ref() == Some(i))
                    .peekable();
                members.peek().is_some() && members.all(|c| c.departement == o.as_str())
            }
            _ => false,
        }
    }

    /// The name people know a territory by: « Rennes (35238) », « Rennes
    /// Métropole », « Ille-et-Vilaine (35) », « France ».
    pub fn display_name(&self, t: &Territory) -> String {
        match t {
            Territory::France => "France".into(),
            Territory::Commune(c) => match self.resolve(*c) {
                Some(r) => match r.entry {
                    Some(e) => format!("{} ({c})", e.name),
                    None => format!("{c} (ancienne commune de {})", r.current.name),
                },
                None => format!("commune {c}"),
            },
            Territory::Epci(s) => self
                .epci(s)
                .map(|e| e.name.clone())
                .unwrap_or_else(|| format!("EPCI {s}")),
            Territory::Departement(d) => self
                .departement(d.as_str())
                .map(|x| format!("{} ({d})", x.name))
                .unwrap_or_else(|| format!("département {d}")),
        }
    }

    /// Whether every code of a territory is known (France always is).
    pub fn has(&self, t: &Territory) -> bool {
        match t {
            Territory::France => true,
            Territory::Commune(c) => self.knows(*c),
            Territory::Epci(s) => self.epci(s).is_some(),
            Territory::Departement(d) => self.departement(d.as_str()).is_some(),
        }
    }
}
