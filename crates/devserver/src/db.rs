//! A small pool of PostgreSQL connections for request handlers that need a transaction or
//! connection-local settings (`set local role`, `request.jwt.claims`, `for update` locks).
//!
//! Connections are opened lazily up to [`MAX_CONNECTIONS`]; a request waits for a free one.
//! A connection goes back to the pool when its [`Conn`] is dropped, unless it broke. A
//! transaction dropped without commit is rolled back by tokio-postgres before the connection's
//! next statement, so a cancelled request never leaks `set local` state to the next user.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, NoTls};

/// Upper bound of open connections (the cluster allows 100; Realtime needs its own).
pub(crate) const MAX_CONNECTIONS: usize = 16;

/// The pool.
pub(crate) struct Pool {
    config: tokio_postgres::Config,
    idle: Mutex<Vec<Client>>,
    permits: std::sync::Arc<Semaphore>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool").field("available", &self.permits.available_permits()).finish_non_exhaustive()
    }
}

/// A pooled connection; derefs to [`Client`].
pub(crate) struct Conn<'a> {
    client: Option<Client>,
    pool: &'a Pool,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    /// A pool that connects with `config` (the superuser over the private socket).
    pub(crate) fn new(config: tokio_postgres::Config) -> Self {
        Pool { config, idle: Mutex::new(Vec::new()), permits: std::sync::Arc::new(Semaphore::new(MAX_CONNECTIONS)) }
    }

    /// A connection, waiting for a free slot; opens a new one when none is idle.
    pub(crate) async fn get(&self) -> Result<Conn<'_>, tokio_postgres::Error> {
        let permit = self.permits.clone().acquire_owned().await.expect("the pool's semaphore is never closed");
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let mut found = None;
            while let Some(c) = idle.pop() {
                if !c.is_closed() {
                    found = Some(c);
                    break;
                }
            }
            found
        };
        let client = match reused {
            Some(c) => c,
            None => {
                let (client, conn) = self.config.connect(NoTls).await?;
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("pooled database connection ended: {e}");
                    }
                });
                client
            }
        };
        Ok(Conn { client: Some(client), pool: self, _permit: permit })
    }
}

impl Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("present until drop")
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until drop")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if !c.is_closed() {
                self.pool.idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
            }
        }
    }
}
