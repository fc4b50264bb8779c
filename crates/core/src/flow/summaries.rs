//! Small, bounded summaries of what a host's packets showed, for attribution to hold a reset
//! up to: the TTLs (or hop limits) they arrived with, the link-layer addresses they came from,
//! and the trend of their IPv4 IDs.

use crate::decode::Mac;

/// How many distinct TTL values a side remembers (with their counts).
const TTL_SLOTS: usize = 4;

/// The TTLs (or hop limits) one side's packets arrived with: up to four distinct values and
/// how often each was seen, plus the last one.
#[derive(Debug, Clone, Default)]
pub struct TtlSummary {
    /// (value, count), the count saturating at 65,535: enough to tell the usual value.
    slots: [(u8, u16); TTL_SLOTS],
    used: u8,
    /// Packets whose TTL did not fit in the slots.
    pub others: u32,
    pub last: Option<u8>,
}

impl TtlSummary {
    /// Counts one segment's TTL.
    pub fn note(&mut self, ttl: u8) {
        self.last = Some(ttl);
        let used = usize::from(self.used);
        if let Some(slot) = self.slots[..used].iter_mut().find(|s| s.0 == ttl) {
            slot.1 = slot.1.saturating_add(1);
        } else if used < TTL_SLOTS {
            self.slots[used] = (ttl, 1);
            self.used += 1;
        } else {
            self.others = self.others.saturating_add(1);
        }
    }

    /// The distinct values seen, with their counts.
    pub fn values(&self) -> &[(u8, u16)] {
        &self.slots[..usize::from(self.used)]
    }

    /// How far apart the values seen at least twice (or the only value) lie.
    pub fn spread(&self) -> u8 {
        let common = self.values().iter().filter(|s| s.1 >= 2 || self.used == 1);
        let (min, max) = common.fold((u8::MAX, 0u8), |(lo, hi), s| (lo.min(s.0), hi.max(s.0)));
        max.saturating_sub(min)
    }

    /// The most common value.
    pub fn usual(&self) -> Option<u8> {
        self.values().iter().max_by_key(|s| s.1).map(|s| s.0)
    }
}

/// The link-layer source addresses a host's frames arrived from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LinkSummary {
    first: Option<Mac>,
    /// True when a frame came from another address than the first.
    varies: bool,
}

impl LinkSummary {
    pub(crate) fn note(&mut self, mac: Option<Mac>) {
        let Some(mac) = mac else { return };
        match self.first {
            None => self.first = Some(mac),
            Some(first) if first != mac => self.varies = true,
            Some(_) => {}
        }
    }

    /// The one address every frame came from, if there was exactly one.
    pub(crate) fn only(&self) -> Option<Mac> {
        self.first.filter(|_| !self.varies)
    }

    /// True when some frame came from `mac`.
    pub(crate) fn includes(&self, mac: Mac) -> bool {
        self.first == Some(mac) || self.varies
    }
}

/// The IPv4 identification values of one side: enough to judge continuity later.
#[derive(Debug, Clone, Default)]
pub struct IpIdSummary {
    pub first: Option<u16>,
    pub last: Option<u16>,
    pub zeros: u32,
    /// Steps from one packet's IP ID to the next of 1..=1024 (a per-flow or global counter).
    pub small_steps: u32,
    /// Any other step.
    pub jumps: u32,
}

impl IpIdSummary {
    pub(super) fn note(&mut self, id: Option<u16>) {
        let Some(id) = id else { return };
        if id == 0 {
            // Linux sends SYN-ACKs and reply RSTs with ID 0: not part of any counter.
            self.zeros = self.zeros.saturating_add(1);
            return;
        }
        if let Some(last) = self.last {
            let step = id.wrapping_sub(last);
            if (1..=1024).contains(&step) {
                self.small_steps = self.small_steps.saturating_add(1);
            } else {
                self.jumps = self.jumps.saturating_add(1);
            }
        }
        self.first.get_or_insert(id);
        self.last = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_summary_is_bounded() {
        let mut ttl = TtlSummary::default();
        for value in [64, 64, 63, 62, 61, 60, 59] {
            ttl.note(value);
        }
        assert_eq!(ttl.values().len(), TTL_SLOTS);
        assert_eq!(ttl.others, 2);
        assert_eq!(ttl.usual(), Some(64));
        assert_eq!(ttl.last, Some(59));
    }

    #[test]
    fn a_link_summary_names_the_one_address() {
        let mut link = LinkSummary::default();
        link.note(Some(Mac([2, 0, 0, 0, 0, 1])));
        link.note(None);
        assert_eq!(link.only(), Some(Mac([2, 0, 0, 0, 0, 1])));
        link.note(Some(Mac([2, 0, 0, 0, 0, 2])));
        assert_eq!(link.only(), None);
    }

    #[test]
    fn ip_id_steps_are_classified() {
        let mut ids = IpIdSummary::default();
        for id in [100, 101, 102, 0, 40_000, 7] {
            ids.note(Some(id));
        }
        assert_eq!(ids.small_steps, 2);
        assert_eq!(ids.jumps, 2);
        assert_eq!(ids.zeros, 1);
        assert_eq!(ids.last, Some(7));
    }
}
