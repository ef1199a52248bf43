//! `chronicle.define_reducer`: how a stream type's events change its state
//! (the definition language is the core's, `chronicle_core::reducer`).

use chronicle_core::error::require;
use chronicle_core::identifier::validate_type_name;
use chronicle_core::reducer::Reducer;
use pgrx::prelude::*;
use pgrx::JsonB;

use crate::errors::OrRaise;
use crate::spi::spi;

/// Registers (or replaces) the reducer of a stream type.
#[pg_extern(volatile, parallel_unsafe, security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn define_reducer(stream_type: Option<&str>, definition: Option<JsonB>) {
    const FN: &str = "chronicle.define_reducer";
    crate::tenant::require_definer(FN);
    let stream_type = require(stream_type, "stream_type").or_raise(FN);
    validate_type_name("stream_type", stream_type).or_raise(FN);
    let definition = require(definition, "definition").or_raise(FN).0;
    Reducer::parse(&definition).or_raise(FN);
    Spi::connect_mut(|client| {
        spi(client.update(
            "INSERT INTO chronicle.reducers AS r (stream_type, definition, revision, defined_at)
             VALUES ($1, $2, 1, pg_catalog.now())
             ON CONFLICT (stream_type) DO UPDATE
                SET definition = EXCLUDED.definition,
                    revision = r.revision OPERATOR(pg_catalog.+) 1,
                    defined_at = EXCLUDED.defined_at",
            None,
            &[stream_type.into(), JsonB(definition).into()],
        ));
        // Snapshots made with the old definition are useless now.
        spi(client.update(
            "DELETE FROM chronicle.snapshots WHERE stream_type OPERATOR(pg_catalog.=) $1",
            None,
            &[stream_type.into()],
        ));
    });
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.define_reducer(text, jsonb) IS
    'Registers (or replaces) the reducer of a stream type: a JSON definition of how each event type changes the state (see the README). Invalid definitions are refused with SQLSTATE 22023 naming the bad operation.';
"#,
    name = "define_reducer_comment",
    requires = [define_reducer],
);
