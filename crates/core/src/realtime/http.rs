//! HTTP broadcasts, as realtime-js 2.119 makes them: `send()`'s fallback to the batch
//! endpoint (`POST <base>/api/broadcast`, resolving `ok` on any 2xx, else `error`) and
//! `httpSend()`'s single-message endpoint (`POST <base>/api/broadcast/<topic>/events/<event>`,
//! `?private=true` for private channels, resolving on 202 and rejecting otherwise with the
//! body's `error` or `message`). Both carry the `apikey` header and the token of the moment
//! they go out (G1); while auth is unresolved they wait (G2), and a token due for refresh is
//! refreshed first (the client's G4 check runs before the call). The timeout starts at the
//! call, as realtime-js's abort timer does: when it runs out the request is cancelled and the
//! call resolves `timed out` (batch) or rejects (single).

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::UserData;
use authwire_wire::json::{self, ObjectWriter};
use authwire_wire::url::encode_component;

use super::timers::Timer;
use super::{HttpTarget, Realtime};
use crate::error::{ChannelOpError, PushError};
use crate::io::{AppEvent, HttpRequest, Outbox, Output, PushOutcome, RequestId, Ticket};
use crate::time::{Millis, Now};
use crate::token::TokenView;

/// Which endpoint, which decides how the answer resolves the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// `send()`'s fallback: `'ok' | 'error' | 'timed out'`.
    Batch,
    /// `httpSend()`: `{ success: true }` on 202, else a rejection.
    Single,
}

/// The channel an HTTP broadcast is for. A channel that has ended (or was forgotten) still
/// sends this way, as realtime-js's closed channels do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpChannel<'a> {
    /// The name without `realtime:`.
    pub sub_topic: &'a str,
    /// `private`.
    pub private: bool,
}

/// One HTTP broadcast call, waiting for auth (`request` is `None`) or in flight.
#[derive(Debug, Clone)]
struct Call {
    seq: u64,
    ticket: Ticket,
    endpoint: Endpoint,
    url: String,
    apikey: String,
    body: String,
    request: Option<RequestId>,
}

/// The HTTP broadcast calls of a [`Realtime`].
#[derive(Debug, Default)]
pub(super) struct HttpSends {
    calls: Vec<Call>,
    next_seq: u64,
}

impl HttpSends {
    /// Settles every call (the client is being destroyed).
    pub(super) fn fail_all(&mut self, out: &mut Outbox) {
        for c in core::mem::take(&mut self.calls) {
            if let Some(id) = c.request {
                out.push(Output::CancelHttp { id });
            }
            finish(&c, Err(ChannelOpError::Destroyed), out);
        }
    }
}

/// Resolves `c`'s call: `Ok(status)` when the server answered, else why not.
fn finish(c: &Call, answer: Result<u16, ChannelOpError>, out: &mut Outbox) {
    match c.endpoint {
        Endpoint::Batch => {
            let outcome = match answer {
                Ok(200..=299) => PushOutcome::Ok,
                Ok(status) => PushOutcome::Error(PushError::Http { status }),
                Err(ChannelOpError::HttpTimeout) => PushOutcome::TimedOut,
                Err(_) => PushOutcome::Error(PushError::Http { status: 0 }),
            };
            out.event(AppEvent::PushDone { ticket: c.ticket, outcome });
        }
        Endpoint::Single => {
            let result = match answer {
                Ok(202) => Ok(()),
                Ok(status) => Err(ChannelOpError::HttpFailed { status, message: single_error(status, "") }),
                Err(e) => Err(e),
            };
            out.event(AppEvent::HttpSendDone { ticket: c.ticket, result });
        }
    }
}

/// realtime-js's rejection text for an `httpSend()` answer other than 202: a dedicated one for
/// 404 (a server too old for the endpoint), else the body's `error` or `message`, else the
/// status text.
fn single_error(status: u16, body: &str) -> String {
    if status == 404 {
        return String::from(
            "httpSend() requires Realtime server v2.97.0 or newer; the endpoint returned 404. Update your \
             Supabase CLI to a recent version, or upgrade the Realtime server in your self-hosted setup. See \
             https://github.com/supabase/supabase-js/blob/master/packages/core/realtime-js/migrations/httpsend-server-version.md",
        );
    }
    let text = |k| json::field(body, k).ok().flatten().and_then(json::str_of).filter(|s| !s.is_empty());
    text("error").or_else(|| text("message")).unwrap_or_else(|| String::from(status_text(status)))
}

/// The reason phrase a browser shows as `statusText` over HTTP/1.1 (over HTTP/2 it is empty).
fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

impl Realtime {
    /// `send()` over HTTP: one message to the batch endpoint. Binary data cannot go this way
    /// and resolves `error`.
    #[allow(clippy::too_many_arguments)]
    pub fn broadcast_over_http(
        &mut self,
        target: HttpChannel<'_>,
        event: &str,
        data: UserData,
        ticket: Ticket,
        timeout_ms: Option<Millis>,
        now: Now,
        view: &TokenView<'_>,
        http: &HttpTarget<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        let UserData::Json(payload) = data else {
            let reason = String::from("binary payloads need the socket: the channel is not joined");
            out.event(AppEvent::PushDone { ticket, outcome: PushOutcome::Error(PushError::Rejected { reason }) });
            return Ok(());
        };
        self.check_payload_size(payload.len())?;
        let mut msg = ObjectWriter::new();
        msg.str("topic", target.sub_topic).str("event", event).raw("payload", &payload).bool("private", target.private);
        let mut body = String::from("{\"messages\":[");
        body.push_str(&msg.finish());
        body.push_str("]}");
        let mut url = String::from(http.base_url);
        url.push_str("/api/broadcast");
        self.http_call(Endpoint::Batch, url, body, ticket, timeout_ms, now, view, http, out);
        Ok(())
    }

    /// `channel.httpSend(event, payload)`: the single-message endpoint, whatever the socket.
    /// The ticket resolves with [`AppEvent::HttpSendDone`].
    #[allow(clippy::too_many_arguments)]
    pub fn http_send(
        &mut self,
        target: HttpChannel<'_>,
        event: &str,
        payload_json: &str,
        ticket: Ticket,
        timeout_ms: Option<Millis>,
        now: Now,
        view: &TokenView<'_>,
        http: &HttpTarget<'_>,
        out: &mut Outbox,
    ) -> Result<(), ChannelOpError> {
        self.check_payload_size(payload_json.len())?;
        let mut url = String::from(http.base_url);
        url.push_str("/api/broadcast/");
        encode_component(&mut url, target.sub_topic);
        url.push_str("/events/");
        encode_component(&mut url, event);
        if target.private {
            url.push_str("?private=true");
        }
        self.http_call(Endpoint::Single, url, String::from(payload_json), ticket, timeout_ms, now, view, http, out);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn http_call(
        &mut self,
        endpoint: Endpoint,
        url: String,
        body: String,
        ticket: Ticket,
        timeout_ms: Option<Millis>,
        now: Now,
        view: &TokenView<'_>,
        http: &HttpTarget<'_>,
        out: &mut Outbox,
    ) {
        self.http.next_seq += 1;
        let seq = self.http.next_seq;
        let apikey = String::from(http.apikey);
        self.http.calls.push(Call { seq, ticket, endpoint, url, apikey, body, request: None });
        self.timers.set(Timer::Http(seq), now.mono.add(timeout_ms.unwrap_or(self.cfg.timeout_ms)));
        self.http_flush(view, out);
    }

    /// Sends the calls waiting for auth, if it is ready (G2), with the token of now (G1).
    pub(super) fn http_flush(&mut self, view: &TokenView<'_>, out: &mut Outbox) {
        if !view.ready {
            return;
        }
        for c in self.http.calls.iter_mut().filter(|c| c.request.is_none()) {
            let mut headers = alloc::vec![
                (String::from("apikey"), c.apikey.clone()),
                (String::from("Content-Type"), String::from("application/json")),
            ];
            if let Some(t) = view.token {
                let mut b = String::from("Bearer ");
                b.push_str(t);
                headers.push((String::from("Authorization"), b));
            }
            let id = out.request_id();
            c.request = Some(id);
            let request = HttpRequest { method: "POST", url: c.url.clone(), headers, body: Some(c.body.clone()) };
            out.push(Output::Http { id, request });
        }
    }

    /// Handles an HTTP answer (`Ok((status, body))`) or failure (`Err(message)`); `false` if it
    /// was not for the realtime half.
    pub fn handle_http(&mut self, id: RequestId, answer: Result<(u16, &str), &str>, out: &mut Outbox) -> bool {
        let Some(pos) = self.http.calls.iter().position(|c| c.request == Some(id)) else { return false };
        let c = self.http.calls.remove(pos);
        self.timers.stop(Timer::Http(c.seq));
        let answer = match answer {
            Ok((status, body)) if c.endpoint == Endpoint::Single && status != 202 => {
                Err(ChannelOpError::HttpFailed { status, message: single_error(status, body) })
            }
            Ok((status, _)) => Ok(status),
            Err(message) => Err(ChannelOpError::HttpFailed { status: 0, message: String::from(message) }),
        };
        finish(&c, answer, out);
        true
    }

    /// HTTP call `seq` ran out of time: cancelled, resolved `timed out` or rejected.
    pub(super) fn http_timed_out(&mut self, seq: u64, out: &mut Outbox) {
        let Some(pos) = self.http.calls.iter().position(|c| c.seq == seq) else { return };
        let c = self.http.calls.remove(pos);
        if let Some(id) = c.request {
            out.push(Output::CancelHttp { id });
        }
        finish(&c, Err(ChannelOpError::HttpTimeout), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_endpoint_errors_read_as_realtime_js_s() {
        assert_eq!(single_error(401, r#"{"message":"Unauthorized"}"#), "Unauthorized");
        assert_eq!(single_error(400, r#"{"error":"bad","message":"other"}"#), "bad");
        assert_eq!(single_error(500, "not json"), "Internal Server Error");
        assert!(single_error(404, "").starts_with("httpSend() requires Realtime server v2.97.0 or newer"));
    }
}
