//! A whole [`Client`] (one browser tab's SDK instance) as a world [`Endpoint`], instrumented
//! for the property checks of [`super::checks`].
//!
//! What it adds to the bare client:
//! - **the tab's clock**: every input and command gets the world's `now` with the browser's
//!   wall-clock skew applied (as [`super::services::Skewed`] does), and the world's own `now`
//!   — the servers' clock — is remembered for the checks (G4 judges `exp` by the server);
//! - **pages**: a crash ends the page and [`ClientEndpoint::reopen`] loads a fresh core in the
//!   same tab. Connection ids are made unique per page (`page * CONN_STRIDE + id`), so frames,
//!   opens and closes still in the network for the dead page never reach the new one;
//! - **the runtime's CSPRNG**: an [`Output::Entropy`] is answered at once with bytes of a
//!   generator seeded per tab and page (the browser's `crypto.getRandomValues`; a simulation
//!   only needs them distinct and reproducible), and is not shown to the world;
//! - **checks**: every output is shown to [`Checks::on_output`] at the moment it leaves the
//!   core (with the core's state at that moment), every input to [`Checks::on_input`] before
//!   the core sees it.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use super::browser::skewed;
use super::checks::Checks;
use super::rt_server::ClientIdx;
use super::world::Endpoint;
use authwire_core::client::Client;
use authwire_core::config::ClientConfig;
use authwire_core::io::{ConnId, Input, Output};
use authwire_core::rng::Rng;
use authwire_core::time::{Instant, Now};

/// Connection ids of page `p` are `p * CONN_STRIDE + (the core's id)`.
pub const CONN_STRIDE: u32 = 1_000_000;

/// One tab: its current page's core, and the instrumentation around it.
#[derive(Debug)]
pub struct ClientEndpoint {
    /// The tab's index in the world.
    pub idx: ClientIdx,
    /// The current page's core.
    pub client: Client,
    /// Page number (0 for the first page, +1 per reopen).
    pub page: u32,
    /// The page is alive (not crashed).
    pub alive: bool,
    /// The world's `now` at the last input or command (the servers' clock).
    pub world_now: Now,
    /// The world connection id of the core's latest `Connect`.
    pub conn: Option<u32>,
    skew: Rc<Cell<i64>>,
    checks: Rc<RefCell<Checks>>,
    /// Stands in for the browser's `crypto.getRandomValues`.
    csprng: Rng,
}

impl ClientEndpoint {
    /// A tab running `client`, on a machine whose wall clock is off by `skew` ms, reporting to
    /// `checks`. The core is not started.
    pub fn new(idx: ClientIdx, client: Client, skew: Rc<Cell<i64>>, checks: Rc<RefCell<Checks>>) -> Self {
        let csprng = Rng::new(0xC5_9A06 ^ ((idx as u64) << 32));
        ClientEndpoint {
            idx,
            client,
            page: 0,
            alive: true,
            world_now: Now::default(),
            conn: None,
            skew,
            checks,
            csprng,
        }
    }

    /// The world's `now` as this tab's machine sees it.
    pub fn local(&self, now: Now) -> Now {
        skewed(now, self.skew.get())
    }

    /// Runs an application command on the core at world time `now` (the tab's local time is
    /// passed to `f`).
    pub fn cmd<R>(&mut self, now: Now, f: impl FnOnce(&mut Client, Now) -> R) -> R {
        self.world_now = now;
        let local = self.local(now);
        self.checks.borrow_mut().before(self.idx, &self.client);
        f(&mut self.client, local)
    }

    /// The page dies: nothing reaches it any more.
    pub fn crash(&mut self) {
        self.alive = false;
        self.checks.borrow_mut().reset_tab(self.idx);
    }

    /// A new page loads in the tab with a fresh core (not started yet).
    pub fn reopen(&mut self, cfg: ClientConfig, seed: u64) {
        self.page += 1;
        self.client = Client::new(cfg, seed);
        self.csprng = Rng::new(seed ^ 0xC5_9A06 ^ (u64::from(self.page) << 40));
        self.alive = true;
        self.conn = None;
        self.checks.borrow_mut().reset_tab(self.idx);
    }

    fn to_world(&self, conn: ConnId) -> ConnId {
        ConnId(self.page * CONN_STRIDE + conn.0)
    }

    /// Maps a world connection id back to the current page's, `None` if it belongs to an older
    /// page.
    fn page_conn(&self, conn: ConnId) -> Option<ConnId> {
        (conn.0 / CONN_STRIDE == self.page).then_some(ConnId(conn.0 % CONN_STRIDE))
    }
}

impl Endpoint for ClientEndpoint {
    fn input(&mut self, input: Input, now: Now) {
        self.world_now = now;
        if !self.alive {
            return;
        }
        let input = match input {
            Input::SocketOpened { conn } => match self.page_conn(conn) {
                Some(conn) => Input::SocketOpened { conn },
                None => return,
            },
            Input::SocketMessage { conn, msg } => match self.page_conn(conn) {
                Some(conn) => Input::SocketMessage { conn, msg },
                None => return,
            },
            Input::SocketClosed { conn, code, reason } => match self.page_conn(conn) {
                Some(conn) => Input::SocketClosed { conn, code, reason },
                None => return,
            },
            other => other,
        };
        let local = self.local(now);
        self.checks.borrow_mut().before(self.idx, &self.client);
        self.checks.borrow_mut().on_input(self.idx, &input, local);
        self.client.handle(input, local);
    }

    fn poll_output(&mut self) -> Option<Output> {
        let mut out = self.client.poll_output()?;
        // The browser answers a request for random bytes before the next output.
        while let Output::Entropy { len } = out {
            let mut bytes = alloc::vec![0u8; len];
            self.csprng.fill(&mut bytes);
            let local = self.local(self.world_now);
            self.client.handle(Input::Entropy { bytes: Some(bytes) }, local);
            out = self.client.poll_output()?;
        }
        let out = match out {
            Output::Connect { conn, url } => {
                let conn = self.to_world(conn);
                self.conn = Some(conn.0);
                Output::Connect { conn, url }
            }
            Output::Send { conn, msg } => Output::Send { conn: self.to_world(conn), msg },
            Output::Close { conn, code, reason } => Output::Close { conn: self.to_world(conn), code, reason },
            other => other,
        };
        let local = self.local(self.world_now);
        self.checks.borrow_mut().on_output(self.idx, &self.client, local, self.world_now, &out);
        Some(out)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if !self.alive {
            return None;
        }
        self.client.poll_timeout()
    }
}
