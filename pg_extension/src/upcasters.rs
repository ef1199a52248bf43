//! `chronicle.define_upcaster` and the upcast reads.

use chronicle_core::upcast::{check_definition, upcast};
use pgrx::prelude::*;
use pgrx::JsonB;

use crate::definition_cache;
use crate::errors::OrRaise;
use crate::spi::spi;

/// Defines (or replaces) the steps that turn an event type's data from
/// `from_schema_version` into the next version.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn define_upcaster(
    event_type: Option<&str>,
    from_schema_version: Option<i32>,
    definition: Option<JsonB>,
) {
    const FN: &str = "chronicle.define_upcaster";
    crate::tenant::require_definer(FN);
    let steps = definition.map(|s| s.0);
    let (event_type, from, _) = check_definition(
        event_type,
        from_schema_version.map(i64::from),
        steps.as_ref(),
    )
    .or_raise(FN);
    Spi::connect_mut(|client| {
        spi(client.update(
            "INSERT INTO chronicle.upcasters AS u (event_type, from_schema_version, steps, defined_at)
             VALUES ($1, $2, $3, pg_catalog.now())
             ON CONFLICT (event_type, from_schema_version) DO UPDATE
                SET steps = EXCLUDED.steps, defined_at = EXCLUDED.defined_at",
            None,
            &[
                event_type.as_str().into(),
                (from as i32).into(),
                JsonB(steps.expect("checked")).into(),
            ],
        ));
        // Replayed states may change: the snapshots are stale.
        spi(client.update("DELETE FROM chronicle.snapshots", None, &[]));
        definition_cache::invalidate(client, "chronicle.upcasters");
    });
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.define_upcaster(text, int, jsonb) IS
    'Defines (or replaces) the declarative steps (definition: rename, move, default, remove) that turn data of an event type from from_schema_version into the next version. Replay and read_stream(upcast => true) apply them; snapshots are dropped.';
"#,
    name = "define_upcaster_comment",
    requires = [define_upcaster],
);

/// Internal: an event's data upcast to its newest schema version.
#[pg_extern(stable, parallel_safe, name = "_upcast", schema = "chronicle_internal")]
#[search_path(pg_catalog, pg_temp)]
fn upcast_sql(
    event_type: &str,
    schema_version: i32,
    data: JsonB,
) -> TableIterator<'static, (name!(schema_version, i32), name!(data, JsonB))> {
    let upcasters = Spi::connect(definition_cache::upcasters);
    let mut data = data.0;
    let version = upcast(
        &upcasters.definitions,
        event_type,
        i64::from(schema_version),
        &mut data,
    );
    TableIterator::once((version as i32, JsonB(data)))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle_internal._upcast(text, int, jsonb) IS
    'Internal: the data of an event upcast to its newest schema version.';
"#,
    name = "upcast_sql_comment",
    requires = [upcast_sql],
);
