//! Turning a file's bytes into text: UTF-8 (with or without BOM), or
//! Windows-1252 as saved by Excel's « CSV (séparateur : point-virgule) ».

use std::borrow::Cow;

use super::report::Issue;

const SAVE_AS: &str =
    "enregistrez le fichier en « CSV UTF-8 » ou « CSV (séparateur : point-virgule) »";

/// Decodes `bytes`. Returns the text (without BOM) and an optional
/// file-level warning, or a file-level error.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Option<Issue>), Issue> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Issue::file(format!(
            "encodage non pris en charge (UTF-16) : {SAVE_AS}"
        )));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(Issue::file(format!(
            "ce fichier est un classeur (.xlsx ou .ods), pas un fichier CSV : {SAVE_AS}"
        )));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        // Text in UTF-16 without BOM has a NUL next to every ASCII byte.
        let nuls = bytes.iter().take(200).filter(|&&b| b == 0).count();
        let sample = bytes.len().min(200);
        if nul <= 1 && nuls * 3 >= sample {
            return Err(Issue::file(format!(
                "encodage non pris en charge (UTF-16) : {SAVE_AS}"
            )));
        }
        return Err(Issue::file(format!(
            "le fichier contient des caractères nuls (ligne {}) : ce n'est pas un fichier CSV texte ; {SAVE_AS}",
            line_of(bytes, nul)
        )));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), None)),
        Err(e) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            let warning = Issue::file(format!(
                "le fichier n'est pas en UTF-8 (premier caractère illisible ligne {}) : il a été lu en Windows-1252, l'encodage d'Excel ; vérifiez les accents ou {SAVE_AS_LOWER}",
                line_of(bytes, e.valid_up_to()),
                SAVE_AS_LOWER = "enregistrez-le en « CSV UTF-8 »"
            ));
            Ok((Cow::Owned(text.into_owned()), Some(warning)))
        }
    }
}

/// The 1-based line of byte offset `at` (lines end with LF, CRLF or CR).
fn line_of(bytes: &[u8], at: usize) -> u64 {
    let at = at.min(bytes.len());
    1 + (0..at)
        .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        let (t, w) = decode("slug;label\nété;x".as_bytes()).unwrap();
        assert_eq!(t, "slug;label\nété;x");
        assert!(w.is_none());
        let (t, w) = decode("\u{feff}slug;label".as_bytes()).unwrap();
        assert_eq!(t, "slug;label");
        assert!(w.is_none());
    }

    #[test]
    fn windows_1252_is_decoded_with_a_warning() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1252.encode("slug;label\nx;Mairie d'Évreux – été\n");
        assert!(std::str::from_utf8(&bytes).is_err());
        let (t, w) = decode(&bytes).unwrap();
        assert_eq!(t, "slug;label\nx;Mairie d'Évreux – été\n");
        let w = w.unwrap().to_string();
        assert!(w.contains("n'est pas en UTF-8"), "{w}");
        assert!(w.contains("ligne 2"), "{w}");
    }

    #[test]
    fn utf16_and_binary_are_refused() {
        let expected = "encodage non pris en charge (UTF-16) : enregistrez le fichier en « CSV UTF-8 » ou « CSV (séparateur : point-virgule) »";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("slug".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert_eq!(decode(&le).unwrap_err().to_string(), expected);
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("slug".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(decode(&be).unwrap_err().to_string(), expected);
        let no_bom: Vec<u8> = "slug;label"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&no_bom).unwrap_err().to_string(), expected);
        let e = decode(b"slug;label\nab\0c;d").unwrap_err().to_string();
        assert!(
            e.starts_with("le fichier contient des caractères nuls (ligne 2)"),
            "{e}"
        );
        let e = decode(b"PK\x03\x04\x14\0\0").unwrap_err().to_string();
        assert!(e.contains("classeur"), "{e}");
    }
}
