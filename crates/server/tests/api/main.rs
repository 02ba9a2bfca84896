//! Integration tests: a real server, a real database, real HTTP.
//! Every test runs on SQLite and on PostgreSQL.

#[macro_use]
mod backoffice;
mod admin;
mod embed;
mod guides;
mod headers;
mod helpers;
mod import_screens;
mod imports;
mod locate;
mod store;
mod territories;
