//! Stress driver: scenarios, report, independent verification, profiles.
