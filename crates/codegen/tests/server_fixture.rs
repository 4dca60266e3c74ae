//! The server generator on a second spec (tests/fixtures/shelter.yaml), compiled and run in a
//! crate of its own: the generated router serves a hand-written implementation, rejections come
//! back in the spec's error body, and a new operation in the spec stops the implementation from
//! compiling until its handler is written.
//!
//! The crate is built with the workspace's Cargo.lock, offline, in `target/codegen-fixture`
//! (its own dependency build is slow once, then cached).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn workspace_root() -> PathBuf {
    rainbond_codegen::workspace_root()
}

/// Writes the fixture crate: Cargo.toml, the generated module for `spec`, and `implementation`.
fn write_crate(dir: &Path, spec: &str, implementation: &str) {
    let spec = Spec::parse("shelter.yaml", spec).expect("the fixture spec loads");
    let generated = dir.join("src/generated");
    std::fs::create_dir_all(&generated).unwrap();
    for (name, tokens) in server::generate(&spec).expect("the fixture spec generates") {
        let code = rainbond_codegen::render("rainbond-codegen", "shelter.yaml", tokens).unwrap();
        std::fs::write(generated.join(name), code).unwrap();
    }
    std::fs::write(dir.join("src/main.rs"), implementation).unwrap();
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
    // The same versions and features as the server crate's.
    let manifest = r#"[package]
name = "shelter"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
axum = { version = "0.8.9", default-features = false, features = ["http1", "json", "tokio", "query"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_path_to_error = "0.1"
schemars = "0.8.22"
utoipa = "6.0.0"
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
tower = { version = "0.5", default-features = false, features = ["util"] }
http-body-util = "0.1"
"#;
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
}

/// `cargo <command>` in the fixture crate, offline, with its own target directory.
fn cargo(dir: &Path, command: &str) -> Output {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([command, "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target.join("codegen-fixture"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
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
    assert!(models.contains("deny_unknown_fields"), "{models}");
}
