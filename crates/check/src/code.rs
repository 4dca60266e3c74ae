//! What the Rust code says the API is: the server's utoipa document and the schemars schemas of
//! the server's models and of the client's types.

use std::collections::BTreeSet;
use std::fmt;

use schemars::schema::RootSchema;
use serde::Serialize;
use serde_json::Value;

use crate::Error;
use crate::error_codes::CodeAndStatus;

/// Where in the code a statement about the API comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The server's OpenAPI 3.1 document, built by utoipa from its annotations (`/openapi.json`).
    ServerOpenapi,
    /// The JSON Schemas schemars 0.8 derives from the server's models.
    ServerSchemars,
    /// The JSON Schemas schemars 0.8 derives from the client's (progenitor/typify) types.
    ClientSchemars,
    /// The error codes the server answers (`rainbond_api::codes::ALL`).
    ServerCodes,
}

impl Source {
    /// Every source, in report order.
    pub const ALL: [Source; 4] =
        [Source::ServerOpenapi, Source::ServerSchemars, Source::ClientSchemars, Source::ServerCodes];

    /// The name used in reports: `server-openapi`, `server-schemars`, `client-schemars`,
    /// `server-codes`.
    pub fn name(self) -> &'static str {
        match self {
            Source::ServerOpenapi => "server-openapi",
            Source::ServerSchemars => "server-schemars",
            Source::ClientSchemars => "client-schemars",
            Source::ServerCodes => "server-codes",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The code's view of the API, as JSON: one OpenAPI document and two schema registries (spec
/// schema name → schemars root schema).
#[derive(Debug, Clone)]
pub struct CodeView {
    /// The server's OpenAPI document (utoipa, OpenAPI 3.1).
    pub server_openapi: Value,
    /// The server's models, by spec schema name.
    pub server_schemars: Vec<(String, Value)>,
    /// The client's types, by spec schema name.
    pub client_schemars: Vec<(String, Value)>,
    /// The error codes the server answers, with their statuses (`rainbond_api::codes::ALL`).
    pub error_codes: BTreeSet<CodeAndStatus>,
}

impl CodeView {
    /// The view of the code in this workspace: `rainbond_api::api::openapi()`,
    /// `rainbond_api::models::json_schemas()` and
    /// `rainbond_client::schemas::json_schemas()`.
    pub fn current() -> Result<Self, Error> {
        Self::from_parts(
            &rainbond_api::api::openapi(),
            rainbond_api::models::json_schemas(),
            rainbond_client::schemas::json_schemas(),
        )
    }

    /// A view built from the three sources (tests substitute fixture types here).
    pub fn from_parts(
        server_openapi: &utoipa::openapi::OpenApi,
        server_schemars: Vec<(&str, RootSchema)>,
        client_schemars: Vec<(&str, RootSchema)>,
    ) -> Result<Self, Error> {
        Ok(CodeView {
            server_openapi: serde_json::to_value(server_openapi).map_err(Error::CodeToJson)?,
            server_schemars: registry(server_schemars)?,
            client_schemars: registry(client_schemars)?,
            error_codes: crate::error_codes::answered(),
        })
    }

    /// Replaces (or adds) `name` under `components/schemas` of the server's OpenAPI document.
    pub fn set_openapi_schema(&mut self, name: &str, schema: Value) {
        let components = self
            .server_openapi
            .as_object_mut()
            .and_then(|doc| {
                doc.entry("components").or_insert_with(|| Value::Object(Default::default())).as_object_mut()
            })
            .and_then(|components| {
                components.entry("schemas").or_insert_with(|| Value::Object(Default::default())).as_object_mut()
            });
        if let Some(schemas) = components {
            schemas.insert(name.to_owned(), schema);
        }
    }

    /// Replaces (or adds) the schemars schema of `name` in the registry of `source`
    /// ([`Source::ServerSchemars`] or [`Source::ClientSchemars`]).
    pub fn set_schemars(&mut self, source: Source, name: &str, root: RootSchema) -> Result<(), Error> {
        let value = serde_json::to_value(root).map_err(Error::CodeToJson)?;
        let registry = match source {
            Source::ServerSchemars => &mut self.server_schemars,
            Source::ClientSchemars => &mut self.client_schemars,
            Source::ServerOpenapi | Source::ServerCodes => return Err(Error::NotARegistry(source)),
        };
        match registry.iter_mut().find(|(key, _)| key == name) {
            Some(slot) => slot.1 = value,
            None => registry.push((name.to_owned(), value)),
        }
        Ok(())
    }

    /// The registry of a schemars source.
    pub fn registry(&self, source: Source) -> Option<&[(String, Value)]> {
        match source {
            Source::ServerSchemars => Some(&self.server_schemars),
            Source::ClientSchemars => Some(&self.client_schemars),
            Source::ServerOpenapi | Source::ServerCodes => None,
        }
    }
}

fn registry(schemas: Vec<(&str, RootSchema)>) -> Result<Vec<(String, Value)>, Error> {
    schemas
        .into_iter()
        .map(|(name, root)| Ok((name.to_owned(), serde_json::to_value(root).map_err(Error::CodeToJson)?)))
        .collect()
}
