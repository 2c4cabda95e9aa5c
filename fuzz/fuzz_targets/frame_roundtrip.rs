//! Arbitrary frames, every payload kind, either serializer, either side: `encode` refuses only
//! what the formats cannot carry, and whatever it writes `decode` gives back unchanged, up to
//! what each format does not carry (V1 servers send no join_ref; binary frames carry empty
//! refs as absent; server kinds 2/4 carry no refs and kind 0 no ref; kinds 1/3/4 fix the event).
#![no_main]
use arbitrary::Arbitrary;
use authwire_fuzz::Json;
use authwire_wire::frame::{decode, encode, EncodeError, Frame, Payload, Side, UserBroadcast, UserData, Vsn};
use authwire_wire::json;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Body {
    Json(Json),
    Binary(Vec<u8>),
    Reply { status: String, data: Vec<u8> },
    User { event: String, metadata: Option<Json>, data: Option<Json>, bytes: Vec<u8> },
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

fn nonempty(r: Option<String>) -> Option<String> {
    r.filter(|s| !s.is_empty())
}

fuzz_target!(|i: Input| {
    // Values nested past json::MAX_DEPTH levels are refused by design (a frame payload is at
    // level 1, the scalars inside k containers at level k + 1).
    let too_deep = |j: &Option<Json>| j.as_ref().is_some_and(|j| j.depth() >= json::MAX_DEPTH);
    match &i.body {
        Body::Json(j) if j.depth() >= json::MAX_DEPTH => return,
        Body::User { metadata, data, .. } if too_deep(metadata) || too_deep(data) => return,
        _ => {}
    }
    let vsn = if i.v2 { Vsn::V2 } else { Vsn::V1 };
    let side = if i.server { Side::Server } else { Side::Client };
    let payload = match i.body {
        Body::Json(j) => Payload::Json(j.text()),
        Body::Binary(b) => Payload::Binary(b),
        Body::Reply { status, data } => Payload::BinaryReply { status, data },
        Body::User { event, metadata, data, bytes } => Payload::UserBroadcast(UserBroadcast {
            event,
            metadata: metadata.map(|m| m.text()).unwrap_or_default(),
            data: match data {
                Some(j) => UserData::Json(j.text()),
                None => UserData::Binary(bytes),
            },
        }),
    };
    let f = Frame { join_ref: i.join_ref, msg_ref: i.msg_ref, topic: i.topic, event: i.event, payload };
    let msg = match encode(&f, vsn, side) {
        Ok(msg) => msg,
        Err(EncodeError::FieldTooLong { len, .. }) => {
            assert!(len > 255 && vsn == Vsn::V2 && !matches!(f.payload, Payload::Json(_)));
            return;
        }
        Err(EncodeError::BinaryOnV1) => {
            assert!(vsn == Vsn::V1 && !matches!(f.payload, Payload::Json(_)));
            return;
        }
        Err(EncodeError::WrongDirection) => {
            assert!(side == Side::Client && matches!(f.payload, Payload::BinaryReply { .. }));
            return;
        }
        Err(e) => panic!("unexpected {e:?}"),
    };
    let back = decode(&msg, vsn, side).unwrap_or_else(|e| panic!("{msg:?} from {f:?} does not decode: {e:?}"));
    let expected = match (&f.payload, vsn, side) {
        (Payload::Json(_), Vsn::V1, Side::Server) => Frame { join_ref: None, ..f },
        (Payload::Json(_), _, _) => f,
        (Payload::Binary(_), _, Side::Client) => {
            Frame { join_ref: nonempty(f.join_ref), msg_ref: nonempty(f.msg_ref), ..f }
        }
        (Payload::Binary(_), _, Side::Server) => Frame { join_ref: nonempty(f.join_ref), msg_ref: None, ..f },
        (Payload::BinaryReply { .. }, _, _) => {
            Frame { join_ref: nonempty(f.join_ref), msg_ref: nonempty(f.msg_ref), event: "phx_reply".into(), ..f }
        }
        (Payload::UserBroadcast(_), _, Side::Client) => {
            Frame { join_ref: nonempty(f.join_ref), msg_ref: nonempty(f.msg_ref), event: "broadcast".into(), ..f }
        }
        (Payload::UserBroadcast(_), _, Side::Server) => {
            Frame { join_ref: None, msg_ref: None, event: "broadcast".into(), ..f }
        }
    };
    assert_eq!(back, expected);
});
