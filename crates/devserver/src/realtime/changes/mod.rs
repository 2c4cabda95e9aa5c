//! Postgres changes (protocol reference §8).

use super::socket::Session;
use super::{ChanId, Realtime};
use std::sync::Mutex;

/// The subscriptions of all channels.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    subs: Mutex<Vec<ChanId>>,
}

impl Registry {
    pub(crate) fn unsubscribe(&self, chan: ChanId) {
        self.subs.lock().unwrap_or_else(|e| e.into_inner()).retain(|c| *c != chan);
    }
    pub(crate) fn count(&self) -> usize {
        self.subs.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

pub(super) async fn start_feed(_rt: &std::sync::Arc<Realtime>, _db: &tokio_postgres::Config) -> Result<(), String> {
    Ok(())
}

impl Session {
    pub(in crate::realtime) async fn subscribe_changes(&mut self, _topic: &str) {}
}
