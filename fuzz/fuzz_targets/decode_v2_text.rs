//! V2 array text frames: decoding never panics; whatever decodes re-encodes (V1 or V2, either
//! side) to a frame that decodes to the same value.
#![no_main]
use authwire_fuzz::check_text_frame;
use authwire_wire::frame::Vsn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_text_frame(data, Vsn::V2));
