//! The local embedder: deterministic vectors from hashed word unigrams and character
//! trigrams, needing no network and no model file. It is the offline fallback for
//! embeddings; its vectors live in their own space and never share an index with OpenAI's.

/// Version tag of the hashing scheme; it changes whenever the vectors would.
pub const LOCAL_EMBEDDER_VERSION: &str = "hash-ngram-v1";

/// Weight of a whole word against one of its character trigrams: words carry the topic,
/// trigrams make inflections and typos ("hotel"/"hotels", "transfer"/"tranfser") still meet.
const WORD_WEIGHT: f32 = 1.0;
const TRIGRAM_WEIGHT: f32 = 0.4;

/// Feature hashing into a fixed number of dimensions, L2-normalised, so that the dot product
/// of two vectors is their cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalEmbedder {
    dimensions: usize,
}

impl LocalEmbedder {
    /// An embedder producing vectors of `dimensions` floats (at least 1).
    pub fn new(dimensions: usize) -> Self {
        Self {
            dimensions: dimensions.max(1),
        }
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The vector of one text: the same text always gives the same vector, on every host and
    /// build. A text without a letter or digit gives the zero vector.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0f32; self.dimensions];
        for word in words(text) {
            self.add(&mut vector, word.as_bytes(), WORD_WEIGHT);
            // Trigrams of the word padded with spaces, so beginnings and ends count too.
            let padded: Vec<char> = format!(" {word} ").chars().collect();
            for gram in padded.windows(3) {
                let gram: String = gram.iter().collect();
                self.add(&mut vector, gram.as_bytes(), TRIGRAM_WEIGHT);
            }
        }
        let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for v in &mut vector {
                *v /= norm;
            }
        }
        vector
    }

    /// The vectors of several texts, in order.
    pub fn embed_all<S: AsRef<str>>(&self, texts: &[S]) -> Vec<Vec<f32>> {
        texts.iter().map(|t| self.embed(t.as_ref())).collect()
    }

    /// Adds one feature: the hash picks the dimension, one bit of it the sign, so that
    /// collisions cancel out on average instead of piling up.
    fn add(&self, vector: &mut [f32], feature: &[u8], weight: f32) {
        let hash = fnv1a(feature);
        let index = (hash % self.dimensions as u64) as usize;
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        if let Some(slot) = vector.get_mut(index) {
            *slot += sign * weight;
        }
    }
}

/// Lower-cased runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Cosine similarity of two vectors of the same length (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_always_gives_the_same_vector() {
        let e = LocalEmbedder::new(384);
        let text = "Airport transfers are included for stays of 3 nights or more.";
        assert_eq!(e.embed(text), e.embed(text));
        assert_eq!(e.embed(text), LocalEmbedder::new(384).embed(text));
    }

    #[test]
    fn vectors_have_the_configured_length_and_unit_norm() {
        for dims in [1, 64, 384, 1536] {
            let v = LocalEmbedder::new(dims).embed("Zanzibar beach villas");
            assert_eq!(v.len(), dims);
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{dims}: {norm}");
        }
    }

    #[test]
    fn a_text_without_words_gives_the_zero_vector() {
        let v = LocalEmbedder::new(16).embed("  -- ... !! ");
        assert!(v.iter().all(|x| *x == 0.0));
        assert_eq!(cosine(&v, &v), 0.0);
    }

    #[test]
    fn similar_texts_score_higher_than_unrelated_ones() {
        let e = LocalEmbedder::new(384);
        let query = e.embed("What is the cancellation policy for safari bookings?");
        let related =
            e.embed("Safari bookings: cancellation policy. Cancel 30 days ahead for a refund.");
        let unrelated = e.embed("The hotel pool opens at 7am and towels are provided.");
        let near = cosine(&query, &related);
        let far = cosine(&query, &unrelated);
        assert!(near > far + 0.2, "related {near}, unrelated {far}");
    }

    #[test]
    fn inflected_words_still_meet_through_their_trigrams() {
        let e = LocalEmbedder::new(384);
        let a = e.embed("transfers");
        let b = e.embed("transfer");
        let c = e.embed("volcano");
        assert!(cosine(&a, &b) > 0.4, "{}", cosine(&a, &b));
        assert!(cosine(&a, &b) > cosine(&a, &c) + 0.3);
    }

    #[test]
    fn case_and_punctuation_do_not_change_the_vector() {
        let e = LocalEmbedder::new(128);
        assert_eq!(e.embed("Hello, World!"), e.embed("hello world"));
    }
}
