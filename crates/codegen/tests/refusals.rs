//! Constructs `codegen` refuses rather than generating code that does not compile or that means
//! something else on the client than on the server. Each refusal names the file, the line and the
//! JSON pointer of the construct, and says what to write instead.

use std::path::Path;

use rainbond_codegen::{Spec, dependencies, generate};

/// A small valid spec; each case below edits it.
const BASE: &str = "openapi: 3.0.3
info:
  title: refusals
  version: '1'
paths:
  /ports/{port}:
    parameters:
      - name: port
        in: path
        required: true
        schema:
          type: string
    put:
      operationId: update_port
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/PortReq'
      responses:
        '200':
          description: Updated.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/PortReq'
        '400':
          description: Bad request.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Problem'
components:
  schemas:
    Problem:
      type: object
      properties:
        msg:
          type: string
    PortReq:
      type: object
      required: [action]
      properties:
        action:
          type: string
          enum: [open, close]
        alias:
          type: string
";

/// Appends `text` to the properties of `PortReq`.
fn with_property(text: &str) -> String {
    format!("{BASE}{text}")
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|line| line.contains(needle)).expect("the needle is in the spec") + 1
}

/// Generates `text` and returns the refusal's message.
fn refusal(text: &str) -> String {
    let spec = Spec::parse("refusals.yaml", text).expect("the spec loads");
    generate(&spec).expect_err("codegen must refuse the spec").to_string()
}

/// Asserts that `message` locates the construct at `line`/`pointer` and gives `advice`.
fn assert_refusal(message: &str, line: usize, pointer: &str, advice: &str) {
    let location = format!("refusals.yaml:{line} (at {pointer}): ");
    assert!(message.starts_with(&location), "expected `{location}…`, got: {message}");
    assert!(message.contains(advice), "expected the advice `{advice}` in: {message}");
}

#[test]
fn the_base_spec_generates() {
    let spec = Spec::parse("refusals.yaml", BASE).unwrap();
    generate(&spec).unwrap();
}

#[test]
fn integers_take_the_type_typify_gives_them() {
    use rainbond_codegen::server::ir::{IntegerFormat, ModelKind, TypeRef, read};
    let cases = [
        ("          type: integer\n          format: uint8\n", IntegerFormat::U8),
        ("          type: integer\n          format: uint\n", IntegerFormat::U32),
        ("          type: integer\n          format: int32\n          minimum: 1\n", IntegerFormat::U32),
        ("          type: integer\n          minimum: 0\n", IntegerFormat::U64),
        ("          type: integer\n          format: int64\n          minimum: 0\n", IntegerFormat::I64),
        ("          type: integer\n", IntegerFormat::I64),
        ("          type: integer\n          format: uint8\n          maximum: 300\n", IntegerFormat::I64),
    ];
    for (schema, expected) in cases {
        let text = with_property(&format!("        count:\n{schema}"));
        let spec = Spec::parse("refusals.yaml", &text).unwrap();
        generate(&spec).unwrap_or_else(|err| panic!("{schema}: {err}"));
        let api = read(&spec).unwrap();
        let model = api.models.iter().find(|m| m.name == "PortReq").unwrap();
        let ModelKind::Struct { fields, .. } = &model.kind else { panic!("PortReq is a struct") };
        let count = fields.iter().find(|f| f.json_name == "count").unwrap();
        assert_eq!(count.ty, TypeRef::Integer(expected), "{schema}");
    }
}

/// The components whose types `text` leaves to typify, by spec name.
fn typify_components(text: &str) -> Vec<String> {
    use rainbond_codegen::server::ir::{ModelKind, read};
    let spec = Spec::parse("refusals.yaml", text).expect("the spec loads");
    generate(&spec).unwrap_or_else(|err| panic!("the spec generates: {err}"));
    let api = read(&spec).unwrap();
    api.models.into_iter().filter(|m| matches!(m.kind, ModelKind::Foreign)).map(|m| m.schema_name).collect()
}

#[test]
fn what_the_server_generator_does_not_write_is_typify_s_type_on_both_sides() {
    let in_port_req = [
        ("an ip address", "        addr:\n          type: string\n          format: ipv4\n"),
        (
            "an enum listing null without nullable",
            "        protocol:\n          type: string\n          enum: [tcp, udp, null]\n",
        ),
        (
            "a nullable enum not listing null",
            "        protocol:\n          type: string\n          nullable: true\n          enum: [tcp, udp]\n",
        ),
        ("a pattern", "        name:\n          type: string\n          pattern: '^[a-z]+$'\n"),
        ("a oneOf", "        port:\n          oneOf:\n            - type: integer\n            - type: string\n"),
        (
            "unique items",
            "        tags:\n          type: array\n          uniqueItems: true\n          items:\n            type: string\n",
        ),
        (
            "nullable items",
            "        tags:\n          type: array\n          items:\n            type: string\n            nullable: true\n",
        ),
        ("writeOnly", "        secret:\n          type: string\n          writeOnly: true\n"),
        ("readOnly and required", "        action2:\n          type: string\n          readOnly: true\n"),
    ];
    for (what, property) in in_port_req {
        let text = with_property(property).replacen(
            "required: [action]",
            "required: [action, action2]",
            usize::from(what == "readOnly and required"),
        );
        assert_eq!(typify_components(&text), ["PortReq"], "{what}");
    }
    // `nullable` beside `$ref` (which OpenAPI 3.0 ignores): the referenced schema goes too, so
    // that typify's derives hold for the field it types.
    let beside_ref =
        with_property("        problem:\n          $ref: '#/components/schemas/Problem'\n          nullable: true\n");
    assert_eq!(typify_components(&beside_ref), ["Problem", "PortReq"]);
    let ghost = BASE.replacen("required: [action]", "required: [action, ghost]", 1);
    assert_eq!(typify_components(&ghost), ["PortReq"], "a required name that is not a property");
    let nullable_enum =
        format!("{BASE}    Protocol:\n      type: string\n      nullable: true\n      enum: [tcp, udp, null]\n");
    assert_eq!(typify_components(&nullable_enum), ["Protocol"]);
    assert!(typify_components(BASE).is_empty(), "the generator writes the plain schemas itself");
}

#[test]
fn two_enums_titled_alike_are_refused() {
    // Both would be `types::Protocol` in the client, where typify silently keeps the first.
    let spec = with_property(
        "        protocol:\n          type: string\n          title: Protocol\n          enum: [tcp, udp]\n        \
         scheme:\n          type: string\n          title: Protocol\n          enum: [http, https]\n",
    );
    let message = refusal(&spec);
    assert_refusal(
        &message,
        line_of(&spec, "        scheme:"),
        "/components/schemas/PortReq/properties/scheme",
        "give this schema a title of its own",
    );
    assert!(message.contains("`Protocol`"), "{message}");
    let first =
        format!("/components/schemas/PortReq/properties/protocol (line {})", line_of(&spec, "        protocol:"));
    assert!(message.contains(&first), "the message names the first schema too: {message}");
}

#[test]
fn an_inline_type_named_like_a_component_is_refused() {
    let spec =
        with_property("        kind:\n          type: string\n          title: Problem\n          enum: [a, b]\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "        kind:"),
        "/components/schemas/PortReq/properties/kind",
        "`Problem`",
    );
}

#[test]
fn two_schemas_with_one_rust_name_are_refused() {
    let spec =
        format!("{BASE}    port_req:\n      type: object\n      properties:\n        a:\n          type: string\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "    port_req:"),
        "/components/schemas/port_req",
        "rename one of the two schemas",
    );
}

#[test]
fn an_optional_body_that_an_empty_object_does_not_satisfy_is_an_option() {
    use rainbond_codegen::server::ir::read;
    // Without `required` the body is optional too (the OpenAPI default).
    for edit in ["        required: false\n        content:", "        content:"] {
        let text = BASE.replacen("        required: true\n        content:", edit, 1);
        let spec = Spec::parse("refusals.yaml", &text).unwrap();
        let files = generate(&spec).unwrap();
        let body = read(&spec).unwrap().operations[0].body.clone().unwrap();
        assert!(!body.required && body.may_be_absent, "{edit}");
        let api = files.iter().find(|f| f.path.ends_with("generated/api.rs")).unwrap();
        assert!(api.contents.contains("body: Option<models::PortReq>,"), "the handler gets an Option");
    }
}

#[test]
fn an_optional_body_without_required_properties_is_accepted() {
    let spec = BASE
        .replacen("        required: true\n        content:", "        required: false\n        content:", 1)
        .replacen("      required: [action]\n", "", 1);
    generate(&Spec::parse("refusals.yaml", &spec).unwrap()).unwrap();
}

#[test]
fn a_format_whose_crate_the_manifest_lacks_is_refused() {
    let spec_text = with_property("        since:\n          type: string\n          format: date\n");
    let spec = Spec::parse("refusals.yaml", &spec_text).unwrap();
    generate(&spec).expect("the spec itself is fine");
    let manifest = Path::new("/ws/crates/client/Cargo.toml");
    let lacking = "[package]\nname = \"c\"\n\n[dependencies]\nuuid.workspace = true\n";
    let message = dependencies::check_manifest(&spec, manifest, lacking).unwrap_err().to_string();
    assert_refusal(
        &message,
        line_of(&spec_text, "format: date"),
        "/components/schemas/PortReq/properties/since/format",
        "crates/client/Cargo.toml does not depend on `chrono`: add `chrono = { workspace = true }`",
    );
    let complete = format!("{lacking}chrono.workspace = true\n");
    dependencies::check_manifest(&spec, manifest, &complete).unwrap();
}

#[test]
fn a_paginated_operation_needs_futures_in_the_client() {
    let text = in_put("      x-dropshot-pagination:\n        required: []\n");
    let spec = Spec::parse("refusals.yaml", &text).unwrap();
    let manifest = Path::new("crates/client/Cargo.toml");
    let message = dependencies::check_extensions(&spec, manifest, "[dependencies]\nserde = \"1\"\n")
        .expect_err("the client lacks futures")
        .to_string();
    assert_refusal(
        &message,
        line_of(&text, "x-dropshot-pagination"),
        "/paths/~1ports~1{port}/put/x-dropshot-pagination",
        "add `futures = { workspace = true }` to its [dependencies]",
    );
    dependencies::check_extensions(&spec, manifest, "[dependencies]\nfutures = \"0.3\"\n").expect("futures is there");
}

#[test]
fn a_websocket_operation_needs_base64_and_rand_in_the_client() {
    let text = BASE.replacen("    put:\n", "    get:\n      x-dropshot-websocket: {}\n", 1);
    let spec = Spec::parse("refusals.yaml", &text).unwrap();
    let manifest = Path::new("crates/client/Cargo.toml");
    for (dependencies, missing) in [("serde = \"1\"\n", "base64"), ("base64 = \"0.22\"\n", "rand")] {
        let message = dependencies::check_extensions(&spec, manifest, &format!("[dependencies]\n{dependencies}"))
            .expect_err("the client lacks a crate")
            .to_string();
        assert_refusal(
            &message,
            line_of(&text, "x-dropshot-websocket"),
            "/paths/~1ports~1{port}/get/x-dropshot-websocket",
            &format!("which use `{missing}`, but crates/client/Cargo.toml does not depend on it"),
        );
    }
    let complete = "[dependencies]\nbase64 = \"0.22\"\nrand = \"0.10\"\n";
    dependencies::check_extensions(&spec, manifest, complete).expect("base64 and rand are there");
}

#[test]
fn the_client_manifest_carries_what_dropshots_extensions_need() {
    let root = rainbond_codegen::workspace_root().unwrap();
    let manifest = root.join(rainbond_codegen::CLIENT_MANIFEST);
    let text = std::fs::read_to_string(&manifest).unwrap();
    let both = BASE.replacen("    put:\n", "    get:\n      x-dropshot-websocket: {}\n", 1).replacen(
        "  /ports/{port}:\n",
        "  /pages:\n    get:\n      operationId: pages\n      x-dropshot-pagination:\n        required: []\n      responses:\n        '200':\n          description: A page.\n  /ports/{port}:\n",
        1,
    );
    let spec = Spec::parse("refusals.yaml", &both).unwrap();
    dependencies::check_extensions(&spec, &manifest, &text).expect("the client depends on futures, base64 and rand");
}

#[test]
fn the_workspace_crates_carry_what_formats_need() {
    // The fixture spec uses date, date-time and uuid.
    let spec = Spec::parse("rainbond.yaml", include_str!("fixtures/rainbond.yaml")).unwrap();
    let root = rainbond_codegen::workspace_root().unwrap();
    dependencies::check(&spec, &root, rainbond_codegen::GENERATED_CODE_MANIFESTS).unwrap();
}

/// One refusal of the server generator: the spec edit, where it is refused, and the advice.
struct Case {
    /// What the edit does, for failure messages.
    what: &'static str,
    /// The edited spec.
    spec: String,
    /// A text on the refused line (the first line that contains it).
    line_text: &'static str,
    /// The JSON pointer the message names.
    pointer: &'static str,
    /// The advice the message gives.
    advice: &'static str,
}

const PUT: &str = "/paths/~1ports~1{port}/put";

/// `BASE` with `text` inserted right after the line `    put:`.
fn in_put(text: &str) -> String {
    BASE.replacen("    put:\n", &format!("    put:\n{text}"), 1)
}

/// BASE with a websocket operation `GET /echo` first, with `extra` lines and `responses`.
fn websocket_op(extra: &str, responses: &str) -> String {
    let op = format!(
        "paths:\n  /echo:\n    get:\n      operationId: echo\n      x-dropshot-websocket: {{}}\n{extra}      responses:\n{responses}"
    );
    BASE.replacen("paths:\n", &op, 1)
}

const UPGRADE_101: &str = "        '101':\n          description: Upgraded.\n";

fn server_generator_cases() -> Vec<Case> {
    vec![
        Case {
            what: "a websocket operation without an upgrade response",
            spec: websocket_op("", "        4XX:\n          description: Refused.\n"),
            line_text: "      responses:",
            pointer: "/paths/~1echo/get/responses",
            advice: "needs its upgrade response: `101`",
        },
        Case {
            what: "a websocket operation with two upgrade responses",
            spec: websocket_op("", &format!("{UPGRADE_101}        default:\n          description: Upgraded too.\n")),
            line_text: "      responses:",
            pointer: "/paths/~1echo/get/responses",
            advice: "keep `101`",
        },
        Case {
            what: "a JSON body on a websocket upgrade",
            spec: websocket_op(
                "",
                &format!(
                    "{UPGRADE_101}          content:\n            application/json:\n              schema:\n                type: string\n"
                ),
            ),
            line_text: "          content:",
            pointer: "/paths/~1echo/get/responses/101/content",
            advice: "remove `content`",
        },
        Case {
            what: "a paginated websocket operation",
            spec: websocket_op("      x-dropshot-pagination:\n        required: []\n", UPGRADE_101),
            line_text: "      x-dropshot-websocket: {}",
            pointer: "/paths/~1echo/get/x-dropshot-websocket",
            advice: "drop one extension",
        },
        Case {
            what: "an operation without operationId",
            spec: BASE.replacen("      operationId: update_port\n", "", 1),
            line_text: "    put:",
            pointer: PUT,
            advice: "every operation needs an `operationId`",
        },
        Case {
            what: "an undefined security scheme",
            spec: in_put("      security:\n        - nokey: []\n"),
            line_text: "      security:",
            pointer: "/paths/~1ports~1{port}/put/security",
            advice: "define it in components/securitySchemes",
        },
        Case {
            what: "an array path parameter",
            spec: in_put(
                "      parameters:\n        - name: port\n          in: path\n          required: true\n          schema:\n            type: array\n            items:\n              type: string\n",
            ),
            line_text: "          schema:\n            type: array",
            pointer: "/paths/~1ports~1{port}/put/parameters/0/schema",
            advice: "send structured values in a JSON body",
        },
        Case {
            what: "a websocket upgrade that is not a GET",
            spec: in_put("      x-dropshot-websocket: {}\n"),
            line_text: "      x-dropshot-websocket: {}",
            pointer: "/paths/~1ports~1{port}/put/x-dropshot-websocket",
            advice: "make the operation a `get`",
        },
        Case {
            what: "an undeclared path parameter",
            spec: BASE.replacen("  /ports/{port}:", "  /ports/{port}/{slot}:", 1),
            line_text: "    put:",
            pointer: "/paths/~1ports~1{port}~1{slot}/put",
            advice: "add it to `parameters` with `in: path`",
        },
    ]
}

/// What progenitor would panic on, refused before it runs.
fn progenitor_limit_cases() -> Vec<Case> {
    let problem_body = "          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Problem'\n";
    vec![
        Case {
            what: "a JSON response without a schema",
            spec: BASE.replacen(&format!("          description: Bad request.\n{problem_body}"), "          description: Bad request.\n          content:\n            application/json: {}\n", 1),
            line_text: "            application/json: {}",
            pointer: "/paths/~1ports~1{port}/put/responses/400/content/application~1json",
            advice: "a JSON response needs a `schema`",
        },
        Case {
            what: "a default response of another type than the success response",
            spec: BASE.replacen("        '400':\n", "        default:\n          $ref: '#/components/responses/Problem'\n        '400':\n", 1)
                .replacen("components:\n", &format!("components:\n  responses:\n    Problem:\n      description: Anything else.\n{}", problem_body.replace("          ", "      ")), 1),
            line_text: "        default:",
            pointer: "/paths/~1ports~1{port}/put/responses/default",
            advice: "`default` counts on both sides",
        },
        Case {
            what: "a path parameter the path does not name",
            spec: in_put("      parameters:\n        - name: slot\n          in: path\n          required: true\n          schema:\n            type: string\n"),
            line_text: "        - name: slot",
            pointer: "/paths/~1ports~1{port}/put/parameters/0",
            advice: "add `{slot}` to the path or remove the parameter",
        },
        Case {
            what: "an encoding on a JSON request body",
            spec: BASE.replacen("              $ref: '#/components/schemas/PortReq'\n      responses:", "              $ref: '#/components/schemas/PortReq'\n            encoding:\n              action:\n                contentType: text/plain\n      responses:", 1),
            line_text: "            encoding:",
            pointer: "/paths/~1ports~1{port}/put/requestBody/content/application~1json/encoding",
            advice: "remove it",
        },
    ]
}

#[test]
fn what_progenitor_would_panic_on_is_refused_with_line_and_pointer() {
    for case in progenitor_limit_cases() {
        assert_ne!(case.spec, BASE, "{}: the edit applies", case.what);
        let message = refusal(&case.spec);
        let location = format!("refusals.yaml:{} (at {}): ", line_of_block(&case.spec, case.line_text), case.pointer);
        assert!(message.starts_with(&location), "{}: expected `{location}…`, got: {message}", case.what);
        assert!(message.contains("progenitor cannot generate this operation"), "{}: {message}", case.what);
        assert!(message.contains(case.advice), "{}: expected `{}` in: {message}", case.what, case.advice);
        assert_eq!(message.lines().count(), 1, "{}: one line: {message}", case.what);
    }
}

/// The 1-based line where `text` (which may span lines) starts in `spec`.
fn line_of_block(spec: &str, text: &str) -> usize {
    let offset = spec.find(text).expect("the text is in the spec");
    spec[..offset].matches('\n').count() + 1
}

#[test]
fn every_server_generator_refusal_names_line_pointer_and_advice() {
    for case in server_generator_cases() {
        assert_ne!(case.spec, BASE, "{}: the edit applies", case.what);
        let spec = Spec::parse("refusals.yaml", &case.spec).unwrap_or_else(|err| panic!("{}: {err}", case.what));
        let message = match generate(&spec) {
            Ok(_) => panic!("{}: codegen must refuse it", case.what),
            Err(err) => err.to_string(),
        };
        let location = format!("refusals.yaml:{} (at {}): ", line_of_block(&case.spec, case.line_text), case.pointer);
        assert!(message.starts_with(&location), "{}: expected `{location}…`, got: {message}", case.what);
        assert!(message.contains(case.advice), "{}: expected `{}` in: {message}", case.what, case.advice);
    }
}
