//! The `services` file.

use super::ImportContext;
use super::fields::{self, optional, required};
use super::keys::report_duplicates;
use super::report::{Parsed, Rejected, Report};
use super::table::{Row, Schema, read_table};
use super::write::{opt, write_table};
use crate::reference::{Service, ServiceKind};

pub(crate) const SCHEMA: Schema = Schema {
    columns: &[
        "id",
        "name",
        "kind",
        "commune",
        "address",
        "postal_code",
        "city",
        "phone",
        "email",
        "website",
        "request_url",
        "opening_hours",
        "response_time",
        "latitude",
        "longitude",
        "annuaire_id",
        "verified_at",
        "competence",
        "francearchives_id",
        "francearchives_url",
        "search_url",
    ],
    required: &["id", "name", "kind"],
};

const ID: usize = 0;
const NAME: usize = 1;
const KIND: usize = 2;
const COMMUNE: usize = 3;
const ADDRESS: usize = 4;
const POSTAL_CODE: usize = 5;
const CITY: usize = 6;
const PHONE: usize = 7;
const EMAIL: usize = 8;
const WEBSITE: usize = 9;
const REQUEST_URL: usize = 10;
const OPENING_HOURS: usize = 11;
const RESPONSE_TIME: usize = 12;
const LATITUDE: usize = 13;
const LONGITUDE: usize = 14;
const ANNUAIRE_ID: usize = 15;
const VERIFIED_AT: usize = 16;
const COMPETENCE: usize = 17;
const FRANCEARCHIVES_ID: usize = 18;
const FRANCEARCHIVES_URL: usize = 19;
const SEARCH_URL: usize = 20;

fn kind(v: &str) -> fields::Checked<ServiceKind> {
    ServiceKind::parse(&v.to_ascii_lowercase())
        .map(|k| (k, None))
        .ok_or_else(|| {
            format!(
                "« {} » n'est pas un type de service ; valeurs acceptées : {}",
                fields::shown(v),
                ServiceKind::accepted()
            )
        })
}

fn parse_row(row: &Row<'_>, report: &mut Report, ctx: &dyn ImportContext) -> Option<Service> {
    let before = report.errors.len();
    let id = required(row, report, ID, fields::slug);
    let name = row.required(NAME, report).map(str::to_owned);
    let kind = required(row, report, KIND, kind);
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
    let postal_code = optional(row, report, POSTAL_CODE, fields::postal_code);
    let email = optional(row, report, EMAIL, fields::email);
    let website = optional(row, report, WEBSITE, fields::url);
    let request_url = optional(row, report, REQUEST_URL, fields::url);
    let latitude = optional(row, report, LATITUDE, |v| {
        fields::coordinate(v, 90.0, "latitude", "48.1113")
    });
    let longitude = optional(row, report, LONGITUDE, |v| {
        fields::coordinate(v, 180.0, "longitude", "-1.6800")
    });
    // A point needs both; only complain when the other one is blank.
    if latitude.is_some() && row.value(LONGITUDE).is_none() {
        row.error(report, LONGITUDE, "à renseigner avec la latitude");
    }
    if longitude.is_some() && row.value(LATITUDE).is_none() {
        row.error(report, LATITUDE, "à renseigner avec la longitude");
    }
    let verified_at = optional(row, report, VERIFIED_AT, fields::day);
    let francearchives_url = optional(row, report, FRANCEARCHIVES_URL, fields::url);
    let search_url = optional(row, report, SEARCH_URL, fields::search_template);
    let competence = optional(row, report, COMPETENCE, fields::competence).unwrap_or_default();
    for t in &competence {
        if let Some(message) = fields::unknown_territory(t, ctx) {
            row.error(report, COMPETENCE, message);
        }
    }
    if report.errors.len() > before {
        return None;
    }
    Some(Service {
        id: id?,
        name: name?,
        kind: kind?,
        commune,
        address: row.text(ADDRESS),
        postal_code,
        city: row.text(CITY),
        phone: row.text(PHONE),
        email,
        website,
        request_url,
        opening_hours: row.text(OPENING_HOURS),
        response_time: row.text(RESPONSE_TIME),
        latitude,
        longitude,
        annuaire_id: row.text(ANNUAIRE_ID),
        francearchives_id: row.text(FRANCEARCHIVES_ID),
        francearchives_url,
        search_url,
        verified_at,
        competence,
    })
}

/// Reads a `services` file, checking communes against `ctx`. See the
/// module documentation for the rules.
pub fn read_services(bytes: &[u8], ctx: &dyn ImportContext) -> Result<Parsed<Service>, Rejected> {
    let mut report = Report::default();
    let Some(rows) = read_table(bytes, &SCHEMA, &mut report, |row, report| {
        parse_row(row, report, ctx)
    }) else {
        return Err(report.into_rejected());
    };
    report_duplicates(rows.iter().map(|(l, s)| (*l, &s.id)), &mut report, |id| {
        format!("id « {id} »")
    });
    report.finish(rows)
}

/// Writes services in the canonical form (UTF-8 with BOM, `;`).
pub fn write_services(rows: &[Service]) -> Vec<u8> {
    write_table(
        SCHEMA.columns,
        rows.iter().map(|s| {
            vec![
                s.id.to_string(),
                s.name.clone(),
                s.kind.to_string(),
                opt(&s.commune),
                opt(&s.address),
                opt(&s.postal_code),
                opt(&s.city),
                opt(&s.phone),
                opt(&s.email),
                opt(&s.website),
                opt(&s.request_url),
                opt(&s.opening_hours),
                opt(&s.response_time),
                opt(&s.latitude),
                opt(&s.longitude),
                opt(&s.annuaire_id),
                opt(&s.verified_at.map(|d| d.format("%Y-%m-%d"))),
                crate::reference::format_competence(&s.competence),
                opt(&s.francearchives_id),
                opt(&s.francearchives_url),
                opt(&s.search_url),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{InseeCode, Slug};
    use crate::formats::tests::Known;

    fn read(input: &str) -> Result<Parsed<Service>, Rejected> {
        read_services(input.as_bytes(), &Known)
    }

    fn errors(input: &str) -> Vec<String> {
        read(input)
            .unwrap_err()
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const HEADER: &str = "id;name;kind;commune;postal_code;email;website;request_url;latitude;longitude;verified_at\n";

    #[test]
    fn reads_a_valid_file_with_excel_habits_as_warnings() {
        let input = format!(
            "{HEADER}archives-rennes;Archives de Rennes;Archives-Municipales;35238;35000;archives@ville-rennes.fr;https://archives.rennes.fr;;48.1113;-1.68;2024-03-15\n\
             mairie-ambronay;Mairie d'Ambronay;mairie;1007;1500;;;;\"46,005\";5,36;15/03/2024\n"
        );
        let parsed = read(&input).unwrap();
        let s = &parsed.rows[0].1;
        assert_eq!(s.kind, ServiceKind::ArchivesMunicipales);
        assert_eq!(s.commune, Some(InseeCode::parse("35238").unwrap()));
        assert_eq!(s.latitude, Some(48.1113));
        let m = &parsed.rows[1].1;
        assert_eq!(m.commune, Some(InseeCode::parse("01007").unwrap()));
        assert_eq!(m.postal_code.as_deref(), Some("01500"));
        assert_eq!((m.latitude, m.longitude), (Some(46.005), Some(5.36)));
        assert_eq!(m.verified_at, s.verified_at);
        let warnings: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            vec![
                "ligne 3, colonne commune : code INSEE « 1007 » lu comme 01007 (zéro initial perdu par le tableur)",
                "ligne 3, colonne postal_code : code postal « 1500 » lu comme 01500 (zéro initial perdu par le tableur)",
                "ligne 3, colonne latitude : virgule décimale lue comme un point : 46.005",
                "ligne 3, colonne longitude : virgule décimale lue comme un point : 5.36",
                "ligne 3, colonne verified_at : date « 15/03/2024 » lue comme 2024-03-15 : écrivez plutôt AAAA-MM-JJ",
            ]
        );
    }

    #[test]
    fn every_field_is_validated() {
        let input = format!(
            "{HEADER}Bad Id;;chateau;99999;350;archives;www.x.fr;ftp://x;91;-1;2015-02-30\n\
             ok;OK;autre;35238;;;;;;;\n\
             x;X;autre;;;;;;48;;\n\
             ok;Encore;autre;;;;;;;;\n"
        );
        assert_eq!(
            errors(&input),
            vec![
                "ligne 2, colonne id : « Bad Id » n'est pas un identifiant valide (lettres minuscules sans accent, chiffres et tirets, 1 à 80 caractères)",
                "ligne 2, colonne name : valeur obligatoire manquante",
                "ligne 2, colonne kind : « chateau » n'est pas un type de service ; valeurs acceptées : mairie, urbanisme, epci, archives-municipales, archives-intercommunales, archives-departementales, archives-nationales, notaire, publicite-fonciere, tribunal, udap, autre",
                "ligne 2, colonne commune : commune 99999 inconnue du Code officiel géographique",
                "ligne 2, colonne postal_code : « 350 » n'est pas un code postal (5 chiffres, par exemple 35000)",
                "ligne 2, colonne email : « archives » n'est pas une adresse électronique (forme attendue : nom@domaine.fr)",
                "ligne 2, colonne website : « www.x.fr » n'est pas une adresse web : elle doit commencer par http:// ou https://",
                "ligne 2, colonne request_url : « ftp://x » n'est pas une adresse web : elle doit commencer par http:// ou https://",
                "ligne 2, colonne latitude : « 91 » n'est pas une latitude : nombre décimal entre -90 et 90 (par exemple 48.1113)",
                "ligne 2, colonne verified_at : la date 2015-02-30 n'existe pas",
                "ligne 4, colonne longitude : à renseigner avec la latitude",
                "ligne 5 : même clé que la ligne 3 (id « ok »)",
            ]
        );
    }

    #[test]
    fn round_trip() {
        let mut full = Service::new(
            Slug::parse("archives-rennes").unwrap(),
            "Archives de Rennes",
            ServiceKind::ArchivesMunicipales,
        );
        full.commune = Some(InseeCode::parse("35238").unwrap());
        full.address = Some("18 avenue Jules Ferry;\nBP 1\"A\"".into());
        full.postal_code = Some("01000".into());
        full.city = Some("Rennes".into());
        full.phone = Some("02 23 62 12 60".into());
        full.email = Some("archives@ville-rennes.fr".into());
        full.website = Some("https://archives.rennes.fr/".into());
        full.request_url = Some("https://archives.rennes.fr/demande?x=1&y=2".into());
        full.opening_hours = Some("Lundi–vendredi 9h–17h".into());
        full.response_time = Some("1 mois".into());
        full.latitude = Some(48.111_336_5);
        full.longitude = Some(-1.68);
        full.annuaire_id = Some("0b2f1c3d".into());
        full.francearchives_id = Some("FRAD035".into());
        full.francearchives_url = Some("https://francearchives.gouv.fr/fr/service/1".into());
        full.search_url =
            Some("https://archives.rennes.fr/r?q={document}&c={commune}&a={annee}".into());
        full.verified_at = chrono::NaiveDate::from_ymd_opt(2024, 3, 15);
        let bare = Service::new(
            Slug::parse("notaires-35").unwrap(),
            "Notaires",
            ServiceKind::Notaire,
        );
        let rows = vec![full, bare];
        let bytes = write_services(&rows);
        let parsed = read_services(&bytes, &Known).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let back: Vec<Service> = parsed.rows.into_iter().map(|(_, s)| s).collect();
        assert_eq!(back, rows);
    }

    #[test]
    fn formula_looking_cells_are_escaped_and_read_back() {
        let mut s = Service::new(
            Slug::parse("archives-rennes").unwrap(),
            "=HYPERLINK(\"http://evil\",\"clic\")",
            ServiceKind::ArchivesMunicipales,
        );
        s.phone = Some("+33 2 23 62 12 60".into());
        s.address = Some("@SUM(1+1)".into());
        s.opening_hours = Some("-9h à 17h".into());
        s.city = Some("'=déjà protégé".into());
        s.longitude = Some(-1.68);
        s.latitude = Some(48.11);
        let rows = vec![s];
        let bytes = write_services(&rows);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(
            line,
            "archives-rennes;\"'=HYPERLINK(\"\"http://evil\"\",\"\"clic\"\")\";archives-municipales;;'@SUM(1+1);;''=déjà protégé;'+33 2 23 62 12 60;;;;'-9h à 17h;;48.11;'-1.68;;;;;;"
        );
        let parsed = read_services(&bytes, &Known).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let back: Vec<Service> = parsed.rows.into_iter().map(|(_, s)| s).collect();
        assert_eq!(back, rows);
        assert_eq!(back[0].phone.as_deref(), Some("+33 2 23 62 12 60"));

        // The added `'` does not count against the length limit.
        let mut long = rows[0].clone();
        long.name = format!("={}", "x".repeat(crate::formats::MAX_FIELD_CHARS - 1));
        let bytes = write_services(std::slice::from_ref(&long));
        let back = read_services(&bytes, &Known).unwrap();
        assert_eq!(back.rows[0].1, long);
    }

    #[test]
    fn search_links_are_checked() {
        let errors = errors(
            "id;name;kind;francearchives_url;search_url\n\
             a;A;autre;francearchives.gouv.fr;https://x.fr/?q={ville}\n\
             b;B;autre;https://francearchives.gouv.fr/fr/service/2;https://x.fr/?q={commune}&a={annee}\n",
        );
        assert_eq!(
            errors,
            vec![
                "ligne 2, colonne francearchives_url : « francearchives.gouv.fr » n'est pas une adresse web : elle doit commencer par http:// ou https://",
                "ligne 2, colonne search_url : « {ville} » n'est pas un champ connu ; champs acceptés : {commune}, {annee}, {document}",
            ]
        );
    }

    #[test]
    fn the_competence_column_lists_known_territories() {
        let input = "id;name;kind;competence\n\
             ad35;AD 35;archives-departementales;departement:35 | epci:243500139\n\
             x;X;autre;departement:99|epci:999999999|commune:99999\n\
             y;Y;autre;region:53\n\
             z;Z;mairie;commune:1007\n";
        let errors = errors(input);
        assert_eq!(
            errors,
            vec![
                "ligne 3, colonne competence : département 99 inconnu",
                "ligne 3, colonne competence : EPCI 999999999 inconnu",
                "ligne 3, colonne competence : commune 99999 inconnue du Code officiel géographique",
                "ligne 4, colonne competence : « region:53 » n'est pas un territoire : écrivez commune:<code INSEE>, epci:<SIREN>, departement:<code> ou france",
            ]
        );
        let ok = read("id;name;kind;competence\nad35;AD 35;archives-departementales;departement:35|epci:243500139\nz;Z;mairie;commune:1007\n").unwrap();
        assert_eq!(ok.rows[0].1.competence.len(), 2);
        assert_eq!(ok.rows[1].1.competence[0].to_string(), "commune:01007");
        assert_eq!(ok.warnings.len(), 1, "{:?}", ok.warnings);
    }
}
