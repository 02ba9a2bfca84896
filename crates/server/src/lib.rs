//! Locadocs server: the store, the live snapshot, the HTTP API and the
//! command line. The domain itself lives in `locadocs-core`.

pub mod analytics;
pub mod annuaire;
pub mod cli;
pub mod clock;
pub mod filetype;
pub mod francearchives;
pub mod import;
pub mod inbound;
pub mod live;
pub mod requests;
pub mod settings;
pub mod spreadsheet;
pub mod store;
pub mod usage;
pub mod web;

pub use live::Live;
