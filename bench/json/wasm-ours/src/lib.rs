//! The SDK's job on an inbound frame, with authwire-wire's JSON: decode a V2 frame, read the
//! reply status or the change's ids/type/record, and write a JSON object back.
use authwire_wire::frame::{decode_text, Payload, Vsn};
use authwire_wire::json::ObjectWriter;
use authwire_wire::realtime::{parse_postgres_changes, parse_reply};

#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len);
    let p = v.as_mut_ptr();
    core::mem::forget(v);
    p
}

#[no_mangle]
pub unsafe extern "C" fn run(ptr: *const u8, len: usize) -> usize {
    let bytes = core::slice::from_raw_parts(ptr, len);
    let Ok(text) = core::str::from_utf8(bytes) else { return 0 };
    let Ok(f) = decode_text(text, Vsn::V2) else { return 0 };
    let Payload::Json(p) = f.payload else { return 0 };
    if f.event == "phx_reply" {
        return parse_reply(&p).map_or(0, |r| r.status.len());
    }
    let Ok(ev) = parse_postgres_changes(&p) else { return 0 };
    let mut w = ObjectWriter::new();
    w.str("eventType", ev.change.as_str()).raw("new", ev.data_field("record").unwrap_or("{}"));
    w.finish().len() + ev.ids.len()
}
