/** Subscribe statuses; `RECOVERING` is authwire's (the server closed the channel because its token expired and authwire is refreshing and rejoining). */
export type SubscribeStatus = 'SUBSCRIBED' | 'TIMED_OUT' | 'CLOSED' | 'CHANNEL_ERROR' | 'RECOVERING';
export type RealtimeChannelState = 'closed' | 'joining' | 'joined' | 'leaving' | 'errored';
/** Socket states of `realtime.connectionState()`. authwire never reports `'closing'` (a close is immediate); it stays in the union because apps written for supabase-js compare against it. */
export type RealtimeConnectionState = 'connecting' | 'open' | 'closing' | 'closed';
/** Heartbeat events of `realtime.onHeartbeat`: every value realtime-js 2.119 delivers. Its type also names `'disconnected'`, which its own wrapper drops before the callback; the open end keeps comparisons with it compiling. */
export type HeartbeatStatus = 'sent' | 'ok' | 'error' | 'timeout' | (string & {});
/** How a push (`send`, `track`, `untrack`, `unsubscribe`, `removeChannel`) resolved. */
export type RealtimeChannelSendResponse = 'ok' | 'timed out' | 'error';
/** Stable error codes of RealtimeError. */
export type RealtimeErrorCode =
  | 'unauthorized' | 'token_expired' | 'invalid_jwt' | 'rate_limited'
  | 'channel_closed' | 'channel_error' | 'connect_failed' | 'socket_closed' | 'heartbeat_timeout' | 'binding_mismatch'
  | 'signed_out' | 'apikey_not_jwt' | 'user_not_found' | 'session_not_found' | 'user_banned' | 'bad_jwt' | 'unknown'
  | 'unknown_channel' | 'already_subscribed' | 'binding_after_subscribe' | 'invalid_filter'
  | 'replay_on_public_channel' | 'topic_too_long' | 'empty_topic' | 'destroyed' | 'payload_not_json'
  | 'unknown_listener_type' | 'payload_required' | 'http_error' | 'http_timeout' | (string & {});
/** Every error authwire throws or returns. */
export interface AuthwireError extends Error {
  code: string;
  status?: number;
}
/** Realtime errors: channel statuses and refused channel operations. */
export interface RealtimeError extends AuthwireError {
  name: 'RealtimeError';
  code: RealtimeErrorCode;
}
/** GoTrue's error codes that matter to sessions, plus authwire's own; open-ended. */
export type AuthErrorCode =
  | 'invalid_credentials' | 'email_not_confirmed' | 'phone_not_confirmed' | 'user_already_exists' | 'weak_password'
  | 'refresh_token_not_found' | 'refresh_token_already_used' | 'session_not_found' | 'session_expired'
  | 'user_not_found' | 'user_banned' | 'bad_jwt' | 'no_authorization' | 'validation_failed' | 'conflict'
  | 'over_request_rate_limit' | 'flow_state_not_found' | 'flow_state_expired' | 'bad_code_verifier' | 'otp_expired'
  | 'anonymous_provider_disabled' | 'unexpected_failure' | 'otp_disabled' | 'phone_provider_disabled'
  | 'email_provider_disabled' | 'email_exists' | 'phone_exists' | 'same_password' | 'reauthentication_not_valid'
  | 'over_email_send_rate_limit' | 'mfa_factor_not_found' | 'insufficient_aal'
  | 'credentials_required' | 'implicit_grant_redirect'
  | 'network_error' | 'server_error' | 'session_missing' | 'invalid_jwt' | 'pkce_code_verifier_not_found'
  | 'invalid_response' | 'storage_error' | 'not_supported' | 'crypto_unavailable' | 'destroyed' | 'superseded' | 'unknown' | (string & {});
/**
 * Auth errors: auth-js 2.119's classes, with its `name`, constructor arguments, `status` and
 * `code` (authwire also sets a stable `code` where auth-js leaves it undefined, e.g.
 * `session_missing`, `network_error`). The package exports the classes for `instanceof`; the
 * `isAuth…Error` guards test a marker and the name, so they work across bundle copies.
 */
export declare class AuthError extends Error implements AuthwireError {
  constructor(message: string, status?: number, code?: string);
  /** Undefined only on errors an app constructs itself without one. */
  code: AuthErrorCode;
  status?: number;
  protected __isAuthError: true;
  toJSON(): { name: string; message: string; status?: number; code?: string };
}
/** An error answer of the auth server (`code` is GoTrue's). */
export declare class AuthApiError extends AuthError {
  status: number;
  constructor(message: string, status: number, code: string | undefined);
}
/** An error answer that is not JSON. */
export declare class AuthUnknownError extends AuthError {
  originalError: unknown;
  constructor(message: string, originalError: unknown);
}
export declare class CustomAuthError extends AuthError {
  name: string;
  status: number;
  constructor(message: string, name: string, status: number, code: string | undefined);
}
export declare class AuthSessionMissingError extends CustomAuthError { constructor(); }
export declare class AuthInvalidTokenResponseError extends CustomAuthError { constructor(); }
export declare class AuthInvalidCredentialsError extends CustomAuthError { constructor(message: string); }
export declare class AuthImplicitGrantRedirectError extends CustomAuthError {
  details: { error: string; code: string } | null;
  constructor(message: string, details?: { error: string; code: string } | null);
  toJSON(): { name: string; message: string; status: number; code?: string; details: { error: string; code: string } | null };
}
export declare class AuthPKCEGrantCodeExchangeError extends CustomAuthError {
  details: { error: string; code: string } | null;
  constructor(message: string, details?: { error: string; code: string } | null);
  toJSON(): { name: string; message: string; status: number; code?: string; details: { error: string; code: string } | null };
}
export declare class AuthPKCECodeVerifierMissingError extends CustomAuthError { constructor(); }
export declare class AuthRetryableFetchError extends CustomAuthError { constructor(message: string, status: number); }
export declare class AuthRefreshDiscardedError extends CustomAuthError { constructor(message?: string); }
export type WeakPasswordReasons = 'length' | 'characters' | 'pwned' | (string & {});
export declare class AuthWeakPasswordError extends CustomAuthError {
  reasons: WeakPasswordReasons[];
  constructor(message: string, status: number, reasons: WeakPasswordReasons[]);
  toJSON(): { name: string; message: string; status: number; code?: string; reasons: WeakPasswordReasons[] };
}
export declare class AuthInvalidJwtError extends CustomAuthError { constructor(message: string); }
/** `true` for auth errors (authwire's or auth-js's), even across bundle copies. */
export function isAuthError(e: unknown): e is AuthError;
export function isAuthApiError(e: unknown): e is AuthApiError;
export function isAuthSessionMissingError(e: unknown): e is AuthSessionMissingError;
export function isAuthImplicitGrantRedirectError(e: unknown): e is AuthImplicitGrantRedirectError;
export function isAuthPKCECodeVerifierMissingError(e: unknown): e is AuthPKCECodeVerifierMissingError;
export function isAuthRetryableFetchError(e: unknown): e is AuthRetryableFetchError;
export function isAuthRefreshDiscardedError(e: unknown): e is AuthRefreshDiscardedError;
export function isAuthWeakPasswordError(e: unknown): e is AuthWeakPasswordError;
/** Auth state changes. authwire never emits `'MFA_CHALLENGE_VERIFIED'` (MFA is out of scope); it stays in the union because apps written for supabase-js compare against it. */
export type AuthChangeEvent = 'INITIAL_SESSION' | 'SIGNED_IN' | 'SIGNED_OUT' | 'TOKEN_REFRESHED' | 'USER_UPDATED' | 'PASSWORD_RECOVERY' | 'MFA_CHALLENGE_VERIFIED';
export interface User {
  id: string;
  aud: string;
  role?: string;
  email?: string;
  phone?: string;
  is_anonymous?: boolean;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  identities?: UserIdentity[];
  factors?: Factor[];
  created_at: string;
  updated_at?: string;
  last_sign_in_at?: string;
  [key: string]: unknown;
}
export interface Session {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  expires_at?: number;
  token_type: string;
  user: User;
  provider_token?: string | null;
  provider_refresh_token?: string | null;
}
export type AuthResponse = { data: { user: User | null; session: Session | null }; error: AuthError | null };
export type UserResponse = { data: { user: User | null }; error: AuthError | null };
export interface SupportedStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}
export type SignOutReason = { reason: 'user' | 'refresh_failed' | 'session_revoked' | 'other_tab'; code?: string };
export interface Subscription { id: number; callback: (event: AuthChangeEvent, session: Session | null) => void; unsubscribe(): void }
type EmailOrPhone = { email: string; phone?: never } | { phone: string; email?: never };
export interface UserIdentity {
  id: string;
  user_id: string;
  identity_data?: { [key: string]: any };
  identity_id: string;
  provider: string;
  created_at?: string;
  last_sign_in_at?: string;
  updated_at?: string;
}
export type FactorType = 'totp' | 'phone' | 'webauthn' | 'recovery_code';
export interface Factor {
  id: string;
  friendly_name?: string;
  factor_type: FactorType | (string & {});
  status: 'verified' | 'unverified';
  created_at: string;
  updated_at: string;
  last_challenged_at?: string;
}
export type AuthenticatorAssuranceLevels = 'aal1' | 'aal2' | (string & {});
export interface AMREntry { method: string; timestamp: number }
export interface JwtHeader { alg: string; kid?: string; typ?: string }
export interface JwtPayload {
  iss?: string; sub?: string; aud?: string | string[]; exp?: number; iat?: number; role?: string;
  aal?: AuthenticatorAssuranceLevels; session_id?: string; email?: string; phone?: string; is_anonymous?: boolean;
  amr?: AMREntry[] | string[];
  [key: string]: any;
}
export interface WeakPassword { reasons: WeakPasswordReasons[]; message: string }
/** `{ data, error }`, with `data` null on error (auth-js's `RequestResult`). */
export type AuthResult<T> = { data: T; error: null } | { data: null; error: AuthError };
export type AuthOtpResponse = { data: { user: null; session: null; messageId?: string | null }; error: AuthError | null };
/** What every out-of-scope method resolves with. */
export type NotSupportedResult = { data: null; error: AuthError };
/** A namespace whose methods all resolve with a `not_supported` error. */
export type NotSupportedApi<M extends string> = { [K in M]: (...args: unknown[]) => Promise<NotSupportedResult> };
export interface AuthApi {
  signUp(credentials: EmailOrPhone & { password: string; options?: { data?: Record<string, unknown>; emailRedirectTo?: string; captchaToken?: string } }): Promise<AuthResponse>;
  /** `weak_password` is set when GoTrue flags the password (both clients set it at runtime; supabase-js's type calls it `weakPassword`). */
  signInWithPassword(credentials: EmailOrPhone & { password: string; options?: { captchaToken?: string } }): Promise<{ data: { user: User; session: Session; weak_password?: WeakPassword; weakPassword?: WeakPassword } | { user: null; session: null }; error: AuthError | null }>;
  signInAnonymously(credentials?: { options?: { data?: Record<string, unknown>; captchaToken?: string } }): Promise<AuthResponse>;
  /** `messageId` for an SMS. */
  signInWithOtp(credentials: EmailOrPhone & { options?: { data?: Record<string, unknown>; emailRedirectTo?: string; shouldCreateUser?: boolean; captchaToken?: string; channel?: 'sms' | 'whatsapp' } }): Promise<AuthOtpResponse>;
  verifyOtp(params: (EmailOrPhone & { token: string; type: 'signup' | 'invite' | 'magiclink' | 'recovery' | 'email_change' | 'email' | 'sms' | 'phone_change' }) | { token_hash: string; type: 'signup' | 'invite' | 'magiclink' | 'recovery' | 'email_change' | 'email' }): Promise<AuthResponse>;
  signInWithOAuth(credentials: { provider: string; options?: { redirectTo?: string; scopes?: string; queryParams?: Record<string, string>; skipBrowserRedirect?: boolean } }): Promise<{ data: { provider: string; url: string } | { provider: null; url: null }; error: AuthError | null }>;
  /** `redirectType` is `'recovery'` after a password-reset link (PASSWORD_RECOVERY), else `null`. */
  exchangeCodeForSession(authCode: string): Promise<{ data: { user: User; session: Session; redirectType: string | null } | { user: null; session: null; redirectType: null }; error: AuthError | null }>;
  signInWithIdToken(credentials: { provider: string; token: string; access_token?: string; nonce?: string }): Promise<AuthResponse>;
  signOut(options?: { scope?: 'global' | 'local' | 'others' }): Promise<{ error: AuthError | null }>;
  getSession(): Promise<{ data: { session: Session | null }; error: AuthError | null }>;
  getUser(jwt?: string): Promise<UserResponse>;
  /** `signature` is the decoded signature bytes, as auth-js gives it. */
  getClaims(jwt?: string): Promise<{ data: { claims: JwtPayload; header: JwtHeader; signature: Uint8Array } | null; error: AuthError | null }>;
  refreshSession(current?: { refresh_token: string }): Promise<AuthResponse>;
  setSession(tokens: { access_token: string; refresh_token: string }): Promise<AuthResponse>;
  updateUser(attributes: { email?: string; phone?: string; password?: string; nonce?: string; data?: Record<string, unknown> }): Promise<UserResponse>;
  resetPasswordForEmail(email: string, options?: { redirectTo?: string; captchaToken?: string }): Promise<AuthResult<Record<string, never>>>;
  resend(credentials: { email: string; type: 'signup' | 'email_change'; options?: { emailRedirectTo?: string; captchaToken?: string } } | { phone: string; type: 'sms' | 'phone_change'; options?: { captchaToken?: string } }): Promise<AuthOtpResponse>;
  /** GoTrue mails a nonce for `updateUser({ password, nonce })`. */
  reauthenticate(): Promise<AuthResponse>;
  getUserIdentities(): Promise<AuthResult<{ identities: UserIdentity[] }>>;
  /** Resolves once start-up settled (the session read from storage or taken from the page URL). */
  initialize(): Promise<{ error: AuthError | null }>;
  onAuthStateChange(callback: (event: AuthChangeEvent, session: Session | null) => void): { data: { subscription: Subscription } };
  /** (authwire) Why the last sign-out happened, or `null`. */
  signOutReason(): SignOutReason | null;
  signInWithSSO(...args: unknown[]): Promise<NotSupportedResult>;
  signInWithWeb3(...args: unknown[]): Promise<NotSupportedResult>;
  signInWithEthereum(...args: unknown[]): Promise<NotSupportedResult>;
  signInWithSolana(...args: unknown[]): Promise<NotSupportedResult>;
  signInWithPasskey(...args: unknown[]): Promise<NotSupportedResult>;
  registerPasskey(...args: unknown[]): Promise<NotSupportedResult>;
  linkIdentity(...args: unknown[]): Promise<NotSupportedResult>;
  linkIdentityOAuth(...args: unknown[]): Promise<NotSupportedResult>;
  linkIdentityIdToken(...args: unknown[]): Promise<NotSupportedResult>;
  unlinkIdentity(...args: unknown[]): Promise<NotSupportedResult>;
  /** Rejects with a `not_supported` error: `getClaims()` fetches and caches the JWKS itself. */
  fetchJwk(kid: string, jwks?: { keys: JsonWebKey[] }): Promise<JsonWebKey | null>;
  readonly mfa: MfaApi;
  readonly admin: AdminApi;
  /** The OAuth 2.1 server's consent API: not supported. */
  readonly oauth: NotSupportedApi<'getAuthorizationDetails' | 'approveAuthorization' | 'denyAuthorization' | 'listGrants' | 'revokeGrant'>;
  /** Passkeys: not supported. */
  readonly passkey: NotSupportedApi<'startRegistration' | 'verifyRegistration' | 'startAuthentication' | 'verifyAuthentication' | 'list' | 'update' | 'delete'>;
}
/** `auth.mfa`: what a server without enrolled factors can answer; enrolment, challenges and verification are not supported. */
export interface MfaApi extends NotSupportedApi<'enroll' | 'challenge' | 'verify' | 'challengeAndVerify'> {
  listFactors(): Promise<AuthResult<{ all: Factor[]; totp: Factor[]; phone: Factor[]; webauthn: Factor[]; recovery_code: Factor[] }>>;
  unenroll(params: { factorId: string }): Promise<AuthResult<{ id: string }>>;
  getAuthenticatorAssuranceLevel(jwt?: string): Promise<AuthResult<{ currentLevel: AuthenticatorAssuranceLevels | null; nextLevel: AuthenticatorAssuranceLevels | null; currentAuthenticationMethods: AMREntry[] | string[] }>>;
  readonly webauthn: NotSupportedApi<'enroll' | 'challenge' | 'verify' | 'authenticate' | 'register'>;
  readonly recoveryCodes: NotSupportedApi<'getStatus' | 'generate' | 'verify' | 'regenerate' | 'unenroll'>;
}
/** `auth.admin`: not supported (it needs the service key, which has no place in a browser). */
export interface AdminApi extends NotSupportedApi<'signOut' | 'inviteUserByEmail' | 'generateLink' | 'createUser' | 'listUsers' | 'getUserById' | 'updateUserById' | 'deleteUser'> {
  readonly mfa: NotSupportedApi<'listFactors' | 'deleteFactor'>;
  readonly oauth: NotSupportedApi<'listClients' | 'createClient' | 'getClient' | 'updateClient' | 'deleteClient' | 'regenerateClientSecret'>;
  readonly customProviders: NotSupportedApi<'listProviders' | 'createProvider' | 'getProvider' | 'updateProvider' | 'deleteProvider'>;
  readonly passkey: NotSupportedApi<'listPasskeys' | 'deletePasskey'>;
}
export interface AuthwireDiagnosis {
  auth: {
    mode: 'session' | 'third_party';
    ready: boolean;
    refreshing: boolean;
    session: null | { userId: string | null; role: string | null; isAnonymous: boolean; expiresAt: number; expiresInSeconds: number; clockSkewSeconds: number; accessToken: string };
    signOutReason: SignOutReason['reason'] | null;
    storageError: string | null;
    lastRefreshError: { code: string; message: string } | null;
  };
  realtime: {
    connectionState: RealtimeConnectionState;
    apikeyMode: 'project' | 'session';
    projectKeyIsJwt: boolean;
    socketKey: string;
    tokenRole: string | null;
    lastClose: { code: number; reason: string } | null;
    refusal: { code: string; message: string } | null;
    channels: { topic: string; state: RealtimeChannelState; private: boolean; effectiveRole: string | null; recovering: boolean; bufferedPushes: number }[];
  };
}
export interface AuthwireClientOptions {
  auth?: {
    persistSession?: boolean;
    autoRefreshToken?: boolean;
    storage?: SupportedStorage;
    storageKey?: string;
    flowType?: 'implicit' | 'pkce';
    detectSessionInUrl?: boolean;
  };
  /** Third-party auth: authwire then owns no session and asks this for tokens. */
  accessToken?: () => Promise<string | null>;
  realtime?: {
    vsn?: '1.0.0' | '2.0.0';
    apikey?: 'project' | 'session';
    heartbeatIntervalMs?: number;
    timeout?: number;
    /** Called before each reconnect attempt with realtime-js's `tries` (1 for the first, counted again after the socket was open); returns the delay in ms. Default: full jitter from 1 s, capped at 5 s. */
    reconnectAfterMs?: (tries: number) => number;
    worker?: boolean;
    /** Extra socket URL parameters; any JSON value, serialised as Phoenix does (`eventsPerSecond: 10`). */
    params?: { [key: string]: any };
    logger?: (kind: string, msg: string, data?: any) => void;
    logLevel?: 'info' | 'warn' | 'error';
  };
  global?: { headers?: Record<string, string>; fetch?: typeof fetch };
}
export interface RealtimeChannelOptions {
  config?: {
    broadcast?: { self?: boolean; ack?: boolean; replay?: { since: number; limit?: number } };
    presence?: { key?: string; enabled?: boolean };
    private?: boolean;
  };
}
export type RealtimePresence<T extends Record<string, unknown> = Record<string, unknown>> = T & { presence_ref: string };
export interface PresenceJoinPayload { event: 'join'; key: string; currentPresences: RealtimePresence[]; newPresences: RealtimePresence[] }
export interface PresenceLeavePayload { event: 'leave'; key: string; currentPresences: RealtimePresence[]; leftPresences: RealtimePresence[] }
export interface PresenceUpdatePayload { event: 'update'; key: string; newPresences: RealtimePresence[]; oldPresences: RealtimePresence[] }
export interface BroadcastPayload<T = Record<string, unknown>> { type: 'broadcast'; event: string; payload: T | ArrayBuffer; meta?: { id?: string; replayed?: boolean } }
export interface PostgresChangesPayload<T extends Record<string, unknown> = Record<string, unknown>> {
  schema: string; table: string; commit_timestamp: string;
  eventType: 'INSERT' | 'UPDATE' | 'DELETE';
  new: Partial<T>; old: Partial<T>; errors: string[] | null;
}
/** A `system` message as the server sent it; authwire adds `code: 'invalid_filter'` to the server's `postgres_changes` error about a filter authwire's validation refused too. */
export interface SystemPayload { extension: 'system' | 'postgres_changes' | (string & {}); status: 'ok' | 'error' | (string & {}); message: string; channel?: string; code?: 'invalid_filter' }
/** What realtime-js's `postgresChangesFilter()` builder is: anything with `build()`. */
export interface PostgresChangesFilterBuilder { build(): string }
/** `on('postgres_changes', …)`'s filter, as realtime-js 2.119 takes it. A filter the server refuses is reported as realtime-js reports it: `SUBSCRIBED`, then a `system` error (with `code: 'invalid_filter'` when authwire refused it too); `.on()` never throws for it. */
export interface PostgresChangesFilter { event: '*' | 'INSERT' | 'UPDATE' | 'DELETE'; schema: string; table?: string; filter?: string | PostgresChangesFilterBuilder; select?: string[] }
/** Creates a client. Throws an `AuthwireError` (`invalid_url`, `missing_key`, `invalid_option`) for a bad configuration. */
export function createClient(url: string, key: string, options?: AuthwireClientOptions): AuthwireClient;
export interface AuthwireClient {
  /** The channel for `realtime:<name>` (the same object for the same name while it is registered). */
  channel(name: string, opts?: RealtimeChannelOptions): RealtimeChannel;
  /**
   * `fetch` with `apikey` and the session's `Authorization`, refreshed first if due. The same
   * function each time and usable unbound: `new PostgrestClient(url, { fetch: client.fetch })`.
   */
  readonly fetch: typeof fetch;
}
export interface RealtimeChannel {
  /** Joins the channel; `cb` receives every status change, with realtime-js's `err` (a `RealtimeError` whose `message` is realtime-js's and which adds `code`; none for `TIMED_OUT` and `CLOSED`, except `signed_out`). Returns the channel. On a channel that is joining, joined or errored it does nothing (as realtime-js); on one that has closed it throws realtime-js's error. */
  subscribe(cb?: (status: SubscribeStatus, err?: RealtimeError) => void, timeout?: number): RealtimeChannel;
  /** Tracks this client's presence with `state` (`opts` as realtime-js takes them; unused). */
  track(state: Record<string, unknown>, opts?: { [key: string]: any }): Promise<RealtimeChannelSendResponse>;
  untrack(opts?: { [key: string]: any }): Promise<RealtimeChannelSendResponse>;
  /** Leaves and closes now (the callback sees `CLOSED`), as realtime-js's leave does; resolves `'ok'`. `timeout` is accepted for realtime-js's signature. */
  unsubscribe(timeout?: number): Promise<RealtimeChannelSendResponse>;
  /** A broadcast over the socket when the channel is joined, else over HTTP (as realtime-js); `type: 'presence'` tracks or untracks. `timeout` applies to either path (`'timed out'`). */
  send(args: { type: 'broadcast' | 'presence' | 'postgres_changes'; event: string; payload?: any; [key: string]: any }, opts?: { timeout?: number; [key: string]: any }): Promise<RealtimeChannelSendResponse>;
  /** Always the HTTP broadcast endpoint (`/api/broadcast/<topic>/events/<event>`); resolves `{ success: true }` on 202 and rejects with a `RealtimeError` (`http_error`, `http_timeout`, `payload_required`) otherwise, as realtime-js 2.119 does (its type also names `{ success: false }`, which it never resolves with). */
  httpSend(event: string, payload: any, opts?: { timeout?: number }): Promise<{ success: true } | { success: false; status: number; error: string }>;
  on(type: 'broadcast', filter: { event: string }, cb: (payload: BroadcastPayload) => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'sync' }, cb: () => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'join' }, cb: (payload: PresenceJoinPayload) => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'leave' }, cb: (payload: PresenceLeavePayload) => void): RealtimeChannel;
  on(type: 'presence', filter: { event: 'update' }, cb: (payload: PresenceUpdatePayload) => void): RealtimeChannel;
  /** `'*'`: what realtime-js gives it (sync, join, leave); authwire's `update` goes only to `update` listeners. */
  on(type: 'presence', filter: { event: '*' }, cb: (payload: { event: 'sync' } | PresenceJoinPayload | PresenceLeavePayload) => void): RealtimeChannel;
  on<T extends Record<string, unknown>>(type: 'postgres_changes', filter: PostgresChangesFilter, cb: (payload: PostgresChangesPayload<T>) => void): RealtimeChannel;
  on(type: 'system', filter: Record<string, never>, cb: (payload: SystemPayload) => void): RealtimeChannel;
}
export interface RealtimeApi {
  /** Never throws. With a session it changes nothing (authwire applies the session's token itself). Without one (and without the `accessToken` option) `token` is the socket's token for joins and `access_token` pushes; `setAuth()` goes back to the project key. With `accessToken`: `token`, or the callback asked again. */
  setAuth(token?: string | null): Promise<void>;
  /** Closes the socket; no reconnect until `connect()` or a `subscribe()`. `code` and `reason` are accepted for realtime-js's signature (authwire closes with 1000). */
  disconnect(code?: number, reason?: string): Promise<'ok' | 'timeout'>;
}

// realtime-js's constants and filter builder (plain JS beside the wasm: js/realtime.js). Each
// constant is also a type (the union of its values), as realtime-js's enums are.
export declare const REALTIME_SUBSCRIBE_STATES: { readonly SUBSCRIBED: 'SUBSCRIBED'; readonly TIMED_OUT: 'TIMED_OUT'; readonly CLOSED: 'CLOSED'; readonly CHANNEL_ERROR: 'CHANNEL_ERROR' };
export type REALTIME_SUBSCRIBE_STATES = (typeof REALTIME_SUBSCRIBE_STATES)[keyof typeof REALTIME_SUBSCRIBE_STATES];
export declare const REALTIME_LISTEN_TYPES: { readonly BROADCAST: 'broadcast'; readonly PRESENCE: 'presence'; readonly POSTGRES_CHANGES: 'postgres_changes'; readonly SYSTEM: 'system' };
export type REALTIME_LISTEN_TYPES = (typeof REALTIME_LISTEN_TYPES)[keyof typeof REALTIME_LISTEN_TYPES];
export declare const REALTIME_POSTGRES_CHANGES_LISTEN_EVENT: { readonly ALL: '*'; readonly INSERT: 'INSERT'; readonly UPDATE: 'UPDATE'; readonly DELETE: 'DELETE' };
export type REALTIME_POSTGRES_CHANGES_LISTEN_EVENT = (typeof REALTIME_POSTGRES_CHANGES_LISTEN_EVENT)[keyof typeof REALTIME_POSTGRES_CHANGES_LISTEN_EVENT];
export declare const REALTIME_PRESENCE_LISTEN_EVENTS: { readonly SYNC: 'sync'; readonly JOIN: 'join'; readonly LEAVE: 'leave' };
export type REALTIME_PRESENCE_LISTEN_EVENTS = (typeof REALTIME_PRESENCE_LISTEN_EVENTS)[keyof typeof REALTIME_PRESENCE_LISTEN_EVENTS];
export declare const REALTIME_CHANNEL_STATES: { readonly closed: 'closed'; readonly errored: 'errored'; readonly joined: 'joined'; readonly joining: 'joining'; readonly leaving: 'leaving' };
export type RealtimePostgresChangesFilterOperator = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'like' | 'ilike' | 'is' | 'match' | 'imatch' | 'isdistinct';
export type RealtimeFilterValue = string | number | boolean | null;
export type RealtimeIsFilterValue = null | boolean | 'null' | 'true' | 'false' | 'unknown';
/** Builds a `postgres_changes` filter (`column=op.value`, comma-joined), as realtime-js's does. */
export declare class RealtimePostgresFilterBuilder {
  eq(column: string, value: RealtimeFilterValue): this;
  neq(column: string, value: RealtimeFilterValue): this;
  gt(column: string, value: RealtimeFilterValue): this;
  gte(column: string, value: RealtimeFilterValue): this;
  lt(column: string, value: RealtimeFilterValue): this;
  lte(column: string, value: RealtimeFilterValue): this;
  /** Throws when `values` is empty. */
  in(column: string, values: ReadonlyArray<string | number | boolean>): this;
  like(column: string, pattern: string): this;
  ilike(column: string, pattern: string): this;
  match(column: string, pattern: string): this;
  imatch(column: string, pattern: string): this;
  is(column: string, value: RealtimeIsFilterValue): this;
  isDistinct(column: string, value: RealtimeFilterValue): this;
  not(column: string, operator: 'in', value: ReadonlyArray<string | number | boolean>): this;
  not(column: string, operator: 'is', value: RealtimeIsFilterValue): this;
  not(column: string, operator: Exclude<RealtimePostgresChangesFilterOperator, 'in' | 'is'>, value: RealtimeFilterValue): this;
  build(): string;
  toString(): string;
}
export declare const postgresChangesFilter: () => RealtimePostgresFilterBuilder;
