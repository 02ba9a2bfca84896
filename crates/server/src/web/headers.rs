//! Security headers, written in one place for every response (a middleware
//! applied by [`super::app`]):
//!
//! - every response: `X-Content-Type-Options: nosniff`;
//! - the back office (`/admin…`): a Content-Security-Policy that forbids
//!   scripts and framing (`frame-ancestors 'none'`), and
//!   `X-Frame-Options: DENY` for older browsers;
//! - public HTML pages: a Content-Security-Policy allowing only this
//!   origin's scripts, stylesheets, fonts, images, fetches, frames and form
//!   targets, plus the hash of the page's one inline stylesheet (the host's
//!   colours and font, see [`super::pages::Layout`]) when it has one. Framing
//!   stays as `docs/embed.md` describes: a guide page asked for with the key
//!   of a site that restricts framing gets that site's `frame-ancestors`;
//!   other public pages may be framed by anyone.
//!
//! Handlers do not write these headers: they leave what is particular to a
//! response in its extensions ([`allow_inline_style`], [`restrict_framing`]).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A `'sha256-…'` source for an inline `<style>` element of a response.
#[derive(Debug, Clone)]
struct InlineStyle(String);

/// The `frame-ancestors` directive of a guide page (a registered site that
/// restricts framing).
#[derive(Debug, Clone)]
struct FrameAncestors(String);

/// The CSP source that allows exactly this inline stylesheet.
pub fn style_hash(css: &str) -> String {
    let digest = Sha256::digest(css.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Allows the response's inline `<style>` element whose content is `css`.
pub fn allow_inline_style(resp: &mut Response, css: &str) {
    resp.extensions_mut().insert(InlineStyle(style_hash(css)));
}

/// Sets the `frame-ancestors` directive of a guide page
/// (`frame-ancestors 'self' https://…`).
pub fn restrict_framing(resp: &mut Response, directive: String) {
    resp.extensions_mut().insert(FrameAncestors(directive));
}

/// The public pages' policy, before the inline style and framing parts.
const PUBLIC_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'{STYLE}; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-src 'self'; \
     form-action 'self'; base-uri 'none'";

const ADMIN_TEMPLATE: &str = include_str!("../../templates/admin.html");

/// The back office's policy: its own script only (`admin.js`, which
/// suggests names while typing) and no inline one, its own stylesheets and
/// the one inline `<style>` of its template, requests and forms to itself,
/// never framed.
pub fn admin_csp() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        let style = inline_styles(ADMIN_TEMPLATE)
            .into_iter()
            .map(|css| format!(" {}", style_hash(css)))
            .collect::<String>();
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'{style}; \
             img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

/// The contents of the `<style>` elements of a (static) template.
fn inline_styles(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("<style>") {
        rest = &rest[start + "<style>".len()..];
        let Some(end) = rest.find("</style>") else {
            break;
        };
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// The policy of a public HTML page.
pub fn public_csp(style: Option<&str>, frame_ancestors: Option<&str>) -> String {
    let mut csp = PUBLIC_CSP.replace(
        "{STYLE}",
        &style.map(|s| format!(" {s}")).unwrap_or_default(),
    );
    if let Some(f) = frame_ancestors {
        csp.push_str("; ");
        csp.push_str(f);
    }
    csp
}

fn is_admin(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// The middleware.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let admin = is_admin(req.uri().path());
    let mut resp = next.run(req).await;
    let style = resp.extensions_mut().remove::<InlineStyle>();
    let framing = resp.extensions_mut().remove::<FrameAncestors>();
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if admin {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(admin_csp()),
        );
    } else if html {
        let csp = public_csp(
            style.as_ref().map(|s| s.0.as_str()),
            framing.as_ref().map(|f| f.0.as_str()),
        );
        match HeaderValue::from_str(&csp) {
            Ok(v) => {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            // Origins are checked when a site is saved; should one still not
            // fit in a header, the page is not framable rather than open.
            Err(_) => {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'none'; script-src 'self'; style-src 'self'; \
                         img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                         form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                    ),
                );
            }
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_template_has_its_style_hashed() {
        let styles = inline_styles(ADMIN_TEMPLATE);
        assert_eq!(styles.len(), 1, "admin.html has one <style> element");
        assert!(admin_csp().contains(&style_hash(styles[0])));
        assert!(admin_csp().contains("frame-ancestors 'none'"));
        assert!(admin_csp().contains("script-src 'self';"));
        assert!(!admin_csp().contains("unsafe"));
    }

    #[test]
    fn public_policy_parts() {
        assert_eq!(
            style_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
        let csp = public_csp(
            Some("'sha256-x'"),
            Some("frame-ancestors 'self' https://a.fr"),
        );
        assert!(csp.contains("style-src 'self' 'sha256-x';"));
        assert!(csp.ends_with("; frame-ancestors 'self' https://a.fr"));
        assert!(!public_csp(None, None).contains("frame-ancestors"));
    }
}
