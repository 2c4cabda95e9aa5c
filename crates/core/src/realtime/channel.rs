//! One channel's state: lifecycle, pushes waiting for the join, pushes waiting for replies,
//! bindings and presence. The transitions live in [`super::Realtime`], which owns the socket
//! the channel speaks through.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::Payload;
use authwire_wire::realtime::JoinConfig;

use super::bindings::Bindings;
use super::presence::Presence;
use crate::io::Ticket;
use crate::time::Millis;

/// Channel lifecycle states (realtime-js names, protocol reference §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelState {
    /// Not subscribed, or ended.
    Closed,
    /// Subscribing: the join is waiting for the socket or for auth, or is in flight.
    Joining,
    /// Subscribed.
    Joined,
    /// Unsubscribing.
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

/// A channel.
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    /// `realtime:<name>`.
    pub(crate) topic: String,
    /// Join options (its `postgres_changes` is filled from `bindings` at send time).
    pub(crate) config: JoinConfig,
    pub(crate) bindings: Bindings,
    pub(crate) state: ChannelState,
    /// `subscribe()` was called on this instance (it can be called once).
    pub(crate) subscribed: bool,
    /// The application wants it joined.
    pub(crate) want: bool,
    /// Ref of the current join push; frames with another non-null join_ref are stale.
    pub(crate) join_ref: Option<String>,
    /// The current join frame has been sent.
    pub(crate) join_sent: bool,
    /// Token generation the channel's server side currently holds (join or access_token).
    pub(crate) token_gen: Option<u64>,
    /// Waiting for a token generation other than this one before rejoining (G6).
    pub(crate) recovering_from: Option<u64>,
    pub(crate) rejoin_attempt: u32,
    /// Join/leave/push timeout for this channel.
    pub(crate) timeout_ms: Millis,
    pub(crate) buffer: VecDeque<Queued>,
    pub(crate) inflight: Vec<Inflight>,
    /// The pending leave: its ref and the `unsubscribe()` ticket.
    pub(crate) leave: Option<(String, Option<Ticket>)>,
    pub(crate) presence: Presence,
    /// Text of the last `system` error, reported with a following `phx_close`.
    pub(crate) last_system_error: Option<String>,
    pub(crate) next_seq: u64,
    /// The role the server accepted for the current join (from the token it carried).
    pub(crate) effective_role: Option<String>,
    /// `removeChannel()` was called: forget it once closed.
    pub(crate) removing: bool,
}

impl Channel {
    pub(crate) fn new(topic: String, config: JoinConfig, timeout_ms: Millis) -> Self {
        Channel {
            topic,
            config,
            bindings: Bindings::default(),
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
            leave: None,
            presence: Presence::default(),
            last_system_error: None,
            next_seq: 0,
            effective_role: None,
            removing: false,
        }
    }

    /// The name without the `realtime:` prefix (HTTP broadcast and `system.channel` use it).
    pub(crate) fn sub_topic(&self) -> &str {
        self.topic.strip_prefix(authwire_wire::realtime::TOPIC_PREFIX).unwrap_or(&self.topic)
    }

    pub(crate) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}
