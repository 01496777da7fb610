//! The HTTP side of the daemon: the TCP and QUIC listeners with their connection limits, TLS,
//! HTTP/3, response bodies, and turning built objects and problems into HTTP responses.
//! Requests enter at [`server`] (and [`h3`]) and go to [`crate::pipeline::handle`].

pub mod body;
pub(crate) mod conn;
pub mod h3;
pub mod response;
pub mod server;
pub mod tls;

use std::net::SocketAddr;

/// The address of the client a request came from, set by the listener as an extension.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);
