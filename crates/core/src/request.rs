//! Qualified requests: the fields a request for a document type asks for
//! (defined as data, next to the document types), the statuses a request
//! goes through, and the checks on what a person types.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::Slug;

/// How a field is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Several lines.
    Textarea,
    /// A year or a full date, typed as text.
    Date,
}

/// One field of a document type's request form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestField {
    pub key: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_en: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default = "text_kind")]
    pub kind: FieldKind,
}

fn text_kind() -> FieldKind {
    FieldKind::Text
}

impl RequestField {
    /// The label in a language (`en` falls back to French).
    pub fn label_in(&self, english: bool) -> &str {
        match (english, &self.label_en) {
            (true, Some(l)) => l,
            _ => &self.label,
        }
    }

    pub fn help_in(&self, english: bool) -> Option<&str> {
        match (english, &self.help_en) {
            (true, Some(h)) => Some(h),
            _ => self.help.as_deref(),
        }
    }

    /// The longest value accepted.
    pub fn max_len(&self) -> usize {
        match self.kind {
            FieldKind::Textarea => 4_000,
            FieldKind::Text | FieldKind::Date => 300,
        }
    }
}

/// The request settings of the published data: which services take
/// requests through Locadocs, and the form of each document type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestSettings {
    pub accepting: HashSet<Slug>,
    pub forms: HashMap<Slug, Vec<RequestField>>,
}

/// A request form file or text that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FormError {
    pub message: String,
}

fn form_error(message: impl Into<String>) -> FormError {
    FormError {
        message: message.into(),
    }
}

/// Checks one document type's fields: keys well-formed and unique, labels
/// present, at most 12 fields.
pub fn check_fields(fields: &[RequestField]) -> Result<(), FormError> {
    if fields.len() > 12 {
        return Err(form_error(format!(
            "{} champs : 12 au plus par type de document",
            fields.len()
        )));
    }
    let mut seen = HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let n = i + 1;
        if f.key.is_empty()
            || f.key.len() > 40
            || !f
                .key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(form_error(format!(
                "champ {n} : la clé « {} » doit être faite de minuscules sans accent, de chiffres et de _ (40 caractères au plus)",
                f.key
            )));
        }
        if !seen.insert(f.key.as_str()) {
            return Err(form_error(format!(
                "champ {n} : la clé « {} » est déjà utilisée",
                f.key
            )));
        }
        if f.label.trim().is_empty() || f.label.len() > 200 {
            return Err(form_error(format!(
                "champ {n} ({}) : le libellé est vide ou trop long (200 caractères au plus)",
                f.key
            )));
        }
        if f.help.as_deref().is_some_and(|h| h.len() > 500) {
            return Err(form_error(format!(
                "champ {n} ({}) : l'aide est trop longue (500 caractères au plus)",
                f.key
            )));
        }
    }
    Ok(())
}

/// Parses one document type's form written as TOML (`[[champ]]` tables),
/// the way the back office edits it.
pub fn parse_fields_toml(text: &str) -> Result<Vec<RequestField>, FormError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Form {
        #[serde(default)]
        champ: Vec<RequestField>,
    }
    let form: Form = toml::from_str(text).map_err(|e| form_error(toml_message(text, &e)))?;
    check_fields(&form.champ)?;
    Ok(form.champ)
}

/// Writes one document type's form as TOML, for the back office's editor.
pub fn fields_toml(fields: &[RequestField]) -> String {
    #[derive(Serialize)]
    struct Form<'a> {
        champ: &'a [RequestField],
    }
    toml::to_string(&Form { champ: fields }).unwrap_or_default()
}

/// Parses a request forms file: one array of tables per document type slug
/// (`[[permis-de-construire]]`), fields in display order.
pub fn parse_forms_file(text: &str) -> Result<Vec<(Slug, Vec<RequestField>)>, FormError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| form_error(toml_message(text, &e)))?;
    let mut out = Vec::new();
    for (key, value) in table {
        let slug = Slug::parse(&key)
            .map_err(|e| form_error(format!("« {key} » n'est pas un type de document : {e}")))?;
        let fields: Vec<RequestField> = value
            .try_into()
            .map_err(|e: toml::de::Error| form_error(format!("{key} : {}", e.message())))?;
        check_fields(&fields).map_err(|e| form_error(format!("{key} : {}", e.message)))?;
        out.push((slug, fields));
    }
    Ok(out)
}

fn toml_message(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("ligne {line} : {}", e.message())
        }
        None => e.message().to_owned(),
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    New,
    InProgress,
    Waiting,
    Answered,
    NotHeld,
    Rerouted,
    Closed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::New,
        Status::InProgress,
        Status::Waiting,
        Status::Answered,
        Status::NotHeld,
        Status::Rerouted,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "nouvelle",
            Status::InProgress => "en_cours",
            Status::Waiting => "attente",
            Status::Answered => "repondue",
            Status::NotHeld => "non_detenu",
            Status::Rerouted => "redirigee",
            Status::Closed => "sans_suite",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The French label shown to agents and people.
    pub fn label(self) -> &'static str {
        match self {
            Status::New => "Nouvelle",
            Status::InProgress => "En cours",
            Status::Waiting => "En attente du demandeur",
            Status::Answered => "Répondue",
            Status::NotHeld => "Non détenu ici",
            Status::Rerouted => "Redirigée",
            Status::Closed => "Classée sans suite",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::InProgress => "In progress",
            Status::Waiting => "Waiting for your reply",
            Status::Answered => "Answered",
            Status::NotHeld => "Not held by this service",
            Status::Rerouted => "Passed on to another service",
            Status::Closed => "Closed",
        }
    }

    /// A final status closes the request (and starts its retention delay).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Answered | Status::NotHeld | Status::Rerouted | Status::Closed
        )
    }

    /// Whether an agent may set this status by hand (a reroute has its own
    /// action; nothing goes back to « nouvelle »).
    pub fn settable(self) -> bool {
        !matches!(self, Status::New | Status::Rerouted)
    }

    /// What the person is told when their request reaches this status.
    pub fn told_to_person(self, english: bool) -> Option<&'static str> {
        Some(match (self, english) {
            (Status::Answered, false) => "Le service a répondu à votre demande.",
            (Status::Answered, true) => "The service has answered your request.",
            (Status::NotHeld, false) => "Le service ne détient pas le document que vous cherchez.",
            (Status::NotHeld, true) => {
                "The service does not hold the document you are looking for."
            }
            (Status::Closed, false) => "Le service a clos votre demande sans suite.",
            (Status::Closed, true) => "The service has closed your request.",
            (Status::Waiting, false) => "Le service attend une réponse de votre part.",
            (Status::Waiting, true) => "The service is waiting for your reply.",
            _ => return None,
        })
    }
}

/// Removes control characters other than line breaks and tabs, and
/// normalises line breaks; `None` when what is left is empty.
pub fn clean_text(s: &str) -> Option<String> {
    let cleaned: String = s
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let trimmed = cleaned.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A plausible e-mail address: one `@`, a dot in the domain, no spaces,
/// at most 254 characters. Lower-cased.
pub fn clean_email(s: &str) -> Option<String> {
    let s = s.trim().to_lowercase();
    let (local, domain) = s.split_once('@')?;
    let ok = s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\"\\".contains(c));
    ok.then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forms_file_reads_in_order_and_refuses_bad_keys() {
        let text = r#"
[[permis-de-construire]]
key = "adresse"
label = "Adresse du bien"
required = true

[[permis-de-construire]]
key = "numero"
label = "Numéro du permis"
help = "Si vous le connaissez"
"#;
        let forms = parse_forms_file(text).unwrap();
        assert_eq!(forms.len(), 1);
        let (slug, fields) = &forms[0];
        assert_eq!(slug.as_str(), "permis-de-construire");
        assert_eq!(fields[0].key, "adresse");
        assert!(fields[0].required);
        assert_eq!(fields[1].kind, FieldKind::Text);
        assert!(!fields[1].required);

        let dup = "[[a]]\nkey = \"x\"\nlabel = \"X\"\n[[a]]\nkey = \"x\"\nlabel = \"Y\"\n";
        let e = parse_forms_file(dup).unwrap_err();
        assert!(e.message.contains("déjà utilisée"), "{e}");
        let bad = "[[a]]\nkey = \"Adresse\"\nlabel = \"X\"\n";
        assert!(
            parse_forms_file(bad)
                .unwrap_err()
                .message
                .contains("minuscules")
        );
        let unknown = "[[a]]\nkey = \"x\"\nlabel = \"X\"\ncolour = 1\n";
        assert!(parse_forms_file(unknown).is_err());
    }

    #[test]
    fn one_form_round_trips_through_its_toml() {
        let fields = vec![RequestField {
            key: "noms".into(),
            label: "Noms des parties".into(),
            label_en: Some("Names".into()),
            help: None,
            help_en: None,
            required: true,
            kind: FieldKind::Textarea,
        }];
        let text = fields_toml(&fields);
        assert_eq!(parse_fields_toml(&text).unwrap(), fields);
        let e = parse_fields_toml("[[champ]]\nkey = \"a\"\nlabel = \n").unwrap_err();
        assert!(e.message.starts_with("ligne 3"), "{e}");
    }

    #[test]
    fn statuses_round_trip_and_final_ones_close() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert!(Status::NotHeld.is_final());
        assert!(!Status::Waiting.is_final());
        assert!(!Status::Rerouted.settable());
    }

    #[test]
    fn text_and_addresses_are_cleaned() {
        assert_eq!(clean_text(" a\u{0}b\r\nc "), Some("ab\nc".into()));
        assert_eq!(clean_text(" \u{7} "), None);
        assert_eq!(
            clean_email(" Marie.Durand@Example.FR "),
            Some("marie.durand@example.fr".into())
        );
        for bad in [
            "", "a@b", "a b@c.fr", "@c.fr", "a@.fr", "a@b.fr.", "<a@b.fr>",
        ] {
            assert_eq!(clean_email(bad), None, "{bad}");
        }
    }
}
