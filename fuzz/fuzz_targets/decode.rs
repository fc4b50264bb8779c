//! Fuzzes frame decoding: every link type, whole and cut, IP header offsets, and the address
//! rewrite of an anonymised export (see `common::decode_target`).
#![no_main]

#[allow(dead_code)]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::decode_target(data));
