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
fn address_formats_are_refused() {
    let spec = with_property("        addr:\n          type: string\n          format: ipv4\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "format: ipv4"),
        "/components/schemas/PortReq/properties/addr/format",
        "drop the format",
    );
}

#[test]
fn integers_that_progenitor_would_make_unsigned_are_refused() {
    let spec =
        with_property("        count:\n          type: integer\n          format: int32\n          minimum: 1\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "minimum: 1"),
        "/components/schemas/PortReq/properties/count/minimum",
        "use `minimum: 0` (and refuse 0 in the handler) or drop the minimum",
    );
    let spec = with_property("        count:\n          type: integer\n          minimum: 0\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "        count:"),
        "/components/schemas/PortReq/properties/count",
        "needs `format: int32` or `format: int64`",
    );
    let spec =
        with_property("        count:\n          type: integer\n          format: int64\n          minimum: 0\n");
    generate(&Spec::parse("refusals.yaml", &spec).unwrap())
        .expect("a formatted integer with minimum 0 is i64 on both sides");
}

#[test]
fn a_nullable_enum_under_components_is_refused() {
    let spec = format!("{BASE}    Protocol:\n      type: string\n      nullable: true\n      enum: [tcp, udp, null]\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "      nullable: true"),
        "/components/schemas/Protocol/nullable",
        "`nullable: true` with `allOf: [{$ref: '#/components/schemas/Protocol'}]`",
    );
}

#[test]
fn an_enum_listing_null_must_be_nullable() {
    let spec = with_property("        protocol:\n          type: string\n          enum: [tcp, udp, null]\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "enum: [tcp, udp, null]"),
        "/components/schemas/PortReq/properties/protocol/enum",
        "add `nullable: true`",
    );
}

#[test]
fn a_nullable_enum_must_list_null() {
    let spec = with_property(
        "        protocol:\n          type: string\n          nullable: true\n          enum: [tcp, udp]\n",
    );
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "          nullable: true"),
        "/components/schemas/PortReq/properties/protocol/nullable",
        "add null to `enum`",
    );
}

#[test]
fn nullable_next_to_a_ref_is_refused() {
    let spec =
        with_property("        problem:\n          $ref: '#/components/schemas/Problem'\n          nullable: true\n");
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "          nullable: true"),
        "/components/schemas/PortReq/properties/problem/nullable",
        "`allOf: [{$ref: '#/components/schemas/Problem'}]`",
    );
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
fn an_optional_body_must_accept_an_empty_object() {
    let spec =
        BASE.replacen("        required: true\n        content:", "        required: false\n        content:", 1);
    assert_refusal(
        &refusal(&spec),
        line_of(&spec, "required: false"),
        "/paths/~1ports~1{port}/put/requestBody/required",
        "write `required: true`, or make the body an object whose properties are all optional",
    );
    // Without `required` the body is optional too (the OpenAPI default).
    let spec = BASE.replacen("        required: true\n        content:", "        content:", 1);
    assert!(refusal(&spec).contains("an optional request body must accept `{}`"));
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
fn the_workspace_crates_carry_what_formats_need() {
    // The fixture spec uses date, date-time and uuid.
    let spec = Spec::parse("rainbond.yaml", include_str!("fixtures/rainbond.yaml")).unwrap();
    let root = rainbond_codegen::workspace_root().unwrap();
    dependencies::check(&spec, &root, rainbond_codegen::GENERATED_CODE_MANIFESTS).unwrap();
}
