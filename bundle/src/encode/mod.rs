//! The bundle's output formats: pure functions from the chosen anchors to bytes.
