//! openapi.yaml against the operation's published documentation (tests/data/copy-app-api.txt,
//! 复制应用): every property of the documented models is in the spec with the documented type,
//! required flag, nullability, readOnly and title, and the spec adds none to them.

use std::collections::BTreeMap;

use serde_json::Value;

/// The models whose property tables the documentation publishes.
const MODELS: &[&str] = &["AppCopyC", "AppCopyModify", "AppCopyCRes", "AppPostInfo", "ServiceBaseInfo"];

/// One row of a property table: 名称 | 类型 | 必选 | 约束 | 中文名 | 说明.
#[derive(Debug)]
struct DocumentedProperty {
    name: String,
    kind: String,
    required: bool,
    constraint: String,
    title: String,
    description: String,
}

/// The property tables of the documentation, by model. A model is a line with its name, then
/// its JSON example, then `属性` and the table.
fn documented_models(text: &str) -> BTreeMap<String, Vec<DocumentedProperty>> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut models = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let is_name = !line.is_empty()
            && line.chars().all(|c| c.is_ascii_alphanumeric())
            && line.starts_with(|c: char| c.is_ascii_uppercase())
            && lines.get(index + 1) == Some(&"{");
        if is_name {
            current = Some(line.to_owned());
        }
        if line == "属性" {
            let model =
                current.clone().unwrap_or_else(|| panic!("line {}: a property table without a model", index + 1));
            let header = lines.get(index + 1).copied().unwrap_or_default();
            assert!(
                header.starts_with("| 名称 | 类型 | 必选 | 约束 | 中文名 | 说明"),
                "line {}: unexpected table header {header:?}",
                index + 2
            );
            let mut rows = Vec::new();
            index += 3; // header and separator
            while let Some(row) = lines.get(index).filter(|l| l.starts_with('|')) {
                let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
                assert!(cells.len() >= 5, "line {}: a row needs at least 5 cells: {row:?}", index + 1);
                rows.push(DocumentedProperty {
                    name: cells[0].to_owned(),
                    kind: cells[1].to_owned(),
                    required: match cells[2] {
                        "true" => true,
                        "false" => false,
                        other => panic!("line {}: 必选 is {other:?}", index + 1),
                    },
                    constraint: cells[3].to_owned(),
                    title: cells[4].to_owned(),
                    description: cells.get(5).copied().unwrap_or_default().to_owned(),
                });
                index += 1;
            }
            models.insert(model, rows);
            continue;
        }
        index += 1;
    }
    models
}

/// What the spec says about a documented type: `string`, `integer`, `boolean`, `[X]`, with `¦null`.
fn type_problems(model: &str, property: &DocumentedProperty, schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let at = format!("{model}.{}", property.name);
    let (kind, nullable) = match property.kind.strip_suffix("¦null") {
        Some(kind) => (kind, true),
        None => (property.kind.as_str(), false),
    };
    if schema.get("nullable").and_then(Value::as_bool).unwrap_or(false) != nullable {
        problems.push(format!("{at}: documented {}nullable", if nullable { "" } else { "not " }));
    }
    let type_of = |s: &Value| s.get("type").and_then(Value::as_str).map(str::to_owned);
    match kind.strip_prefix('[').and_then(|k| k.strip_suffix(']')) {
        Some(item) => {
            if type_of(schema).as_deref() != Some("array") {
                problems.push(format!("{at}: documented as an array [{item}], the spec says {:?}", type_of(schema)));
            }
            let items = schema.get("items").cloned().unwrap_or(Value::Null);
            let expected_ref = format!("#/components/schemas/{item}");
            let matches = match item {
                "string" | "integer" | "boolean" => type_of(&items).as_deref() == Some(item),
                _ => items.get("$ref").and_then(Value::as_str) == Some(expected_ref.as_str()),
            };
            if !matches {
                problems.push(format!("{at}: documented items {item}, the spec's items are {items}"));
            }
        }
        None => {
            if type_of(schema).as_deref() != Some(kind) {
                problems.push(format!("{at}: documented type {kind}, the spec says {:?}", type_of(schema)));
            }
            if kind == "integer" && schema.get("format").and_then(Value::as_str) != Some("int32") {
                problems.push(format!("{at}: a documented integer is `format: int32` (the console's IntegerField)"));
            }
        }
    }
    problems
}

#[test]
fn the_spec_follows_the_published_property_tables() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/copy-app-api.txt")).unwrap();
    let documented = documented_models(&text);
    let spec = rainbond_codegen::Spec::load(
        rainbond_codegen::workspace_root().expect("run by cargo in the workspace").join("openapi.yaml"),
    )
    .unwrap();
    let mut problems = Vec::new();
    for &model in MODELS {
        let properties = documented.get(model).unwrap_or_else(|| panic!("the documentation has no table for {model}"));
        assert!(!properties.is_empty(), "{model}: empty table");
        let schema = spec
            .document
            .pointer(&format!("/components/schemas/{model}"))
            .unwrap_or_else(|| panic!("{model} is not in the spec"));
        let required: Vec<&str> =
            schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let spec_properties = schema["properties"].as_object().expect("properties");
        for property in properties {
            let at = format!("{model}.{}", property.name);
            let Some(value) = spec_properties.get(&property.name) else {
                problems.push(format!("{at}: documented, not in the spec"));
                continue;
            };
            problems.extend(type_problems(model, property, value));
            if required.contains(&property.name.as_str()) != property.required {
                problems.push(format!("{at}: documented required = {}", property.required));
            }
            let read_only = value.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
            match property.constraint.as_str() {
                "read-only" if !read_only => problems.push(format!("{at}: documented read-only")),
                "none" if read_only => {
                    problems.push(format!("{at}: readOnly in the spec, documented without constraint"))
                }
                "read-only" | "none" => {}
                other => problems.push(format!("{at}: the test does not know the constraint {other:?}")),
            }
            let title = value.get("title").and_then(Value::as_str);
            if property.title != "none" && title != Some(property.title.as_str()) {
                problems.push(format!("{at}: documented title {:?}, the spec says {title:?}", property.title));
            }
            let description = value.get("description").and_then(Value::as_str);
            if !matches!(property.description.as_str(), "" | "none")
                && description != Some(property.description.as_str())
            {
                problems.push(format!(
                    "{at}: documented description {:?}, the spec says {description:?}",
                    property.description
                ));
            }
        }
        for name in spec_properties.keys() {
            if !properties.iter().any(|p| &p.name == name) {
                problems.push(format!("{model}.{name}: in the spec, not in the published table"));
            }
        }
    }
    assert!(problems.is_empty(), "openapi.yaml departs from the published documentation:\n{}", problems.join("\n"));
}

#[test]
fn the_parser_reads_every_published_table() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/copy-app-api.txt")).unwrap();
    let documented = documented_models(&text);
    let counts: BTreeMap<&str, usize> = documented.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("AppCopyC", 4),
            ("AppCopyCRes", 1),
            ("AppCopyModify", 2),
            ("AppPostInfo", 1),
            ("ServiceBaseInfo", 41)
        ])
    );
    let change = &documented["AppCopyModify"][1];
    assert_eq!(
        (change.name.as_str(), change.constraint.as_str(), change.title.as_str()),
        ("change", "read-only", "Change")
    );
    let desc = documented["ServiceBaseInfo"].iter().find(|p| p.name == "desc").unwrap();
    assert_eq!((desc.kind.as_str(), desc.required), ("string¦null", false));
}
