//! Stress driver: scenarios, report, independent verification, profiles.

pub mod verify;
