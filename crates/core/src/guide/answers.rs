//! The answers carried by a URL's query string.

use std::fmt::Write as _;

/// At most this many pairs are read from a query string; the rest is
/// ignored (a guide never needs more).
pub const MAX_PAIRS: usize = 500;

/// Ordered `(name, value)` pairs, as in a query string. A name may repeat
/// (the answers of a multiple-choice step).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    pairs: Vec<(String, String)>,
}

impl Answers {
    pub fn new() -> Self {
        Answers::default()
    }

    /// Reads a query string (`a=1&b=2`, with or without a leading `?`),
    /// percent-decoding names and values (`+` is a space). Never fails:
    /// malformed escapes are kept as written, invalid UTF-8 is replaced.
    pub fn parse_query(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        let pairs = query
            .split('&')
            .filter(|p| !p.is_empty())
            .take(MAX_PAIRS)
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Answers { pairs }
    }

    /// Builds answers from pairs, e.g. a decoded form.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Answers {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((name.into(), value.into()));
    }

    /// These answers without the empty values of names that also have a
    /// non-empty one (what a form adds so that « Continuer » with nothing
    /// chosen can be told apart); `None` when there are none.
    pub fn without_shadowed_empties(&self) -> Option<Self> {
        let shadowed = |name: &str| self.pairs.iter().any(|(k, v)| k == name && !v.is_empty());
        if !self.pairs.iter().any(|(k, v)| v.is_empty() && shadowed(k)) {
            return None;
        }
        Some(Answers {
            pairs: self
                .pairs
                .iter()
                .filter(|(k, v)| !(v.is_empty() && shadowed(k)))
                .cloned()
                .collect(),
        })
    }

    /// These answers without any pair of these names.
    pub fn without(&self, names: &[&str]) -> Self {
        Answers {
            pairs: self
                .pairs
                .iter()
                .filter(|(k, _)| !names.contains(&k.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// These answers plus one more pair.
    pub fn with(&self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut a = self.clone();
        a.push(name, value);
        a
    }

    /// The value given for `name`: the last one that is not empty, else
    /// the empty one. A form may send a name twice — the empty year field
    /// and the « Je ne sais pas » button share `year`, giving
    /// `year=&year=inconnu` — and the button pressed, after the field, is
    /// what the person meant.
    pub fn get(&self, name: &str) -> Option<&str> {
        let mut found = None;
        for (k, v) in &self.pairs {
            if k == name && (found.is_none() || !v.is_empty()) {
                found = Some(v.as_str());
            }
        }
        found
    }

    /// Every value given for `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The percent-encoded query string, without a leading `?`.
    pub fn to_query(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.pairs {
            if !out.is_empty() {
                out.push('&');
            }
            encode_into(&mut out, k);
            out.push('=');
            encode_into(&mut out, v);
        }
        out
    }
}

/// Percent-encodes everything but the RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(&mut out, s);
    out
}

fn encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Decodes `%XX` escapes and `+`.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip() {
        let a = Answers::from_pairs([
            ("besoin", "plans"),
            ("besoin", "limites"),
            ("site", "https://mairie.fr/a?b=c&d"),
            ("note", "été 1985 + « x »"),
        ]);
        let q = a.to_query();
        assert!(!q.contains(' ') && !q.contains('«'));
        assert_eq!(Answers::parse_query(&q), a);
        assert_eq!(Answers::parse_query(&format!("?{q}")), a);
        assert_eq!(
            a.get_all("besoin").collect::<Vec<_>>(),
            ["plans", "limites"]
        );
    }

    #[test]
    fn lenient_decoding() {
        let a = Answers::parse_query("year=&year=inconnu&n=1&n=&m=");
        assert_eq!(a.get("year"), Some("inconnu"), "the button pressed wins");
        assert_eq!(
            a.get("n"),
            Some("1"),
            "an empty repeat does not erase a value"
        );
        assert_eq!(a.get("m"), Some(""));
        assert_eq!(a.get("absent"), None);
        assert_eq!(
            a.without_shadowed_empties().unwrap().to_query(),
            "year=inconnu&n=1&m="
        );
        assert_eq!(
            Answers::parse_query("m=&n=1").without_shadowed_empties(),
            None
        );
        let a = Answers::parse_query("a=%zz&b=%4&c=x+y&&d&e=%C3%A9&f=%FF%");
        assert_eq!(a.get("a"), Some("%zz"));
        assert_eq!(a.get("b"), Some("%4"));
        assert_eq!(a.get("c"), Some("x y"));
        assert_eq!(a.get("d"), Some(""));
        assert_eq!(a.get("e"), Some("é"));
        assert_eq!(a.get("f"), Some("\u{fffd}%"));
    }
}
