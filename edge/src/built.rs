//! A built object, as the build phase hands it to the response cache and the response:
//! its body parts, content type and how downstream caches may keep it.

use bytes::Bytes;

/// How a response may be cached downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cacheability {
    Playlist,
    Segment,
}

/// A built object: its parts, type and cacheability. Cloning shares the parts.
#[derive(Clone)]
pub struct Built {
    pub parts: Vec<Bytes>,
    pub content_type: &'static str,
    pub cacheability: Cacheability,
}
