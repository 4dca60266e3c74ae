//! The server generator on a second spec (tests/fixtures/shelter.yaml), compiled and run in a
//! copy of the `rainbond-api` crate whose generated files are replaced: the generated router
//! serves a hand-written implementation (an example of the copy), rejections come back in the
//! spec's error body, and a new operation in the spec stops the implementation from compiling
//! until its handler is written.
//!
//! The copy is built in a throwaway workspace (see `common`).

mod common;

use std::path::Path;
use std::process::Output;

use common::text;

use rainbond_codegen::{Spec, server};

const SPEC: &str = include_str!("fixtures/shelter.yaml");
const IMPLEMENTATION: &str = include_str!("fixtures/shelter_impl.rs");

/// An operation appended to the fixture spec.
const NEW_OPERATION: &str = "
  /pets/{pet_id}/adopt:
    parameters:
      - name: pet_id
        in: path
        required: true
        schema:
          type: integer
          format: int64
    post:
      operationId: adopt_pet
      security:
        - keeper: []
      responses:
        '200':
          description: Adopted.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Pet'
        '400':
          $ref: '#/components/responses/Problem'
        '401':
          $ref: '#/components/responses/Problem'
";

/// The handler of the new operation, as a user would add it to the implementation.
const NEW_HANDLER: &str = "
    async fn adopt_pet(&self, _caller: Keeper, path: AdoptPetPath) -> AdoptPetResponse {
        match self.pets.lock().unwrap().iter().find(|p| p.id == path.pet_id) {
            Some(pet) => AdoptPetResponse::Ok(pet.clone()),
            None => AdoptPetResponse::BadRequest(problem(400, \"no such pet\")),
        }
    }
";

/// The folder of the `rainbond-api` crate, relative to the workspace root.
const API_CRATE: &str = "crates/api";

/// Writes the fixture workspace: a copy of `rainbond-api` with the files generated from `spec`,
/// and `implementation` as its `shelter` example.
fn write_crate(dir: &Path, spec: &str, implementation: &str) {
    common::write_workspace(dir, &[API_CRATE]);
    let api = dir.join(API_CRATE);
    let generated = dir.join(rainbond_codegen::API_OUTPUT_DIR);
    std::fs::remove_dir_all(&generated).unwrap();
    std::fs::create_dir_all(&generated).unwrap();
    let spec = Spec::parse("shelter.yaml", spec).expect("the fixture spec loads");
    for (name, tokens) in server::generate(&spec).expect("the fixture spec generates") {
        let code = rainbond_codegen::render("rainbond-codegen", "shelter.yaml", tokens).unwrap();
        std::fs::write(generated.join(name), code).unwrap();
    }
    std::fs::create_dir_all(api.join("examples")).unwrap();
    std::fs::write(api.join("examples/shelter.rs"), implementation).unwrap();
}

/// `cargo <command> --example shelter` in the fixture workspace.
fn cargo(dir: &Path, command: &str) -> Output {
    common::cargo(dir, &[command, "--example", "shelter"])
}

#[test]
fn the_generated_server_serves_a_second_spec_and_new_operations_must_be_implemented() {
    let dir = tempfile::tempdir().unwrap();

    // 1. The spec as it is, with a complete implementation: builds and behaves.
    write_crate(dir.path(), SPEC, IMPLEMENTATION);
    let run = cargo(dir.path(), "run");
    assert!(run.status.success(), "the fixture server runs:\n{}", text(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("shelter: all requests answered as the spec says"),
        "{}",
        text(&run)
    );

    // 2. A new operation in the spec: the same implementation no longer compiles, and the error
    //    names the missing trait method.
    let grown = SPEC.replacen("components:\n", &format!("{}components:\n", NEW_OPERATION.trim_start_matches('\n')), 1);
    write_crate(dir.path(), &grown, IMPLEMENTATION);
    let build = cargo(dir.path(), "build");
    assert!(!build.status.success(), "an implementation without the new handler must not compile");
    let errors = text(&build);
    assert!(errors.contains("E0046") && errors.contains("adopt_pet"), "the error names the missing method:\n{errors}");

    // 3. With the handler written, it compiles and serves again.
    let implementation = IMPLEMENTATION.replacen("// (new handlers go here)", NEW_HANDLER, 1);
    assert_ne!(implementation, IMPLEMENTATION, "the implementation has a place for new handlers");
    write_crate(dir.path(), &grown, &implementation);
    let run = cargo(dir.path(), "run");
    assert!(run.status.success(), "{}", text(&run));
}

#[test]
fn the_fixture_spec_maps_to_the_expected_rust_api() {
    let spec = Spec::parse("shelter.yaml", SPEC).unwrap();
    let files = server::generate(&spec).unwrap();
    let render = |file: &str| {
        let tokens = files.iter().find(|(name, _)| *name == file).unwrap().1.clone();
        rainbond_codegen::render("rainbond-codegen", "shelter.yaml", tokens).unwrap()
    };
    let (api, models) = (render("api.rs"), render("models.rs"));
    for method in ["fn list_pets", "fn create_pet", "fn get_pet", "fn delete_pet", "fn authenticate_keeper"] {
        assert!(api.contains(method), "the trait has `{method}`");
    }
    // 201 and 204 become their own variants; 204 carries no body.
    assert!(api.contains("Created(models::Pet),"), "{api}");
    assert!(api.contains("NoContent,"), "{api}");
    // Optional + nullable is tri-state; required + nullable a plain Option; readOnly ignored on input.
    assert!(models.contains("pub nickname: Option<Option<String>>,"), "{models}");
    assert!(models.contains("pub keeper: Option<Keeper>,"), "{models}");
    assert!(models.contains("deserialize_with = \"support::ignore_input\""), "{models}");
    assert!(models.contains("use crate::runtime::support;"), "{models}");
    assert!(models.contains("deny_unknown_fields"), "{models}");
    // The whole generated API, as reviewed.
    insta::assert_snapshot!("shelter_api_rs", api);
    // Ranges and `default` carry their status.
    assert!(api.contains("ClientError(StatusCode, models::Problem),"), "{api}");
    assert!(api.contains("ServerError(StatusCode, models::Problem),"), "{api}");
    assert!(api.contains("Success(StatusCode, models::Pet),"), "{api}");
    assert!(api.contains("Default(StatusCode, models::Problem),"), "{api}");
}

#[test]
fn the_fixture_spec_generates_a_client_too_and_its_undocumented_400_is_a_warning() {
    let spec = Spec::parse("shelter.yaml", SPEC).unwrap();
    rainbond_codegen::generate(&spec).expect("progenitor and the server generator take the fixture");
    let undocumented = rainbond_codegen::server_warnings(&spec).unwrap();
    assert_eq!(undocumented.len(), 1, "{undocumented:?}");
    let line = SPEC.lines().position(|l| l == "  /pets/{pet_id}/name:").unwrap() + 11;
    assert_eq!(
        undocumented[0].location.to_string(),
        format!("shelter.yaml:{line} (at /paths/~1pets~1{{pet_id}}~1name/get/responses)")
    );
    assert!(undocumented[0].message.starts_with("`get_pet_name` documents no 400"), "{}", undocumented[0].message);
}
