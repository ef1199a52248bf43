//! Tenants: `chronicle.tenant`, the setting that says whose rows a session
//! sees and writes, and the checks that keep tenants apart where row-level
//! security cannot (shared definitions).

use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

use crate::errors::raise;

static TENANT: GucSetting<Option<std::ffi::CString>> =
    GucSetting::<Option<std::ffi::CString>>::new(None);

/// Set when this session gave `chronicle.tenant` a value before the library
/// was loaded (a placeholder, which anyone may set) and Postgres refused to
/// keep it once the setting was defined: the session asked for a tenant it
/// may not have, so it gets none at all (current_tenant() raises 42501).
static TENANT_REFUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The current text of a setting, if it exists (also a placeholder).
fn setting_text(name: &std::ffi::CStr) -> Option<String> {
    let value = unsafe { pgrx::pg_sys::GetConfigOption(name.as_ptr(), true, false) };
    (!value.is_null()).then(|| {
        unsafe { std::ffi::CStr::from_ptr(value) }
            .to_string_lossy()
            .into_owned()
    })
}

/// Defines `chronicle.tenant` (from `_PG_init`).
pub fn register() {
    let placeholder = setting_text(c"chronicle.tenant");
    GucRegistry::define_string_guc(
        c"chronicle.tenant",
        c"The session's tenant: it sees and writes only its own streams and subscriptions.",
        c"Set per role by a superuser: ALTER ROLE app_acme SET chronicle.tenant = 'acme'. Empty: the rows of no tenant.",
        &TENANT,
        GucContext::Suset,
        GucFlags::default(),
    );
    if placeholder.is_some_and(|p| Some(p) != setting_text(c"chronicle.tenant")) {
        TENANT_REFUSED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `chronicle.current_tenant()`: the session's tenant, `chronicle.tenant`
/// ('' for none). Only a superuser can set it (`ALTER ROLE ... SET
/// chronicle.tenant`), so a role cannot choose another tenant's rows. The
/// row-level security policies call this function, which loads this library
/// first: a `SET chronicle.tenant` made before the library was loaded (a
/// placeholder anyone may set) is then refused, never used.
#[pgrx::pg_extern(stable, parallel_safe)]
fn current_tenant() -> String {
    tenant()
}

/// The checks before any definition (reducer, event type, upcaster): the
/// transaction may write (25006), and the session has no tenant (42501,
/// `shared_definition`): definitions are shared by every tenant, so no
/// tenant may change them for the others.
pub fn require_definer(function: &'static str) {
    crate::transaction::require_writable(function);
    let tenant = tenant();
    if !tenant.is_empty() {
        raise(
            chronicle_core::Error::SharedDefinition {
                operation: function,
                tenant,
            },
            function,
        );
    }
}

/// The session's tenant ('' for none); see [`current_tenant`].
pub fn tenant() -> String {
    if TENANT_REFUSED.load(std::sync::atomic::Ordering::Relaxed) {
        raise(
            chronicle_core::Error::TenantNotPermitted,
            "chronicle.current_tenant",
        );
    }
    TENANT
        .get()
        .map(|t| t.to_string_lossy().into_owned())
        .unwrap_or_default()
}

extension_sql!(
    r#"
COMMENT ON FUNCTION chronicle.current_tenant() IS
    'The session''s tenant (the chronicle.tenant setting, which only a superuser can set; '''' for none).';
"#,
    name = "current_tenant_comment",
    requires = [current_tenant],
);
