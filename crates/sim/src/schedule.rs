//! Random schedules against the whole client: several tabs of one browser (shared storage,
//! Web Locks, BroadcastChannel) running full [`Client`]s against the model GoTrue and the
//! model Realtime server on one virtual clock, with the property checkers of
//! [`super::checks`] watching every output.
//!
//! A schedule is a list of [`Step`]s (application commands, server faults, network faults,
//! clock and lifecycle events, waits). [`random_schedule`] draws one from a seed;
//! [`run`] plays it in the world that the same seed configures ([`SimConfig::from_seed`]:
//! 2–3 tabs, token lifetimes 10–60 s, latency 5–50 ms, `apikey` mode, `vsn`, an opaque or JWT
//! project key, gateway or bare Realtime, a stored session at start, clock skew), then
//! restores every fault, runs a quiet period and checks liveness. The result is a [`Report`]
//! with the violations per guarantee.
//!
//! Durations: a fault with a length (heartbeat loss, offline, Realtime down) starts at its
//! step and ends on its own while later steps run. A sleep is instantaneous on the device:
//! its monotonic clock stands still (so do its timers and lock waits) while the wall clock
//! and the servers move on, and its sockets are dead on wake. A tab's network cut
//! (blackhole, offline) kills its server-side sockets silently when it ends: frames lost on a
//! live TCP connection cannot happen, so the model treats the socket as dead and lets the
//! client find out (heartbeat deadline, wake probe).

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use authwire_wire::frame::{UserData, Vsn};

use super::browser::ModelBrowser;
use super::checks::{liveness, Checks, Wanted};
use super::client_endpoint::ClientEndpoint;
use super::gotrue::{error_body, GoTrueConfig, GoTrueHandle, ModelGoTrue, RouteMatch};
use super::rt_server::{ClientIdx, ConnKey, ModelRealtime};
use super::services::AuthServices;
use super::world::{Faults, World};
use authwire_core::auth::session::Session;
use authwire_core::client::Client;
use authwire_core::config::{ApikeyMode, ClientConfig};
use authwire_core::io::{Input, SubscribeStatus};
use authwire_core::realtime::ChannelOptions;
use authwire_core::rng::Rng;
use authwire_core::time::{Instant, Now, UnixTime};

/// The world's wall clock at the start (2027-01-15).
pub const T0_MS: u64 = 1_800_000_000_000;
/// The project URL the tabs use.
pub const URL: &str = "http://127.0.0.1:54321";
/// The session's storage key for [`URL`].
pub const STORAGE_KEY: &str = "sb-127-auth-token";
/// Users the schedules sign in as.
pub const USERS: usize = 3;
/// The quiet period before the liveness check: longer than the longest refresh backoff
/// (60 s after 429s), the reconnect and rejoin backoffs and a token lifetime.
pub const QUIET_MS: u64 = 75_000;
/// How long liveness may take to hold after the quiet period (a refresh or a rejoin may be
/// under way at that moment).
pub const SETTLE_MS: u64 = 15_000;
/// World steps at one instant after which the clock is declared stuck.
pub const STALL_STEPS: u32 = 10_000;

/// `signOut({ scope })`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Scope {
    /// This session only.
    Local,
    /// Every session of the user.
    Global,
    /// The user's other sessions; this one stays.
    Others,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Local => "local",
            Scope::Global => "global",
            Scope::Others => "others",
        }
    }
}

/// How the next refresh grants fail (answered before the model sees them: nothing rotates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Fail {
    /// 500 (retryable).
    Http500,
    /// 503 with an HTML body (retryable).
    Http503,
    /// 429 (retryable, longer backoff).
    TooMany,
    /// 400 `refresh_token_not_found` (fatal).
    NotFound,
    /// 400 `refresh_token_already_used` (fatal).
    AlreadyUsed,
    /// 400 `session_expired` (fatal).
    SessionExpired,
}

impl Fail {
    fn response(self) -> (u16, String) {
        match self {
            Fail::Http500 => (500, error_body("unexpected_failure", "Internal Server Error")),
            Fail::Http503 => (503, String::from("<html><body>503 Service Unavailable</body></html>")),
            Fail::TooMany => (429, error_body("over_request_rate_limit", "Request rate limit reached")),
            Fail::NotFound => {
                (400, error_body("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"))
            }
            Fail::AlreadyUsed => (400, error_body("refresh_token_already_used", "Invalid Refresh Token: Already Used")),
            Fail::SessionExpired => (400, error_body("session_expired", "Session Expired")),
        }
    }
}

/// One step of a schedule. Tab and channel numbers are taken modulo what exists; a command
/// for a tab whose page is gone (or asleep) is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Step {
    /// `signInWithPassword` as user `user`.
    SignIn {
        /// The tab.
        tab: u8,
        /// The user (0..USERS).
        user: u8,
    },
    /// `signInWithPassword` as the next user after the tab's current one (a user switch).
    SwitchUser {
        /// The tab.
        tab: u8,
    },
    /// `signOut({ scope })`.
    SignOut {
        /// The tab.
        tab: u8,
        /// The scope.
        scope: Scope,
    },
    /// `channel(name).subscribe()`: public `room<chan>` or private `priv<chan>`.
    Subscribe {
        /// The tab.
        tab: u8,
        /// Channel number (0..3).
        chan: u8,
        /// Private channel.
        private: bool,
    },
    /// `removeChannel` of the tab's channel number `chan` (public or private).
    Unsubscribe {
        /// The tab.
        tab: u8,
        /// Channel number.
        chan: u8,
    },
    /// `channel.send({type:'broadcast'})` on channel number `chan`.
    Broadcast {
        /// The tab.
        tab: u8,
        /// Channel number.
        chan: u8,
    },
    /// `channel.track(...)` on channel number `chan`.
    Track {
        /// The tab.
        tab: u8,
        /// Channel number.
        chan: u8,
    },
    /// `refreshSession()` now.
    RefreshNow {
        /// The tab.
        tab: u8,
    },
    /// The next `count` refresh grants fail with `fail`.
    RefreshFail {
        /// How.
        fail: Fail,
        /// How many.
        count: u8,
    },
    /// The next refresh grant's response is held back `ms`.
    RefreshSlow {
        /// The delay.
        ms: u32,
    },
    /// The next refresh grant is processed but its response is lost.
    RefreshDrop,
    /// The server drops the tab's sockets (close 1006).
    SocketDrop {
        /// The tab.
        tab: u8,
    },
    /// The server crashes the tab's channel `chan` (`phx_error`).
    ServerError {
        /// The tab.
        tab: u8,
        /// Channel number.
        chan: u8,
    },
    /// The server ends the tab's channel `chan` with "Token has expired" and `phx_close` (an
    /// early expiry, as the devserver's fault does), if a user's token runs it.
    ServerExpiry {
        /// The tab.
        tab: u8,
        /// Channel number.
        chan: u8,
    },
    /// The tab's socket traffic is lost for `secs` (a half-open socket); the socket is dead
    /// afterwards.
    HeartbeatLoss {
        /// The tab.
        tab: u8,
        /// How long.
        secs: u8,
    },
    /// The machine's wall clock jumps forward.
    ClockJump {
        /// By how much.
        secs: u16,
    },
    /// The device sleeps `secs`: its clocks stop, its sockets die, the servers' clock moves
    /// on; then `Wake`.
    Sleep {
        /// How long.
        secs: u16,
    },
    /// The browser is offline for `secs` (fetches fail, sockets dead, `offline`/`online`).
    Offline {
        /// How long.
        secs: u8,
    },
    /// The Realtime server refuses handshakes for `secs`.
    RealtimeDown {
        /// How long.
        secs: u8,
    },
    /// The tab's page crashes.
    Crash {
        /// The tab.
        tab: u8,
    },
    /// A new page loads in a crashed tab (it starts and subscribes the app's channels again).
    Reopen {
        /// The tab.
        tab: u8,
    },
    /// Time passes.
    Wait {
        /// How long.
        ms: u32,
    },
}

/// The world a seed configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Tabs (2–3), all in one browser.
    pub tabs: usize,
    /// Access-token lifetime (10–60 s).
    pub ttl_s: u64,
    /// One-way latency of sockets and HTTP (5–50 ms).
    pub latency_ms: u64,
    /// The socket's `apikey` mode.
    pub apikey_mode: ApikeyMode,
    /// The serializer.
    pub vsn: Vsn,
    /// The project key is the legacy anon JWT (else the opaque publishable key).
    pub key_is_jwt: bool,
    /// The Realtime server sits behind the API gateway (maps the publishable key), else bare.
    pub gateway: bool,
    /// The Realtime server refuses tokens of ended sessions (the devserver's default).
    pub strict_sessions: bool,
    /// GoTrue's refresh-token reuse interval.
    pub reuse_interval_ms: u64,
    /// The browser's wall-clock skew at the start.
    pub skew_ms: i64,
    /// A session for user `.0` in storage at the start, issued `.1` seconds before.
    pub stored: Option<(usize, u64)>,
}

impl SimConfig {
    /// The configuration seed `seed` gives (the same for [`random_schedule`] and [`run`]).
    pub fn from_seed(seed: u64) -> SimConfig {
        let mut r = Rng::new(seed ^ 0xC0F1_6000_0000_0001);
        let tabs = 2 + r.up_to(1) as usize;
        let ttl_s = 10 + r.up_to(50);
        let latency_ms = 5 + r.up_to(45);
        let apikey_mode = if r.up_to(2) == 0 { ApikeyMode::Session } else { ApikeyMode::Project };
        let vsn = if r.up_to(1) == 0 { Vsn::V1 } else { Vsn::V2 };
        let key_is_jwt = r.up_to(1) == 0;
        // A bare Realtime server only makes sense when the socket does not need the gateway
        // to map an opaque project key.
        let gateway = apikey_mode == ApikeyMode::Project || r.up_to(1) == 0;
        let strict_sessions = r.up_to(3) != 0;
        let reuse_interval_ms = [0, 2_000, 10_000][r.up_to(2) as usize];
        let skew_ms = match r.up_to(3) {
            0 => r.up_to(240_000) as i64 - 120_000,
            _ => 0,
        };
        let stored = match r.up_to(2) {
            0 => Some((r.up_to(USERS as u64 - 1) as usize, r.up_to(2 * ttl_s))),
            _ => None,
        };
        SimConfig {
            tabs,
            ttl_s,
            latency_ms,
            apikey_mode,
            vsn,
            key_is_jwt,
            gateway,
            strict_sessions,
            reuse_interval_ms,
            skew_ms,
            stored,
        }
    }

    /// The staleness bound B of the checkers: 2 × latency + 100 ms.
    pub fn bound_ms(&self) -> u64 {
        2 * self.latency_ms + 100
    }
}

/// A random schedule of about 50 steps for `seed`.
pub fn random_schedule(seed: u64) -> Vec<Step> {
    let cfg = SimConfig::from_seed(seed);
    let mut r = Rng::new(seed ^ 0x5C8E_D01E_0000_0002);
    let tabs = cfg.tabs as u64;
    let n = 40 + r.up_to(20) as usize;
    let mut steps = Vec::with_capacity(n);
    for _ in 0..n {
        let tab = r.up_to(tabs - 1) as u8;
        let chan = r.up_to(2) as u8;
        let roll = r.up_to(999);
        let step = match roll {
            0..=299 => Step::Wait {
                ms: match r.up_to(9) {
                    0 => 3_000 + r.up_to(17_000) as u32,
                    1..=3 => r.up_to(50) as u32,
                    _ => r.up_to(3_000) as u32,
                },
            },
            300..=369 => Step::SignIn { tab, user: r.up_to(USERS as u64 - 1) as u8 },
            370..=399 => Step::SwitchUser { tab },
            400..=439 => Step::SignOut {
                tab,
                scope: match r.up_to(19) {
                    0..=9 => Scope::Local,
                    10..=16 => Scope::Global,
                    _ => Scope::Others,
                },
            },
            440..=559 => Step::Subscribe { tab, chan, private: r.up_to(2) == 0 },
            560..=589 => Step::Unsubscribe { tab, chan },
            590..=649 => Step::Broadcast { tab, chan },
            650..=669 => Step::Track { tab, chan },
            670..=709 => Step::RefreshNow { tab },
            710..=749 => Step::RefreshFail {
                fail: match r.up_to(19) {
                    0..=7 => Fail::Http500,
                    8..=10 => Fail::Http503,
                    11..=15 => Fail::TooMany,
                    16 => Fail::NotFound,
                    17 => Fail::AlreadyUsed,
                    _ => Fail::SessionExpired,
                },
                count: 1 + r.up_to(3) as u8,
            },
            750..=769 => Step::RefreshSlow { ms: 100 + r.up_to(14_900) as u32 },
            770..=789 => Step::RefreshDrop,
            790..=819 => Step::SocketDrop { tab },
            820..=839 => Step::ServerError { tab, chan },
            840..=859 => Step::ServerExpiry { tab, chan },
            860..=879 => Step::HeartbeatLoss { tab, secs: 3 + r.up_to(67) as u8 },
            880..=899 => Step::ClockJump { secs: 1 + r.up_to(299) as u16 },
            900..=924 => Step::Sleep { secs: 5 + r.up_to(195) as u16 },
            925..=939 => Step::Offline { secs: 1 + r.up_to(29) as u8 },
            940..=954 => Step::RealtimeDown { secs: 1 + r.up_to(19) as u8 },
            955..=974 => Step::Crash { tab },
            _ => Step::Reopen { tab },
        };
        steps.push(step);
    }
    steps
}

/// Shrinks a failing schedule: drops chunks of steps (halves, quarters, … single steps) and
/// shortens waits and fault durations while `fails` still holds, so what remains is the
/// sequence that matters. `fails` must hold for `steps`.
pub fn minimize(steps: &[Step], fails: impl Fn(&[Step]) -> bool) -> Vec<Step> {
    let mut cur: Vec<Step> = steps.to_vec();
    let mut chunk = cur.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < cur.len() {
            let mut cand = cur.clone();
            cand.drain(i..(i + chunk).min(cur.len()));
            if fails(&cand) {
                cur = cand;
            } else {
                i += chunk;
            }
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    for i in 0..cur.len() {
        loop {
            let shorter = match cur[i] {
                Step::Wait { ms } if ms > 1 => Step::Wait { ms: ms / 2 },
                Step::Sleep { secs } if secs > 1 => Step::Sleep { secs: secs / 2 },
                Step::HeartbeatLoss { tab, secs } if secs > 1 => Step::HeartbeatLoss { tab, secs: secs / 2 },
                Step::Offline { secs } if secs > 1 => Step::Offline { secs: secs / 2 },
                _ => break,
            };
            let mut cand = cur.clone();
            cand[i] = shorter;
            if fails(&cand) {
                cur = cand;
            } else {
                break;
            }
        }
    }
    cur
}

/// What a schedule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Violations per guarantee (index 0 is G1).
    pub violations_by_g: [u32; 8],
    /// Stalls: the virtual clock could not advance because a core kept a timer due at `now`
    /// (a busy loop in a browser). Not a guarantee, but a bug; counted in [`Report::total`].
    pub stalls: u32,
    /// Of the G8 violations, presentations made by or alongside a flight that went on without
    /// the lock after its wait timed out (the design's degraded mode; see `checks`).
    pub g8_lock_timeout: u32,
    /// Of the G8 violations, refresh commits that overwrote a session another tab wrote
    /// between the commit guard's read and the commit (see `checks`).
    pub g8_commit_race: u32,
    /// Database broadcasts delivered twice to one app channel (see `lost`).
    pub duplicates: u32,
    /// Database broadcasts an app channel never got, inside no gap it reported (see `lost`).
    pub unreported: u32,
    /// The first violation, described.
    pub first_violation: Option<String>,
}

impl Report {
    /// Violations summed over G1–G8, plus stalls, duplicates and unreported losses.
    pub fn total(&self) -> u32 {
        self.violations_by_g.iter().sum::<u32>() + self.stalls + self.duplicates + self.unreported
    }
}

/// Options of [`run_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Record a trace of every input and output.
    pub trace: bool,
    /// Keep this many violation messages (besides the first).
    pub keep: usize,
    /// Record every frame the Realtime server receives (`world.server.received`).
    pub record_frames: bool,
}

/// Plays `steps` in the world `seed` configures and checks G1–G8 (see the module docs).
pub fn run(seed: u64, steps: &[Step]) -> Report {
    run_with(seed, steps, RunOptions::default()).0
}

/// [`run`], returning the kept violation messages and the trace as well.
pub fn run_with(seed: u64, steps: &[Step], opts: RunOptions) -> (Report, Vec<String>, Vec<String>) {
    let mut sim = Sim::new(seed, opts);
    for s in steps {
        sim.step(*s);
    }
    sim.finish();
    let mut c = sim.checks.borrow_mut();
    let report = Report {
        violations_by_g: c.counts,
        stalls: c.stalls,
        g8_lock_timeout: c.g8_lock_timeout,
        g8_commit_race: c.g8_commit_race,
        duplicates: c.lost.duplicates,
        unreported: c.lost.unreported,
        first_violation: c.first.clone(),
    };
    let messages = core::mem::take(&mut c.messages);
    let trace = c.trace.take().unwrap_or_default();
    (report, messages, trace)
}

#[derive(Debug, Clone, Copy)]
struct AppChan {
    chan: u8,
    private: bool,
    id: authwire_core::io::ChannelId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Blackhole(ClientIdx),
    Offline,
    RealtimeUp,
    /// The database commits a broadcast (`realtime.send`), then again [`DB_EVERY_MS`] later.
    DbBroadcast,
}

/// How often the database commits a broadcast, each to the next of the six topics.
const DB_EVERY_MS: u64 = 2_000;

/// The world type of the simulation.
pub type SimWorld = World<ClientEndpoint, GoTrueHandle, AuthServices>;

/// A running simulation (what [`run`] drives; public for tests that script their own steps).
pub struct Sim {
    /// The configuration.
    pub cfg: SimConfig,
    /// The seed.
    pub seed: u64,
    /// The world.
    pub world: SimWorld,
    /// The checkers.
    pub checks: Rc<RefCell<Checks>>,
    client_cfg: ClientConfig,
    user_ids: Vec<String>,
    app: Vec<Vec<AppChan>>,
    blackhole: Vec<u32>,
    offline: u32,
    down: u32,
    ends: Vec<(u64, End)>,
    stalled: bool,
    /// Database broadcasts committed so far; they stop when the schedule ends.
    db_seq: u32,
    db_on: bool,
}

impl core::fmt::Debug for Sim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sim").field("seed", &self.seed).field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

fn email(u: usize) -> String {
    format!("u{u}@sim.test")
}

fn creds(u: usize) -> String {
    format!(r#"{{"email":"{}","password":"secret-{u}"}}"#, email(u))
}

impl Sim {
    /// The world for `seed`, with every tab started.
    pub fn new(seed: u64, opts: RunOptions) -> Sim {
        Sim::with_config(seed, SimConfig::from_seed(seed), opts)
    }

    /// The world `cfg` describes (seeded by `seed`), with every tab started.
    pub fn with_config(seed: u64, cfg: SimConfig, opts: RunOptions) -> Sim {
        let start = Now::new(0, T0_MS);
        let mut gt = ModelGoTrue::new(
            GoTrueConfig {
                token_ttl_s: cfg.ttl_s,
                reuse_interval_ms: cfg.reuse_interval_ms,
                ..GoTrueConfig::default()
            },
            seed ^ 0x6070_0000_0000_0003,
        );
        gt.judge_policy.gateway = cfg.gateway;
        gt.judge_policy.strict_sessions = cfg.strict_sessions;
        let user_ids: Vec<String> =
            (0..USERS).map(|u| gt.create_user(&email(u), &format!("secret-{u}"), start.wall)).collect();
        let key = String::from(if cfg.key_is_jwt { gt.anon_key() } else { gt.publishable_key() });
        let stored = cfg.stored.and_then(|(u, age)| {
            let issued = UnixTime::from_millis(start.wall.as_millis() - age * 1000);
            let body = gt.issue_session(&user_ids[u], issued)?;
            let local = UnixTime::from_millis(issued.as_millis().saturating_add_signed(cfg.skew_ms));
            Session::from_response(&body, local).map(|s| s.to_stored())
        });
        let gotrue = gt.shared();
        let mut browser = ModelBrowser::new(STORAGE_KEY, &(0..cfg.tabs).collect::<Vec<_>>());
        browser.set_skew_ms(cfg.skew_ms);
        if let Some(s) = &stored {
            browser.storage.insert(String::from(STORAGE_KEY), s.clone());
        }
        let mut client_cfg = ClientConfig::new(URL, &key).expect("valid config").with_vsn(cfg.vsn);
        client_cfg.apikey_mode = cfg.apikey_mode;
        let checks = Rc::new(RefCell::new(Checks::new(gotrue.clone(), cfg.tabs, cfg.bound_ms())));
        {
            let mut c = checks.borrow_mut();
            c.keep = opts.keep.max(1);
            c.initial_storage(stored.as_deref());
            if opts.trace {
                c.trace = Some(Vec::new());
            }
        }
        let skew = browser.skew_handle();
        let clients = (0..cfg.tabs)
            .map(|i| {
                let client = Client::new(client_cfg.clone(), page_seed(seed, i, 0));
                ClientEndpoint::new(i, client, Rc::clone(&skew), Rc::clone(&checks))
            })
            .collect();
        let mut services = AuthServices::new(gotrue.clone(), alloc::vec![browser]);
        services.latency_ms = cfg.latency_ms;
        services.record = false;
        let mut server = ModelRealtime::new(gotrue);
        server.record = opts.record_frames;
        let mut world = World::new(start, clients, server, services);
        world.latency_ms = cfg.latency_ms;
        let tabs = cfg.tabs;
        let mut sim = Sim {
            cfg,
            seed,
            world,
            checks,
            client_cfg,
            user_ids,
            app: (0..tabs).map(|_| Vec::new()).collect(),
            blackhole: alloc::vec![0; tabs],
            offline: 0,
            down: 0,
            ends: alloc::vec![(DB_EVERY_MS, End::DbBroadcast)],
            stalled: false,
            db_seq: 0,
            db_on: true,
        };
        for i in 0..tabs {
            sim.start_page(i);
        }
        sim
    }

    fn start_page(&mut self, tab: ClientIdx) {
        self.world.with(tab, |e, now| {
            e.cmd(now, |c, n| {
                c.start(None, n);
                c.add_auth_listener(n);
            })
        });
        let chans: Vec<AppChan> = core::mem::take(&mut self.app[tab]);
        for a in chans {
            self.subscribe(tab, a.chan, a.private);
        }
    }

    fn usable(&self, tab: ClientIdx) -> bool {
        self.world.clients[tab].alive
    }

    fn reachable(&self, tab: ClientIdx) -> bool {
        self.usable(tab) && self.blackhole[tab] == 0 && self.offline == 0
    }

    fn tab(&self, t: u8) -> ClientIdx {
        usize::from(t) % self.cfg.tabs
    }

    /// The user signed in on `tab` now (`none` without a session), put in pushes as `by`.
    fn author(&self, tab: ClientIdx) -> String {
        let c = &self.world.clients[tab].client;
        c.auth().session().and_then(|s| s.user_id.clone()).unwrap_or_else(|| String::from("none"))
    }

    fn cmd<R>(&mut self, tab: ClientIdx, f: impl FnOnce(&mut Client, Now) -> R) -> Option<R> {
        if !self.usable(tab) {
            return None;
        }
        Some(self.world.with(tab, |e, now| e.cmd(now, f)))
    }

    fn subscribe(&mut self, tab: ClientIdx, chan: u8, private: bool) {
        if self.app[tab].iter().any(|a| a.chan == chan) {
            return;
        }
        let name = if private { format!("priv{chan}") } else { format!("room{chan}") };
        let opts = ChannelOptions {
            private,
            broadcast_ack: chan == 1,
            presence_enabled: chan == 2,
            // As the JS shell does by default.
            replay_on_rejoin: true,
            ..ChannelOptions::default()
        };
        let id = self.cmd(tab, |c, n| {
            let id = c.channel(&name, opts).ok()?;
            c.subscribe(id, None, n).ok()?;
            Some(id)
        });
        if let Some(Some(id)) = id {
            self.app[tab].push(AppChan { chan, private, id });
        }
    }

    fn app_chan(&self, tab: ClientIdx, chan: u8) -> Option<AppChan> {
        self.app[tab].iter().find(|a| a.chan == chan).copied()
    }

    fn topic(&self, tab: ClientIdx, chan: u8) -> Option<(ConnKey, String)> {
        let a = self.app_chan(tab, chan)?;
        let e = &self.world.clients[tab];
        let topic = e.client.channel_info(a.id)?.topic;
        Some((ConnKey { client: tab, conn: e.conn? }, topic))
    }

    /// Closes the tab's server-side sockets without telling the client (a dead TCP
    /// connection the client has to discover).
    fn cut(&mut self, tab: ClientIdx) {
        let keys: Vec<ConnKey> = self.world.open.keys().copied().filter(|k| k.client == tab).collect();
        for key in keys {
            self.world.open.remove(&key);
            let sends = self.world.server.on_close(key);
            self.world.server_sends(sends);
        }
    }

    fn blackhole_on(&mut self, tab: ClientIdx) {
        self.blackhole[tab] += 1;
        self.world.faults.insert(tab, Faults { blackhole: true });
    }

    fn blackhole_off(&mut self, tab: ClientIdx) {
        self.blackhole[tab] = self.blackhole[tab].saturating_sub(1);
        if self.blackhole[tab] == 0 {
            self.world.faults.remove(&tab);
            self.cut(tab);
        }
    }

    fn end_at(&mut self, ms: u64, e: End) {
        let at = self.world.now.mono.as_millis() + ms;
        self.ends.push((at, e));
    }

    fn do_end(&mut self, e: End) {
        match e {
            End::Blackhole(t) => self.blackhole_off(t),
            End::Offline => {
                self.offline = self.offline.saturating_sub(1);
                if self.offline == 0 {
                    self.world.services.browsers[0].offline = false;
                }
                for t in 0..self.cfg.tabs {
                    self.blackhole_off(t);
                }
                if self.offline == 0 {
                    for t in 0..self.cfg.tabs {
                        if self.world.clients[t].alive {
                            self.world.input(t, Input::Online { online: true });
                        }
                    }
                }
            }
            End::RealtimeUp => {
                self.down = self.down.saturating_sub(1);
                self.world.server.down = self.down > 0;
            }
            End::DbBroadcast if self.db_on => {
                self.db_broadcast();
                self.end_at(DB_EVERY_MS, End::DbBroadcast);
            }
            End::DbBroadcast => {}
        }
    }

    /// `realtime.send(…, 'db', topic, private)` on the next of `room0..2` and `priv0..2`.
    fn db_broadcast(&mut self) {
        let n = self.db_seq;
        self.db_seq += 1;
        let private = (n / 3) % 2 == 0;
        let topic = format!("realtime:{}{}", if private { "priv" } else { "room" }, n % 3);
        let id = format!("m{n}");
        let now = self.world.now;
        let sends = self.world.server.db_broadcast(&topic, private, &id, now.wall);
        let to: Vec<ConnKey> = sends.iter().map(|s| s.to).collect();
        self.world.server_sends(sends);
        let mut c = self.checks.borrow_mut();
        c.tr(|| format!("{:>8} db: {id} on {topic} to {to:?}", now.mono.as_millis()));
        c.lost.commit(&topic, &id, now);
    }

    fn next_expiry(&self) -> Option<u64> {
        let wall = self.world.now.wall.as_millis();
        let mono = self.world.now.mono.as_millis();
        self.world
            .server
            .conns
            .values()
            .flat_map(|c| c.channels.values())
            .filter_map(|ch| ch.info.as_ref().map(|i| i.exp.saturating_mul(1000)))
            .min()
            .map(|exp| mono + exp.saturating_sub(wall))
    }

    fn after_step(&mut self) {
        let now = self.world.now;
        let sends = self.world.server.expire_tokens(now.wall);
        self.world.server_sends(sends);
        let reachable: Vec<bool> = (0..self.cfg.tabs).map(|t| self.reachable(t)).collect();
        self.checks.borrow_mut().sweep(now, &self.world.clients, &self.world.server, &reachable);
    }

    /// Lets `ms` of virtual time pass.
    pub fn advance(&mut self, ms: u64) {
        if self.stalled {
            return;
        }
        let target = self.world.now.mono.as_millis() + ms;
        loop {
            let mut stop = target;
            if let Some(t) = self.ends.iter().map(|e| e.0).min() {
                stop = stop.min(t);
            }
            if let Some(t) = self.next_expiry() {
                stop = stop.min(t.max(self.world.now.mono.as_millis()));
            }
            let limit = Instant::from_millis(stop);
            let mut same = 0u32;
            let mut at = self.world.now.mono;
            while self.world.step(limit) {
                self.after_step();
                if self.world.now.mono == at {
                    same += 1;
                    if same > STALL_STEPS {
                        self.stall();
                        return;
                    }
                } else {
                    (same, at) = (0, self.world.now.mono);
                }
            }
            self.after_step();
            let now = self.world.now.mono.as_millis();
            while let Some(i) = self.ends.iter().position(|e| e.0 <= now) {
                let (_, e) = self.ends.remove(i);
                self.do_end(e);
            }
            if now >= target {
                break;
            }
        }
    }

    /// The virtual clock cannot advance: some core keeps a timer due at `now` (or the world
    /// keeps delivering at `now`). Recorded, and the schedule stops here.
    fn stall(&mut self) {
        self.stalled = true;
        let now = self.world.now;
        let tabs: Vec<String> = self
            .world
            .clients
            .iter()
            .map(|e| {
                let auth = e.client.auth().poll_timeout().is_some_and(|t| t <= now.mono);
                let rt = e.client.realtime().poll_timeout().is_some_and(|t| t <= now.mono);
                format!("tab {}: auth timer due {auth}, realtime timer due {rt}", e.idx)
            })
            .collect();
        let mut c = self.checks.borrow_mut();
        c.stalls += 1;
        let what = format!("stall: the virtual clock cannot advance ({})", tabs.join("; "));
        c.note(now.mono, what);
    }

    /// Plays one step.
    pub fn step(&mut self, s: Step) {
        if self.stalled {
            return;
        }
        match s {
            Step::SignIn { tab, user } => {
                let t = self.tab(tab);
                let c = creds(usize::from(user) % USERS);
                self.cmd(t, |cl, n| cl.sign_in_with_password(&c, n));
            }
            Step::SwitchUser { tab } => {
                let t = self.tab(tab);
                let cur = self.world.clients[t].client.auth().session().and_then(|s| s.user_id.clone());
                let next = match cur.and_then(|u| self.user_ids.iter().position(|x| *x == u)) {
                    Some(i) => (i + 1) % USERS,
                    None => 0,
                };
                let c = creds(next);
                self.cmd(t, |cl, n| cl.sign_in_with_password(&c, n));
            }
            Step::SignOut { tab, scope } => {
                let t = self.tab(tab);
                self.cmd(t, |c, n| c.sign_out(scope.as_str(), n));
            }
            Step::Subscribe { tab, chan, private } => {
                let t = self.tab(tab);
                self.subscribe(t, chan % 3, private);
            }
            Step::Unsubscribe { tab, chan } => {
                let t = self.tab(tab);
                if let Some(a) = self.app_chan(t, chan % 3) {
                    if self.cmd(t, |c, n| c.remove_channel(a.id, n)).is_some() {
                        self.app[t].retain(|x| x.chan != a.chan);
                    }
                }
            }
            Step::Broadcast { tab, chan } => {
                let t = self.tab(tab);
                if let Some(a) = self.app_chan(t, chan % 3) {
                    // `by`: who made it, for the checkers (G5 e).
                    let by = self.author(t);
                    let data = UserData::Json(format!(r#"{{"n":1,"by":"{by}"}}"#));
                    self.cmd(t, |c, n| c.send_broadcast(a.id, "msg", data, n));
                }
            }
            Step::Track { tab, chan } => {
                let t = self.tab(tab);
                if let Some(a) = self.app_chan(t, chan % 3) {
                    let state = format!(r#"{{"online":true,"by":"{}"}}"#, self.author(t));
                    self.cmd(t, |c, n| c.track(a.id, &state, n));
                }
            }
            Step::RefreshNow { tab } => {
                let t = self.tab(tab);
                self.cmd(t, |c, n| c.refresh_session(None, n));
            }
            Step::RefreshFail { fail, count } => {
                let (status, body) = fail.response();
                self.world.services.server().fail_refreshes(u32::from(count), status, &body);
            }
            Step::RefreshSlow { ms } => {
                self.world.services.server().delay_next(RouteMatch::Grant("refresh_token"), 1, u64::from(ms));
            }
            Step::RefreshDrop => self.world.services.server().drop_next(RouteMatch::Grant("refresh_token"), 1),
            Step::SocketDrop { tab } => {
                let t = self.tab(tab);
                let keys: Vec<ConnKey> = self.world.open.keys().copied().filter(|k| k.client == t).collect();
                for k in keys {
                    self.world.server_close(k, 1006, "");
                }
            }
            Step::ServerError { tab, chan } => {
                let t = self.tab(tab);
                if let Some((key, topic)) = self.topic(t, chan % 3) {
                    let sends = self.world.server.crash(key, &topic);
                    self.world.server_sends(sends);
                }
            }
            Step::ServerExpiry { tab, chan } => {
                let t = self.tab(tab);
                // Only a user's token can expire early (the devserver's `expireTokens` fault is
                // per user); the project key's `exp` is decades away.
                let user_token = |sim: &Self, key: &ConnKey, topic: &str| {
                    let ch = sim.world.server.conns.get(key).and_then(|c| c.channels.get(topic));
                    ch.and_then(|c| c.info.as_ref()).is_some_and(|i| i.sub.is_some())
                };
                if let Some((key, topic)) = self.topic(t, chan % 3).filter(|(k, tp)| user_token(self, k, tp)) {
                    let mut out = Vec::new();
                    self.world.server.shutdown(key, &topic, "Token has expired 0 seconds ago", &mut out);
                    self.world.server_sends(out);
                }
            }
            Step::HeartbeatLoss { tab, secs } => {
                let t = self.tab(tab);
                self.blackhole_on(t);
                self.end_at(u64::from(secs) * 1000, End::Blackhole(t));
            }
            Step::ClockJump { secs } => {
                let b = &self.world.services.browsers[0];
                b.set_skew_ms(b.skew_ms() + i64::from(secs) * 1000);
            }
            Step::Sleep { secs } => self.sleep(u64::from(secs) * 1000),
            Step::Offline { secs } => {
                self.offline += 1;
                self.world.services.browsers[0].offline = true;
                for t in 0..self.cfg.tabs {
                    self.blackhole_on(t);
                    if self.usable(t) {
                        self.world.input(t, Input::Online { online: false });
                    }
                }
                self.end_at(u64::from(secs) * 1000, End::Offline);
            }
            Step::RealtimeDown { secs } => {
                self.down += 1;
                self.world.server.down = true;
                self.end_at(u64::from(secs) * 1000, End::RealtimeUp);
            }
            Step::Crash { tab } => {
                let t = self.tab(tab);
                if self.usable(t) {
                    let now = self.world.now;
                    self.world.services.crash_tab(t, now);
                    self.cut(t);
                    self.world.clients[t].crash();
                }
            }
            Step::Reopen { tab } => {
                let t = self.tab(tab);
                if !self.world.clients[t].alive {
                    self.reopen(t);
                }
            }
            Step::Wait { ms } => self.advance(u64::from(ms)),
        }
        // The checks see the state between steps at the same instant too.
        if !self.stalled {
            self.after_step();
        }
    }

    fn reopen(&mut self, t: ClientIdx) {
        let now = self.world.now;
        self.world.services.reopen_tab(t, now);
        let page = self.world.clients[t].page + 1;
        let seed = page_seed(self.seed, t, page);
        self.world.clients[t].reopen(self.client_cfg.clone(), seed);
        self.start_page(t);
    }

    /// The device sleeps: nothing on it runs and its monotonic clock stands still (no timer
    /// fires, no lock wait times out), its sockets die, and the servers' clock — the world's
    /// wall clock — moves `ms` ahead; then every page gets `Wake`.
    fn sleep(&mut self, ms: u64) {
        for t in 0..self.cfg.tabs {
            self.cut(t);
        }
        self.world.now.wall = UnixTime::from_millis(self.world.now.wall.as_millis() + ms);
        self.after_step();
        for t in 0..self.cfg.tabs {
            if self.usable(t) {
                self.world.input(t, Input::Wake);
            }
        }
    }

    /// Ends the schedule: reopens crashed tabs, lifts every fault, runs the quiet period and
    /// checks liveness (module docs of [`super::checks`]).
    pub fn finish(&mut self) {
        if self.stalled {
            return;
        }
        // No database broadcast after the schedule: what was committed must be settled by the
        // end of the quiet period.
        self.db_on = false;
        let ends: Vec<End> = self.ends.drain(..).map(|(_, e)| e).collect();
        for e in ends {
            self.do_end(e);
        }
        self.world.services.server().faults.clear();
        for t in 0..self.cfg.tabs {
            if !self.world.clients[t].alive {
                self.reopen(t);
            }
        }
        self.advance(QUIET_MS);
        let mut waited = 0;
        let mut last = None;
        while waited <= SETTLE_MS && !self.stalled {
            let wanted: Vec<Vec<Wanted>> =
                self.app.iter().map(|v| v.iter().map(|a| Wanted { id: a.id, private: a.private }).collect()).collect();
            let r = {
                let c = self.checks.borrow();
                liveness(self.world.now, &self.world.clients, &self.world.server, &c, &wanted)
            };
            match r {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e),
            }
            self.advance(100);
            waited += 100;
        }
        let now = self.world.now;
        let mut c = self.checks.borrow_mut();
        if let Some((g, what)) = last {
            c.violate(g, now.mono, None, format!("liveness: {what}"));
        }
        c.finish(now);
    }

    /// The app's channels on a tab that the app has not seen `CLOSED`.
    pub fn wanted(&self, tab: ClientIdx) -> Vec<authwire_core::io::ChannelId> {
        let c = self.checks.borrow();
        self.app[tab].iter().filter(|a| c.status(tab, a.id) != Some(SubscribeStatus::Closed)).map(|a| a.id).collect()
    }
}

fn page_seed(seed: u64, tab: ClientIdx, page: u32) -> u64 {
    let mut r = Rng::new(seed ^ ((tab as u64 + 1) << 40) ^ (u64::from(page) << 20));
    r.next_u64()
}
