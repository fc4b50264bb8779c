mod common;

use common::*;

#[test]
fn a_clean_connection_is_sf_with_zeek_history() {
    let dir = temp_dir();
    let mut c = Conversation::new("192.0.2.10:51514", "198.51.100.7:443");
    c.handshake().exchange_and_close();
    let flows = flows_of(dir.path(), "sf.pcap", &c.ethernet_frames(), DLT_EN10MB);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["conn_state"], "SF");
    assert_eq!(flows[0]["history"], "ShADadFf");
    assert_eq!(flows[0]["close"], "fin");
    assert_eq!(flows[0]["client"]["port"], 51514);
    assert_eq!(flows[0]["payload_bytes"]["client"], 100);
    assert_eq!(flows[0]["payload_bytes"]["server"], 200);
}
