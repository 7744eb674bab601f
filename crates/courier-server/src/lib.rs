//! Courier's service layer (transactions, crypto, blobs, audit) and its HTTP application.
//! Handlers in `web` only extract, call a service and render; every rule lives in `services`.

pub mod backup;
pub mod config;
pub mod error;
pub mod i18n;
pub mod metrics;
pub mod services;
pub mod startup;
pub mod tls;
pub mod web;

pub use config::Config;
pub use error::{Error, Result};
pub use services::Courier;
