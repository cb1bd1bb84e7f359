//! `/api/v1/knowledge/*` (API.md §2.7 K1–K12): documents, search, status, rebuild.

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Json, Query};
use super::response::{ok, top_level};
use super::routes::{Access, Routes};
use super::session::CurrentUser;
use crate::error::{Error, FieldError};
use crate::knowledge::{
    DocumentPatch, KnowledgeError, STATUSES, SearchOutcome, SearchRequest, Upload, VISIBILITIES,
    content_type_of,
};
use crate::state::AppState;
use crate::storage::knowledge::{Document, DocumentQuery};

pub fn routes() -> Routes {
    let base = "/api/v1/knowledge";
    let document = format!("{base}/documents/{{document_id}}");
    // The upload enforces its own (larger) limit while reading the file.
    let upload_route =
        axum::routing::post(upload).layer(axum::extract::DefaultBodyLimit::disable());
    Routes::new()
        .get(&format!("{base}/documents"), Access::User, list)
        .add_router(
            axum::http::Method::POST,
            &format!("{base}/documents"),
            Access::User,
            upload_route,
        )
        .get(&document, Access::User, detail)
        .delete(&document, Access::User, remove)
        .patch(&document, Access::User, update)
        .get(&format!("{document}/download"), Access::User, download)
        .post(&format!("{document}/reindex"), Access::User, reindex)
        .post(&format!("{base}/search"), Access::User, search_post)
        .get(&format!("{base}/search"), Access::User, search_get)
        .get(&format!("{base}/status"), Access::User, status)
        .post(&format!("{base}/rebuild"), Access::User, rebuild)
        .get(&format!("{base}/categories"), Access::User, categories)
}

/// A document as the dashboard reads it (K1 items; K3 adds `content`).
pub fn document_body(d: &Document) -> Value {
    let mut body = json!({
        "id": d.id,
        "document_id": d.document_id,
        "filename": d.filename,
        "title": d.title,
        "category": d.category,
        "tags": d.tags,
        "visibility": d.visibility,
        "file_type": d.file_type,
        "file_size": d.file_size,
        "status": d.status,
        "chunk_count": d.chunk_count,
        "uploaded_at": d.created_at,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "indexed_at": d.indexed_at,
        "error_message": d.error_message,
        "storage_path": d.storage_path,
        "is_system": d.is_system,
        "uploaded_by": d.uploaded_by,
    });
    if let Some(content) = &d.content {
        body["content"] = json!(content);
    }
    body
}

impl From<KnowledgeError> for ApiError {
    fn from(err: KnowledgeError) -> Self {
        match err {
            KnowledgeError::Rejected(r) => {
                ApiError::new(StatusCode::BAD_REQUEST, r.code, r.message)
            }
            KnowledgeError::Service(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
}

fn one_of(
    value: Option<String>,
    field: &str,
    allowed: &[&str],
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())?;
    if !allowed.contains(&value.as_str()) {
        errors.push(FieldError::query(
            field,
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
    Some(value)
}

/// K1.
async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let query = DocumentQuery {
        category: q
            .category
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
        status: one_of(q.status, "status", STATUSES, &mut errors),
        visibility: one_of(q.visibility, "visibility", VISIBILITIES, &mut errors),
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    let documents = state.knowledge.list(&session.tenant.id, &query).await?;
    let data: Vec<Value> = documents.iter().map(document_body).collect();
    Ok(top_level(json!({ "data": data, "count": data.len() })))
}

/// K2: `file` plus `category`, `visibility`, `auto_index`, `tags`, `title`.
async fn upload(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let limit = state.config.knowledge.upload_limit_bytes;
    // A declared size over the limit is refused before anything is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut multipart = multipart.map_err(|_| {
        ApiError::bad_request(
            "Expected a multipart/form-data upload with the document in a field named `file`",
        )
    })?;
    let mut file = None;
    let mut text = std::collections::HashMap::new();
    let mut read = 0usize;
    loop {
        let field = multipart.next_field().await.map_err(|e| {
            ApiError::bad_request(format!("Could not read the upload: {}", e.body_text()))
        })?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if file.is_some() {
                return Err(field_error("file", "Send one file per request"));
            }
            let filename = field.file_name().unwrap_or_default().to_owned();
            let bytes = read_capped(field, limit, &mut read).await?;
            file = Some((filename, bytes));
        } else {
            let bytes = read_capped(field, 64 * 1024, &mut read).await?;
            text.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
        if read > limit {
            return Err(ApiError::payload_too_large(limit));
        }
    }
    let Some((filename, bytes)) = file else {
        return Err(field_error(
            "file",
            "Field required: send the document in a multipart field named `file`",
        ));
    };
    let auto_index = text
        .get("auto_index")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "false" | "0" | "no"))
        .unwrap_or(true);
    let upload = Upload {
        filename,
        bytes: bytes.into(),
        category: text.remove("category"),
        visibility: text.remove("visibility"),
        tags: text.remove("tags"),
        title: text.remove("title"),
        auto_index,
        uploaded_by: Some(session.user.id.clone()),
    };
    let document = state.knowledge.upload(&session.tenant.id, upload).await?;
    Ok(top_level(json!({
        "data": document_body(&document),
        "message": "Document uploaded; indexing has started",
    })))
}

/// Reads a field, counting towards the request's total; a 413 as soon as a field passes
/// `cap` (nothing is kept).
async fn read_capped(
    mut field: Field<'_>,
    cap: usize,
    total: &mut usize,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        ApiError::bad_request(format!("Could not read the upload: {}", e.body_text()))
    })? {
        *total += chunk.len();
        if bytes.len() + chunk.len() > cap {
            return Err(ApiError::payload_too_large(cap));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn field_error(field: &str, msg: &str) -> ApiError {
    ApiError::validation(vec![FieldError::body(field, msg)])
}

/// K3.
async fn detail(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(document_id): Path<String>,
) -> Result<Response, ApiError> {
    let document = state
        .knowledge
        .get(&session.tenant.id, &document_id)
        .await?;
    Ok(ok(document_body(&document)))
}

/// K4.
async fn remove(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(document_id): Path<String>,
) -> Result<Response, ApiError> {
    let document = state
        .knowledge
        .delete(&session.tenant.id, &document_id)
        .await?;
    Ok(top_level(json!({
        "message": format!("Document {} deleted", document.document_id),
        "document_id": document.document_id,
    })))
}

/// K5.
async fn update(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(document_id): Path<String>,
    Json(patch): Json<DocumentPatch>,
) -> Result<Response, ApiError> {
    let document = state
        .knowledge
        .update(&session.tenant.id, &document_id, patch)
        .await?;
    Ok(ok(document_body(&document)))
}

/// K6.
async fn download(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(document_id): Path<String>,
) -> Result<Response, ApiError> {
    let (document, bytes) = state
        .knowledge
        .download(&session.tenant.id, &document_id)
        .await?;
    let filename: String = document
        .filename
        .chars()
        .map(|c| {
            if c == '"' || c == '\\' || !c.is_ascii() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                content_type_of(&document.file_type).to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
}

/// K7.
async fn reindex(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(document_id): Path<String>,
) -> Result<Response, ApiError> {
    let document = state
        .knowledge
        .reindex(&session.tenant.id, &document_id)
        .await?;
    Ok(ok(document_body(&document)))
}

#[derive(Debug, Deserialize)]
struct SearchBody {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    top_k: Option<i64>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    min_score: Option<f64>,
}

/// The request, checked as K8 says: `query` required, `top_k` 1–20 (5), `min_score` 0–1
/// (0.5), `visibility` public or private.
fn search_request(
    body: SearchBody,
    loc: fn(&str, &str) -> FieldError,
) -> Result<SearchRequest, ApiError> {
    let mut errors = Vec::new();
    let query = body.query.unwrap_or_default();
    let query = match crate::helpdesk::HelpdeskService::validate_question("query", &query) {
        Ok(q) => q,
        Err(_) if query.trim().is_empty() => {
            errors.push(loc("query", "must not be empty"));
            String::new()
        }
        Err(_) => {
            errors.push(loc(
                "query",
                &format!(
                    "must be at most {} characters",
                    crate::helpdesk::MAX_QUESTION_CHARS
                ),
            ));
            String::new()
        }
    };
    let top_k = body.top_k.unwrap_or(5);
    if !(1..=20).contains(&top_k) {
        errors.push(loc("top_k", "must be between 1 and 20"));
    }
    let min_score = body.min_score.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&min_score) {
        errors.push(loc("min_score", "must be between 0 and 1"));
    }
    let visibility = body
        .visibility
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if visibility
        .as_deref()
        .is_some_and(|v| !VISIBILITIES.contains(&v))
    {
        errors.push(loc("visibility", "must be `public` or `private`"));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors).into());
    }
    Ok(SearchRequest {
        query,
        top_k: top_k as usize,
        category: body
            .category
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
        visibility,
        min_score: min_score as f32,
    })
}

fn search_body(query: &str, outcome: &SearchOutcome) -> Value {
    let data: Vec<Value> = outcome
        .hits
        .iter()
        .map(|h| {
            json!({
                "content": h.chunk.content,
                "source": h.chunk.filename,
                "title": h.chunk.title,
                "score": h.score,
                "vector_score": h.vector,
                "keyword_score": h.keyword,
                "document_id": h.chunk.document_id,
                "chunk_index": h.chunk.chunk_index,
                "heading": h.chunk.heading,
                "visibility": h.chunk.visibility,
                "category": h.chunk.category,
            })
        })
        .collect();
    let mut body = json!({
        "query": query,
        "count": data.len(),
        "data": data,
        "search_ms": outcome.elapsed.as_secs_f64() * 1000.0,
    });
    if let Some(why) = &outcome.degraded {
        body["degraded"] = json!(true);
        body["note"] = json!(format!("Keyword matches only: {why}"));
    }
    body
}

/// K8.
async fn search_post(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<SearchBody>,
) -> Result<Response, ApiError> {
    let request = search_request(body, |f: &str, m: &str| FieldError::body(f, m))?;
    let outcome = state.knowledge.search(&session.tenant.id, &request).await?;
    Ok(top_level(search_body(&request.query, &outcome)))
}

/// K9.
async fn search_get(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(body): Query<SearchBody>,
) -> Result<Response, ApiError> {
    let request = search_request(body, |f: &str, m: &str| FieldError::query(f, m))?;
    let outcome = state.knowledge.search(&session.tenant.id, &request).await?;
    Ok(top_level(search_body(&request.query, &outcome)))
}

/// K10.
async fn status(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let tenant_id = &session.tenant.id;
    let (stats, index) = tokio::try_join!(
        state.knowledge.stats(tenant_id),
        state.knowledge.index_status(tenant_id)
    )?;
    Ok(ok(json!({
        "total_documents": stats.total,
        "indexed_documents": stats.indexed,
        "pending_documents": stats.pending,
        "error_documents": stats.error,
        "public_documents": stats.public,
        "private_documents": stats.private,
        "storage_backend": state.config.object_store.backend.as_str(),
        "last_updated": stats.last_updated,
        "index": index,
    })))
}

/// K11.
async fn rebuild(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let documents = state.knowledge.rebuild(&session.tenant.id).await?;
    Ok(top_level(json!({
        "message": format!("Knowledge index rebuilt from {documents} indexed document(s)"),
        "documents_indexed": documents,
    })))
}

/// K12.
async fn categories(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response, ApiError> {
    let categories = state.knowledge.categories(&session.tenant.id).await?;
    let data: Vec<Value> = categories
        .iter()
        .map(|(name, count)| json!({ "name": name, "count": count }))
        .collect();
    Ok(top_level(json!({ "data": data, "count": data.len() })))
}
