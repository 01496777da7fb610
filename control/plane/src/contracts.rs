//! The three contract documents, generated and committed, by name (for `/openapi/...` and
//! the tests that keep them equal).

use std::path::PathBuf;

/// A contract: its name, the document generated from the code, the committed text and the
/// committed file's path in the repository.
pub struct Contract {
    pub name: &'static str,
    pub generated: fn() -> utoipa::openapi::OpenApi,
    pub committed: &'static str,
}

pub const ALL: [Contract; 3] = [
    Contract {
        name: "catalog",
        generated: catalog::openapi::document,
        committed: catalog::openapi::COMMITTED,
    },
    Contract {
        name: "entitlement",
        generated: entitlement::openapi::document,
        committed: entitlement::openapi::COMMITTED,
    },
    Contract {
        name: "billing",
        generated: billing::openapi::document,
        committed: billing::openapi::COMMITTED,
    },
];

impl Contract {
    /// `control/contracts/{name}.v1.json` in the repository.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("contracts")
            .join(format!("{}.v1.json", self.name))
    }
}

pub fn by_name(name: &str) -> Option<&'static Contract> {
    ALL.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed documents are the contracts: the code must describe exactly them.
    #[test]
    fn the_code_describes_the_committed_contracts() {
        let mut drifted = Vec::new();
        for c in &ALL {
            if let Err(e) =
                control_common::openapi::check_committed(&(c.generated)(), c.committed, &c.path())
            {
                drifted.push(e);
            }
        }
        assert!(drifted.is_empty(), "{}", drifted.join("\n"));
    }

    #[test]
    fn the_contracts_are_openapi_3_1_under_v1() {
        for c in &ALL {
            let doc: serde_json::Value = serde_json::from_str(c.committed).unwrap();
            assert_eq!(doc["openapi"], "3.1.0", "{}", c.name);
            let paths = doc["paths"].as_object().unwrap();
            assert!(!paths.is_empty(), "{}", c.name);
            assert!(paths.keys().all(|p| p.starts_with("/v1/")), "{}", c.name);
        }
    }
}
