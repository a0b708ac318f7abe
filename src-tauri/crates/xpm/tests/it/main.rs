//! Integration tests for the xpm crate, compiled into one binary:
//! `mock` drives every call against wiremock with exact method + path + query matchers and
//! recorded-shape fixtures; `fuzz` is the property test of the XML reader.

mod fuzz;
mod mock;
