//! JSON pointers in words, for messages.

/// Unescapes one reference token (RFC 6901).
pub fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// What a pointer into an OpenAPI document names, in words: `ServiceBaseInfo.desc`,
/// `POST /apps/{id}/copy response 200 application/json .services[]`, `parameter app_id`.
pub fn subject(pointer: &str) -> String {
    let tokens: Vec<String> = pointer.split('/').skip(1).map(unescape_token).collect();
    let mut words: Vec<String> = Vec::new();
    let mut schema_path = String::new();
    let mut index = 0;
    let mut in_schema = false;
    while index < tokens.len() {
        let token = tokens[index].as_str();
        let next = tokens.get(index + 1).map(String::as_str);
        if in_schema {
            match (token, next) {
                ("properties", Some(name)) => {
                    schema_path.push('.');
                    schema_path.push_str(name);
                    index += 2;
                    continue;
                }
                ("items", _) => schema_path.push_str("[]"),
                ("additionalProperties", _) => schema_path.push_str("{*}"),
                ("allOf" | "oneOf" | "anyOf", Some(position)) => {
                    schema_path.push_str(&format!("<{token} {position}>"));
                    index += 2;
                    continue;
                }
                _ => schema_path.push_str(&format!(" {token}")),
            }
            index += 1;
            continue;
        }
        match (token, next) {
            ("components", Some("schemas")) => {
                if let Some(name) = tokens.get(index + 2) {
                    schema_path.push_str(name);
                }
                in_schema = true;
                index += 3;
                continue;
            }
            ("components", Some(kind)) => {
                let kind = kind.trim_end_matches('s');
                words.push(match tokens.get(index + 2) {
                    Some(name) => format!("{kind} {name}"),
                    None => kind.to_owned(),
                });
                index += 3;
                continue;
            }
            ("paths", Some(path)) => {
                match tokens.get(index + 2) {
                    Some(method) if crate::openapi::METHODS.contains(&method.as_str()) => {
                        words.push(format!("{} {path}", method.to_uppercase()));
                        index += 3;
                    }
                    _ => {
                        words.push(path.to_owned());
                        index += 2;
                    }
                }
                continue;
            }
            ("requestBody", _) => words.push("request body".to_owned()),
            ("responses", Some(status)) => {
                words.push(format!("response {status}"));
                index += 2;
                continue;
            }
            ("parameters", Some(position)) => {
                words.push(format!("parameter #{position}"));
                index += 2;
                continue;
            }
            ("content", Some(media_type)) => {
                words.push(media_type.to_owned());
                index += 2;
                continue;
            }
            ("schema", _) => in_schema = true,
            _ => words.push(token.to_owned()),
        }
        index += 1;
    }
    if !schema_path.is_empty() {
        words.push(schema_path);
    }
    if words.is_empty() { "the document".to_owned() } else { words.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::subject;

    #[test]
    fn pointers_read_as_words() {
        assert_eq!(subject("/components/schemas/ServiceBaseInfo/properties/desc"), "ServiceBaseInfo.desc");
        assert_eq!(subject("/components/schemas/A/properties/s/items/properties/id"), "A.s[].id");
        assert_eq!(
            subject("/paths/~1x~1{id}/post/requestBody/content/application~1json/schema/properties/a"),
            "POST /x/{id} request body application/json .a"
        );
        assert_eq!(subject("/paths/~1x/get/responses/200"), "GET /x response 200");
        assert_eq!(subject("/components/parameters/app_id/in"), "parameter app_id in");
        assert_eq!(subject(""), "the document");
    }
}
