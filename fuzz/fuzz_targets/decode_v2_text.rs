//! Text frames of both serializers, from either side: decoding never panics, and whatever
//! decodes re-encodes to something that decodes to the same frame.
#![no_main]
use authwire_wire::frame::{decode_text, encode, Side, Vsn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    for vsn in [Vsn::V1, Vsn::V2] {
        if let Ok(frame) = decode_text(text, vsn) {
            let again = encode(&frame, vsn, Side::Client).expect("a decoded JSON frame re-encodes");
            let authwire_wire::frame::WireMsg::Text(t) = again else { panic!("JSON frames stay text") };
            assert_eq!(decode_text(&t, vsn).expect("re-encoded frame decodes"), frame);
        }
    }
});
