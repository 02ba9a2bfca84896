//! Registered sites: the websites that embed Locadocs guides under a key of
//! their own, for statistics and, when they ask for it, to restrict which
//! origins may frame their guides.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codes::Slug;

/// A web origin: scheme, host and port, as browsers compare them
/// (`https://www.ville-rennes.fr`, `http://127.0.0.1:8081`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Origin(String);

/// Why an origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("origine « {value} » invalide : {reason}")]
pub struct OriginError {
    pub value: String,
    pub reason: &'static str,
}

impl Origin {
    /// Parses `scheme://host[:port]`, with an optional trailing `/`.
    /// Scheme and host are lower-cased; default ports are dropped.
    pub fn parse(raw: &str) -> Result<Origin, OriginError> {
        let err = |reason| OriginError {
            value: raw.chars().take(100).collect(),
            reason,
        };
        let (scheme, rest) = raw
            .trim()
            .split_once("://")
            .ok_or_else(|| err("attendu : https://nom.de.domaine"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => "443",
            "http" => "80",
            _ => return Err(err("seuls http et https sont possibles")),
        };
        if rest.is_empty() {
            return Err(err("le nom de domaine manque"));
        }
        if rest.contains(['/', '?', '#', '@', ' ', '*']) {
            return Err(err(
                "une origine n'a ni chemin, ni paramètres, ni identifiants, ni joker",
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            // An IPv6 address without a port: `[::1]`.
            Some((h, p)) if !p.contains(']') => (h, Some(p)),
            _ => (rest, None),
        };
        let host = host.to_ascii_lowercase();
        let host_ok = if let Some(v6) = host.strip_prefix('[') {
            v6.strip_suffix(']')
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
        } else {
            !host.is_empty()
                && host.len() <= 253
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                })
        };
        if !host_ok {
            return Err(err("nom de domaine invalide"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p == n.to_string() => (p != default_port).then_some(p),
                _ => return Err(err("port invalide")),
            },
        };
        Ok(Origin(match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Origin {
    type Error = OriginError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Origin::parse(&s)
    }
}

impl From<Origin> for String {
    fn from(o: Origin) -> String {
        o.0
    }
}

/// A website registered to embed guides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// What the site puts in `data-site`; also its key in statistics.
    pub key: Slug,
    /// Who runs it, for people: « Ville de Rennes ».
    pub name: String,
    /// The origins its pages are served from.
    pub origins: Vec<Origin>,
    /// Whether only those origins may frame guides asked for with this key.
    pub restrict_framing: bool,
}

impl Site {
    /// The `Content-Security-Policy` value for pages asked for with this
    /// site's key, when the site restricts framing.
    pub fn frame_ancestors(&self) -> Option<String> {
        if !self.restrict_framing {
            return None;
        }
        let mut csp = String::from("frame-ancestors 'self'");
        for o in &self.origins {
            csp.push(' ');
            csp.push_str(o.as_str());
        }
        Some(csp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized() {
        let ok = |s: &str| Origin::parse(s).unwrap().to_string();
        assert_eq!(
            ok("https://www.Ville-Rennes.fr/"),
            "https://www.ville-rennes.fr"
        );
        assert_eq!(ok("HTTPS://example.fr:443"), "https://example.fr");
        assert_eq!(ok("http://127.0.0.1:8081"), "http://127.0.0.1:8081");
        assert_eq!(ok("http://[::1]:3000"), "http://[::1]:3000");
        assert_eq!(ok("http://localhost"), "http://localhost");
    }

    #[test]
    fn bad_origins_say_why() {
        for (raw, why) in [
            ("www.rennes.fr", "attendu"),
            ("ftp://rennes.fr", "http et https"),
            ("https://rennes.fr/page", "chemin"),
            ("https://*.rennes.fr", "joker"),
            ("https://rennes.fr:0", "port"),
            ("https://rennes.fr:99999", "port"),
            ("https://ren_nes.fr", "domaine"),
            ("https://", "manque"),
            ("https://user@rennes.fr", "identifiants"),
        ] {
            let e = Origin::parse(raw).unwrap_err();
            assert!(e.to_string().contains(why), "{raw}: {e}");
        }
    }

    #[test]
    fn frame_ancestors_only_when_restricted() {
        let mut site = Site {
            key: Slug::parse("rennes").unwrap(),
            name: "Ville de Rennes".into(),
            origins: vec![
                Origin::parse("https://rennes.fr").unwrap(),
                Origin::parse("https://metropole.rennes.fr").unwrap(),
            ],
            restrict_framing: false,
        };
        assert_eq!(site.frame_ancestors(), None);
        site.restrict_framing = true;
        assert_eq!(
            site.frame_ancestors().unwrap(),
            "frame-ancestors 'self' https://rennes.fr https://metropole.rennes.fr"
        );
    }
}
