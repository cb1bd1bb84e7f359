//! Vector index benchmarks (`caravan::vectors`): search p50/p99, recall@10 of the approximate
//! index against exact search, build throughput and memory, at 10k and 100k vectors of
//! dimensions 384 and 1536. Run with `cargo bench -p caravan-e2e --bench faiss`;
//! `FAISS_BENCH_1M=1` adds 1M × 384 and 1M × 1536 (1.5 GB and 6 GB per copy of the vectors);
//! `FAISS_BENCH_1M=only` runs those cases alone.
//!
//! At 1M × 1536 the vectors are streamed into each index as they are generated rather than
//! held in a list first, so that no more than two copies (the one the index builder gathers
//! and the index's own) exist at once; that build time includes generating the vectors, which
//! is timed on its own and printed beside it.
//!
//! The vectors are synthetic but shaped like text embeddings: points scattered around 1 000
//! random topic centres (each component of a centre uniform in [-1, 1], each component of a
//! point's offset uniform in [-s, s]), queries drawn the same way. `clustered` is s = 0.35
//! (tight topics), `fuzzy` is s = 1.0 (offsets as large as the centres, so topics overlap).
//! Uniform random vectors, which have no neighbourhoods at all, are the worst case for any
//! clustering index and are reported too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use caravan::vectors::{IndexKind, IndexOptions, VectorIndex};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const QUERIES: usize = 200;
const K: usize = 10;

fn percentile(samples: &mut [Duration], q: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3
}

/// Resident memory of this process in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

struct Data {
    centres: Vec<Vec<f32>>,
    spread: f32,
    rng: StdRng,
}

impl Data {
    /// `spread` 0 means uniform random vectors (no topics).
    fn new(d: usize, spread: f32, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let clustered = spread > 0.0;
        let centres = if clustered {
            (0..1_000)
                .map(|_| (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect())
                .collect()
        } else {
            vec![vec![0.0; d]]
        };
        let spread = if clustered { spread } else { 1.0 };
        Self {
            centres,
            spread,
            rng,
        }
    }

    fn vector(&mut self) -> Vec<f32> {
        let centre = &self.centres[self.rng.random_range(0..self.centres.len())];
        centre
            .iter()
            .map(|c| c + self.spread * self.rng.random_range(-1.0f32..1.0))
            .collect()
    }
}

fn measure(label: &str, n: usize, d: usize, spread: f32, sweep: &[u32]) {
    if n * d >= 1_000_000_000 {
        return measure_streamed(label, n, d, spread, sweep);
    }
    let mut data = Data::new(d, spread, (n * d) as u64);
    let items: Vec<(i64, Vec<f32>)> = (0..n as i64).map(|id| (id, data.vector())).collect();
    let queries: Vec<Vec<f32>> = (0..QUERIES).map(|_| data.vector()).collect();

    let copy = items.clone();
    let before = rss();
    let started = Instant::now();
    let index = VectorIndex::build(d, IndexOptions::default(), copy).unwrap();
    let build = started.elapsed();
    let memory = rss().saturating_sub(before);
    let snapshot = index.to_bytes().unwrap().len();

    let exact = VectorIndex::build(
        d,
        IndexOptions {
            approximate_threshold: usize::MAX,
            nprobe: None,
        },
        items,
    )
    .unwrap();
    let (truth, exact_times) = truth(exact, &queries);

    report(
        label,
        n,
        d,
        index,
        &queries,
        &truth,
        build,
        memory,
        snapshot,
        exact_times,
        sweep,
    );
}

/// The 1M × 1536 case with at most two copies of the vectors in memory: the exact index is
/// built from the generator and searched for the truth, dropped, and the approximate index is
/// built from the same generator again.
fn measure_streamed(label: &str, n: usize, d: usize, spread: f32, sweep: &[u32]) {
    let seed = (n * d) as u64;
    let mut data = Data::new(d, spread, seed);
    let exact = VectorIndex::build(
        d,
        IndexOptions {
            approximate_threshold: usize::MAX,
            nprobe: None,
        },
        (0..n as i64).map(|id| (id, data.vector())),
    )
    .unwrap();
    // The queries follow the vectors in the generator's sequence, as in `measure`.
    let queries: Vec<Vec<f32>> = (0..QUERIES).map(|_| data.vector()).collect();
    let (truth, exact_times) = truth(exact, &queries);

    let mut data = Data::new(d, spread, seed);
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(data.vector());
    }
    let generation = started.elapsed();
    println!(
        "    generating the {n} vectors alone takes {:.1} s (included in the build time below)",
        generation.as_secs_f64()
    );

    let mut data = Data::new(d, spread, seed);
    let before = rss();
    let started = Instant::now();
    let index = VectorIndex::build(
        d,
        IndexOptions::default(),
        (0..n as i64).map(|id| (id, data.vector())),
    )
    .unwrap();
    let build = started.elapsed();
    let memory = rss().saturating_sub(before);
    let snapshot = index.to_bytes().unwrap().len();
    report(
        label,
        n,
        d,
        index,
        &queries,
        &truth,
        build,
        memory,
        snapshot,
        exact_times,
        sweep,
    );
}

/// The exact top-k ids of each query, and how long each exact search took.
fn truth(exact: VectorIndex, queries: &[Vec<f32>]) -> (Vec<Vec<i64>>, Vec<Duration>) {
    let mut times = Vec::new();
    let ids = queries
        .iter()
        .map(|q| {
            let started = Instant::now();
            let hits = exact.search(q, K).unwrap();
            times.push(started.elapsed());
            hits.into_iter().map(|h| h.0).collect()
        })
        .collect();
    (ids, times)
}

/// Searches `index` with the queries, compares with the exact `truth`, prints the figures,
/// and sweeps `nprobe` for an approximate index.
#[allow(clippy::too_many_arguments)]
fn report(
    label: &str,
    n: usize,
    d: usize,
    mut index: VectorIndex,
    queries: &[Vec<f32>],
    truth: &[Vec<i64>],
    build: Duration,
    memory: usize,
    snapshot: usize,
    mut exact_times: Vec<Duration>,
    sweep: &[u32],
) {
    let kind = index.kind();
    let nlist = index.manifest().nlist;
    let default_nprobe = nlist.map(|l| IndexOptions::default().nprobe_for(l));
    let run = |index: &VectorIndex| {
        let mut times = Vec::new();
        let mut found = 0;
        for (q, truth) in queries.iter().zip(truth) {
            let started = Instant::now();
            let hits = index.search(q, K).unwrap();
            times.push(started.elapsed());
            found += hits.iter().filter(|h| truth.contains(&h.0)).count();
        }
        let recall = found as f64 / (QUERIES * K) as f64;
        (
            percentile(&mut times, 0.5),
            percentile(&mut times, 0.99),
            recall,
        )
    };
    let (p50, p99, recall) = run(&index);
    println!(
        "{label} n={n} d={d} {kind:?}{}: build {:.1} s ({:.0} vectors/s), index {:.0} MB (snapshot file; RSS grew {:.0} MB), search p50 {p50:.2} ms p99 {p99:.2} ms, recall@10 {recall:.3}; exact search p50 {:.2} ms",
        match (nlist, default_nprobe) {
            (Some(l), Some(p)) => format!(" nlist={l} nprobe={p}"),
            _ => String::new(),
        },
        build.as_secs_f64(),
        n as f64 / build.as_secs_f64(),
        snapshot as f64 / 1e6,
        memory as f64 / 1e6,
        percentile(&mut exact_times, 0.5),
    );
    if kind == IndexKind::Approximate {
        for &nprobe in sweep {
            index.set_nprobe(nprobe);
            let (p50, p99, recall) = run(&index);
            println!("    nprobe={nprobe}: p50 {p50:.2} ms p99 {p99:.2} ms recall@10 {recall:.3}");
        }
    }
}

fn main() {
    println!("{QUERIES} queries, k={K}, one query at a time on one thread");
    let million = std::env::var("FAISS_BENCH_1M").ok();
    for d in [384, 1536] {
        if million.as_deref() == Some("only") {
            break;
        }
        measure("clustered", 10_000, d, 0.35, &[]);
        measure("clustered", 100_000, d, 0.35, &[8, 32]);
        measure("fuzzy", 100_000, d, 1.0, &[8, 32, 64]);
    }
    if million.as_deref() != Some("only") {
        measure("uniform", 100_000, 384, 0.0, &[64, 128]);
    }
    if million.is_some() {
        measure("clustered", 1_000_000, 384, 0.35, &[32, 64]);
        measure("clustered", 1_000_000, 1536, 0.35, &[32, 64]);
    }
}
