//! The TypeScript contract: the string-literal unions of `src/types.d.ts` (spliced into the
//! generated `authwire.d.ts`) and the README's error-code table list exactly the names the
//! core's enums produce, so neither can drift from the Rust.
//!
//! The README table is generated: on a mismatch this test prints the expected table, and
//! `AUTHWIRE_BLESS=1 cargo test -p authwire-core --test ts_contract` rewrites it in place.

use std::collections::BTreeSet;
use std::path::PathBuf;

use authwire_core::error::{AuthError, ChannelError, ChannelOpError, PushError};
use authwire_core::io::{AuthEvent, HeartbeatStatus, PushOutcome, SubscribeStatus};
use authwire_core::realtime::channel::ChannelState;
use authwire_core::realtime::ConnectionState;
use authwire_core::ConfigError;

/// supabase-js literals authwire never produces, kept in the TS unions because apps written
/// for supabase-js compare against them. Each is explained in the doc comment of its union.
const SUPABASE_ONLY: &[(&str, &str)] = &[
    // MFA is out of scope, so no MFA challenge is ever verified.
    ("AuthChangeEvent", "MFA_CHALLENGE_VERIFIED"),
    // authwire closes a socket at once; realtime-js passes through a `closing` state.
    ("RealtimeConnectionState", "closing"),
];

/// Each TS union and the core listings it must equal (as a set, plus its `SUPABASE_ONLY`
/// literals).
fn unions() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("RealtimeErrorCode", [ChannelError::CODES, ChannelError::REFUSED_CODES, ChannelOpError::CODES].concat()),
        ("AuthErrorCode", [AuthError::CODES, AuthError::GOTRUE_CODES].concat()),
        ("SubscribeStatus", SubscribeStatus::NAMES.to_vec()),
        ("HeartbeatStatus", HeartbeatStatus::NAMES.to_vec()),
        ("RealtimeChannelSendResponse", PushOutcome::NAMES.to_vec()),
        ("AuthChangeEvent", AuthEvent::NAMES.to_vec()),
        ("RealtimeChannelState", ChannelState::NAMES.to_vec()),
        ("RealtimeConnectionState", ConnectionState::NAMES.to_vec()),
    ]
}

/// The README's error-code table, one row per listing: (codes, meaning).
fn table_rows() -> Vec<(&'static [&'static str], &'static str)> {
    vec![
        (
            AuthError::GOTRUE_CODES,
            "`AuthError` (`AuthApiError`): GoTrue's codes, passed through from the server (it may send others)",
        ),
        (
            AuthError::CODES,
            "`AuthError`: authwire's auth codes; `network_error` / `server_error` (no response / 5xx) are \
             retried automatically for refreshes; `unknown`: the server's error had no code",
        ),
        (
            ChannelError::CODES,
            "`RealtimeError` given with a channel status (`CHANNEL_ERROR`, `TIMED_OUT`, `RECOVERING`, `CLOSED`)",
        ),
        (
            ChannelError::REFUSED_CODES,
            "`RealtimeError`: the token's user or session is gone: a strict server's reason at the join or channel close, or the auth server's answer (`GET /user`) about the token of a refused handshake (GoTrue's codes, passed through; its `bad_jwt` is `invalid_jwt`, an expired token `token_expired`)",
        ),
        (ConfigError::CODES, "`AuthwireError`: `createClient` refused the configuration"),
        (ChannelOpError::CODES, "`RealtimeError` thrown by a channel call refused before anything was sent"),
        (PushError::CODES, "why a push resolved `'error'`, reported to `realtime.logger` as `push`"),
    ]
}

const TABLE_BEGIN: &str =
    "<!-- error-codes:begin (generated from the core's enums by crates/core/tests/ts_contract.rs; \
                           AUTHWIRE_BLESS=1 rewrites it) -->";
const TABLE_END: &str = "<!-- error-codes:end -->";

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The single-quoted literals of `export type <name> = …;` in `ts`, and the line before it.
fn union_literals<'a>(ts: &'a str, name: &str) -> (BTreeSet<String>, &'a str) {
    let head = format!("export type {name} =");
    let start = ts.find(&head).unwrap_or_else(|| panic!("src/types.d.ts has no `{head}`"));
    let body = &ts[start + head.len()..];
    let body = &body[..body.find(';').unwrap_or_else(|| panic!("`{name}` has no closing `;`"))];
    let literals = body.split('\'').skip(1).step_by(2).map(String::from).collect();
    let before = ts[..start].trim_end().lines().last().unwrap_or("");
    (literals, before)
}

#[test]
fn ts_unions_list_exactly_the_core_names() {
    let ts = read("src/types.d.ts");
    let mut failures = Vec::new();
    for (name, names) in unions() {
        let (got, doc) = union_literals(&ts, name);
        let mut want: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        for (union, literal) in SUPABASE_ONLY.iter().filter(|(u, _)| *u == name) {
            assert!(
                !want.contains(*literal),
                "{union}: '{literal}' is produced by the core now; drop it from SUPABASE_ONLY"
            );
            assert!(
                doc.contains(literal) && doc.contains("never"),
                "{union}: the doc comment above it must say authwire never emits '{literal}'"
            );
            want.insert(literal.to_string());
        }
        if got != want {
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            // In the core's order, then the supabase-js-only literals.
            let only = SUPABASE_ONLY.iter().filter(|(u, _)| *u == name).map(|(_, l)| *l);
            let expected: Vec<_> = names.iter().copied().chain(only).map(|l| format!("'{l}'")).collect();
            failures.push(format!(
                "{name}: missing {missing:?}, not produced by the core {extra:?}\n  expected: {}",
                expected.join(" | ")
            ));
        }
    }
    assert!(failures.is_empty(), "src/types.d.ts disagrees with the core:\n{}", failures.join("\n"));
}

/// The table as the README must hold it, markers included.
fn expected_table() -> String {
    let mut t = String::new();
    t.push_str(TABLE_BEGIN);
    t.push_str("\n| codes | meaning |\n|---|---|\n");
    for (codes, meaning) in table_rows() {
        let codes: Vec<String> = codes.iter().map(|c| format!("`{c}`")).collect();
        t.push_str(&format!("| {} | {meaning} |\n", codes.join(", ")));
    }
    t.push_str(TABLE_END);
    t
}

#[test]
fn readme_error_table_lists_exactly_the_core_codes() {
    let readme = read("README.md");
    let begin = readme.find("<!-- error-codes:begin").expect("README.md has no `<!-- error-codes:begin` marker");
    let end = readme[begin..].find(TABLE_END).expect("README.md has no `<!-- error-codes:end -->` marker") + begin;
    let current = &readme[begin..end + TABLE_END.len()];
    let expected = expected_table();
    if current == expected {
        return;
    }
    if std::env::var_os("AUTHWIRE_BLESS").is_some_and(|v| v == "1") {
        let updated = format!("{}{expected}{}", &readme[..begin], &readme[end + TABLE_END.len()..]);
        std::fs::write(repo_file("README.md"), updated).expect("writing README.md");
        return;
    }
    panic!(
        "README.md's error-code table is out of date; run AUTHWIRE_BLESS=1 cargo test -p authwire-core \
         --test ts_contract, or paste:\n\n{expected}\n"
    );
}
