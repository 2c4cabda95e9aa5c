//! [`AuthServices`]: the non-socket side of the simulated world for auth. It routes each
//! client's outputs to the [`ModelBrowser`] its tab lives in (storage, Web Locks,
//! BroadcastChannel, WebCrypto) and its HTTP requests to the shared [`ModelGoTrue`], on the
//! world's virtual clock:
//!
//! - an HTTP request reaches the server `latency_ms` after it was sent and is processed then
//!   (so requests from several tabs interleave as they would); the response takes
//!   `latency_ms` more plus any delay fault, or never comes when a drop fault ate it;
//! - everything the services deliver goes through their own queue, tagged with the target
//!   tab's epoch: a reply meant for a page that crashed is not handed to the page that loaded
//!   next in that tab (whose request ids start over);
//! - lock waits time out on [`crate::world::Services::tick`], which the world calls at
//!   [`crate::world::Services::next_deadline`].
//!
//! Wall-clock skew is per browser, but the world hands one [`Now`] to everything, so the
//! services cannot apply it: the endpoint adapter must. Wrap each tab's endpoint in
//! [`Skewed`] (it adds its browser's skew to `now.wall` of every input), and pass
//! [`Skewed::local`] of the world's `now` to commands run through `World::with`.
//!
//! [`AuthServices::log`] records every output (which client, what, when), every input handed
//! over, and what the server answered, for replay printing (`{:?}` per entry).

use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

use super::browser::{skewed, Deliveries, ModelBrowser, Tab};
use super::gotrue::{GoTrueHandle, ModelGoTrue};
use super::rt_server::ClientIdx;
use super::world::{Endpoint, Services};
use authwire_core::io::{HttpRequest, Input, LockOp, Output, RequestId};
use authwire_core::time::{Instant, Now};

/// What the network layer says when a fetch fails (Chromium).
pub const FETCH_FAILED: &str = "Failed to fetch";

/// One line of the replay log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Virtual time.
    pub at: Instant,
    /// The tab concerned.
    pub client: ClientIdx,
    /// What happened.
    pub what: Logged,
}

/// What a log line records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logged {
    /// The tab produced this output.
    Output(Output),
    /// The tab's page is gone; its output was ignored.
    Ignored(Output),
    /// The request reached the server, which answered `status` (held back `delay_ms`, or
    /// never sent when `dropped`).
    Served {
        /// The request.
        id: RequestId,
        /// The answer's status.
        status: u16,
        /// The delay fault applied.
        delay_ms: u64,
        /// No response was sent.
        dropped: bool,
    },
    /// This input was handed to the world for the tab.
    Input(Input),
    /// This input was discarded: the page it was meant for is gone.
    Stale(Input),
    /// The tab's page crashed or closed.
    Crashed,
    /// A new page loaded in the tab.
    Reopened,
}

#[derive(Debug, Clone)]
enum Pending {
    /// Hand `input` to `to`, if its page is still the one of `epoch`.
    Deliver { to: ClientIdx, epoch: u32, input: Input },
    /// A request sent by the page of `epoch` reaches the server.
    Arrive { from: ClientIdx, epoch: u32, id: RequestId, request: HttpRequest },
}

/// The services of a world with auth: browsers and a model GoTrue.
#[derive(Debug)]
pub struct AuthServices {
    /// The auth server (shared with the Realtime model's judge).
    pub gotrue: GoTrueHandle,
    /// The browser profiles; each client index belongs to at most one.
    pub browsers: Vec<ModelBrowser>,
    /// One-way HTTP latency in ms.
    pub latency_ms: u64,
    /// The replay log.
    pub log: Vec<LogEntry>,
    /// Record [`Self::log`] (on by default; long runs may turn it off).
    pub record: bool,
    queue: BTreeMap<(u64, u64), Pending>,
    seq: u64,
}

impl AuthServices {
    /// Services for `browsers`, talking to `gotrue`, with 20 ms one-way latency.
    pub fn new(gotrue: GoTrueHandle, browsers: Vec<ModelBrowser>) -> Self {
        AuthServices { gotrue, browsers, latency_ms: 20, log: Vec::new(), record: true, queue: BTreeMap::new(), seq: 0 }
    }

    /// Changes the model server (admin actions, faults).
    pub fn server(&self) -> core::cell::RefMut<'_, ModelGoTrue> {
        self.gotrue.borrow_mut()
    }

    /// The index of the browser `client` belongs to.
    pub fn browser_of(&self, client: ClientIdx) -> Option<usize> {
        self.browsers.iter().position(|b| b.has_tab(client))
    }

    /// The browser of `client`.
    pub fn browser_for(&self, client: ClientIdx) -> Option<&ModelBrowser> {
        self.browsers.iter().find(|b| b.has_tab(client))
    }

    /// The browser of `client`, mutably (faults: quota, offline, skew).
    pub fn browser_for_mut(&mut self, client: ClientIdx) -> Option<&mut ModelBrowser> {
        self.browsers.iter_mut().find(|b| b.has_tab(client))
    }

    fn tab(&self, client: ClientIdx) -> Option<Tab> {
        self.browser_for(client).and_then(|b| b.tab(client))
    }

    /// `now` as `client`'s machine sees it (its browser's skew applied to the wall clock).
    pub fn local_now(&self, client: ClientIdx, now: Now) -> Now {
        skewed(now, self.browser_for(client).map_or(0, ModelBrowser::skew_ms))
    }

    /// Deliveries not yet handed over, requests not yet arrived included.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    fn note(&mut self, now: Now, client: ClientIdx, what: Logged) {
        if self.record {
            self.log.push(LogEntry { at: now.mono, client, what });
        }
    }

    fn push(&mut self, due: u64, p: Pending) {
        self.seq += 1;
        self.queue.insert((due, self.seq), p);
    }

    fn schedule(&mut self, now: Now, deliveries: Deliveries) {
        for (delay, to, input) in deliveries {
            let epoch = self.tab(to).map_or(0, |t| t.epoch);
            self.push(now.mono.as_millis() + delay, Pending::Deliver { to, epoch, input });
        }
    }

    /// The page in `client`'s tab crashes (or closes): the browser releases its locks and
    /// nothing more reaches it. Replace the world's endpoint with a fresh core and call
    /// [`Self::reopen_tab`] to load a new page.
    pub fn crash_tab(&mut self, client: ClientIdx, now: Now) {
        let Some(b) = self.browser_of(client) else { return };
        let d = self.browsers[b].crash(client);
        self.note(now, client, Logged::Crashed);
        self.schedule(now, d);
    }

    /// A new page loads in `client`'s tab.
    pub fn reopen_tab(&mut self, client: ClientIdx, now: Now) {
        if let Some(b) = self.browser_for_mut(client) {
            b.reopen(client);
            self.note(now, client, Logged::Reopened);
        }
    }

    /// A page that is not simulated writes (or, with `None`, removes) `key` in browser
    /// `browser`'s storage; its tabs hear about a session-key change.
    pub fn external_write(&mut self, browser: usize, key: &str, value: Option<&str>, now: Now) {
        let d = self.browsers[browser].external_write(key, value);
        self.schedule(now, d);
    }

    fn serve(&mut self, from: ClientIdx, epoch: u32, id: RequestId, request: &HttpRequest, now: Now) {
        let served = self.gotrue.borrow_mut().serve(Some(from), request, now.wall);
        self.note(
            now,
            from,
            Logged::Served { id, status: served.status, delay_ms: served.delay_ms, dropped: served.dropped },
        );
        if !served.dropped {
            // The reply is for the page that sent the request, even if another one loaded since.
            let input = Input::HttpResponse { id, status: served.status, body: served.body };
            let due = now.mono.as_millis() + self.latency_ms + served.delay_ms;
            self.push(due, Pending::Deliver { to: from, epoch, input });
        }
    }
}

impl Services for AuthServices {
    fn run(&mut self, client: ClientIdx, out: Output, now: Now) -> Vec<(u64, ClientIdx, Input)> {
        let Some(b) = self.browser_of(client) else {
            panic!("AuthServices: a client without a browser produced an output");
        };
        let epoch = match self.browsers[b].tab(client) {
            Some(t) if t.open => t.epoch,
            _ => {
                self.note(now, client, Logged::Ignored(out));
                return Vec::new();
            }
        };
        self.note(now, client, Logged::Output(out.clone()));
        if let Output::Http { id, request } = out {
            if self.browsers[b].offline {
                let failed = Input::HttpFailed { id, message: String::from(FETCH_FAILED) };
                self.schedule(now, alloc::vec![(self.latency_ms, client, failed)]);
            } else {
                self.push(now.mono.as_millis() + self.latency_ms, Pending::Arrive { from: client, epoch, id, request });
            }
            return Vec::new();
        }
        let browser = &mut self.browsers[b];
        let deliveries = match out {
            Output::Storage { id, op } => browser.storage_op(client, id, op),
            Output::Lock { id, op: LockOp::Acquire { name, timeout_ms } } => {
                browser.acquire(client, id, &name, timeout_ms, now.mono)
            }
            Output::Lock { op: LockOp::Release { of }, .. } => browser.release(client, of),
            Output::TabPost(data) => browser.post(client, &data),
            Output::Digest { id, data } => alloc::vec![(0, client, browser.digest(id, &data))],
            Output::Verify { id, signed, signature, .. } => {
                let ok = self.gotrue.borrow().verify_signature(&signed, &signature);
                alloc::vec![(0, client, Input::Verified { id, ok })]
            }
            Output::FetchAccessToken => {
                alloc::vec![(0, client, Input::AccessToken { token: browser.access_token_callback.clone() })]
            }
            Output::ReplaceUrl(url) => {
                browser.url = url;
                Vec::new()
            }
            // Socket traffic and app events are the world's; log lines need nothing; HTTP was
            // handled above.
            Output::Connect { .. }
            | Output::Send { .. }
            | Output::Close { .. }
            | Output::Event(_)
            | Output::Log(..)
            | Output::Http { .. } => Vec::new(),
            #[allow(unreachable_patterns)]
            _ => Vec::new(),
        };
        self.schedule(now, deliveries);
        Vec::new()
    }

    fn tick(&mut self, now: Now) -> Vec<(u64, ClientIdx, Input)> {
        for b in 0..self.browsers.len() {
            let d = self.browsers[b].expire_locks(now.mono);
            self.schedule(now, d);
        }
        let mut out = Vec::new();
        while let Some((&key, _)) = self.queue.iter().next() {
            if key.0 > now.mono.as_millis() {
                break;
            }
            let Some(p) = self.queue.remove(&key) else { break };
            match p {
                Pending::Deliver { to, epoch, input } => {
                    if self.tab(to).is_some_and(|t| t.open && t.epoch == epoch) {
                        self.note(now, to, Logged::Input(input.clone()));
                        out.push((0, to, input));
                    } else {
                        self.note(now, to, Logged::Stale(input));
                    }
                }
                Pending::Arrive { from, epoch, id, request } => self.serve(from, epoch, id, &request, now),
            }
        }
        out
    }

    fn next_deadline(&self) -> Option<Instant> {
        let q = self.queue.keys().next().map(|(t, _)| Instant::from_millis(*t));
        let l = self.browsers.iter().filter_map(ModelBrowser::next_lock_deadline).min();
        [q, l].into_iter().flatten().min()
    }
}

/// An endpoint on a machine whose wall clock is off by its browser's skew: every input is fed
/// with the skew added to `now.wall` (the monotonic clock is untouched). Commands run through
/// `World::with` must use [`Skewed::local`] themselves.
#[derive(Debug)]
pub struct Skewed<E> {
    /// The wrapped endpoint.
    pub inner: E,
    skew: Rc<Cell<i64>>,
}

impl<E> Skewed<E> {
    /// `inner`, living in `browser`.
    pub fn new(inner: E, browser: &ModelBrowser) -> Self {
        Skewed { inner, skew: browser.skew_handle() }
    }
    /// The world's `now` as this endpoint's machine sees it.
    pub fn local(&self, now: Now) -> Now {
        skewed(now, self.skew.get())
    }
}

impl<E: Endpoint> Endpoint for Skewed<E> {
    fn input(&mut self, input: Input, now: Now) {
        let local = self.local(now);
        self.inner.input(input, local);
    }
    fn poll_output(&mut self) -> Option<Output> {
        self.inner.poll_output()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.inner.poll_timeout()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gotrue::{GoTrueConfig, RefreshOutcome, RouteMatch};
    use crate::rt_server::ModelRealtime;
    use crate::world::World;
    use alloc::collections::VecDeque;
    use authwire_core::io::{ConnId, StorageOp};
    use authwire_wire::gotrue::parse_token_response;
    use std::format;
    use std::vec;

    const T0: u64 = 1_800_000_000_000;
    const KEY: &str = "sb-127-auth-token";

    /// A tab whose outputs the test scripts and whose inputs it records.
    #[derive(Debug, Default)]
    struct Probe {
        queue: VecDeque<Output>,
        got: Vec<(Now, Input)>,
    }

    impl Endpoint for Probe {
        fn input(&mut self, input: Input, now: Now) {
            self.got.push((now, input));
        }
        fn poll_output(&mut self) -> Option<Output> {
            self.queue.pop_front()
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
    }

    type W<E = Probe> = World<E, GoTrueHandle, AuthServices>;

    fn services(browsers: &[&[ClientIdx]]) -> (GoTrueHandle, AuthServices) {
        let h = ModelGoTrue::new(GoTrueConfig { token_ttl_s: 60, ..GoTrueConfig::default() }, 1).shared();
        let bs = browsers.iter().map(|tabs| ModelBrowser::new(KEY, tabs)).collect();
        (h.clone(), AuthServices::new(h, bs))
    }

    fn world(browsers: &[&[ClientIdx]]) -> W {
        let n = browsers.iter().map(|t| t.len()).sum();
        let (h, s) = services(browsers);
        World::new(Now::new(0, T0), (0..n).map(|_| Probe::default()).collect(), ModelRealtime::new(h), s)
    }

    fn emit(w: &mut W, client: ClientIdx, out: Output) {
        w.with(client, |p, _| p.queue.push_back(out));
    }

    fn http(w: &W, id: u64, method: &'static str, path: &str, bearer: Option<&str>, body: Option<&str>) -> Output {
        let key = String::from(w.services.gotrue.borrow().anon_key());
        let auth = format!("Bearer {}", bearer.unwrap_or(&key));
        Output::Http {
            id: RequestId(id),
            request: HttpRequest {
                method,
                url: format!("http://127.0.0.1:54321/auth/v1{path}"),
                headers: vec![
                    ("apikey".into(), key),
                    ("Authorization".into(), auth),
                    ("X-Supabase-Api-Version".into(), "2024-01-01".into()),
                ],
                body: body.map(String::from),
            },
        }
    }

    fn refresh(w: &W, id: u64, rt: &str) -> Output {
        http(w, id, "POST", "/token?grant_type=refresh_token", None, Some(&format!(r#"{{"refresh_token":"{rt}"}}"#)))
    }

    /// `(ms since start, input)` of what `client` received.
    fn got(w: &W, client: ClientIdx) -> Vec<(u64, Input)> {
        w.clients[client].got.iter().map(|(n, i)| (n.mono.as_millis(), i.clone())).collect()
    }

    fn response(w: &W, client: ClientIdx, id: u64) -> Option<(u64, u16, String)> {
        got(w, client).into_iter().find_map(|(t, i)| match i {
            Input::HttpResponse { id: RequestId(x), status, body } if x == id => Some((t, status, body)),
            _ => None,
        })
    }

    fn sign_up(w: &mut W, client: ClientIdx, id: u64, email: &str) -> (String, String) {
        let out = http(w, id, "POST", "/signup", None, Some(&format!(r#"{{"email":"{email}","password":"secret1"}}"#)));
        emit(w, client, out);
        w.run_for(100);
        let (_, status, body) = response(w, client, id).unwrap();
        assert_eq!(status, 200, "{body}");
        let r = parse_token_response(&body).unwrap();
        (r.access_token, r.refresh_token)
    }

    #[test]
    fn http_round_trips_and_faults() {
        let mut w = world(&[&[0, 1]]);
        let (_, rt) = sign_up(&mut w, 0, 1, "a@b.co");
        assert_eq!(response(&w, 0, 1).unwrap().0, 40, "request 20 ms, response 20 ms");
        let served: Vec<_> = w
            .services
            .log
            .iter()
            .filter(|e| matches!(e.what, Logged::Served { .. }))
            .map(|e| e.at.as_millis())
            .collect();
        assert_eq!(served, [20]);
        // A dropped refresh is processed (at +20) but never answered.
        w.services.server().drop_next(RouteMatch::Grant("refresh_token"), 1);
        let start = w.now.mono.as_millis();
        let out = refresh(&w, 2, &rt);
        emit(&mut w, 1, out);
        w.run_for(10_000);
        assert!(response(&w, 1, 2).is_none());
        let p = w.services.gotrue.borrow().presentations[0].clone();
        assert!(p.dropped && matches!(p.outcome, RefreshOutcome::Rotated { .. }));
        assert_eq!((p.caller, p.at.as_millis()), (Some(1), T0 + start + 20));
        // A delayed one arrives late; the lost child comes back (parent of the active token).
        w.services.server().delay_next(RouteMatch::Grant("refresh_token"), 1, 500);
        let start = w.now.mono.as_millis();
        let out = refresh(&w, 3, &rt);
        emit(&mut w, 1, out);
        w.run_for(1_000);
        let (t, status, _) = response(&w, 1, 3).unwrap();
        assert_eq!((t - start, status), (540, 200));
        // Offline: the fetch fails without reaching the server.
        w.services.browsers[0].offline = true;
        let start = w.now.mono.as_millis();
        let out = refresh(&w, 4, &rt);
        emit(&mut w, 0, out);
        w.run_for(1_000);
        assert_eq!(
            got(&w, 0).last().unwrap(),
            &(start + 20, Input::HttpFailed { id: RequestId(4), message: FETCH_FAILED.into() })
        );
        assert_eq!(w.services.gotrue.borrow().presentations.len(), 2);
        assert_eq!(w.services.in_flight(), 0);
    }

    #[test]
    fn locks_time_out_on_the_world_clock_and_crashes_release_them() {
        let mut w = world(&[&[0, 1, 2]]);
        let acquire = |id, timeout_ms| Output::Lock {
            id: RequestId(id),
            op: LockOp::Acquire { name: "lock:sb-127-auth-token".into(), timeout_ms },
        };
        emit(&mut w, 0, acquire(1, 5_000));
        emit(&mut w, 1, acquire(1, 300));
        // Nothing else is scheduled: the world still wakes for the lock deadline.
        w.run_for(1_000);
        assert_eq!(got(&w, 0), [(0, Input::LockGranted { id: RequestId(1) })]);
        assert_eq!(got(&w, 1), [(300, Input::LockUnavailable { id: RequestId(1) })]);
        emit(&mut w, 1, acquire(2, 10_000));
        emit(&mut w, 2, acquire(1, 10_000));
        // Tab 0 has a request in flight when it crashes.
        let out = http(&w, 2, "GET", "/health", None, None);
        emit(&mut w, 0, out);
        w.run_for(10);
        let now = w.now;
        w.services.crash_tab(0, now);
        w.run_for(10);
        assert_eq!(got(&w, 1).last().unwrap(), &(1_010, Input::LockGranted { id: RequestId(2) }));
        // Outputs of the dead page are ignored; a new page does not get the old page's reply.
        emit(&mut w, 0, acquire(9, 0));
        let now = w.now;
        w.services.reopen_tab(0, now);
        w.run_for(1_000);
        assert_eq!(got(&w, 0).len(), 1, "{:?}", got(&w, 0));
        assert!(w
            .services
            .log
            .iter()
            .any(|e| e.client == 0 && matches!(&e.what, Logged::Stale(Input::HttpResponse { .. }))));
        assert!(w.services.log.iter().any(|e| matches!(&e.what, Logged::Ignored(Output::Lock { .. }))));
        // FIFO: tab 2 gets the lock when tab 1 releases it.
        emit(&mut w, 1, Output::Lock { id: RequestId(3), op: LockOp::Release { of: RequestId(2) } });
        w.run_for(10);
        assert_eq!(got(&w, 2), [(2_020, Input::LockGranted { id: RequestId(1) })]);
    }

    #[test]
    fn storage_and_broadcast_stay_inside_one_browser() {
        let mut w = world(&[&[0, 1], &[2]]);
        let set = Output::Storage { id: RequestId(1), op: StorageOp::Set(KEY.into(), "{\"s\":1}".into()) };
        emit(&mut w, 0, set);
        emit(&mut w, 0, Output::TabPost(r#"{"event":"SIGNED_IN","session":{"s":1}}"#.into()));
        w.run_for(100);
        assert_eq!(got(&w, 0), [(0, Input::Storage { id: RequestId(1), result: Ok(None) })]);
        assert_eq!(
            got(&w, 1),
            [
                (1, Input::StorageChanged { value: Some("{\"s\":1}".into()) }),
                (1, Input::TabMessage { data: r#"{"event":"SIGNED_IN","session":{"s":1}}"#.into() }),
            ]
        );
        assert!(got(&w, 2).is_empty());
        emit(&mut w, 2, Output::Storage { id: RequestId(1), op: StorageOp::Get(KEY.into()) });
        w.run_for(10);
        assert_eq!(got(&w, 2), [(100, Input::Storage { id: RequestId(1), result: Ok(None) })]);
        // Quota fault on browser 0 only.
        w.services.browser_for_mut(1).unwrap().quota_failures = 1;
        emit(&mut w, 1, Output::Storage { id: RequestId(5), op: StorageOp::Set(KEY.into(), "x".into()) });
        w.run_for(10);
        assert!(matches!(got(&w, 1).last().unwrap().1, Input::Storage { result: Err(_), .. }));
        // A page outside the simulation writes the key: every tab of that browser hears it.
        let now = w.now;
        w.services.external_write(0, KEY, None, now);
        w.run_for(10);
        assert_eq!(got(&w, 0).last().unwrap().1, Input::StorageChanged { value: None });
        assert_eq!(got(&w, 1).last().unwrap().1, Input::StorageChanged { value: None });
    }

    #[test]
    fn digest_verify_and_access_token_callback() {
        let mut w = world(&[&[0]]);
        let (at, _) = sign_up(&mut w, 0, 1, "a@b.co");
        let (signed, signature) = at.rsplit_once('.').unwrap();
        emit(&mut w, 0, Output::Digest { id: RequestId(2), data: "abc".into() });
        let verify = |id, sig: &str| Output::Verify {
            id: RequestId(id),
            alg: "ES256".into(),
            jwk: "{}".into(),
            signed: signed.into(),
            signature: sig.into(),
        };
        emit(&mut w, 0, verify(3, signature));
        emit(&mut w, 0, verify(4, "c2ln"));
        w.services.browsers[0].access_token_callback = Some("third-party".into());
        emit(&mut w, 0, Output::FetchAccessToken);
        emit(&mut w, 0, Output::ReplaceUrl("http://localhost:3000/done".into()));
        w.run_for(10);
        let inputs: Vec<Input> = got(&w, 0).into_iter().skip(1).map(|(_, i)| i).collect();
        assert_eq!(
            inputs,
            [
                Input::Digest { id: RequestId(2), b64url: Some("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0".into()) },
                Input::Verified { id: RequestId(3), ok: true },
                Input::Verified { id: RequestId(4), ok: false },
                Input::AccessToken { token: Some("third-party".into()) },
            ]
        );
        assert_eq!(w.services.browsers[0].url, "http://localhost:3000/done");
    }

    #[test]
    fn realtime_judges_tokens_with_the_same_gotrue() {
        let mut w = world(&[&[0]]);
        let (at, _) = sign_up(&mut w, 0, 1, "a@b.co");
        let connect = |conn, key: &str| Output::Connect {
            conn: ConnId(conn),
            url: format!("ws://127.0.0.1:54321/realtime/v1/websocket?apikey={key}&vsn=1.0.0"),
        };
        let events = |w: &W| -> Vec<Input> {
            got(w, 0)
                .into_iter()
                .map(|(_, i)| i)
                .filter(|i| matches!(i, Input::SocketOpened { .. } | Input::SocketClosed { .. }))
                .collect()
        };
        // The world routes Connect itself; the Realtime model asks GoTrue about the token.
        w.with(0, |p, _| p.queue.push_back(connect(1, &at)));
        w.run_for(100);
        assert_eq!(events(&w), [Input::SocketOpened { conn: ConnId(1) }]);
        let out = http(&w, 2, "POST", "/logout?scope=local", Some(&at), None);
        emit(&mut w, 0, out);
        w.run_for(100);
        assert_eq!(response(&w, 0, 2).unwrap().1, 204);
        w.with(0, |p, _| p.queue.push_back(connect(2, &at)));
        w.run_for(100);
        assert_eq!(
            events(&w)[1..],
            [Input::SocketClosed { conn: ConnId(2), code: 1006, reason: String::new() }],
            "a signed-out session's token is refused (strict sessions)"
        );
    }

    #[test]
    fn skew_is_applied_by_the_endpoint_adapter() {
        let (h, s) = services(&[&[0, 1]]);
        let clients =
            vec![Skewed::new(Probe::default(), &s.browsers[0]), Skewed::new(Probe::default(), &s.browsers[0])];
        let mut w: W<Skewed<Probe>> = World::new(Now::new(0, T0), clients, ModelRealtime::new(h), s);
        w.services.browsers[0].set_skew_ms(-90_000);
        w.with(0, |p, _| p.inner.queue.push_back(Output::TabPost("hi".into())));
        w.run_for(10);
        let (now, _) = &w.clients[1].inner.got[0];
        assert_eq!((now.mono.as_millis(), now.wall.as_millis()), (1, T0 + 1 - 90_000));
        assert_eq!(w.clients[1].local(w.now), w.services.local_now(1, w.now));
        assert_eq!(w.services.local_now(1, w.now).wall.as_millis(), T0 + 10 - 90_000);
    }
}
