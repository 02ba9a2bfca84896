//! Locadocs domain core: territories, document types, services, holding rules,
//! the locate engine, communicability and commune search.
//!
//! This crate does no IO: it never touches the network, the file system or a
//! database. Everything here is plain data in, plain data out, so that the
//! domain can be unit-tested in depth and shared by the server, the CLI and the
//! benchmarks.

pub mod codes;
pub mod cog;
pub mod communicability;
pub mod coverage;
pub mod formats;
pub mod french;
pub mod guide;
pub mod locate;
pub mod reference;
pub mod request;
pub mod search;
pub mod search_link;
pub mod site;
pub mod snapshot;
pub mod territory;
pub mod text;
pub mod timeline;

pub use codes::{CodeError, DeptCode, InseeCode, RegionCode, Siren, Slug};
pub use reference::{
    Bound, DocumentType, HoldingRule, Service, ServiceKind, ServiceRef, Territory,
};
pub use site::{Origin, Site};
pub use snapshot::{RefData, Snapshot};
pub use territory::{Commune, CommuneKind, Departement, Epci, Region, Territories};
