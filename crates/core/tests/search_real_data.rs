//! Commune search over the full Code officiel géographique, as packaged by
//! `@etalab/decoupage-administratif` (installed by `npm ci --ignore-scripts`
//! at the workspace root, or found in `$LOCADOCS_COG_DIR`).

use std::path::PathBuf;
use std::sync::OnceLock;

use locadocs_core::search::{Hit, MatchKind, SearchIndex};
use locadocs_core::territory::{Commune, CommuneKind};
use locadocs_core::text;
use proptest::prelude::*;

struct Data {
    communes: Vec<Commune>,
    index: SearchIndex,
    /// Folded name and its words, for the plain reference search.
    folded: Vec<(String, Vec<String>)>,
}

fn data_dir() -> PathBuf {
    match std::env::var_os("LOCADOCS_COG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../node_modules/@etalab/decoupage-administratif/data"
        )),
    }
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = data_dir();
        assert!(
            dir.join("communes.json").is_file(),
            "the COG data is missing from {}: run `npm ci --ignore-scripts` at the workspace \
             root (or point LOCADOCS_COG_DIR at the data folder of \
             @etalab/decoupage-administratif)",
            dir.display()
        );
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join(name).display()))
        };
        let communes = locadocs_core::cog::parse(
            &read("communes.json"),
            &read("epci.json"),
            &read("departements.json"),
            &read("regions.json"),
        )
        .expect("valid COG data")
        .communes;
        let index = SearchIndex::build(&communes);
        let folded = communes
            .iter()
            .map(|c| {
                let f = text::fold(&c.name);
                let words = text::tokens(&f).map(str::to_owned).collect();
                (f, words)
            })
            .collect();
        Data {
            communes,
            index,
            folded,
        }
    })
}

fn search(query: &str) -> Vec<(&'static Commune, MatchKind)> {
    let d = data();
    d.index
        .search(query, 10)
        .into_iter()
        .map(|Hit { index, kind }| (&d.communes[index as usize], kind))
        .collect()
}

/// The code and name of the first result.
fn first(query: &str) -> (String, String, MatchKind) {
    let hits = search(query);
    let (c, kind) = hits
        .first()
        .unwrap_or_else(|| panic!("no result for {query:?}"));
    (c.code.to_string(), c.name.clone(), *kind)
}

#[test]
fn the_whole_data_is_indexed() {
    let d = data();
    assert!(d.communes.len() > 37_000, "{}", d.communes.len());
    assert_eq!(d.index.len(), d.communes.len());
}

#[test]
fn names_find_their_commune_first() {
    assert_eq!(
        first("rennes"),
        ("35238".into(), "Rennes".into(), MatchKind::Exact)
    );
    assert_eq!(
        first("Rennes"),
        ("35238".into(), "Rennes".into(), MatchKind::Exact)
    );
    assert_eq!(
        first("evreux"),
        ("27229".into(), "Évreux".into(), MatchKind::Exact)
    );
    assert_eq!(first("Évreux").0, "27229");
    assert_eq!(
        first("paris"),
        ("75056".into(), "Paris".into(), MatchKind::Exact)
    );
    assert_eq!(
        first("st malo"),
        ("35288".into(), "Saint-Malo".into(), MatchKind::Exact)
    );
    assert_eq!(first("Saint-Malo").0, "35288");
    assert_eq!(first("la rochelle").0, "17300");
    assert_eq!(first("Marseille").0, "13055");
}

#[test]
fn a_later_word_is_enough() {
    assert_eq!(
        first("havre"),
        ("76351".into(), "Le Havre".into(), MatchKind::Prefix)
    );
    let hits = search("abergement");
    assert!(
        hits.iter()
            .any(|(c, _)| c.name == "L'Abergement-Clémenciat"),
        "{hits:?}"
    );
    assert!(hits.iter().all(|&(_, k)| k == MatchKind::Prefix));
    assert_eq!(first("aix en").0, "13001");
}

#[test]
fn prefixes_rank_by_population() {
    assert_eq!(first("ren").0, "35238");
    assert_eq!(first("mar").0, "13055");
    assert_eq!(first("bor").0, "33063");
    // Sai (Orne) is named exactly so; the prefixes follow, largest first.
    let hits = search("sai");
    assert_eq!(hits.len(), 10);
    assert_eq!(
        (hits[0].0.code.as_str(), hits[0].1),
        ("61358", MatchKind::Exact)
    );
    assert_eq!(hits[1].0.code.as_str(), "42218");
    let pops: Vec<u32> = hits[1..]
        .iter()
        .map(|(c, _)| c.population.unwrap())
        .collect();
    assert!(pops.windows(2).all(|w| w[0] >= w[1]), "{pops:?}");
}

#[test]
fn typos_are_forgiven() {
    assert_eq!(
        first("montpelier"),
        ("34172".into(), "Montpellier".into(), MatchKind::Fuzzy)
    );
    assert_eq!(
        first("marsielle"),
        ("13055".into(), "Marseille".into(), MatchKind::Fuzzy)
    );
    assert_eq!(first("rnnes").0, "35238");
    assert_eq!(first("bordeuax").0, "33063");
    // A true prefix comes first: Toulouzette, then Toulouse.
    let hits = search("toulouze");
    assert_eq!(
        (hits[0].0.name.as_str(), hits[0].1),
        ("Toulouzette", MatchKind::Prefix)
    );
    assert_eq!(
        (hits[1].0.code.as_str(), hits[1].1),
        ("31555", MatchKind::Fuzzy)
    );
    assert_eq!(first("strasbur").0, "67482");
}

#[test]
fn former_communes_are_found_under_their_own_name() {
    let (code, name, kind) = first("cherbourg octeville");
    assert_eq!(
        (code.as_str(), name.as_str(), kind),
        ("50129", "Cherbourg-Octeville", MatchKind::Exact)
    );
    let hits = search("cherbourg octeville");
    assert_eq!(hits[0].0.kind, CommuneKind::Delegated);
    assert_eq!(hits[0].0.current.unwrap().as_str(), "50129");
}

#[test]
fn codes_find_their_communes() {
    let hits = search("50129");
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(hits[0].0.name, "Cherbourg-en-Cotentin");
    assert_eq!(hits[0].0.kind, CommuneKind::Current);
    assert_eq!(hits[1].0.name, "Cherbourg-Octeville");
    assert_eq!(hits[1].0.kind, CommuneKind::Delegated);
    assert!(hits.iter().all(|&(_, k)| k == MatchKind::Exact));

    assert_eq!(
        first("2a004"),
        ("2A004".into(), "Ajaccio".into(), MatchKind::Exact)
    );
    assert_eq!(first("2A004").0, "2A004");
    assert_eq!(first("35238").0, "35238");
    assert_eq!(
        first("35000"),
        ("35238".into(), "Rennes".into(), MatchKind::Exact)
    );
    assert_eq!(first("76600").0, "76351");
    let hits = search("13001");
    assert!(
        hits.iter().any(|(c, _)| c.name == "Aix-en-Provence"),
        "{hits:?}"
    );
    assert!(
        hits.iter().any(|(c, _)| c.code.as_str() == "13201"),
        "{hits:?}"
    );

    let hits = search("350");
    assert_eq!(hits[0].0.code.as_str(), "35238");
    assert!(hits.iter().all(|&(_, k)| k == MatchKind::Prefix));
}

#[test]
fn nothing_for_nothing() {
    assert!(search("").is_empty());
    assert!(search("  - ' ").is_empty());
    assert!(data().index.search("rennes", 0).is_empty());
    let long = "saint ".repeat(2000);
    assert!(search(&long).is_empty());
    let long = "a".repeat(10_000);
    let _ = search(&long);
}

/// Smallest optimal-string-alignment distance between `q` and a prefix of `w`.
fn prefix_distance(q: &[u8], w: &[u8]) -> usize {
    let (n, m) = (q.len(), w.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(q[i - 1] != w[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && q[i - 1] == w[j - 2] && q[i - 2] == w[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n].iter().copied().min().unwrap_or(n)
}

/// The matching and ranking rules applied to every entry in turn.
fn plain_search(query: &str, limit: usize) -> Vec<(u32, MatchKind)> {
    let d = data();
    let folded = text::fold(query);
    let raw: Vec<&str> = text::words(&folded).collect();
    let expanded: Vec<&str> = text::tokens(&folded).collect();
    let last = raw.len() - 1;
    let budget = |t: usize| match expanded[t].len() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    };
    let starts = |t: usize, w: &str| {
        w.starts_with(expanded[t]) || (t == last && raw[t] != expanded[t] && w.starts_with(raw[t]))
    };
    let close = |t: usize, w: &str| {
        budget(t) > 0 && prefix_distance(expanded[t].as_bytes(), w.as_bytes()) <= budget(t)
    };
    fn assign(
        t: usize,
        used: &mut [bool],
        words: &[String],
        ok: &dyn Fn(usize, &str) -> bool,
        n: usize,
    ) -> bool {
        t == n
            || (0..words.len()).any(|j| {
                if used[j] || !ok(t, &words[j]) {
                    return false;
                }
                used[j] = true;
                let done = assign(t + 1, used, words, ok, n);
                used[j] = false;
                done
            })
    }
    let mut hits = Vec::new();
    for (i, (name, words)) in d.folded.iter().enumerate() {
        let mut used = vec![false; words.len()];
        let kind = if *words == expanded {
            MatchKind::Exact
        } else if assign(0, &mut used, words, &starts, raw.len()) {
            MatchKind::Prefix
        } else if assign(
            0,
            &mut used,
            words,
            &|t, w| starts(t, w) || close(t, w),
            raw.len(),
        ) {
            MatchKind::Fuzzy
        } else {
            continue;
        };
        hits.push((kind, i, name));
    }
    let c = &d.communes;
    hits.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(c[b.1].population.cmp(&c[a.1].population))
            .then_with(|| a.2.cmp(b.2))
            .then_with(|| c[a.1].name.cmp(&c[b.1].name))
            .then_with(|| c[a.1].code.cmp(&c[b.1].code))
            .then_with(|| {
                (c[a.1].kind != CommuneKind::Current).cmp(&(c[b.1].kind != CommuneKind::Current))
            })
            .then(a.1.cmp(&b.1))
    });
    hits.into_iter()
        .take(limit)
        .map(|(k, i, _)| (i as u32, k))
        .collect()
}

#[test]
fn the_index_agrees_with_a_plain_search() {
    for query in [
        "rnnes",
        "montpelier",
        "marsielle",
        "bordeuax",
        "toulouze",
        "strasbur",
        "la rochelle",
        "saint etiene",
        "aix en provnce",
        "sainte marye",
        "chateau nef",
        "st",
        "ren",
        "eaux",
    ] {
        let want = plain_search(query, 40);
        for limit in [10, 40] {
            let got: Vec<(u32, MatchKind)> = data()
                .index
                .search(query, limit)
                .into_iter()
                .map(|h| (h.index, h.kind))
                .collect();
            assert_eq!(
                got,
                want[..limit.min(want.len())],
                "{query:?}, limit {limit}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn search_never_panics_nor_repeats(query in "\\PC{0,40}", limit in 0usize..30) {
        let hits = data().index.search(&query, limit);
        prop_assert!(hits.len() <= limit);
        let mut seen: Vec<u32> = hits.iter().map(|h| h.index).collect();
        seen.sort_unstable();
        seen.dedup();
        prop_assert_eq!(seen.len(), hits.len());
        let kinds: Vec<MatchKind> = hits.iter().map(|h| h.kind).collect();
        prop_assert!(kinds.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn name_like_queries_never_repeat(query in "[a-zA-Zéèç' -]{0,30}") {
        let hits = data().index.search(&query, 25);
        let mut seen: Vec<u32> = hits.iter().map(|h| h.index).collect();
        seen.sort_unstable();
        seen.dedup();
        prop_assert_eq!(seen.len(), hits.len());
    }
}
