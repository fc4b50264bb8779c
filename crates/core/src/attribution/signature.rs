//! Bytes a device or stack writes into a RST to say who it is or why it reset: the text
//! RFC 1122 §4.2.2.12 lets a RST carry (F5 BIG-IP writes its reset cause there), the TCP RST
//! diagnostic payload of draft-ietf-tcpm-rst-diagnostic-payload, MPTCP's MP_TCPRST option
//! (RFC 8684 §3.6), and the reset codes Citrix ADC (NetScaler) writes into the window field.
//! Only formats verified in the vendor's or the IETF's own text are read; the sources are in
//! docs/device-signatures.md.

use super::context::Context;
use super::model::Clue;
use super::{Finding, Signal};

/// The signature clue: at most one, the most specific.
pub(super) fn clue(ctx: &Context<'_>) -> Option<Finding> {
    let reset = ctx.reset;
    if let Some((flags, reason)) = reset.options.mptcp_reset {
        return Some(Finding::new(
            Signal::MptcpReset,
            Clue::MptcpReset,
            format!(
                "the RST carries MPTCP's MP_TCPRST option (reason {reason}: {}{}): an MPTCP endpoint reset one subflow (RFC 8684 §3.6)",
                mptcp_reason(reason),
                if flags & 0x1 != 0 { ", transient" } else { "" }
            ),
        ));
    }
    if let Some(payload) = reset.payload.as_deref() {
        if let Some(finding) = diagnostic_payload(payload, reset.segment.len) {
            return Some(finding);
        }
        if let Some(cause) = big_ip_cause(payload) {
            return Some(Finding::new(
                Signal::DeviceSignature,
                Clue::DeviceText,
                format!(
                    "the RST carries an F5 BIG-IP reset cause: \"{cause}\": a BIG-IP made this RST"
                ),
            ));
        }
        if let Some(text) = printable(payload) {
            return Some(Finding::neutral(
                Signal::ResetText,
                format!(
                    "the RST carries text (RFC 1122 §4.2.2.12 allows it; anyone can write it): \"{text}\""
                ),
            ));
        }
    }
    netscaler_code(reset.wnd).map(|meaning| {
        Finding::neutral(
            Signal::DeviceSignature,
            format!(
                "window {} is a Citrix ADC (NetScaler) reset code ({meaning}): if a NetScaler is on the path, it made this RST (other stacks can send this window by chance)",
                reset.wnd
            ),
        )
    })
}

/// The reason codes of MP_TCPRST (RFC 8684 §3.6).
fn mptcp_reason(code: u8) -> &'static str {
    match code {
        0 => "unspecified error",
        1 => "MPTCP-specific error",
        2 => "lack of resources",
        3 => "administratively prohibited",
        4 => "too much outstanding data",
        5 => "unacceptable performance",
        6 => "middlebox interference",
        _ => "unknown reason",
    }
}

/// An 8-byte RST payload with magic 0x33AA, a non-zero reason code and an enterprise number
/// (draft-ietf-tcpm-rst-diagnostic-payload, "Payload Format").
fn diagnostic_payload(payload: &[u8], len: u32) -> Option<Finding> {
    let bytes: [u8; 8] = payload.try_into().ok()?;
    if len != 8 || bytes[0..2] != [0x33, 0xaa] {
        return None;
    }
    let code = u16::from_be_bytes([bytes[2], bytes[3]]);
    let pen = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    if code == 0 {
        return None;
    }
    let meaning = match pen {
        0 => failure_cause(code).to_string(),
        _ => format!("code {code} of enterprise {pen}'s own list"),
    };
    Some(Finding::neutral(
        Signal::DeviceSignature,
        format!(
            "the RST carries a TCP RST diagnostic payload: \"{meaning}\" (an endpoint or a device on the path may write it)"
        ),
    ))
}

/// The draft's initial "TCP Failure Causes".
fn failure_cause(code: u16) -> &'static str {
    match code {
        1 => "Illegal option length",
        2 => "Desynchronized state",
        3 => "New data is received after CLOSE is called",
        4 => "ABORT process",
        5 => "Unexpected ACK received by non-synchronized state connection",
        6 => "Unexpected SYN in the window",
        7 => "Unexpected security compartment",
        8 => "Malformed message",
        9 => "Not authorized",
        10 => "Resource exceeded",
        11 => "Network failure",
        12 => "Reset received from the peer",
        13 => "Destination unreachable",
        14 => "Connection timeout",
        15 => "Too much outstanding data",
        16 => "Unacceptable performance",
        17 => "Middlebox interference",
        _ => "an unlisted cause",
    }
}

/// The cause in an F5 BIG-IP reset-cause text: `BIG-IP: [0xVALUE:LINE] {peer} CAUSE`.
fn big_ip_cause(payload: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(payload).ok()?;
    let rest = text.strip_prefix("BIG-IP: [0x")?;
    let (inside, after) = rest.split_once(']')?;
    let (value, line) = inside.split_once(':')?;
    let hex = !value.is_empty() && value.chars().all(|c| c.is_ascii_hexdigit());
    let digits = !line.is_empty() && line.chars().all(|c| c.is_ascii_digit());
    if !hex || !digits {
        return None;
    }
    let cause = after.trim().trim_end_matches('\0');
    printable(cause.as_bytes())
}

/// The payload as text, when it is printable ASCII (trailing NULs dropped).
fn printable(payload: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(payload).ok()?.trim_end_matches('\0');
    let ok = text.len() >= 3 && text.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    ok.then(|| text.to_string())
}

/// The NetScaler reset codes verified in Citrix's own articles (docs/device-signatures.md §4).
fn netscaler_code(wnd: u16) -> Option<&'static str> {
    match wnd {
        8201 => Some("8201: no connection matched the packet, CTX583058, CTX695832"),
        9300 => Some("9300: NSBE_DBG_RST_ZSSSR, a service disabled gracefully, CTX492010"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_ip_cause_is_read() {
        let text = b"BIG-IP: [0x11c5672:3045] {peer} TCP RST from remote system";
        assert_eq!(
            big_ip_cause(text).as_deref(),
            Some("{peer} TCP RST from remote system")
        );
        assert_eq!(big_ip_cause(b"BIG-IP: nonsense"), None);
    }

    #[test]
    fn a_diagnostic_payload_needs_its_magic_and_length() {
        let payload = [0x33, 0xaa, 0, 1, 0, 0, 0, 0];
        assert!(diagnostic_payload(&payload, 8).is_some());
        assert!(diagnostic_payload(&payload, 9).is_none());
        assert!(diagnostic_payload(&[0x33, 0xaa, 0, 0, 0, 0, 0, 0], 8).is_none());
    }
}
