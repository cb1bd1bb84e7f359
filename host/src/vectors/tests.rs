//! Tests of the vector index and its registry: search, removal, snapshots, lazy loading,
//! concurrency, the exact-to-approximate upgrade and its recall.

use std::sync::Arc;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::registry::{INDEX_OBJECT, MANIFEST_OBJECT};
use super::*;
use crate::blobs::Blobs;

fn random_vectors(rng: &mut StdRng, n: usize, d: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0f32..1.0)).collect())
        .collect()
}

/// Vectors scattered around `topics` random centres, the way text embeddings gather around
/// subjects (uniform random vectors have no neighbourhoods for a clustering index to find).
fn clustered_vectors(rng: &mut StdRng, n: usize, d: usize, topics: usize) -> Vec<Vec<f32>> {
    let centres = random_vectors(rng, topics, d);
    (0..n)
        .map(|_| {
            let centre = &centres[rng.random_range(0..topics)];
            centre
                .iter()
                .map(|c| c + 0.35 * rng.random_range(-1.0f32..1.0))
                .collect()
        })
        .collect()
}

fn ids(n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| i * 10 + 7).collect()
}

/// The ids of the `k` nearest by cosine, computed by brute force here.
fn brute_force(data: &[(i64, Vec<f32>)], query: &[f32], k: usize) -> Vec<i64> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let q = norm(query);
    let mut scored: Vec<(f32, i64)> = data
        .iter()
        .map(|(id, v)| {
            let dot: f32 = v.iter().zip(query).map(|(a, b)| a * b).sum();
            (dot / (norm(v) * q), *id)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}

fn local_registry(options: IndexOptions) -> (tempfile::TempDir, Blobs, VectorIndexes) {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::local(dir.path()).unwrap();
    let indexes = VectorIndexes::new(blobs.clone(), options);
    (dir, blobs, indexes)
}

#[test]
fn exact_search_finds_the_nearest_vector_with_its_cosine() {
    let mut rng = StdRng::seed_from_u64(1);
    let vectors = random_vectors(&mut rng, 500, 32);
    let ids = ids(500);
    let mut index = VectorIndex::new(32, IndexOptions::default()).unwrap();
    index.add(&ids, &vectors).unwrap();
    assert_eq!(index.len(), 500);
    assert_eq!(index.dimension(), 32);
    assert_eq!(index.kind(), IndexKind::Exact);

    // A stored vector, scaled: cosine ignores length, so it is its own best match at 1.0.
    let query: Vec<f32> = vectors[123].iter().map(|x| x * 3.5).collect();
    let hits = index.search(&query, 5).unwrap();
    assert_eq!(hits.len(), 5);
    assert_eq!(hits[0].0, ids[123]);
    assert!((hits[0].1 - 1.0).abs() < 1e-4, "{hits:?}");
    assert!(
        hits.windows(2).all(|w| w[0].1 >= w[1].1),
        "best first: {hits:?}"
    );

    let data: Vec<(i64, Vec<f32>)> = ids.iter().copied().zip(vectors).collect();
    let query = random_vectors(&mut rng, 1, 32).remove(0);
    let found: Vec<i64> = index
        .search(&query, 10)
        .unwrap()
        .iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(found, brute_force(&data, &query, 10));
}

#[test]
fn searching_asks_for_at_most_what_is_there() {
    let mut index = VectorIndex::new(3, IndexOptions::default()).unwrap();
    assert!(index.search(&[1.0, 0.0, 0.0], 10).unwrap().is_empty());
    index
        .add(&[1, 2], &[vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]])
        .unwrap();
    let hits = index.search(&[1.0, 0.1, 0.0], 10).unwrap();
    assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn removed_vectors_are_no_longer_found_and_re_adding_an_id_replaces_its_vector() {
    let mut index = VectorIndex::new(3, IndexOptions::default()).unwrap();
    index
        .add(
            &[1, 2, 3],
            &[
                vec![1.0, 0.0, 0.0],
                vec![0.0, 1.0, 0.0],
                vec![0.0, 0.0, 1.0],
            ],
        )
        .unwrap();
    assert_eq!(index.remove(&[2, 99]).unwrap(), 1);
    assert_eq!(index.len(), 2);
    let hits = index.search(&[0.0, 1.0, 0.0], 3).unwrap();
    assert!(hits.iter().all(|h| h.0 != 2), "{hits:?}");

    index.add(&[1], &[vec![0.0, 1.0, 0.0]]).unwrap();
    assert_eq!(
        index.len(),
        2,
        "a re-added id replaces, it does not duplicate"
    );
    assert_eq!(index.search(&[0.0, 1.0, 0.0], 1).unwrap()[0].0, 1);
}

#[test]
fn a_dimension_mismatch_is_an_error_that_names_both_dimensions() {
    let mut index = VectorIndex::new(4, IndexOptions::default()).unwrap();
    let err = index.add(&[1], &[vec![1.0, 2.0, 3.0]]).unwrap_err();
    assert!(
        matches!(
            err,
            VectorError::DimensionMismatch {
                expected: 4,
                actual: 3
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("dimension 4, got 3"), "{err}");
    let err = index.search(&[1.0; 5], 1).unwrap_err();
    assert!(matches!(
        err,
        VectorError::DimensionMismatch {
            expected: 4,
            actual: 5
        }
    ));
    assert!(index.is_empty(), "nothing is added from a refused batch");
}

#[test]
fn invalid_input_is_refused_with_a_reason() {
    let mut index = VectorIndex::new(2, IndexOptions::default()).unwrap();
    let zero = index.add(&[1], &[vec![0.0, 0.0]]).unwrap_err();
    assert!(zero.to_string().contains("zero vector"), "{zero}");
    let nan = index.add(&[1], &[vec![f32::NAN, 1.0]]).unwrap_err();
    assert!(nan.to_string().contains("NaN"), "{nan}");
    let negative = index.add(&[-5], &[vec![1.0, 1.0]]).unwrap_err();
    assert!(
        negative.to_string().contains("zero or positive"),
        "{negative}"
    );
    let lengths = index.add(&[1, 2], &[vec![1.0, 1.0]]).unwrap_err();
    assert!(matches!(
        lengths,
        VectorError::LengthMismatch { ids: 2, vectors: 1 }
    ));
    assert!(matches!(
        VectorIndex::new(0, IndexOptions::default()),
        Err(VectorError::ZeroDimension)
    ));
}

#[test]
fn crossing_the_threshold_switches_to_the_approximate_index_with_high_recall() {
    let (n, d, k) = (4_000, 32, 10);
    let options = IndexOptions {
        approximate_threshold: 3_000,
        nprobe: None,
    };
    let mut rng = StdRng::seed_from_u64(7);
    let mut vectors = clustered_vectors(&mut rng, n + 50, d, 100);
    let queries = vectors.split_off(n);
    let ids = ids(n);
    let mut index = VectorIndex::new(d, options).unwrap();
    index.add(&ids[..2_500], &vectors[..2_500]).unwrap();
    assert_eq!(index.kind(), IndexKind::Exact);
    index.add(&ids[2_500..], &vectors[2_500..]).unwrap();
    assert_eq!(index.kind(), IndexKind::Approximate);
    assert_eq!(index.len(), n);
    let manifest = index.manifest();
    assert_eq!(manifest.nlist, Some(IndexOptions::nlist_for(n)));

    let data: Vec<(i64, Vec<f32>)> = ids.iter().copied().zip(vectors).collect();
    let mut hits = 0;
    for query in &queries {
        let exact = brute_force(&data, query, k);
        let found = index.search(query, k).unwrap();
        hits += found.iter().filter(|h| exact.contains(&h.0)).count();
    }
    let recall = hits as f64 / (queries.len() * k) as f64;
    assert!(recall >= 0.95, "recall@10 {recall}");

    // The approximate index still removes and replaces by id.
    assert_eq!(index.remove(&ids[..100]).unwrap(), 100);
    assert_eq!(index.len(), n - 100);
    let found = index.search(&data[0].1, 5).unwrap();
    assert!(found.iter().all(|h| h.0 != ids[0]), "{found:?}");
}

#[test]
fn building_from_many_vectors_picks_the_kind_by_count() {
    let options = IndexOptions {
        approximate_threshold: 1_000,
        nprobe: None,
    };
    let mut rng = StdRng::seed_from_u64(3);
    let small = ids(999).into_iter().zip(random_vectors(&mut rng, 999, 8));
    assert_eq!(
        VectorIndex::build(8, options, small).unwrap().kind(),
        IndexKind::Exact
    );
    let large: Vec<_> = ids(1_000)
        .into_iter()
        .zip(random_vectors(&mut rng, 1_000, 8))
        .collect();
    let index = VectorIndex::build(8, options, large.clone()).unwrap();
    assert_eq!(index.kind(), IndexKind::Approximate);
    assert_eq!(index.len(), 1_000);
    assert_eq!(index.search(&large[5].1, 1).unwrap()[0].0, large[5].0);
}

#[test]
fn snapshot_bytes_read_back_to_identical_results_for_both_kinds() {
    let mut rng = StdRng::seed_from_u64(11);
    for threshold in [usize::MAX, 1_000] {
        let options = IndexOptions {
            approximate_threshold: threshold,
            nprobe: None,
        };
        let items: Vec<_> = ids(2_000)
            .into_iter()
            .zip(random_vectors(&mut rng, 2_000, 16))
            .collect();
        let index = VectorIndex::build(16, options, items).unwrap();
        let bytes = index.to_bytes().unwrap();
        let copy = VectorIndex::from_bytes(&bytes, &index.manifest(), options).unwrap();
        assert_eq!(copy.status(), index.status());
        for query in random_vectors(&mut rng, 20, 16) {
            assert_eq!(
                index.search(&query, 10).unwrap(),
                copy.search(&query, 10).unwrap()
            );
        }
    }
}

#[test]
fn a_snapshot_that_disagrees_with_its_manifest_or_is_garbage_is_corrupt() {
    let mut index = VectorIndex::new(4, IndexOptions::default()).unwrap();
    index
        .add(&[1, 2], &[vec![1.0; 4], vec![-1.0, 1.0, 1.0, 1.0]])
        .unwrap();
    let bytes = index.to_bytes().unwrap();
    let manifest = index.manifest();
    let options = IndexOptions::default();

    let wrong_count = Manifest {
        count: 3,
        ..manifest.clone()
    };
    let wrong_dimension = Manifest {
        dimension: 5,
        ..manifest.clone()
    };
    let wrong_kind = Manifest {
        kind: IndexKind::Approximate,
        ..manifest.clone()
    };
    let future = Manifest {
        version: 99,
        ..manifest.clone()
    };
    for bad in [wrong_count, wrong_dimension, wrong_kind, future] {
        let err = VectorIndex::from_bytes(&bytes, &bad, options).unwrap_err();
        assert!(
            matches!(err, VectorError::CorruptSnapshot(_)),
            "{bad:?}: {err}"
        );
    }
    for garbage in [&b"not an index at all"[..], &bytes[..bytes.len() / 2], &[]] {
        let err = VectorIndex::from_bytes(garbage, &manifest, options).unwrap_err();
        assert!(matches!(err, VectorError::CorruptSnapshot(_)), "{err}");
    }
}

#[tokio::test]
async fn a_snapshot_round_trips_through_object_storage_and_loads_lazily() {
    let (dir, blobs, indexes) = local_registry(IndexOptions::default());
    let mut rng = StdRng::seed_from_u64(5);
    let vectors = random_vectors(&mut rng, 300, 24);
    indexes.add("agency", ids(300), vectors).await.unwrap();
    let queries = random_vectors(&mut rng, 10, 24);
    let mut before = Vec::new();
    for q in &queries {
        before.push(indexes.search("agency", q.clone(), 5).await.unwrap());
    }
    assert!(indexes.snapshot("agency").await.unwrap());
    assert!(
        !indexes.snapshot("agency").await.unwrap(),
        "nothing changed since"
    );
    let manifest: Manifest = serde_json::from_slice(
        &blobs
            .get(&Blobs::tenant_path("agency", MANIFEST_OBJECT).unwrap())
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(manifest.count, 300);
    assert_eq!(manifest.dimension, 24);
    assert_eq!(manifest.kind, IndexKind::Exact);

    // A new registry (a restarted host) loads the snapshot on first use.
    let fresh = VectorIndexes::new(Blobs::local(dir.path()).unwrap(), IndexOptions::default());
    for (q, expected) in queries.iter().zip(&before) {
        assert_eq!(
            &fresh.search("agency", q.clone(), 5).await.unwrap(),
            expected
        );
    }
    let status = fresh.status("agency").await.unwrap().unwrap();
    assert_eq!((status.count, status.dimension), (300, 24));

    // Another tenant has nothing, which is not an error.
    assert!(
        fresh
            .search("other", queries[0].clone(), 5)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(fresh.status("other").await.unwrap(), None);
}

#[tokio::test]
async fn a_corrupt_snapshot_is_reported_and_a_rebuild_replaces_it() {
    let (dir, blobs, indexes) = local_registry(IndexOptions::default());
    indexes
        .add("agency", vec![1, 2], vec![vec![1.0, 0.0], vec![0.0, 1.0]])
        .await
        .unwrap();
    indexes.snapshot("agency").await.unwrap();
    blobs
        .put(
            &Blobs::tenant_path("agency", INDEX_OBJECT).unwrap(),
            Bytes::from_static(b"garbage"),
        )
        .await
        .unwrap();

    let fresh = VectorIndexes::new(Blobs::local(dir.path()).unwrap(), IndexOptions::default());
    let err = fresh.search("agency", vec![1.0, 0.0], 1).await.unwrap_err();
    assert!(matches!(err, VectorError::CorruptSnapshot(_)), "{err}");

    let status = fresh
        .rebuild(
            "agency",
            2,
            None,
            vec![(1, vec![1.0, 0.0]), (2, vec![0.0, 1.0])],
        )
        .await
        .unwrap();
    assert_eq!(status.count, 2);
    assert_eq!(
        fresh.search("agency", vec![0.1, 1.0], 1).await.unwrap()[0].0,
        2
    );
    let again = VectorIndexes::new(Blobs::local(dir.path()).unwrap(), IndexOptions::default());
    assert_eq!(again.status("agency").await.unwrap().unwrap().count, 2);
}

#[tokio::test]
async fn a_changed_dimension_is_refused_until_the_index_is_rebuilt() {
    let (_dir, _blobs, indexes) = local_registry(IndexOptions::default());
    indexes
        .add("agency", vec![1], vec![vec![1.0; 8]])
        .await
        .unwrap();
    let err = indexes
        .add("agency", vec![2], vec![vec![1.0; 16]])
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        VectorError::DimensionMismatch {
            expected: 8,
            actual: 16
        }
    ));
    indexes
        .rebuild("agency", 16, None, vec![(2, vec![1.0; 16])])
        .await
        .unwrap();
    assert_eq!(
        indexes.status("agency").await.unwrap().unwrap().dimension,
        16
    );
}

#[tokio::test]
async fn dropping_a_tenant_forgets_its_index_and_deletes_its_snapshot() {
    let (_dir, blobs, indexes) = local_registry(IndexOptions::default());
    indexes
        .add("agency", vec![1], vec![vec![1.0, 2.0]])
        .await
        .unwrap();
    indexes.snapshot("agency").await.unwrap();
    indexes.drop_tenant("agency").await.unwrap();
    assert!(blobs.list_tenant("agency").await.unwrap().is_empty());
    assert_eq!(indexes.status("agency").await.unwrap(), None);
    assert!(
        indexes
            .search("agency", vec![1.0, 2.0], 1)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_searches_and_changes_keep_the_index_consistent() {
    let (_dir, _blobs, indexes) = local_registry(IndexOptions {
        approximate_threshold: 1_500,
        nprobe: None,
    });
    let indexes = Arc::new(indexes);
    let d = 16;
    let mut rng = StdRng::seed_from_u64(9);
    indexes
        .add("agency", ids(500), random_vectors(&mut rng, 500, d))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for writer in 0..4i64 {
        let indexes = indexes.clone();
        let vectors = random_vectors(&mut rng, 500, d);
        tasks.push(tokio::spawn(async move {
            // Ids of their own, so the final count is known: 500 + 4 × 500, minus removals.
            for (batch, chunk) in vectors.chunks(50).enumerate() {
                let first = 1_000_000 * (writer + 1) + batch as i64 * 50;
                let ids: Vec<i64> = (first..first + chunk.len() as i64).collect();
                indexes.add("agency", ids, chunk.to_vec()).await.unwrap();
            }
            indexes
                .remove("agency", vec![1_000_000 * (writer + 1)])
                .await
                .unwrap();
        }));
    }
    for _ in 0..4 {
        let indexes = indexes.clone();
        let queries = random_vectors(&mut rng, 40, d);
        tasks.push(tokio::spawn(async move {
            for q in queries {
                let hits = indexes.search("agency", q, 10).await.unwrap();
                assert_eq!(hits.len(), 10);
                assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1));
            }
        }));
    }
    let snapshots = {
        let indexes = indexes.clone();
        tokio::spawn(async move {
            for _ in 0..5 {
                indexes.snapshot("agency").await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    snapshots.await.unwrap();
    let status = indexes.status("agency").await.unwrap().unwrap();
    assert_eq!(status.count, 500 + 4 * 500 - 4);
    assert_eq!(status.kind, IndexKind::Approximate);
}
