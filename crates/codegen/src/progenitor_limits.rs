//! What progenitor 0.15 cannot take without panicking, found in the spec before it runs, each
//! with the file, line and JSON pointer of the construct; and, as a last resort, progenitor's
//! remaining panics caught silently and traced back to the one operation that causes them.
//!
//! progenitor panics (`todo!`, `assert!`) on: a JSON response without a schema; a request body
//! with several media types; a JSON or form media type with an `encoding`; a path parameter the
//! path template does not name; and an operation whose responses have more than one body type on
//! the success side (2xx, 101, `2XX`, `default`) or on the error side (4xx, 5xx, `4XX`, `5XX`,
//! `default`).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Once;

use serde_json::Value;

use crate::spec::{Spec, escape_token};
use crate::{CodegenError, Location};

/// The methods progenitor generates, in its order.
pub const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One operation of the spec: its path, method, JSON pointer and value.
pub struct OperationRef<'s> {
    /// The path template.
    pub path: &'s str,
    /// The path item (for its parameters).
    pub item: &'s Value,
    /// The lower-case method.
    pub method: &'static str,
    /// `/paths/<path>/<method>`.
    pub pointer: String,
    /// The operation object.
    pub operation: &'s Value,
}

/// Every operation of `spec`, in spec order.
pub fn operations(spec: &Spec) -> Vec<OperationRef<'_>> {
    let Some(paths) = spec.document.get("paths").and_then(Value::as_object) else { return Vec::new() };
    let mut out = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                let pointer = format!("/paths/{}/{method}", escape_token(path));
                out.push(OperationRef { path, item, method, pointer, operation });
            }
        }
    }
    out
}

/// Refuses, with its location, the first construct of `spec` that progenitor would panic on.
pub fn check(spec: &Spec) -> Result<(), CodegenError> {
    for op in operations(spec) {
        let refusal = |pointer: &str, message: String| CodegenError::Unsupported {
            location: spec.location(pointer),
            message: format!("progenitor cannot generate this operation: {message}"),
        };
        if let Some((pointer, message)) = request_body_problem(spec, &op) {
            return Err(refusal(&pointer, message));
        }
        if let Some((pointer, message)) = path_parameter_problem(spec, &op) {
            return Err(refusal(&pointer, message));
        }
        if let Some((pointer, message)) = response_problem(spec, &op) {
            return Err(refusal(&pointer, message));
        }
    }
    Ok(())
}

/// Follows a local `$ref`; the value itself when it is none, `None` when it does not resolve.
fn resolved<'v>(spec: &'v Spec, value: &'v Value) -> Option<(&'v Value, Option<String>)> {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => Some((spec.resolve(reference)?, Some(reference.trim_start_matches('#').to_owned()))),
        None => Some((value, None)),
    }
}

/// Whether progenitor reads `media_type` as JSON (it matches `application/json` exactly, with or
/// without parameters).
fn progenitor_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.starts_with("application/json;")
}

fn has_encoding(media: &Value) -> bool {
    media.get("encoding").and_then(Value::as_object).is_some_and(|e| !e.is_empty())
}

fn request_body_problem(spec: &Spec, op: &OperationRef<'_>) -> Option<(String, String)> {
    let body = op.operation.get("requestBody")?;
    let (body, target) = resolved(spec, body)?;
    let pointer = target.unwrap_or_else(|| format!("{}/requestBody", op.pointer));
    let content = body.get("content").and_then(Value::as_object)?;
    if content.len() > 1 {
        return Some((
            format!("{pointer}/content"),
            format!(
                "the request body has {} media types and progenitor takes one; keep the one clients send",
                content.len()
            ),
        ));
    }
    let (media_type, media) = content.iter().next()?;
    let form = media_type.starts_with("application/x-www-form-urlencoded");
    if (progenitor_json(media_type) || form) && has_encoding(media) {
        return Some((
            format!("{pointer}/content/{}/encoding", escape_token(media_type)),
            "progenitor does not support `encoding` on a request body; remove it".to_owned(),
        ));
    }
    None
}

fn path_parameter_problem(spec: &Spec, op: &OperationRef<'_>) -> Option<(String, String)> {
    let named: Vec<&str> =
        op.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
    let item_pointer = op.pointer.rsplit_once('/').map_or("", |(p, _)| p);
    for (source, source_pointer) in [(op.item, item_pointer), (op.operation, op.pointer.as_str())] {
        let Some(list) = source.get("parameters").and_then(Value::as_array) else { continue };
        for (index, parameter) in list.iter().enumerate() {
            let Some((parameter, _)) = resolved(spec, parameter) else { continue };
            let name = parameter.get("name").and_then(Value::as_str).unwrap_or_default();
            if parameter.get("in").and_then(Value::as_str) == Some("path") && !named.contains(&name) {
                return Some((
                    format!("{source_pointer}/parameters/{index}"),
                    format!(
                        "path parameter `{name}` is not in the path `{}`; add `{{{name}}}` to the path or remove the parameter",
                        op.path
                    ),
                ));
            }
        }
    }
    None
}

/// How progenitor classifies a response: by its JSON schema, as a websocket upgrade, as raw
/// bytes, or as having no body.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The `$ref`, or the JSON text of an inline schema.
    Schema(String),
    Upgrade,
    Raw,
    None,
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Schema(schema) if schema.starts_with('#') => format!("the JSON body `{schema}`"),
            Kind::Schema(_) => "an inline JSON body schema".to_owned(),
            Kind::Upgrade => "a protocol upgrade".to_owned(),
            Kind::Raw => "a body that is not JSON".to_owned(),
            Kind::None => "no body".to_owned(),
        }
    }
}

/// A status key of `responses`, ordered as progenitor orders them.
fn status_rank(status: &str) -> u16 {
    match status.parse::<u16>() {
        Ok(code) => code,
        Err(_) if status == "default" => 1000,
        Err(_) => status.chars().next().and_then(|c| c.to_digit(10)).map_or(999, |d| d as u16 * 100),
    }
}

fn is_success_side(status: &str) -> bool {
    status == "default"
        || status.eq_ignore_ascii_case("2XX")
        || status.parse::<u16>().is_ok_and(|code| code == 101 || (200..300).contains(&code))
}

fn is_error_side(status: &str) -> bool {
    status == "default"
        || status.eq_ignore_ascii_case("4XX")
        || status.eq_ignore_ascii_case("5XX")
        || status.parse::<u16>().is_ok_and(|code| (400..600).contains(&code))
}

fn response_problem(spec: &Spec, op: &OperationRef<'_>) -> Option<(String, String)> {
    let responses = op.operation.get("responses").and_then(Value::as_object)?;
    let websocket = op.operation.get("x-dropshot-websocket").is_some();
    let mut kinds: BTreeMap<u16, (String, String, Kind)> = BTreeMap::new();
    for (status, response) in responses {
        let response_pointer = format!("{}/responses/{}", op.pointer, escape_token(status));
        let (response, target) = resolved(spec, response)?;
        let pointer = target.unwrap_or(response_pointer);
        let content = response.get("content").and_then(Value::as_object);
        let json = content.and_then(|c| c.iter().find(|(media_type, _)| progenitor_json(media_type)));
        let upgrade = status == "101" || (websocket && status == "default");
        let kind = match json {
            Some((media_type, media)) => {
                let media_pointer = format!("{pointer}/content/{}", escape_token(media_type));
                let Some(schema) = media.get("schema") else {
                    return Some((
                        media_pointer,
                        "a JSON response needs a `schema` (progenitor stops at one without); add one, or use another media type for untyped bytes".to_owned(),
                    ));
                };
                if has_encoding(media) {
                    return Some((
                        format!("{media_pointer}/encoding"),
                        "progenitor does not support `encoding` on a response; remove it".to_owned(),
                    ));
                }
                Kind::Schema(match schema.get("$ref").and_then(Value::as_str) {
                    Some(reference) => reference.to_owned(),
                    None => schema.to_string(),
                })
            }
            None if upgrade => Kind::Upgrade,
            None if content.is_some_and(|c| !c.is_empty()) => Kind::Raw,
            None => Kind::None,
        };
        let status = if upgrade { "101".to_owned() } else { status.clone() };
        kinds.insert(status_rank(&status), (status, pointer, kind));
    }
    for (side, filter) in [("success", is_success_side as fn(&str) -> bool), ("error", is_error_side)] {
        let mut items: Vec<&(String, String, Kind)> = kinds.values().filter(|(status, _, _)| filter(status)).collect();
        // progenitor ignores `default` on the success side when `2XX` covers it.
        if let [.., (range, _, _), (last, _, _)] = items.as_slice()
            && range.eq_ignore_ascii_case("2XX")
            && last == "default"
        {
            items.pop();
        }
        let Some((first_status, _, first_kind)) = items.first() else { continue };
        if let Some((status, pointer, kind)) = items.iter().find(|(_, _, kind)| kind != first_kind) {
            let advice = if status == "default" || first_status == "default" {
                "`default` counts on both sides: list the error statuses (or `4XX`/`5XX`) instead"
            } else {
                "give them one schema"
            };
            return Some((
                pointer.clone(),
                format!(
                    "on the {side} side, response `{status}` has {} but `{first_status}` has {}: progenitor takes one body type per side; {advice}",
                    kind.describe(),
                    first_kind.describe()
                ),
            ));
        }
    }
    None
}

thread_local! {
    /// Whether a panic on this thread is being caught by [`catch_panic`] (and so is not printed).
    static SILENCED: Cell<bool> = const { Cell::new(false) };
}

/// Installs, once per process, a panic hook that stays quiet for panics [`catch_panic`] catches
/// on its own thread and passes every other panic to the hook that was there before.
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !SILENCED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `run`, turning a panic into its message without printing anything.
pub fn catch_panic<T>(run: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    let was = SILENCED.with(|s| s.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    SILENCED.with(|s| s.set(was));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the generator panicked".to_owned())
    })
}

/// The reason behind a progenitor panic, in one line.
pub fn panic_reason(message: &str) -> String {
    if message.contains("response_types.len() <= 1") {
        return "its responses have more than one body type on the success or on the error side".to_owned();
    }
    let first = message.lines().next().unwrap_or_default().trim();
    let mut reason: String = first.chars().take(160).collect();
    if reason.len() < first.len() {
        reason.push('…');
    }
    reason
}

/// The operation that makes `generate` panic when the spec holds it alone, with its location;
/// `None` when no single operation does.
pub fn find_panicking_operation<T>(
    spec: &Spec,
    generate: impl Fn(&openapiv3::OpenAPI) -> T,
) -> Option<(Location, String)> {
    for op in operations(spec) {
        let mut document = spec.document.clone();
        let mut item = serde_json::Map::new();
        if let Some(parameters) = op.item.get("parameters") {
            item.insert("parameters".to_owned(), parameters.clone());
        }
        item.insert(op.method.to_owned(), op.operation.clone());
        document["paths"] = Value::Object(serde_json::Map::from_iter([(op.path.to_owned(), Value::Object(item))]));
        let Ok(openapi) = serde_json::from_value::<openapiv3::OpenAPI>(document) else { continue };
        if let Err(message) = catch_panic(|| generate(&openapi)) {
            return Some((spec.location(&op.pointer), panic_reason(&message)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: &str = "RAINBOND_CODEGEN_PANIC_CHILD";

    /// Runs in a child process (this test binary again), where stderr can be read: a caught
    /// panic prints nothing, a panic elsewhere still prints as usual.
    #[test]
    fn a_caught_panic_prints_nothing_and_other_panics_still_print() {
        if std::env::var_os(CHILD).is_some() {
            assert_eq!(catch_panic(|| -> () { panic!("caught-{}", 7) }), Err("caught-7".to_owned()));
            assert_eq!(catch_panic(|| 3), Ok(3));
            let elsewhere = std::thread::spawn(|| panic!("uncaught-elsewhere")).join();
            assert!(elsewhere.is_err());
            return;
        }
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["progenitor_limits::tests::a_caught_panic_prints_nothing_and_other_panics_still_print", "--exact"])
            .arg("--nocapture")
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(!stderr.contains("caught-7"), "the caught panic is silent:\n{stderr}");
        assert!(stderr.contains("uncaught-elsewhere"), "other panics print:\n{stderr}");
    }

    #[test]
    fn a_panic_is_traced_to_the_operation_that_causes_it() {
        let text = "openapi: 3.0.3\ninfo:\n  title: t\n  version: '1'\npaths:\n  /a:\n    get:\n      operationId: a\n      responses:\n        '200':\n          description: ok\n  /b:\n    get:\n      operationId: b\n      responses:\n        '200':\n          description: ok\n";
        let spec = Spec::parse("t.yaml", text).unwrap();
        let found = find_panicking_operation(&spec, |openapi| {
            assert!(!openapi.paths.paths.contains_key("/b"), "assertion failed: response_types.len() <= 1");
        });
        let (location, reason) = found.expect("the operation is found");
        assert_eq!(location.to_string(), "t.yaml:13 (at /paths/~1b/get)");
        assert_eq!(reason, "its responses have more than one body type on the success or on the error side");
        assert!(find_panicking_operation(&spec, |_| ()).is_none());
    }
}
