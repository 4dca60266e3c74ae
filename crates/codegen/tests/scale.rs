//! A spec of 200 operations and 401 schemas (`RESOURCES` paths of a list and a create), in the
//! shapes real specs use (ranges, header and query parameters, unsigned formats, inline enums,
//! dropshot's paginated lists): it generates, and the API crate built from
//! it compiles. The generate and build times are printed (`--nocapture`), never asserted.

mod common;

use std::fmt::Write;
use std::time::Instant;

use rainbond_codegen::{Spec, generate};

/// Pairs of operations (a list and a create per path).
const RESOURCES: usize = 100;

fn schema_pair(out: &mut String, index: usize) {
    let _ = write!(
        out,
        "    Item{index}:
      type: object
      required: [id, name]
      properties:
        id:
          type: integer
          format: uint64
        name:
          type: string
          maxLength: 64
        state:
          type: string
          enum: [active, retired]
        weight:
          type: integer
          format: uint32
          minimum: 1
        tags:
          type: array
          items:
            type: string
        owner:
          $ref: '#/components/schemas/Item{index}Owner'
    Item{index}Owner:
      type: object
      properties:
        name:
          type: string
        since:
          type: string
          format: date-time
    Item{index}Create:
      type: object
      required: [name]
      properties:
        name:
          type: string
        note:
          type: string
          nullable: true
    Item{index}Page:
      type: object
      required: [items]
      properties:
        items:
          type: array
          items:
            $ref: '#/components/schemas/Item{index}'
        next_page:
          type: string
          nullable: true
"
    );
}

fn path_pair(out: &mut String, index: usize) {
    let errors = "        4XX:\n          $ref: '#/components/responses/Error'\n        5XX:\n          $ref: '#/components/responses/Error'\n";
    let _ = write!(
        out,
        "  /items{index}:
    get:
      operationId: list_items{index}
      x-dropshot-pagination:
        required: []
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
            format: uint32
            minimum: 1
        - name: page_token
          in: query
          schema:
            type: string
      responses:
        '200':
          description: A page.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Item{index}Page'
{errors}    post:
      operationId: create_item{index}
      parameters:
        - name: x-request-id
          in: header
          schema:
            type: string
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Item{index}Create'
      responses:
        '201':
          description: Created.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Item{index}'
{errors}"
    );
}

fn spec_text() -> String {
    let mut text = String::from("openapi: 3.0.3\ninfo:\n  title: scale\n  version: '1'\npaths:\n");
    for index in 0..RESOURCES {
        path_pair(&mut text, index);
    }
    text.push_str(
        "components:\n  responses:\n    Error:\n      description: An error.\n      content:\n        application/json:\n          schema:\n            $ref: '#/components/schemas/Error'\n  schemas:\n    Error:\n      type: object\n      required: [message]\n      properties:\n        message:\n          type: string\n",
    );
    for index in 0..RESOURCES {
        schema_pair(&mut text, index);
    }
    text
}

#[test]
fn a_spec_of_200_operations_generates_and_its_api_crate_compiles() {
    let text = spec_text();
    let started = Instant::now();
    let spec = Spec::parse("scale.yaml", &text).unwrap();
    let files = generate(&spec).expect("the spec generates");
    let generated = started.elapsed();
    let operations = spec.openapi.paths.paths.len() * 2;
    let schemas = spec.openapi.components.as_ref().map_or(0, |c| c.schemas.len());
    assert_eq!((operations, schemas), (2 * RESOURCES, 1 + 4 * RESOURCES));
    println!("scale: {operations} operations, {schemas} schemas generated in {:.2} s", generated.as_secs_f64());
    let client = &files.iter().find(|file| file.path == rainbond_codegen::CLIENT_OUTPUT).unwrap().contents;
    assert!(client.contains("pub fn stream("), "paginated lists get progenitor's stream method");

    let dir = tempfile::tempdir().unwrap();
    common::write_workspace(dir.path(), &["crates/api"]);
    let api_files: Vec<_> =
        files.into_iter().filter(|file| file.path.starts_with(rainbond_codegen::API_OUTPUT_DIR)).collect();
    rainbond_codegen::write_files(dir.path(), &api_files).unwrap();
    let started = Instant::now();
    let build = common::cargo(dir.path(), &["build", "-p", "rainbond-api"]);
    assert!(build.status.success(), "the API crate compiles:\n{}", common::text(&build));
    println!("scale: the API crate built in {:.1} s (dependencies already built)", started.elapsed().as_secs_f64());
}
