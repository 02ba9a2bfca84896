//! Incoming mail for request threads: the reply address unique to each
//! request, and one RFC 5322 message read into what a thread keeps (who wrote,
//! which request it answers, the new text, the accepted files), or the reason
//! it is refused.
//!
//! Pure parsing: no store, no IO. `locadocs mail receive` feeds it the
//! message it reads on its standard input.

mod strip;
mod text;

use std::fmt;

use mail_parser::{HeaderValue, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::filetype::{FileKind, Limits, safe_file_name, sniff};

pub use strip::strip_reply;
pub use text::html_to_text;

/// The placeholder a reply address template holds in its local part.
pub const TOKEN_PLACEHOLDER: &str = "{token}";
/// The shortest token a reply address carries.
pub const TOKEN_MIN_LEN: usize = 20;
/// The longest token a reply address carries.
pub const TOKEN_MAX_LEN: usize = 64;

/// A reply address template, such as `demande+{token}@locadocs.example.org`
/// (the `LOCADOCS_REPLY_ADDRESS` setting): every request's mail carries the
/// address with the request's token in place of `{token}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyAddress {
    /// The local part before the token.
    prefix: String,
    /// The local part after the token.
    suffix: String,
    domain: String,
}

impl ReplyAddress {
    /// Reads a template: exactly one `{token}`, in the local part, and a
    /// domain. The error is a French sentence naming the problem.
    pub fn parse(template: &str) -> Result<ReplyAddress, String> {
        let template = template.trim();
        let Some((local, domain)) = template.rsplit_once('@') else {
            return Err(format!(
                "l'adresse de réponse « {template} » n'a pas de domaine (attendu : demande+{{token}}@exemple.fr)"
            ));
        };
        if domain.is_empty() {
            return Err(format!(
                "l'adresse de réponse « {template} » n'a pas de domaine après « @ »"
            ));
        }
        if domain.contains(TOKEN_PLACEHOLDER) {
            return Err(format!(
                "l'adresse de réponse « {template} » doit porter {{token}} avant « @ », pas dans le domaine"
            ));
        }
        if !domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
            || domain.starts_with(['.', '-'])
            || domain.ends_with(['.', '-'])
            || domain.contains("..")
        {
            return Err(format!(
                "l'adresse de réponse « {template} » a un domaine invalide : « {domain} »"
            ));
        }
        let count = local.matches(TOKEN_PLACEHOLDER).count();
        if count != 1 {
            return Err(format!(
                "l'adresse de réponse « {template} » doit contenir {{token}} exactement une fois avant « @ » (trouvé {count} fois)"
            ));
        }
        let (prefix, suffix) = local
            .split_once(TOKEN_PLACEHOLDER)
            .expect("counted once above");
        let bad = |part: &str| {
            part.chars().any(|c| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(
                        c,
                        '@' | '<'
                            | '>'
                            | '('
                            | ')'
                            | ','
                            | ';'
                            | ':'
                            | '"'
                            | '['
                            | ']'
                            | '\\'
                            | '{'
                            | '}'
                    )
            })
        };
        if bad(prefix) || bad(suffix) {
            return Err(format!(
                "l'adresse de réponse « {template} » contient un caractère interdit dans sa partie locale"
            ));
        }
        Ok(ReplyAddress {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
            domain: domain.to_string(),
        })
    }

    /// The address for a request's token.
    pub fn address(&self, token: &str) -> String {
        format!("{}{token}{}@{}", self.prefix, self.suffix, self.domain)
    }

    /// The token of an address built from this template, if it is one: the
    /// domain and the fixed parts compare without regard to ASCII case, the
    /// token exactly; the token is 20 to 64 characters of `[A-Za-z0-9_-]`.
    /// Accepts an address between `<` and `>`.
    pub fn token_in(&self, address: &str) -> Option<String> {
        let address = address.trim();
        let address = address
            .strip_prefix('<')
            .and_then(|a| a.strip_suffix('>'))
            .unwrap_or(address)
            .trim();
        let (local, domain) = address.rsplit_once('@')?;
        if !domain.eq_ignore_ascii_case(&self.domain) {
            return None;
        }
        if local.len() < self.prefix.len() + self.suffix.len() {
            return None;
        }
        let head = local.get(..self.prefix.len())?;
        let tail = local.get(local.len() - self.suffix.len()..)?;
        if !head.eq_ignore_ascii_case(&self.prefix) || !tail.eq_ignore_ascii_case(&self.suffix) {
            return None;
        }
        let token = local.get(self.prefix.len()..local.len() - self.suffix.len())?;
        is_token(token).then(|| token.to_string())
    }
}

/// Whether `s` is a well-formed token: 20 to 64 characters of `[A-Za-z0-9_-]`.
pub fn is_token(s: &str) -> bool {
    (TOKEN_MIN_LEN..=TOKEN_MAX_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What a thread keeps from one incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The sender's address (first `From`), lowercased.
    pub from: Option<String>,
    /// The sender's display name, if given.
    pub from_name: Option<String>,
    /// Request tokens found in `To`, `Cc`, `Delivered-To`, `X-Original-To`
    /// and `Envelope-To`, in that order, each once.
    pub tokens: Vec<String>,
    /// `Message-ID`, without `<>`.
    pub message_id: Option<String>,
    /// `In-Reply-To` ids, without `<>`.
    pub in_reply_to: Vec<String>,
    /// `References` ids, without `<>`, oldest first as sent.
    pub references: Vec<String>,
    /// The subject, decoded, runs of spaces as one; empty when absent.
    pub subject: String,
    /// The new text only (see [`strip_reply`]).
    pub text: String,
    /// The accepted files, in the message's order.
    pub attachments: Vec<InboundFile>,
    /// An automatic message (a vacation reply, a delivery report, a
    /// mailing list): `Auto-Submitted` other than `no`, `Precedence` bulk,
    /// junk, list or auto_reply, or `X-Autoreply` / `X-Autorespond`. Its
    /// text and files are not read.
    pub automatic: bool,
}

/// Whether the headers mark a message as sent by a program rather than a
/// person (RFC 3834 and the headers common responders add).
fn is_automatic(message: &mail_parser::Message<'_>) -> bool {
    message.headers().iter().any(|h| {
        let value = h
            .value()
            .as_text()
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let name = h.name();
        (name.eq_ignore_ascii_case("Auto-Submitted") && value != "no" && !value.is_empty())
            || (name.eq_ignore_ascii_case("Precedence")
                && matches!(value.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
            || name.eq_ignore_ascii_case("X-Autoreply")
            || name.eq_ignore_ascii_case("X-Autorespond")
    })
}

/// An accepted file of an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundFile {
    /// The sender's name for it, made safe ([`safe_file_name`]).
    pub name: String,
    /// Its kind, from its first bytes.
    pub kind: FileKind,
    pub bytes: Vec<u8>,
}

/// Why an incoming message is refused. `Display` gives one line in French,
/// the reason sent back to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The raw message is larger than accepted.
    TooLarge { size: usize, max: usize },
    /// The input is not an e-mail message.
    NotAMessage,
    /// Neither text nor file once quotes and signature are removed.
    Empty,
    /// A file that is not a PDF, JPEG or PNG (by its content).
    RefusedType { name: String },
    /// More files than accepted.
    TooManyFiles { count: usize, max: usize },
    /// A file larger than accepted.
    FileTooLarge { name: String, size: u64, max: u64 },
    /// The files together are larger than accepted.
    TotalTooLarge { total: u64, max: u64 },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooLarge { size, max } => write!(
                f,
                "Le message est trop volumineux ({}, au plus {} acceptés).",
                size_fr(*size as u64),
                size_fr(*max as u64)
            ),
            Refusal::NotAMessage => write!(f, "Le contenu reçu n'est pas un courriel lisible."),
            Refusal::Empty => write!(
                f,
                "Le message ne contient ni texte nouveau ni pièce jointe."
            ),
            Refusal::RefusedType { name } => write!(
                f,
                "La pièce jointe « {name} » n'est pas acceptée : seuls les fichiers PDF, JPEG et PNG le sont."
            ),
            Refusal::TooManyFiles { count, max } => write!(
                f,
                "Le message a trop de pièces jointes ({count}, au plus {max} acceptées)."
            ),
            Refusal::FileTooLarge { name, size, max } => write!(
                f,
                "La pièce jointe « {name} » est trop volumineuse ({}, au plus {} acceptés).",
                size_fr(*size),
                size_fr(*max)
            ),
            Refusal::TotalTooLarge { total, max } => write!(
                f,
                "Les pièces jointes sont trop volumineuses ensemble ({}, au plus {} acceptés).",
                size_fr(*total),
                size_fr(*max)
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// A size in French units: "850 octets", "12 Ko", "10 Mo", "10,5 Mo"
/// (1 Ko = 1024 octets), rounded up so that a size just over a limit never
/// reads as the limit.
fn size_fr(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes < KIB {
        format!("{bytes} octets")
    } else if bytes < MIB {
        format!("{} Ko", bytes.div_ceil(KIB))
    } else {
        let tenths = (bytes * 10).div_ceil(MIB);
        if tenths.is_multiple_of(10) {
            format!("{} Mo", tenths / 10)
        } else {
            format!("{},{} Mo", tenths / 10, tenths % 10)
        }
    }
}

/// The headers a request token may be found in, in the order searched.
const ENVELOPE_HEADERS: [&str; 3] = ["Delivered-To", "X-Original-To", "Envelope-To"];

/// Reads one raw RFC 5322 message (`max_message_bytes` at most) into what a
/// thread keeps, or the reason it is refused.
pub fn parse(
    raw: &[u8],
    reply: &ReplyAddress,
    limits: &Limits,
    max_message_bytes: usize,
) -> Result<Inbound, Refusal> {
    if raw.len() > max_message_bytes {
        return Err(Refusal::TooLarge {
            size: raw.len(),
            max: max_message_bytes,
        });
    }
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(Refusal::NotAMessage)?;
    let looks_like_mail = message.from().is_some()
        || message.to().is_some()
        || message.message_id().is_some()
        || message.subject().is_some();
    if !looks_like_mail {
        return Err(Refusal::NotAMessage);
    }

    let sender = message.from().and_then(|a| a.first());
    let from = sender
        .and_then(|a| a.address())
        .map(|a| a.trim().to_lowercase())
        .filter(|a| !a.is_empty());
    let from_name = sender
        .and_then(|a| a.name())
        .map(one_line)
        .filter(|n| !n.is_empty());

    let mut tokens: Vec<String> = Vec::new();
    let mut add = |address: &str| {
        if let Some(token) = reply.token_in(address)
            && !tokens.contains(&token)
        {
            tokens.push(token);
        }
    };
    for list in message.all_to().chain(message.all_cc()) {
        for addr in list.iter() {
            if let Some(a) = addr.address() {
                add(a);
            }
        }
    }
    for name in ENVELOPE_HEADERS {
        for header in message.headers() {
            if header.name().eq_ignore_ascii_case(name)
                && let Some(value) = header.value().as_text()
            {
                for candidate in value.split([',', ';', ' ', '\t', '\r', '\n']) {
                    add(candidate);
                }
            }
        }
    }

    let message_id = message.message_id().map(str::to_string);
    let in_reply_to = ids(message.in_reply_to());
    let references = ids(message.references());
    let subject = message.subject().map(one_line).unwrap_or_default();
    if is_automatic(&message) {
        return Ok(Inbound {
            from,
            from_name,
            tokens,
            message_id,
            in_reply_to,
            references,
            subject,
            text: String::new(),
            attachments: Vec::new(),
            automatic: true,
        });
    }

    let html: Vec<&str> = message
        .html_bodies()
        .filter_map(|p| match &p.body {
            PartType::Html(h) => Some(h.as_ref()),
            _ => None,
        })
        .collect();
    let mut bodies: Vec<String> = Vec::new();
    for part in message.text_bodies() {
        let body = match &part.body {
            PartType::Text(t) => plain_text(part, t),
            PartType::Html(h) => html_to_text(h),
            _ => continue,
        };
        if !body.trim().is_empty() {
            bodies.push(body);
        }
    }
    let text = strip_reply(&bodies.join("\n\n"));

    let mut files: Vec<(&MessagePart, String)> = Vec::new();
    for part in message.attachments() {
        if is_html_decoration(part, &html) {
            continue;
        }
        let name = part.attachment_name().map(one_line).unwrap_or_default();
        files.push((part, name));
    }
    if files.len() > limits.max_files {
        return Err(Refusal::TooManyFiles {
            count: files.len(),
            max: limits.max_files,
        });
    }
    let mut attachments = Vec::with_capacity(files.len());
    let mut total: u64 = 0;
    for (part, name) in files {
        let shown = if name.is_empty() {
            "sans nom".to_string()
        } else {
            shown_name(&name)
        };
        let bytes = match &part.body {
            PartType::Binary(b) | PartType::InlineBinary(b) => b.as_ref(),
            _ => return Err(Refusal::RefusedType { name: shown }),
        };
        let size = bytes.len() as u64;
        if size > limits.max_file_bytes {
            return Err(Refusal::FileTooLarge {
                name: shown,
                size,
                max: limits.max_file_bytes,
            });
        }
        let Some(kind) = sniff(bytes) else {
            return Err(Refusal::RefusedType { name: shown });
        };
        total += size;
        if total > limits.max_total_bytes {
            return Err(Refusal::TotalTooLarge {
                total,
                max: limits.max_total_bytes,
            });
        }
        attachments.push(InboundFile {
            name: safe_file_name(&name, kind),
            kind,
            bytes: bytes.to_vec(),
        });
    }

    if text.is_empty() && attachments.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(Inbound {
        from,
        from_name,
        tokens,
        message_id,
        in_reply_to,
        references,
        subject,
        text,
        attachments,
        automatic: false,
    })
}

/// The ids of a `Message-ID`-like header, without `<>`.
fn ids(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Runs of whitespace (line breaks included) as one space, trimmed.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A sender's file name as shown in a refusal: one line, no control
/// characters, at most 80 characters.
fn shown_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let mut chars = clean.chars();
    let short: String = chars.by_ref().take(80).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else {
        short
    }
}

/// The body of a text part, `format=flowed` unwrapped, without the
/// `[cid:…]` lines that stand for the HTML version's images.
fn plain_text(part: &MessagePart, text: &str) -> String {
    let text = unflowed(part, text);
    if !text.contains("[cid:") {
        return text;
    }
    text.split('\n')
        .filter(|l| {
            let t = l.trim();
            !(t.starts_with("[cid:") && t.ends_with(']') && !t[1..].contains('['))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn unflowed(part: &MessagePart, text: &str) -> String {
    let ct = part.content_type();
    let flowed = ct
        .and_then(|c| c.attribute("format"))
        .is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
    if flowed {
        let delsp = ct
            .and_then(|c| c.attribute("delsp"))
            .is_some_and(|d| d.eq_ignore_ascii_case("yes"));
        text::unflow(text, delsp)
    } else {
        text.to_string()
    }
}

/// An image an HTML body shows by its `Content-ID` (a logo in a signature, an
/// icon) and that is not marked as an attachment: part of the HTML's
/// rendering, not a file the sender joined.
fn is_html_decoration(part: &MessagePart, html: &[&str]) -> bool {
    let Some(cid) = part.content_id() else {
        return false;
    };
    let attached = part
        .content_disposition()
        .is_some_and(|d| d.is_attachment());
    if attached || cid.is_empty() {
        return false;
    }
    let reference = format!("cid:{cid}");
    html.iter().any(|h| h.contains(&reference))
}

#[cfg(test)]
mod tests;
