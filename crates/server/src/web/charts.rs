//! Server-rendered SVG charts: pure functions from figures to markup.
//!
//! Every chart is one `<svg role="img">` named by its `<title>` and
//! `<desc>`, scaled to its container (`viewBox`, `width="100%"`), with no
//! script and no external request. Text and lines use `currentColor`, bars
//! the page's accent colour through CSS custom properties ([`CSS`]: the
//! State design system's action colour when its stylesheet is there, the
//! neutral theme's `--accent` otherwise), so that light and dark themes
//! both work. Every bar carries its value as text: nothing is told by
//! colour alone. The data table that goes next to a chart is the caller's
//! ([`data_table`] writes one).
//!
//! The geometry is laid out for a 360-unit-wide view box with 13-unit text:
//! on a 390 px screen the chart is drawn at about 1:1, so text stays at
//! 12 px or more; [`CSS`] caps the width on large screens.

/// The rules the charts need, present in both stylesheets (the public
/// `neutral.css` and the back office's inline style).
pub const CSS: &str = ".ld-chart{display:block;width:100%;max-width:34rem;height:auto;margin:.5rem 0 1rem;overflow:visible}.ld-chart .ld-bar{fill:var(--background-action-high-blue-france,var(--accent,#0b5cad))}";

/// What is written instead of a chart without data.
pub const NO_DATA: &str = "Aucune donnée sur la période";

/// The view box's width.
const W: f64 = 360.0;
/// Text size, in view box units.
const FONT: f64 = 13.0;
/// Estimated advance of one character of 13-unit text.
const CHAR: f64 = 7.2;

/// Escapes text for an element's content or a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A figure the French way: thousands apart by a narrow no-break space,
/// a decimal comma, at most one decimal; anything not finite counts as 0.
pub fn number(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let tenths = (x * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let tenths = tenths.unsigned_abs();
    let int = (tenths / 10).to_string();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(c);
    }
    match tenths % 10 {
        0 => format!("{sign}{grouped}"),
        d => format!("{sign}{grouped},{d}"),
    }
}

/// A value with its unit ("12 %", "1 234 parcours").
fn with_unit(x: f64, unit: &str) -> String {
    if unit.is_empty() {
        number(x)
    } else {
        format!("{}\u{a0}{unit}", number(x))
    }
}

/// At most `max` characters, an ellipsis marking a cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn width_of(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR
}

/// A short id, the same for the same chart, distinct between charts of
/// one page (titles and figures differ), for the `<title>`, `<desc>` and
/// pattern references.
fn chart_id(kind: &str, title: &str, desc: &str, data: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [kind, title, desc, data] {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("ld-c{:012x}", h & 0xffff_ffff_ffff)
}

/// The opening `<svg>` with its title and description.
fn open(id: &str, height: f64, title: &str, desc: &str) -> String {
    format!(
        "<svg class=\"ld-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" font-size=\"{FONT}\" \
         fill=\"currentColor\"><title id=\"{id}-t\">{t}</title><desc id=\"{id}-d\">{d}</desc>",
        h = fmt(height),
        t = escape(title),
        d = escape(desc),
    )
}

/// A coordinate, at most one decimal.
fn fmt(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// What replaces a chart without data.
fn empty(title: &str) -> String {
    format!(
        "<p class=\"ld-chart-empty\">{} : {}.</p>",
        escape(title),
        NO_DATA.to_lowercase()
    )
}

fn clean(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// Vertical columns, one per `(label, value)` in order (months, days),
/// each with its value above it and its label below; labels and values
/// turn upright when the columns are narrow.
pub fn columns(title: &str, desc: &str, bars: &[(String, f64)], unit: &str) -> String {
    if bars.is_empty() {
        return empty(title);
    }
    let labels: Vec<String> = bars.iter().map(|(l, _)| clip(l, 16)).collect();
    let values: Vec<String> = bars.iter().map(|(_, v)| number(*v)).collect();
    let max = bars.iter().map(|(_, v)| clean(*v)).fold(0.0, f64::max);
    let n = bars.len() as f64;
    let left = 4.0;
    let slot = (W - 2.0 * left) / n;
    let widest_value = values.iter().map(|v| width_of(v)).fold(0.0, f64::max);
    let widest_label = labels.iter().map(|l| width_of(l)).fold(0.0, f64::max);
    let upright_values = widest_value + 4.0 > slot;
    let upright_labels = widest_label + 4.0 > slot;
    let unit_line = if unit.is_empty() { 0.0 } else { 20.0 };
    let value_room = if upright_values {
        widest_value + 8.0
    } else {
        FONT + 6.0
    };
    let plot = 150.0;
    let axis = unit_line + value_room + plot;
    let bottom = if upright_labels {
        widest_label + 10.0
    } else {
        FONT + 10.0
    };
    let id = chart_id("columns", title, desc, &data_key(bars));
    let mut s = open(&id, axis + bottom, title, desc);
    if !unit.is_empty() {
        s.push_str(&format!(
            "<text x=\"{left}\" y=\"{}\">{}</text>",
            fmt(FONT),
            escape(&format!("En {unit}"))
        ));
    }
    let bar_w = (slot * 0.7).min(48.0);
    for (i, (_, v)) in bars.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let h = if max > 0.0 {
            clean(*v) / max * plot
        } else {
            0.0
        };
        let top = axis - h;
        s.push_str(&format!(
            "<rect class=\"ld-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            fmt(cx - bar_w / 2.0),
            fmt(top),
            fmt(bar_w),
            fmt(h)
        ));
        let value = escape(&values[i]);
        if upright_values {
            let (x, y) = (cx + FONT / 2.0 - 2.0, top - 4.0);
            s.push_str(&format!(
                "<text x=\"{x}\" y=\"{y}\" transform=\"rotate(-90 {x} {y})\">{value}</text>",
                x = fmt(x),
                y = fmt(y)
            ));
        } else {
            s.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{value}</text>",
                fmt(cx),
                fmt(top - 5.0)
            ));
        }
        let label = escape(&labels[i]);
        if upright_labels {
            let (x, y) = (cx + FONT / 2.0 - 2.0, axis + 6.0);
            s.push_str(&format!(
                "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\" transform=\"rotate(-90 {x} {y})\">{label}</text>",
                x = fmt(x),
                y = fmt(y)
            ));
        } else {
            s.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
                fmt(cx),
                fmt(axis + FONT + 4.0)
            ));
        }
    }
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{a}\" x2=\"{}\" y2=\"{a}\" stroke=\"currentColor\"/>",
        fmt(W - left),
        a = fmt(axis)
    ));
    s.push_str("</svg>");
    s
}

/// Horizontal bars, one per `(label, value)` in order, each label above
/// its bar and the value at the bar's end.
pub fn hbars(title: &str, desc: &str, bars: &[(String, f64)], unit: &str) -> String {
    let rows: Vec<(String, f64, String)> = bars
        .iter()
        .map(|(l, v)| (l.clone(), clean(*v), with_unit(*v, unit)))
        .collect();
    labelled_bars("hbars", title, desc, &rows)
}

/// The steps of a funnel as horizontal bars labelled "n (x %)", the share
/// of the first step's count.
pub fn funnel(title: &str, desc: &str, steps: &[(String, u64)]) -> String {
    let first = steps.first().map(|(_, n)| *n).unwrap_or(0);
    let rows: Vec<(String, f64, String)> = steps
        .iter()
        .map(|(l, n)| {
            let text = if first > 0 {
                format!(
                    "{} ({}\u{a0}%)",
                    number(*n as f64),
                    number(*n as f64 * 100.0 / first as f64)
                )
            } else {
                number(*n as f64)
            };
            (l.clone(), *n as f64, text)
        })
        .collect();
    labelled_bars("funnel", title, desc, &rows)
}

fn data_key(bars: &[(String, f64)]) -> String {
    bars.iter()
        .map(|(l, v)| format!("{l}\u{1f}{v}\u{1e}"))
        .collect()
}

/// Horizontal bars with the text written at each bar's end.
fn labelled_bars(kind: &str, title: &str, desc: &str, rows: &[(String, f64, String)]) -> String {
    if rows.is_empty() {
        return empty(title);
    }
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let left = 2.0;
    let widest_text = rows.iter().map(|r| width_of(&r.2)).fold(0.0, f64::max);
    let room = (W - left - widest_text - 8.0).max(W / 3.0);
    let row_h = 44.0;
    let key: String = rows
        .iter()
        .map(|(l, v, t)| format!("{l}\u{1f}{v}\u{1f}{t}\u{1e}"))
        .collect();
    let id = chart_id(kind, title, desc, &key);
    let mut s = open(&id, rows.len() as f64 * row_h + 4.0, title, desc);
    for (i, (label, v, text)) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let w = if max > 0.0 { v / max * room } else { 0.0 };
        s.push_str(&format!(
            "<text x=\"{left}\" y=\"{}\">{}</text>",
            fmt(y + FONT),
            escape(&clip(label, 48))
        ));
        s.push_str(&format!(
            "<rect class=\"ld-bar\" x=\"{left}\" y=\"{}\" width=\"{}\" height=\"18\"/>",
            fmt(y + 19.0),
            fmt(w)
        ));
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\">{}</text>",
            fmt(left + w + 6.0),
            fmt(y + 33.0),
            escape(text)
        ));
    }
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{left}\" y2=\"{}\" stroke=\"currentColor\"/>",
        fmt(4.0 + 17.0),
        fmt(4.0 + (rows.len() as f64 - 1.0) * row_h + 39.0)
    ));
    s.push_str("</svg>");
    s
}

/// A data table to put next to a chart: a caption, column headers, and
/// rows whose first cell heads the row; every cell is escaped. Without
/// rows, the sentence [`NO_DATA`] stands instead.
pub fn data_table(caption: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return empty(caption);
    }
    let caption = escape(caption);
    let mut s = format!(
        "<div class=\"fr-table ld-table\" tabindex=\"0\" role=\"region\" aria-label=\"{caption}\"><table><caption>{caption}</caption><thead><tr>"
    );
    for h in headers {
        s.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
    }
    s.push_str("</tr></thead><tbody>");
    for row in rows {
        s.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                s.push_str(&format!("<th scope=\"row\">{}</th>", escape(cell)));
            } else {
                s.push_str(&format!("<td>{}</td>", escape(cell)));
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(v: &[(&str, f64)]) -> Vec<(String, f64)> {
        v.iter().map(|(l, x)| ((*l).to_owned(), *x)).collect()
    }

    /// The texts of the chart's `<text>` elements, in order.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .map(|t| {
                let start = t.find('>').unwrap() + 1;
                let end = t.find("</text>").unwrap();
                t[start..end].to_owned()
            })
            .collect()
    }

    #[test]
    fn numbers_are_written_the_french_way() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1234567.0), "1\u{202f}234\u{202f}567");
        assert_eq!(number(42.25), "42,3");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(f64::NAN), "0");
        assert_eq!(number(999.96), "1\u{202f}000");
    }

    #[test]
    fn a_chart_is_an_image_named_by_its_title_and_description() {
        let svg = columns(
            "Parcours par mois",
            "Nombre de parcours commencés",
            &bars(&[("2026-10", 12.0), ("2026-11", 30.0)]),
            "parcours",
        );
        assert!(svg.starts_with("<svg class=\"ld-chart\""), "{svg}");
        assert!(svg.contains(" role=\"img\""));
        let id = chart_id(
            "columns",
            "Parcours par mois",
            "Nombre de parcours commencés",
            &data_key(&bars(&[("2026-10", 12.0), ("2026-11", 30.0)])),
        );
        assert!(svg.contains(&format!("aria-labelledby=\"{id}-t {id}-d\"")));
        assert!(svg.contains(&format!("<title id=\"{id}-t\">Parcours par mois</title>")));
        assert!(svg.contains(&format!(
            "<desc id=\"{id}-d\">Nombre de parcours commencés</desc>"
        )));
        assert!(svg.contains("viewBox=\"0 0 360 "));
        assert!(svg.contains("width=\"100%\""));
        assert!(!svg.contains("<script"));
        assert!(
            !svg.replace("http://www.w3.org/2000/svg", "")
                .contains("http")
        );
        assert_eq!(
            texts(&svg),
            vec!["En parcours", "12", "2026-10", "30", "2026-11"]
        );
        // The highest column takes the whole plot height, the other its share.
        assert!(svg.contains("height=\"150\""), "{svg}");
        assert!(svg.contains("height=\"60\""), "{svg}");
        // Another chart of the same page gets other ids.
        let other = columns("Réponses par mois", "", &bars(&[("2026-10", 1.0)]), "");
        assert!(!other.contains(&id));
    }

    #[test]
    fn labels_are_escaped() {
        let evil = bars(&[("<script>alert(1)</script>", 3.0), ("a & \"b\" 'c'", 1.0)]);
        for svg in [
            columns("<b>t</b>", "d<i>", &evil, "<u>"),
            hbars("<b>t</b>", "d<i>", &evil, "<u>"),
            funnel("<b>t</b>", "d<i>", &[("<script>x</script>".to_owned(), 2)]),
        ] {
            assert!(!svg.contains("<script>"), "{svg}");
            assert!(!svg.contains("<b>") && !svg.contains("<i>") && !svg.contains("<u>"));
            assert!(svg.contains("&lt;b&gt;t&lt;/b&gt;"), "{svg}");
        }
        let svg = hbars("t", "d", &evil, "");
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("a &amp; &quot;b&quot; &#39;c&#39;"));
        let table = data_table(
            "<i>c</i>",
            &["<th>"],
            &[vec!["<script>".to_owned(), "&".to_owned()]],
        );
        assert_eq!(
            table,
            "<div class=\"fr-table ld-table\" tabindex=\"0\" role=\"region\" aria-label=\"&lt;i&gt;c&lt;/i&gt;\"><table><caption>&lt;i&gt;c&lt;/i&gt;</caption><thead><tr><th scope=\"col\">&lt;th&gt;</th></tr></thead><tbody><tr><th scope=\"row\">&lt;script&gt;</th><td>&amp;</td></tr></tbody></table></div>"
        );
    }

    #[test]
    fn no_data_gives_a_sentence_not_an_empty_chart() {
        let expected = "<p class=\"ld-chart-empty\">Parcours : aucune donnée sur la période.</p>";
        assert_eq!(columns("Parcours", "d", &[], "parcours"), expected);
        assert_eq!(hbars("Parcours", "d", &[], ""), expected);
        assert_eq!(funnel("Parcours", "d", &[]), expected);
        assert_eq!(data_table("Parcours", &["Mois", "Parcours"], &[]), expected);
    }

    #[test]
    fn zero_values_draw_empty_bars_with_their_figure() {
        let zeros = bars(&[("janvier", 0.0), ("février", 0.0)]);
        let svg = columns("t", "d", &zeros, "");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert_eq!(texts(&svg), vec!["0", "janvier", "0", "février"]);
        assert_eq!(svg.matches("height=\"0\"").count(), 2);
        let svg = hbars("t", "d", &zeros, "%");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert_eq!(
            texts(&svg),
            vec!["janvier", "0\u{a0}%", "février", "0\u{a0}%"]
        );
        assert_eq!(svg.matches("width=\"0\"").count(), 2);
        // Negative and not-a-number values draw nothing, and say what they are.
        let svg = hbars(
            "t",
            "d",
            &bars(&[("a", -2.0), ("b", f64::NAN), ("c", 4.0)]),
            "",
        );
        assert_eq!(texts(&svg), vec!["a", "-2", "b", "0", "c", "4"]);
        // A funnel whose first step is zero gives no percentage.
        let svg = funnel("t", "d", &[("Début".to_owned(), 0), ("Fin".to_owned(), 0)]);
        assert_eq!(texts(&svg), vec!["Début", "0", "Fin", "0"]);
    }

    #[test]
    fn a_funnel_gives_each_step_its_share_of_the_first() {
        let svg = funnel(
            "Entonnoir",
            "d",
            &[
                ("Parcours commencés".to_owned(), 200),
                ("Commune choisie".to_owned(), 150),
                ("Réponse affichée".to_owned(), 49),
            ],
        );
        assert_eq!(
            texts(&svg),
            vec![
                "Parcours commencés",
                "200 (100\u{a0}%)",
                "Commune choisie",
                "150 (75\u{a0}%)",
                "Réponse affichée",
                "49 (24,5\u{a0}%)"
            ]
        );
    }

    #[test]
    fn long_labels_are_cut_and_narrow_columns_turn_upright() {
        let long =
            "Archives départementales d’Ille-et-Vilaine, service des archives contemporaines";
        let svg = hbars("t", "d", &bars(&[(long, 5.0)]), "");
        let first = &texts(&svg)[0];
        assert_eq!(first.chars().count(), 48);
        assert!(first.ends_with('…'));
        assert!(long.starts_with(first.trim_end_matches('…')));
        // Multi-byte letters at the cut do not break.
        let svg = hbars("t", "d", &bars(&[(&"é".repeat(60), 1.0)]), "");
        assert_eq!(texts(&svg)[0], format!("{}…", "é".repeat(47)));

        // Three wide columns: labels flat. Thirty-six months: upright.
        let few = columns("t", "d", &bars(&[("2026-01", 1.0), ("2026-02", 2.0)]), "");
        assert!(!few.contains("rotate("));
        let months: Vec<(String, f64)> = (0..36)
            .map(|i| {
                (
                    format!("{}-{:02}", 2024 + i / 12, i % 12 + 1),
                    1000.0 + i as f64,
                )
            })
            .collect();
        let many = columns("t", "d", &months, "parcours");
        assert_eq!(many.matches("rotate(-90").count(), 72);
        assert_eq!(texts(&many).len(), 73);
        let long_column = columns("t", "d", &bars(&[(long, 1.0)]), "");
        assert!(texts(&long_column).contains(&"Archives départ…".to_owned()));
    }

    #[test]
    fn the_stylesheets_carry_the_chart_rules() {
        assert!(include_str!("../../assets/neutral.css").contains(CSS));
        assert!(include_str!("../../templates/admin.html").contains(CSS));
    }
}
