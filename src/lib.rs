//! rstscope: who really reset this TCP connection, and why?
//!
//! The library is the whole pipeline, one stage per module, data moving one way:
//! `capture` (frames) → `decode` (segments) → `flow` (connections) → `report` (bytes).
//! `pipeline` is the loop that drives it; `cli` turns the command line into a run.

pub mod anonymize;
pub mod attribution;
pub mod capture;
pub mod cli;
pub mod decode;
pub mod export;
pub mod flow;
pub mod pipeline;
pub mod report;
pub mod synth;
pub mod tcp;
pub mod time;

#[cfg(test)]
mod testing;
