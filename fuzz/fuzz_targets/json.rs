//! The JSON reader: never panics; `parse` and `validate` agree; a parsed value writes text
//! that parses back to it; one-level readers agree with the tree.
#![no_main]
use authwire_wire::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let parsed = json::parse(text);
    assert_eq!(parsed.is_ok(), json::validate(text).is_ok(), "parse and validate disagree on {text:?}");
    if let Ok(v) = parsed {
        let again = v.to_json();
        assert_eq!(json::parse(&again).expect("written JSON parses"), v);
        if let Some(members) = v.as_object() {
            let fields = json::fields(text).expect("an object has fields");
            assert_eq!(fields.len(), members.len());
        }
        if let Some(items) = v.as_array() {
            assert_eq!(json::elements(text).expect("an array has elements").len(), items.len());
        }
    }
    let _ = json::int_of(text);
    let _ = json::str_of(text);
});
