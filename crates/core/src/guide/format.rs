//! Reading and writing guides as TOML.

use std::fmt;

use super::Guide;

/// Why a guide file could not be read: where (1-based line and column,
/// when known) and what, in French.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for GuideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "ligne {l}, colonne {c} : {}", self.message),
            (Some(l), None) => write!(f, "ligne {l} : {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for GuideError {}

/// Reads a guide from TOML. Only the shape is checked here (fields, types,
/// slug syntax); [`super::validate`] checks the meaning.
pub fn parse(text: &str) -> Result<Guide, GuideError> {
    toml::from_str::<Guide>(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_column(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        GuideError {
            line,
            column,
            message: french(e.message()),
        }
    })
}

/// Writes a guide as TOML; [`parse`] reads it back to an equal guide.
pub fn to_toml(guide: &Guide) -> String {
    // Every field is a string, a number, a boolean, a list or a table with
    // string keys: serialization cannot fail.
    toml::to_string(guide).unwrap_or_default()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[start..].chars().count() + 1;
    (line, column)
}

/// Turns the TOML and serde messages people are likely to meet into French.
fn french(message: &str) -> String {
    let m = message.trim();
    if let Some(rest) = m.strip_prefix("missing field ") {
        return format!("le champ obligatoire {} manque", quoted(rest));
    }
    if let Some(rest) = m.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
        let mut out = format!("le champ {} n'existe pas", quoted(field));
        let list = expected_list(expected);
        if !list.is_empty() {
            out.push_str(&format!(" (champs possibles : {list})"));
        }
        return out;
    }
    if let Some(rest) = m.strip_prefix("unknown variant ") {
        let (value, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
        return format!(
            "{} n'est pas une valeur possible (valeurs possibles : {})",
            quoted(value),
            expected_list(expected)
        );
    }
    if let Some(rest) = m.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "type de valeur incorrect : il faut {} ici, pas {}",
            kind(expected, false),
            kind(found, true)
        );
    }
    if m.starts_with("duplicate key") {
        return "cette clé est écrite deux fois".to_owned();
    }
    if m.contains("untagged enum Values") {
        return "écrivez un texte ou une liste de textes, par exemple \"cadastre\" ou [\"cadastre\", \"acte-notarie\"]".to_owned();
    }
    if m.contains("untagged enum Unknown") {
        return "écrivez unknown = true, ou unknown = { label = \"Je ne sais pas\", goto = \"…\" }"
            .to_owned();
    }
    // Messages from our own types (slugs) are already in French.
    if m.starts_with('«') {
        return m.to_owned();
    }
    format!("syntaxe TOML incorrecte ({m})")
}

/// `` `steps` `` → `« steps »`.
fn quoted(s: &str) -> String {
    format!("« {} »", s.trim().trim_matches('`'))
}

/// `` one of `a`, `b` `` → `a, b`.
fn expected_list(s: &str) -> String {
    let s = s.trim();
    let s = s.strip_prefix("one of").unwrap_or(s);
    s.split(',')
        .map(|p| p.trim().trim_matches('`'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind(s: &str, show_value: bool) -> String {
    let s = s.trim();
    let head = s.split_whitespace().next().unwrap_or("");
    let word = match head {
        "string" | "a" if s.contains("string") => "un texte",
        "integer" | "an" if s.contains("integer") || head == "integer" => "un nombre",
        "boolean" => "un booléen (true ou false)",
        "sequence" => "une liste",
        "map" => "une table",
        "floating" => "un nombre",
        _ if s.contains("sequence") => "une liste",
        _ if s.contains("boolean") => "un booléen (true ou false)",
        _ if s.contains("map") || s.contains("struct") => "une table",
        _ if s.contains("string") => "un texte",
        _ if s.contains("integer") => "un nombre",
        _ => return s.to_owned(),
    };
    // Keep the offending value when serde quotes it (`string "x"`).
    match s.split_once(' ') {
        Some((_, v)) if show_value && head != "a" && head != "an" && !v.is_empty() => {
            format!("{word} ({v})")
        }
        _ => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(line_column("ab\ncdé\nf", 0), (1, 1));
        assert_eq!(line_column("ab\ncdé\nf", 3), (2, 1));
        assert_eq!(line_column("ab\ncdé\nf", 8), (3, 1));
        assert_eq!(line_column("ab\ncdé\nf", 99), (3, 2));
    }
}
