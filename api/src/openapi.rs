//! The OpenAPI 3 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.
//!
//! The annotations describe each route; [`complete`] adds what every route
//! shares (the security schemes, the errors of a JSON body, 503 and 504)
//! and what depends on the configuration (the longest lease, the
//! escalation workflows). The text rules below are the ones the handlers
//! apply, so that a request the document calls valid is never refused as
//! malformed and one it calls invalid is never accepted.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::state::AppState;

/// An error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`bad_request`, `claimed`, `muted`,
    /// `blocked`, …).
    pub code: String,
    /// For people.
    pub message: String,
    /// `muted`: why; `blocked`: the wiki's reason, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `muted` and `blocked`: when it ends (Unix ms); `null` until lifted,
    /// for an indefinite block, or when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// A message in a thread.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageSchema {
    /// `<thread>.<seq>`.
    pub id: String,
    /// Item id, or `room-<workflow>`.
    pub thread: String,
    /// Position in the thread, increasing.
    pub seq: u64,
    /// The item of an item thread.
    pub item: Option<String>,
    /// The item's wiki.
    pub wiki: Option<String>,
    /// The workflow of a room.
    pub workflow: Option<String>,
    /// Author.
    pub author: String,
    /// Posted by a bot.
    pub bot: bool,
    /// Plain text (empty when hidden, except for admins).
    pub text: String,
    /// Mentioned people.
    pub mentions: Option<Vec<String>>,
    /// Unix milliseconds.
    pub at: i64,
    /// Hidden by an admin: `true`, or for admins who hid it, why and when
    /// (`{"by","reason","at"}`).
    #[schema(value_type = Option<Object>)]
    pub hidden: Option<Value>,
}

/// A private note of admins on an item.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteSchema {
    /// `<item>.n<seq>`.
    pub id: String,
    /// The item.
    pub item: String,
    /// The admin who wrote it.
    pub author: String,
    /// Plain text.
    pub text: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// A hidden message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HiddenSchema {
    /// The message.
    pub message: String,
    /// Always `true`.
    pub hidden: bool,
}

/// A person's mute, after a mute or an unmute.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MuteSchema {
    /// The person.
    pub user: String,
    /// Whether they are muted now.
    pub muted: bool,
    /// After a mute: its end (Unix ms), `null` until lifted.
    pub until: Option<i64>,
}

/// A `since` of the export: Unix milliseconds (up to 15 digits) or an
/// RFC 3339 time; empty means from the start.
pub fn since_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only events from this time: Unix milliseconds (at most 15 digits) \
             or an RFC 3339 time such as `2024-03-01T12:00:00Z` (days 01 to 28 \
             are described here; every valid date is accepted). Empty: from the start.",
        ))
        .pattern(Some(concat!(
            r"^([0-9]{1,15}|[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])",
            r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?",
            r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
        )))
        .into()
}

/// A wiki database name (`enwiki`).
pub fn wiki_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("A wiki database name (`enwiki`)."))
        .pattern(Some(r"^[a-z0-9_]{1,64}$"))
        .into()
}

/// A wiki database name, or empty for every wiki.
pub fn wiki_or_empty_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only this wiki's items (and the moderation log); empty: every wiki.",
        ))
        .pattern(Some(r"^[a-z0-9_]{0,64}$"))
        .into()
}

/// An item id, or empty for every item.
pub fn item_or_empty_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Only this item (and the moderation about it); empty: every item.",
        ))
        .pattern(Some(r"^[A-Za-z0-9_-]{0,128}$"))
        .into()
}

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
        crate::bot_tokens::me,
        crate::bot_tokens::create,
        crate::bot_tokens::list,
        crate::bot_tokens::revoke,
        crate::workflows::list,
        crate::items::list,
        crate::items::get_item,
        crate::claims::routes::claim,
        crate::claims::routes::renew,
        crate::claims::routes::release,
        crate::claims::routes::resolve,
        crate::claims::routes::escalate,
        crate::threads::item_messages,
        crate::threads::post_item_message,
        crate::threads::room_messages,
        crate::threads::post_room_message,
        crate::moderation::report_message,
        crate::moderation::report_user,
        crate::moderation::my_reports,
        crate::moderation::hide,
        crate::moderation::mute,
        crate::moderation::unmute,
        crate::moderation::ignores,
        crate::moderation::ignore,
        crate::moderation::unignore,
        crate::moderation::notes,
        crate::moderation::add_note,
        crate::moderation::audit_log,
        crate::export::routes::export,
        crate::export::routes::me,
        crate::live::live,
        crate::streams::stream,
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
    // A claim without a body takes the defaults.
    if let Some(body) = doc["paths"]["/api/v1/items/{id}/claim"]["post"].get_mut("requestBody") {
        body["required"] = json!(false);
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

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).expect("pattern").is_match(s)
    }

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

    #[test]
    fn since_accepts_what_the_document_describes() {
        let p = since_schema();
        let RefOr::T(Schema::Object(o)) = p else {
            panic!("an object schema")
        };
        let pattern = o.pattern.expect("pattern");
        for s in [
            "",
            "0",
            "999999999999999",
            "2024-02-28T23:59:59Z",
            "1970-01-01T00:00:00.123456789+23:59",
            "2999-12-01T00:00:00-00:00",
        ] {
            assert!(matches(&pattern, s), "{s:?}");
            assert!(
                s.is_empty() || patrolchat_export::clock::parse_since(s).is_ok(),
                "{s:?}"
            );
        }
    }
}
