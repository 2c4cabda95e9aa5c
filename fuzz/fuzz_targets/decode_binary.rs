//! Binary frames (kinds 0–4) from either side: decoding never panics, and a decoded frame
//! re-encodes to the same bytes' meaning.
#![no_main]
use authwire_wire::frame::{decode_binary, encode, Side, Vsn, WireMsg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for side in [Side::Client, Side::Server] {
        if let Ok(frame) = decode_binary(data, side) {
            if let Ok(WireMsg::Binary(bytes)) = encode(&frame, Vsn::V2, side) {
                assert_eq!(decode_binary(&bytes, side).expect("re-encoded frame decodes"), frame);
            }
        }
    }
});
