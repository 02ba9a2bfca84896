//! Messages as mail programs send them, written by hand in `testdata/`.

use super::*;
use crate::filetype::{FileKind, Limits};

const TOKEN_A: &str = "Xq3vR8kLm2Tz9wPa4BnC7d";
const TOKEN_B: &str = "r7_Kp2-Qw9Zx4Vb6Nm1Ls8";
const MAX: usize = 25 * 1024 * 1024;

/// The PDF carried (base64) by `pdf-attachment.eml` and `fake-pdf.eml`.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

fn reply() -> ReplyAddress {
    ReplyAddress::parse("demande+{token}@locadocs.example.org").unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/src/inbound/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str) -> Inbound {
    parse(&fixture(name), &reply(), &Limits::default(), MAX)
        .unwrap_or_else(|r| panic!("{name} refused: {r}"))
}

fn refusal(raw: &[u8], limits: &Limits, max: usize) -> Refusal {
    match parse(raw, &reply(), limits, max) {
        Ok(m) => panic!("accepted: {m:?}"),
        Err(r) => r,
    }
}

// ---- reply addresses ------------------------------------------------------

#[test]
fn reply_address_round_trips() {
    let r = reply();
    let address = r.address(TOKEN_A);
    assert_eq!(address, format!("demande+{TOKEN_A}@locadocs.example.org"));
    assert_eq!(r.token_in(&address).as_deref(), Some(TOKEN_A));
    assert_eq!(
        r.token_in(&format!("<{address}>")).as_deref(),
        Some(TOKEN_A)
    );
}

#[test]
fn reply_address_ignores_case_except_in_the_token() {
    let r = reply();
    let found = r.token_in(&format!("DEMANDE+{TOKEN_B}@LocaDocs.Example.ORG"));
    assert_eq!(found.as_deref(), Some(TOKEN_B));
    // The token is kept exactly as written.
    let lower = TOKEN_A.to_lowercase();
    assert_eq!(
        r.token_in(&format!("demande+{lower}@locadocs.example.org")),
        Some(lower)
    );
}

#[test]
fn reply_address_refuses_other_addresses_and_bad_tokens() {
    let r = reply();
    for address in [
        format!("demande+{TOKEN_A}@locadocs.example.com"),
        format!("demande+{TOKEN_A}@sub.locadocs.example.org"),
        format!("demandes+{TOKEN_A}@locadocs.example.org"),
        format!("{TOKEN_A}@locadocs.example.org"),
        "demande+@locadocs.example.org".to_string(),
        "demande+short@locadocs.example.org".to_string(),
        format!("demande+{}@locadocs.example.org", "a".repeat(65)),
        format!("demande+{}@locadocs.example.org", &TOKEN_A[..19]),
        "demande+Xq3vR8kLm2Tz9wPa4Bn.C7d@locadocs.example.org".to_string(),
        "demande+Xq3vR8kLm2Tz9wPa4BnC7dé@locadocs.example.org".to_string(),
        "contact@locadocs.example.org".to_string(),
        "not an address".to_string(),
    ] {
        assert_eq!(r.token_in(&address), None, "{address}");
    }
    assert_eq!(
        r.token_in(&format!("demande+{}@locadocs.example.org", "a".repeat(20))),
        Some("a".repeat(20))
    );
    assert_eq!(
        r.token_in(&format!(
            "demande+{}@locadocs.example.org",
            "-_9".repeat(21) + "z"
        )),
        Some("-_9".repeat(21) + "z")
    );
}

#[test]
fn reply_address_with_a_suffix() {
    let r = ReplyAddress::parse(" r-{token}-locadocs@mail.example.fr ").unwrap();
    assert_eq!(
        r.address(TOKEN_B),
        format!("r-{TOKEN_B}-locadocs@mail.example.fr")
    );
    assert_eq!(
        r.token_in(&format!("R-{TOKEN_B}-LocaDocs@MAIL.example.fr"))
            .as_deref(),
        Some(TOKEN_B)
    );
    assert_eq!(r.token_in(&format!("r-{TOKEN_B}@mail.example.fr")), None);
}

#[test]
fn reply_address_templates_are_checked() {
    let err = |t: &str| ReplyAddress::parse(t).unwrap_err();
    assert!(err("demande@locadocs.example.org").contains("exactement une fois"));
    assert!(err("{token}+{token}@locadocs.example.org").contains("trouvé 2 fois"));
    assert!(err("demande+{token}").contains("pas de domaine"));
    assert!(err("demande+{token}@").contains("pas de domaine"));
    assert!(err("demande@{token}.example.org").contains("pas dans le domaine"));
    assert!(err("demande+{token}@exa mple.org").contains("domaine invalide"));
    assert!(err("de mande+{token}@example.org").contains("caractère interdit"));
    assert!(err("demande+{tok}{token}@example.org").contains("caractère interdit"));
    // One line, in French, naming the template.
    let e = err("demande@locadocs.example.org");
    assert!(e.starts_with("l'adresse de réponse « demande@locadocs.example.org »"));
    assert!(!e.contains('\n'));
}

// ---- messages ---------------------------------------------------------------

#[test]
fn multipart_alternative_uses_the_plain_text() {
    let m = read("alternative.eml");
    assert_eq!(m.from.as_deref(), Some("jeanne.martin@gmail.example"));
    assert_eq!(m.from_name.as_deref(), Some("Jeanne Martin"));
    // Found in To and in Delivered-To, kept once.
    assert_eq!(m.tokens, [TOKEN_A]);
    assert_eq!(
        m.message_id.as_deref(),
        Some("CAHx8nZq2kP=Y0v1Jm3sQw@mail.gmail.example")
    );
    assert_eq!(m.in_reply_to, ["req-41.1764690000@locadocs.example.org"]);
    assert_eq!(m.references, ["req-41.1764690000@locadocs.example.org"]);
    assert_eq!(m.subject, "Re: Votre demande d’acte de naissance");
    // The plain part's own line break ("et non" / "à Dinard") shows which
    // part was read; the wrapped Gmail attribution and the quote are gone.
    assert_eq!(
        m.text,
        "Bonjour,\n\n\
         Je vous confirme que mon grand-père est né à Saint-Malo en 1923, et non\n\
         à Dinard comme je l'avais écrit.\n\n\
         Bien cordialement,\n\
         Jeanne Martin"
    );
    assert!(m.attachments.is_empty());
}

#[test]
fn the_html_alternative_gives_the_same_words() {
    let raw = fixture("alternative.eml");
    let message = MessageParser::default().parse(&raw).unwrap();
    let html = message.body_html(0).unwrap();
    assert_eq!(
        strip_reply(&html_to_text(&html)),
        "Bonjour,\n\n\
         Je vous confirme que mon grand-père est né à Saint-Malo en 1923, et non à Dinard comme je l'avais écrit.\n\n\
         Bien cordialement,\n\
         Jeanne Martin"
    );
}

#[test]
fn quoted_printable_utf8_keeps_accents() {
    let m = read("qp-utf8.eml");
    assert_eq!(m.from.as_deref(), Some("francois.leboeuf@laposte.example"));
    assert_eq!(m.from_name.as_deref(), Some("François Lebœuf"));
    // The domain's case differs from the template's.
    assert_eq!(m.tokens, [TOKEN_B]);
    assert_eq!(m.subject, "Acte de décès – Léonie Hervé");
    assert_eq!(
        m.message_id.as_deref(),
        Some("20261203090211.7f3a@laposte.example")
    );
    assert!(m.in_reply_to.is_empty() && m.references.is_empty());
    assert_eq!(
        m.text,
        "Madame, Monsieur,\n\n\
         Je souhaite obtenir la copie intégrale de l'acte de décès de mon arrière-grand-mère, \
         Léonie Hervé, décédée à Fougères (Ille-et-Vilaine) le 14 février 1952. \
         Je joindrai mon livret de famille si nécessaire.\n\n\
         Avec mes remerciements,\n\
         François Lebœuf"
    );
}

#[test]
fn windows_1252_quoted_printable() {
    let m = read("windows-1252.eml");
    assert_eq!(m.from_name.as_deref(), Some("Mairie de Cesson-Sévigné"));
    assert_eq!(m.subject, "Réponse à votre demande");
    assert_eq!(m.tokens, [TOKEN_A]);
    // €, œ and ’ exist in Windows-1252, not in ISO-8859-1.
    assert_eq!(
        m.text,
        "Bonjour,\n\n\
         Le dossier coûte 15 € ; l'œuvre de l'abbé est déjà numérisée.\n\
         C’est noté pour vendredi.\n\n\
         Cordialement"
    );
}

#[test]
fn windows_1252_and_latin1_eight_bit() {
    for charset in ["windows-1252", "ISO-8859-1"] {
        let mut raw = format!(
            "From: mairie@example.fr\r\nTo: demande+{TOKEN_A}@locadocs.example.org\r\n\
             Subject: =?windows-1252?Q?Pi=E8ce_re=E7ue?=\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        )
        .into_bytes();
        raw.extend_from_slice(b"Re\xe7u, l'\x9cuvre co\xfbte 15 \x80.\r\n");
        let m = parse(&raw, &reply(), &Limits::default(), MAX).unwrap();
        assert_eq!(m.subject, "Pièce reçue");
        assert_eq!(m.text, "Reçu, l'œuvre coûte 15 €.", "{charset}");
    }
}

#[test]
fn outlook_reply_without_its_header_block_and_logo() {
    let m = read("outlook-reply.eml");
    assert_eq!(m.from.as_deref(), Some("etat-civil@saint-malo.example"));
    assert_eq!(
        m.from_name.as_deref(),
        Some("Mairie de Saint-Malo - État civil")
    );
    assert_eq!(m.tokens, [TOKEN_A]);
    assert_eq!(m.subject, "RE: Votre demande d’acte de naissance");
    assert_eq!(
        m.message_id.as_deref(),
        Some("PAXPR09MB5231C4E0A1B2C3D4E5F6A7B8C9@PAXPR09MB5231.eurprd09.prod.outlook.example")
    );
    assert_eq!(m.in_reply_to, ["CAHx8nZq2kP=Y0v1Jm3sQw@mail.gmail.example"]);
    assert_eq!(
        m.references,
        [
            "req-41.1764690000@locadocs.example.org",
            "CAHx8nZq2kP=Y0v1Jm3sQw@mail.gmail.example"
        ]
    );
    assert_eq!(
        m.text,
        "Bonjour Madame Martin,\n\n\
         Nous avons retrouvé l'acte dans le registre de 1923. Vous le recevrez par courrier sous huit jours.\n\n\
         Bien cordialement,\n\n\
         Service de l'état civil"
    );
    // The signature logo the HTML shows by its Content-ID is not a file the
    // sender joined.
    assert!(m.attachments.is_empty());
}

#[test]
fn outlook_html_version_also_loses_its_header_block() {
    let raw = fixture("outlook-reply.eml");
    let message = MessageParser::default().parse(&raw).unwrap();
    let html = message.body_html(0).unwrap();
    assert_eq!(
        strip_reply(&html_to_text(&html)),
        "Bonjour Madame Martin,\n\n\
         Nous avons retrouvé l’acte dans le registre de 1923. Vous le recevrez par courrier sous huit jours."
    );
}

#[test]
fn an_image_joined_as_an_attachment_is_kept() {
    let raw = String::from_utf8(fixture("outlook-reply.eml")).unwrap();
    let id = "Content-ID: <image001.png@01DB4512.6C8E3F10>";
    assert!(raw.contains(id));
    // The same image, not the one the HTML shows: a file the sender joined.
    let other = raw.replace(id, "Content-ID: <scan-1@example.fr>");
    // The one the HTML shows, but marked as an attachment.
    let attached = raw.replace(
        "Content-Disposition: inline; filename=\"image001.png\"",
        "Content-Disposition: attachment; filename=\"image001.png\"",
    );
    assert_ne!(attached, raw);
    for raw in [other, attached] {
        let m = parse(raw.as_bytes(), &reply(), &Limits::default(), MAX).unwrap();
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name, "image001.png");
        assert_eq!(m.attachments[0].kind, FileKind::Png);
        assert_eq!(m.attachments[0].bytes.len(), 69);
    }
}

#[test]
fn apple_reply_without_trailer_and_quote() {
    let m = read("apple-reply.eml");
    assert_eq!(m.from.as_deref(), Some("jeanne.martin@icloud.example"));
    assert_eq!(m.tokens, [TOKEN_A]);
    assert_eq!(m.subject, "Re: Votre demande d’acte de naissance");
    assert_eq!(
        m.message_id.as_deref(),
        Some("6B1E2F50-3C2D-4A8B-9F11-22D3C4B5A697@icloud.example")
    );
    assert_eq!(
        m.in_reply_to,
        ["PAXPR09MB5231C4E0A1B2C3D4E5F6A7B8C9@PAXPR09MB5231.eurprd09.prod.outlook.example"]
    );
    assert_eq!(m.references.len(), 2);
    assert_eq!(m.text, "D’accord, je passerai le chercher jeudi matin.");
}

#[test]
fn pdf_attachment_is_kept_with_a_safe_name() {
    let m = read("pdf-attachment.eml");
    assert_eq!(m.from.as_deref(), Some("leonie.herve@orange.example"));
    assert_eq!(m.from_name.as_deref(), Some("Léonie Hervé"));
    // Cc holds no token.
    assert_eq!(m.tokens, [TOKEN_B]);
    assert_eq!(m.subject, "Pièce demandée");
    // The signature after "-- " is gone.
    assert_eq!(
        m.text,
        "Bonjour,\n\nVoici la copie de mon livret de famille."
    );
    assert_eq!(m.attachments.len(), 1);
    let file = &m.attachments[0];
    // The RFC 2231 name wins over Content-Type's; its dash becomes a hyphen.
    assert_eq!(file.name, "Livret de famille - Hervé.pdf");
    assert_eq!(file.kind, FileKind::Pdf);
    assert_eq!(file.bytes, PDF);
}

#[test]
fn an_executable_named_pdf_is_refused() {
    let r = refusal(&fixture("fake-pdf.eml"), &Limits::default(), MAX);
    assert_eq!(
        r,
        Refusal::RefusedType {
            name: "facture.pdf".into()
        }
    );
    assert_eq!(
        r.to_string(),
        "La pièce jointe « facture.pdf » n'est pas acceptée : seuls les fichiers PDF, JPEG et PNG le sont."
    );
}

#[test]
fn a_reply_found_only_by_its_threading_headers() {
    let m = read("in-reply-to.eml");
    assert!(m.tokens.is_empty(), "{:?}", m.tokens);
    assert_eq!(m.from.as_deref(), Some("jeanne.martin@gmail.example"));
    assert_eq!(m.from_name, None);
    assert_eq!(
        m.message_id.as_deref(),
        Some("CAHx8nZq9@mail.gmail.example")
    );
    assert_eq!(m.in_reply_to, ["req-41.1764690000@locadocs.example.org"]);
    assert_eq!(
        m.references,
        [
            "req-41.1764690000@locadocs.example.org",
            "req-41-2.1764750000@locadocs.example.org"
        ]
    );
    assert_eq!(m.text, "Merci, c'est parfait.");
}

#[test]
fn html_only_message_becomes_text() {
    let m = read("html-only.eml");
    assert_eq!(m.tokens, [TOKEN_A]);
    assert_eq!(m.text, "Bonjour,\nje joins l’acte demain.\nJean Hervé");
}

#[test]
fn tokens_from_envelope_headers_and_cc() {
    let raw = format!(
        "From: a@example.fr\r\nTo: mairie@example.fr\r\n\
         Cc: \"Suivi\" <demande+{TOKEN_B}@locadocs.example.org>, autre@example.fr\r\n\
         X-Original-To: demande+{TOKEN_A}@locadocs.example.org\r\n\
         Envelope-To: x@example.fr, demande+{TOKEN_B}@locadocs.example.org\r\n\
         Subject: t\r\n\r\nBonjour\r\n"
    );
    let m = parse(raw.as_bytes(), &reply(), &Limits::default(), MAX).unwrap();
    assert_eq!(m.tokens, [TOKEN_B, TOKEN_A]);
}

// ---- refusals ---------------------------------------------------------------

#[test]
fn an_oversized_message_is_refused_before_reading() {
    let raw = fixture("qp-utf8.eml");
    let r = refusal(&raw, &Limits::default(), 500);
    assert_eq!(
        r,
        Refusal::TooLarge {
            size: raw.len(),
            max: 500
        }
    );
    assert_eq!(
        r.to_string(),
        format!(
            "Le message est trop volumineux ({} octets, au plus 500 octets acceptés).",
            raw.len()
        )
    );
    // Exactly at the limit is accepted.
    assert!(parse(&raw, &reply(), &Limits::default(), raw.len()).is_ok());
}

#[test]
fn an_oversized_attachment_is_refused() {
    // A PDF of 10 MiB and one byte, against the default limit.
    let mut pdf = PDF.to_vec();
    pdf.resize(10 * 1024 * 1024 + 1, b' ');
    let raw = with_files(&[("gros.pdf", &pdf)]);
    let r = refusal(&raw, &Limits::default(), MAX);
    assert_eq!(
        r,
        Refusal::FileTooLarge {
            name: "gros.pdf".into(),
            size: 10 * 1024 * 1024 + 1,
            max: 10 * 1024 * 1024
        }
    );
    assert_eq!(
        r.to_string(),
        "La pièce jointe « gros.pdf » est trop volumineuse (10,1 Mo, au plus 10 Mo acceptés)."
    );
}

#[test]
fn too_many_or_too_heavy_attachments_are_refused() {
    let raw = with_files(&[("a.pdf", PDF), ("b.pdf", PDF), ("c.pdf", PDF)]);
    let few = Limits {
        max_files: 2,
        ..Limits::default()
    };
    let r = refusal(&raw, &few, MAX);
    assert_eq!(r, Refusal::TooManyFiles { count: 3, max: 2 });
    assert_eq!(
        r.to_string(),
        "Le message a trop de pièces jointes (3, au plus 2 acceptées)."
    );
    let light = Limits {
        max_total_bytes: 2 * PDF.len() as u64 + 1,
        ..Limits::default()
    };
    let r = refusal(&raw, &light, MAX);
    assert_eq!(
        r,
        Refusal::TotalTooLarge {
            total: 3 * PDF.len() as u64,
            max: 2 * PDF.len() as u64 + 1
        }
    );
    assert_eq!(
        r.to_string(),
        "Les pièces jointes sont trop volumineuses ensemble (426 octets, au plus 285 octets acceptés)."
    );
    let m = parse(&raw, &reply(), &Limits::default(), MAX).unwrap();
    let names: Vec<_> = m.attachments.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.pdf", "b.pdf", "c.pdf"]);
}

#[test]
fn a_message_with_only_a_quote_is_refused() {
    let raw = format!(
        "From: a@example.fr\nTo: demande+{TOKEN_A}@locadocs.example.org\nSubject: Re: x\n\n> tout est cité\n>\n"
    );
    let r = refusal(raw.as_bytes(), &Limits::default(), MAX);
    assert_eq!(r, Refusal::Empty);
    assert_eq!(
        r.to_string(),
        "Le message ne contient ni texte nouveau ni pièce jointe."
    );
}

#[test]
fn a_file_alone_is_enough() {
    let raw = with_files(&[("scan", PDF)]);
    let raw = String::from_utf8(raw)
        .unwrap()
        .replace("Voir pièces jointes.", "");
    let m = parse(raw.as_bytes(), &reply(), &Limits::default(), MAX).unwrap();
    assert_eq!(m.text, "");
    assert_eq!(m.attachments[0].name, "scan.pdf");
}

#[test]
fn what_is_not_a_message_is_refused() {
    for raw in [
        &b""[..],
        b"\x00\x01\x02\xff binary",
        b"juste du texte, sans en-tetes\n",
        b"\r\n\r\n",
    ] {
        let r = refusal(raw, &Limits::default(), MAX);
        assert_eq!(r, Refusal::NotAMessage, "{raw:?}");
        assert_eq!(
            r.to_string(),
            "Le contenu reçu n'est pas un courriel lisible."
        );
    }
}

#[test]
fn truncated_messages_never_panic() {
    let names = [
        "alternative.eml",
        "qp-utf8.eml",
        "windows-1252.eml",
        "outlook-reply.eml",
        "apple-reply.eml",
        "pdf-attachment.eml",
        "fake-pdf.eml",
        "in-reply-to.eml",
        "html-only.eml",
    ];
    for name in names {
        let raw = fixture(name);
        for end in (0..raw.len()).step_by(7) {
            // Accepted or refused, but an answer.
            let _ = parse(&raw[..end], &reply(), &Limits::default(), MAX);
        }
    }
}

#[test]
fn refusals_are_one_line() {
    let all = [
        Refusal::TooLarge {
            size: 30_000_000,
            max: MAX,
        },
        Refusal::NotAMessage,
        Refusal::Empty,
        Refusal::RefusedType {
            name: shown_name("a\nb\u{202E}.exe"),
        },
        Refusal::TooManyFiles { count: 6, max: 5 },
        Refusal::FileTooLarge {
            name: "x.pdf".into(),
            size: 2048,
            max: 1024,
        },
        Refusal::TotalTooLarge {
            total: 21 * 1024 * 1024,
            max: 20 * 1024 * 1024,
        },
    ];
    for r in all {
        let s = r.to_string();
        assert!(!s.contains('\n') && !s.contains('\r'), "{s}");
        assert!(s.ends_with('.'), "{s}");
    }
    assert_eq!(shown_name("a\nb\u{202E}.exe"), "ab.exe");
    assert_eq!(size_fr(30_000_000), "28,7 Mo");
    assert_eq!(size_fr(2048), "2 Ko");
    assert_eq!(size_fr(2049), "3 Ko");
}

/// A message with a line of text and these files, base64.
fn with_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    use base64::Engine;
    let mut raw = format!(
        "From: Paul <paul@example.net>\r\nTo: demande+{TOKEN_A}@locadocs.example.org\r\n\
         Subject: Documents\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n\
         --sep\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Voir pièces jointes.\r\n"
    );
    for (name, bytes) in files {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        raw.push_str(&format!(
            "--sep\r\nContent-Type: application/pdf\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n"
        ));
        for line in b64.as_bytes().chunks(76) {
            raw.push_str(std::str::from_utf8(line).unwrap());
            raw.push_str("\r\n");
        }
    }
    raw.push_str("--sep--\r\n");
    raw.into_bytes()
}
