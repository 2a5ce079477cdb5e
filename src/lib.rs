//! fullpass: a Postgres-woken daemon that reads a user's whole chat export and
//! writes their MEMORY section.
//!
//! The data path, one module per step:
//! [`db`] (notification, claim, write back) → [`storage`] (byte stream) →
//! [`ingest`] (container, export format, one conversation at a time) →
//! [`extract`] (facts, guards, consolidation) → [`memory`] (rendering).
//! [`llm`] is the alternative extractor: a language model proposes the facts.
//! [`pass`] runs ingest → extract on one export; [`worker`] runs one claimed job;
//! [`daemon`] ties listening, claiming, concurrency and shutdown together.
//! [`synth`] writes synthetic exports for tests and benchmarks.

pub mod config;
pub mod daemon;
pub mod db;
pub mod demo;
pub mod devdb;
pub mod extract;
pub mod http;
pub mod ingest;
pub mod llm;
pub mod memory;
pub mod net;
pub mod pass;
pub mod retry;
pub mod storage;
pub mod synth;
pub mod telemetry;
pub mod worker;
