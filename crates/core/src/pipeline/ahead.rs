//! Reading a step ahead: a source adaptor, not a second pipeline. A second thread runs
//! [`read_inputs`] (libpcap's reads, decoding, anonymising) and hands its arrivals over in
//! batches; the caller's thread takes them, in order, into the analysis. The caller gets what
//! `read_inputs` on its own thread would have given it, arrival by arrival.
//!
//! The channel is bounded, so memory in flight is too; emptied batches go back for reuse.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{AnalyzeOptions, Arrival, read_inputs};
use crate::capture::CaptureError;

/// Arrivals per batch: enough to make a hand-over rare, few enough to stay in cache.
const BATCH: usize = 512;

/// Batches in flight to the caller.
const IN_FLIGHT: usize = 8;

/// `read_inputs` on a second thread, its arrivals given to `each` on this one. When no thread
/// can be started, everything runs here.
pub(super) fn read_ahead(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    each: &mut dyn FnMut(Arrival),
) -> Result<(), CaptureError> {
    let (full_tx, full_rx) = sync_channel::<Vec<Arrival>>(IN_FLIGHT);
    let (spare_tx, spare_rx) = sync_channel::<Vec<Arrival>>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("rstscope-read".into())
            .spawn_scoped(scope, move || {
                read_in_batches(paths, options, &full_tx, &spare_rx)
            });
        let Ok(reader) = reader else {
            return read_inputs(paths, options, each);
        };
        take_batches(&full_rx, &spare_tx, each);
        // A reader that panicked has already printed why; its panic goes on from here.
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The reading thread: arrivals into batches, each sent when full and at the end.
fn read_in_batches(
    paths: &[PathBuf],
    options: &AnalyzeOptions,
    full: &SyncSender<Vec<Arrival>>,
    spare: &Receiver<Vec<Arrival>>,
) -> Result<(), CaptureError> {
    let mut batch = Vec::with_capacity(BATCH);
    let send = |batch: &mut Vec<Arrival>| {
        let next = spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BATCH));
        // The caller only goes away by panicking; its panic is raised where it happened.
        let _ = full.send(std::mem::replace(batch, next));
    };
    let read = read_inputs(paths, options, &mut |arrival| {
        batch.push(arrival);
        if batch.len() >= BATCH {
            send(&mut batch);
        }
    });
    if !batch.is_empty() {
        send(&mut batch);
    }
    read
}

/// The caller's thread: every arrival of every batch, in order, until the reader is done.
fn take_batches(
    full: &Receiver<Vec<Arrival>>,
    spare: &SyncSender<Vec<Arrival>>,
    each: &mut dyn FnMut(Arrival),
) {
    for mut batch in full.iter() {
        batch.drain(..).for_each(&mut *each);
        // A full return channel only means the reader has spares already.
        let _ = spare.try_send(batch);
    }
}
