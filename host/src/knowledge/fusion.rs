//! Combines vector and keyword results for the same query into one ranked list with scores in [0, 1].
//!
//! The two sides measure different things on different scales: cosine similarity lies in
//! [-1, 1], while BM25 is unbounded and depends on the query and the collection. Each list is
//! first brought to [0, 1], then the two are mixed with fixed weights.

use std::collections::HashMap;

/// How much each side counts in the fused score; the defaults favour meaning over exact words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    /// The weight of the normalised cosine similarity.
    pub vector: f32,
    /// The weight of the normalised BM25 score.
    pub keyword: f32,
}

impl Default for FusionWeights {
    fn default() -> Self {
        Self {
            vector: 0.6,
            keyword: 0.4,
        }
    }
}

/// One fused result: the chunk, its combined score in [0, 1], and the normalised score from each
/// side that found it (`None` when that side did not return it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The chunk id.
    pub id: i64,
    /// The fused score in [0, 1]; higher is better.
    pub score: f32,
    /// The cosine similarity clamped to [0, 1], if the vector side returned this chunk.
    pub vector: Option<f32>,
    /// The BM25 score divided by the best BM25 score of the list, if the keyword side returned
    /// this chunk.
    pub keyword: Option<f32>,
}

/// Merges `vector` (chunk id, cosine similarity) and `keyword` (chunk id, BM25 score) into the `k`
/// best chunks, best first, ties broken by the lower id.
///
/// Normalisation: a cosine similarity is clamped to [0, 1], since a negative similarity means
/// "unrelated" as much as zero does. A BM25 score is divided by the highest BM25 score in its
/// list. That puts the best keyword hit at 1, on the same scale as a strong vector hit, without
/// needing a collection-wide maximum that BM25 does not have; unlike min-max scaling it does not
/// send the weakest hit to 0, and a list with a single result still gets a meaningful 1 instead
/// of a division by zero.
///
/// Mixing: the fused score is `weights.vector * v + weights.keyword * k`, a side that did not
/// return a chunk counting 0. When one list is empty, for instance because embeddings are
/// unavailable and the caller ran keyword search alone, the result is the other side's
/// normalised score unweighted. Scaling it down by a weight would push every result under a
/// caller's `min_score` threshold just because one side was missing.
///
/// Weights are used as given when they sum to 1; otherwise they are divided by their sum so the
/// fused score stays in [0, 1]. Negative or non-finite weights count as 0, and if both are 0 the
/// defaults apply. Non-finite scores in the input count as 0.
pub fn fuse(
    vector: &[(i64, f32)],
    keyword: &[(i64, f32)],
    weights: FusionWeights,
    k: usize,
) -> Vec<Scored> {
    let (weight_vector, weight_keyword) = match (vector.is_empty(), keyword.is_empty()) {
        (true, true) => return Vec::new(),
        (false, true) => (1.0, 0.0),
        (true, false) => (0.0, 1.0),
        (false, false) => normalised_weights(weights),
    };

    let mut merged: HashMap<i64, (Option<f32>, Option<f32>)> = HashMap::new();
    for &(id, cosine) in vector {
        let v = finite_or_zero(cosine).clamp(0.0, 1.0);
        let entry = merged.entry(id).or_default();
        // A chunk listed twice keeps its best score rather than whichever came last.
        entry.0 = Some(entry.0.map_or(v, |old| old.max(v)));
    }
    let best_keyword = keyword
        .iter()
        .map(|&(_, s)| finite_or_zero(s))
        .fold(0.0f32, f32::max);
    for &(id, bm25) in keyword {
        let s = if best_keyword > 0.0 {
            (finite_or_zero(bm25) / best_keyword).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let entry = merged.entry(id).or_default();
        entry.1 = Some(entry.1.map_or(s, |old| old.max(s)));
    }

    let mut fused: Vec<Scored> = merged
        .into_iter()
        .map(|(id, (v, kw))| Scored {
            id,
            score: (weight_vector * v.unwrap_or(0.0) + weight_keyword * kw.unwrap_or(0.0))
                .clamp(0.0, 1.0),
            vector: v,
            keyword: kw,
        })
        .collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    fused.truncate(k);
    fused
}

/// The weights made non-negative and summing to 1, so the fused score cannot leave [0, 1].
fn normalised_weights(weights: FusionWeights) -> (f32, f32) {
    let vector = finite_or_zero(weights.vector).max(0.0);
    let keyword = finite_or_zero(weights.keyword).max(0.0);
    let sum = vector + keyword;
    if sum > 0.0 {
        (vector / sum, keyword / sum)
    } else {
        let defaults = FusionWeights::default();
        (defaults.vector, defaults.keyword)
    }
}

/// `x`, or 0 when it is NaN or infinite, so one bad score cannot poison a whole ranking.
fn finite_or_zero(x: f32) -> f32 {
    if x.is_finite() { x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(results: &[Scored]) -> Vec<i64> {
        results.iter().map(|r| r.id).collect()
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn default_weights_are_sixty_forty() {
        let w = FusionWeights::default();
        assert!(close(w.vector, 0.6) && close(w.keyword, 0.4));
    }

    #[test]
    fn both_lists_empty_give_nothing() {
        assert!(fuse(&[], &[], FusionWeights::default(), 10).is_empty());
    }

    #[test]
    fn cosine_similarities_are_clamped_to_zero_and_one() {
        let r = fuse(
            &[(1, 0.8), (2, -0.5), (3, 1.2)],
            &[(4, 2.0)],
            FusionWeights::default(),
            10,
        );
        let by_id: HashMap<i64, Scored> = r.iter().map(|s| (s.id, *s)).collect();
        assert_eq!(by_id[&1].vector, Some(0.8));
        assert_eq!(by_id[&2].vector, Some(0.0));
        assert_eq!(by_id[&3].vector, Some(1.0));
    }

    #[test]
    fn keyword_scores_are_divided_by_the_best_keyword_score() {
        let r = fuse(
            &[(9, 0.5)],
            &[(1, 8.0), (2, 2.0)],
            FusionWeights::default(),
            10,
        );
        let by_id: HashMap<i64, Scored> = r.iter().map(|s| (s.id, *s)).collect();
        assert_eq!(by_id[&1].keyword, Some(1.0));
        assert_eq!(by_id[&2].keyword, Some(0.25));
    }

    #[test]
    fn a_single_keyword_result_normalises_to_one() {
        let r = fuse(&[], &[(7, 3.3)], FusionWeights::default(), 10);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].keyword, Some(1.0));
        assert!(close(r[0].score, 1.0));
    }

    #[test]
    fn the_fused_score_is_the_weighted_sum_with_a_missing_side_counting_zero() {
        let r = fuse(
            &[(1, 0.5), (2, 0.9)],
            &[(1, 4.0), (3, 2.0)],
            FusionWeights::default(),
            10,
        );
        let by_id: HashMap<i64, Scored> = r.iter().map(|s| (s.id, *s)).collect();
        assert!(close(by_id[&1].score, 0.6 * 0.5 + 0.4 * 1.0));
        assert!(close(by_id[&2].score, 0.6 * 0.9));
        assert_eq!(by_id[&2].keyword, None);
        assert!(close(by_id[&3].score, 0.4 * 0.5));
        assert_eq!(by_id[&3].vector, None);
    }

    #[test]
    fn a_chunk_found_by_both_sides_beats_one_found_by_either_alone() {
        let r = fuse(
            &[(1, 0.7), (2, 0.7)],
            &[(1, 5.0), (3, 5.0)],
            FusionWeights::default(),
            10,
        );
        assert_eq!(ids(&r), [1, 2, 3]);
    }

    #[test]
    fn keyword_only_results_are_not_scaled_down_by_the_weight() {
        let r = fuse(&[], &[(1, 6.0), (2, 3.0)], FusionWeights::default(), 10);
        assert_eq!(ids(&r), [1, 2]);
        assert!(close(r[0].score, 1.0));
        assert!(close(r[1].score, 0.5));
        assert_eq!(r[0].vector, None);
    }

    #[test]
    fn vector_only_results_are_not_scaled_down_by_the_weight() {
        let r = fuse(&[(1, 0.9), (2, 0.3)], &[], FusionWeights::default(), 10);
        assert_eq!(ids(&r), [1, 2]);
        assert!(close(r[0].score, 0.9));
        assert!(close(r[1].score, 0.3));
        assert_eq!(r[0].keyword, None);
    }

    #[test]
    fn results_are_sorted_by_score_then_by_id() {
        let r = fuse(
            &[(5, 0.5), (3, 0.5), (4, 0.9)],
            &[(9, 2.0), (8, 1.0)],
            FusionWeights {
                vector: 0.5,
                keyword: 0.5,
            },
            10,
        );
        // 9 scores 0.5 and 4 scores 0.45; 3, 5 and 8 all score 0.25 and are ordered by id.
        assert_eq!(ids(&r), [9, 4, 3, 5, 8]);
    }

    #[test]
    fn results_are_truncated_to_k() {
        let r = fuse(
            &[(1, 0.9), (2, 0.8), (3, 0.7)],
            &[(4, 1.0)],
            FusionWeights::default(),
            2,
        );
        assert_eq!(ids(&r), [1, 2]);
        assert!(fuse(&[(1, 0.9)], &[], FusionWeights::default(), 0).is_empty());
    }

    #[test]
    fn scores_stay_between_zero_and_one_whatever_the_weights() {
        let cases = [
            FusionWeights {
                vector: 3.0,
                keyword: 2.0,
            },
            FusionWeights {
                vector: -1.0,
                keyword: 1.0,
            },
            FusionWeights {
                vector: 0.0,
                keyword: 0.0,
            },
            FusionWeights {
                vector: f32::NAN,
                keyword: 0.4,
            },
        ];
        for weights in cases {
            let r = fuse(&[(1, 1.0), (2, -1.0)], &[(1, 10.0), (3, 0.1)], weights, 10);
            for s in &r {
                assert!((0.0..=1.0).contains(&s.score), "{weights:?} gave {s:?}");
            }
            assert_eq!(r[0].id, 1, "{weights:?}");
        }
    }

    #[test]
    fn weights_that_do_not_sum_to_one_keep_their_proportion() {
        let r = fuse(
            &[(1, 1.0)],
            &[(2, 1.0)],
            FusionWeights {
                vector: 3.0,
                keyword: 1.0,
            },
            10,
        );
        assert!(close(r[0].score, 0.75));
        assert!(close(r[1].score, 0.25));
    }

    #[test]
    fn non_finite_input_scores_count_as_zero() {
        let r = fuse(
            &[(1, f32::NAN)],
            &[(2, f32::INFINITY), (3, 2.0)],
            FusionWeights::default(),
            10,
        );
        for s in &r {
            assert!(s.score.is_finite() && (0.0..=1.0).contains(&s.score));
        }
        assert_eq!(r[0].id, 3);
    }

    #[test]
    fn a_duplicated_id_keeps_its_best_score() {
        let r = fuse(&[(1, 0.2), (1, 0.8)], &[], FusionWeights::default(), 10);
        assert_eq!(r.len(), 1);
        assert!(close(r[0].score, 0.8));
    }
}
