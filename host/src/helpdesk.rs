//! The helpdesk: answers staff questions from the tenant's own documents.
//!
//! `ask` retrieves the best chunks, then asks the model to answer from them alone, in the
//! tenant's helpdesk persona. When the model cannot be used (no key, an open circuit, a
//! timeout, an error) the answer is extractive: the sentences of the best chunks that share
//! the most words with the question, with their sources, flagged as degraded. A question
//! never gets a 5xx: even a database outage answers 200 with `success: false`.

pub mod extractive;
pub mod topics;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ai::{AiError, AiService, ChatMessage, ChatOptions};
use crate::error::{Error, FieldError, Result};
use crate::knowledge::{KnowledgeService, SearchHit, SearchRequest};
use crate::tenants::model::Tenant;

/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 4_000;

/// Chunks an answer is built from.
const SOURCES: usize = 5;

/// Fused score below which a chunk is not offered as a source.
const MIN_SOURCE_SCORE: f32 = 0.1;

/// How an answer was made (`method` on the wire, API.md §3.8, plus `fallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The model answered from the tenant's documents.
    DocumentSynthesis,
    /// The model answered without documents (none matched).
    ModelOnly,
    /// No model: sentences taken from the best chunks.
    Fallback,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentSynthesis => "private_kb_synthesis",
            Self::ModelOnly => "llm_synthesis",
            Self::Fallback => "fallback",
        }
    }
}

/// An answer and how it was made.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `false` only when the knowledge base could not be searched at all.
    pub success: bool,
    pub text: String,
    pub sources: Vec<SearchHit>,
    pub method: Method,
    /// The best source's score (0–1), or 0 without sources.
    pub confidence: f32,
    /// Why the model was not used, when it was wanted and could not be.
    pub degraded: Option<String>,
    pub note: Option<String>,
    pub search: Duration,
    pub synthesis: Duration,
    pub total: Duration,
}

/// Answers questions for every tenant.
#[derive(Debug)]
pub struct HelpdeskService {
    knowledge: Arc<KnowledgeService>,
    ai: Arc<AiService>,
}

impl HelpdeskService {
    pub fn new(knowledge: Arc<KnowledgeService>, ai: Arc<AiService>) -> Self {
        Self { knowledge, ai }
    }

    /// Checks a question: not empty, at most [`MAX_QUESTION_CHARS`].
    pub fn validate_question(field: &str, question: &str) -> Result<String> {
        let question = question.trim();
        if question.is_empty() {
            return Err(Error::validation(FieldError::body(
                field,
                "must not be empty",
            )));
        }
        if question.chars().count() > MAX_QUESTION_CHARS {
            return Err(Error::validation(FieldError::body(
                field,
                format!("must be at most {MAX_QUESTION_CHARS} characters"),
            )));
        }
        Ok(question.to_owned())
    }

    /// H1.
    pub async fn ask(&self, tenant: &Tenant, question: &str) -> Result<Answer> {
        let question = Self::validate_question("question", question)?;
        let started = Instant::now();
        let request = SearchRequest {
            query: question.clone(),
            top_k: SOURCES,
            category: None,
            visibility: None,
            min_score: MIN_SOURCE_SCORE,
        };
        let outcome = match self.knowledge.search(&tenant.id, &request).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!(tenant_id = %tenant.id, error = %e, "helpdesk search failed");
                return Ok(Answer {
                    success: false,
                    text: "Sorry, the knowledge base cannot be searched right now. Please try \
                           again in a moment."
                        .to_owned(),
                    sources: Vec::new(),
                    method: Method::Fallback,
                    confidence: 0.0,
                    degraded: Some(e.to_string()),
                    note: None,
                    search: started.elapsed(),
                    synthesis: Duration::ZERO,
                    total: started.elapsed(),
                });
            }
        };
        let search = started.elapsed();
        let sources = outcome.hits;
        let confidence = sources.first().map_or(0.0, |h| h.score);
        let synthesis_started = Instant::now();
        let system = system_prompt(tenant);
        let prompt = user_prompt(&question, &sources);
        let options = ChatOptions {
            max_tokens: Some(700),
            temperature: Some(0.2),
        };
        let chat = self
            .ai
            .chat(&system, &[ChatMessage::user(prompt)], options)
            .await;
        let (text, method, degraded, note) = match chat {
            Ok(answer) if !answer.text.trim().is_empty() => {
                let method = if sources.is_empty() {
                    Method::ModelOnly
                } else {
                    Method::DocumentSynthesis
                };
                let note = sources.is_empty().then(|| {
                    "No document in your knowledge base matched; this answer is general.".to_owned()
                });
                (answer.text.trim().to_owned(), method, None, note)
            }
            other => {
                let reason = match other {
                    Err(e) => unavailable_message(&e),
                    Ok(_) => "the model returned an empty answer".to_owned(),
                };
                let text = extractive::answer(&question, &sources);
                (text, Method::Fallback, Some(reason), None)
            }
        };
        let degraded = degraded.or_else(|| {
            outcome
                .degraded
                .map(|why| format!("keyword search only: {why}"))
        });
        Ok(Answer {
            success: true,
            text,
            sources,
            method,
            confidence,
            degraded,
            note,
            search,
            synthesis: synthesis_started.elapsed(),
            total: started.elapsed(),
        })
    }
}

/// What the banner says when the model could not be used.
fn unavailable_message(error: &AiError) -> String {
    match error {
        AiError::Unavailable { reason } => format!("AI answers are unavailable ({reason})"),
        other => format!("AI answers failed ({other})"),
    }
}

/// The model's instructions: the tenant's persona and rules around a fixed core that keeps
/// answers to the sources.
fn system_prompt(tenant: &Tenant) -> String {
    let settings = &tenant.config.helpdesk;
    let name = settings
        .assistant_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or("the helpdesk assistant");
    let mut prompt = format!(
        "You are {name} for {}, a travel agency. You answer questions from the agency's staff.",
        tenant.name
    );
    if let Some(persona) = settings.persona.as_deref().filter(|p| !p.trim().is_empty()) {
        prompt.push_str("\n\nPersona: ");
        prompt.push_str(persona.trim());
    }
    prompt.push_str(
        "\n\nAnswer from the numbered sources you are given and nothing else. Cite the \
         sources you use as [1], [2]. If the sources do not contain the answer, say so \
         plainly instead of guessing. Keep answers short and practical.",
    );
    if let Some(rules) = settings
        .instructions
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        prompt.push_str("\n\nAgency rules: ");
        prompt.push_str(rules.trim());
    }
    prompt
}

/// The question with its sources, numbered as the answer cites them.
fn user_prompt(question: &str, sources: &[SearchHit]) -> String {
    if sources.is_empty() {
        return format!(
            "No document in the knowledge base matched this question.\n\nQuestion: {question}"
        );
    }
    let mut prompt = String::from("Sources:\n");
    for (n, hit) in sources.iter().enumerate() {
        prompt.push_str(&format!(
            "\n[{}] {} ({})\n{}\n",
            n + 1,
            hit.chunk.title,
            hit.chunk.filename,
            hit.chunk.content.trim()
        ));
    }
    prompt.push_str(&format!("\nQuestion: {question}"));
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_must_have_text_and_a_bounded_length() {
        assert!(HelpdeskService::validate_question("question", "  ").is_err());
        assert!(HelpdeskService::validate_question("question", &"a".repeat(4001)).is_err());
        assert_eq!(
            HelpdeskService::validate_question("question", " visa? ").unwrap(),
            "visa?"
        );
    }
}
