//! Integration tests: a real server, a real database, real HTTP.
//! Every test runs on SQLite and on PostgreSQL.

#[macro_use]
mod backoffice;
mod admin;
mod analytics;
mod authorization;
mod charts;
mod command_line;
mod competence;
mod coverage_page;
mod csv_formulas;
mod dashboards;
mod embed;
mod francearchives;
mod guides;
mod headers;
mod helpers;
mod import_screens;
mod imports;
mod inbox;
mod locate;
mod login_limits;
mod requests;
mod services_and_sites;
mod spreadsheets;
mod stats;
mod store;
mod territories;
mod territory_fields;
