//! Client configuration: the project URL and key, realtime and auth options, checked once.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::Vsn;

use crate::realtime::{BroadcastFallback, RealtimeConfig};

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The project URL is not an absolute `http(s)://` URL.
    InvalidUrl {
        /// What is wrong.
        reason: &'static str,
    },
    /// The API key is empty.
    MissingKey,
    /// An option has a value authwire does not accept (checked by the shell).
    InvalidOption {
        /// Which option, and what it accepts.
        reason: &'static str,
    },
}

impl ConfigError {
    /// Every code, in declaration order (the README's code table is checked against it).
    pub const CODES: &'static [&'static str] = &["invalid_url", "missing_key", "invalid_option"];

    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::InvalidUrl { .. } => "invalid_url",
            ConfigError::MissingKey => "missing_key",
            ConfigError::InvalidOption { .. } => "invalid_option",
        }
    }
    /// The human text.
    pub fn message(&self) -> &'static str {
        match self {
            ConfigError::InvalidUrl { reason } => reason,
            ConfigError::MissingKey => "an API key is required",
            ConfigError::InvalidOption { reason } => reason,
        }
    }
}

/// A parsed project URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectUrl {
    /// `https` (or `http` for local servers).
    pub secure: bool,
    /// `host[:port]` (IPv6 hosts in brackets).
    pub authority: String,
    /// The host name without port.
    pub hostname: String,
    /// The path prefix without a trailing slash (usually empty).
    pub path: String,
}

impl ProjectUrl {
    /// Parses `http(s)://host[:port][/path]`. Query strings and fragments are refused.
    pub fn parse(url: &str) -> Result<ProjectUrl, ConfigError> {
        let bad = |reason| ConfigError::InvalidUrl { reason };
        let url = url.trim();
        let (secure, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad("the project URL must start with http:// or https://"));
        };
        if rest.contains(['?', '#']) {
            return Err(bad("the project URL must not have a query or fragment"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') || authority.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(bad("the project URL has no valid host"));
        }
        let hostname = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or(bad("unterminated IPv6 host in the project URL"))?;
            let after = &v6[end + 1..];
            if !(after.is_empty() || after.strip_prefix(':').is_some_and(valid_port)) {
                return Err(bad("invalid port in the project URL"));
            }
            &authority[..end + 2]
        } else {
            let (h, port) = match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            if port.is_some_and(|p| !valid_port(p)) {
                return Err(bad("invalid port in the project URL"));
            }
            if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_') {
                return Err(bad("the project URL has no valid host"));
            }
            h
        };
        Ok(ProjectUrl {
            secure,
            authority: String::from(authority),
            hostname: String::from(hostname),
            path: String::from(path),
        })
    }

    /// `http(s)://authority/path` + `suffix`.
    pub fn http(&self, suffix: &str) -> String {
        let mut s = String::from(if self.secure { "https://" } else { "http://" });
        s.push_str(&self.authority);
        s.push_str(&self.path);
        s.push_str(suffix);
        s
    }

    /// `ws(s)://authority/path` + `suffix`.
    pub fn ws(&self, suffix: &str) -> String {
        let mut s = String::from(if self.secure { "wss://" } else { "ws://" });
        s.push_str(&self.authority);
        s.push_str(&self.path);
        s.push_str(suffix);
        s
    }

    /// The first DNS label of the host, as supabase-js names the storage key
    /// (`sb-<label>-auth-token`; `127.0.0.1` gives `127`).
    pub fn project_ref(&self) -> &str {
        let h = self.hostname.trim_start_matches('[');
        h.split(['.', ':', ']']).next().unwrap_or(h)
    }
}

fn valid_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= 65535)
}

/// Which key the socket connects with (guarantee G7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApikeyMode {
    /// The project key, as API gateways require. The default.
    #[default]
    Project,
    /// The user's access token (a bare Realtime server with an opaque project key).
    Session,
}

/// Auth options (supabase-js names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthOptions {
    /// Persist the session in storage. Default true.
    pub persist_session: bool,
    /// Refresh before expiry. Default true.
    pub auto_refresh_token: bool,
    /// The storage key; default `sb-<project-ref>-auth-token`.
    pub storage_key: String,
    /// `pkce` (default `implicit`, as supabase-js).
    pub pkce: bool,
    /// Pick up a session from the page URL at start. Default true.
    pub detect_session_in_url: bool,
}

/// Everything a [`crate::Client`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The project URL.
    pub url: ProjectUrl,
    /// The API key.
    pub key: String,
    /// `true` when `key` is a JWT (legacy anon / service keys).
    pub key_is_jwt: bool,
    /// Realtime socket settings.
    pub realtime: RealtimeConfig,
    /// Socket apikey mode.
    pub apikey_mode: ApikeyMode,
    /// Auth settings.
    pub auth: AuthOptions,
    /// Third-party auth: tokens come from the app's `accessToken()` and authwire owns no
    /// session.
    pub third_party: bool,
    /// Extra headers for every HTTP request.
    pub headers: Vec<(String, String)>,
}

impl ClientConfig {
    /// Defaults for a project URL and key.
    pub fn new(url: &str, key: &str) -> Result<ClientConfig, ConfigError> {
        let url = ProjectUrl::parse(url)?;
        if key.trim().is_empty() {
            return Err(ConfigError::MissingKey);
        }
        let mut storage_key = String::from("sb-");
        storage_key.push_str(url.project_ref());
        storage_key.push_str("-auth-token");
        // supabase-js's behaviour: `send()` on a channel that is not joined goes over HTTP.
        let realtime = RealtimeConfig {
            broadcast_fallback: BroadcastFallback::NotJoined,
            ..RealtimeConfig::new(url.ws("/realtime/v1"))
        };
        Ok(ClientConfig {
            key_is_jwt: authwire_wire::jwt::is_jwt(key),
            key: String::from(key),
            realtime,
            apikey_mode: ApikeyMode::Project,
            auth: AuthOptions {
                persist_session: true,
                auto_refresh_token: true,
                storage_key,
                pkce: false,
                detect_session_in_url: true,
            },
            third_party: false,
            headers: Vec::new(),
            url,
        })
    }

    /// Sets the serializer.
    pub fn with_vsn(mut self, vsn: Vsn) -> Self {
        self.realtime.vsn = vsn;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = ProjectUrl::parse("https://abcd.supabase.co").unwrap();
        assert_eq!(u.ws("/realtime/v1"), "wss://abcd.supabase.co/realtime/v1");
        assert_eq!(u.project_ref(), "abcd");
        let u = ProjectUrl::parse("http://127.0.0.1:54321/").unwrap();
        assert_eq!(u.http("/auth/v1"), "http://127.0.0.1:54321/auth/v1");
        assert_eq!(u.project_ref(), "127");
        let u = ProjectUrl::parse("http://[::1]:8080/base").unwrap();
        assert_eq!(u.ws(""), "ws://[::1]:8080/base");
        for bad in [
            "",
            "abcd.supabase.co",
            "ftp://x",
            "https://",
            "https://a b",
            "https://h:99999",
            "https://h?x=1",
            "http://[::1",
        ] {
            assert!(ProjectUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ClientConfig::new("https://x.co", " ").unwrap_err(), ConfigError::MissingKey);
        let c = ClientConfig::new("https://x.co", "sb_publishable_abc").unwrap();
        assert!(!c.key_is_jwt);
        assert_eq!(c.auth.storage_key, "sb-x-auth-token");
    }

    #[test]
    fn config_codes_list_every_variant() {
        let all = [
            ConfigError::InvalidUrl { reason: "" },
            ConfigError::MissingKey,
            ConfigError::InvalidOption { reason: "" },
        ];
        // Exhaustive on purpose: a new variant does not compile until it is added to `all`.
        for e in &all {
            match e {
                ConfigError::InvalidUrl { .. } | ConfigError::MissingKey | ConfigError::InvalidOption { .. } => {}
            }
        }
        let codes: Vec<&str> = all.iter().map(ConfigError::code).collect();
        assert_eq!(codes, ConfigError::CODES);
    }
}
