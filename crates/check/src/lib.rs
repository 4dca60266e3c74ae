//! Contract checks.
