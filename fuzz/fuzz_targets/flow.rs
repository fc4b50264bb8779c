//! Fuzzes flow tracking, attribution and reporting with segments built from small records
//! (see `common::flow_target`).
#![no_main]

#[allow(dead_code)]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::flow_target(data));
