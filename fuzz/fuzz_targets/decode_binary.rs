//! Binary frames (kinds 0–4) from either side: decoding never panics, and every decoded frame
//! re-encodes (its header fields came with one-byte lengths) to bytes that decode to it again.
#![no_main]
use authwire_wire::frame::{decode_binary, encode, Side, Vsn, WireMsg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for side in [Side::Client, Side::Server] {
        let Ok(frame) = decode_binary(data, side) else { continue };
        let Ok(WireMsg::Binary(bytes)) = encode(&frame, Vsn::V2, side) else {
            panic!("decoded binary frame does not re-encode as binary: {frame:?}");
        };
        assert_eq!(decode_binary(&bytes, side).expect("re-encoded frame decodes"), frame);
    }
});
