//! The session as the socket sees it: the one vocabulary between [`crate::auth`] (which
//! produces token changes) and [`crate::realtime`] (which must act on them, G1–G7). The
//! [`crate::Client`] builds a [`TokenView`] at every step and hands each [`TokenChange`] over.

/// The auth state as the socket needs it, at the moment of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenView<'a> {
    /// `false` while auth is unresolved (restoring, refreshing, waiting for another tab) or
    /// the token is inside its refresh margin: no join, `access_token` or channel push is
    /// sent (G2, G4).
    pub ready: bool,
    /// The token for joins and `access_token` pushes: the user's JWT, or the project key when
    /// it is a JWT, or `None` (the server then uses the socket's connect token).
    pub token: Option<&'a str>,
    /// Changes whenever `token` changes.
    pub generation: u64,
    /// The `role` claim of `token` (or of the connect key when `token` is `None`).
    pub role: Option<&'a str>,
    /// The `apikey` to connect with now (G7); `None`: do not connect yet.
    pub socket_key: Option<&'a str>,
    /// The servers' clock minus this one, ms, at the least the session's last token response
    /// allows (0 when unknown): replay `since` is on the server's clock and must not be late.
    pub skew_ms: i64,
}

/// How the token changed, which decides what joined channels need (G3, G5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenChange {
    /// A new token for the same principal (refresh, `setSession` for the same user, an
    /// anonymous socket gaining its first user): push `access_token`.
    Rotated,
    /// A different user: every channel rejoins.
    UserSwitched,
    /// Signed out: private channels end with `signed_out`, public ones rejoin as anon.
    SignedOut,
}
