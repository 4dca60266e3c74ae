//! The error codes: the list the spec documents them in, read back.
//!
//! The spec lists every `(code, status)` the server answers in the description of
//! [`ERROR_CODES_POINTER`], one paragraph per code that starts `` `CODE` (STATUS): `` (paragraphs,
//! not a table or a list, because typify joins the lines of a paragraph in the client's docs);
//! the code's list is `rainbond_api::codes::ALL`. `check` compares both ways
//! (`undocumented-error-code`, `unanswered-error-code`).

use std::collections::BTreeSet;

use serde_json::Value;

/// The property whose description lists the error codes.
pub const ERROR_CODES_POINTER: &str = "/components/schemas/ErrorBody/properties/code";

/// An error code and the HTTP status it is answered with.
pub type CodeAndStatus = (i32, u16);

/// The `(code, status)` of each line of the description at [`ERROR_CODES_POINTER`] that starts
/// `` `CODE` (STATUS): ``. Empty when the property or its description is missing.
pub fn documented(document: &Value) -> BTreeSet<CodeAndStatus> {
    let description = document.pointer(&format!("{ERROR_CODES_POINTER}/description")).and_then(Value::as_str);
    description.unwrap_or_default().lines().filter_map(code_line).collect()
}

/// `(code, status)` of a line `` `10402` (503): … ``.
fn code_line(line: &str) -> Option<CodeAndStatus> {
    let (code, rest) = line.trim().strip_prefix('`')?.split_once("` (")?;
    let (status, _) = rest.split_once("):")?;
    Some((code.parse().ok()?, status.parse().ok()?))
}

/// The codes the server answers (`rainbond_api::codes::ALL`).
pub fn answered() -> BTreeSet<CodeAndStatus> {
    rainbond_api::codes::ALL.iter().map(|code| (code.code, code.status)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lines_are_read_and_the_rest_ignored() {
        let document = serde_json::json!({"components": {"schemas": {"ErrorBody": {"properties": {"code": {
            "description": "Codes:\n\n`20400` (400): bad.\n\n `10402` (503): busy\n`x` (1): no\n`1` (2) no\n| 3 | 4 |"
        }}}}}});
        assert_eq!(documented(&document), BTreeSet::from([(20400, 400), (10402, 503)]));
        assert!(documented(&serde_json::json!({})).is_empty());
    }
}
