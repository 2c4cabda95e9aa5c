//! The names that cross the JS boundary list every variant of their enums.

use super::*;
use crate::realtime::channel::ChannelState;
use crate::realtime::ConnectionState;

/// `name` of every value of `all`, in order, must be `names`.
fn names_match<T: Copy>(all: &[T], name: fn(T) -> &'static str, names: &[&str]) {
    let got: Vec<&str> = all.iter().map(|v| name(*v)).collect();
    assert_eq!(got, names);
}

// Each test matches every variant exhaustively on purpose: a new variant does not compile
// until it is added to the test's list, which then fails until `NAMES` has its name.

#[test]
fn heartbeat_names_list_every_variant() {
    use HeartbeatStatus as H;
    let all = [H::Sent, H::Ok, H::Error, H::Timeout];
    for h in all {
        match h {
            H::Sent | H::Ok | H::Error | H::Timeout => {}
        }
    }
    names_match(&all, H::as_str, H::NAMES);
}

#[test]
fn subscribe_names_list_every_variant() {
    use SubscribeStatus as S;
    let all = [S::Subscribed, S::TimedOut, S::Closed, S::ChannelError, S::Recovering];
    for s in all {
        match s {
            S::Subscribed | S::TimedOut | S::Closed | S::ChannelError | S::Recovering => {}
        }
    }
    names_match(&all, S::as_str, S::NAMES);
}

#[test]
fn push_outcome_names_list_every_variant() {
    let all = [PushOutcome::Ok, PushOutcome::TimedOut, PushOutcome::Error(PushError::ChannelClosed)];
    for o in &all {
        match o {
            PushOutcome::Ok | PushOutcome::TimedOut | PushOutcome::Error(_) => {}
        }
    }
    let got: Vec<&str> = all.iter().map(PushOutcome::as_str).collect();
    assert_eq!(got, PushOutcome::NAMES);
}

#[test]
fn auth_event_names_list_every_variant() {
    use AuthEvent as A;
    let all = [A::InitialSession, A::SignedIn, A::SignedOut, A::TokenRefreshed, A::UserUpdated, A::PasswordRecovery];
    for a in all {
        match a {
            A::InitialSession
            | A::SignedIn
            | A::SignedOut
            | A::TokenRefreshed
            | A::UserUpdated
            | A::PasswordRecovery => {}
        }
        assert_eq!(A::parse(a.as_str()), Some(a));
    }
    names_match(&all, A::as_str, A::NAMES);
}

#[test]
fn realtime_state_names_list_every_variant() {
    use ChannelState as C;
    let all = [C::Closed, C::Joining, C::Joined, C::Leaving, C::Errored];
    for c in all {
        match c {
            C::Closed | C::Joining | C::Joined | C::Leaving | C::Errored => {}
        }
    }
    names_match(&all, C::as_str, C::NAMES);
    let all = [ConnectionState::Closed, ConnectionState::Connecting, ConnectionState::Open];
    for c in all {
        match c {
            ConnectionState::Closed | ConnectionState::Connecting | ConnectionState::Open => {}
        }
    }
    names_match(&all, ConnectionState::as_str, ConnectionState::NAMES);
}
