//! Property checkers: one violation counter per guarantee of `design.md` (G1–G8), fed with
//! every output as it leaves a tab's core ([`Checks::on_output`]), every input before the
//! core sees it ([`Checks::on_input`]), the model servers' state after every world step
//! ([`Checks::sweep`]) and once at the end of a schedule ([`Checks::finish`],
//! [`liveness`]).
//!
//! Vocabulary used below:
//! - a tab's **current token** is what its auth state holds at that moment: the session's
//!   access token, else the project key if the key is a JWT, else none ([`current_token`]);
//! - **ready** is [`Client::auth_ready`] at the tab's local time;
//! - **server time** is the world's wall clock (the servers'), **local time** the tab's (its
//!   browser's skew applied);
//! - a tab is **reachable** when its page is alive and its network is not cut
//!   (no blackhole, not offline); the runner passes that to [`Checks::sweep`];
//! - **B** is the staleness bound, `2 × latency + 100 ms`: one round trip (a join in flight
//!   when the token changed gets its reply, then the `access_token` push takes one more
//!   latency, which the second latency covers) plus slack for same-instant scheduling.
//!
//! The checkers (each one fails on a core that breaks its guarantee; see the mutation tests
//! in `tests/simulate.rs`):
//!
//! - **G1** — a `phx_join` whose `access_token` (absent when the payload has none) differs
//!   from the tab's current token at the moment the frame is emitted.
//! - **G2** — a `phx_join` or `access_token` frame emitted while the tab is not ready.
//! - **G3** — (a) a client push (`broadcast`, `presence`) on a channel whose last token sent
//!   on that connection and topic (its join's `access_token`, or the latest `access_token`
//!   push) differs from the tab's current token, or on a topic with no join on that
//!   connection; (b) in a sweep: a reachable, ready tab with an open socket, a channel it
//!   believes joined, and the server's membership of that channel (on the tab's current
//!   connection) holding another token than the current one (the connect `apikey` standing
//!   for "none") continuously for longer than B.
//! - **G4** — a `Connect` URL `apikey`, a join `access_token` or an `access_token` push
//!   carrying a JWT whose `exp` is at or before the server time at emission.
//! - **G5** — in a sweep: a server-side membership, on any connection of a reachable tab,
//!   whose claims are another user's (`sub` set and different from the tab's current
//!   session's user), or a private membership while the tab has no session, continuously for
//!   longer than B; (c) a private channel the tab had when it lost its session not `CLOSED`
//!   (or leaving, if the app unsubscribed it) on the client B after (the app must see
//!   `CLOSED`/`signed_out`, not a rejoin loop); (d) a
//!   storage write of a session whose storage entry a sign-out removed (a refresh answer
//!   resurrecting a signed-out session: the commit guard's job); (e) a `broadcast` or
//!   `presence` push emitted while another user is signed in than the one who made it (the
//!   schedule writes the maker into the payload as `by`): queued pushes of a user who signed
//!   out or was switched must be discarded, never sent under the next user's membership
//!   (without the discard, 272 of 10,000 schedules break this).
//! - **G6** — (a) a channel status other than `RECOVERING` carrying the error code
//!   `token_expired` (a `CLOSED` or `CHANNEL_ERROR` where the app should see `RECOVERING`);
//!   (b) at the end of a schedule, after a quiet period with the network, the servers and
//!   refreshes healthy: a channel the app still wants that is still recovering (see
//!   [`liveness`]).
//! - **G7** — a `Connect` whose `apikey` is not what the mode prescribes at that moment: the
//!   project key in `Project` mode; in `Session` mode the session's access token, or with no
//!   session the project key if it is a JWT; and no connect at all in `Session` mode while
//!   the tab is not ready or has no session and an opaque key.
//! - **G8** — (a) a refresh token presented (a `grant_type=refresh_token` request emitted)
//!   while another presentation of the same token, by any tab, is outstanding (sent, not
//!   answered, not yet given up after the core's 10 s request timeout, page alive) — tallied
//!   apart as well ([`Checks::g8_lock_timeout`]) when either flight went on without the lock
//!   after its lock wait timed out, the design's degraded mode, which a chain of waiters
//!   behind a slow holder reaches although every holder is alive; (b) a
//!   refresh token presented after one of its successors was published browser-wide (written
//!   to the shared storage or posted to the other tabs: from then on every tab that re-reads
//!   storage under the lock must see the newer token); (c) every family revocation the model
//!   GoTrue performed ([`Checks::finish`]); (d) an `onAuthStateChange` callback (`AuthChange`)
//!   emitted by a tab between a `LockGranted` input and the `Release` output of that lock.
//!   Other events are not counted: the lock is held across the refresh request, and the
//!   socket's events (heartbeats, broadcasts) or the result of an unrelated command keep
//!   flowing meanwhile; they do not come from the flight, the flight never waits on them, and
//!   the deadlocks the guarantee exists for (supabase-js#2344, auth-js#762) are auth-state
//!   callbacks run inside the lock; (e) at the end of a schedule, open tabs holding different
//!   sessions ([`liveness`]); (f) a refresh answer written to storage over anything but the
//!   session it was refreshed from (or itself) — another actor wrote meanwhile, and the
//!   commit guard must discard the answer (tallied apart as [`Checks::g8_commit_race`] when
//!   the guard's read did show the refreshed session and another tab wrote between that read
//!   and the commit — what sign-ins did before every session write took the lock).
//!
//! Liveness at the end of every schedule ([`liveness`]) is counted under the guarantee whose
//! promise it completes: a wanted channel still recovering is G6, one joined with an old
//! token is G3, one never joined again is G2 ("joins wait and then go out"), diverging tabs
//! are G8.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::{self, Frame, Payload, Side};
use authwire_wire::json;
use authwire_wire::jwt;
use authwire_wire::realtime::parse_join;

use super::client_endpoint::ClientEndpoint;
use super::gotrue::{GoTrueHandle, RefreshOutcome};
use super::rt_server::{ClientIdx, ModelRealtime};
use authwire_core::client::Client;
use authwire_core::config::ApikeyMode;
use authwire_core::io::{AppEvent, ChannelId, Input, LockOp, Output, RequestId, StorageOp, SubscribeStatus};
use authwire_core::realtime::channel::ChannelState;
use authwire_core::realtime::ConnectionState;
use authwire_core::time::{Instant, Now};
use authwire_wire::url::decode_component;

/// The core's GoTrue request timeout (`Client::new` sets 10 s): after it a presentation is no
/// longer outstanding.
pub const REQUEST_TIMEOUT_MS: u64 = 10_000;

/// The `by` field the schedule puts in its broadcast and presence payloads: the user signed
/// in when the push was made (`none` without a session).
fn push_author(p: &Payload) -> Option<String> {
    let text = match p {
        Payload::Json(j) => {
            let inner = json::field(j, "payload").ok().flatten()?;
            String::from(inner)
        }
        Payload::UserBroadcast(ub) => match &ub.data {
            frame::UserData::Json(j) => j.clone(),
            frame::UserData::Binary(_) => return None,
        },
        _ => return None,
    };
    json::field(&text, "by").ok().flatten().and_then(json::str_of)
}

/// The tab's current token (see the module docs).
pub fn current_token(c: &Client) -> Option<&str> {
    match c.auth().session() {
        Some(s) => Some(s.access_token.as_str()),
        None => c.config().key_is_jwt.then_some(c.config().key.as_str()),
    }
}

fn exp_of(token: &str) -> Option<i64> {
    jwt::decode(token).ok().and_then(|c| c.exp)
}

fn short(t: Option<&str>) -> String {
    match t {
        None => String::from("none"),
        Some(t) if t.starts_with("sb_") => String::from(t),
        Some(t) => {
            let sig = t.rsplit('.').next().unwrap_or("");
            let sig = jwt::b64url_decode(sig).and_then(|b| String::from_utf8(b).ok()).unwrap_or_default();
            match (jwt::decode(t).ok(), sig.is_empty()) {
                (Some(c), false) => format!("jwt[{sig} exp={}]", c.exp.unwrap_or(0)),
                (Some(c), true) => format!("jwt[exp={}]", c.exp.unwrap_or(0)),
                (None, _) => format!("opaque[{}]", t.len()),
            }
        }
    }
}

#[derive(Debug, Default)]
struct Stale {
    since: Option<Instant>,
    reported: bool,
}

impl Stale {
    /// Updates with the condition at `now`; `true` when it just exceeded `bound`.
    fn update(&mut self, cond: bool, now: Instant, bound: u64) -> bool {
        if !cond {
            *self = Stale::default();
            return false;
        }
        let since = *self.since.get_or_insert(now);
        if !self.reported && now.since(since) > bound {
            self.reported = true;
            return true;
        }
        false
    }
}

/// What the checkers remember about one tab's current page.
#[derive(Debug, Default)]
struct TabState {
    /// Locks granted and not released (the refresh and write locks).
    locks: Vec<RequestId>,
    /// Requests for `spent:` locks, which mark rotated tokens and may be held for long.
    spent: Vec<RequestId>,
    /// (world connection, topic) → the last token sent on it (join or `access_token`).
    sent: BTreeMap<(u32, String), Option<String>>,
    /// The last status the app saw per channel.
    status: BTreeMap<ChannelId, SubscribeStatus>,
    /// Refresh requests in flight: id, presented token, sent at, without the lock.
    refreshes: Vec<(RequestId, String, Instant, bool)>,
    /// The current flight's lock wait timed out (it goes on without the lock).
    lockless: bool,
    /// The refresh token in storage when the tab last read the session key.
    read_rt: Option<String>,
    g3: BTreeMap<String, Stale>,
    g5: BTreeMap<(u32, String), Stale>,
    /// The session id the tab held before its current input or command.
    sid: Option<String>,
    /// The tab held a session at the last sweep.
    had_session: bool,
    /// Private channels the tab had when it lost its session, and when.
    signed_out_private: Vec<(ChannelId, Instant, bool)>,
}

/// The violation counters and the state the checkers need.
#[derive(Debug)]
pub struct Checks {
    /// The auth server (for presentations and token lineage).
    pub gotrue: GoTrueHandle,
    /// Violations per guarantee (index 0 is G1).
    pub counts: [u32; 8],
    /// Stalls of the virtual clock (see `schedule::Report::stalls`).
    pub stalls: u32,
    /// G8 (a) violations involving a flight that went on without the lock after its wait
    /// timed out (also counted in `counts[7]`).
    pub g8_lock_timeout: u32,
    /// G8 (f) violations where the tab's commit-guard read did show the session it refreshed
    /// and another tab wrote between that read and the commit (also counted in `counts[7]`).
    pub g8_commit_race: u32,
    /// The first violation, described.
    pub first: Option<String>,
    /// The first few violations, described (up to [`Checks::keep`]).
    pub messages: Vec<String>,
    /// How many violation messages to keep.
    pub keep: usize,
    /// A trace of every input and output (for verbose replays), when `Some`.
    pub trace: Option<Vec<String>>,
    /// The staleness bound B in ms.
    pub bound_ms: u64,
    tabs: Vec<TabState>,
    superseded: BTreeSet<String>,
    /// Sessions (ids) whose storage entry a sign-out removed.
    ended: BTreeSet<String>,
    /// The refresh token of the session in the browser's storage, as the tabs' writes left it.
    stored_rt: Option<String>,
    /// Database broadcasts and what each app channel got of them (duplicates, silent losses).
    pub lost: crate::lost::Ledger,
}

impl Checks {
    /// Checkers for `tabs` tabs with staleness bound `bound_ms`.
    pub fn new(gotrue: GoTrueHandle, tabs: usize, bound_ms: u64) -> Self {
        Checks {
            gotrue,
            counts: [0; 8],
            stalls: 0,
            g8_lock_timeout: 0,
            g8_commit_race: 0,
            first: None,
            messages: Vec::new(),
            keep: 1,
            trace: None,
            bound_ms,
            tabs: (0..tabs).map(|_| TabState::default()).collect(),
            superseded: BTreeSet::new(),
            ended: BTreeSet::new(),
            stored_rt: None,
            lost: crate::lost::Ledger::default(),
        }
    }

    /// Total violations.
    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// Records a violation of guarantee `g` (1–8).
    pub fn violate(&mut self, g: usize, at: Instant, tab: Option<ClientIdx>, what: String) {
        self.counts[g - 1] += 1;
        let msg = match tab {
            Some(t) => format!("G{g} at {} ms, tab {t}: {what}", at.as_millis()),
            None => format!("G{g} at {} ms: {what}", at.as_millis()),
        };
        self.note(at, msg);
    }

    /// Keeps a described violation (the first, the trace, the kept messages).
    pub fn note(&mut self, at: Instant, msg: String) {
        let msg = if msg.starts_with('G') { msg } else { format!("at {} ms: {msg}", at.as_millis()) };
        if let Some(tr) = &mut self.trace {
            tr.push(format!("!!! {msg}"));
        }
        if self.first.is_none() {
            self.first = Some(msg.clone());
        }
        if self.messages.len() < self.keep {
            self.messages.push(msg);
        }
    }

    /// A tab's page went away or a new one loaded: forget what belonged to the old page.
    pub fn reset_tab(&mut self, tab: ClientIdx) {
        self.tabs[tab] = TabState::default();
        self.lost.reset_tab(tab);
    }

    /// The last status the app saw for `ch` on `tab`'s current page.
    pub fn status(&self, tab: ClientIdx, ch: ChannelId) -> Option<SubscribeStatus> {
        self.tabs[tab].status.get(&ch).copied()
    }

    pub(crate) fn tr(&mut self, line: impl FnOnce() -> String) {
        if let Some(t) = &mut self.trace {
            let mut l = line();
            if l.len() > 400 {
                let mut cut = 400;
                while !l.is_char_boundary(cut) {
                    cut -= 1;
                }
                l.truncate(cut);
                l.push('…');
            }
            t.push(l);
        }
    }

    /// The session in storage at the start (its JSON), if any.
    pub fn initial_storage(&mut self, stored: Option<&str>) {
        self.stored_rt = stored.and_then(|v| json::field(v, "refresh_token").ok().flatten()).and_then(json::str_of);
    }

    /// Called before an input or a command reaches `tab`'s core: what it holds now.
    pub fn before(&mut self, tab: ClientIdx, c: &Client) {
        self.tabs[tab].sid = c.auth().session().and_then(|s| s.session_id.clone());
    }

    /// An input about to reach `tab`'s core.
    pub fn on_input(&mut self, tab: ClientIdx, input: &Input, local: Now) {
        self.tr(|| format!("{:>8} tab{tab} <- {input:?}", local.mono.as_millis()));
        let t = &mut self.tabs[tab];
        match input {
            Input::LockGranted { id } | Input::LockUnavailable { id } if t.spent.contains(id) => {}
            Input::LockGranted { id } => {
                t.locks.push(*id);
                t.lockless = false;
            }
            Input::LockUnavailable { .. } => t.lockless = true,
            Input::HttpResponse { id, .. } | Input::HttpFailed { id, .. } => t.refreshes.retain(|r| r.0 != *id),
            _ => {}
        }
    }

    /// An output leaving `tab`'s core, with the core as it is now (`local`: the tab's clock,
    /// `server`: the servers').
    pub fn on_output(&mut self, tab: ClientIdx, c: &Client, local: Now, server: Now, out: &Output) {
        self.tr(|| format!("{:>8} tab{tab} -> {out:?}", local.mono.as_millis()));
        let at = local.mono;
        match out {
            Output::Connect { url, .. } => self.check_connect(tab, c, local, server, url),
            Output::Send { conn, msg } => {
                if let Ok(f) = frame::decode(msg, c.config().realtime.vsn, Side::Client) {
                    self.check_frame(tab, c, local, server, conn.0, &f);
                }
            }
            Output::Lock { op: LockOp::Release { of }, .. } => {
                self.tabs[tab].locks.retain(|l| l != of);
                self.tabs[tab].spent.retain(|l| l != of);
            }
            Output::Lock { id, op: LockOp::Acquire { name, .. } } if name.starts_with("spent:") => {
                self.tabs[tab].spent.push(*id);
            }
            Output::Lock { op: LockOp::Acquire { .. }, .. } => self.tabs[tab].lockless = false,
            Output::Event(e) => {
                self.lost.on_event(tab, c, local, server, e);
                if !self.tabs[tab].locks.is_empty() && matches!(e, AppEvent::AuthChange { .. }) {
                    let what = format!("an app event while the refresh lock is held: {}", event_name(e));
                    self.violate(8, at, Some(tab), what);
                }
                if let AppEvent::ChannelStatus { channel, status, error } = e {
                    self.tabs[tab].status.insert(*channel, *status);
                    if *status != SubscribeStatus::Recovering
                        && error.as_ref().is_some_and(|e| e.code() == "token_expired")
                    {
                        let what = format!("channel {} saw {} with token_expired", channel.0, status.as_str());
                        self.violate(6, at, Some(tab), what);
                    }
                }
            }
            Output::Http { id, request } if request.url.contains("grant_type=refresh_token") => {
                let token = request
                    .body
                    .as_deref()
                    .and_then(|b| json::field(b, "refresh_token").ok().flatten())
                    .and_then(json::str_of);
                if let Some(token) = token {
                    self.check_presentation(tab, at, *id, token);
                }
            }
            Output::Storage { op: StorageOp::Set(key, value), .. } => {
                if !key.ends_with("-code-verifier") {
                    let sid = json::field(value, "access_token")
                        .ok()
                        .flatten()
                        .and_then(json::str_of)
                        .and_then(|t| jwt::decode(&t).ok())
                        .and_then(|c| c.session_id);
                    if let Some(sid) = sid.filter(|s| self.ended.contains(s)) {
                        let what = format!("session {sid}, removed from storage by a sign-out, was written back");
                        self.violate(5, at, Some(tab), what);
                    }
                    self.check_commit(tab, at, value);
                }
                self.publish(value);
            }
            Output::Storage { op: StorageOp::Get(key), .. } if !key.ends_with("-code-verifier") => {
                self.tabs[tab].read_rt = self.stored_rt.clone();
            }
            Output::Storage { op: StorageOp::Remove(key), .. } if !key.ends_with("-code-verifier") => {
                self.stored_rt = None;
                if let Some(sid) = self.tabs[tab].sid.clone() {
                    self.ended.insert(sid);
                }
            }
            Output::TabPost(data) => {
                if let Some(s) = json::field(data, "session").ok().flatten() {
                    let s = String::from(s);
                    self.publish(&s);
                }
            }
            _ => {}
        }
    }

    fn check_connect(&mut self, tab: ClientIdx, c: &Client, local: Now, server: Now, url: &str) {
        let at = local.mono;
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let apikey = query.split('&').find_map(|p| p.strip_prefix("apikey=")).map(decode_component).unwrap_or_default();
        self.check_exp(4, tab, at, server, &apikey, "the connect apikey");
        let cfg = c.config();
        let session = c.auth().session();
        let expected = match cfg.apikey_mode {
            ApikeyMode::Project => Some(cfg.key.as_str()),
            ApikeyMode::Session if !c.auth_ready(local) => None,
            ApikeyMode::Session => match session {
                Some(s) => Some(s.access_token.as_str()),
                None => cfg.key_is_jwt.then_some(cfg.key.as_str()),
            },
        };
        match expected {
            Some(e) if e == apikey => {}
            Some(e) => {
                let what = format!("connected with apikey {} instead of {}", short(Some(&apikey)), short(Some(e)));
                self.violate(7, at, Some(tab), what);
            }
            None => {
                let what = format!(
                    "connected with apikey {} in 'session' mode while it must not connect (ready={}, session={})",
                    short(Some(&apikey)),
                    c.auth_ready(local),
                    session.is_some()
                );
                self.violate(7, at, Some(tab), what);
            }
        }
    }

    fn check_exp(&mut self, g: usize, tab: ClientIdx, at: Instant, server: Now, token: &str, what: &str) {
        if let Some(exp) = exp_of(token) {
            if exp.saturating_mul(1000) <= server.wall.as_millis() as i64 {
                let ago = server.wall.as_millis() as i64 - exp * 1000;
                let what = format!("{what} carries {} which expired {ago} ms ago (server clock)", short(Some(token)));
                self.violate(g, at, Some(tab), what);
            }
        }
    }

    fn check_frame(&mut self, tab: ClientIdx, c: &Client, local: Now, server: Now, conn: u32, f: &Frame) {
        let at = local.mono;
        let ready = c.auth_ready(local);
        let current = current_token(c);
        match f.event.as_str() {
            "phx_join" => {
                let Payload::Json(p) = &f.payload else { return };
                let Ok(req) = parse_join(p) else { return };
                let sent = req.user_token.or(req.access_token);
                if !ready {
                    self.violate(2, at, Some(tab), format!("phx_join on {} while auth is unresolved", f.topic));
                }
                if sent.as_deref() != current {
                    let what = format!(
                        "phx_join on {} carries {} while the auth state holds {}",
                        f.topic,
                        short(sent.as_deref()),
                        short(current)
                    );
                    self.violate(1, at, Some(tab), what);
                }
                if let Some(t) = &sent {
                    self.check_exp(4, tab, at, server, t, "a phx_join");
                }
                self.tabs[tab].sent.insert((conn, f.topic.clone()), sent);
            }
            "access_token" => {
                let Payload::Json(p) = &f.payload else { return };
                let sent = json::field(p, "access_token").ok().flatten().and_then(json::str_of);
                if !ready {
                    self.violate(2, at, Some(tab), format!("access_token on {} while auth is unresolved", f.topic));
                }
                if let Some(t) = &sent {
                    self.check_exp(4, tab, at, server, t, "an access_token push");
                }
                self.tabs[tab].sent.insert((conn, f.topic.clone()), sent);
            }
            "phx_leave" => {
                self.tabs[tab].sent.remove(&(conn, f.topic.clone()));
            }
            "broadcast" | "presence" => {
                // G5 (e): the schedule's pushes carry the user who made them (`by`); one made by
                // a user who is no longer signed in must never go out (under the next user's
                // membership). A push made with no session (`none`) may go out after a sign-in.
                let by = push_author(&f.payload);
                let now_user = c.auth().session().and_then(|s| s.user_id.as_deref()).unwrap_or("none");
                if let Some(by) = by.filter(|b| b != "none" && b != now_user) {
                    let what = format!("{} on {} made by {by}, sent while {now_user} is signed in", f.event, f.topic);
                    self.violate(5, at, Some(tab), what);
                }
                let last = self.tabs[tab].sent.get(&(conn, f.topic.clone())).cloned();
                match last {
                    Some(last) if last.as_deref() == current => {}
                    Some(last) => {
                        let what = format!(
                            "{} on {} whose last token sent is {} while the auth state holds {}",
                            f.event,
                            f.topic,
                            short(last.as_deref()),
                            short(current)
                        );
                        self.violate(3, at, Some(tab), what);
                    }
                    None => {
                        let what = format!("{} on {} with no join on this connection", f.event, f.topic);
                        self.violate(3, at, Some(tab), what);
                    }
                }
            }
            _ => {}
        }
    }

    fn check_presentation(&mut self, tab: ClientIdx, at: Instant, id: RequestId, token: String) {
        let mut outstanding = None;
        for (i, t) in self.tabs.iter_mut().enumerate() {
            t.refreshes.retain(|r| at.since(r.2) < REQUEST_TIMEOUT_MS);
            if outstanding.is_none() {
                outstanding = t.refreshes.iter().find(|r| r.1 == token).map(|r| (i, r.2, r.3));
            }
        }
        let lockless = self.tabs[tab].lockless;
        if let Some((other, sent, other_lockless)) = outstanding {
            let degraded = lockless || other_lockless;
            let what = format!(
                "refresh token {token} presented while tab {other}'s presentation (sent at {} ms) is outstanding{}",
                sent.as_millis(),
                if degraded { " (one of them went on without the lock after its wait timed out)" } else { "" }
            );
            if degraded {
                self.g8_lock_timeout += 1;
            }
            self.violate(8, at, Some(tab), what);
        }
        if self.superseded.contains(&token) {
            let what = format!("refresh token {token} presented after its successor was published to the browser");
            self.violate(8, at, Some(tab), what);
        }
        self.tabs[tab].refreshes.push((id, token, at, lockless));
    }

    /// G8 (f): a refresh answer (a session whose refresh token has a parent) is written only
    /// over the session it was refreshed from (or itself): anything else in storage means
    /// another actor got there first, and the commit guard must discard the answer.
    fn check_commit(&mut self, tab: ClientIdx, at: Instant, value: &str) {
        let Some(rt) = json::field(value, "refresh_token").ok().flatten().and_then(json::str_of) else { return };
        let parent = self.gotrue.borrow().refresh_tokens.get(&rt).and_then(|t| t.parent.clone());
        let before = self.stored_rt.replace(rt.clone());
        if let Some(parent) = parent {
            if before.as_deref() != Some(parent.as_str()) && before.as_deref() != Some(rt.as_str()) {
                // The guard read showed the refreshed session: another tab wrote between that
                // read and this write (a write that did not take the lock).
                let race = self.tabs[tab].read_rt.as_deref() == Some(parent.as_str());
                if race {
                    self.g8_commit_race += 1;
                }
                let what = format!(
                    "refresh answer {rt} (from {parent}) written over {} in storage (commit guard{})",
                    before.as_deref().unwrap_or("nothing"),
                    if race { "; another tab wrote between its read and this write" } else { "" }
                );
                self.violate(8, at, Some(tab), what);
            }
        }
    }

    /// A session was published browser-wide: its refresh token's ancestors are superseded.
    fn publish(&mut self, stored: &str) {
        let Some(rt) = json::field(stored, "refresh_token").ok().flatten().and_then(json::str_of) else { return };
        let g = self.gotrue.borrow();
        let mut cur = g.refresh_tokens.get(&rt).and_then(|t| t.parent.clone());
        while let Some(p) = cur {
            if !self.superseded.insert(p.clone()) {
                break;
            }
            cur = g.refresh_tokens.get(&p).and_then(|t| t.parent.clone());
        }
    }

    /// After every world step: the bounded-staleness checks of G3 (b) and G5 (see the module
    /// docs). `reachable[i]` says whether tab `i` is alive and on the network.
    pub fn sweep(
        &mut self,
        now: Now,
        tabs: &[ClientEndpoint],
        server: &ModelRealtime<GoTrueHandle>,
        reachable: &[bool],
    ) {
        let bound = self.bound_ms;
        let mut found: Vec<(usize, ClientIdx, String)> = Vec::new();
        for (i, e) in tabs.iter().enumerate() {
            let st = &mut self.tabs[i];
            if !e.alive {
                st.g3.clear();
                st.g5.clear();
                continue;
            }
            let c = &e.client;
            let has_session = c.auth().session().is_some();
            // The client closes on its own, network or not.
            // G5 (c): the private channels a tab had when it lost its session are closed.
            if st.had_session && !has_session {
                for id in c.channel_ids() {
                    if c.channel_info(id).is_some_and(|i| i.private && i.state != ChannelState::Closed) {
                        st.signed_out_private.push((id, now.mono, false));
                    }
                }
            }
            st.had_session = has_session;
            if has_session {
                st.signed_out_private.clear();
            }
            for (id, since, reported) in &mut st.signed_out_private {
                // `Leaving`: the app unsubscribed it before; its leave is out, and the server-side
                // check covers the membership.
                let open =
                    c.channel_info(*id).filter(|i| !matches!(i.state, ChannelState::Closed | ChannelState::Leaving));
                if let Some(info) = open {
                    if !*reported && now.mono.since(*since) > bound {
                        *reported = true;
                        let what = format!(
                            "private {} still {} over {bound} ms after sign-out (not CLOSED)",
                            info.topic,
                            info.state.as_str()
                        );
                        found.push((5, i, what));
                    }
                }
            }
            st.signed_out_private
                .retain(|(id, _, _)| c.channel_info(*id).is_some_and(|i| i.state != ChannelState::Closed));
            if !reachable[i] {
                st.g3.clear();
                st.g5.clear();
                continue;
            }
            let local = e.local(now);
            // G3 (b).
            let mut seen3: Vec<String> = Vec::new();
            if c.auth_ready(local) && c.connection_state() == ConnectionState::Open {
                if let Some(sc) =
                    e.conn.and_then(|conn| server.conns.get(&super::rt_server::ConnKey { client: i, conn }))
                {
                    let current = current_token(c).unwrap_or(sc.apikey.as_str());
                    for id in c.channel_ids() {
                        let Some(info) = c.channel_info(id) else { continue };
                        if info.state != ChannelState::Joined {
                            continue;
                        }
                        let Some(sch) = sc.channels.get(&info.topic) else { continue };
                        let stale = sch.token.as_deref() != Some(current);
                        if stale {
                            let entry = st.g3.entry(info.topic.clone()).or_default();
                            if entry.update(true, now.mono, bound) {
                                found.push((
                                    3,
                                    i,
                                    format!(
                                        "{} joined with {} on the server for over {bound} ms while the tab holds {}",
                                        info.topic,
                                        short(sch.token.as_deref()),
                                        short(Some(current))
                                    ),
                                ));
                            }
                            seen3.push(info.topic);
                        }
                    }
                }
            }
            st.g3.retain(|k, _| seen3.contains(k));
            // G5.
            let user = c.auth().session().and_then(|s| s.user_id.as_deref());
            let mut seen5: Vec<(u32, String)> = Vec::new();
            for (key, sc) in server.conns.range(
                super::rt_server::ConnKey { client: i, conn: 0 }..=super::rt_server::ConnKey {
                    client: i,
                    conn: u32::MAX,
                },
            ) {
                for (topic, sch) in &sc.channels {
                    let sub = sch.info.as_ref().and_then(|x| x.sub.as_deref());
                    let other_user = sub.is_some() && sub != user;
                    let private_signed_out = sch.config.private && !has_session;
                    if other_user || private_signed_out {
                        let k = (key.conn, topic.clone());
                        if st.g5.entry(k.clone()).or_default().update(true, now.mono, bound) {
                            let what = if other_user {
                                format!(
                                    "{topic} still runs on the server with user {} claims for over {bound} ms (tab's user: {})",
                                    sub.unwrap_or(""),
                                    user.unwrap_or("none")
                                )
                            } else {
                                format!("private {topic} still joined on the server over {bound} ms after sign-out")
                            };
                            found.push((5, i, what));
                        }
                        seen5.push(k);
                    }
                }
            }
            st.g5.retain(|k, _| seen5.contains(k));
        }
        for (g, tab, what) in found {
            self.violate(g, now.mono, Some(tab), what);
        }
    }

    /// At the end of a schedule: G8 (c), one violation per family revocation.
    pub fn finish(&mut self, now: Now) {
        let revs: Vec<String> = self
            .gotrue
            .borrow()
            .presentations
            .iter()
            .filter(|p| p.outcome == RefreshOutcome::FamilyRevoked)
            .map(|p| format!("refresh token {} reused outside the interval: family revoked", p.token))
            .collect();
        for what in revs {
            self.violate(8, now.mono, None, what);
        }
        let before = self.lost.messages.len();
        self.lost.finish();
        let found: Vec<String> = self.lost.messages[before..].to_vec();
        for what in found {
            self.note(now.mono, format!("nothing lost: {what}"));
        }
    }
}

fn event_name(e: &AppEvent) -> String {
    match e {
        AppEvent::ChannelStatus { status, .. } => format!("ChannelStatus({})", status.as_str()),
        AppEvent::AuthChange { event, .. } => format!("AuthChange({})", event.as_str()),
        AppEvent::Done { .. } => String::from("Done"),
        AppEvent::PushDone { .. } => String::from("PushDone"),
        AppEvent::Heartbeat { .. } => String::from("Heartbeat"),
        _ => String::from("event"),
    }
}

/// A channel the application wants on a tab: its id on the current page and whether it is
/// private.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// The channel.
    pub id: ChannelId,
    /// `private`.
    pub private: bool,
}

/// The end-of-schedule liveness condition, after a quiet period: `Ok` when every open tab's
/// wanted channels (`wanted[i]`, minus those the app saw `CLOSED`, minus private ones while
/// the tab has no session, minus all of them when G7 forbids a socket: `'session'` mode, an
/// opaque key and no session) are joined on the client and on the server with the tab's current
/// token, and every open tab holds the same session (or none). `Err((g, what))` names the
/// first failure and the guarantee it is counted under (module docs).
pub fn liveness(
    now: Now,
    tabs: &[ClientEndpoint],
    server: &ModelRealtime<GoTrueHandle>,
    checks: &Checks,
    wanted: &[Vec<Wanted>],
) -> Result<(), (usize, String)> {
    let mut session: Option<(usize, Option<String>)> = None;
    for (i, e) in tabs.iter().enumerate() {
        if !e.alive {
            continue;
        }
        let c = &e.client;
        let rt = c.auth().session().map(|s| s.refresh_token.clone());
        match &session {
            None => session = Some((i, rt)),
            Some((j, other)) if *other != rt => {
                let what = format!(
                    "tabs {j} and {i} hold different sessions ({} vs {})",
                    other.as_deref().unwrap_or("none"),
                    rt.as_deref().unwrap_or("none")
                );
                return Err((8, what));
            }
            Some(_) => {}
        }
        let has_session = c.auth().session().is_some();
        // G7: 'session' mode with an opaque key and no session does not connect at all.
        let no_socket = c.config().apikey_mode == ApikeyMode::Session && !c.config().key_is_jwt && !has_session;
        let sc = e.conn.and_then(|conn| server.conns.get(&super::rt_server::ConnKey { client: i, conn }));
        for w in &wanted[i] {
            if checks.status(i, w.id) == Some(SubscribeStatus::Closed) || (w.private && !has_session) || no_socket {
                continue;
            }
            let Some(info) = c.channel_info(w.id) else { continue };
            if info.recovering || checks.status(i, w.id) == Some(SubscribeStatus::Recovering) {
                return Err((6, format!("tab {i}: {} is still recovering", info.topic)));
            }
            let joined = info.state == ChannelState::Joined && c.connection_state() == ConnectionState::Open;
            let server_token = sc.and_then(|sc| sc.channels.get(&info.topic).map(|ch| (ch.token.clone(), sc)));
            match (joined, server_token) {
                (true, Some((tok, sc))) => {
                    let current = current_token(c).unwrap_or(sc.apikey.as_str());
                    if tok.as_deref() != Some(current) || !c.auth_ready(e.local(now)) {
                        let what = format!(
                            "tab {i}: {} joined with {} while the tab holds {}",
                            info.topic,
                            short(tok.as_deref()),
                            short(Some(current))
                        );
                        return Err((3, what));
                    }
                }
                _ => {
                    let what = format!(
                        "tab {i}: {} is not joined (client state {}, socket {}, ready {})",
                        info.topic,
                        info.state.as_str(),
                        c.connection_state().as_str(),
                        c.auth_ready(e.local(now))
                    );
                    return Err((2, what));
                }
            }
        }
    }
    Ok(())
}
