//! Snapshots (spec: snapshot.md): the model, and loading with validation.

pub mod load;
pub mod model;

pub use load::{load_bytes, load_str};
pub use model::Snapshot;
