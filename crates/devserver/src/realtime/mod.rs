//! The Realtime server: Supabase Realtime's WebSocket protocol (Phoenix channels, V1 and V2
//! serializers) on the devserver's PostgreSQL (`shared/reference/realtime-protocol.md`).
//!
//! Layout:
//! - [`handshake`]: the upgrade at `/realtime/v1/websocket` and `/socket/websocket`;
//! - [`socket`]: the connection task (frames, heartbeat, idle timeout, fan-out delivery);
//! - [`channel`]: join/leave, tokens and their expiry, `access_token`, broadcast, presence;
//! - [`hub`] and [`presence`]: topics, members, fan-out, presence state and diffs;
//! - [`authz`]: token reasons, strict sessions, private-channel policies (RLS);
//! - [`changes`]: Postgres changes from logical decoding (wal2json), filtered per subscriber;
//! - [`http_broadcast`]: `POST /realtime/v1/api/broadcast[/:topic/events/:event]`;
//! - [`limits`], [`faults`], [`stats`]: rate limits, fault injection, counters.

mod authz;
mod changes;
mod channel;
mod faults;
#[cfg(feature = "fuzzing")]
mod fuzz_peer;
mod handshake;
mod http_broadcast;
mod hub;
mod limits;
mod presence;
mod socket;
mod stats;

use crate::config::{Config, Mode};
use crate::http::Shared;
use crate::jwt::Claims;
use authwire_wire::frame::Vsn;
use axum::routing::{get, post};
use axum::Router;
use socket::SocketHandle;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub(crate) use faults::Faults;
pub(crate) use stats::Stats;

/// A socket's id (unique per server run).
pub(crate) type SocketId = u64;
/// A channel instance's id (unique per server run; a rejoin gets a new one).
pub(crate) type ChanId = u64;

/// Settings taken from the command line.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) mode: Mode,
    pub(crate) strict_sessions: bool,
    /// Delay of a refused join's reply (`--join-error-delay-ms`, real server: 5 s).
    pub(crate) join_error_delay: Duration,
    /// Delay of a refused handshake's answer (`--connect-error-backoff-ms`, real server: 2 s).
    pub(crate) connect_error_backoff: Duration,
    pub(crate) limits: limits::Limits,
    /// Idle timeout: time since the last frame received (Phoenix's 60 s).
    pub(crate) idle_timeout: Duration,
    /// How often the change feed reads the slot.
    pub(crate) poll_interval: Duration,
}

impl Settings {
    pub(crate) fn from_config(c: &Config) -> Self {
        Settings {
            mode: c.mode,
            strict_sessions: c.strict_sessions,
            join_error_delay: c.join_error_delay(),
            connect_error_backoff: Duration::from_millis(c.connect_error_backoff_ms),
            limits: limits::Limits::for_flag(c.limits),
            idle_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(50),
        }
    }
}

/// What the handshake established for a socket.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    /// The socket's id (`conn` in `/_dev/events`), given when the handshake is accepted.
    pub(crate) id: SocketId,
    pub(crate) vsn: Vsn,
    /// The connect token: the JWT the socket authenticated with (after gateway mapping).
    pub(crate) token: String,
    pub(crate) claims: Claims,
    /// JSON object text of the request's `x-*` headers (`request.headers` for policies).
    pub(crate) headers: String,
}

#[cfg(feature = "fuzzing")]
pub(crate) use fuzz_peer::{fuzz_connection, FuzzSession};

/// Realtime's shared state (one per server).
pub(crate) struct Realtime {
    pub(crate) settings: Settings,
    pub(crate) hub: hub::Hub,
    /// Realtime's own connections (policy checks, strict sessions, RLS of changes).
    pub(crate) pool: crate::db::Pool,
    pub(crate) stats: Stats,
    pub(crate) faults: Faults,
    pub(crate) changes: changes::Registry,
    /// Tenant-wide joins, events and presence events (for the per-second limits).
    pub(crate) joins: limits::RateCounter,
    pub(crate) events: limits::RateCounter,
    pub(crate) presence_events: limits::RateCounter,
    sockets: Mutex<HashMap<SocketId, Arc<SocketHandle>>>,
    next_id: AtomicU64,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Realtime {
    /// Sets Realtime up and starts the change feed; returns once the feed reads its slot
    /// (so the ready line is printed only when changes flow).
    pub(crate) async fn start(config: &Config, database: &tokio_postgres::Config) -> Result<Arc<Realtime>, String> {
        let settings = Settings::from_config(config);
        let (stop, _) = watch::channel(false);
        let rt = Arc::new(Realtime {
            settings,
            hub: hub::Hub::default(),
            pool: crate::db::Pool::new(database.clone()),
            stats: Stats::default(),
            faults: Faults::default(),
            changes: changes::Registry::default(),
            joins: limits::RateCounter::new(),
            events: limits::RateCounter::new(),
            presence_events: limits::RateCounter::new(),
            sockets: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            stop,
        });
        changes::start_feed(&rt, database).await?;
        Ok(rt)
    }

    /// Closes every socket (1001) and stops the change feed.
    pub(crate) fn stop(&self) {
        self.stop.send_replace(true);
    }

    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn sockets(&self) -> std::sync::MutexGuard<'_, HashMap<SocketId, Arc<SocketHandle>>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register(&self, h: Arc<SocketHandle>) {
        self.sockets().insert(h.id, h);
    }

    pub(crate) fn unregister(&self, id: SocketId) {
        self.sockets().remove(&id);
    }

    /// Sockets with at least one channel (the real server's "connected users").
    pub(crate) fn active_users(&self) -> usize {
        self.sockets().values().filter(|s| s.channels.load(Ordering::Relaxed) > 0).count()
    }

    /// The sockets of `user` (all when `None`).
    pub(crate) fn sockets_of(&self, user: Option<&str>) -> Vec<Arc<SocketHandle>> {
        self.sockets().values().filter(|s| user.is_none_or(|u| s.has_user(u))).cloned().collect()
    }

    /// Counters for `/_dev/stats`.
    pub(crate) fn stats_json(&self) -> serde_json::Value {
        let sockets = self.sockets().len();
        self.stats.to_json(
            sockets,
            self.hub.channel_count(),
            self.hub.topic_count(),
            self.changes.count(),
            &self.settings,
        )
    }

    /// Applies the `"realtime"` section of `POST /_dev/faults`; returns what the actions did.
    pub(crate) fn apply_faults(&self, section: &serde_json::Value) -> Result<serde_json::Value, String> {
        use base64::Engine as _;
        let actions = self.faults.apply(section)?;
        let mut out = serde_json::Map::new();
        if let Some(d) = actions.drop_sockets {
            let targets = self.sockets_of(d.user_id.as_deref());
            let how = match d.code {
                Some(code) => socket::CloseHow::Code(code, d.reason.unwrap_or_default()),
                None => socket::CloseHow::Abrupt,
            };
            for s in &targets {
                s.close(how.clone());
            }
            out.insert("droppedSockets".into(), targets.len().into());
        }
        if let Some(e) = actions.expire_tokens {
            let targets = self.sockets_of(e.user_id.as_deref());
            for s in &targets {
                s.push(socket::Outbound::ExpireNow { sub: e.user_id.clone() });
            }
            out.insert("expiredSockets".into(), targets.len().into());
        }
        if let Some(f) = actions.send_frames {
            let mut msgs: Vec<authwire_wire::frame::WireMsg> =
                f.frames.into_iter().map(authwire_wire::frame::WireMsg::Text).collect();
            for b in f.binary {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .map_err(|e| format!("realtime.sendFrames.binary: not base64: {e}"))?;
                msgs.push(authwire_wire::frame::WireMsg::Binary(bytes));
            }
            let repeat = f.repeat.unwrap_or(1);
            if !(1..=faults::MAX_REPEAT).contains(&repeat) {
                return Err(format!("realtime.sendFrames.repeat must be 1..={}", faults::MAX_REPEAT));
            }
            let targets = self.sockets_of(f.user_id.as_deref());
            for s in &targets {
                for m in &msgs {
                    s.push(if repeat == 1 {
                        socket::Outbound::Raw(m.clone())
                    } else {
                        socket::Outbound::Flood(m.clone(), repeat)
                    });
                }
            }
            out.insert("framesSent".into(), (targets.len() * msgs.len() * repeat as usize).into());
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// Opens one database connection driven by its own task (the change feed's).
pub(crate) async fn connect_db(
    config: &tokio_postgres::Config,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("realtime database connection ended: {e}");
        }
    });
    Ok(client)
}

/// Stops Realtime when dropped (held by the HTTP server's task).
pub(crate) struct StopGuard(pub(crate) Arc<Realtime>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The Realtime routes.
pub(crate) fn router() -> Router<Shared> {
    Router::new()
        .route("/realtime/v1/websocket", get(handshake::websocket))
        .route("/socket/websocket", get(handshake::websocket))
        .route("/realtime/v1/api/broadcast", post(http_broadcast::batch))
        .route("/realtime/v1/api/broadcast/{topic}/events/{event}", post(http_broadcast::single))
        .route("/api/broadcast", post(http_broadcast::batch))
        .route("/api/broadcast/{topic}/events/{event}", post(http_broadcast::single))
}
