//! OAuth (stub)
