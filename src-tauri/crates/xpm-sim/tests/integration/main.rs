//! Integration tests of xpm-sim over loopback HTTP, one module per area of issue 3.

mod common;
mod faults_admin;
mod identity;
mod limits;
mod xpm;
