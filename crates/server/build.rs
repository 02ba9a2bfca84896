//! Carries the few files of the State design system (`@gouvfr/dsfr`, an npm
//! package installed in `node_modules/`) that the themes use into the binary,
//! so that it serves them from any working directory: the core stylesheet
//! (guides with `?theme=dsfr`), the full one (back office), and the Marianne
//! fonts and system/arrow icons these two stylesheets reference. Nothing is
//! copied into the repository: the files are read from the installed package
//! at build time.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The stylesheets served, relative to the package's `dist/` directory.
const STYLESHEETS: [&str; 2] = ["core/core.min.css", "dsfr.min.css"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let package = manifest.join("../../node_modules/@gouvfr/dsfr");
    let dist = package.join("dist");
    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rerun-if-changed={}",
        package.join("package.json").display()
    );
    for s in STYLESHEETS {
        println!("cargo:rerun-if-changed={}", dist.join(s).display());
    }

    let manifest_text = match std::fs::read_to_string(package.join("package.json")) {
        Ok(t) => t,
        Err(_) => fail(&format!(
            "the npm package @gouvfr/dsfr is missing ({} not found): run `npm ci --ignore-scripts` \
             (or `make setup`) at the root of the repository, then build again",
            package.join("package.json").display()
        )),
    };
    let version = match package_version(&manifest_text) {
        Some(v) => v,
        None => fail(&format!(
            "no usable \"version\" in {}: reinstall it with `npm ci --ignore-scripts`",
            package.join("package.json").display()
        )),
    };

    let mut files: BTreeSet<String> = BTreeSet::new();
    for sheet in STYLESHEETS {
        let css = match std::fs::read_to_string(dist.join(sheet)) {
            Ok(t) => t,
            Err(_) => fail(&format!(
                "{} is missing from @gouvfr/dsfr: reinstall it with `npm ci --ignore-scripts`",
                dist.join(sheet).display()
            )),
        };
        files.insert(sheet.to_owned());
        let dir = Path::new(sheet).parent().unwrap_or(Path::new(""));
        for reference in css_urls(&css) {
            if let Some(path) = resolve(dir, &reference)
                && served(&path)
            {
                files.insert(path);
            }
        }
    }

    let mut out = String::new();
    writeln!(
        out,
        "/// Version of the @gouvfr/dsfr package the files come from.\n\
         pub const DSFR_VERSION: &str = {version:?};\n\
         /// (path under `dist/`, content type, bytes)\n\
         pub static DSFR_FILES: &[(&str, &str, &[u8])] = &["
    )
    .expect("write to a string");
    for f in &files {
        let full = dist.join(f);
        if !full.is_file() {
            fail(&format!(
                "{} is referenced by the DSFR stylesheets but missing: reinstall @gouvfr/dsfr \
                 with `npm ci --ignore-scripts`",
                full.display()
            ));
        }
        println!("cargo:rerun-if-changed={}", full.display());
        let full = full.canonicalize().unwrap_or(full);
        writeln!(
            out,
            "    ({f:?}, {:?}, include_bytes!({:?})),",
            content_type(f),
            full.display().to_string()
        )
        .expect("write to a string");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    if let Err(e) = std::fs::write(out_dir.join("dsfr_assets.rs"), out) {
        fail(&format!("cannot write dsfr_assets.rs: {e}"));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    println!("cargo:warning={message}");
    std::process::exit(1);
}

/// The `"version"` of a package.json, if it is a plain version number.
fn package_version(json: &str) -> Option<String> {
    let at = json.find("\"version\"")?;
    let rest = json[at + "\"version\"".len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let v = &rest[..rest.find('"')?];
    let ok = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    ok.then(|| v.to_owned())
}

/// Every `url(...)` of a stylesheet, without quotes; `data:` ones left out.
fn css_urls(css: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = css;
    while let Some(i) = rest.find("url(") {
        rest = &rest[i + 4..];
        let Some(end) = rest.find(')') else { break };
        let u = rest[..end].trim().trim_matches(|c| c == '"' || c == '\'');
        if !u.starts_with("data:") {
            out.push(u.split(['?', '#']).next().unwrap_or("").to_owned());
        }
        rest = &rest[end..];
    }
    out
}

/// A reference relative to the stylesheet's directory, as a path under `dist/`.
fn resolve(dir: &Path, reference: &str) -> Option<String> {
    if reference.contains("://") || reference.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .collect();
    for seg in reference.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The files the themes need among those referenced: the Marianne fonts
/// (woff2, which every browser that runs the DSFR reads) and the system
/// and arrow icons.
fn served(path: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
    };
    if let Some(name) = path.strip_prefix("fonts/") {
        return name.starts_with("Marianne-") && name.ends_with(".woff2") && plain(name);
    }
    path.strip_prefix("icons/system/")
        .or_else(|| path.strip_prefix("icons/arrows/"))
        .is_some_and(|name| name.ends_with(".svg") && plain(name))
}

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".css") {
        "text/css; charset=utf-8"
    } else if path.ends_with(".woff2") {
        "font/woff2"
    } else {
        "image/svg+xml"
    }
}
