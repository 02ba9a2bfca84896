//! The kinds of file a request thread accepts, recognised from their first
//! bytes (never from a name or a declared type), the limits on them, and the
//! names they are stored under.

/// A kind of file accepted in a request thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
}

/// The 8-byte signature every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// The longest name [`safe_file_name`] returns, in characters, extension included.
pub const MAX_NAME_CHARS: usize = 100;

impl FileKind {
    /// Every accepted kind.
    pub const ALL: [FileKind; 3] = [FileKind::Pdf, FileKind::Jpeg, FileKind::Png];

    /// The media type, for `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
        }
    }

    /// The extension stored names end with, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
        }
    }

    /// The name shown to people ("PDF", "JPEG", "PNG").
    pub fn label(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF",
            FileKind::Jpeg => "JPEG",
            FileKind::Png => "PNG",
        }
    }

    /// Extensions people give files of this kind, lowercase, without the dot.
    fn known_extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            FileKind::Png => &["png"],
        }
    }
}

/// The kind of a file from its first bytes: `%PDF-` for PDF, `FF D8 FF` for
/// JPEG, the 8-byte signature for PNG. `None` for anything else.
pub fn sniff(head: &[u8]) -> Option<FileKind> {
    if head.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if head.starts_with(&PNG_SIGNATURE) {
        Some(FileKind::Png)
    } else {
        None
    }
}

/// Limits on the files of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest file, in bytes.
    pub max_file_bytes: u64,
    /// The most files.
    pub max_files: usize,
    /// The largest sum of the files' sizes, in bytes.
    pub max_total_bytes: u64,
}

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    /// 10 MiB per file, 5 files, 20 MiB in all.
    fn default() -> Self {
        Limits {
            max_file_bytes: 10 * MIB,
            max_files: 5,
            max_total_bytes: 20 * MIB,
        }
    }
}

/// A name safe to store and to offer for download, from the name a sender
/// gave (`name`) and the kind the bytes turned out to be.
///
/// Keeps letters (accented ones too), digits, `-`, `_`, `.` and spaces (dashes
/// become `-`, other spaces ` `, runs of spaces one); drops
/// any folder part and control characters; turns other characters into `_`;
/// never starts with a dot; at most [`MAX_NAME_CHARS`] characters; always ends
/// with the kind's extension (a known extension of the kind, or of another
/// accepted kind, is replaced). Falls back to `piece-jointe.<ext>`.
pub fn safe_file_name(name: &str, kind: FileKind) -> String {
    // The last path component, whichever separator the sender's system uses.
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut cleaned = String::with_capacity(base.len());
    let mut last_space = true;
    for c in base.chars() {
        if c.is_control() {
            continue;
        }
        let c = if c.is_whitespace() {
            ' '
        } else if matches!(c, '\u{2010}'..='\u{2015}') {
            // Hyphens and dashes.
            '-'
        } else if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') || is_combining_mark(c) {
            c
        } else {
            '_'
        };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        cleaned.push(c);
    }
    let cleaned = cleaned.trim_start_matches(' ').trim_end_matches([' ', '.']);
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, ext))
            if FileKind::ALL
                .iter()
                .any(|k| k.known_extensions().contains(&ext.to_lowercase().as_str())) =>
        {
            stem
        }
        _ => cleaned,
    };
    let stem = stem.trim_matches(|c: char| c == ' ' || c == '.');
    let ext = kind.extension();
    let room = MAX_NAME_CHARS - ext.len() - 1;
    let stem: String = stem.chars().take(room).collect();
    let stem = stem.trim_end_matches([' ', '.']);
    if stem.chars().all(|c| c == '_' || c == '-') {
        return format!("piece-jointe.{ext}");
    }
    format!("{stem}.{ext}")
}

/// Combining diacritical marks, so that a name written in decomposed form
/// (`e` followed by U+0301) keeps its accents.
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes_only() {
        assert_eq!(sniff(b"%PDF-1.4\n%\xE2\xE3"), Some(FileKind::Pdf));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(FileKind::Jpeg)
        );
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n', 0, 0]),
            Some(FileKind::Png)
        );
        // An executable, whatever it is called.
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00"), None);
        // Truncated or nearly right signatures.
        assert_eq!(sniff(b"%PDF"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
        assert_eq!(sniff(&PNG_SIGNATURE[..7]), None);
        assert_eq!(sniff(b" %PDF-1.4"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn kinds_describe_themselves() {
        assert_eq!(FileKind::Pdf.mime(), "application/pdf");
        assert_eq!(FileKind::Jpeg.mime(), "image/jpeg");
        assert_eq!(FileKind::Png.mime(), "image/png");
        let exts: Vec<_> = FileKind::ALL.iter().map(|k| k.extension()).collect();
        assert_eq!(exts, ["pdf", "jpg", "png"]);
        let labels: Vec<_> = FileKind::ALL.iter().map(|k| k.label()).collect();
        assert_eq!(labels, ["PDF", "JPEG", "PNG"]);
    }

    #[test]
    fn default_limits() {
        let l = Limits::default();
        assert_eq!(l.max_file_bytes, 10_485_760);
        assert_eq!(l.max_files, 5);
        assert_eq!(l.max_total_bytes, 20_971_520);
    }

    #[test]
    fn names_keep_accents_and_lose_paths() {
        assert_eq!(
            safe_file_name("Acte de décès Élise.pdf", FileKind::Pdf),
            "Acte de décès Élise.pdf"
        );
        assert_eq!(
            safe_file_name(
                "C:\\Users\\jean\\Documents\\état-civil_1890.PDF",
                FileKind::Pdf
            ),
            "état-civil_1890.pdf"
        );
        assert_eq!(
            safe_file_name("../../etc/passwd", FileKind::Pdf),
            "passwd.pdf"
        );
        // Decomposed accents stay.
        assert_eq!(
            safe_file_name("Re\u{301}ponse.png", FileKind::Png),
            "Re\u{301}ponse.png"
        );
    }

    #[test]
    fn names_lose_control_and_odd_characters() {
        assert_eq!(
            safe_file_name("plan\u{0}\r\n cadastral\t.jpg", FileKind::Jpeg),
            "plan cadastral.jpg"
        );
        assert_eq!(
            safe_file_name("demande d'acte <2026>?.pdf", FileKind::Pdf),
            "demande d_acte _2026__.pdf"
        );
        assert_eq!(safe_file_name(".htaccess", FileKind::Pdf), "htaccess.pdf");
        // A right-to-left override cannot disguise the extension.
        assert_eq!(
            safe_file_name("facture\u{202E}fdp.exe", FileKind::Pdf),
            "facture_fdp.exe.pdf"
        );
    }

    #[test]
    fn names_turn_dashes_into_hyphens() {
        assert_eq!(
            safe_file_name("Livret de famille – Hervé.pdf", FileKind::Pdf),
            "Livret de famille - Hervé.pdf"
        );
    }

    #[test]
    fn names_get_the_sniffed_extension() {
        assert_eq!(safe_file_name("photo.PNG", FileKind::Jpeg), "photo.jpg");
        assert_eq!(safe_file_name("scan.jpeg", FileKind::Jpeg), "scan.jpg");
        assert_eq!(safe_file_name("scan.exe", FileKind::Pdf), "scan.exe.pdf");
        assert_eq!(safe_file_name("registre", FileKind::Png), "registre.png");
        assert_eq!(
            safe_file_name("acte.naissance.1890", FileKind::Pdf),
            "acte.naissance.1890.pdf"
        );
    }

    #[test]
    fn names_fall_back() {
        assert_eq!(safe_file_name("", FileKind::Pdf), "piece-jointe.pdf");
        assert_eq!(safe_file_name("   ", FileKind::Jpeg), "piece-jointe.jpg");
        assert_eq!(
            safe_file_name("dossier/", FileKind::Png),
            "piece-jointe.png"
        );
        assert_eq!(safe_file_name("???.pdf", FileKind::Pdf), "piece-jointe.pdf");
        assert_eq!(safe_file_name(".pdf", FileKind::Pdf), "piece-jointe.pdf");
    }

    #[test]
    fn names_are_at_most_100_characters() {
        let long = format!("{}.pdf", "é".repeat(300));
        let name = safe_file_name(&long, FileKind::Pdf);
        assert_eq!(name.chars().count(), MAX_NAME_CHARS);
        assert!(name.ends_with("éé.pdf"));
        let exact = format!("{}.pdf", "a".repeat(96));
        assert_eq!(safe_file_name(&exact, FileKind::Pdf), exact);
    }
}
