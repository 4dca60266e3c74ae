//! The generators on the Rainbond fixture spec (tests/fixtures/rainbond.yaml: sixteen operations of
//! the published console docs, with dates, uuids, nullable enums, an optional body, 201 and 204):
//!
//! - copies of `rainbond-client` and `rainbond-api`, with their real manifests and the files
//!   generated from the spec, compile in a throwaway workspace (see `common`), and a program that
//!   uses both (fixtures/rainbond_use.rs) runs: the generated client calls the generated router and
//!   both sides agree on what each construct means; `rainbond-check check` finds the spec and the
//!   code in agreement;
//! - every model has one Rust name on both sides, and the client has one method per operation;
//! - the generated API is snapshotted, so that a generator change shows what it does to this spec.

mod common;

use rainbond_codegen::{API_OUTPUT_DIR, CLIENT_OUTPUT, Spec, server};

const SPEC: &str = include_str!("fixtures/rainbond.yaml");
const PROGRAM: &str = include_str!("fixtures/rainbond_use.rs");
const PROGRAM_DEPENDENCIES: &str = r#"rainbond-api.workspace = true
rainbond-client.workspace = true
axum.workspace = true
chrono.workspace = true
serde.workspace = true
serde_json.workspace = true
tokio.workspace = true
uuid.workspace = true
"#;

fn spec() -> Spec {
    Spec::parse("rainbond.yaml", SPEC).expect("the fixture spec loads")
}

fn generated_file(path: &str) -> String {
    common::generated_file(&spec(), path)
}

/// A function whose arguments name every server model and the client type of the same name: it
/// compiles only if each model has one Rust name on both sides.
fn one_name_per_model() -> String {
    let api = server::ir::read(&spec()).unwrap();
    let arguments: Vec<String> = api
        .models
        .iter()
        .map(|m| format!("_: rainbond_api::models::{0}, _: rainbond_client::types::{0}", m.name))
        .collect();
    format!(
        "\n/// Every model of the spec, by its one Rust name on both sides.\n#[allow(dead_code, clippy::too_many_arguments)]\nfn one_name_per_model({}) {{}}\n",
        arguments.join(", ")
    )
}

#[test]
fn the_client_and_the_api_compile_agree_and_check_clean() {
    let main = format!("{PROGRAM}{}", one_name_per_model());
    let program = common::ClientProgram {
        spec: ("rainbond.yaml", SPEC),
        package: "rainbond-fixture",
        dependencies: PROGRAM_DEPENDENCIES,
        main: &main,
    };
    let report = common::assert_runs_and_checks(&program, "rainbond fixture: the generated client and API agree");
    assert!(report.contains("matches the code"), "{report}");
}

#[test]
fn the_client_has_one_method_per_operation() {
    let client = generated_file(CLIENT_OUTPUT);
    let operations = server::ir::read(&spec()).unwrap().operations;
    assert_eq!(operations.len(), 16);
    for op in &operations {
        assert!(client.contains(&format!("pub fn {}(&self)", op.fn_name)), "the client has `{}`", op.fn_name);
    }
}

#[test]
fn the_generated_api_is_as_reviewed() {
    insta::assert_snapshot!("rainbond_api_rs", generated_file(&format!("{API_OUTPUT_DIR}/api.rs")));
    insta::assert_snapshot!("rainbond_models_rs", generated_file(&format!("{API_OUTPUT_DIR}/models.rs")));
}
