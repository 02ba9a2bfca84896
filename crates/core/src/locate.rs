//! The locate engine: who holds documents of a type for a commune and a
//! date, and may they be consulted yet.
//!
//! Rules apply at five levels, from most to least specific: the former
//! commune asked about (when it is one), the current commune, its EPCI, its
//! département, France. For every day, the holder is given by the most
//! specific rule covering that day; a specific rule overrides a general one
//! only over the period it covers. Days no rule covers are reported as
//! uncovered, never invented.

use chrono::NaiveDate;

use crate::reference::HoldingRule;

/// A span of days, both ends inclusive; `None` is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    pub const ALL: Period = Period {
        from: None,
        to: None,
    };

    /// Whether the two periods share at least one day.
    pub fn intersects(&self, other: &Period) -> bool {
        let s1 = self.from.unwrap_or(NaiveDate::MIN);
        let e1 = self.to.unwrap_or(NaiveDate::MAX);
        let s2 = other.from.unwrap_or(NaiveDate::MIN);
        let e2 = other.to.unwrap_or(NaiveDate::MAX);
        s1 <= e2 && s2 <= e1
    }

    /// Whether the day falls within the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day <= t)
    }
}

/// What the person asked about: a day, a year, or no date at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum When {
    Unknown,
    Year(i32),
    /// A period of whole years, first and last included (« 1985-1990 »),
    /// first before last.
    Years(i32, i32),
    Day(NaiveDate),
}

impl When {
    /// The window of days asked about.
    pub fn window(self) -> Period {
        match self {
            When::Unknown => Period::ALL,
            When::Year(y) => Period {
                from: Some(crate::reference::ymd(y, 1, 1)),
                to: Some(crate::reference::ymd(y, 12, 31)),
            },
            When::Years(a, b) => Period {
                from: Some(crate::reference::ymd(a.min(b), 1, 1)),
                to: Some(crate::reference::ymd(a.max(b), 12, 31)),
            },
            When::Day(d) => Period {
                from: Some(d),
                to: Some(d),
            },
        }
    }

    /// The document's year, which communicability delays count from; for a
    /// period, its last year: every document of the period is free once
    /// the latest is.
    pub fn year(self) -> Option<i32> {
        match self {
            When::Unknown => None,
            When::Year(y) => Some(y),
            When::Years(a, b) => Some(a.max(b)),
            When::Day(d) => Some(chrono::Datelike::year(&d)),
        }
    }
}

/// One unbroken stretch of the timeline held under one rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment<'r> {
    pub rule: &'r HoldingRule,
    /// Index of the level the rule came from (0 = most specific).
    pub level: usize,
    /// The effective period: where a more specific rule takes over, the
    /// general one stops.
    pub period: Period,
}

/// The timeline restricted to the window asked about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline<'r> {
    /// Holders, oldest first, one per unbroken stretch.
    pub segments: Vec<Segment<'r>>,
    /// Periods no rule covers, oldest first.
    pub uncovered: Vec<Period>,
}

/// Computes the timeline from rules grouped by level, most specific first,
/// keeping the segments and gaps that touch `window` (not clipped to it).
pub fn timeline<'r>(
    levels: &[Vec<&'r HoldingRule>],
    window: Period,
    today: NaiveDate,
) -> Timeline<'r> {
    // Every rule as (start, end, level); start None = since ever, end None = for ever.
    let mut spans: Vec<(Option<NaiveDate>, Option<NaiveDate>, usize, &'r HoldingRule)> = Vec::new();
    for (level, rules) in levels.iter().enumerate() {
        for rule in rules {
            if !rule.is_empty_period(today) {
                spans.push((rule.start(today), rule.end(today), level, rule));
            }
        }
    }

    // Elementary intervals start at every rule start and the day after every rule end.
    let mut cuts: Vec<NaiveDate> = Vec::with_capacity(spans.len() * 2);
    for (start, end, _, _) in &spans {
        if let Some(s) = start {
            cuts.push(*s);
        }
        if let Some(next) = end.and_then(|e| e.succ_opt()) {
            cuts.push(next);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();

    // Pieces: (-inf, cuts[0]-1], [cuts[0], cuts[1]-1], …, [cuts[last], +inf).
    let mut pieces: Vec<(Period, Option<(usize, &'r HoldingRule)>)> =
        Vec::with_capacity(cuts.len() + 1);
    let mut start: Option<NaiveDate> = None;
    for i in 0..=cuts.len() {
        let end = cuts.get(i).and_then(|c| c.pred_opt());
        let period = Period {
            from: start,
            to: if i < cuts.len() { end } else { None },
        };
        // A piece may be empty only when a cut is NaiveDate::MIN; skip it then.
        let empty = matches!((period.from, period.to), (Some(f), Some(t)) if t < f)
            || (i < cuts.len() && end.is_none());
        if !empty {
            let probe = period.from.or(period.to).unwrap_or(NaiveDate::MIN);
            let holder = spans
                .iter()
                .filter(|(s, e, _, _)| s.is_none_or(|s| s <= probe) && e.is_none_or(|e| probe <= e))
                .min_by_key(|(s, _, level, _)| (*level, std::cmp::Reverse(*s)))
                .map(|(_, _, level, rule)| (*level, *rule));
            pieces.push((period, holder));
        }
        start = cuts.get(i).copied();
    }

    // Merge neighbouring pieces held under the same rule (or uncovered).
    let mut merged: Vec<(Period, Option<(usize, &'r HoldingRule)>)> =
        Vec::with_capacity(pieces.len());
    for (period, holder) in pieces {
        if let Some(last) = merged.last_mut() {
            let same = match (last.1, holder) {
                (Some((_, a)), Some((_, b))) => std::ptr::eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if same {
                last.0.to = period.to;
                continue;
            }
        }
        merged.push((period, holder));
    }

    let mut out = Timeline::default();
    for (period, holder) in merged {
        if !period.intersects(&window) {
            continue;
        }
        match holder {
            Some((level, rule)) => out.segments.push(Segment {
                rule,
                level,
                period,
            }),
            None => out.uncovered.push(period),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{InseeCode, Slug};
    use crate::reference::{Bound, ServiceRef, Territory};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn b(s: &str) -> Option<Bound> {
        if s.is_empty() {
            None
        } else {
            Some(Bound::parse(s).unwrap().0)
        }
    }
    fn rule(territory: &str, from: &str, to: &str, service: &str) -> HoldingRule {
        HoldingRule {
            document_type: Slug::parse("permis-de-construire").unwrap(),
            territory: Territory::parse(territory).unwrap(),
            from: b(from),
            to: b(to),
            service: ServiceRef::parse(service).unwrap(),
            instructions: None,
            source: None,
            verified_at: None,
        }
    }
    fn today() -> NaiveDate {
        d("2026-11-23")
    }
    fn names(t: &Timeline) -> Vec<(String, Option<NaiveDate>, Option<NaiveDate>)> {
        t.segments
            .iter()
            .map(|s| (s.rule.service.to_string(), s.period.from, s.period.to))
            .collect()
    }

    #[test]
    fn rennes_2015_straddles_a_transfer() {
        let commune = [
            rule("commune:35238", "1908", "2015-06-30", "archives-rennes"),
            rule("commune:35238", "2015-07-01", "", "rennes-metropole-ads"),
        ];
        let france = [rule("france", "1984", "", "@mairie")];
        let levels = vec![commune.iter().collect(), vec![], france.iter().collect()];
        let t = timeline(&levels, When::Year(2015).window(), today());
        assert_eq!(
            names(&t),
            vec![
                (
                    "archives-rennes".into(),
                    Some(d("1908-01-01")),
                    Some(d("2015-06-30"))
                ),
                ("rennes-metropole-ads".into(), Some(d("2015-07-01")), None),
            ]
        );
        assert!(t.uncovered.is_empty());

        // The whole timeline, oldest first, with the gap before 1908.
        let t = timeline(&levels, Period::ALL, today());
        assert_eq!(t.segments.len(), 2);
        assert_eq!(
            t.uncovered,
            vec![Period {
                from: None,
                to: Some(d("1907-12-31"))
            }]
        );

        // A date inside one stretch gives only that holder.
        let t = timeline(&levels, When::Day(d("1985-03-02")).window(), today());
        assert_eq!(
            names(&t),
            vec![(
                "archives-rennes".into(),
                Some(d("1908-01-01")),
                Some(d("2015-06-30"))
            )]
        );
    }

    #[test]
    fn general_rule_fills_around_a_specific_one() {
        let commune = [rule("commune:76351", "1949", "1997", "archives-le-havre")];
        let france = [rule("france", "1984", "", "@mairie")];
        let levels = vec![commune.iter().collect(), france.iter().collect()];
        let t = timeline(&levels, Period::ALL, today());
        assert_eq!(
            names(&t),
            vec![
                (
                    "archives-le-havre".into(),
                    Some(d("1949-01-01")),
                    Some(d("1997-12-31"))
                ),
                ("@mairie".into(), Some(d("1998-01-01")), None),
            ]
        );
        assert_eq!(
            t.uncovered,
            vec![Period {
                from: None,
                to: Some(d("1948-12-31"))
            }]
        );
    }

    #[test]
    fn general_rule_split_by_a_specific_one_gives_two_stretches() {
        let commune = [rule("commune:35238", "1990", "1999", "special")];
        let dept = [rule("departement:35", "1900", "", "ad35")];
        let levels = vec![commune.iter().collect(), dept.iter().collect()];
        let t = timeline(&levels, Period::ALL, today());
        assert_eq!(
            names(&t),
            vec![
                ("ad35".into(), Some(d("1900-01-01")), Some(d("1989-12-31"))),
                (
                    "special".into(),
                    Some(d("1990-01-01")),
                    Some(d("1999-12-31"))
                ),
                ("ad35".into(), Some(d("2000-01-01")), None),
            ]
        );
    }

    #[test]
    fn rolling_bounds_partition_the_timeline() {
        let dept = [
            rule("departement:35", "", "-75y", "ad35"),
            rule("departement:35", "-75y", "", "notaire"),
        ];
        let levels = vec![dept.iter().collect()];
        let t = timeline(&levels, Period::ALL, today());
        assert_eq!(
            names(&t),
            vec![
                ("ad35".into(), None, Some(d("1951-11-23"))),
                ("notaire".into(), Some(d("1951-11-24")), None)
            ]
        );
        assert!(t.uncovered.is_empty());
        let t = timeline(&levels, When::Year(1951).window(), today());
        assert_eq!(t.segments.len(), 2);
    }

    #[test]
    fn no_rule_means_everything_uncovered() {
        let t = timeline(&[vec![]], When::Year(1985).window(), today());
        assert!(t.segments.is_empty());
        assert_eq!(t.uncovered, vec![Period::ALL]);
    }

    #[test]
    fn former_commune_rules_are_most_specific() {
        let former = [rule(
            "commune:50173",
            "1950",
            "1980",
            "archives-equeurdreville",
        )];
        let current = [rule("commune:50129", "1900", "", "archives-cherbourg")];
        let levels = vec![former.iter().collect(), current.iter().collect()];
        let t = timeline(&levels, When::Year(1960).window(), today());
        assert_eq!(names(&t)[0].0, "archives-equeurdreville");
        let _ = InseeCode::parse("50173").unwrap();
    }
}
