//! The points servers over a real socket, public and internal in one test binary.

mod common;
mod grpc;
mod internal;
mod table_choice;
mod typed_document;
