//! The labelled retrieval set of `tests/fixtures/knowledge/`: agency documents and questions,
//! each with a phrase that only the chunk answering it contains. A question is a hit at k
//! when one of the first k results contains its phrase.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::{Login, TestApp};

/// The set's directory.
pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/knowledge");

/// One labelled question.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub question: String,
    /// The file that answers it.
    pub document: String,
    /// A verbatim phrase of the answering passage.
    pub answer_contains: String,
}

pub fn questions() -> Vec<Question> {
    let text = std::fs::read_to_string(format!("{DIR}/questions.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Uploads every document of the set and indexes it; returns how many there were.
pub async fn load(app: &TestApp, login: &Login) -> usize {
    let mut names: Vec<_> = std::fs::read_dir(format!("{DIR}/documents"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in &names {
        let filename = path.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        let res = app
            .upload_document(login, filename, &bytes, &[("category", "handbook")])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{filename}: {}", res.body);
    }
    app.drain_knowledge().await;
    names.len()
}

/// What the set scored.
#[derive(Debug, Clone)]
pub struct Score {
    pub questions: usize,
    pub hits_at_1: usize,
    pub hits_at_5: usize,
    /// Questions missed at 5, with what came first instead.
    pub misses: Vec<String>,
}

impl Score {
    pub fn hit_rate(&self, hits: usize) -> f64 {
        hits as f64 / self.questions.max(1) as f64
    }
}

/// Asks every question through `POST /api/v1/knowledge/search` (top 5, no score floor).
pub async fn evaluate(app: &TestApp, login: &Login) -> Score {
    let questions = questions();
    let mut score = Score {
        questions: questions.len(),
        hits_at_1: 0,
        hits_at_5: 0,
        misses: Vec::new(),
    };
    for q in &questions {
        let res = app
            .post("/api/v1/knowledge/search")
            .user(login)
            .json(&json!({"query": q.question, "top_k": 5, "min_score": 0.0}))
            .send()
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let contents: Vec<&str> = res.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["content"].as_str().unwrap_or_default())
            .collect();
        let rank = contents.iter().position(|c| c.contains(&q.answer_contains));
        match rank {
            Some(0) => {
                score.hits_at_1 += 1;
                score.hits_at_5 += 1;
            }
            Some(_) => score.hits_at_5 += 1,
            None => score.misses.push(format!(
                "{} (expected in {}; first result from {})",
                q.question, q.document, res.body["data"][0]["source"]
            )),
        }
    }
    score
}
