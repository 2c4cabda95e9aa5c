//! Phoenix frames as Supabase Realtime speaks them: V1 object JSON, V2 array JSON and the V2
//! binary kinds 0–4 (protocol reference §2).
//!
//! A [`Frame`] is the same value whichever serializer carried it. JSON payloads stay as raw
//! text ([`Payload::Json`]): the receiver decides how much of them to read.

use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{self, JsonError};

/// Serializer version, negotiated by the `vsn` URL parameter (protocol reference §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vsn {
    /// `vsn=1.0.0`: JSON objects; the server never sends `join_ref` and never binary frames.
    V1,
    /// `vsn=2.0.0`: JSON arrays plus binary frames (realtime-js default since 2.91).
    V2,
}

impl Vsn {
    /// The `vsn` query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Vsn::V1 => "1.0.0",
            Vsn::V2 => "2.0.0",
        }
    }
    /// Parses a `vsn` query value the way Phoenix negotiates it (`~> 1.0.0` / `~> 2.0.0`).
    pub fn from_query(v: &str) -> Option<Vsn> {
        let mut parts = v.split('.');
        let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
        let patch_ok = !patch.is_empty() && patch.bytes().all(|c| c.is_ascii_digit());
        match (major, minor, patch_ok, parts.next()) {
            ("1", "0", true, None) => Some(Vsn::V1),
            ("2", "0", true, None) => Some(Vsn::V2),
            _ => None,
        }
    }
}

/// Which peer sends a frame. The binary kind-0 layout differs by direction (§2.3), and kinds
/// 3/4 are the client and server halves of a user broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// SDK → server.
    Client,
    /// Server → SDK.
    Server,
}

/// One Phoenix message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The join reference of the channel instance, if any.
    pub join_ref: Option<String>,
    /// The message reference replies are matched by (`ref` on the wire).
    pub msg_ref: Option<String>,
    /// `realtime:<name>` or `phoenix`.
    pub topic: String,
    /// `phx_join`, `broadcast`, … (see [`crate::realtime::Event`]).
    pub event: String,
    /// The body.
    pub payload: Payload,
}

/// A frame's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// JSON text, exactly as received or to be sent.
    Json(String),
    /// Opaque bytes of a binary push (kind 0) or broadcast (kind 2).
    Binary(Vec<u8>),
    /// A binary reply (kind 1); the frame's event is `phx_reply`.
    BinaryReply {
        /// `ok` / `error`.
        status: String,
        /// The response bytes.
        data: Vec<u8>,
    },
    /// A user broadcast (kind 3 from the client, kind 4 from the server); the frame's event
    /// is `broadcast`.
    UserBroadcast(UserBroadcast),
}

/// The body of a binary user broadcast (kinds 3 and 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserBroadcast {
    /// The application event name.
    pub event: String,
    /// Metadata JSON object text, or empty (kind-4 carries `{"id":…}` for database messages
    /// and `{"replayed":true,…}` for replays).
    pub metadata: String,
    /// The application payload.
    pub data: UserData,
}

/// A user broadcast's payload and its encoding byte (§2.3: `0` binary, `1` JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserData {
    /// Encoding 1: UTF-8 JSON text.
    Json(String),
    /// Encoding 0: opaque bytes.
    Binary(Vec<u8>),
}

/// One WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireMsg {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A binary header field is over 255 bytes (§2.3). Never truncated.
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The V1 serializer carries JSON only.
    BinaryOnV1,
    /// This payload kind cannot be sent in this direction (e.g. a reply from the client).
    WrongDirection,
}

impl EncodeError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            EncodeError::FieldTooLong { .. } => "field_too_long",
            EncodeError::BinaryOnV1 => "binary_on_v1",
            EncodeError::WrongDirection => "wrong_direction",
        }
    }
}

/// Why a received message is not a frame. The receiver drops it and keeps the socket, as the
/// Realtime server does (§2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not valid JSON.
    Json(JsonError),
    /// Valid JSON of the wrong shape (missing key, fewer than five elements, wrong types).
    Shape(&'static str),
    /// A binary frame shorter than its header says.
    Truncated,
    /// An unknown binary kind byte (or one that does not flow in this direction).
    UnknownKind(u8),
    /// A header string that is not UTF-8.
    NotUtf8,
    /// A user-broadcast encoding byte other than 0 or 1.
    UnknownEncoding(u8),
}

impl DecodeError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::Json(e) => e.code(),
            DecodeError::Shape(_) => "frame_shape",
            DecodeError::Truncated => "frame_truncated",
            DecodeError::UnknownKind(_) => "frame_unknown_kind",
            DecodeError::NotUtf8 => "frame_not_utf8",
            DecodeError::UnknownEncoding(_) => "frame_unknown_encoding",
        }
    }
}

impl From<JsonError> for DecodeError {
    fn from(e: JsonError) -> Self {
        DecodeError::Json(e)
    }
}

/// Binary kind bytes (§2.3).
mod kind {
    pub(super) const PUSH: u8 = 0;
    pub(super) const REPLY: u8 = 1;
    pub(super) const BROADCAST: u8 = 2;
    pub(super) const USER_BROADCAST_PUSH: u8 = 3;
    pub(super) const USER_BROADCAST: u8 = 4;
}

/// The event name binary user broadcasts and replies map to.
const BROADCAST: &str = "broadcast";
const PHX_REPLY: &str = "phx_reply";

/// Encodes `frame` for the wire. JSON payloads become text frames (V1 object or V2 array);
/// binary payloads need V2 and become the binary kind that matches `from`.
pub fn encode(frame: &Frame, vsn: Vsn, from: Side) -> Result<WireMsg, EncodeError> {
    match (&frame.payload, vsn) {
        (Payload::Json(p), Vsn::V1) => Ok(WireMsg::Text(encode_v1(frame, p, from))),
        (Payload::Json(p), Vsn::V2) => Ok(WireMsg::Text(encode_v2_text(frame, p))),
        (_, Vsn::V1) => Err(EncodeError::BinaryOnV1),
        (_, Vsn::V2) => encode_binary(frame, from).map(WireMsg::Binary),
    }
}

fn push_opt(out: &mut String, v: Option<&str>) {
    match v {
        Some(s) => json::write_str(out, s),
        None => out.push_str("null"),
    }
}

fn encode_v2_text(f: &Frame, payload: &str) -> String {
    let mut out = String::with_capacity(payload.len() + f.topic.len() + f.event.len() + 32);
    out.push('[');
    push_opt(&mut out, f.join_ref.as_deref());
    out.push(',');
    push_opt(&mut out, f.msg_ref.as_deref());
    out.push(',');
    json::write_str(&mut out, &f.topic);
    out.push(',');
    json::write_str(&mut out, &f.event);
    out.push(',');
    out.push_str(payload);
    out.push(']');
    out
}

fn encode_v1(f: &Frame, payload: &str, from: Side) -> String {
    let mut w = json::ObjectWriter::new();
    w.str("topic", &f.topic).str("event", &f.event).raw("payload", payload).opt_str("ref", f.msg_ref.as_deref());
    // The V1 server serializer sends the four fields only (§2.1).
    if from == Side::Client {
        w.opt_str("join_ref", f.join_ref.as_deref());
    }
    w.finish()
}

fn len8(field: &'static str, s: &[u8]) -> Result<u8, EncodeError> {
    u8::try_from(s.len()).map_err(|_| EncodeError::FieldTooLong { field, len: s.len() })
}

fn encode_binary(f: &Frame, from: Side) -> Result<Vec<u8>, EncodeError> {
    let jr = f.join_ref.as_deref().unwrap_or("").as_bytes();
    let mr = f.msg_ref.as_deref().unwrap_or("").as_bytes();
    let topic = f.topic.as_bytes();
    let event = f.event.as_bytes();
    let mut out = Vec::new();
    match (&f.payload, from) {
        (Payload::Binary(data), Side::Client) => {
            out.extend_from_slice(&[
                kind::PUSH,
                len8("join_ref", jr)?,
                len8("ref", mr)?,
                len8("topic", topic)?,
                len8("event", event)?,
            ]);
            for s in [jr, mr, topic, event, data] {
                out.extend_from_slice(s);
            }
        }
        (Payload::Binary(data), Side::Server) if f.join_ref.is_some() => {
            out.extend_from_slice(&[kind::PUSH, len8("join_ref", jr)?, len8("topic", topic)?, len8("event", event)?]);
            for s in [jr, topic, event, data] {
                out.extend_from_slice(s);
            }
        }
        (Payload::Binary(data), Side::Server) => {
            out.extend_from_slice(&[kind::BROADCAST, len8("topic", topic)?, len8("event", event)?]);
            for s in [topic, event, data] {
                out.extend_from_slice(s);
            }
        }
        (Payload::BinaryReply { status, data }, Side::Server) => {
            let st = status.as_bytes();
            out.extend_from_slice(&[
                kind::REPLY,
                len8("join_ref", jr)?,
                len8("ref", mr)?,
                len8("topic", topic)?,
                len8("status", st)?,
            ]);
            for s in [jr, mr, topic, st, data] {
                out.extend_from_slice(s);
            }
        }
        (Payload::UserBroadcast(ub), side) => {
            let ev = ub.event.as_bytes();
            let meta = ub.metadata.as_bytes();
            let (enc, data): (u8, &[u8]) = match &ub.data {
                UserData::Binary(b) => (0, b),
                UserData::Json(s) => (1, s.as_bytes()),
            };
            if side == Side::Client {
                out.extend_from_slice(&[
                    kind::USER_BROADCAST_PUSH,
                    len8("join_ref", jr)?,
                    len8("ref", mr)?,
                    len8("topic", topic)?,
                    len8("event", ev)?,
                    len8("metadata", meta)?,
                    enc,
                ]);
                for s in [jr, mr, topic, ev, meta, data] {
                    out.extend_from_slice(s);
                }
            } else {
                out.extend_from_slice(&[
                    kind::USER_BROADCAST,
                    len8("topic", topic)?,
                    len8("event", ev)?,
                    len8("metadata", meta)?,
                    enc,
                ]);
                for s in [topic, ev, meta, data] {
                    out.extend_from_slice(s);
                }
            }
        }
        (Payload::BinaryReply { .. }, Side::Client) | (Payload::Json(_), _) => return Err(EncodeError::WrongDirection),
    }
    Ok(out)
}

/// Decodes a text frame of either serializer.
pub fn decode_text(text: &str, vsn: Vsn) -> Result<Frame, DecodeError> {
    match vsn {
        Vsn::V1 => decode_v1(text),
        Vsn::V2 => decode_v2_text(text),
    }
}

fn opt_ref(raw: &str) -> Result<Option<String>, DecodeError> {
    if raw == "null" {
        return Ok(None);
    }
    if let Some(s) = json::str_of(raw) {
        return Ok(Some(s));
    }
    // Refs are strings from every known client; tolerate integers from hand-written peers.
    if json::int_of(raw).is_some() {
        return Ok(Some(String::from(raw)));
    }
    Err(DecodeError::Shape("ref must be a string or null"))
}

fn req_str(raw: &str, what: &'static str) -> Result<String, DecodeError> {
    json::str_of(raw).ok_or(DecodeError::Shape(what))
}

fn decode_v2_text(text: &str) -> Result<Frame, DecodeError> {
    let el = json::elements(text).map_err(|e| match e.kind {
        json::JsonErrorKind::WrongType => DecodeError::Shape("V2 frame must be an array"),
        _ => DecodeError::Json(e),
    })?;
    // Extra trailing elements are ignored, fewer than five are refused (§2.2).
    if el.len() < 5 {
        return Err(DecodeError::Shape("V2 frame needs five elements"));
    }
    Ok(Frame {
        join_ref: opt_ref(el[0])?,
        msg_ref: opt_ref(el[1])?,
        topic: req_str(el[2], "topic must be a string")?,
        event: req_str(el[3], "event must be a string")?,
        payload: Payload::Json(String::from(el[4])),
    })
}

fn decode_v1(text: &str) -> Result<Frame, DecodeError> {
    let fs = json::fields(text).map_err(|e| match e.kind {
        json::JsonErrorKind::WrongType => DecodeError::Shape("V1 frame must be an object"),
        _ => DecodeError::Json(e),
    })?;
    let get = |k: &str| fs.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let topic = get("topic").ok_or(DecodeError::Shape("missing topic"))?;
    let event = get("event").ok_or(DecodeError::Shape("missing event"))?;
    let payload = get("payload").ok_or(DecodeError::Shape("missing payload"))?;
    // `ref` is required by Phoenix's V1 decoder; the server's own frames always carry it.
    let msg_ref = get("ref").ok_or(DecodeError::Shape("missing ref"))?;
    Ok(Frame {
        join_ref: get("join_ref").map(opt_ref).transpose()?.flatten(),
        msg_ref: opt_ref(msg_ref)?,
        topic: req_str(topic, "topic must be a string")?,
        event: req_str(event, "event must be a string")?,
        payload: Payload::Json(String::from(payload)),
    })
}

struct Bytes<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let v = *self.b.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(v)
    }
    fn take(&mut self, n: u8) -> Result<&'a [u8], DecodeError> {
        let end = self.pos + usize::from(n);
        let s = self.b.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn text(&mut self, n: u8) -> Result<String, DecodeError> {
        let s = self.take(n)?;
        core::str::from_utf8(s).map(String::from).map_err(|_| DecodeError::NotUtf8)
    }
    fn rest(&self) -> &'a [u8] {
        &self.b[self.pos..]
    }
}

fn nonempty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// Decodes a binary frame sent by `from`.
pub fn decode_binary(bytes: &[u8], from: Side) -> Result<Frame, DecodeError> {
    let mut r = Bytes { b: bytes, pos: 0 };
    let k = r.u8()?;
    match (k, from) {
        (kind::PUSH, Side::Client) => {
            let (jl, rl, tl, el) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
            Ok(Frame {
                join_ref: nonempty(r.text(jl)?),
                msg_ref: nonempty(r.text(rl)?),
                topic: r.text(tl)?,
                event: r.text(el)?,
                payload: Payload::Binary(r.rest().to_vec()),
            })
        }
        (kind::PUSH, Side::Server) => {
            let (jl, tl, el) = (r.u8()?, r.u8()?, r.u8()?);
            Ok(Frame {
                join_ref: nonempty(r.text(jl)?),
                msg_ref: None,
                topic: r.text(tl)?,
                event: r.text(el)?,
                payload: Payload::Binary(r.rest().to_vec()),
            })
        }
        (kind::REPLY, Side::Server) => {
            let (jl, rl, tl, sl) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
            let join_ref = nonempty(r.text(jl)?);
            let msg_ref = nonempty(r.text(rl)?);
            let topic = r.text(tl)?;
            let status = r.text(sl)?;
            Ok(Frame {
                join_ref,
                msg_ref,
                topic,
                event: String::from(PHX_REPLY),
                payload: Payload::BinaryReply { status, data: r.rest().to_vec() },
            })
        }
        (kind::BROADCAST, Side::Server) => {
            let (tl, el) = (r.u8()?, r.u8()?);
            Ok(Frame {
                join_ref: None,
                msg_ref: None,
                topic: r.text(tl)?,
                event: r.text(el)?,
                payload: Payload::Binary(r.rest().to_vec()),
            })
        }
        (kind::USER_BROADCAST_PUSH, Side::Client) => {
            let (jl, rl, tl, el, ml, enc) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?, r.u8()?, r.u8()?);
            let join_ref = nonempty(r.text(jl)?);
            let msg_ref = nonempty(r.text(rl)?);
            let topic = r.text(tl)?;
            let ub = user_broadcast(&mut r, el, ml, enc)?;
            Ok(Frame { join_ref, msg_ref, topic, event: String::from(BROADCAST), payload: Payload::UserBroadcast(ub) })
        }
        (kind::USER_BROADCAST, Side::Server) => {
            let (tl, el, ml, enc) = (r.u8()?, r.u8()?, r.u8()?, r.u8()?);
            let topic = r.text(tl)?;
            let ub = user_broadcast(&mut r, el, ml, enc)?;
            Ok(Frame {
                join_ref: None,
                msg_ref: None,
                topic,
                event: String::from(BROADCAST),
                payload: Payload::UserBroadcast(ub),
            })
        }
        (k, _) => Err(DecodeError::UnknownKind(k)),
    }
}

fn user_broadcast(r: &mut Bytes<'_>, el: u8, ml: u8, enc: u8) -> Result<UserBroadcast, DecodeError> {
    let event = r.text(el)?;
    let metadata = r.text(ml)?;
    if !metadata.is_empty() {
        json::validate(&metadata)?;
    }
    let data = match enc {
        0 => UserData::Binary(r.rest().to_vec()),
        1 => {
            let s = core::str::from_utf8(r.rest()).map_err(|_| DecodeError::NotUtf8)?;
            json::validate(s)?;
            UserData::Json(String::from(s))
        }
        e => return Err(DecodeError::UnknownEncoding(e)),
    };
    Ok(UserBroadcast { event, metadata, data })
}

/// Decodes one WebSocket message sent by `from`.
pub fn decode(msg: &WireMsg, vsn: Vsn, from: Side) -> Result<Frame, DecodeError> {
    match msg {
        WireMsg::Text(t) => decode_text(t, vsn),
        WireMsg::Binary(b) => decode_binary(b, from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn v2_text_round_trip() {
        let f = Frame {
            join_ref: s("3"),
            msg_ref: s("3"),
            topic: "realtime:room1".into(),
            event: "phx_join".into(),
            payload: Payload::Json(r#"{"config":{}}"#.into()),
        };
        let WireMsg::Text(t) = encode(&f, Vsn::V2, Side::Client).unwrap() else { panic!() };
        assert_eq!(t, r#"["3","3","realtime:room1","phx_join",{"config":{}}]"#);
        assert_eq!(decode_text(&t, Vsn::V2).unwrap(), f);
    }

    #[test]
    fn v2_text_tolerates_extra_elements_and_refuses_short_arrays() {
        let f = decode_text(r#"[null,null,"t","e",{},"extra"]"#, Vsn::V2).unwrap();
        assert_eq!(f.join_ref, None);
        assert!(matches!(decode_text(r#"[null,null,"t","e"]"#, Vsn::V2), Err(DecodeError::Shape(_))));
        assert!(matches!(decode_text(r#"{"topic":"t"}"#, Vsn::V2), Err(DecodeError::Shape(_))));
        assert!(matches!(decode_text("[", Vsn::V2), Err(DecodeError::Json(_))));
    }

    #[test]
    fn v1_server_frames_have_no_join_ref() {
        let f = Frame {
            join_ref: s("1"),
            msg_ref: s("1"),
            topic: "realtime:room1".into(),
            event: "phx_reply".into(),
            payload: Payload::Json(r#"{"status":"ok","response":{}}"#.into()),
        };
        let WireMsg::Text(t) = encode(&f, Vsn::V1, Side::Server).unwrap() else { panic!() };
        assert_eq!(
            t,
            r#"{"topic":"realtime:room1","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"1"}"#
        );
        let back = decode_text(&t, Vsn::V1).unwrap();
        assert_eq!(back.join_ref, None);
        assert_eq!(back.msg_ref, s("1"));
        let WireMsg::Text(t) = encode(&f, Vsn::V1, Side::Client).unwrap() else { panic!() };
        assert_eq!(decode_text(&t, Vsn::V1).unwrap(), f);
        assert!(matches!(
            decode_text(r#"{"topic":"t","event":"e","payload":{}}"#, Vsn::V1),
            Err(DecodeError::Shape(_))
        ));
    }

    #[test]
    fn kind3_matches_the_reference_bytes() {
        // Protocol reference §2.3 byte example.
        let f = Frame {
            join_ref: s("3"),
            msg_ref: s("7"),
            topic: "realtime:room1".into(),
            event: "broadcast".into(),
            payload: Payload::UserBroadcast(UserBroadcast {
                event: "cursor".into(),
                metadata: String::new(),
                data: UserData::Json(r#"{"x":1}"#.into()),
            }),
        };
        let WireMsg::Binary(b) = encode(&f, Vsn::V2, Side::Client).unwrap() else { panic!() };
        let mut want = vec![3u8, 1, 1, 14, 6, 0, 1];
        want.extend_from_slice(b"37realtime:room1cursor{\"x\":1}");
        assert_eq!(b, want);
        assert_eq!(decode_binary(&b, Side::Client).unwrap(), f);
    }

    #[test]
    fn kind4_decodes_to_a_broadcast() {
        let mut b = vec![4u8, 14, 6, 0, 1];
        b.extend_from_slice(b"realtime:room1cursor{\"x\":1}");
        let f = decode_binary(&b, Side::Server).unwrap();
        assert_eq!(f.event, "broadcast");
        assert_eq!(f.topic, "realtime:room1");
        let Payload::UserBroadcast(ub) = f.payload else { panic!() };
        assert_eq!(ub.event, "cursor");
        assert_eq!(ub.data, UserData::Json(r#"{"x":1}"#.into()));
        let again = encode(
            &Frame {
                join_ref: None,
                msg_ref: None,
                topic: "realtime:room1".into(),
                event: "broadcast".into(),
                payload: Payload::UserBroadcast(ub),
            },
            Vsn::V2,
            Side::Server,
        )
        .unwrap();
        assert_eq!(again, WireMsg::Binary(b));
    }

    #[test]
    fn binary_decoders_refuse_bad_input() {
        assert_eq!(decode_binary(&[], Side::Server), Err(DecodeError::Truncated));
        assert_eq!(decode_binary(&[4, 200, 0, 0, 1], Side::Server), Err(DecodeError::Truncated));
        assert_eq!(decode_binary(&[9], Side::Server), Err(DecodeError::UnknownKind(9)));
        assert_eq!(decode_binary(&[3, 0, 0, 0, 0, 0, 0], Side::Server), Err(DecodeError::UnknownKind(3)));
        assert_eq!(decode_binary(&[4, 0, 0, 0, 7], Side::Server), Err(DecodeError::UnknownEncoding(7)));
        assert_eq!(decode_binary(&[4, 1, 0, 0, 0, 0xff], Side::Server), Err(DecodeError::NotUtf8));
        assert!(matches!(decode_binary(&[4, 0, 0, 0, 1, b'{'], Side::Server), Err(DecodeError::Json(_))));
    }

    #[test]
    fn long_fields_are_an_encode_error_not_a_truncation() {
        let f = Frame {
            join_ref: None,
            msg_ref: None,
            topic: "realtime:".to_string() + &"x".repeat(247),
            event: "broadcast".into(),
            payload: Payload::Binary(vec![1]),
        };
        assert_eq!(encode(&f, Vsn::V2, Side::Client), Err(EncodeError::FieldTooLong { field: "topic", len: 256 }));
        assert_eq!(encode(&f, Vsn::V1, Side::Client), Err(EncodeError::BinaryOnV1));
    }

    #[test]
    fn vsn_negotiation() {
        assert_eq!(Vsn::from_query("1.0.0"), Some(Vsn::V1));
        assert_eq!(Vsn::from_query("2.0.0"), Some(Vsn::V2));
        assert_eq!(Vsn::from_query("2.0.7"), Some(Vsn::V2));
        assert_eq!(Vsn::from_query("3.0.0"), None);
        assert_eq!(Vsn::from_query("2.1.0"), None);
        assert_eq!(Vsn::from_query("potato"), None);
        assert_eq!(Vsn::from_query("2.0"), None);
    }
}
