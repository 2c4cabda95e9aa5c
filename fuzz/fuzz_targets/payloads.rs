//! Every payload reader of the SDK and the server, on arbitrary text: none may panic.
#![no_main]
use authwire_wire::{gotrue, jwt, realtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(r) = realtime::parse_reply(text) {
        let _ = r.reason();
        let _ = r.postgres_changes();
    }
    let _ = realtime::System::parse(text);
    let _ = realtime::parse_presence_state(text);
    let _ = realtime::parse_presence_diff(text);
    if let Ok(ev) = realtime::parse_postgres_changes(text) {
        let _ = ev.data_field("record");
    }
    let _ = realtime::parse_join(text);
    let _ = gotrue::parse_token_response(text);
    let _ = gotrue::parse_error(text);
    let _ = jwt::decode(text);
    let _ = jwt::b64url_decode(text);
    let _ = realtime::Event::parse(text);
});
