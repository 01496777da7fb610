//! What the three OpenAPI documents share: the bearer API key scheme, and the check that a
//! generated document equals the committed one.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::Modify;

/// Adds the `api_key` security scheme (`Authorization: Bearer <key>`; operations list the
/// scopes they need).
pub struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key configured on the service; each operation names the scopes it needs.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Compares a generated document with the committed text. With `EDGEPACK_WRITE_CONTRACTS=1`
/// it writes the generated one to `path` instead (an intended change of the contract).
pub fn check_committed(
    generated: &utoipa::openapi::OpenApi,
    committed: &str,
    path: &std::path::Path,
) -> Result<(), String> {
    let mut text = generated
        .to_pretty_json()
        .map_err(|e| format!("cannot serialize the generated document: {e}"))?;
    text.push('\n');
    if std::env::var_os("EDGEPACK_WRITE_CONTRACTS").is_some() {
        std::fs::write(path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let committed_value: serde_json::Value = serde_json::from_str(committed)
        .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let generated_value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if committed_value != generated_value {
        return Err(format!(
            "the contract in the code drifted from {}; if the change is intended, run with \
             EDGEPACK_WRITE_CONTRACTS=1 and review the diff",
            path.display()
        ));
    }
    Ok(())
}
