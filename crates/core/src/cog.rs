//! Reads the data files of the npm package `@etalab/decoupage-administratif`
//! (INSEE's Code officiel géographique as packaged by Etalab). The caller
//! reads the files; this module only parses their bytes.

use std::collections::HashMap;

use serde::Deserialize;

use crate::codes::{InseeCode, Siren};
use crate::territory::{Commune, CommuneKind, Departement, Epci, Region};

/// The four parsed files, with every commune linked to its EPCI.
#[derive(Debug, Clone)]
pub struct CogData {
    pub communes: Vec<Commune>,
    pub epcis: Vec<Epci>,
    pub departements: Vec<Departement>,
    pub regions: Vec<Region>,
}

/// Why a data file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CogError {
    #[error("{file} : JSON invalide : {source}")]
    Json {
        file: &'static str,
        source: serde_json::Error,
    },
    #[error("{file}, entrée {index} (code « {code} ») : {message}")]
    Entry {
        file: &'static str,
        index: usize,
        code: String,
        message: String,
    },
}

#[derive(Deserialize)]
struct RawCommune {
    code: String,
    nom: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, rename = "chefLieu")]
    chef_lieu: Option<String>,
    #[serde(default)]
    commune: Option<String>,
    #[serde(default)]
    departement: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default, rename = "codesPostaux")]
    codes_postaux: Vec<String>,
    #[serde(default)]
    population: Option<u32>,
    #[serde(default, rename = "typeLiaison")]
    type_liaison: Option<u8>,
    #[serde(default, rename = "anciensCodes")]
    anciens_codes: Vec<String>,
}

#[derive(Deserialize)]
struct RawEpci {
    code: String,
    nom: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    membres: Vec<RawMember>,
}

#[derive(Deserialize)]
struct RawMember {
    code: String,
}

#[derive(Deserialize)]
struct RawDepartement {
    code: String,
    nom: String,
    #[serde(default)]
    region: String,
    #[serde(default, rename = "typeLiaison")]
    type_liaison: Option<u8>,
}

#[derive(Deserialize)]
struct RawRegion {
    code: String,
    nom: String,
}

/// Parses `communes.json`, `epci.json`, `departements.json`, `regions.json`.
pub fn parse(
    communes_json: &[u8],
    epci_json: &[u8],
    departements_json: &[u8],
    regions_json: &[u8],
) -> Result<CogData, CogError> {
    let raw: Vec<RawCommune> =
        serde_json::from_slice(communes_json).map_err(|source| CogError::Json {
            file: "communes.json",
            source,
        })?;
    let raw_epcis: Vec<RawEpci> =
        serde_json::from_slice(epci_json).map_err(|source| CogError::Json {
            file: "epci.json",
            source,
        })?;
    let raw_deps: Vec<RawDepartement> =
        serde_json::from_slice(departements_json).map_err(|source| CogError::Json {
            file: "departements.json",
            source,
        })?;
    let raw_regions: Vec<RawRegion> =
        serde_json::from_slice(regions_json).map_err(|source| CogError::Json {
            file: "regions.json",
            source,
        })?;

    let mut epcis = Vec::with_capacity(raw_epcis.len());
    let mut epci_of: HashMap<InseeCode, Siren> = HashMap::new();
    for (index, e) in raw_epcis.into_iter().enumerate() {
        let entry_err = |message: String| CogError::Entry {
            file: "epci.json",
            index,
            code: e.code.clone(),
            message,
        };
        let siren = Siren::parse(&e.code).map_err(|err| entry_err(err.to_string()))?;
        for m in &e.membres {
            let code = InseeCode::parse(&m.code).map_err(|err| entry_err(err.to_string()))?;
            epci_of.insert(code, siren.clone());
        }
        epcis.push(Epci {
            siren,
            name: e.nom,
            kind: e.kind,
        });
    }

    let mut communes = Vec::with_capacity(raw.len());
    for (index, r) in raw.into_iter().enumerate() {
        let entry_err = |message: String| CogError::Entry {
            file: "communes.json",
            index,
            code: r.code.clone(),
            message,
        };
        let code = InseeCode::parse(&r.code).map_err(|e| entry_err(e.to_string()))?;
        let kind = CommuneKind::parse(&r.kind)
            .ok_or_else(|| entry_err(format!("type inconnu « {} »", r.kind)))?;
        let current = match kind {
            CommuneKind::Current => None,
            CommuneKind::Arrondissement => r.commune.as_deref().or(r.chef_lieu.as_deref()),
            CommuneKind::Delegated | CommuneKind::Associated => r.chef_lieu.as_deref(),
        };
        let current = match (kind, current) {
            (CommuneKind::Current, _) => None,
            (_, Some(c)) => Some(InseeCode::parse(c).map_err(|e| entry_err(e.to_string()))?),
            (_, None) => return Err(entry_err("commune de rattachement absente".into())),
        };
        let former_codes = r
            .anciens_codes
            .iter()
            .map(|c| InseeCode::parse(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| entry_err(e.to_string()))?;
        let epci = epci_of.get(&current.unwrap_or(code)).cloned();
        communes.push(Commune {
            code,
            kind,
            departement: r
                .departement
                .unwrap_or_else(|| code.departement().to_owned()),
            region: r.region.unwrap_or_default(),
            name: r.nom,
            current,
            epci,
            postal_codes: r.codes_postaux,
            population: r.population,
            liaison: r.type_liaison,
            former_codes,
        });
    }

    Ok(CogData {
        communes,
        epcis,
        departements: raw_deps
            .into_iter()
            .map(|d| Departement {
                code: d.code,
                name: d.nom,
                region: d.region,
                liaison: d.type_liaison,
            })
            .collect(),
        regions: raw_regions
            .into_iter()
            .map(|r| Region {
                code: r.code,
                name: r.nom,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::territory::Territories;

    const COMMUNES: &str = r#"[
      {"code":"50129","nom":"Cherbourg-en-Cotentin","type":"commune-actuelle","departement":"50","region":"28","codesPostaux":["50100"],"population":78258,"typeLiaison":0,"anciensCodes":["50173","50203"]},
      {"code":"50129","nom":"Cherbourg-Octeville","type":"commune-deleguee","chefLieu":"50129","departement":"50","region":"28","typeLiaison":0},
      {"code":"50173","nom":"Équeurdreville-Hainneville","type":"commune-deleguee","chefLieu":"50129","departement":"50","region":"28","typeLiaison":1},
      {"code":"75056","nom":"Paris","type":"commune-actuelle","departement":"75","region":"11","population":2100000},
      {"code":"75101","nom":"Paris 1er Arrondissement","type":"arrondissement-municipal","commune":"75056","departement":"75","region":"11","codesPostaux":["75001"]}
    ]"#;
    const EPCI: &str =
        r#"[{"code":"200067205","nom":"CA du Cotentin","type":"CA","membres":[{"code":"50129"}]}]"#;

    #[test]
    fn shared_codes_and_former_communes_resolve() {
        let data = parse(COMMUNES.as_bytes(), EPCI.as_bytes(), b"[]", b"[]").unwrap();
        let t = Territories::new(data.communes, data.epcis, data.departements, data.regions);
        let code = |s| InseeCode::parse(s).unwrap();

        let r = t.resolve(code("50129")).unwrap();
        assert_eq!(r.current.name, "Cherbourg-en-Cotentin");
        assert!(r.former_code.is_none());
        assert_eq!(r.current.epci.as_ref().unwrap().as_str(), "200067205");

        let r = t.resolve(code("50173")).unwrap();
        assert_eq!(r.entry.unwrap().name, "Équeurdreville-Hainneville");
        assert_eq!(r.current.code, code("50129"));
        assert_eq!(r.former_code, Some(code("50173")));

        // Absorbed, with no entry of its own.
        let r = t.resolve(code("50203")).unwrap();
        assert!(r.entry.is_none());
        assert_eq!(r.current.code, code("50129"));

        let r = t.resolve(code("75101")).unwrap();
        assert_eq!(r.current.name, "Paris");
        assert!(t.resolve(code("99999")).is_none());
    }

    #[test]
    fn bad_entries_are_reported_with_their_place() {
        let bad = r#"[{"code":"5012","nom":"X","type":"commune-actuelle"}]"#;
        let err = parse(bad.as_bytes(), b"[]", b"[]", b"[]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("entrée 0") && err.contains("5012"), "{err}");
        let err = parse(b"{", b"[]", b"[]", b"[]").unwrap_err().to_string();
        assert!(err.starts_with("communes.json"), "{err}");
    }
}
