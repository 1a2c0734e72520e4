//! The budget servers over a real socket, public and internal in one test binary.

mod common;
mod grpc;
mod internal;
mod typed_allocation;
mod typed_document;
