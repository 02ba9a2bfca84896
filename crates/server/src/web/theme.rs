//! Look and language of public pages, read from the query string: `theme`
//! (`neutral` or `dsfr`), `color` (the host's brand colour), `lang`.

/// Which stylesheet a page uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Our own light stylesheet, for any host site (the default: local
    /// authorities may not use the State design system).
    Neutral,
    /// The State design system, for State sites.
    Dsfr,
}

impl Theme {
    pub fn parse(s: Option<&str>) -> Theme {
        match s {
            Some("dsfr") => Theme::Dsfr,
            _ => Theme::Neutral,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Neutral => "neutral",
            Theme::Dsfr => "dsfr",
        }
    }
}

/// Interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn parse(s: Option<&str>) -> Lang {
        match s {
            Some("en") => Lang::En,
            _ => Lang::Fr,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// Colours derived from one brand colour so that text stays readable
/// (WCAG AA contrast) whatever the host chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    /// Buttons, borders, focus ring.
    pub accent: String,
    /// Text on the accent colour: black or white, whichever contrasts more.
    pub accent_text: String,
    /// Links on white: the accent darkened until it reaches 4.5:1.
    pub link: String,
}

fn luminance(rgb: [f64; 3]) -> f64 {
    let lin = |c: f64| {
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

fn contrast(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    (hi + 0.05) / (lo + 0.05)
}

fn hex(rgb: [f64; 3]) -> String {
    format!(
        "#{:02x}{:02x}{:02x}",
        (rgb[0] * 255.0).round() as u8,
        (rgb[1] * 255.0).round() as u8,
        (rgb[2] * 255.0).round() as u8
    )
}

impl Palette {
    /// Parses `#rrggbb`, `rrggbb`, `#rgb` or `rgb`; anything else gives `None`
    /// (and the default colours), so nothing a host passes reaches the CSS
    /// unchecked.
    pub fn from_param(s: Option<&str>) -> Option<Palette> {
        let s = s?.trim().trim_start_matches('#');
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let full = match s.len() {
            3 => s.chars().flat_map(|c| [c, c]).collect::<String>(),
            6 => s.to_owned(),
            _ => return None,
        };
        let byte = |i: usize| {
            u8::from_str_radix(&full[i..i + 2], 16)
                .ok()
                .map(|b| f64::from(b) / 255.0)
        };
        let rgb = [byte(0)?, byte(2)?, byte(4)?];
        let l = luminance(rgb);
        let accent_text = if contrast(l, 1.0) >= contrast(l, 0.0) {
            "#ffffff"
        } else {
            "#000000"
        };
        let mut link = rgb;
        for _ in 0..40 {
            if contrast(luminance(link), 1.0) >= 4.5 {
                break;
            }
            link = link.map(|c| c * 0.9);
        }
        Some(Palette {
            accent: hex(rgb),
            accent_text: accent_text.to_owned(),
            link: hex(link),
        })
    }

    /// The CSS custom properties to put in a `<style>` element.
    pub fn css(&self) -> String {
        format!(
            ":root{{--accent:{};--accent-text:{};--link:{}}}",
            self.accent, self.accent_text, self.link
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palettes_stay_readable() {
        let p = Palette::from_param(Some("#ffcc00")).unwrap();
        assert_eq!(p.accent, "#ffcc00");
        assert_eq!(p.accent_text, "#000000");
        let link = Palette::from_param(Some(&p.link)).unwrap();
        assert_ne!(link.accent, "#ffcc00", "a yellow link must be darkened");
        let dark = Palette::from_param(Some("003189")).unwrap();
        assert_eq!(
            (dark.accent_text.as_str(), dark.link.as_str()),
            ("#ffffff", "#003189")
        );
        assert_eq!(Palette::from_param(Some("#abc")).unwrap().accent, "#aabbcc");
        for bad in ["red", "#12345", "</style>", "#ggg", ""] {
            assert!(Palette::from_param(Some(bad)).is_none(), "{bad}");
        }
    }
}

/// A font family asked for by the host site (an iframe inherits nothing
/// from its host): letters, digits, spaces and hyphens only, so that it can
/// be written into a stylesheet safely; the system fonts follow as fallback.
pub fn font_css(param: Option<&str>) -> Option<String> {
    let name = param?.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 60
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-');
    ok.then(|| format!(":root{{--font:\"{name}\",system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}}"))
}

#[cfg(test)]
mod font_tests {
    #[test]
    fn only_plain_family_names_pass() {
        assert_eq!(
            super::font_css(Some("Open Sans")).unwrap(),
            ":root{--font:\"Open Sans\",system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif}"
        );
        for bad in ["", "a;}body{x", "\"Arial\"", "x</style>", &"a".repeat(61)] {
            assert!(super::font_css(Some(bad)).is_none(), "{bad}");
        }
    }
}
