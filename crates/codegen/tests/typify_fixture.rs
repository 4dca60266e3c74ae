//! The schemas the server generator leaves to typify, end to end, on tests/fixtures/observatory.yaml
//! (`oneOf` with data, `anyOf`, `allOf` of two schemas, `pattern`, `format: ip`, `uniqueItems`,
//! nullable items, a constrained named scalar, a model named `Duration`, a lower-case schema name,
//! a `gen` property; and HEAD, an operation documenting no response, parameters typed by
//! components, a query parameter with bounds):
//!
//! - copies of `rainbond-client` and `rainbond-api` with the files generated from the spec compile
//!   in a throwaway workspace (see `common`), and a program (fixtures/observatory_use.rs) serves the
//!   generated router with a hand-written `impl Api` on 127.0.0.1 and calls every operation with
//!   the generated client;
//! - `rainbond-check check`, built in the same workspace, finds that the code says what the spec
//!   says;
//! - the generated models are snapshotted.

mod common;

use rainbond_codegen::server::ir::{self, ModelKind};
use rainbond_codegen::{API_OUTPUT_DIR, Spec};

const SPEC: &str = include_str!("fixtures/observatory.yaml");
const SPEC_FILE: &str = "observatory.yaml";
const PROGRAM: &str = include_str!("fixtures/observatory_use.rs");
const PROGRAM_PACKAGE: &str = "observatory-fixture";
const PROGRAM_DEPENDENCIES: &str = r#"rainbond-api.workspace = true
rainbond-client.workspace = true
axum.workspace = true
futures.workspace = true
serde_json.workspace = true
tokio.workspace = true
uuid.workspace = true
"#;

fn spec() -> Spec {
    Spec::parse(SPEC_FILE, SPEC).expect("the fixture spec loads")
}

#[test]
fn every_operation_works_through_the_generated_client_and_check_finds_no_drift() {
    let program = common::ClientProgram {
        spec: (SPEC_FILE, SPEC),
        package: PROGRAM_PACKAGE,
        dependencies: PROGRAM_DEPENDENCIES,
        main: PROGRAM,
    };
    let report = common::assert_runs_and_checks(&program, "observatory fixture: every operation works end to end");
    assert!(report.contains("matches the code"), "{report}");
}

#[test]
fn the_schemas_the_generator_cannot_write_and_what_they_use_are_typify_s() {
    let api = ir::read(&spec()).unwrap();
    let typify: Vec<&str> =
        api.models.iter().filter(|m| matches!(m.kind, ModelKind::Foreign)).map(|m| m.schema_name.as_str()).collect();
    // `Duration` and `StationCode` are plain, but `station` (format: ip) uses them; `annotate`'s
    // inline body has a pattern, and takes progenitor's name.
    assert_eq!(
        typify,
        ["StationCode", "station", "Duration", "Reading", "Celsius", "Wind", "Calibration", "AnnotateBody"]
    );
    assert_eq!(
        api.plain_unique_arrays.iter().collect::<Vec<_>>(),
        ["/paths/~1annotations/get/responses/200/content/application~1json/schema"],
        "an array of unique items typify gives no name is a Vec on both sides"
    );
    let warnings = rainbond_codegen::server_warnings(&spec()).unwrap();
    let csv =
        warnings.iter().find(|w| w.message.contains("text/csv")).expect("a warning for the media type not served");
    assert_eq!(
        csv.location.pointer.as_deref(),
        Some("/paths/~1annotations/get/responses/200/content/text~1csv"),
        "of two media types, the router answers with the JSON one, as progenitor's client reads it"
    );
    let body = api.models.iter().find(|m| m.name == "AnnotateBody").unwrap();
    assert_eq!(body.pointer, "/paths/~1annotations/put/requestBody/content/application~1json/schema");
    let own: Vec<&str> =
        api.models.iter().filter(|m| !matches!(m.kind, ModelKind::Foreign)).map(|m| m.schema_name.as_str()).collect();
    assert_eq!(own, ["Problem", "ReadingId", "Annotations"]);
}

#[test]
fn the_generated_models_are_as_reviewed() {
    let models = common::generated_file(&spec(), &format!("{API_OUTPUT_DIR}/models.rs"));
    // typify's builders are the client's alone.
    assert!(!models.contains("pub mod builder"), "{models}");
    assert!(models.contains("pub type Duration_ = Duration;"), "{models}");
    insta::assert_snapshot!("observatory_models_rs", models);
}
