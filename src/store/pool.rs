//! A small blocking connection pool shared by the SQLite and Redis backends.
//!
//! Connections are made on demand (never at start-up, so an engine can be built while its
//! database is still coming up), at most `max` are open at once, and a caller that finds them all
//! busy waits at most `wait` before getting [`HostError::unavailable`]: a request never hangs on
//! the pool. When one connection turns out to be dead (its server restarted), every idle
//! connection made before it is dropped too, since they died the same way; the next callers get
//! fresh ones instead of each tripping over a stale socket once.

// Dropping dead connections is what the Redis backend needs; SQLite connections do not die.
#![cfg_attr(not(feature = "redis"), allow(dead_code))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::HostError;

struct State<C> {
    /// Idle connections with the generation they were made in.
    idle: Vec<(u64, C)>,
    /// Connections in existence: idle, lent out, or being made.
    open: usize,
}

pub(crate) struct Pool<C> {
    state: Mutex<State<C>>,
    freed: Condvar,
    max: usize,
    wait: Duration,
    generation: AtomicU64,
}

/// A connection lent out by the pool; it goes back when dropped, unless marked broken.
pub(crate) struct Pooled<'a, C> {
    pool: &'a Pool<C>,
    conn: Option<C>,
    generation: u64,
    broken: bool,
    /// Taken from the idle list rather than made for this caller: it may be stale.
    pub reused: bool,
}

impl<C> Pool<C> {
    pub fn new(max: usize, wait: Duration) -> Self {
        Pool {
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            max: max.max(1),
            wait,
            generation: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<C>> {
        // The state is only ever changed by single, complete operations.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, or a new one from `connect` when fewer than `max` exist.
    pub fn get(
        &self,
        connect: impl FnOnce() -> Result<C, HostError>,
    ) -> Result<Pooled<'_, C>, HostError> {
        let deadline = Instant::now() + self.wait;
        let mut st = self.lock();
        loop {
            let current = self.generation.load(Ordering::Acquire);
            while let Some((generation, conn)) = st.idle.pop() {
                if generation == current {
                    return Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                        generation,
                        broken: false,
                        reused: true,
                    });
                }
                st.open -= 1;
            }
            if st.open < self.max {
                st.open += 1;
                drop(st);
                return match connect() {
                    Ok(conn) => Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                        generation: current,
                        broken: false,
                        reused: false,
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(HostError::unavailable(format!(
                    "all {} storage connections are busy",
                    self.max
                )));
            }
            st = self
                .freed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Forgets every idle connection (they are closed as they are dropped).
    fn flush(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let stale = {
            let mut st = self.lock();
            let stale = std::mem::take(&mut st.idle);
            st.open -= stale.len();
            stale
        };
        drop(stale);
        self.freed.notify_all();
    }
}

impl<C> Pooled<'_, C> {
    pub fn conn(&mut self) -> &mut C {
        // Only `Drop` takes the connection out.
        self.conn.as_mut().expect("connection present until drop")
    }

    /// The connection failed in a way that leaves it unusable; `server_gone` says its server
    /// went away, so the other idle connections are dropped as well.
    pub fn discard(&mut self, server_gone: bool) {
        self.broken = true;
        if server_gone {
            self.pool.flush();
        }
    }
}

impl<C> Drop for Pooled<'_, C> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let keep = !self.broken && self.generation == self.pool.generation.load(Ordering::Acquire);
        let mut st = self.pool.lock();
        if keep {
            st.idle.push((self.generation, conn));
        } else {
            st.open -= 1;
            drop(st);
            drop(conn);
        }
        self.pool.freed.notify_one();
    }
}
