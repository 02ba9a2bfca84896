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

use chrono::{Datelike, NaiveDate};

use super::theme::Lang;

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
/// The most characters written on one line.
const LINE: usize = 48;

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

/// The opening `<svg>` with its title and description (none when empty).
fn open(id: &str, height: f64, title: &str, desc: &str) -> String {
    let (labels, desc) = if desc.is_empty() {
        (format!("{id}-t"), String::new())
    } else {
        (
            format!("{id}-t {id}-d"),
            format!("<desc id=\"{id}-d\">{}</desc>", escape(desc)),
        )
    };
    format!(
        "<svg class=\"ld-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"{labels}\" font-size=\"{FONT}\" \
         fill=\"currentColor\"><title id=\"{id}-t\">{t}</title>{desc}",
        h = fmt(height),
        t = escape(title),
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
/// turn upright when the columns are narrow, and only one column in two
/// (or three…) is labelled when even upright text does not fit.
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
    // Columns narrower than a line of text: one in `every` is labelled,
    // the latest always (the data table gives them all).
    let every = (((FONT + 3.0) / slot).ceil() as usize).max(1);
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
        if !(bars.len() - 1 - i).is_multiple_of(every) {
            continue;
        }
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
            escape(&clip(label, LINE))
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

/// Horizontal bars split into parts that add up to 100 %: one bar per
/// `(label, counts)`, each part drawn in the accent colour at the opacity
/// given for its category, with the counts written under the bar in words
/// (`names`), so that nothing is told by the shade alone.
pub fn stacked_bars(
    title: &str,
    desc: &str,
    names: &[&str],
    opacities: &[f64],
    rows: &[(String, Vec<u64>)],
) -> String {
    if rows.is_empty() {
        return empty(title);
    }
    let row_h = 62.0;
    let left = 2.0;
    let room = W - left - 2.0;
    let key: String = rows
        .iter()
        .map(|(l, v)| format!("{l}\u{1f}{v:?}\u{1e}"))
        .collect();
    let id = chart_id("stacked", title, desc, &key);
    let mut s = open(&id, rows.len() as f64 * row_h + 4.0, title, desc);
    for (i, (label, counts)) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let total: u64 = counts.iter().sum();
        s.push_str(&format!(
            "<text x=\"{left}\" y=\"{}\">{}</text>",
            fmt(y + FONT),
            escape(&clip(label, LINE))
        ));
        let mut x = left;
        for (j, n) in counts.iter().enumerate() {
            if *n == 0 || total == 0 {
                continue;
            }
            let w = *n as f64 / total as f64 * room;
            s.push_str(&format!(
                "<rect class=\"ld-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"18\" fill-opacity=\"{}\" stroke=\"currentColor\" stroke-width=\"0.5\"/>",
                fmt(x),
                fmt(y + 19.0),
                fmt(w),
                opacities.get(j).copied().unwrap_or(1.0)
            ));
            x += w;
        }
        let words: Vec<String> = counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(j, n)| {
                format!(
                    "{} {}",
                    names.get(j).copied().unwrap_or(""),
                    number(*n as f64)
                )
            })
            .collect();
        s.push_str(&format!(
            "<text x=\"{left}\" y=\"{}\" font-size=\"11\">{}</text>",
            fmt(y + 52.0),
            escape(&clip(&words.join(" · "), 60))
        ));
    }
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

/// One period of a holder timeline: who holds the documents (`None`: no
/// one, the period is not covered), from when to when (`None`: open), and
/// a note written under it (a rolling bound: "documents de plus de 75 ans").
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub holder: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub note: Option<String>,
}

/// The words of a timeline.
fn band_words(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Fr => ("Non couvert", "aujourd'hui"),
        Lang::En => ("Not covered", "today"),
    }
}

/// The years of a period, in words ("1908 – 2015", "depuis 2015").
fn years(from: Option<NaiveDate>, to: Option<NaiveDate>, lang: Lang) -> String {
    match (lang, from.map(|d| d.year()), to.map(|d| d.year())) {
        (Lang::Fr, Some(f), Some(t)) if f == t => format!("en {f}"),
        (Lang::En, Some(f), Some(t)) if f == t => format!("in {f}"),
        (_, Some(f), Some(t)) => format!("{f} – {t}"),
        (Lang::Fr, None, Some(t)) => format!("jusqu'en {t}"),
        (Lang::En, None, Some(t)) => format!("until {t}"),
        (Lang::Fr, Some(f), None) => format!("depuis {f}"),
        (Lang::En, Some(f), None) => format!("since {f}"),
        (Lang::Fr, None, None) => "toutes dates".to_owned(),
        (Lang::En, None, None) => "all dates".to_owned(),
    }
}

/// The lines written above a band: holder (or "Non couvert"), years and
/// note on one line when they fit, else the holder on a line of its own.
fn band_lines(b: &Band, lang: Lang) -> Vec<String> {
    let who = b.holder.as_deref().unwrap_or(band_words(lang).0);
    let mut when = years(b.from, b.to, lang);
    if let Some(note) = &b.note {
        when = format!("{when} · {note}");
    }
    let one = format!("{who} · {when}");
    if one.chars().count() <= LINE {
        vec![one]
    } else {
        vec![clip(who, LINE), clip(&when, LINE)]
    }
}

/// The whole timeline in sentences, for a description that stands alone.
pub fn timeline_desc(bands: &[Band], lang: Lang) -> String {
    bands
        .iter()
        .map(|b| {
            let who = b.holder.as_deref().unwrap_or(band_words(lang).0);
            let note = b
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            format!("{who} : {}{note}.", years(b.from, b.to, lang))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A date as a fractional year, for the time axis.
fn year_of(d: NaiveDate) -> f64 {
    f64::from(d.year()) + f64::from(d.ordinal0()) / 366.0
}

/// The holder timeline of a document type and territory: one horizontal
/// band per period, oldest first, each labelled with its holder and years
/// above it; periods no one covers are hatched and labelled "Non couvert";
/// open ends run to today, open starts from the left edge. A time axis
/// with years and a mark for today closes it.
pub fn timeline(title: &str, desc: &str, bands: &[Band], today: NaiveDate, lang: Lang) -> String {
    if bands.is_empty() {
        return empty(title);
    }
    let today_word = band_words(lang).1;
    let now = year_of(today);
    let known: Vec<f64> = bands
        .iter()
        .flat_map(|b| [b.from, b.to])
        .flatten()
        .map(year_of)
        .collect();
    let end = known.iter().copied().fold(now, f64::max);
    let mut start = known.iter().copied().fold(end, f64::min);
    if bands.iter().any(|b| b.from.is_none()) || known.is_empty() {
        // An open start: some room before the first date.
        start -= ((end - start) * 0.15).max(10.0);
        if known.is_empty() {
            start = now - 100.0;
        }
    }
    if end - start < 10.0 {
        start = end - 10.0;
    }
    let left = 2.0;
    let right = W - 2.0;
    let x = |y: f64| left + (y - start) / (end - start) * (right - left);

    let key: String = bands
        .iter()
        .map(|b| format!("{b:?}\u{1e}"))
        .chain([today.to_string()])
        .collect();
    let id = chart_id("timeline", title, desc, &key);
    let top = 20.0;
    let mut y = top;
    let mut body = String::new();
    for b in bands {
        for line in band_lines(b, lang) {
            body.push_str(&format!(
                "<text x=\"{left}\" y=\"{}\">{}</text>",
                fmt(y + FONT),
                escape(&line)
            ));
            y += 17.0;
        }
        let x1 = b.from.map(|d| x(year_of(d))).unwrap_or(left);
        let x2 =
            b.to.map(|d| x(year_of(d) + 1.0 / 366.0))
                .unwrap_or_else(|| x(now));
        let w = (x2 - x1).max(3.0);
        let bar_y = y + 2.0;
        match b.holder {
            Some(_) => body.push_str(&format!(
                "<rect class=\"ld-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\"/>",
                fmt(x1),
                fmt(bar_y),
                fmt(w)
            )),
            None => body.push_str(&format!(
                "<rect class=\"ld-gap\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" fill=\"url(#{id}-h)\" stroke=\"currentColor\" stroke-dasharray=\"4 3\"/>",
                fmt(x1),
                fmt(bar_y),
                fmt(w)
            )),
        }
        y += 30.0;
    }
    // The axis: a line, ticks every round number of years, today marked.
    let axis = y;
    let span = end - start;
    let step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]
        .into_iter()
        .find(|s| span / f64::from(*s) <= 6.0)
        .unwrap_or(1000);
    let mut axis_marks = format!(
        "<line x1=\"{left}\" y1=\"{a}\" x2=\"{right}\" y2=\"{a}\" stroke=\"currentColor\"/>",
        a = fmt(axis)
    );
    let first_tick = (start / f64::from(step)).ceil() as i64 * i64::from(step);
    let mut t = first_tick;
    while (t as f64) <= end {
        let tx = x(t as f64);
        // Keep clear of today's label at the right end.
        if x(now) - tx > 34.0 || tx > x(now) {
            let anchor = if tx < left + 16.0 {
                "start"
            } else if tx > right - 16.0 {
                "end"
            } else {
                "middle"
            };
            axis_marks.push_str(&format!(
                "<line x1=\"{tx}\" y1=\"{a}\" x2=\"{tx}\" y2=\"{b}\" stroke=\"currentColor\"/><text x=\"{tx}\" y=\"{ty}\" text-anchor=\"{anchor}\">{t}</text>",
                tx = fmt(tx),
                a = fmt(axis),
                b = fmt(axis + 5.0),
                ty = fmt(axis + 5.0 + FONT + 2.0),
            ));
        }
        t += i64::from(step);
    }
    let tx = x(now);
    let mut s = open(&id, axis + 5.0 + FONT + 8.0, title, desc);
    s.push_str(&format!(
        "<defs><pattern id=\"{id}-h\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"currentColor\" stroke-width=\"2\"/></pattern></defs>"
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        fmt(right),
        fmt(FONT),
        escape(today_word)
    ));
    s.push_str(&format!(
        "<line x1=\"{tx}\" y1=\"{}\" x2=\"{tx}\" y2=\"{}\" stroke=\"currentColor\" stroke-dasharray=\"2 2\"/>",
        fmt(FONT + 3.0),
        fmt(axis),
        tx = fmt(tx)
    ));
    s.push_str(&body);
    s.push_str(&axis_marks);
    s.push_str("</svg>");
    s
}

/// The bands of a locate answer: its holders and the periods no rule
/// covers, oldest first; a rolling bound ("-75y") is noted under its band.
pub fn answer_bands(
    matches: &[locadocs_core::snapshot::Match<'_>],
    uncovered: &[locadocs_core::locate::Period],
    today: NaiveDate,
    lang: Lang,
) -> Vec<Band> {
    use locadocs_core::Bound;
    let mut bands: Vec<Band> = matches
        .iter()
        .map(|m| {
            // Only where the band really ends (or starts) at the rolling bound.
            let older = match m.rule.to {
                Some(Bound::YearsAgo(n)) if m.period.to == m.rule.end(today) => Some(n),
                _ => None,
            };
            let younger = match m.rule.from {
                Some(Bound::YearsAgo(n)) if m.period.from == m.rule.start(today) => Some(n),
                _ => None,
            };
            let note = match (lang, younger, older) {
                (Lang::Fr, Some(a), Some(b)) => Some(format!("documents de {b} à {a} ans")),
                (Lang::Fr, None, Some(b)) => Some(format!("documents de plus de {b} ans")),
                (Lang::Fr, Some(a), None) => Some(format!("documents de moins de {a} ans")),
                (Lang::En, Some(a), Some(b)) => Some(format!("documents {b} to {a} years old")),
                (Lang::En, None, Some(b)) => Some(format!("documents over {b} years old")),
                (Lang::En, Some(a), None) => Some(format!("documents under {a} years old")),
                (_, None, None) => None,
            };
            Band {
                holder: Some(m.holder.name()),
                from: m.period.from,
                to: m.period.to,
                note,
            }
        })
        .chain(uncovered.iter().map(|p| Band {
            holder: None,
            from: p.from,
            to: p.to,
            note: None,
        }))
        .collect();
    bands.sort_by_key(|b| b.from.unwrap_or(NaiveDate::MIN));
    bands
}

/// The holder timeline of an answer page's document type, when there is
/// more than one period to show. Its description points to the text list
/// that the page gives next to it, which stays the accessible version.
pub fn answer_chart(
    answer: &locadocs_core::snapshot::Answer<'_>,
    today: NaiveDate,
    lang: Lang,
) -> Option<String> {
    let bands = answer_bands(
        &answer.matches,
        &answer.periods_without_holder(),
        today,
        lang,
    );
    if bands.len() < 2 {
        return None;
    }
    let label = &answer.document_type.label;
    let (title, desc) = match lang {
        Lang::Fr => (
            format!("Détenteurs selon la date du document : {label}"),
            "Frise chronologique ; chaque période est détaillée dans le texte qui suit.",
        ),
        Lang::En => (
            format!("Holders by the document's date: {label}"),
            "Timeline; each period is detailed in the text that follows.",
        ),
    };
    Some(timeline(&title, desc, &bands, today, lang))
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
        // Without a description, the title alone names it.
        assert!(
            !other.contains("<desc") && !other.contains("-d\""),
            "{other}"
        );
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
        // Too narrow for every label: one column in two, the last one included.
        assert_eq!(many.matches("rotate(-90").count(), 36);
        let t = texts(&many);
        assert_eq!(t.len(), 37);
        assert_eq!(&t[1..3], &["1\u{202f}001", "2024-02"]);
        assert_eq!(&t[35..], &["1\u{202f}035", "2026-12"]);
        assert_eq!(many.matches("<rect").count(), 36, "every column is drawn");
        let long_column = columns("t", "d", &bars(&[(long, 1.0)]), "");
        assert!(texts(&long_column).contains(&"Archives départ…".to_owned()));
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn band(holder: Option<&str>, from: &str, to: &str) -> Band {
        let d = |s: &str| (!s.is_empty()).then(|| day(s));
        Band {
            holder: holder.map(str::to_owned),
            from: d(from),
            to: d(to),
            note: None,
        }
    }

    /// The `x`, `width` of the chart's bands (held and uncovered), in order.
    fn rects(svg: &str) -> Vec<(String, f64, f64)> {
        svg.split("<rect class=\"")
            .skip(1)
            .map(|r| {
                let attr = |name: &str| -> f64 {
                    let i = r.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                    r[i..i + r[i..].find('"').unwrap()].parse().unwrap()
                };
                (
                    r[..r.find('"').unwrap()].to_owned(),
                    attr("x"),
                    attr("width"),
                )
            })
            .collect()
    }

    #[test]
    fn a_timeline_draws_one_band_per_period_and_marks_the_gaps() {
        let bands = [
            band(None, "", "1907-12-31"),
            band(Some("Archives de Rennes"), "1908-01-01", "1949-12-31"),
            band(None, "1950-01-01", "1959-12-31"),
            band(Some("Rennes Métropole <ADS>"), "1960-01-01", ""),
        ];
        let today = day("2026-11-23");
        let svg = timeline(
            "Détenteurs",
            "Les mêmes informations suivent en texte.",
            &bands,
            today,
            Lang::Fr,
        );
        assert!(svg.contains(" role=\"img\""));
        assert!(svg.contains("<desc id=\""));
        let t = texts(&svg);
        assert_eq!(
            &t[..5],
            &[
                "aujourd&#39;hui",
                "Non couvert · jusqu&#39;en 1907",
                "Archives de Rennes · 1908 – 1949",
                "Non couvert · 1950 – 1959",
                "Rennes Métropole &lt;ADS&gt; · depuis 1960",
            ]
        );
        // Axis: 1908 - 15 % of the span before it, to today; ticks every 25 years.
        assert_eq!(&t[5..], &["1900", "1925", "1950", "1975", "2000"]);
        let r = rects(&svg);
        let kinds: Vec<&str> = r.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(kinds, vec!["ld-gap", "ld-bar", "ld-gap", "ld-bar"]);
        // The gaps are hatched by the chart's own pattern.
        let id = svg
            .split("<title id=\"")
            .nth(1)
            .unwrap()
            .split("-t\"")
            .next()
            .unwrap();
        assert_eq!(svg.matches(&format!("fill=\"url(#{id}-h)\"")).count(), 2);
        assert!(svg.contains(&format!("<pattern id=\"{id}-h\"")));
        // Bands follow each other without overlap, the open start at the
        // left edge and the open end at today, the right edge.
        assert_eq!(r[0].1, 2.0);
        for w in r.windows(2) {
            assert!((w[0].1 + w[0].2 - w[1].1).abs() < 0.2, "{w:?}");
        }
        assert!((r[3].1 + r[3].2 - 358.0).abs() < 0.2, "{r:?}");
    }

    #[test]
    fn rolling_bounds_run_to_today_with_their_note() {
        let today = day("2026-11-23");
        let bands = [
            Band {
                note: Some("documents de plus de 75 ans".into()),
                ..band(Some("Archives départementales"), "", "1951-11-23")
            },
            Band {
                note: Some("documents de moins de 75 ans".into()),
                ..band(Some("Notaire"), "1951-11-24", "")
            },
        ];
        let svg = timeline("t", "", &bands, today, Lang::Fr);
        let t = texts(&svg);
        assert_eq!(t[1], "Archives départementales");
        assert_eq!(t[2], "jusqu&#39;en 1951 · documents de plus de 75 ans");
        assert_eq!(t[3], "Notaire");
        assert_eq!(t[4], "depuis 1951 · documents de moins de 75 ans");
        let r = rects(&svg);
        assert!((r[1].1 + r[1].2 - 358.0).abs() < 0.2, "{r:?}");
        assert_eq!(
            timeline_desc(&bands, Lang::Fr),
            "Archives départementales : jusqu'en 1951 (documents de plus de 75 ans). \
             Notaire : depuis 1951 (documents de moins de 75 ans)."
        );
        let en = timeline("t", "", &bands, today, Lang::En);
        assert!(
            en.contains(">today<") && en.contains(">since 1951 · documents de moins de 75 ans<"),
            "{en}"
        );
    }

    #[test]
    fn a_timeline_with_nothing_known_is_one_hatched_band() {
        let today = day("2026-11-23");
        let svg = timeline("t", "d", &[band(None, "", "")], today, Lang::Fr);
        assert_eq!(texts(&svg)[1], "Non couvert · toutes dates");
        let r = rects(&svg);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, "ld-gap");
        assert!((r[0].1 - 2.0).abs() < 0.01 && (r[0].2 - 356.0).abs() < 0.2);
        assert_eq!(
            timeline("Détenteurs", "d", &[], today, Lang::Fr),
            "<p class=\"ld-chart-empty\">Détenteurs : aucune donnée sur la période.</p>"
        );
        // A one-day period still shows.
        let svg = timeline(
            "t",
            "d",
            &[band(Some("A"), "2000-01-01", "2000-01-01")],
            today,
            Lang::Fr,
        );
        assert_eq!(rects(&svg)[0].2, 3.0);
        assert_eq!(texts(&svg)[1], "A · en 2000");
    }

    #[test]
    fn the_stylesheets_carry_the_chart_rules() {
        assert!(include_str!("../../assets/neutral.css").contains(CSS));
        assert!(include_str!("../../templates/admin.html").contains(CSS));
    }
}
