//! The few HTML pages served before the guides: a home page that explains
//! the service and the API.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:46rem;\
margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1e1e1e}a{color:#0b5cad}code{background:#f2f2f2;\
padding:0 .2em}";

async fn home(axum::extract::State(state): axum::extract::State<AppState>) -> Html<String> {
    let snap = state.live.snapshot();
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Locadocs</title>\
<style>{STYLE}</style></head><body><main><h1>Locadocs</h1>\
<p>Trouver quel document public contient l'information que vous cherchez, qui le détient aujourd'hui \
pour votre commune et votre date, et si vous pouvez déjà le consulter.</p>\
<p>Données chargées : {communes} communes et anciennes communes, {docs} types de documents, \
{services} services, {rules} règles de détention.</p>\
<h2>API publique</h2><ul>\
<li><a href=\"/api/v1/communes?q=rennes\"><code>/api/v1/communes?q=rennes</code></a></li>\
<li><a href=\"/api/v1/document-types\"><code>/api/v1/document-types</code></a></li>\
<li><a href=\"/api/v1/locate?document_type=permis-de-construire&amp;commune=35238&amp;year=2015\">\
<code>/api/v1/locate?document_type=permis-de-construire&amp;commune=35238&amp;year=2015</code></a></li>\
<li><a href=\"/api/v1/openapi.json\">Description OpenAPI</a></li></ul></main></body></html>",
        communes = snap.territories().commune_count(),
        docs = snap.document_types().len(),
        services = snap.services().len(),
        rules = snap.holdings().len(),
    ))
}

/// The page for an address that leads nowhere.
pub fn not_found() -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Page introuvable – Locadocs</title>\
<style>{STYLE}</style></head><body><main><h1>Page introuvable</h1>\
<p>Cette adresse ne mène à aucune page. <a href=\"/\">Revenir à l'accueil</a>.</p></main></body></html>"
    ))
}
