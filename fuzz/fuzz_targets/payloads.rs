//! Every payload reader of the SDK and the server, on arbitrary text: none may panic, and what
//! the readers accept, the matching writers write back to text the readers read the same way.
#![no_main]
use authwire_wire::realtime::{self, Event, System};
use authwire_wire::{gotrue, jwt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(r) = realtime::parse_reply(text) {
        let _ = r.reason();
        let _ = r.postgres_changes();
        let again = realtime::reply_payload(&r.status, r.response);
        assert_eq!(realtime::parse_reply(&again).expect("a written reply parses"), r);
    }
    if let Ok(s) = System::parse(text) {
        let _ = s.is_token_expired();
        assert_eq!(System::parse(&s.to_payload()).expect("a written system message parses"), s);
    }
    if let Ok(entries) = realtime::parse_presence_state(text) {
        let again = realtime::presence_entries_json(&entries);
        assert_eq!(realtime::parse_presence_state(&again).expect("written presence parses"), entries);
    }
    let _ = realtime::parse_presence_diff(text);
    if let Ok(ev) = realtime::parse_postgres_changes(text) {
        let _ = ev.data_field("record");
        assert_eq!(realtime::ChangeType::parse(ev.change.as_str()), Some(ev.change));
    }
    if let Ok(join) = realtime::parse_join(text) {
        if let Some(cfg) = &join.config {
            let again = realtime::join_payload(cfg, join.access_token.as_deref());
            let back = realtime::parse_join(&again).expect("a written join parses");
            assert_eq!((back.config.as_ref(), back.access_token.as_ref()), (Some(cfg), join.access_token.as_ref()));
        }
    }
    let _ = gotrue::parse_token_response(text);
    let _ = gotrue::parse_error(text);
    let _ = jwt::decode(text);
    if let Some(bytes) = jwt::b64url_decode(text) {
        let canonical = jwt::b64url_encode(&bytes);
        assert_eq!(jwt::b64url_decode(&canonical).as_ref(), Some(&bytes));
    }
    assert_eq!(Event::parse(text).as_str(), text);
});
