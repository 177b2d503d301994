//! The OpenAPI 3 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.
//!
//! The annotations describe each route; [`complete`] adds what every route
//! shares (the security schemes, the errors of a JSON body, 503 and 504)
//! and what depends on the configuration (the longest lease, the
//! escalation workflows). The schemas routes share are in
//! [`crate::schemas`]; the input rules in [`crate::input`].

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::schemas::{ErrorBody, ErrorDetail, HiddenSchema, MessageSchema, MuteSchema, NoteSchema};
use crate::state::AppState;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "patrolchat",
        description = "Claims, threads, presence and live updates for Wikimedia patrollers."
    ),
    paths(
        crate::health::healthz,
        crate::health::readyz,
        crate::auth::oauth::login,
        crate::auth::oauth::callback,
        crate::auth::oauth::logout,
        crate::auth::dev::dev_login,
        crate::auth::routes::me,
        crate::auth::routes::me_on_wiki,
        crate::bots::create,
        crate::bots::list,
        crate::bots::revoke,
        crate::workflows::list,
        crate::items::list,
        crate::items::get_item,
        crate::claims::routes::claim,
        crate::claims::routes::renew,
        crate::claims::routes::release,
        crate::claims::routes::resolve,
        crate::claims::routes::escalate,
        crate::acting::diff::diff,
        crate::acting::editor::editor,
        crate::acting::label::label,
        crate::acting::offer::offer,
        crate::acting::perform::perform,
        crate::acting::record::record,
        crate::acting::discussed::discussed,
        crate::threads::item_messages,
        crate::threads::post_item_message,
        crate::threads::room_messages,
        crate::threads::post_room_message,
        crate::threads::wiki_room_messages,
        crate::threads::post_wiki_room_message,
        crate::conversations::start,
        crate::conversations::list,
        crate::conversations::one,
        crate::conversations::messages,
        crate::conversations::post_message,
        crate::inbox::inbox,
        crate::inbox::unread,
        crate::inbox::read_all,
        crate::inbox::read_thread,
        crate::inbox::follows,
        crate::inbox::follow,
        crate::inbox::unfollow,
        crate::people::preferences,
        crate::people::set_preferences,
        crate::people::genders,
        crate::community::wikis,
        crate::community::accept_conduct,
        crate::moderation::reports::report_message,
        crate::moderation::reports::report_user,
        crate::moderation::reports::my_reports,
        crate::moderation::hidden::hide,
        crate::moderation::mutes::mute,
        crate::moderation::mutes::unmute,
        crate::moderation::ignores::ignores,
        crate::moderation::ignores::ignore,
        crate::moderation::ignores::unignore,
        crate::moderation::notes::notes,
        crate::moderation::notes::add_note,
        crate::moderation::audit::audit_log,
        crate::export::routes::export,
        crate::export::routes::me,
        crate::live::live,
        crate::streams::stream,
        crate::search::search,
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        MessageSchema,
        NoteSchema,
        HiddenSchema,
        MuteSchema,
        patrolchat_export::Format,
        crate::items::ListState
    ))
)]
pub struct ApiDoc;

/// Routes anyone may call, signed in or not.
const PUBLIC: [&str; 7] = [
    "/healthz",
    "/readyz",
    "/auth/login",
    "/auth/callback",
    "/auth/logout",
    "/auth/dev-login",
    "/api/v1/openapi.json",
];

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// What the document says on top of the annotations: sign-in, the errors
/// every route shares, and the limits that come from the configuration.
pub fn complete(doc: &mut Value, claim_max_ttl_s: u64, escalations: &[String]) {
    doc["components"]["securitySchemes"] = json!({
        "session": {
            "type": "http", "scheme": "bearer",
            "description": "A session token (`pcs_…`) or a bot token (`pcb_…`)."
        },
        "cookie": {
            "type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE,
            "description": "The session cookie; writes also send `X-CSRF-Token` (from `GET /api/v1/me`)."
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                complete_operation(path, op);
            }
        }
    }
    add_links(doc);
    // A claim without a body takes the defaults, as does a read mark.
    for path in ["/api/v1/items/{id}/claim", "/api/v1/threads/{thread}/read"] {
        if let Some(body) = doc["paths"][path]["post"].get_mut("requestBody") {
            body["required"] = json!(false);
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    for name in ["ClaimRequest", "TokenRequest"] {
        if let Some(ttl) = schemas[name]["properties"].get_mut("ttl_s") {
            ttl["maximum"] = json!(claim_max_ttl_s);
            ttl["description"] = json!(format!(
                "Lease in seconds, 1 to {claim_max_ttl_s} (default: the configured lease)."
            ));
        }
    }
    if let Some(wf) = schemas["EscalateRequest"]["properties"].get_mut("workflow") {
        wf["enum"] = json!(escalations);
    }
}

/// A link to `operation` with these path parameters and body.
fn link(operation: &str, description: &str, parameters: Value, body: Option<Value>) -> Value {
    let mut l =
        json!({"operationId": operation, "description": description, "parameters": parameters});
    if let Some(b) = body {
        l["requestBody"] = b;
    }
    l
}

/// How answers lead on to other routes (for clients, and for stateful
/// testing).
fn add_links(doc: &mut Value) {
    let item_of = |at: &str| json!({"id": format!("$response.body#{at}")});
    let claimed = json!({"id": "$request.path.id"});
    let token = json!({"token": "$response.body#/token"});
    let message_links = json!({
        "ReportMessage": link("report_message", "report the message", item_of("/id"), None),
        "HideMessage": link("hide", "hide the message (admins)", item_of("/id"), None),
    });
    let set = |doc: &mut Value, path: &str, method: &str, status: &str, links: Value| {
        if let Some(r) = doc["paths"][path][method]["responses"].get_mut(status) {
            r["links"] = links;
        }
    };
    set(
        doc,
        "/api/v1/items/{id}/claim",
        "post",
        "200",
        json!({
            "Renew": link("renew", "renew the lease", claimed.clone(), Some(token.clone())),
            "Release": link("release", "release the claim", claimed.clone(), Some(token.clone())),
            "Resolve": link("resolve", "resolve the item", claimed.clone(),
                Some(json!({"token": "$response.body#/token", "outcome": "duplicate"}))),
            "Item": link("get_item", "the item with its claim", claimed, None),
        }),
    );
    set(
        doc,
        "/api/v1/items/{id}/messages",
        "post",
        "201",
        message_links.clone(),
    );
    set(
        doc,
        "/api/v1/workflows/{wf}/messages",
        "post",
        "201",
        message_links,
    );
    for path in [
        "/api/v1/users/{name}/report",
        "/api/v1/messages/{id}/report",
    ] {
        set(
            doc,
            path,
            "post",
            "201",
            json!({
                "ReportItem": link("get_item", "the report, an item of the reports workflow (admins)", item_of("/id"), None),
                "ReportNotes": link("notes", "admins' notes on the report", item_of("/id"), None),
            }),
        );
    }
    set(
        doc,
        "/api/v1/items/{id}/escalate",
        "post",
        "201",
        json!({
            "Escalation": link("get_item", "the item the escalation opened", item_of("/linked"), None),
        }),
    );
    set(
        doc,
        "/api/v1/bots",
        "post",
        "201",
        json!({
            "Revoke": link("revoke_bot", "revoke the token", item_of("/bot/id"), None),
        }),
    );
    set(
        doc,
        "/api/v1/workflows/{wf}/items",
        "get",
        "200",
        json!({
            "FirstItem": link("get_item", "the first item of the page", item_of("/items/0/item/id"), None),
            "ClaimFirst": link("claim", "claim the first item of the page", item_of("/items/0/item/id"), None),
        }),
    );
}

fn complete_operation(path: &str, op: &mut Value) {
    let has_body = op.get("requestBody").is_some();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status)
            .or_insert_with(|| error_response(description));
    };
    let public = PUBLIC.contains(&path);
    if !public {
        add("401", "not signed in");
        add(
            "403",
            "not allowed: the role, a bot token's scope, a mute (`muted`) or a block on the wiki (`blocked`) on a write, or a cookie write without `X-CSRF-Token`",
        );
    }
    if path != "/healthz" {
        add("503", "NATS or Redis unavailable; retry");
        add("504", "the request took too long");
    }
    if has_body {
        add("400", "bad request");
        add("413", "body over 64 KiB");
        add("415", "the body is not `application/json`");
    }
    if let Some(limited) = responses.get_mut("429") {
        limited["headers"] = json!({"Retry-After": {
            "description": "seconds until the limit lifts",
            "schema": {"type": "integer", "minimum": 1}
        }});
    }
    if !public {
        op["security"] = json!([{"session": []}, {"cookie": []}]);
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn document(State(state): State<AppState>) -> Json<Value> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let escalations: Vec<String> = state
        .workflows
        .workflows()
        .iter()
        .filter(|w| w.kind() == patrolchat_workflows::WorkflowKind::Escalation)
        .map(|w| w.name().to_owned())
        .collect();
    complete(&mut doc, state.cfg.limits.claim_max_ttl_s, &escalations);
    Json(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_states_the_sign_in_cookie_and_has_no_metrics() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("a document");
        let params = doc["paths"]["/auth/callback"]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        assert!(
            params.iter().any(|p| p["in"] == "cookie"
                && p["name"] == crate::auth::oauth::SIGN_IN_COOKIE
                && p["required"] == true),
            "{params:?}"
        );
        assert!(doc["paths"].get("/metrics").is_none());
    }
}
