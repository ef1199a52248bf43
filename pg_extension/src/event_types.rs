//! `chronicle.define_event_type` and the schema check at append.

use chronicle_core::schema::{check_definition, check_event};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::JsonB;
use serde_json::Value;

use crate::definition_cache;
use crate::errors::OrRaise;
use crate::spi::spi;

/// Checks an event being appended against its type's schemas.
pub fn check(
    client: &SpiClient<'_>,
    event_type: &str,
    schema_version: i64,
    prefix: &str,
    data: &Value,
    function: &'static str,
) {
    let schemas = definition_cache::schemas(client);
    check_event(
        schemas.definitions.get(event_type),
        event_type,
        schema_version,
        prefix,
        data,
    )
    .or_raise(function);
}

/// Defines (or replaces) the schema of an event type's schema version.
#[pg_extern(
    volatile,
    parallel_unsafe,
    security_definer,
    name = "define_event_type"
)]
#[search_path(pg_catalog, pg_temp)]
pub fn define_event_type_schema(
    event_type: Option<&str>,
    schema_version: Option<i32>,
    definition: Option<JsonB>,
) {
    define(event_type, schema_version, definition);
}

/// Defines (or replaces) a schema (also for the 0.2.0 signature, compat.rs).
pub fn define(event_type: Option<&str>, schema_version: Option<i32>, definition: Option<JsonB>) {
    const FN: &str = "chronicle.define_event_type";
    crate::tenant::require_definer(FN);
    let schema = definition.map(|s| s.0);
    let (event_type, version, _) =
        check_definition(event_type, schema_version.map(i64::from), schema.as_ref()).or_raise(FN);
    Spi::connect_mut(|client| {
        spi(client.update(
            "INSERT INTO chronicle.event_types AS t (event_type, schema_version, schema, defined_at)
             VALUES ($1, $2, $3, pg_catalog.now())
             ON CONFLICT (event_type, schema_version) DO UPDATE
                SET schema = EXCLUDED.schema, defined_at = EXCLUDED.defined_at",
            None,
            &[
                event_type.as_str().into(),
                (version as i32).into(),
                JsonB(schema.expect("checked")).into(),
            ],
        ));
        definition_cache::invalidate(client, "chronicle.event_types");
    });
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.define_event_type(text, int, jsonb) IS
    'Defines (or replaces) the schema (definition, a subset of JSON Schema) that data of an event type and schema version must match at every append (SQLSTATE 23514 naming the JSON path otherwise). Once an event type has schemas, appends must use one of its defined schema versions.';
"#,
    name = "define_event_type_comment",
    requires = [define_event_type_schema],
);
