//! End-to-end tests: the real `courier` binary, a real SQLite database and real files in a
//! temporary data directory, spoken to over HTTP and through the CLI. One test binary (link
//! time) with a module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod accounts;
mod api;
mod audit;
mod backups;
mod clients;
mod cluster;
mod crash;
mod harness;
mod hostile;
mod keys;
mod languages;
mod lifecycle;
mod lockout;
mod malware;
mod outsider;
mod pages;
mod passkeys;
mod review;
mod routes;
mod scanning;
mod shares;
mod staff;
mod tls;
mod transit;
mod tus;
mod watch;
