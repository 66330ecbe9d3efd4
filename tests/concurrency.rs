//! One engine shared by many threads: atomic single-use codes and refresh tokens, distinct tokens.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use oauth2_engine::*;

const THREADS: usize = 8;

/// Runs `f` on THREADS threads released together; returns their results.
fn race<T: Send + 'static>(
    h: &Arc<Host>,
    f: impl Fn(&Host) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(THREADS));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (h, b, f) = (h.clone(), barrier.clone(), f.clone());
            thread::spawn(move || {
                b.wait();
                f(&h)
            })
        })
        .collect();
    handles.into_iter().map(|j| j.join().unwrap()).collect()
}

#[test]
fn r17_concurrent_redemptions_of_one_code_have_one_winner() {
    let h = Arc::new(host(Profile::OAuth21));
    for _ in 0..50 {
        let code = h.code();
        let statuses = race(&h, move |h| h.redeem(&code).status);
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        assert!(statuses.iter().all(|s| *s == 200 || *s == 400));
    }
}

#[test]
fn r24_concurrent_uses_of_one_refresh_token_have_at_most_one_winner() {
    let h = Arc::new(host(Profile::OAuth21));
    for _ in 0..50 {
        let (_, rt) = h.tokens();
        let statuses = race(&h, move |h| h.refresh(&rt, (CONFIDENTIAL, SECRET)).status);
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
    }
}

#[test]
fn r29_tokens_from_many_threads_are_distinct() {
    let h = Arc::new(host(Profile::OAuth21));
    let per_thread = 2_000;
    let all = race(&h, move |h| {
        (0..per_thread)
            .map(|_| {
                let r = h.token(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", CONFIDENTIAL),
                    ("client_secret", SECRET),
                ]);
                assert_eq!(r.status, 200);
                json_body(&r)["access_token"].as_str().unwrap().to_owned()
            })
            .collect::<Vec<_>>()
    });
    let set: HashSet<String> = all.into_iter().flatten().collect();
    assert_eq!(set.len(), THREADS * per_thread);
    assert_eq!(h.store.token_count(), THREADS * per_thread);
}

#[test]
fn memory_store_purges_expired_entries() {
    let h = host(Profile::OAuth21);
    for _ in 0..10 {
        h.token(&[
            ("grant_type", "client_credentials"),
            ("client_id", CONFIDENTIAL),
            ("client_secret", SECRET),
        ]);
        h.code();
    }
    assert_eq!(h.store.token_count(), 10);
    assert_eq!(h.store.code_count(), 10);
    h.store.purge_expired(START + 3600);
    assert_eq!(h.store.token_count(), 0);
    assert_eq!(h.store.code_count(), 0);
}
