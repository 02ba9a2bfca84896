//! Security headers (Content-Security-Policy, nosniff, no framing of the
//! back office), the DSFR files carried in the binary under a versioned
//! address, and the server's settings read at start.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use locadocs::import;
use locadocs::store::Role;
use locadocs::web::pages::{DSFR_VERSION, dsfr_prefix};
use locadocs_core::{Origin, Site, Slug};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::backoffice::{get, signed_in};
use crate::dual_test;
use crate::helpers::{Geo, TestApp, today};

async fn with_demo(app: &TestApp) {
    import::demo(app.store.as_ref(), today())
        .await
        .expect("demo data loads");
    app.refresh().await;
}

/// The one Content-Security-Policy of a response (two headers would be
/// intersected by browsers: there must be exactly one).
fn policy(resp: &reqwest::Response) -> String {
    let all: Vec<_> = resp
        .headers()
        .get_all("content-security-policy")
        .iter()
        .collect();
    assert_eq!(all.len(), 1, "one Content-Security-Policy: {all:?}");
    all[0].to_str().unwrap().to_owned()
}

/// The sources of one directive of a policy.
fn directive(csp: &str, name: &str) -> Option<Vec<String>> {
    csp.split(';').map(str::trim).find_map(|d| {
        let mut words = d.split_whitespace();
        (words.next() == Some(name)).then(|| words.map(str::to_owned).collect())
    })
}

fn sha256_source(css: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css.as_bytes()))
    )
}

/// The contents of every `<style>` element of a page.
fn style_elements(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<style") {
        rest = &rest[i..];
        let open_end = rest.find('>').expect("<style> closes");
        let close = rest.find("</style>").expect("</style>");
        out.push(rest[open_end + 1..close].to_owned());
        rest = &rest[close..];
    }
    out
}

/// The value of every `attr="…"` of a page.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        rest = &rest[i + needle.len()..];
        let end = rest.find('"').unwrap();
        out.push(rest[..end].replace("&#38;", "&").replace("&amp;", "&"));
        rest = &rest[end..];
    }
    out
}

/// Checks that a public page's policy fits the page: scripts only from this
/// origin and never inline, every inline stylesheet allowed by its hash and
/// nothing more, no inline style attribute (which the policy would block).
fn check_public_page(path: &str, csp: &str, html: &str) {
    assert_eq!(
        directive(csp, "default-src").as_deref(),
        Some(&["'none'".to_owned()][..]),
        "{path}: {csp}"
    );
    assert_eq!(
        directive(csp, "script-src").unwrap(),
        ["'self'"],
        "{path}: {csp}"
    );
    assert!(!csp.contains("unsafe"), "{path}: {csp}");
    let styles = directive(csp, "style-src").unwrap();
    assert_eq!(styles[0], "'self'", "{path}: {csp}");
    let inline = style_elements(html);
    let expected: Vec<String> = inline.iter().map(|c| sha256_source(c)).collect();
    assert_eq!(
        styles[1..],
        expected[..],
        "{path}: the hashes of its <style> elements"
    );
    assert!(
        !html.contains(" style=\""),
        "{path}: inline style attribute"
    );
    // Every script is a file of this origin.
    let mut rest = html;
    while let Some(i) = rest.find("<script") {
        rest = &rest[i..];
        let tag = &rest[..rest.find('>').unwrap()];
        assert!(tag.contains(" src=\"/"), "{path}: inline script {tag}");
        rest = &rest[tag.len()..];
    }
    for d in ["img-src", "font-src", "connect-src", "form-action"] {
        assert!(
            directive(csp, d).is_some_and(|s| s.contains(&"'self'".to_owned())),
            "{path}: {d} in {csp}"
        );
    }
}

dual_test!(
    public_html_pages_have_a_policy_that_fits_them,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        let doc = app
            .live
            .snapshot()
            .document_types()
            .first()
            .unwrap()
            .slug
            .to_string();
        let pages = [
            "/".to_owned(),
            "/g/immobilier".to_owned(),
            "/g/immobilier?document_type=permis-de-construire".to_owned(),
            "/g/immobilier?document_type=permis-de-construire&commune=35238".to_owned(),
            "/g/immobilier?document_type=permis-de-construire&commune=35238&year=1985".to_owned(),
            "/g/immobilier?theme=dsfr".to_owned(),
            "/g/immobilier?theme=dsfr&color=%23aa0044&font=Open%20Sans".to_owned(),
            "/g/immobilier?color=%23ffcc00&embed=1".to_owned(),
            "/g/immobilier?font=Open%20Sans".to_owned(),
            "/integrer".to_owned(),
            "/integrer?theme=dsfr&color=%230b5cad".to_owned(),
            "/documents".to_owned(),
            format!("/documents/{doc}?color=%23003189"),
            "/accessibilite".to_owned(),
            "/mentions-legales?theme=dsfr".to_owned(),
            "/confidentialite".to_owned(),
            "/nulle-part".to_owned(),
        ];
        let mut with_style = 0;
        for path in &pages {
            let resp = app.get(path).await;
            assert!(
                resp.status() == 200 || path == "/nulle-part",
                "{path}: {}",
                resp.status()
            );
            assert_eq!(
                resp.headers()["x-content-type-options"],
                "nosniff",
                "{path}"
            );
            // Public pages stay framable (docs/embed.md).
            assert!(resp.headers().get("x-frame-options").is_none(), "{path}");
            let csp = policy(&resp);
            assert!(
                directive(&csp, "frame-ancestors").is_none(),
                "{path}: {csp}"
            );
            let html = resp.text().await.unwrap();
            check_public_page(path, &csp, &html);
            if !style_elements(&html).is_empty() {
                with_style += 1;
            }
        }
        // The colour, font and DSFR pages did carry an inline stylesheet.
        assert_eq!(with_style, 6);
        // The hash is that of the page's colours, not any colour.
        let a = policy(&app.get("/g/immobilier?color=%23aa0044").await);
        let b = policy(&app.get("/g/immobilier?color=%230b5cad").await);
        assert_ne!(a, b);
        assert!(
            directive(&policy(&app.get("/g/immobilier").await), "style-src").unwrap() == ["'self'"]
        );
    }
);

dual_test!(
    a_restricting_site_gets_one_policy_with_its_framing,
    Geo::Sample,
    |app| {
        with_demo(app).await;
        app.store
            .save_site(&Site {
                key: Slug::parse("rennes").unwrap(),
                name: "Ville de Rennes".into(),
                origins: vec![Origin::parse("https://rennes.fr").unwrap()],
                restrict_framing: true,
            })
            .await
            .unwrap();
        app.refresh().await;
        let path = "/g/immobilier?embed=1&site=rennes&color=%23aa0044";
        let resp = app.get(path).await;
        let csp = policy(&resp);
        assert_eq!(
            directive(&csp, "frame-ancestors").unwrap(),
            ["'self'", "https://rennes.fr"]
        );
        let html = resp.text().await.unwrap();
        check_public_page(path, &csp, &html);
    }
);

dual_test!(the_json_api_is_nosniff, Geo::Sample, |app| {
    with_demo(app).await;
    for path in [
        "/api/v1/document-types",
        "/api/v1/communes?q=rennes",
        "/api/v1/openapi.json",
        "/api/v1/nulle-part",
    ] {
        let resp = app.get(path).await;
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        assert_eq!(
            resp.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
});

admin_test!(the_back_office_cannot_be_framed, |app| {
    let admin = signed_in(app, Role::Admin, &[]).await;
    for (path, cookie) in [
        ("/admin/login", ""),
        ("/admin", ""),
        ("/admin", admin.cookie.as_str()),
        ("/admin/utilisateurs", admin.cookie.as_str()),
        ("/admin/export/services", admin.cookie.as_str()),
        ("/admin/nulle-part", admin.cookie.as_str()),
    ] {
        let resp = get(app, path, cookie).await;
        let h = resp.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let csp = policy(&resp);
        assert_eq!(
            directive(&csp, "frame-ancestors").unwrap(),
            ["'none'"],
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        let is_html = h
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap().starts_with("text/html"));
        if resp.status() == 200 && path != "/admin/nulle-part" && is_html {
            let html = resp.text().await.unwrap();
            // The back office runs its own script file only, nothing
            // inline; its inline style is hashed.
            let scripts: Vec<&str> = html.split("<script").skip(1).collect();
            assert_eq!(scripts.len(), 1, "{path}");
            assert!(
                scripts[0].starts_with(" src=\"/assets/admin.js?v=")
                    && scripts[0].contains("defer></script>"),
                "{path}: {}",
                scripts[0]
            );
            let scripts = directive(&csp, "script-src").unwrap();
            assert_eq!(scripts, ["'self'"], "{path}: {csp}");
            let styles = directive(&csp, "style-src").unwrap();
            for css in style_elements(&html) {
                assert!(styles.contains(&sha256_source(&css)), "{path}: {csp}");
            }
        }
    }
});

/// The content type a file must be served with.
fn type_for(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap();
    if path.ends_with(".css") {
        "text/css"
    } else if path.ends_with(".js") {
        "text/javascript"
    } else if path.ends_with(".woff2") {
        "font/woff2"
    } else if path.ends_with(".svg") {
        "image/svg+xml"
    } else {
        panic!("unexpected asset {path}")
    }
}

/// `url(...)` references of a stylesheet, resolved against its address.
fn css_references(css_path: &str, css: &str) -> Vec<String> {
    let dir = &css_path[..css_path.rfind('/').unwrap()];
    let mut out = Vec::new();
    let mut rest = css;
    while let Some(i) = rest.find("url(") {
        rest = &rest[i + 4..];
        let end = rest.find(')').unwrap();
        let u = rest[..end].trim().trim_matches(|c| c == '"' || c == '\'');
        rest = &rest[end..];
        if u.starts_with("data:") {
            continue;
        }
        let mut parts: Vec<&str> = dir.split('/').collect();
        for seg in u.split('/') {
            match seg {
                ".." => {
                    parts.pop();
                }
                "." | "" => {}
                s => parts.push(s),
            }
        }
        out.push(parts.join("/"));
    }
    out
}

admin_test!(every_asset_the_pages_link_is_served_with_its_type, |app| {
    with_demo(app).await;
    let mut assets = std::collections::BTreeSet::new();
    for path in [
        "/g/immobilier?theme=dsfr",
        "/g/immobilier",
        "/integrer",
        "/documents",
        "/admin/login",
        "/admin/mot-de-passe",
    ] {
        let html = get(app, path, "").await.text().await.unwrap();
        for v in attr_values(&html, "href")
            .into_iter()
            .chain(attr_values(&html, "src"))
        {
            if v.starts_with("/assets/") || v == "/embed.js" {
                assets.insert(v);
            }
        }
    }
    let prefix = dsfr_prefix();
    assert_eq!(prefix, format!("/assets/dsfr/{DSFR_VERSION}"));
    assert!(
        assets.contains(&format!("{prefix}/dsfr.min.css")),
        "{assets:?}"
    );
    assert!(
        assets.contains(&format!("{prefix}/core/core.min.css")),
        "{assets:?}"
    );
    assert!(
        !assets
            .iter()
            .any(|a| a.starts_with("/assets/dsfr/") && !a.starts_with(&format!("{prefix}/"))),
        "every DSFR link carries the version: {assets:?}"
    );
    let mut dsfr_refs = std::collections::BTreeSet::new();
    for a in &assets {
        let resp = get(app, a, "").await;
        assert_eq!(resp.status(), 200, "{a}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with(type_for(a)), "{a}: {ct}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        if a.starts_with("/assets/dsfr/") {
            assert_eq!(
                resp.headers()["cache-control"],
                "public, max-age=31536000, immutable",
                "{a}"
            );
            let css = resp.text().await.unwrap();
            for r in css_references(a, &css) {
                dsfr_refs.insert(r);
            }
        }
    }
    // The fonts and icons these stylesheets draw with: the Marianne fonts
    // (woff2) and the system and arrow icons are carried in the binary.
    let needed: Vec<&String> = dsfr_refs
        .iter()
        .filter(|r| {
            let name = r.rsplit('/').next().unwrap();
            (r.starts_with(&format!("{prefix}/fonts/Marianne-")) && r.ends_with(".woff2"))
                || (r.starts_with(&format!("{prefix}/icons/system/"))
                    || r.starts_with(&format!("{prefix}/icons/arrows/")))
                    && name.ends_with(".svg")
        })
        .collect();
    assert!(needed.len() > 20, "{needed:?}");
    assert!(
        needed
            .iter()
            .any(|r| r.ends_with("/fonts/Marianne-Regular.woff2"))
    );
    assert!(
        needed
            .iter()
            .any(|r| r.ends_with("/icons/system/external-link-line.svg"))
    );
    for r in needed {
        let resp = get(app, r, "").await;
        assert_eq!(resp.status(), 200, "{r}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with(type_for(r)), "{r}: {ct}");
    }
});

admin_test!(old_dsfr_addresses_lead_to_the_current_files, |app| {
    let prefix = dsfr_prefix();
    for old in [
        "/assets/dsfr/dsfr.min.css",
        "/assets/dsfr/core/core.min.css",
        "/assets/dsfr/1.0.0/dsfr.min.css",
        "/assets/dsfr/icons/system/external-link-line.svg",
    ] {
        let resp = get(app, old, "").await;
        assert_eq!(resp.status(), 307, "{old}");
        let to = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with(&format!("{prefix}/")), "{old} -> {to}");
        assert_eq!(resp.headers()["cache-control"], "no-cache", "{old}");
        assert_eq!(get(app, &to, "").await.status(), 200, "{to}");
    }
    for missing in [
        format!("{prefix}/utility/utility.min.css"),
        format!("{prefix}/icons/buildings/bank-line.svg"),
        format!("{prefix}/fonts/Spectral-Regular.woff2"),
        "/assets/dsfr/1.0.0/package.json".to_owned(),
        "/assets/dsfr/../../Cargo.toml".to_owned(),
    ] {
        assert_eq!(get(app, &missing, "").await.status(), 404, "{missing}");
    }
});

// ---------------------------------------------------------------- the binary

const BIN: &str = env!("CARGO_BIN_EXE_locadocs");

/// A command of the debug binary in an empty working directory, with a
/// SQLite file there and none of the developer's settings.
fn locadocs(dir: &std::path::Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.current_dir(dir).kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("LOCADOCS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env(
        "LOCADOCS_DATABASE_URL",
        format!("sqlite://{}", dir.join("t.db").display()),
    )
    .env("LOCADOCS_LOG", "warn");
    cmd
}

fn empty_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("locadocs_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_binary_serves_its_stylesheets_from_any_directory() {
    let dir = empty_dir("anywhere");
    let status = locadocs(&dir).arg("migrate").status().await.unwrap();
    assert!(status.success());
    let mut child = locadocs(&dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("Locadocs sert sur ") {
                return url.trim().to_owned();
            }
        }
        panic!("the server stopped before listening")
    })
    .await
    .expect("the server listens");
    let client = reqwest::Client::new();
    let html = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sheet = attr_values(&html, "href")
        .into_iter()
        .find(|h| h.ends_with(".css"))
        .expect("a stylesheet link");
    let resp = client.get(format!("{base}{sheet}")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{sheet}");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(resp.text().await.unwrap().contains("Marianne"));
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bad_smtp_url_stops_the_server_at_start() {
    let dir = empty_dir("bad_smtp");
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        locadocs(&dir)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("LOCADOCS_SMTP_URL", "smtp-pas-une-url://alice:secret@")
            .output(),
    )
    .await
    .expect("the server does not start")
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stderr.contains("LOCADOCS_SMTP_URL"), "{stderr}");
    assert!(
        !stderr.contains("secret"),
        "the password is not printed: {stderr}"
    );
    assert!(!stdout.contains("sert sur"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn serve_help_lists_every_setting() {
    let out = tokio::process::Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, var) in [
        ("--database-url", "LOCADOCS_DATABASE_URL"),
        ("--bind", "LOCADOCS_BIND"),
        ("--public-url", "LOCADOCS_PUBLIC_URL"),
        ("--smtp-url", "LOCADOCS_SMTP_URL"),
        ("--outbox", "LOCADOCS_OUTBOX"),
        ("--mail-from", "LOCADOCS_MAIL_FROM"),
        ("--trusted-proxies", "LOCADOCS_TRUSTED_PROXIES"),
        ("--insecure-cookies", "LOCADOCS_INSECURE_COOKIES"),
        ("--today", "LOCADOCS_TODAY"),
    ] {
        assert!(
            help.contains(flag) && help.contains(var),
            "{flag} {var}: {help}"
        );
    }
}
