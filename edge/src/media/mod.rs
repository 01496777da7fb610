//! Source media: where assets live (the media root), what makes up a title (listings and
//! asset definitions, the catalog's asset policy), and the metadata caches.

pub mod cache;
pub mod catalog_config;
#[cfg(feature = "control")]
pub mod catalog_policy;
pub mod definition;
pub mod rights;
pub mod root;
pub mod title;
