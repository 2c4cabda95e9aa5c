//! The Realtime half alone as a world endpoint, with a token view the test controls.

use alloc::string::String;

use authwire_core::io::{Input, Outbox, Output};
use authwire_core::realtime::{Realtime, RealtimeConfig, TokenChange, TokenView};
use authwire_core::time::{Instant, Now};

use super::world::Endpoint;

/// [`Realtime`] plus the auth facts a [`authwire_core::Client`] would provide.
#[derive(Debug)]
pub struct RtEndpoint {
    /// The machine.
    pub rt: Realtime,
    /// Its outputs.
    pub out: Outbox,
    /// Auth resolved?
    pub ready: bool,
    /// The token for joins.
    pub token: Option<String>,
    /// The token generation.
    pub generation: u64,
    /// The connect apikey.
    pub socket_key: Option<String>,
}

impl RtEndpoint {
    /// A ready endpoint whose joins carry `token` and whose socket uses `apikey`.
    pub fn new(endpoint: &str, seed: u64, token: Option<&str>, apikey: &str) -> Self {
        RtEndpoint {
            rt: Realtime::new(RealtimeConfig::new(String::from(endpoint)), seed),
            out: Outbox::default(),
            ready: true,
            token: token.map(String::from),
            generation: 1,
            socket_key: Some(String::from(apikey)),
        }
    }

    /// The current view.
    pub fn view(&self) -> TokenView<'_> {
        TokenView {
            ready: self.ready,
            token: self.token.as_deref(),
            generation: self.generation,
            role: Some("authenticated"),
            socket_key: self.socket_key.as_deref(),
            skew_ms: 0,
        }
    }

    /// Runs `f` with the machine, a view and the outbox.
    pub fn call<R>(&mut self, now: Now, f: impl FnOnce(&mut Realtime, Now, &TokenView<'_>, &mut Outbox) -> R) -> R {
        let view = TokenView {
            ready: self.ready,
            token: self.token.as_deref(),
            generation: self.generation,
            role: Some("authenticated"),
            socket_key: self.socket_key.as_deref(),
            skew_ms: 0,
        };
        f(&mut self.rt, now, &view, &mut self.out)
    }

    /// Sets a new token (a new generation) and tells the machine.
    pub fn set_token(&mut self, token: Option<&str>, change: TokenChange, now: Now) {
        self.token = token.map(String::from);
        self.generation += 1;
        self.call(now, |rt, now, v, out| rt.token_changed(change, now, v, out));
    }

    /// Marks auth unresolved (`false`) or resolved (`true`) and resumes.
    pub fn set_ready(&mut self, ready: bool, now: Now) {
        self.ready = ready;
        self.call(now, |rt, now, v, out| rt.resume(now, v, out));
    }
}

impl Endpoint for RtEndpoint {
    fn input(&mut self, input: Input, now: Now) {
        self.call(now, |rt, now, v, out| match input {
            Input::SocketOpened { conn } => rt.handle_opened(conn, now, v, out),
            Input::SocketMessage { conn, msg } => rt.handle_message(conn, &msg, now, v, out),
            Input::SocketClosed { conn, code, reason } => rt.handle_closed(conn, code, reason, now, out),
            Input::Timeout => rt.handle_timeout(now, v, out),
            Input::Visibility { visible: true } | Input::Wake => rt.health_check(now, v, out),
            Input::Online { online } => rt.set_online(online, now, v, out),
            _ => {}
        });
    }
    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.rt.poll_timeout()
    }
}
