//! Commune search over the full Code officiel géographique.
//!
//! Loads the data of `@etalab/decoupage-administratif` from
//! `$LOCADOCS_COG_DIR`, or from the workspace's `node_modules` (run
//! `npm ci --ignore-scripts` at the workspace root first), builds the index
//! and times the query set of `benches/search_queries.txt`.
//!
//! `cargo bench -p locadocs-core --bench search`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use locadocs_core::search::SearchIndex;
use locadocs_core::territory::Commune;

/// Results asked for, as the autocomplete does.
const LIMIT: usize = 10;

fn data_dir() -> PathBuf {
    match std::env::var_os("LOCADOCS_COG_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../node_modules/@etalab/decoupage-administratif/data"
        )),
    }
}

fn load_communes() -> Vec<Commune> {
    let dir = data_dir();
    let read = |name: &str| {
        std::fs::read(dir.join(name)).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}; run `npm ci --ignore-scripts` at the workspace root \
                 or set LOCADOCS_COG_DIR",
                dir.join(name).display()
            )
        })
    };
    locadocs_core::cog::parse(
        &read("communes.json"),
        &read("epci.json"),
        &read("departements.json"),
        &read("regions.json"),
    )
    .expect("valid COG data")
    .communes
}

fn queries() -> Vec<&'static str> {
    include_str!("search_queries.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn bench_search(c: &mut Criterion) {
    let communes = load_communes();
    let start = Instant::now();
    let index = SearchIndex::build(&communes);
    let build = start.elapsed();
    println!(
        "search index: {} entries built in {:.1} ms, {:.1} MiB",
        index.len(),
        build.as_secs_f64() * 1e3,
        index.heap_bytes() as f64 / (1024.0 * 1024.0)
    );
    let queries = queries();
    let n = queries.len();

    // A plain measurement, per query, next to criterion's: warm up, then
    // time rounds of the whole set.
    for q in &queries {
        black_box(index.search(q, LIMIT));
    }
    let rounds = 300;
    let mut per_query = vec![Duration::ZERO; n];
    let mut round_totals = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let round = Instant::now();
        for (q, total) in queries.iter().zip(per_query.iter_mut()) {
            let t = Instant::now();
            black_box(index.search(black_box(q), LIMIT));
            *total += t.elapsed();
        }
        round_totals.push(round.elapsed());
    }
    round_totals.sort();
    let total: Duration = round_totals.iter().sum();
    println!(
        "search: {n} queries, mean {:.2} µs per query, median round {:.2} µs per query \
         (limit {LIMIT}, {rounds} rounds)",
        total.as_secs_f64() * 1e6 / (rounds * n) as f64,
        round_totals[rounds / 2].as_secs_f64() * 1e6 / n as f64,
    );
    let mut slowest: Vec<(Duration, &str)> =
        per_query.into_iter().zip(queries.iter().copied()).collect();
    slowest.sort_by(|a, b| b.cmp(a));
    println!("slowest queries (mean):");
    for (d, q) in slowest.iter().take(8) {
        println!("  {:>8.2} µs  {q:?}", d.as_secs_f64() * 1e6 / rounds as f64);
    }

    let mut group = c.benchmark_group("search");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("query_set", |b| {
        b.iter(|| {
            for q in &queries {
                black_box(index.search(black_box(q), LIMIT));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_search);
criterion_main!(benches);
