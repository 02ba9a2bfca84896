//! The FranceArchives *Annuaire des services d'archives publiques* export:
//! one archive service per row. Reading checks every row (`ligne N,
//! colonne X`); turning the records into services is the server's import.

use super::ImportContext;
use super::fields::{self, optional, required};
use super::keys::report_duplicates;
use super::report::{Parsed, Rejected, Report};
use super::table::{Row, Schema, read_table};
use crate::codes::InseeCode;

pub(crate) const SCHEMA: Schema = Schema {
    columns: &[
        "id_francearchives",
        "nom_du_service",
        "identifiant_du_service",
        "courriel",
        "telephone",
        "adresse_postale",
        "adresse_du_service",
        "ville",
        "code_postal",
        "horaires_d_ouverture",
        "site_internet",
        "code_insee_commune",
        "latitude",
        "longitude",
        "lien_francearchives",
        "categorie_de_service",
        "categorie",
        "service_de_rattachement",
    ],
    required: &[
        "id_francearchives",
        "nom_du_service",
        "categorie_de_service",
    ],
};

const ID: usize = 0;
const NAME: usize = 1;
const IDENTIFIER: usize = 2;
const EMAIL: usize = 3;
const PHONE: usize = 4;
const POSTAL_ADDRESS: usize = 5;
const ADDRESS: usize = 6;
const CITY: usize = 7;
const POSTAL_CODE: usize = 8;
const HOURS: usize = 9;
const WEBSITE: usize = 10;
const COMMUNE: usize = 11;
const LATITUDE: usize = 12;
const LONGITUDE: usize = 13;
const LINK: usize = 14;
const CATEGORY: usize = 15;
const CATEGORY_TEXT: usize = 16;
const PARENT: usize = 17;

/// The `Categorie_de_service` letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveCategory {
    /// `D`: archives départementales.
    Departementales,
    /// `C`: archives municipales or intercommunales.
    Communales,
    /// `R`: archives régionales.
    Regionales,
    /// `N`: Archives nationales.
    Nationales,
    /// `M`: ministères.
    Ministeres,
    /// `Y`: culture.
    Culture,
    /// `P`: parlement.
    Parlement,
    /// `H`: santé.
    Sante,
    /// `U`: éducation.
    Education,
    /// `I`: other public institutions.
    Institutions,
    /// `E`: private archives.
    Privees,
    /// `F`: other.
    Autres,
}

impl ArchiveCategory {
    pub const ALL: [ArchiveCategory; 12] = [
        Self::Departementales,
        Self::Communales,
        Self::Regionales,
        Self::Nationales,
        Self::Ministeres,
        Self::Culture,
        Self::Parlement,
        Self::Sante,
        Self::Education,
        Self::Institutions,
        Self::Privees,
        Self::Autres,
    ];

    pub fn letter(self) -> char {
        match self {
            Self::Departementales => 'D',
            Self::Communales => 'C',
            Self::Regionales => 'R',
            Self::Nationales => 'N',
            Self::Ministeres => 'M',
            Self::Culture => 'Y',
            Self::Parlement => 'P',
            Self::Sante => 'H',
            Self::Education => 'U',
            Self::Institutions => 'I',
            Self::Privees => 'E',
            Self::Autres => 'F',
        }
    }

    /// Reads a letter, whatever its case.
    pub fn parse(s: &str) -> Option<Self> {
        let mut chars = s.trim().chars();
        let c = chars.next()?.to_ascii_uppercase();
        if chars.next().is_some() {
            return None;
        }
        Self::ALL.into_iter().find(|k| k.letter() == c)
    }
}

/// One row of the export, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveRecord {
    pub id: String,
    pub name: String,
    pub identifier: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_address: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub opening_hours: Option<String>,
    pub website: Option<String>,
    pub commune: Option<InseeCode>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub francearchives_url: Option<String>,
    pub category: ArchiveCategory,
    /// The `Categorie` text, as the directory writes it.
    pub category_text: Option<String>,
    pub parent: Option<String>,
}

impl ArchiveRecord {
    /// A `C` record of an intercommunal service (its `Categorie` or its
    /// name says so), rather than a municipal one.
    pub fn is_intercommunal(&self) -> bool {
        let says = |t: &str| t.to_lowercase().contains("intercommunal");
        self.category == ArchiveCategory::Communales
            && (self.category_text.as_deref().is_some_and(says) || says(&self.name))
    }
}

fn category(v: &str) -> fields::Checked<ArchiveCategory> {
    ArchiveCategory::parse(v).map(|c| (c, None)).ok_or_else(|| {
        format!(
            "« {} » n'est pas une catégorie de service ; lettres acceptées : D, C, R, N, M, Y, P, H, U, I, E, F",
            fields::shown(v)
        )
    })
}

fn parse_row(row: &Row<'_>, report: &mut Report, ctx: &dyn ImportContext) -> Option<ArchiveRecord> {
    let before = report.errors.len();
    let id = row.required(ID, report).map(str::to_owned);
    if id.as_ref().is_some_and(|i| i.chars().count() > 100) {
        row.error(report, ID, "identifiant trop long (100 caractères au plus)");
    }
    let name = row.required(NAME, report).map(str::to_owned);
    let category = required(row, report, CATEGORY, category);
    let email = optional(row, report, EMAIL, fields::email);
    let website = optional(row, report, WEBSITE, fields::url);
    let francearchives_url = optional(row, report, LINK, fields::url);
    let commune = optional(row, report, COMMUNE, fields::insee);
    if let Some(c) = commune
        && !ctx.commune_known(c)
    {
        row.error(
            report,
            COMMUNE,
            format!("commune {c} inconnue du Code officiel géographique"),
        );
    }
    let latitude = optional(row, report, LATITUDE, |v| {
        fields::coordinate(v, 90.0, "latitude", "48.1113")
    });
    let longitude = optional(row, report, LONGITUDE, |v| {
        fields::coordinate(v, 180.0, "longitude", "-1.6800")
    });
    if report.errors.len() > before {
        return None;
    }
    Some(ArchiveRecord {
        id: id?,
        name: name?,
        identifier: row.text(IDENTIFIER),
        email,
        phone: row.text(PHONE),
        postal_address: row.text(POSTAL_ADDRESS),
        address: row.text(ADDRESS),
        city: row.text(CITY),
        postal_code: row.text(POSTAL_CODE),
        opening_hours: row.text(HOURS),
        website,
        commune,
        // A point needs both.
        latitude: latitude.filter(|_| longitude.is_some()),
        longitude: longitude.filter(|_| latitude.is_some()),
        francearchives_url,
        category: category?,
        category_text: row.text(CATEGORY_TEXT),
        parent: row.text(PARENT),
    })
}

/// Reads a FranceArchives directory export (`;` or `,`, headers in any
/// case, with or without accents), checking communes against `ctx`.
/// All-or-nothing: any bad row refuses the file, with every error.
pub fn read_francearchives(
    bytes: &[u8],
    ctx: &dyn ImportContext,
) -> Result<Parsed<ArchiveRecord>, Rejected> {
    let mut report = Report::default();
    let Some(rows) = read_table(bytes, &SCHEMA, &mut report, |row, report| {
        parse_row(row, report, ctx)
    }) else {
        return Err(report.into_rejected());
    };
    report_duplicates(rows.iter().map(|(l, r)| (*l, &r.id)), &mut report, |id| {
        format!("id_francearchives « {id} »")
    });
    report.finish(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::tests::Known;

    fn errors(input: &str) -> Vec<String> {
        read_francearchives(input.as_bytes(), &Known)
            .unwrap_err()
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn lowercased_headers_without_accents_and_commas() {
        let input = "id_francearchives,nom_du_service,courriel,code_insee_commune,lien_francearchives,catégorie_de_service,categorie\n\
                     FRAD035,Archives d'Ille-et-Vilaine,archives@ille-et-vilaine.fr,35238,https://francearchives.gouv.fr/fr/service/35,d,Archives départementales\n\
                     FRAC01,\"Archives intercommunales, Pays de Gex\",,01173,,C,Archives intercommunales\n";
        let parsed = read_francearchives(input.as_bytes(), &Known).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let ad = &parsed.rows[0].1;
        assert_eq!(ad.category, ArchiveCategory::Departementales);
        assert_eq!(ad.commune, Some(InseeCode::parse("35238").unwrap()));
        assert!(!ad.is_intercommunal());
        let ai = &parsed.rows[1].1;
        assert_eq!(parsed.rows[1].0, 3);
        assert!(ai.is_intercommunal());
    }

    #[test]
    fn bad_rows_are_refused_with_line_and_column() {
        let input = "Id_FranceArchives;Nom_du_service;Courriel;Site_internet;Code_insee_commune;Catégorie_de_service\n\
                     ;Sans id;;;;D\n\
                     X1;Lettre;;;;Z\n\
                     X2;Courriel;archives-at-x.fr;;;C\n\
                     X3;Site;;www.x.fr;;C\n\
                     X4;Commune;;;99999;C\n\
                     X5;Un;;;;c\n\
                     X5;Double;;;;C\n";
        assert_eq!(
            errors(input),
            vec![
                "ligne 2, colonne id_francearchives : valeur obligatoire manquante",
                "ligne 3, colonne categorie_de_service : « Z » n'est pas une catégorie de service ; lettres acceptées : D, C, R, N, M, Y, P, H, U, I, E, F",
                "ligne 4, colonne courriel : « archives-at-x.fr » n'est pas une adresse électronique (forme attendue : nom@domaine.fr)",
                "ligne 5, colonne site_internet : « www.x.fr » n'est pas une adresse web : elle doit commencer par http:// ou https://",
                "ligne 6, colonne code_insee_commune : commune 99999 inconnue du Code officiel géographique",
                "ligne 8 : même clé que la ligne 7 (id_francearchives « X5 »)",
            ]
        );
    }
}
