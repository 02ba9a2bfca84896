//! The embeddable widget: the loader script `/embed.js` that host sites
//! include, and the integrator page `/integrer` that writes the snippet.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use locadocs_core::{InseeCode, Snapshot};

use super::AppState;
use super::api::IfNoneMatch;
use super::pages::{Display, Layout, fingerprint, render};
use super::params::Params;
use super::theme::{Lang, Palette};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/embed.js", get(embed_js))
        .route("/integrer", get(integrator))
        .route("/assets/integrer.js", get(integrator_js))
}

pub const EMBED_JS: &str = include_str!("../../assets/embed.js");
const INTEGRATOR_JS: &str = include_str!("../../assets/integrer.js");

/// The loader. Its address is fixed (host sites copy it), so it is cached
/// for an hour and revalidated, not cached forever.
async fn embed_js(headers: IfNoneMatch) -> Response {
    static ETAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let etag = ETAG.get_or_init(|| format!("W/\"embed-{}\"", fingerprint(EMBED_JS.bytes())));
    let mut resp = super::api::revalidate(&headers, etag.clone(), || EMBED_JS.into_response());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

async fn integrator_js() -> Response {
    let mut resp = INTEGRATOR_JS.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// What the integrator chose.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Choice {
    pub guide: String,
    pub commune: Option<InseeCode>,
    pub theme: String,
    pub color: Option<String>,
    pub lang: String,
    pub site: Option<String>,
}

/// The snippet for a choice: the script tag and a fallback link for
/// browsers without JavaScript. Attributes in a fixed order, so that the
/// page's script writes exactly the same text.
pub fn snippet(base: &str, c: &Choice, link_text: &str) -> String {
    let mut attrs = format!("data-guide=\"{}\"", c.guide);
    let mut query = Vec::new();
    if let Some(code) = c.commune {
        attrs.push_str(&format!(" data-commune=\"{code}\""));
        query.push(format!("commune={code}"));
    }
    if c.theme == "dsfr" {
        attrs.push_str(" data-theme=\"dsfr\"");
        query.push("theme=dsfr".to_owned());
    }
    if let Some(color) = &c.color {
        attrs.push_str(&format!(" data-color=\"{color}\""));
        query.push(format!("color=%23{}", color.trim_start_matches('#')));
    }
    if c.lang == "en" {
        attrs.push_str(" data-lang=\"en\"");
        query.push("lang=en".to_owned());
    }
    if let Some(site) = &c.site {
        attrs.push_str(&format!(" data-site=\"{site}\""));
        query.push(format!("site={site}"));
    }
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    format!(
        "<script src=\"{base}/embed.js\" {attrs} async></script>\n<noscript><a href=\"{base}/g/{}{query}\">{link_text}</a></noscript>",
        c.guide
    )
}

#[derive(Template)]
#[template(path = "integrer.html")]
struct IntegratorPage {
    l: Layout,
    guides: Vec<(String, String)>,
    choice: Choice,
    commune_text: String,
    commune_note: Option<String>,
    errors: Vec<(&'static str, String)>,
    snippet: String,
    base: String,
}

super::pages::framed!(IntegratorPage);

impl IntegratorPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The public address of this service, for snippets: the configured one
/// (`--public-url`, `LOCADOCS_PUBLIC_URL`), or the address the page was
/// asked for.
fn public_base(configured: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(url) = configured {
        return url.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

const LINK_TEXT: &str = "Trouver un document avec Locadocs";

async fn integrator(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let snap = state.live.snapshot();
    let base = public_base(state.admin.configured_public_url.as_deref(), &headers);
    let d = Display::plain(Lang::Fr);
    let params = Params::parse(raw.as_deref()).unwrap_or_default();
    let (choice, commune_text, commune_note, errors) = read_choice(&params, &snap);
    let snippet = snippet(&base, &choice, LINK_TEXT);
    let guides = snap
        .guides()
        .map(|g| (g.slug.to_string(), g.title.clone()))
        .collect();
    render(&IntegratorPage {
        l: d.layout("Intégrer un guide à votre site"),
        guides,
        choice,
        commune_text,
        commune_note,
        errors,
        snippet,
        base,
    })
}

type ReadChoice = (Choice, String, Option<String>, Vec<(&'static str, String)>);

fn read_choice(p: &Params, snap: &Snapshot) -> ReadChoice {
    let mut errors = Vec::new();
    let first_guide = snap
        .guides()
        .next()
        .map(|g| g.slug.to_string())
        .unwrap_or_default();
    let guide = match p.get("guide") {
        Some(g) if snap.guide(g).is_some() => g.to_owned(),
        Some(g) => {
            errors.push(("guide", format!("Le guide « {g} » n'existe pas.")));
            first_guide
        }
        None => first_guide,
    };
    // The commune: a code from the search list, or what was typed.
    let typed = p.get("commune_q").unwrap_or("").to_owned();
    let mut note = None;
    let commune = match p.get("commune").and_then(|c| InseeCode::parse(c).ok()) {
        Some(code) if snap.territories().knows(code) => Some(code),
        _ if typed.is_empty() => None,
        _ => match InseeCode::parse(&typed)
            .ok()
            .filter(|c| snap.territories().knows(*c))
        {
            Some(code) => Some(code),
            None => match snap.search_communes(&typed, 1).first() {
                Some(c) => Some(c.code),
                None => {
                    errors.push((
                        "commune",
                        format!("Aucune commune ne correspond à « {typed} »."),
                    ));
                    None
                }
            },
        },
    };
    if let Some(code) = commune
        && let Some(r) = snap.territories().resolve(code)
    {
        note = Some(format!(
            "Commune retenue : {} ({}, code INSEE {})",
            r.entry.map(|e| e.name.as_str()).unwrap_or(&r.current.name),
            r.current.departement,
            code
        ));
    }
    let color = match p.get("color") {
        None => None,
        Some(c) => match Palette::from_param(Some(c)) {
            Some(_) => Some(format!(
                "#{}",
                c.trim_start_matches('#').to_ascii_lowercase()
            )),
            None => {
                errors.push((
                    "color",
                    "Couleur invalide : attendu un code comme #0b5cad.".to_owned(),
                ));
                None
            }
        },
    };
    let site = match p.get("site") {
        None => None,
        Some(k) if snap.site(k).is_some() => Some(k.to_owned()),
        Some(k) => {
            errors.push((
                "site",
                format!("Aucun site n'est enregistré sous la clé « {k} »."),
            ));
            None
        }
    };
    let choice = Choice {
        guide,
        commune,
        theme: if p.get("theme") == Some("dsfr") {
            "dsfr"
        } else {
            "neutral"
        }
        .to_owned(),
        color,
        lang: if p.get("lang") == Some("en") {
            "en"
        } else {
            "fr"
        }
        .to_owned(),
        site,
    };
    let commune_text = match (commune, &note) {
        (Some(code), _) if typed.is_empty() => code.to_string(),
        _ => typed,
    };
    (choice, commune_text, note, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_carries_every_choice_in_a_fixed_order() {
        let c = Choice {
            guide: "immobilier".into(),
            commune: Some(InseeCode::parse("35238").unwrap()),
            theme: "dsfr".into(),
            color: Some("#0b5cad".into()),
            lang: "en".into(),
            site: Some("rennes".into()),
        };
        assert_eq!(
            snippet("https://locadocs.example", &c, "Lien"),
            "<script src=\"https://locadocs.example/embed.js\" data-guide=\"immobilier\" data-commune=\"35238\" \
             data-theme=\"dsfr\" data-color=\"#0b5cad\" data-lang=\"en\" data-site=\"rennes\" async></script>\n\
             <noscript><a href=\"https://locadocs.example/g/immobilier?commune=35238&theme=dsfr&color=%230b5cad&lang=en&site=rennes\">Lien</a></noscript>"
        );
        let plain = Choice {
            guide: "divorce".into(),
            theme: "neutral".into(),
            lang: "fr".into(),
            ..Choice::default()
        };
        assert_eq!(
            snippet("http://h", &plain, "L"),
            "<script src=\"http://h/embed.js\" data-guide=\"divorce\" async></script>\n<noscript><a href=\"http://h/g/divorce\">L</a></noscript>"
        );
    }
}
