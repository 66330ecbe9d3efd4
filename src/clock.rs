//! Where "now" comes from, so that tests can move time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in whole epoch seconds.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        wall_seconds()
    }
}

/// Whole seconds since the epoch. On Linux from the kernel's coarse clock: it is the time of the
/// last timer tick (a few milliseconds behind at most, nothing at a resolution of seconds), read
/// from the vDSO without the cycle counter and its conversion, which the precise clock costs.
/// A request reads the clock several times (the engine, and the memory store for expiry).
#[cfg(target_os = "linux")]
fn wall_seconds() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call writes nothing else.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 {
        // time_t is 32 bits wide on some 32-bit targets.
        #[allow(clippy::useless_conversion)]
        return i64::from(ts.tv_sec);
    }
    precise_seconds()
}

#[cfg(not(target_os = "linux"))]
fn wall_seconds() -> i64 {
    precise_seconds()
}

fn precise_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A clock that only moves when told to (for tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: i64) -> Self {
        ManualClock(AtomicI64::new(start))
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_agrees_with_the_precise_clock_to_the_second() {
        // The coarse clock lags by at most a timer tick, so the two can differ by one second
        // only across a second's boundary.
        for _ in 0..1000 {
            let before = precise_seconds();
            let now = SystemClock.now();
            let after = precise_seconds();
            assert!(before - 1 <= now && now <= after, "{before} {now} {after}");
        }
        assert!(
            SystemClock.now() > 1_700_000_000,
            "epoch seconds of this decade"
        );
    }
}
