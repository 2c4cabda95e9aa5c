//! Command line and configuration. The flags are a contract (design.md, "Devserver command
//! line"): scripts and tests outside the repository call them.

use clap::{ArgAction, Parser, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// How the Realtime WebSocket handshake treats the `apikey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Like the Supabase API gateway: the `apikey` must be a project key; opaque keys are
    /// mapped to their JWT.
    Gateway,
    /// Like a bare Realtime server: the `apikey` must be a JWT with `role` and `exp`.
    Raw,
}

impl Mode {
    /// The flag value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Gateway => "gateway",
            Mode::Raw => "raw",
        }
    }
}

/// Algorithm for user access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlg {
    /// ES256 with the persisted P-256 key (its `kid` is in the JWKS).
    #[value(name = "ES256")]
    Es256,
    /// HS256 with the project JWT secret.
    #[value(name = "HS256")]
    Hs256,
}

impl JwtAlg {
    /// The signing algorithm.
    pub fn alg(self) -> crate::jwt::Alg {
        match self {
            JwtAlg::Es256 => crate::jwt::Alg::Es256,
            JwtAlg::Hs256 => crate::jwt::Alg::Hs256,
        }
    }
}

/// Optional data seeded once per data dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Seed {
    /// Two confirmed email users, alice@example.com and bob@example.com, password
    /// `password123` ([`crate::schema::DEMO_USERS`]).
    Demo,
    /// Nothing.
    None,
}

/// `authwire-dev` configuration; also the command-line parser.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "authwire-dev",
    version,
    about = "Local Supabase-compatible Auth + Realtime server on its own PostgreSQL",
    after_help = "Prints `authwire-dev ready <url>` on stdout once everything is up; logs go to stderr \
                  (filter with AUTHWIRE_LOG, e.g. AUTHWIRE_LOG=debug)."
)]
pub struct Config {
    /// TCP port to listen on; 0 picks a free port (the ready line shows it).
    #[arg(long, default_value_t = 54321)]
    pub port: u16,

    /// Address to bind. Anything but loopback exposes the secrets this server prints.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Use this PostgreSQL instead of starting one (must allow creating roles and schemas).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Directory for keys, the cluster record and logs.
    #[arg(long, default_value = ".authwire", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Realtime handshake behaviour.
    #[arg(long, value_enum, default_value_t = Mode::Gateway)]
    pub mode: Mode,

    /// Algorithm for user access tokens.
    #[arg(long, value_enum, default_value_t = JwtAlg::Es256)]
    pub jwt_alg: JwtAlg,

    /// Lifetime of user access tokens, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub token_ttl: u64,

    /// Delay before a refused join's error reply, in milliseconds (the real server's 5 s).
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub join_error_delay_ms: u64,

    /// Delay before a refused Realtime handshake is answered, in milliseconds (the real
    /// server waits 2000; a development server answers quickly).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub connect_error_backoff_ms: u64,

    /// Data seeded once per data dir.
    #[arg(long, value_enum, default_value_t = Seed::None)]
    pub seed: Seed,

    /// SQL migration applied once per data dir, in order (repeatable); recorded by file name
    /// and checksum.
    #[arg(long = "sql", value_name = "FILE", action = ArgAction::Append)]
    pub sql: Vec<PathBuf>,

    /// Refuse tokens whose user or session no longer exists, or whose user is banned.
    #[arg(long, default_value_t = true, action = ArgAction::Set, value_name = "true|false")]
    pub strict_sessions: bool,

    /// Realtime rate limits (`on`: the real defaults; `off`: lifted for benchmarks).
    #[arg(long, default_value = "on", value_parser = parse_on_off, action = ArgAction::Set, value_name = "on|off")]
    pub limits: bool,

    /// Seconds during which a rotated refresh token may be presented again.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub refresh_reuse_interval: u64,
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected `on` or `off`, got `{s}`")),
    }
}

impl Default for Config {
    /// The defaults of the command line.
    fn default() -> Self {
        Config::parse_from(["authwire-dev"])
    }
}

impl Config {
    /// Lifetime of user access tokens.
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl)
    }
    /// Delay before a refused join's error reply.
    pub fn join_error_delay(&self) -> Duration {
        Duration::from_millis(self.join_error_delay_ms)
    }
    /// Refresh-token reuse interval.
    pub fn refresh_reuse_interval(&self) -> Duration {
        Duration::from_secs(self.refresh_reuse_interval)
    }
    /// A configuration for tests: a free port, this data dir, no join-error delay.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Config { port: 0, data_dir: data_dir.into(), join_error_delay_ms: 0, ..Config::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("authwire-dev").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.port, 54321);
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.database_url, None);
        assert_eq!(c.data_dir, PathBuf::from(".authwire"));
        assert_eq!(c.mode, Mode::Gateway);
        assert_eq!(c.jwt_alg, JwtAlg::Es256);
        assert_eq!(c.token_ttl, 3600);
        assert_eq!(c.join_error_delay_ms, 5000);
        assert_eq!(c.seed, Seed::None);
        assert!(c.sql.is_empty());
        assert!(c.strict_sessions);
        assert!(c.limits);
        assert_eq!(c.refresh_reuse_interval, 10);
    }

    #[test]
    fn every_flag_parses() {
        let c = parse(&[
            "--port",
            "0",
            "--host",
            "0.0.0.0",
            "--database-url",
            "postgres://x@localhost/db",
            "--data-dir",
            "/tmp/d",
            "--mode",
            "raw",
            "--jwt-alg",
            "HS256",
            "--token-ttl",
            "5",
            "--join-error-delay-ms",
            "0",
            "--seed",
            "demo",
            "--sql",
            "a.sql",
            "--sql",
            "b.sql",
            "--strict-sessions",
            "false",
            "--limits",
            "off",
            "--refresh-reuse-interval",
            "0",
        ])
        .unwrap();
        assert_eq!(c.port, 0);
        assert_eq!(c.host, "0.0.0.0");
        assert_eq!(c.database_url.as_deref(), Some("postgres://x@localhost/db"));
        assert_eq!(c.mode, Mode::Raw);
        assert_eq!(c.jwt_alg, JwtAlg::Hs256);
        assert_eq!(c.token_ttl(), Duration::from_secs(5));
        assert_eq!(c.join_error_delay(), Duration::ZERO);
        assert_eq!(c.seed, Seed::Demo);
        assert_eq!(c.sql, vec![PathBuf::from("a.sql"), PathBuf::from("b.sql")]);
        assert!(!c.strict_sessions);
        assert!(!c.limits);
        assert_eq!(c.refresh_reuse_interval(), Duration::ZERO);
        // `--flag=value` works too.
        assert_eq!(parse(&["--port=1234"]).unwrap().port, 1234);
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        for args in [
            &["--nope"][..],
            &["--port", "99999"],
            &["--mode", "proxy"],
            &["--jwt-alg", "RS256"],
            &["--strict-sessions", "yes"],
            &["--limits", "true"],
            &["--token-ttl", "0"],
            &["positional"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert_ne!(err.kind(), ErrorKind::DisplayHelp);
        }
    }
}
