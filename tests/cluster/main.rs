//! Redis clustering tests (placeholder).
