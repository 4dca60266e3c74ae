//! The operations of an OpenAPI document (3.0 or 3.1), with path-level parameters, `$ref`s and
//! inherited security resolved the same way for the spec and for the code's document.

use std::collections::{BTreeMap, BTreeSet};

use rainbond_codegen::spec::escape_token;
use serde_json::Value;

use crate::schema::Node;

/// The HTTP methods a path item can hold, in report order.
pub const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// One operation: a method on a path.
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    /// The lower-case method.
    pub method: &'static str,
    /// The path as written (`/apps/{app_id}/copy`).
    pub path: String,
    /// The path with every variable written `{}`: operations match on this.
    pub template: String,
    /// The operation object.
    pub node: Node<'a>,
    /// The path item that holds it.
    pub path_item: Node<'a>,
}

/// A parameter of an operation, after `$ref` resolution and path-level inheritance.
#[derive(Debug, Clone)]
pub struct Parameter<'a> {
    /// `name`.
    pub name: String,
    /// `in`: path, query, header or cookie.
    pub location: String,
    /// `required` (path parameters default to true in practice; the value written is kept).
    pub required: bool,
    /// The parameter object (the `$ref` target when it is a reference).
    pub node: Node<'a>,
}

/// A response of an operation.
#[derive(Debug, Clone)]
pub struct Response<'a> {
    /// The status key as written: `200`, `4XX`, `default`.
    pub status: String,
    /// Where the status is declared (possibly a `$ref`).
    pub site: Node<'a>,
    /// The response object (the `$ref` target when it is a reference).
    pub node: Node<'a>,
}

/// A security requirement: alternatives, each a set of schemes with their scopes. Empty means
/// "no authentication".
pub type Security = BTreeSet<BTreeMap<String, BTreeSet<String>>>;

/// Every operation of `root`, in document order.
pub fn operations(root: &Value) -> Vec<Operation<'_>> {
    let Some(paths) = Node::at(root, "/paths") else { return Vec::new() };
    let mut operations = Vec::new();
    for (path, item) in paths.members() {
        let item = item.resolved();
        for &method in METHODS {
            if let Some(node) = item.child(method) {
                operations.push(Operation {
                    method,
                    template: template(&path),
                    path: path.clone(),
                    node,
                    path_item: item.clone(),
                });
            }
        }
    }
    operations
}

/// `path` with every `{variable}` replaced by `{}`.
pub fn template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

/// The variable names of a path template, in order.
pub fn path_variables(path: &str) -> Vec<String> {
    path.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned())).collect()
}

/// The JSON pointer of `/paths/<path>/<method>`.
pub fn operation_pointer(path: &str, method: &str) -> String {
    format!("/paths/{}/{method}", escape_token(path))
}

impl<'a> Operation<'a> {
    /// `POST /apps/{app_id}/copy`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    /// The matching key: method and template.
    pub fn key(&self) -> (String, &'static str) {
        (self.template.clone(), self.method)
    }

    /// `operationId`.
    pub fn operation_id(&self) -> Option<&'a str> {
        self.node.str("operationId")
    }

    /// The effective parameters: the path item's, overridden by the operation's (by name and
    /// location), in declaration order.
    pub fn parameters(&self) -> Vec<Parameter<'a>> {
        let mut parameters: Vec<Parameter<'a>> = Vec::new();
        for holder in [&self.path_item, &self.node] {
            let Some(list) = holder.child("parameters") else { continue };
            for site in list.elements() {
                let node = site.resolved();
                let (Some(name), Some(location)) = (node.str("name"), node.str("in")) else { continue };
                let parameter = Parameter {
                    name: name.to_owned(),
                    location: location.to_owned(),
                    required: node.bool("required").unwrap_or(false),
                    node,
                };
                match parameters.iter_mut().find(|p| p.name == parameter.name && p.location == parameter.location) {
                    Some(slot) => *slot = parameter,
                    None => parameters.push(parameter),
                }
            }
        }
        parameters
    }

    /// The request body object (resolved), if any.
    pub fn request_body(&self) -> Option<Node<'a>> {
        self.node.child("requestBody").map(|body| body.resolved())
    }

    /// The responses, in document order.
    pub fn responses(&self) -> Vec<Response<'a>> {
        let Some(responses) = self.node.child("responses") else { return Vec::new() };
        responses.members().into_iter().map(|(status, site)| Response { status, node: site.resolved(), site }).collect()
    }

    /// The effective security requirement and the pointer that declares it (the operation's
    /// `security`, else the document's, else `/security`, which may not exist).
    pub fn security(&self) -> (Security, String) {
        if let Some(own) = self.node.child("security") {
            return (security_of(own.value), own.pointer);
        }
        match Node::at(self.node.root, "/security") {
            Some(global) => (security_of(global.value), global.pointer),
            None => (Security::new(), "/security".to_owned()),
        }
    }

    /// Whether the operation is marked `deprecated`.
    pub fn deprecated(&self) -> bool {
        self.node.bool("deprecated").unwrap_or(false)
    }
}

/// The media types of a request body or response (`content`), in document order.
pub fn media_types<'a>(holder: &Node<'a>) -> Vec<(String, Node<'a>)> {
    holder.child("content").map(|content| content.members()).unwrap_or_default()
}

/// Reads a `security` array.
pub fn security_of(value: &Value) -> Security {
    value
        .as_array()
        .map(|alternatives| {
            alternatives
                .iter()
                .filter_map(Value::as_object)
                .map(|schemes| {
                    schemes
                        .iter()
                        .map(|(scheme, scopes)| {
                            let scopes = scopes
                                .as_array()
                                .map(|s| s.iter().filter_map(Value::as_str).map(str::to_owned).collect());
                            (scheme.clone(), scopes.unwrap_or_default())
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A security requirement in words: `none`, `access_key`, `a and b, or c`.
pub fn security_text(security: &Security) -> String {
    if security.is_empty() {
        return "none (no authentication)".to_owned();
    }
    security
        .iter()
        .map(|alternative| {
            if alternative.is_empty() {
                return "anonymous".to_owned();
            }
            alternative
                .iter()
                .map(|(scheme, scopes)| {
                    if scopes.is_empty() {
                        scheme.clone()
                    } else {
                        format!("{scheme} [{}]", scopes.iter().cloned().collect::<Vec<_>>().join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect::<Vec<_>>()
        .join(", or ")
}

/// Whether a status key is a success (`2xx`, `2XX`).
pub fn is_success(status: &str) -> bool {
    status.starts_with('2')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_ignore_variable_names() {
        assert_eq!(template("/a/{x}/b/{y}"), "/a/{}/b/{}");
        assert_eq!(path_variables("/a/{x}/b/{y}"), ["x", "y"]);
    }

    #[test]
    fn operation_parameters_override_path_parameters() {
        let doc = serde_json::json!({
            "components": {"parameters": {"p": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}}},
            "paths": {"/x/{id}": {
                "parameters": [{"$ref": "#/components/parameters/p"}],
                "get": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]}
            }}
        });
        let ops = operations(&doc);
        let parameters = ops[0].parameters();
        assert_eq!(parameters.len(), 1);
        assert_eq!(parameters[0].node.pointer, "/paths/~1x~1{id}/get/parameters/0");
    }
}
