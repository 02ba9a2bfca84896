//! Integration tests: a real server, a real database, real HTTP.
//! Every test runs on SQLite and on PostgreSQL.

#[macro_use]
mod backoffice;
mod admin;
mod authorization;
mod command_line;
mod csv_formulas;
mod embed;
mod guides;
mod headers;
mod helpers;
mod import_screens;
mod imports;
mod inbox;
mod locate;
mod login_limits;
mod requests;
mod stats;
mod store;
mod territories;
