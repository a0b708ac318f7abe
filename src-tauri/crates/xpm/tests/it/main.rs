//! Integration tests for the xpm crate, compiled into one binary:
//! `mock` drives every call against wiremock with exact method + path + query matchers and
//! recorded-shape fixtures; `sim` runs the real flows against xpm-sim on a random loopback
//! port; `fuzz` is the property test of the XML reader.

mod fuzz;
mod mock;
mod sim;
