//! Property tests of the locate engine's period logic against a brute-force
//! day-by-day model.

use chrono::NaiveDate;
use locadocs_core::locate::{Period, timeline};
use locadocs_core::{Bound, HoldingRule, ServiceRef, Slug, Territory};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn day(offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(offset)
}

/// A bound within a small range of days so that rules collide often.
fn bound() -> impl Strategy<Value = Option<Bound>> {
    prop_oneof![
        1 => Just(None),
        6 => (0i64..120).prop_map(|d| Some(Bound::Date(day(d)))),
    ]
}

/// Rules of one level, made non-overlapping the way the importer requires.
fn level(service_base: usize) -> impl Strategy<Value = Vec<HoldingRule>> {
    prop::collection::vec((bound(), bound()), 0..4).prop_map(move |spans| {
        let mut kept: Vec<HoldingRule> = Vec::new();
        for (i, (from, to)) in spans.into_iter().enumerate() {
            let rule = HoldingRule {
                document_type: Slug::parse("d").unwrap(),
                territory: Territory::France,
                from,
                to,
                service: ServiceRef::Id(Slug::parse(&format!("s{}", service_base + i)).unwrap()),
                instructions: None,
                source: None,
                verified_at: None,
            };
            if !rule.is_empty_period(today()) && kept.iter().all(|k| !k.overlaps(&rule, today())) {
                kept.push(rule);
            }
        }
        kept
    })
}

/// The most specific rule covering a day, by brute force.
fn model<'r>(levels: &[Vec<&'r HoldingRule>], d: NaiveDate) -> Option<&'r HoldingRule> {
    levels.iter().find_map(|rules| {
        rules.iter().copied().find(|r| {
            r.start(today()).is_none_or(|s| s <= d) && r.end(today()).is_none_or(|e| d <= e)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn timeline_matches_the_day_by_day_model(a in level(0), b in level(10), c in level(20), w1 in 0i64..130, len in 0i64..40) {
        let levels: Vec<Vec<&HoldingRule>> = vec![a.iter().collect(), b.iter().collect(), c.iter().collect()];
        let all = timeline(&levels, Period::ALL, today());

        // Segments and gaps are sorted, disjoint, and together cover every day.
        let mut pieces: Vec<(Period, Option<&HoldingRule>)> = all.segments.iter().map(|s| (s.period, Some(s.rule))).collect();
        pieces.extend(all.uncovered.iter().map(|p| (*p, None)));
        pieces.sort_by_key(|(p, _)| p.from);
        prop_assert!(pieces.first().is_some_and(|(p, _)| p.from.is_none()));
        prop_assert!(pieces.last().is_some_and(|(p, _)| p.to.is_none()));
        for pair in pieces.windows(2) {
            let next = pair[0].0.to.and_then(|t| t.succ_opt());
            prop_assert_eq!(next, pair[1].0.from, "pieces must touch without gap or overlap");
            // Neighbours never hold the same rule (they would have merged).
            let same = match (pair[0].1, pair[1].1) {
                (Some(x), Some(y)) => std::ptr::eq(x, y),
                (None, None) => true,
                _ => false,
            };
            prop_assert!(!same);
        }

        // Every day's holder is the most specific covering rule.
        for offset in -5i64..135 {
            let d = day(offset);
            let piece = pieces.iter().find(|(p, _)| p.contains(d)).expect("every day is in a piece");
            let expected = model(&levels, d);
            prop_assert!(match (piece.1, expected) {
                (Some(x), Some(y)) => std::ptr::eq(x, y),
                (None, None) => true,
                _ => false,
            }, "day {d}");
        }

        // A window keeps exactly the pieces that touch it, unclipped.
        let window = Period { from: Some(day(w1)), to: Some(day(w1 + len)) };
        let win = timeline(&levels, window, today());
        let expected: Vec<_> = all.segments.iter().filter(|s| s.period.intersects(&window)).map(|s| s.period).collect();
        prop_assert_eq!(win.segments.iter().map(|s| s.period).collect::<Vec<_>>(), expected);
        let expected_gaps: Vec<_> = all.uncovered.iter().filter(|p| p.intersects(&window)).copied().collect();
        prop_assert_eq!(win.uncovered, expected_gaps);
    }
}
