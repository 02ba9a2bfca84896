//! Keeping only the new text of a reply: without the quoted message, the
//! attribution line that introduces it, the signature and the "sent from my
//! phone" trailers.

/// The new text of a reply.
///
/// Removes lines starting with `>`, and everything from the first of: an
/// attribution line ("Le 3 déc. 2026 à 10:12, Mairie <x@y> a écrit :", "On
/// Tue, … wrote:", possibly wrapped over two or three lines), an Outlook
/// separator ("-----Original Message-----", "----- Message d'origine -----", a
/// line of underscores followed by a "De :"/"From:" header block), a bare "De :
/// … Envoyé : … À : … Objet :" header block, a signature separator (`-- `),
/// a "Envoyé de mon iPhone"/"Sent from my iPhone"-style trailer. Trailing
/// spaces, blank lines at both ends and runs of blank lines are trimmed.
///
/// Never returns an empty string when the text has a line that is neither
/// blank nor quoted: when cutting leaves nothing (the reply was written below
/// the quote, or the text is only a signature), it keeps less away.
pub fn strip_reply(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();

    let cut = first_cut(&lines);
    let full = tidy(lines[..cut].iter().copied().filter(|l| !is_quoted(l)));
    if !full.is_empty() {
        return full;
    }
    // Written below the quote: drop quotes and attributions, cut only at a
    // signature or a trailer that follows some kept text.
    let mut kept = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_quoted(line) {
            i += 1;
            continue;
        }
        if let Some(n) = attribution_len(&lines[i..]) {
            i += n;
            continue;
        }
        if (is_signature_separator(line) || is_trailer(line))
            && kept.iter().any(|l: &&str| !l.trim().is_empty())
        {
            break;
        }
        kept.push(line);
        i += 1;
    }
    let below = tidy(kept.into_iter());
    if !below.is_empty() {
        return below;
    }
    tidy(lines.iter().copied().filter(|l| !is_quoted(l)))
}

/// The index of the first line of the quoted part or the signature
/// (`lines.len()` when there is none).
fn first_cut(lines: &[&str]) -> usize {
    (0..lines.len())
        .find(|&i| {
            let line = lines[i];
            is_signature_separator(line)
                || is_trailer(line)
                || is_original_message_separator(line)
                || attribution_len(&lines[i..]).is_some()
                || (is_underscore_rule(line) && header_block_follows(&lines[i + 1..]))
                || header_block_at(&lines[i..])
        })
        .unwrap_or(lines.len())
}

/// Joins the lines, without blank lines at both ends and with at most one
/// blank line in a row.
fn tidy<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in lines {
        let blank = line.trim().is_empty();
        if blank && out.last().is_none_or(|l: &&str| l.is_empty()) {
            continue;
        }
        out.push(if blank { "" } else { line });
    }
    while out.last() == Some(&"") {
        out.pop();
    }
    out.join("\n")
}

fn is_quoted(line: &str) -> bool {
    line.starts_with('>')
}

/// `-- ` (the standard separator; its trailing space is often lost).
fn is_signature_separator(line: &str) -> bool {
    line.trim_end() == "--"
}

/// Lowercase, with non-breaking spaces as plain spaces and runs of spaces as one.
fn normalize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for word in line
        .split(|c: char| c.is_whitespace() || c == '\u{A0}' || c == '\u{202F}')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word.to_lowercase());
    }
    out
}

/// "Envoyé de mon iPhone", "Sent from my Galaxy", "Envoyé depuis Outlook pour
/// Android", "Télécharger Outlook pour iOS" and the like.
fn is_trailer(line: &str) -> bool {
    let l = normalize(line);
    if l.len() > 80 {
        return false;
    }
    const PREFIXES: [&str; 10] = [
        "envoyé de mon ",
        "envoyé depuis mon ",
        "envoyé à partir de mon ",
        "envoyé de ",
        "envoyé depuis ",
        "sent from my ",
        "sent from ",
        "get outlook for ",
        "obtenir outlook pour ",
        "télécharger outlook pour ",
    ];
    let starts = PREFIXES.iter().any(|p| l.starts_with(p));
    // "Envoyé de …" alone is also how a person starts a sentence; only take
    // the short lines that name a device or a mail program.
    starts
        && (l.starts_with("envoyé de mon ")
            || l.starts_with("envoyé depuis mon ")
            || l.starts_with("envoyé à partir de mon ")
            || l.starts_with("sent from my ")
            || l.starts_with("get outlook for ")
            || l.starts_with("obtenir outlook pour ")
            || l.starts_with("télécharger outlook pour ")
            || MAIL_PROGRAMS.iter().any(|p| l.contains(p)))
}

const MAIL_PROGRAMS: [&str; 8] = [
    "outlook",
    "iphone",
    "ipad",
    "android",
    "samsung",
    "gmail",
    "yahoo",
    "mail pour windows",
];

/// "-----Original Message-----", "----- Message d'origine -----",
/// "-------- Message transféré --------" and the like.
fn is_original_message_separator(line: &str) -> bool {
    let t = line.trim();
    if !t.starts_with("---") || !t.ends_with("---") {
        return false;
    }
    let inner = normalize(t.trim_matches('-'));
    let inner = inner.replace('’', "'");
    matches!(
        inner.as_str(),
        "original message"
            | "message d'origine"
            | "message original"
            | "forwarded message"
            | "message transféré"
            | "mail original"
            | "courriel original"
    )
}

/// A line of at least ten underscores and nothing else.
fn is_underscore_rule(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 10 && t.chars().all(|c| c == '_')
}

/// A header block starts within the next two non-blank lines.
fn header_block_follows(lines: &[&str]) -> bool {
    let mut seen = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if header_field(line) == Some(Field::From) {
            return true;
        }
        seen += 1;
        if seen == 2 || i > 3 {
            break;
        }
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    From,
    Date,
    To,
    Subject,
}

/// The header field a line of a quoted header block starts with: "De :",
/// "Envoyé :", "À :", "Objet :" (also bold, `*De :*`, and in English).
fn header_field(line: &str) -> Option<Field> {
    let t = line.trim().trim_start_matches('*');
    let (name, _) = t.split_once(':')?;
    let name = normalize(name.trim_end_matches('*'));
    match name.as_str() {
        "de" | "from" | "expéditeur" => Some(Field::From),
        "envoyé" | "sent" | "date" | "envoyé le" => Some(Field::Date),
        "à" | "a" | "to" | "destinataire" | "destinataires" => Some(Field::To),
        "objet" | "subject" => Some(Field::Subject),
        _ => None,
    }
}

/// A "De : … Envoyé : … À : … Objet :" block starts at `lines[0]`: a "De :"
/// line followed, within the next six lines, by a date line and a subject
/// line.
fn header_block_at(lines: &[&str]) -> bool {
    if header_field(lines[0]) != Some(Field::From) {
        return false;
    }
    let next: Vec<Field> = lines[1..]
        .iter()
        .take(6)
        .filter_map(|l| header_field(l))
        .collect();
    next.contains(&Field::Date) && next.contains(&Field::Subject)
}

/// How many lines an attribution starting at `lines[0]` spans (one to three),
/// if it is one: starts with "Le " / "On ", ends with "a écrit :" / "wrote:",
/// and holds a digit (the date) or an address.
fn attribution_len(lines: &[&str]) -> Option<usize> {
    let first = normalize(lines.first()?);
    if !(first.starts_with("le ") || first.starts_with("on ")) {
        return None;
    }
    let mut joined = String::new();
    for (i, line) in lines.iter().take(3).enumerate() {
        if i > 0 && line.trim().is_empty() {
            return None;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(&normalize(line));
        if joined.len() > 400 {
            return None;
        }
        let ends = joined.ends_with("a écrit :")
            || joined.ends_with("a écrit:")
            || joined.ends_with("wrote:")
            || joined.ends_with("wrote :");
        if ends {
            let dated = joined.chars().any(|c| c.is_ascii_digit()) || joined.contains('@');
            return dated.then_some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_quoted_lines_and_trailing_blanks() {
        let text = "Merci, c'est noté.\n\n> Votre demande est enregistrée.\n> Cordialement\n\n\n";
        assert_eq!(strip_reply(text), "Merci, c'est noté.");
    }

    #[test]
    fn keeps_interleaved_answers() {
        let text = "> Quelle année ?\n1923\n\n> Quelle commune ?\nSaint-Malo\n";
        assert_eq!(strip_reply(text), "1923\n\nSaint-Malo");
    }

    #[test]
    fn cuts_at_a_french_attribution() {
        let text = "Bonjour,\nVoici la copie demandée.\n\nLe 3 déc. 2026 à 10:12, Mairie <x@y> a écrit :\nBonjour Madame,\nNous avons bien reçu…\n";
        assert_eq!(strip_reply(text), "Bonjour,\nVoici la copie demandée.");
    }

    #[test]
    fn cuts_at_an_attribution_wrapped_over_two_lines() {
        let text = "Très bien, merci.\r\n\r\nLe mer. 3 déc. 2026 à 10:12, Archives départementales d'Ille-et-Vilaine <\r\narchives@ille-et-vilaine.example> a\u{A0}écrit\u{A0}:\r\n\r\n> Bonjour\r\n";
        assert_eq!(strip_reply(text), "Très bien, merci.");
    }

    #[test]
    fn cuts_at_an_english_attribution() {
        let text = "Thanks!\n\nOn Tue, Dec 3, 2026 at 10:12 AM Mairie <x@y.fr> wrote:\n> Hello\n";
        assert_eq!(strip_reply(text), "Thanks!");
    }

    #[test]
    fn an_attribution_needs_a_date_or_an_address() {
        let text = "Le maire m'a répondu, voici ce qu'il a écrit :\nvenez lundi.\n";
        assert_eq!(
            strip_reply(text),
            "Le maire m'a répondu, voici ce qu'il a écrit :\nvenez lundi."
        );
    }

    #[test]
    fn cuts_at_outlook_separators() {
        let text =
            "Ci-joint le document.\n\n-----Original Message-----\nFrom: Mairie\nSent: Tuesday\n";
        assert_eq!(strip_reply(text), "Ci-joint le document.");
        let text = "Ci-joint le document.\n\n----- Message d'origine -----\nDe : Mairie\n";
        assert_eq!(strip_reply(text), "Ci-joint le document.");
        let text =
            "Ci-joint.\n\n________________________________\nDe : Mairie <m@x.fr>\nEnvoyé : mardi\n";
        assert_eq!(strip_reply(text), "Ci-joint.");
    }

    #[test]
    fn a_rule_of_underscores_alone_is_kept() {
        let text = "Nom : ________________\nPrénom : Jeanne\n";
        assert_eq!(strip_reply(text), "Nom : ________________\nPrénom : Jeanne");
        let text = "Réponse\n\n__________\nmerci\n";
        assert_eq!(strip_reply(text), "Réponse\n\n__________\nmerci");
    }

    #[test]
    fn cuts_at_a_bare_header_block() {
        let text = "Bien reçu.\n\nDe : Mairie de Rennes <mairie@rennes.example>\nEnvoyé : mardi 3 décembre 2026 10:12\nÀ : Jeanne Martin\nObjet : Votre demande\n\nBonjour\n";
        assert_eq!(strip_reply(text), "Bien reçu.");
        let text = "OK\n\n*From:* Mairie\n*Sent:* Tuesday\n*To:* Jeanne\n*Subject:* Re: demande\n";
        assert_eq!(strip_reply(text), "OK");
    }

    #[test]
    fn a_from_line_alone_is_kept() {
        let text = "De : Jeanne Martin, petite-fille du défunt.\nMerci.\n";
        assert_eq!(
            strip_reply(text),
            "De : Jeanne Martin, petite-fille du défunt.\nMerci."
        );
    }

    #[test]
    fn cuts_at_a_signature_and_trailers() {
        let text = "Merci beaucoup.\n-- \nJeanne Martin\n06 00 00 00 00\n";
        assert_eq!(strip_reply(text), "Merci beaucoup.");
        let text = "Merci beaucoup.\n\nEnvoyé de mon iPhone\n\n> Le message d'origine\n";
        assert_eq!(strip_reply(text), "Merci beaucoup.");
        let text = "Thanks\n\nSent from my Galaxy\n";
        assert_eq!(strip_reply(text), "Thanks");
        let text = "D'accord.\n\nObtenir Outlook pour Android\n";
        assert_eq!(strip_reply(text), "D'accord.");
    }

    #[test]
    fn a_sentence_starting_like_a_trailer_is_kept() {
        let text = "Envoyé de Rennes par courrier le 2 décembre.\nMerci.";
        assert_eq!(strip_reply(text), text);
    }

    #[test]
    fn never_empty_when_written_below_the_quote() {
        let text = "Le 3 déc. 2026 à 10:12, Mairie <x@y> a écrit :\n> Quelle année ?\n\n1923, à Brest.\n-- \nJeanne\n";
        assert_eq!(strip_reply(text), "1923, à Brest.");
    }

    #[test]
    fn never_empty_for_a_signature_only() {
        assert_eq!(strip_reply("-- \nJeanne Martin\n"), "--\nJeanne Martin");
        assert_eq!(strip_reply("Envoyé de mon iPhone"), "Envoyé de mon iPhone");
    }

    #[test]
    fn empty_when_there_is_only_a_quote() {
        assert_eq!(strip_reply("> tout est cité\n>\n\n"), "");
        assert_eq!(strip_reply(""), "");
        assert_eq!(strip_reply("\n \n"), "");
    }
}
