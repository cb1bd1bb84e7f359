//! `/api/v1/helpdesk/*` (API.md §2.7 H1–H3): questions answered from the knowledge base,
//! and the built-in help guide.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Json, Query};
use super::response::top_level;
use super::routes::{Access, Routes};
use super::session::CurrentUser;
use crate::helpdesk::topics;
use crate::helpdesk::{Answer, Method};
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::new()
        .post("/api/v1/helpdesk/ask", Access::User, ask)
        .get("/api/v1/helpdesk/topics", Access::User, list_topics)
        .get("/api/v1/helpdesk/search", Access::User, search_topics)
}

#[derive(Debug, Deserialize)]
struct AskBody {
    #[serde(default)]
    question: String,
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// H1's body: top level, no `data`.
fn answer_body(answer: &Answer) -> Value {
    let sources: Vec<Value> = answer
        .sources
        .iter()
        .map(|h| {
            let excerpt: String = h.chunk.content.chars().take(300).collect();
            json!({
                "filename": h.chunk.filename,
                "title": h.chunk.title,
                "document_id": h.chunk.document_id,
                "chunk_index": h.chunk.chunk_index,
                "chunk_id": h.chunk.id,
                "score": h.score,
                "relevance_score": h.score,
                "type": "private_kb",
                "is_private": h.chunk.visibility == "private",
                "visibility": h.chunk.visibility,
                "excerpt": excerpt,
            })
        })
        .collect();
    let count = sources.len();
    let mut body = json!({
        "success": answer.success,
        "answer": answer.text,
        "sources": sources,
        "method": answer.method.as_str(),
        "query_type": "knowledge_base",
        "confidence": answer.confidence,
        "degraded": answer.degraded.is_some(),
        "sources_breakdown": { "global": 0, "private": count, "web": 0, "total": count },
        "timing": {
            "search_ms": millis(answer.search),
            "synthesis_ms": millis(answer.synthesis),
            "total_ms": millis(answer.total),
            "rag_latency_ms": millis(answer.total),
        },
    });
    if let Some(note) = &answer.note {
        body["note"] = json!(note);
    }
    if let Some(why) = &answer.degraded {
        let message = if answer.method == Method::Fallback {
            format!("Answers are taken directly from your documents: {why}.")
        } else {
            format!("Search used keywords only: {why}.")
        };
        body["_service_status"] = json!({ "degraded": true, "message": message });
    }
    body
}

/// H1: always 200 once the question is valid; `success: false` only when the knowledge
/// base could not be searched.
async fn ask(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<AskBody>,
) -> Result<Response, ApiError> {
    let answer = state.helpdesk.ask(&session.tenant, &body.question).await?;
    Ok(top_level(answer_body(&answer)))
}

/// H2.
async fn list_topics(CurrentUser(_session): CurrentUser) -> Result<Response, ApiError> {
    Ok(top_level(json!({ "topics": topics::TOPICS })))
}

#[derive(Debug, Deserialize)]
struct TopicQuery {
    #[serde(default)]
    q: String,
}

/// H3: the guide's topics in `results` (as the contract says), and the passages of the
/// tenant's own documents that match in `documents` (empty when the query is empty or the
/// knowledge base cannot be searched: the guide still answers).
async fn search_topics(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(query): Query<TopicQuery>,
) -> Result<Response, ApiError> {
    let mut documents = Vec::new();
    if let Ok(q) = crate::helpdesk::HelpdeskService::validate_question("q", &query.q) {
        let request = crate::knowledge::SearchRequest {
            query: q,
            top_k: 5,
            category: None,
            visibility: None,
            min_score: 0.1,
        };
        match state.knowledge.search(&session.tenant.id, &request).await {
            Ok(outcome) => {
                documents = outcome
                    .hits
                    .iter()
                    .map(|h| {
                        json!({
                            "document_id": h.chunk.document_id,
                            "filename": h.chunk.filename,
                            "title": h.chunk.title,
                            "heading": h.chunk.heading,
                            "excerpt": h.chunk.content.chars().take(300).collect::<String>(),
                            "score": h.score,
                            "type": "private_kb",
                        })
                    })
                    .collect();
            }
            Err(e) => tracing::warn!(error = %e, "helpdesk search: knowledge base unavailable"),
        }
    }
    Ok(top_level(json!({
        "results": topics::search(&query.q),
        "documents": documents,
    })))
}
