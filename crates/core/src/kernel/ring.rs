//! One page of an ftrace ring buffer, as `per_cpu/cpuN/trace_pipe_raw` returns it.
//!
//! The layout is described by `events/header_page` and `events/header_event` and written by
//! `kernel/trace/ring_buffer.c`; libtraceevent's `kbuffer-parse.c` reads it the same way:
//!
//! - the page header: a u64 timestamp (the time of the page's first event), then a `local_t`
//!   (8 bytes on 64-bit kernels) whose low 27 bits are the bytes of event data that follow,
//!   bit 31 set when events were lost before this page and bit 30 when their count is stored
//!   after the data;
//! - then events, each behind a 4-byte header: `type_len` (5 bits) and `time_delta` (27 bits).
//!   `type_len` 1-28 is a record of `type_len * 4` bytes; 0 a record whose length (plus 4)
//!   is the next u32; 29 padding (to the page's end when its delta is 0); 30 a time extend
//!   (the next u32 holds bits 27 and up of the delta); 31 an absolute time stamp.

use super::TraceError as RingError;
use super::format::parse_field;

const TYPE_PADDING: u32 = 29;
const TYPE_TIME_EXTEND: u32 = 30;
const TYPE_TIME_STAMP: u32 = 31;
const TS_SHIFT: u32 = 27;
const COMMIT_MASK: u64 = (1 << 27) - 1;
const MISSED_EVENTS: u64 = 1 << 31;
const MISSED_STORED: u64 = 1 << 30;

/// Where the page header's fields sit: from `events/header_page`, or the 64-bit layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLayout {
    /// Size of the `commit` word (8 on 64-bit kernels, 4 on 32-bit ones).
    pub commit_size: usize,
    /// Where event data starts.
    pub data_offset: usize,
}

impl Default for PageLayout {
    fn default() -> Self {
        PageLayout {
            commit_size: 8,
            data_offset: 16,
        }
    }
}

impl PageLayout {
    /// Reads `events/header_page` (`field: local_t commit; offset:8; size:8; ...`), whose
    /// lines have the shape of an event's field lines.
    pub fn parse(text: &str) -> Option<PageLayout> {
        let fields: Vec<_> = text
            .lines()
            .map(str::trim_start)
            .filter(|line| line.starts_with("field:"))
            .filter_map(|line| parse_field(line).ok())
            .collect();
        let field = |name: &str| fields.iter().find(|f| f.name == name);
        Some(PageLayout {
            commit_size: field("commit")?.size,
            data_offset: field("data")?.offset,
        })
    }
}

/// A page's events and what it says about losses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    /// Event records: (timestamp in the trace clock's nanoseconds, record bytes).
    pub events: Vec<(u64, &'a [u8])>,
    /// Events were lost before this page (the buffer overran).
    pub missed: bool,
    /// How many, when the kernel stored the count.
    pub missed_count: Option<u64>,
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

impl<'a> Page<'a> {
    /// Walks one page. Every length is checked against the page: a short or corrupt page
    /// gives an error, never a read past its end.
    pub fn parse(page: &'a [u8], layout: PageLayout) -> Result<Page<'a>, RingError> {
        let short = || RingError(format!("trace page of {} bytes is cut short", page.len()));
        let mut ts = u64_at(page, 0).ok_or_else(short)?;
        let commit = match layout.commit_size {
            4 => u64::from(u32_at(page, 8).ok_or_else(short)?),
            _ => u64_at(page, 8).ok_or_else(short)?,
        };
        let size = usize::try_from(commit & COMMIT_MASK).map_err(|_| short())?;
        let start = layout.data_offset;
        let end = start
            .checked_add(size)
            .filter(|&end| end <= page.len())
            .ok_or_else(|| {
                RingError(format!(
                    "trace page claims {size} bytes of events, more than its {} bytes hold",
                    page.len()
                ))
            })?;
        let missed = commit & MISSED_EVENTS != 0;
        let missed_count = (missed && commit & MISSED_STORED != 0)
            .then(|| u64_at(page, end))
            .flatten();
        let mut events = Vec::new();
        let mut at = start;
        while at + 4 <= end {
            let header = u32_at(page, at).ok_or_else(short)?;
            let type_len = header & 0x1f;
            let delta = u64::from(header >> 5);
            let (record, length) = match type_len {
                TYPE_PADDING => {
                    if delta == 0 {
                        break;
                    }
                    let length = u32_at(page, at + 4).ok_or_else(short)? as usize;
                    (None, 4 + length)
                }
                TYPE_TIME_EXTEND => {
                    let high = u64::from(u32_at(page, at + 4).ok_or_else(short)?);
                    ts = ts.wrapping_add((high << TS_SHIFT) + delta);
                    (None, 8)
                }
                TYPE_TIME_STAMP => {
                    // An absolute stamp of the low 59 bits; the page's high bits stand.
                    let high = u64::from(u32_at(page, at + 4).ok_or_else(short)?);
                    let stamp = (high << TS_SHIFT) | delta;
                    ts = (ts & !((1u64 << 59) - 1)) | stamp;
                    (None, 8)
                }
                0 => {
                    let length = u32_at(page, at + 4).ok_or_else(short)? as usize;
                    let data = length.checked_sub(4).ok_or_else(short)?;
                    ts = ts.wrapping_add(delta);
                    (Some((at + 8, data)), 4 + length)
                }
                words => {
                    ts = ts.wrapping_add(delta);
                    let data = words as usize * 4;
                    (Some((at + 4, data)), 4 + data)
                }
            };
            let next = at
                .checked_add(length)
                .filter(|&next| next <= end && length >= 4)
                .ok_or_else(|| {
                    RingError(format!(
                        "trace event at byte {at} runs past the page's {size} bytes of events"
                    ))
                })?;
            if let Some((from, len)) = record {
                let bytes = page.get(from..from + len).ok_or_else(short)?;
                events.push((ts, bytes));
            }
            at = next;
        }
        Ok(Page {
            events,
            missed,
            missed_count,
        })
    }
}
