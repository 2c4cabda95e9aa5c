//! One channel and its lifecycle: `closed → joining → joined → closed`, with `errored` (a
//! rejoin is scheduled) and recovery (joining again once a fresh token exists, G6) on the
//! side. A channel that closes has *ended*: as in realtime-js its name is free again at once
//! (`channel(name)` makes a new instance), and the instance cannot be subscribed again. The
//! lifecycle fields are private, so every state change is one of the named transitions below;
//! [`super::Realtime`] calls them and does what needs the socket, the timers or the other
//! channels (frames, deadlines, app events). The channel also keeps its pushes (buffered until
//! joined, then waiting for replies), bindings and presence.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::Payload;
use authwire_wire::realtime::JoinConfig;

use super::bindings::Bindings;
use super::presence::Presence;
use crate::error::ChannelOpError;
use crate::io::Ticket;
use crate::time::{Millis, UnixTime};

/// Channel lifecycle states (realtime-js names, protocol reference §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Not subscribed, or ended.
    Closed,
    /// Subscribing: the join is waiting for the socket or for auth, or is in flight.
    Joining,
    /// Subscribed.
    Joined,
    /// Unsubscribing. Never held: `unsubscribe()` closes at once, as realtime-js's does (its
    /// leave passes through this state within the call); kept for realtime-js's name.
    Leaving,
    /// Failed; a rejoin is scheduled (or waits for a fresh token while recovering).
    Errored,
}

impl ChannelState {
    /// The realtime-js string (`channel.state`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Closed => "closed",
            ChannelState::Joining => "joining",
            ChannelState::Joined => "joined",
            ChannelState::Leaving => "leaving",
            ChannelState::Errored => "errored",
        }
    }
}

/// What a push is for, which decides whether it waits for a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushKind {
    /// A broadcast; replied to only with `broadcast.ack`.
    Broadcast,
    /// Presence track / untrack; always replied to.
    Presence,
}

/// A push not yet sent (the channel is not joined, or auth is settling).
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub(crate) seq: u64,
    pub(crate) ticket: Option<Ticket>,
    pub(crate) kind: PushKind,
    pub(crate) event: String,
    pub(crate) payload: Payload,
}

/// A push sent and waiting for its reply.
#[derive(Debug, Clone)]
pub(crate) struct Inflight {
    pub(crate) seq: u64,
    pub(crate) msg_ref: String,
    pub(crate) ticket: Option<Ticket>,
}

/// What a channel that just closed leaves to settle (see [`Channel::close`]).
#[derive(Debug)]
pub(crate) struct Ended {
    /// It was closed and unwanted already: no new `CLOSED` status.
    pub(crate) was_closed: bool,
    /// Tickets of the buffered and in-flight pushes, which fail with `channel closed`.
    pub(crate) failed_pushes: Vec<Ticket>,
}

/// A channel.
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    /// `realtime:<name>`.
    pub(super) topic: String,
    /// Join options (its `postgres_changes` is filled from `bindings` at send time).
    pub(super) config: JoinConfig,
    pub(super) bindings: Bindings,
    pub(super) presence: Presence,
    state: ChannelState,
    /// `subscribe()` was called on this instance (it can be called once).
    subscribed: bool,
    /// The application wants it joined.
    want: bool,
    /// Ref of the current join push; frames with another non-null join_ref are stale.
    join_ref: Option<String>,
    /// The current join frame has been sent.
    join_sent: bool,
    /// Token generation the channel's server side currently holds (join or access_token).
    token_gen: Option<u64>,
    /// Waiting for a token generation other than this one before rejoining (G6).
    recovering_from: Option<u64>,
    rejoin_attempt: u32,
    /// Join/leave/push timeout for this channel.
    timeout_ms: Millis,
    buffer: VecDeque<Queued>,
    inflight: Vec<Inflight>,
    /// Text of the last `system` error, reported with a following `phx_close`.
    last_system_error: Option<String>,
    next_seq: u64,
    /// The role the server accepted for the current join (from the token it carried).
    effective_role: Option<String>,
    /// It closed (left, or closed by the server): out of the registry, never joins again.
    ended: bool,
    /// When it stopped being joined, if it was (a rejoin then reports a [`Gap`]).
    lost_at: Option<UnixTime>,
    /// The last gap reported, for `diagnose()`.
    last_gap: Option<Gap>,
    /// Ask for a replay when rejoining after a loss (private channels).
    pub(super) replay_on_rejoin: bool,
    /// The current join asked the server to replay (authwire's or the app's `replay`).
    replay_asked: bool,
    /// The last replay the server refused (`UnableToReplayMessages`): the next join goes
    /// without, and its gap says `replay_error`.
    replay_failed: bool,
    /// While a replay is arriving: how many replayed messages so far, and the gap to report
    /// if the server's limit is reached (more may have been missed).
    replaying: Option<(u32, Gap)>,
    /// `meta.id`s of recent broadcasts delivered, so a replayed message and its live copy are
    /// delivered once.
    seen_ids: VecDeque<String>,
    /// A broadcast without `meta.id` arrived (a client's socket broadcast, an HTTP broadcast
    /// without an id): the server does not store those, so a replay cannot cover a loss.
    carries_unstored: bool,
    /// A `postgres_changes` gap held from the rejoin until the server says the change feed is
    /// subscribed again ("Subscribed to PostgreSQL"): changes committed before that are not
    /// delivered either, so that is where the gap ends.
    feed_gap: Option<Gap>,
}

/// The most messages the server replays per join (`@hard_limit 25`, §6.2): this many means
/// more may have been missed.
pub(crate) const REPLAY_LIMIT: u32 = 25;
/// `meta.id`s kept per channel for de-duplication (ten replays' worth).
const SEEN_IDS: usize = 256;
/// The replay asks, and a gap starts, this long before the channel was lost (the last frame
/// heard): the server's clock and ours differ, and a message waits in the server's queue
/// before it is sent. De-duplication drops what the replay brings that was delivered already.
const LOSS_SLACK_MS: u64 = 5_000;

/// A time the channel was not joined after it had been, and what the server will not send
/// again of it: the app gets it as a `system` event `gap` after the rejoin, before any live
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// 5 s before the channel was lost (the last frame its socket heard, or the channel's
    /// own error): clocks differ, and a message waits in the server's queue before it is sent.
    pub from: UnixTime,
    /// When it was joined again.
    pub to: UnixTime,
    /// Why what was sent in between may be missing: `public_channel` (the server replays
    /// only private channels), `postgres_changes` (changes are never replayed),
    /// `replay_limit` (the replay reached the server's 25 messages), `replay_error` (the
    /// server could not replay), `not_replayed` (replay on rejoin turned off), `not_stored`
    /// (the channel carries broadcasts the server does not store — sent by clients over the
    /// socket, or over HTTP without an id — so the replay cannot bring back those).
    pub reason: &'static str,
}

impl Channel {
    /// A closed, unsubscribed channel for `topic`.
    pub(crate) fn new(topic: String, config: JoinConfig, timeout_ms: Millis) -> Self {
        Channel {
            topic,
            config,
            bindings: Bindings::default(),
            presence: Presence::default(),
            state: ChannelState::Closed,
            subscribed: false,
            want: false,
            join_ref: None,
            join_sent: false,
            token_gen: None,
            recovering_from: None,
            rejoin_attempt: 0,
            timeout_ms,
            buffer: VecDeque::new(),
            inflight: Vec::new(),
            last_system_error: None,
            lost_at: None,
            last_gap: None,
            replay_on_rejoin: false,
            replay_asked: false,
            replay_failed: false,
            replaying: None,
            seen_ids: VecDeque::new(),
            carries_unstored: false,
            feed_gap: None,
            next_seq: 0,
            effective_role: None,
            ended: false,
        }
    }

    /// The name without the `realtime:` prefix (HTTP broadcast and `system.channel` use it).
    pub(crate) fn sub_topic(&self) -> &str {
        self.topic.strip_prefix(authwire_wire::realtime::TOPIC_PREFIX).unwrap_or(&self.topic)
    }

    // ---- What the channel is -----------------------------------------------------------

    /// The lifecycle state.
    pub(crate) fn state(&self) -> ChannelState {
        self.state
    }

    /// The application wants it joined.
    pub(crate) fn wanted(&self) -> bool {
        self.want
    }

    /// Ref of the current (or last) join.
    pub(crate) fn join_ref(&self) -> Option<&str> {
        self.join_ref.as_deref()
    }

    /// The current join frame has been sent.
    pub(crate) fn join_sent(&self) -> bool {
        self.join_sent
    }

    /// Join/leave/push timeout.
    pub(crate) fn timeout_ms(&self) -> Millis {
        self.timeout_ms
    }

    /// Waiting for a fresh token before rejoining (G6).
    pub(crate) fn recovering(&self) -> bool {
        self.recovering_from.is_some()
    }

    /// The role the current join carried.
    pub(crate) fn effective_role(&self) -> Option<&str> {
        self.effective_role.as_deref()
    }

    /// Pushes waiting to be sent.
    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Text of the last `system` error since the join.
    pub(crate) fn last_system_error(&self) -> Option<&str> {
        self.last_system_error.as_deref()
    }

    /// It closed after `subscribe()` or `unsubscribe()`: its name no longer finds it.
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// Listeners that shape the join (`postgres_changes`, `presence`) can no longer be added:
    /// the join is out or about to go (realtime-js refuses them while joining or joined).
    pub(crate) fn join_underway(&self) -> bool {
        matches!(self.state, ChannelState::Joining | ChannelState::Joined)
    }

    /// A join went out at some point (`join_ref`) and was not ended: the server may hold a
    /// membership even if a rejoin is pending (`join_sent` is reset while auth is unresolved).
    pub(crate) fn may_hold_membership(&self) -> bool {
        self.join_ref.is_some()
            && matches!(self.state, ChannelState::Joining | ChannelState::Joined | ChannelState::Errored)
    }

    /// Wanted, joining, not sent yet, and not waiting for a token newer than `generation`
    /// (G6): the join may go out now if the socket and auth allow.
    pub(crate) fn ready_to_join(&self, generation: u64) -> bool {
        self.want && self.state == ChannelState::Joining && !self.join_sent && self.recovering_from != Some(generation)
    }

    /// Whether `Realtime::resume` may have work here: a join to send, a token to push or a
    /// buffered push to flush (each of those checks this and more).
    pub(crate) fn may_resume(&self, generation: u64) -> bool {
        self.ready_to_join(generation)
            || self.holds_stale_token(generation)
            || (self.state == ChannelState::Joined && !self.buffer.is_empty())
    }

    /// Joined, and its server side holds a token other than `generation` (G3).
    pub(crate) fn holds_stale_token(&self, generation: u64) -> bool {
        self.state == ChannelState::Joined && self.token_gen != Some(generation)
    }

    /// `msg_ref` answers the join in flight.
    pub(crate) fn is_join_reply(&self, msg_ref: &str) -> bool {
        self.join_sent && self.state == ChannelState::Joining && self.join_ref.as_deref() == Some(msg_ref)
    }

    // ---- Transitions -------------------------------------------------------------------

    /// `subscribe()`: closed → joining, wanted from now on. Once per instance, and never after
    /// it ended (Phoenix's rule). Returns the join timeout (`timeout_ms` overrides this
    /// channel's).
    pub(crate) fn subscribe(&mut self, timeout_ms: Option<Millis>) -> Result<Millis, ChannelOpError> {
        if self.subscribed || self.ended {
            return Err(ChannelOpError::AlreadySubscribed);
        }
        self.subscribed = true;
        self.want = true;
        self.state = ChannelState::Joining;
        if let Some(t) = timeout_ms {
            self.timeout_ms = t;
        }
        Ok(self.timeout_ms)
    }

    /// The application no longer wants it joined (`unsubscribe()`).
    pub(crate) fn stop_wanting(&mut self) {
        self.want = false;
    }

    /// The join frame went out (ref `join_ref`) carrying the token of `generation`: the
    /// channel's server side holds that token from now on, and recovery is over.
    pub(crate) fn join_went_out(&mut self, join_ref: String, generation: u64, role: Option<&str>) {
        self.join_ref = Some(join_ref);
        self.join_sent = true;
        self.token_gen = Some(generation);
        self.recovering_from = None;
        self.effective_role = role.map(String::from);
        self.presence.rejoining();
        self.last_system_error = None;
    }

    /// The server accepted the join at `at`: joining → joined; the rejoin backoff starts
    /// over. Returns the gap since it was last joined, if it had been.
    pub(crate) fn mark_joined(&mut self, at: UnixTime) -> Option<Gap> {
        self.state = ChannelState::Joined;
        self.rejoin_attempt = 0;
        let asked = core::mem::take(&mut self.replay_asked);
        let lost = UnixTime::from_millis(self.lost_at.take()?.as_millis().saturating_sub(LOSS_SLACK_MS));
        // A feed gap still held (lost again before the feed was back) starts the new one.
        let from = self.feed_gap.take().map_or(lost, |g| g.from.min(lost));
        if !self.bindings.is_empty() {
            // Reported when the server has subscribed the change feed again (`take_feed_gap`).
            self.feed_gap = Some(Gap { from, to: at, reason: "postgres_changes" });
            return None;
        }
        let reason = if !self.config.private {
            "public_channel"
        } else if core::mem::take(&mut self.replay_failed) {
            "replay_error"
        } else if asked && self.carries_unstored {
            // The replay brings back stored messages only; unstored ones are gone.
            "not_stored"
        } else if asked {
            // The replay follows the reply: a gap only if the server's limit is reached.
            self.replaying = Some((0, Gap { from, to: at, reason: "replay_limit" }));
            return None;
        } else {
            "not_replayed"
        };
        let gap = Gap { from, to: at, reason };
        self.last_gap = Some(gap.clone());
        Some(gap)
    }

    /// The `replay` for the next join: the app's, or (a private channel rejoining after a
    /// loss, unless the last replay failed) from a little before the loss, on the server's
    /// clock: ours plus `to_server_ms` (the session's skew, less any clock jumps since).
    pub(crate) fn join_replay(&mut self, to_server_ms: i64) -> Option<authwire_wire::realtime::Replay> {
        let replay = self.config.replay.clone().or_else(|| {
            let auto = self.replay_on_rejoin && self.config.private && self.bindings.is_empty() && !self.replay_failed;
            let lost = self.lost_at.filter(|_| auto)?.as_millis() as i64;
            let since = lost.saturating_add(to_server_ms).max(0) as u64;
            let since = since.saturating_sub(LOSS_SLACK_MS);
            Some(authwire_wire::realtime::Replay { since, limit: None })
        });
        self.replay_asked = replay.is_some();
        replay
    }

    /// The join failed: if the server could not replay, the next join goes without.
    pub(crate) fn join_refused(&mut self, reason: &str) {
        if self.replay_asked && reason.starts_with("UnableToReplayMessages") && self.config.replay.is_none() {
            self.replay_failed = true;
        }
        self.replay_asked = false;
    }

    /// A broadcast arrived: `false` if it was delivered already (its `meta.id` seen). Counts
    /// a replay; returns the gap to report when the replay reached the server's limit.
    pub(crate) fn take_broadcast(&mut self, id: Option<&str>, replayed: bool) -> (bool, Option<Gap>) {
        self.carries_unstored |= id.is_none();
        if let Some(id) = id {
            if self.seen_ids.iter().any(|s| s == id) {
                return (false, None);
            }
            if self.seen_ids.len() == SEEN_IDS {
                self.seen_ids.pop_front();
            }
            self.seen_ids.push_back(String::from(id));
        }
        let mut gap = None;
        match (&mut self.replaying, replayed) {
            (Some((n, g)), true) => {
                *n += 1;
                if *n >= REPLAY_LIMIT {
                    gap = Some(g.clone());
                    self.last_gap = gap.clone();
                    self.replaying = None;
                }
            }
            // The first live message: the replay is over, under the limit.
            (Some(_), false) => self.replaying = None,
            (None, _) => {}
        }
        (true, gap)
    }

    /// The server answered the change-feed subscription (`postgres_changes` system message,
    /// ok or error) at `at`, or a change arrived: the held gap, ending then, to report.
    pub(crate) fn take_feed_gap(&mut self, at: UnixTime) -> Option<Gap> {
        let mut gap = self.feed_gap.take()?;
        gap.to = at.max(gap.to);
        self.last_gap = Some(gap.clone());
        Some(gap)
    }

    /// The last gap reported.
    pub(crate) fn last_gap(&self) -> Option<&Gap> {
        self.last_gap.as_ref()
    }

    /// Notes when a joined channel stops being joined (the first moment counts).
    fn note_lost(&mut self, at: UnixTime) {
        if self.state == ChannelState::Joined && self.lost_at.is_none() {
            self.lost_at = Some(at);
        }
    }

    /// The join failed or the joined channel broke: → errored. The server side holds no
    /// token any more; pushes in flight will get no reply (their tickets are returned to
    /// settle `channel_closed`: whether the server saw them is unknown).
    pub(crate) fn mark_errored(&mut self, at: UnixTime) -> Vec<Ticket> {
        self.note_lost(at);
        self.state = ChannelState::Errored;
        self.join_sent = false;
        self.token_gen = None;
        self.take_inflight()
    }

    /// The pushes in flight, forgotten: their tickets.
    fn take_inflight(&mut self) -> Vec<Ticket> {
        self.inflight.drain(..).filter_map(|f| f.ticket).collect()
    }

    /// The buffered (unsent) pushes, dropped: their tickets (G5: the old user's pushes are
    /// never sent with the next user's token).
    pub(crate) fn drop_buffered(&mut self) -> Vec<Ticket> {
        self.buffer.drain(..).filter_map(|q| q.ticket).collect()
    }

    /// The attempt number for the next rejoin delay (and counts it).
    pub(crate) fn next_rejoin_attempt(&mut self) -> u32 {
        let attempt = self.rejoin_attempt;
        self.rejoin_attempt = self.rejoin_attempt.saturating_add(1);
        attempt
    }

    /// The rejoin delay ran out: errored → joining, if still wanted. `true` if it changed.
    pub(crate) fn retry_join(&mut self) -> bool {
        if !(self.want && self.state == ChannelState::Errored) {
            return false;
        }
        self.state = ChannelState::Joining;
        self.join_sent = false;
        true
    }

    /// A new socket opened: a wanted channel that is errored or joining joins at once, with
    /// a fresh backoff (§4.6). `true` if it is (again) joining.
    pub(crate) fn rejoin_on_open(&mut self) -> bool {
        if !(self.want && matches!(self.state, ChannelState::Errored | ChannelState::Joining)) {
            return false;
        }
        self.state = ChannelState::Joining;
        self.join_sent = false;
        self.rejoin_attempt = 0;
        true
    }

    /// Join again with a fresh join (new ref, payload built at send): → joining, the server
    /// side's token forgotten (G5 user switch and sign-out); returns the tickets of the pushes
    /// in flight, which will get no reply. A joined channel is not joined from `at` until the
    /// new join's reply: that is a gap.
    pub(crate) fn restart_join(&mut self, at: UnixTime) -> Vec<Ticket> {
        self.note_lost(at);
        self.state = ChannelState::Joining;
        self.join_sent = false;
        self.token_gen = None;
        self.take_inflight()
    }

    /// G6: the server ended the channel because its token expired. → joining, waiting for a
    /// token newer than the one the server judged (or than `current` if none was recorded);
    /// returns that generation and the tickets of the pushes in flight (no reply will come).
    pub(crate) fn await_fresh_token(&mut self, current: u64, at: UnixTime) -> (u64, Vec<Ticket>) {
        self.note_lost(at);
        // Wait for a token newer than the one the server judged, not than the current one: if
        // another channel's expiry already got us a fresh token, rejoin with it at once.
        let held = self.token_gen.unwrap_or(current);
        self.state = ChannelState::Joining;
        self.join_sent = false;
        self.token_gen = None;
        let lost = self.take_inflight();
        self.recovering_from = Some(held);
        self.rejoin_attempt = 0;
        (held, lost)
    }

    /// An `access_token` push carrying the token of `generation` went out (G3).
    pub(crate) fn token_pushed(&mut self, generation: u64, role: Option<&str>) {
        self.token_gen = Some(generation);
        self.effective_role = role.map(String::from);
    }

    /// A `system` error arrived; a following `phx_close` is reported with it.
    pub(crate) fn note_system_error(&mut self, message: String) {
        self.last_system_error = Some(message);
    }

    /// → closed, unwanted and ended: presence cleared, pushes handed back to settle.
    pub(crate) fn close(&mut self) -> Ended {
        let was_closed = self.state == ChannelState::Closed && !self.want;
        self.state = ChannelState::Closed;
        self.want = false;
        self.ended = true;
        self.join_sent = false;
        self.token_gen = None;
        self.recovering_from = None;
        self.presence.clear();
        let mut failed_pushes: Vec<Ticket> = self.buffer.drain(..).filter_map(|q| q.ticket).collect();
        failed_pushes.extend(self.inflight.drain(..).filter_map(|f| f.ticket));
        Ended { was_closed, failed_pushes }
    }

    // ---- Pushes ------------------------------------------------------------------------

    /// Buffers a push; returns its sequence number, or `None` when `limit` pushes wait
    /// already (the new one is refused: nothing queued is dropped).
    pub(crate) fn enqueue(
        &mut self,
        kind: PushKind,
        event: String,
        payload: Payload,
        ticket: Option<Ticket>,
        limit: usize,
    ) -> Option<u64> {
        if self.buffer.len() >= limit {
            return None;
        }
        self.next_seq += 1;
        let seq = self.next_seq;
        self.buffer.push_back(Queued { seq, ticket, kind, event, payload });
        Some(seq)
    }

    /// The next buffered push to send, if the channel is joined.
    pub(crate) fn next_to_send(&mut self) -> Option<Queued> {
        if self.state != ChannelState::Joined {
            return None;
        }
        self.buffer.pop_front()
    }

    /// The sequence numbers of the pushes it holds (buffered or in flight).
    pub(crate) fn push_seqs(&self) -> Vec<u64> {
        self.buffer.iter().map(|q| q.seq).chain(self.inflight.iter().map(|f| f.seq)).collect()
    }

    /// A push went out with ref `msg_ref` and waits for its reply.
    pub(crate) fn await_reply(&mut self, seq: u64, msg_ref: String, ticket: Option<Ticket>) {
        self.inflight.push(Inflight { seq, msg_ref, ticket });
    }

    /// The in-flight push that `msg_ref` answers, removed.
    pub(crate) fn take_reply(&mut self, msg_ref: &str) -> Option<Inflight> {
        let pos = self.inflight.iter().position(|p| p.msg_ref == msg_ref)?;
        Some(self.inflight.remove(pos))
    }

    /// Removes push `seq` (buffered or in flight) because it timed out; returns its ticket.
    pub(crate) fn forget_push(&mut self, seq: u64) -> Option<Ticket> {
        if let Some(pos) = self.buffer.iter().position(|q| q.seq == seq) {
            self.buffer.remove(pos).and_then(|q| q.ticket)
        } else if let Some(pos) = self.inflight.iter().position(|p| p.seq == seq) {
            self.inflight.remove(pos).ticket
        } else {
            None
        }
    }
}
