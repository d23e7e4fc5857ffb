//! The policy engine: a local, offline implementation of AWS's request
//! authorization logic. `model` holds parsed documents with spans, `parse`
//! validates their grammar, `condition` and `matching` implement the element
//! semantics, `eval` the decision logic, `service` the per-service knowledge.

pub mod condition;
pub mod context;
pub mod eval;
pub mod lint;
pub mod matching;
pub mod model;
pub mod parse;
pub mod principal;
pub mod public;
pub mod restype;
pub mod service;
pub mod tri;

pub use context::{Context, CtxValue, Lookup, Missing};
pub use eval::{Decision, DecisionKind, Grant, Labeled, PolicySet, PolicyType, Request, evaluate};
pub use model::{Defect, Effect, Policy, PolicyKind, Severity, Source, Statement};
pub use parse::{ParseOptions, parse_node, parse_text};
pub use principal::Principal;
pub use tri::Tri;
