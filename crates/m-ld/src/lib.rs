//! The m-ld facade.
