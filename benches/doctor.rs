//! (b) The offline doctor on every fixture under fixtures/: load the snapshot
//! and run all sixteen checks, in process (what `xacct doctor --snapshot`
//! does before rendering).
//!
//! Run: `cargo bench --bench doctor`. Figures and machine: docs/performance.md.

use std::path::Path;

use xacct::checks::run_all;
use xacct::snapshot::load_bytes;

fn main() {
    divan::main();
}

/// Every fixture's name and bytes, read once.
fn fixtures() -> &'static [(String, Vec<u8>)] {
    static ALL: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .expect("fixtures/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?.to_string();
                Some((name, std::fs::read(&p).ok()?))
            })
            .collect();
        out.sort();
        out
    })
}

fn names() -> Vec<&'static str> {
    fixtures().iter().map(|(n, _)| n.as_str()).collect()
}

fn doctor(name: &str, bytes: &[u8]) -> usize {
    let snap = load_bytes(name, bytes).unwrap_or_else(|p| panic!("{name}: {}", p.one_line()));
    run_all(&snap).len()
}

/// All fixtures, one after the other: the cost of a whole fixture suite.
#[divan::bench]
fn every_fixture(bencher: divan::Bencher) {
    let all = fixtures();
    bencher
        .counter(divan::counter::ItemsCount::new(all.len()))
        .bench(|| {
            all.iter()
                .map(|(n, b)| doctor(divan::black_box(n), divan::black_box(b)))
                .sum::<usize>()
        });
}

/// Each fixture on its own.
#[divan::bench(args = names())]
fn fixture(bencher: divan::Bencher, name: &str) {
    let bytes = &fixtures()
        .iter()
        .find(|(n, _)| n == name)
        .expect("a fixture")
        .1;
    bencher.bench(|| doctor(divan::black_box(name), divan::black_box(bytes)));
}
