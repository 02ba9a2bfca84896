//! The locate engine (in progress).
