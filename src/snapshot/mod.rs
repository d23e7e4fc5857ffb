//! Snapshots (spec: snapshot.md): the model, and loading with validation.

pub mod load;
pub mod model;
pub mod redact;

pub use load::{load_bytes, load_str};
pub use model::Snapshot;
