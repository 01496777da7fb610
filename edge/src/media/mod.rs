//! Source media: local files, asset listings and the title cache.

pub mod cache;
pub mod source_file;
pub mod title;
