//! `POST /ic/api/integration/v1/integrations/archive`: import an integration archive, as a
//! `multipart/form-data` body with a `file` part (an `.iar`) and an optional `type` part
//! (`import` or `replace`). The answer describes each part it read — name, file name, content
//! type, size and SHA-256 — so that a test can check what arrived, byte for byte.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::connections::authorize;
use crate::sandbox::respond::{error, json};
use crate::sandbox::state::Shared;

pub(crate) const PATH: &str = "/ic/api/integration/v1/integrations/archive";

/// The largest archive accepted (the extractor's own default is 2 MB).
pub(crate) fn limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(256 * 1024 * 1024)
}

pub(crate) async fn import(
    State(state): State<Shared>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    if let Err(error) = authorize(&state, &headers) {
        return error.into_response();
    }
    let mut parts = Vec::new();
    let mut archive = None;
    let mut kind = "import".to_owned();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return bad(&format!("the multipart body is malformed: {e}")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut text = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    hasher.update(&chunk);
                    if filename.is_none() && text.len() < 1024 {
                        text.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(e) => return bad(&format!("part `{name}` broke off: {e}")),
            }
        }
        let sha256: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if name == "type" {
            kind = String::from_utf8_lossy(&text).into_owned();
        }
        if name == "file" {
            archive = Some((filename.clone(), size));
        }
        parts.push(json!({
            "name": name,
            "filename": filename,
            "content_type": content_type,
            "size": size,
            "sha256": sha256,
        }));
    }
    let Some((filename, size)) = archive else {
        return bad("the archive is missing: send it as the `file` part");
    };
    if !filename.as_deref().is_some_and(|f| f.ends_with(".iar")) {
        return bad("the `file` part must name an `.iar` file (`filename=\"...iar\"`)");
    }
    if !matches!(kind.as_str(), "import" | "replace") {
        return bad(&format!("`type` is `import` or `replace`, not `{kind}`"));
    }
    if size == 0 {
        return bad("the archive is empty");
    }
    json(
        StatusCode::OK,
        json!({"status": "imported", "type": kind, "parts": parts}),
    )
}

fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_archive", message)
}
