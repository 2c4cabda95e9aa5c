//! Arbitrary frames: whenever `encode` accepts one, `decode` gives it back (modulo the rules of
//! each format: V1 servers drop join_ref, binary frames carry no empty refs, kind-2/4 frames no
//! refs at all).
#![no_main]
use arbitrary::Arbitrary;
use authwire_wire::frame::{decode, encode, Frame, Payload, Side, UserBroadcast, UserData, Vsn};
use authwire_wire::json::Value;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Body {
    Json(Vec<(String, i64)>),
    Binary(Vec<u8>),
    User { event: String, json: bool, bytes: Vec<u8>, text: String },
}

#[derive(Arbitrary, Debug)]
struct Input {
    join_ref: Option<String>,
    msg_ref: Option<String>,
    topic: String,
    event: String,
    body: Body,
    v2: bool,
    server: bool,
}

fuzz_target!(|i: Input| {
    let vsn = if i.v2 { Vsn::V2 } else { Vsn::V1 };
    let side = if i.server { Side::Server } else { Side::Client };
    let payload = match i.body {
        Body::Json(members) => Payload::Json(
            Value::Obj(members.into_iter().map(|(k, n)| (k, Value::Num(n.to_string()))).collect()).to_json(),
        ),
        Body::Binary(b) => Payload::Binary(b),
        Body::User { event, json, bytes, text } => Payload::UserBroadcast(UserBroadcast {
            event,
            metadata: String::new(),
            data: if json { UserData::Json(Value::Str(text).to_json()) } else { UserData::Binary(bytes) },
        }),
    };
    let mut f = Frame { join_ref: i.join_ref, msg_ref: i.msg_ref, topic: i.topic, event: i.event, payload };
    let Ok(msg) = encode(&f, vsn, side) else { return };
    let back = decode(&msg, vsn, side).expect("an encoded frame decodes");
    // What each format does not carry.
    let nonempty = |r: Option<String>| r.filter(|s| !s.is_empty());
    match (&f.payload, vsn, side) {
        (Payload::Json(_), Vsn::V1, Side::Server) => f.join_ref = None,
        (Payload::Json(_), _, _) => {}
        (Payload::UserBroadcast(_), _, Side::Server) => {
            f.join_ref = None;
            f.msg_ref = None;
            f.event = "broadcast".into();
        }
        (Payload::UserBroadcast(_), _, Side::Client) => {
            f.join_ref = nonempty(f.join_ref);
            f.msg_ref = nonempty(f.msg_ref);
            f.event = "broadcast".into();
        }
        (Payload::Binary(_), _, Side::Client) => {
            f.join_ref = nonempty(f.join_ref);
            f.msg_ref = nonempty(f.msg_ref);
        }
        (Payload::Binary(_), _, Side::Server) => {
            f.join_ref = nonempty(f.join_ref);
            f.msg_ref = None;
        }
        _ => {}
    }
    assert_eq!(back, f);
});
