//! `chronicle.define_event_type` and the schema check at append.

use chronicle_core::schema::{check_definition, check_event};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::JsonB;
use serde_json::Value;

use crate::definitions;
use crate::errors::{spi, OrRaise};

/// Checks an event being appended against its type's schemas.
pub fn check(
    client: &SpiClient<'_>,
    event_type: &str,
    schema_version: i64,
    prefix: &str,
    data: &Value,
    function: &'static str,
) {
    let schemas = definitions::schemas(client);
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
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn define_event_type(
    event_type: Option<&str>,
    schema: Option<JsonB>,
    schema_version: default!(Option<i32>, "1"),
) {
    const FN: &str = "chronicle.define_event_type";
    crate::guc::require_definer(FN);
    let schema = schema.map(|s| s.0);
    let (event_type, _, version) =
        check_definition(event_type, schema.as_ref(), schema_version.map(i64::from)).or_raise(FN);
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
        definitions::invalidate(client, "chronicle.event_types");
    });
}
