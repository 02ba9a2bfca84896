//! The in-memory snapshot of published reference data (in progress).

/// Reference data as loaded from the store.
pub struct RefData;
/// An immutable, indexed copy of the published reference data.
pub struct Snapshot;
