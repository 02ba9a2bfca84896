//! Identifier newtypes that validate on construction ("parse, don't validate").

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a code or identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "« {0} » n'est pas un code INSEE de commune (5 caractères, par exemple 35238 ou 2A004)"
    )]
    Insee(String),
    #[error("« {0} » n'est pas un numéro SIREN d'EPCI (9 chiffres)")]
    Siren(String),
    #[error("« {0} » n'est pas un code de département (01 à 95, 2A, 2B, 971 à 976)")]
    Departement(String),
    #[error("« {0} » n'est pas un code de région (2 chiffres)")]
    Region(String),
    #[error(
        "« {0} » n'est pas un identifiant valide (lettres minuscules sans accent, chiffres et tirets, 1 à 80 caractères)"
    )]
    Slug(String),
    #[error(
        "« {0} » n'est pas un détenteur : après @, écrivez un type de service ({kinds}), ou @inconnu",
        kinds = crate::reference::ServiceKind::accepted()
    )]
    HolderKind(String),
}

/// A commune code from INSEE's Code officiel géographique: five characters,
/// digits except for Corsica (`2A`/`2B` followed by three digits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InseeCode([u8; 5]);

impl InseeCode {
    /// Parses a code exactly as written (no repair of a lost leading zero).
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let b = s.as_bytes();
        if b.len() != 5 {
            return Err(CodeError::Insee(s.to_owned()));
        }
        let corsica = b[0] == b'2' && matches!(b[1], b'A' | b'B' | b'a' | b'b');
        let head_ok = b[0].is_ascii_digit() && (b[1].is_ascii_digit() || corsica);
        if !head_ok || !b[2..].iter().all(u8::is_ascii_digit) {
            return Err(CodeError::Insee(s.to_owned()));
        }
        let mut out = [0u8; 5];
        out.copy_from_slice(b);
        out[1] = out[1].to_ascii_uppercase();
        Ok(InseeCode(out))
    }

    /// Parses a code that a spreadsheet may have turned into a number: a
    /// four-digit code gets back its leading zero (`1004` → `01004`).
    /// Returns the code and whether it had to be repaired.
    pub fn parse_lenient(s: &str) -> Result<(Self, bool), CodeError> {
        let t = s.trim();
        if t.len() == 4 && t.bytes().all(|c| c.is_ascii_digit()) {
            let fixed = format!("0{t}");
            return Self::parse(&fixed).map(|c| (c, true));
        }
        Self::parse(t).map(|c| (c, false))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("?????")
    }

    /// The département code this commune code belongs to (`35`, `2A`, `971`).
    pub fn departement(&self) -> &str {
        if self.0[0] == b'9' && self.0[1] == b'7' {
            &self.as_str()[..3]
        } else {
            &self.as_str()[..2]
        }
    }
}

impl fmt::Display for InseeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Debug for InseeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InseeCode({})", self.as_str())
    }
}
impl Serialize for InseeCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
impl<'de> Deserialize<'de> for InseeCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        InseeCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

macro_rules! string_code {
    ($(#[$doc:meta])* $name:ident, $err:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, CodeError> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(CodeError::$err(s.to_owned()))
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_code!(
    /// The SIREN number of an EPCI (inter-municipal body): nine digits.
    Siren,
    Siren,
    |s| s.len() == 9 && s.bytes().all(|c| c.is_ascii_digit())
);
string_code!(
    /// A département code: `01`–`95`, `2A`, `2B`, or an overseas `97x`.
    DeptCode,
    Departement,
    |s| {
        let b = s.as_bytes();
        match b.len() {
            2 => (b[0].is_ascii_digit() && b[1].is_ascii_digit() && s != "00" && s != "20")
                || s == "2A"
                || s == "2B",
            3 => b[0] == b'9' && b[1] == b'7' && b[2].is_ascii_digit(),
            _ => false,
        }
    }
);
string_code!(
    /// A région code: two digits.
    RegionCode,
    Region,
    |s| s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit())
);
string_code!(
    /// A stable, URL-safe identifier: `[a-z0-9-]+`, at most 80 characters,
    /// neither starting nor ending with a hyphen.
    Slug,
    Slug,
    |s| {
        !s.is_empty()
            && s.len() <= 80
            && !s.starts_with('-')
            && !s.ends_with('-')
            && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    }
);

// Hash and Eq of a Slug are those of its text, so maps keyed by Slug can be
// searched with a plain &str without allocating.
impl std::borrow::Borrow<str> for Slug {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insee_codes() {
        assert_eq!(InseeCode::parse("35238").unwrap().as_str(), "35238");
        assert_eq!(InseeCode::parse("2a004").unwrap().as_str(), "2A004");
        assert_eq!(InseeCode::parse("97105").unwrap().departement(), "971");
        assert_eq!(InseeCode::parse("2B033").unwrap().departement(), "2B");
        for bad in ["", "3523", "352380", "3C238", "ABCDE", "35 38", "３5238"] {
            assert!(InseeCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            InseeCode::parse_lenient("1004").unwrap(),
            (InseeCode::parse("01004").unwrap(), true)
        );
        assert_eq!(
            InseeCode::parse_lenient(" 35238 ").unwrap(),
            (InseeCode::parse("35238").unwrap(), false)
        );
    }

    #[test]
    fn slugs_and_codes() {
        assert!(Slug::parse("permis-de-construire").is_ok());
        for bad in ["", "-a", "a-", "Permis", "permis_de", "é"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(Siren::parse("243500139").is_ok());
        assert!(Siren::parse("24350013").is_err());
        for ok in ["35", "2A", "2B", "976", "01"] {
            assert!(DeptCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["20", "00", "3", "350", "2C"] {
            assert!(DeptCode::parse(bad).is_err(), "{bad}");
        }
    }
}
