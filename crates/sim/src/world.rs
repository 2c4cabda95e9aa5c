//! A deterministic world: client cores, the model Realtime server and a virtual network on
//! one virtual clock (quinn's `Pair`, for N clients). Nothing sleeps: [`World::step`] jumps
//! the clock to the next thing that happens.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::WireMsg;

use super::rt_server::{ClientIdx, ConnKey, ModelRealtime, ServerSend, TokenJudge};
use authwire_core::io::{AppEvent, ConnId, Input, Output};
use authwire_core::time::{Instant, Now};

/// A client core as the world drives it.
pub trait Endpoint {
    /// Feed an input.
    fn input(&mut self, input: Input, now: Now);
    /// Drain one output.
    fn poll_output(&mut self) -> Option<Output>;
    /// The earliest deadline.
    fn poll_timeout(&self) -> Option<Instant>;
}

/// Handles the outputs that are not socket traffic (HTTP, storage, locks, tabs, digests).
pub trait Services {
    /// Runs `out` for `client`; returns inputs to deliver, each after a delay in ms and to a
    /// client (usually the same one).
    fn run(&mut self, client: ClientIdx, out: Output, now: Now) -> Vec<(u64, ClientIdx, Input)>;
    /// Called after every step, to let the services act on their own (lock timeouts, replies
    /// they held back); returns inputs to deliver like [`Services::run`].
    fn tick(&mut self, _now: Now) -> Vec<(u64, ClientIdx, Input)> {
        Vec::new()
    }
    /// The next moment the services need a [`Services::tick`], if any (the world steps to it
    /// even when nothing else is scheduled).
    fn next_deadline(&self) -> Option<Instant> {
        None
    }
}

/// Services for Realtime-only worlds: no HTTP and no storage; any such output is a bug.
#[derive(Debug, Default)]
pub struct NoServices;

impl Services for NoServices {
    fn run(&mut self, _client: ClientIdx, out: Output, _now: Now) -> Vec<(u64, ClientIdx, Input)> {
        match out {
            Output::Log(..) => Vec::new(),
            other => panic!("unexpected output in a realtime-only world: {other:?}"),
        }
    }
}

#[derive(Debug, Clone)]
enum Delivery {
    ToClient(ClientIdx, Input),
    Connect(ConnKey, String),
    ToServer(ConnKey, WireMsg),
    CloseFromClient(ConnKey),
}

/// Link faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Frames in either direction are lost (a half-open socket).
    pub blackhole: bool,
}

/// The world.
pub struct World<E: Endpoint, J: TokenJudge, S: Services> {
    /// The clock.
    pub now: Now,
    /// The clients.
    pub clients: Vec<E>,
    /// The server.
    pub server: ModelRealtime<J>,
    /// Non-socket side work.
    pub services: S,
    /// One-way latency in ms.
    pub latency_ms: u64,
    /// Faults per client.
    pub faults: BTreeMap<ClientIdx, Faults>,
    /// Every application event, with when and for whom.
    pub events: Vec<(Instant, ClientIdx, AppEvent)>,
    /// Connections each client has open at the server.
    pub open: BTreeMap<ConnKey, bool>,
    /// Successful socket opens: (time, client).
    pub opens: Vec<(Instant, ClientIdx)>,
    queue: BTreeMap<(u64, u64), Delivery>,
    seq: u64,
    steps: u64,
}

impl<E: Endpoint, J: TokenJudge, S: Services> World<E, J, S> {
    /// A world at time `now`.
    pub fn new(now: Now, clients: Vec<E>, server: ModelRealtime<J>, services: S) -> Self {
        World {
            now,
            clients,
            server,
            services,
            latency_ms: 20,
            faults: BTreeMap::new(),
            events: Vec::new(),
            open: BTreeMap::new(),
            opens: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
            steps: 0,
        }
    }

    fn at(&mut self, delay: u64, d: Delivery) {
        self.seq += 1;
        let t = self.now.mono.as_millis() + delay;
        self.queue.insert((t, self.seq), d);
    }

    /// Delivers an input to a client now and processes what follows from it.
    pub fn input(&mut self, client: ClientIdx, input: Input) {
        self.clients[client].input(input, self.now);
        self.drain(client);
    }

    /// Runs `f` on a client (a command), then drains its outputs.
    pub fn with<R>(&mut self, client: ClientIdx, f: impl FnOnce(&mut E, Now) -> R) -> R {
        let r = f(&mut self.clients[client], self.now);
        self.drain(client);
        r
    }

    /// Server messages into the network.
    pub fn server_sends(&mut self, sends: Vec<ServerSend>) {
        for s in sends {
            let blackholed = self.faults.get(&s.to.client).is_some_and(|f| f.blackhole);
            if blackholed || !self.open.contains_key(&s.to) {
                continue;
            }
            let lat = self.latency_ms + s.delay_ms;
            self.at(lat, Delivery::ToClient(s.to.client, Input::SocketMessage { conn: ConnId(s.to.conn), msg: s.msg }));
        }
    }

    /// Closes every open connection from the server side (abruptly: code 1006).
    pub fn drop_all(&mut self) {
        for key in self.open.keys().copied().collect::<Vec<_>>() {
            self.server_close(key, 1006, "");
        }
    }

    /// Closes one connection from the server side.
    pub fn server_close(&mut self, key: ConnKey, code: u16, reason: &str) {
        if self.open.remove(&key).is_some() {
            let sends = self.server.on_close(key);
            self.server_sends(sends);
            let lat = self.latency_ms;
            self.at(
                lat,
                Delivery::ToClient(
                    key.client,
                    Input::SocketClosed { conn: ConnId(key.conn), code, reason: String::from(reason) },
                ),
            );
        }
    }

    fn drain(&mut self, client: ClientIdx) {
        while let Some(o) = self.clients[client].poll_output() {
            let lat = self.latency_ms;
            match o {
                Output::Connect { conn, url } => {
                    // A blackholed network swallows the handshake too; the client's connect
                    // timeout has to notice.
                    if !self.faults.get(&client).is_some_and(|f| f.blackhole) {
                        self.at(lat, Delivery::Connect(ConnKey { client, conn: conn.0 }, url));
                    }
                }
                Output::Send { conn, msg } => {
                    let key = ConnKey { client, conn: conn.0 };
                    if self.faults.get(&client).is_some_and(|f| f.blackhole) {
                        continue;
                    }
                    self.at(lat, Delivery::ToServer(key, msg));
                }
                Output::Close { conn, .. } => {
                    self.at(lat, Delivery::CloseFromClient(ConnKey { client, conn: conn.0 }));
                    // The browser reports the close of a socket we closed ourselves too.
                    self.at(
                        0,
                        Delivery::ToClient(client, Input::SocketClosed { conn, code: 1000, reason: String::new() }),
                    );
                }
                Output::Event(e) => self.events.push((self.now.mono, client, e)),
                other => {
                    for (delay, to, input) in self.services.run(client, other, self.now) {
                        self.at(delay, Delivery::ToClient(to, input));
                    }
                }
            }
        }
    }

    /// The next moment anything happens.
    pub fn next_time(&self) -> Option<u64> {
        let q = self.queue.keys().next().map(|(t, _)| *t);
        let c = self.clients.iter().filter_map(|c| c.poll_timeout()).map(|i| i.as_millis()).min();
        let s = self.services.next_deadline().map(Instant::as_millis);
        [q, c, s].into_iter().flatten().min()
    }

    /// Advances to the next event (not beyond `limit`) and handles everything due then.
    /// Returns `false` when nothing is scheduled before `limit`.
    pub fn step(&mut self, limit: Instant) -> bool {
        let Some(t) = self.next_time() else {
            self.now = Now::new(limit.as_millis(), self.now.wall.as_millis() + limit.since(self.now.mono));
            return false;
        };
        if t > limit.as_millis() {
            self.now = self.now.advance(limit.since(self.now.mono));
            return false;
        }
        self.now = self.now.advance(t.saturating_sub(self.now.mono.as_millis()));
        self.steps += 1;
        // Deliveries due now.
        while let Some((&(at, seq), _)) = self.queue.iter().next() {
            if at > t {
                break;
            }
            let d = self.queue.remove(&(at, seq)).expect("present");
            self.deliver(d);
        }
        // Client timers due now.
        for i in 0..self.clients.len() {
            if self.clients[i].poll_timeout().is_some_and(|d| d.as_millis() <= t) {
                self.input(i, Input::Timeout);
            }
        }
        for (delay, to, input) in self.services.tick(self.now) {
            self.at(delay, Delivery::ToClient(to, input));
        }
        true
    }

    fn deliver(&mut self, d: Delivery) {
        match d {
            Delivery::ToClient(c, input) => {
                if let Input::SocketOpened { .. } = input {
                    self.opens.push((self.now.mono, c));
                }
                self.input(c, input);
            }
            Delivery::Connect(key, url) => {
                let lat = self.latency_ms;
                match self.server.on_connect(key, &url, self.now.wall) {
                    Ok(()) => {
                        self.open.insert(key, true);
                        self.at(lat, Delivery::ToClient(key.client, Input::SocketOpened { conn: ConnId(key.conn) }));
                    }
                    Err(_) => self.at(
                        lat,
                        Delivery::ToClient(
                            key.client,
                            Input::SocketClosed { conn: ConnId(key.conn), code: 1006, reason: String::new() },
                        ),
                    ),
                }
            }
            Delivery::ToServer(key, msg) => {
                if self.open.contains_key(&key) {
                    let sends = self.server.on_message(key, &msg, self.now.wall);
                    self.server_sends(sends);
                }
            }
            Delivery::CloseFromClient(key) => {
                if self.open.remove(&key).is_some() {
                    let sends = self.server.on_close(key);
                    self.server_sends(sends);
                }
            }
        }
    }

    /// Runs until `ms` of virtual time have passed.
    pub fn run_for(&mut self, ms: u64) {
        let limit = self.now.mono.add(ms);
        while self.step(limit) {}
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Events of one client, in order.
    pub fn events_of(&self, client: ClientIdx) -> impl Iterator<Item = &AppEvent> {
        self.events.iter().filter(move |(_, c, _)| *c == client).map(|(_, _, e)| e)
    }
}
