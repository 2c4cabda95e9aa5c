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
  | 'signed_out' | 'apikey_not_jwt' | 'user_not_found' | 'session_not_found' | 'user_banned' | 'unknown'
  | 'unknown_channel' | 'already_subscribed' | 'binding_after_subscribe' | 'invalid_filter'
  | 'replay_on_public_channel' | 'topic_too_long' | 'empty_topic' | 'destroyed' | 'payload_not_json'
  | 'unknown_listener_type' | 'payload_required' | 'payload_too_large' | 'http_error' | 'http_timeout' | (string & {});
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
/** `user.app_metadata`: GoTrue's `provider`/`providers` and whatever the project stores there. */
export interface UserAppMetadata { provider?: string; providers?: string[]; [key: string]: any }
/** `user.user_metadata`: the app's own data (`options.data`, `updateUser({ data })`). */
export interface UserMetadata { [key: string]: any }
/** GoTrue's user object, as the server sent it. */
export interface User {
  id: string;
  app_metadata: UserAppMetadata;
  user_metadata: UserMetadata;
  aud: string;
  confirmation_sent_at?: string;
  recovery_sent_at?: string;
  email_change_sent_at?: string;
  new_email?: string;
  new_phone?: string;
  invited_at?: string;
  action_link?: string;
  email?: string;
  phone?: string;
  created_at: string;
  confirmed_at?: string;
  email_confirmed_at?: string;
  phone_confirmed_at?: string;
  last_sign_in_at?: string;
  role?: string;
  updated_at?: string;
  identities?: UserIdentity[];
  is_anonymous?: boolean;
  is_sso_user?: boolean;
  factors?: (Factor<FactorType, 'verified'> | Factor<FactorType, 'unverified'>)[];
  deleted_at?: string;
  banned_until?: string;
}
export interface Session {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  expires_at?: number;
  token_type: 'bearer';
  user: User;
  provider_token?: string | null;
  provider_refresh_token?: string | null;
}
/** supabase-js's names for `Session` and `User`. */
export type AuthSession = Session;
export type AuthUser = User;
/** `{ data, error }`, `data` null on error (auth-js's `RequestResult`). */
export type RequestResult<T, ErrorType extends Error = AuthError> = { data: T; error: null } | { data: null; error: ErrorType };
/** `{ data, error }` whose `data` on error has the same keys, each `null` (auth-js's `RequestResultSafeDestructure`): `const { data: { user } } = …` never throws. */
export type RequestResultSafeDestructure<T> = { data: T; error: null } | { data: T extends object ? { [K in keyof T]: null } : null; error: AuthError };
export type AuthResponse = RequestResultSafeDestructure<{ user: User | null; session: Session | null }>;
export type AuthResponsePassword = RequestResultSafeDestructure<{ user: User | null; session: Session | null; weak_password?: WeakPassword | null }>;
/** `messageId` for an SMS. */
export type AuthOtpResponse = RequestResultSafeDestructure<{ user: null; session: null; messageId?: string | null }>;
export type AuthTokenResponse = RequestResultSafeDestructure<{ user: User; session: Session }>;
/** `signInWithPassword`'s result: `weak_password` (GoTrue's member, passed through) when GoTrue flags the password. auth-js names it `weakPassword` instead. */
export type AuthTokenResponsePassword = RequestResultSafeDestructure<{ user: User; session: Session; weak_password?: WeakPassword }>;
export type UserResponse = RequestResultSafeDestructure<{ user: User }>;
/** On error `provider` is `null` (auth-js keeps the provider). */
export type OAuthResponse = { data: { provider: Provider; url: string }; error: null } | { data: { provider: null; url: null }; error: AuthError };
export type InitializeResult = { error: AuthError | null };
/** @deprecated authwire's earlier name for `RequestResult`. */
export type AuthResult<T> = RequestResult<T>;
export interface SupportedStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}
export type SignOutReason = { reason: 'user' | 'refresh_failed' | 'session_revoked' | 'other_tab'; code?: string };
/** `id` is a number (auth-js: `string | symbol`). */
export interface Subscription { id: number; callback: (event: AuthChangeEvent, session: Session | null) => void; unsubscribe(): void }
type EmailOrPhone = { email: string; phone?: never } | { phone: string; email?: never };
/** OAuth providers GoTrue knows, and `custom:<id>` for a custom OIDC provider. */
export type Provider =
  | 'apple' | 'azure' | 'bitbucket' | 'discord' | 'facebook' | 'figma' | 'github' | 'gitlab' | 'google' | 'kakao' | 'keycloak'
  | 'linkedin' | 'linkedin_oidc' | 'notion' | 'slack' | 'slack_oidc' | 'spotify' | 'twitch' | 'twitter' | 'x' | 'workos' | 'zoom' | 'fly'
  | `custom:${string}`;
export type AuthFlowType = 'implicit' | 'pkce';
/** Email or phone (not both: authwire's types refuse the pair auth-js's accept). */
export type SignUpWithPasswordCredentials = EmailOrPhone & { password: string; options?: { emailRedirectTo?: string; data?: object; captchaToken?: string; channel?: 'sms' | 'whatsapp' } };
export type SignInWithPasswordCredentials = EmailOrPhone & { password: string; options?: { captchaToken?: string } };
export type SignInWithPasswordlessCredentials =
  | { email: string; phone?: never; options?: { emailRedirectTo?: string; shouldCreateUser?: boolean; data?: object; captchaToken?: string } }
  | { phone: string; email?: never; options?: { shouldCreateUser?: boolean; data?: object; captchaToken?: string; channel?: 'sms' | 'whatsapp' } };
export type SignInAnonymouslyCredentials = { options?: { data?: object; captchaToken?: string } };
export type SignInWithOAuthCredentials = { provider: Provider; options?: { redirectTo?: string; scopes?: string; queryParams?: { [key: string]: string }; skipBrowserRedirect?: boolean } };
export type SignInWithIdTokenCredentials = { provider: 'google' | 'apple' | 'azure' | 'facebook' | 'kakao' | `custom:${string}` | (string & {}); token: string; access_token?: string; nonce?: string; options?: { captchaToken?: string } };
export type MobileOtpType = 'sms' | 'phone_change' | (string & {});
export type EmailOtpType = 'signup' | 'invite' | 'magiclink' | 'recovery' | 'email_change' | 'email' | (string & {});
export interface VerifyMobileOtpParams { phone: string; token: string; type: MobileOtpType; options?: { redirectTo?: string; captchaToken?: string } }
export interface VerifyEmailOtpParams { email: string; token: string; type: EmailOtpType; options?: { redirectTo?: string; captchaToken?: string } }
export interface VerifyTokenHashParams { token_hash: string; type: EmailOtpType }
export type VerifyOtpParams = VerifyMobileOtpParams | VerifyEmailOtpParams | VerifyTokenHashParams;
export type ResendParams =
  | { type: 'signup' | 'email_change'; email: string; options?: { emailRedirectTo?: string; captchaToken?: string } }
  | { type: 'sms' | 'phone_change'; phone: string; options?: { captchaToken?: string } };
export interface UserAttributes { current_password?: string; email?: string; phone?: string; password?: string; nonce?: string; data?: object }
export type SignOutScope = 'global' | 'local' | 'others';
export type SignOut = { scope?: SignOutScope };
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
export type Factor<Type extends FactorType = FactorType, Status extends 'verified' | 'unverified' = 'verified' | 'unverified'> = {
  id: string;
  friendly_name?: string;
  factor_type: Type;
  status: Status;
  created_at: string;
  updated_at: string;
  last_challenged_at?: string;
};
export type AuthenticatorAssuranceLevels = 'aal1' | 'aal2' | (string & {});
export type AMRMethod = 'password' | 'otp' | 'oauth' | 'totp' | 'mfa/totp' | 'mfa/phone' | 'mfa/webauthn' | 'mfa/recovery_code' | 'anonymous' | 'sso/saml' | 'magiclink' | 'web3' | 'oauth_provider/authorization_code' | (string & {});
export interface AMREntry { method: AMRMethod; timestamp: number }
export interface JwtHeader { alg: string; kid?: string; typ?: string }
/** The claims every access token GoTrue issues for a user carries (a token from elsewhere, given as `getClaims(jwt)`, may lack some). */
export type RequiredClaims = { iss: string; sub: string; aud: string | string[]; exp: number; iat: number; role: string; aal: AuthenticatorAssuranceLevels; session_id: string };
export interface JwtPayload extends RequiredClaims {
  email?: string; phone?: string; is_anonymous?: boolean; jti?: string; nbf?: number;
  app_metadata?: UserAppMetadata; user_metadata?: UserMetadata; amr?: AMREntry[] | string[]; ref?: string;
  [key: string]: any;
}
export interface WeakPassword { reasons: WeakPasswordReasons[]; message: string }
/** What every out-of-scope method resolves with. */
export type NotSupportedResult = { data: null; error: AuthError };
/** A namespace whose methods all resolve with a `not_supported` error. */
export type NotSupportedApi<M extends string> = { [K in M]: (...args: unknown[]) => Promise<NotSupportedResult> };
export interface AuthApi {
  signUp(credentials: SignUpWithPasswordCredentials): Promise<AuthResponse>;
  signInWithPassword(credentials: SignInWithPasswordCredentials): Promise<AuthTokenResponsePassword>;
  signInAnonymously(credentials?: SignInAnonymouslyCredentials): Promise<AuthResponse>;
  signInWithOtp(credentials: SignInWithPasswordlessCredentials): Promise<AuthOtpResponse>;
  verifyOtp(params: VerifyOtpParams): Promise<AuthResponse>;
  /** Navigates to the provider unless `options.skipBrowserRedirect`. */
  signInWithOAuth(credentials: SignInWithOAuthCredentials): Promise<OAuthResponse>;
  /** `redirectType` is `'recovery'` after a password-reset link (PASSWORD_RECOVERY), else `null` (auth-js sets it too; its type omits it). */
  exchangeCodeForSession(authCode: string): Promise<RequestResultSafeDestructure<{ user: User; session: Session; redirectType: 'recovery' | null }>>;
  signInWithIdToken(credentials: SignInWithIdTokenCredentials): Promise<AuthTokenResponse>;
  signOut(options?: SignOut): Promise<{ error: AuthError | null }>;
  getSession(): Promise<{ data: { session: Session }; error: null } | { data: { session: null }; error: AuthError } | { data: { session: null }; error: null }>;
  getUser(jwt?: string): Promise<UserResponse>;
  /** `signature` is the decoded signature bytes, as auth-js gives it; without a session `{ data: null, error: null }`. */
  getClaims(jwt?: string): Promise<{ data: { claims: JwtPayload; header: JwtHeader; signature: Uint8Array }; error: null } | { data: null; error: AuthError } | { data: null; error: null }>;
  refreshSession(current?: { refresh_token: string }): Promise<AuthResponse>;
  setSession(tokens: { access_token: string; refresh_token: string }): Promise<AuthResponse>;
  updateUser(attributes: UserAttributes): Promise<UserResponse>;
  resetPasswordForEmail(email: string, options?: { redirectTo?: string; captchaToken?: string }): Promise<RequestResult<{}>>;
  resend(credentials: ResendParams): Promise<AuthOtpResponse>;
  /** GoTrue mails a nonce for `updateUser({ password, nonce })`. */
  reauthenticate(): Promise<AuthResponse>;
  getUserIdentities(): Promise<RequestResult<{ identities: UserIdentity[] }>>;
  /** Resolves once start-up settled (the session read from storage or taken from the page URL). */
  initialize(): Promise<InitializeResult>;
  /** An `async` callback is not awaited. */
  onAuthStateChange(callback: (event: AuthChangeEvent, session: Session | null) => void | Promise<void>): { data: { subscription: Subscription } };
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
export type AuthMFAListFactorsResponse = RequestResult<{ all: Factor[] } & { [K in FactorType]: Factor<K, 'verified'>[] }>;
export type AuthMFAUnenrollResponse = RequestResult<{ id: string }>;
export type AuthMFAGetAuthenticatorAssuranceLevelResponse = RequestResult<{ currentLevel: AuthenticatorAssuranceLevels | null; nextLevel: AuthenticatorAssuranceLevels | null; currentAuthenticationMethods: AMREntry[] | string[] }>;
/** `auth.mfa`: what a server without enrolled factors can answer; enrolment, challenges and verification are not supported. */
export interface MfaApi extends NotSupportedApi<'enroll' | 'challenge' | 'verify' | 'challengeAndVerify'> {
  /** Every factor in `all`; the verified ones also under their type. */
  listFactors(): Promise<AuthMFAListFactorsResponse>;
  unenroll(params: { factorId: string }): Promise<AuthMFAUnenrollResponse>;
  getAuthenticatorAssuranceLevel(jwt?: string): Promise<AuthMFAGetAuthenticatorAssuranceLevelResponse>;
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
    /** The last refusal of the token: the Realtime server's reason (join, channel close), or the auth server's answer about the token of a refused handshake (`authCode`: GoTrue's code). */
    refusal: { code: string; message: string; authCode: string | null } | null;
    channels: { topic: string; state: RealtimeChannelState; private: boolean; effectiveRole: string | null; recovering: boolean; bufferedPushes: number; lastGap: { from: number; to: number; reason: RealtimeGapReason } | null }[];
  };
}
/**
 * `createClient`'s options: supabase-js's keys, so its options objects type-check unchanged.
 * authwire reads `auth.persistSession`, `auth.autoRefreshToken`, `auth.storage`,
 * `auth.storageKey`, `auth.flowType`, `auth.detectSessionInUrl` (a boolean), `accessToken`,
 * `global` and the `realtime` keys documented in `RealtimeClientOptions`; every key marked
 * "Ignored" is accepted and has no effect.
 */
export interface AuthwireClientOptions<SchemaName = string> {
  /** Ignored: authwire has no PostgREST client (`from`, `rpc`); use `client.fetch`. */
  db?: { schema?: SchemaName; timeout?: number; urlLengthLimit?: number; retry?: boolean };
  auth?: {
    persistSession?: boolean;
    autoRefreshToken?: boolean;
    storage?: SupportedStorage;
    storageKey?: string;
    flowType?: AuthFlowType;
    /** A function is ignored (the URL is always checked when this is not `false`). */
    detectSessionInUrl?: boolean | ((url: URL, params: { [parameter: string]: string }) => boolean);
    /** Ignored: the user is stored with the session. */
    userStorage?: SupportedStorage;
    /** Ignored: use `realtime.logger`. */
    debug?: boolean | ((message: string, ...args: any[]) => void);
    /** Ignored: authwire serialises tabs with Web Locks itself. */
    lock?: LockFunc;
    /** Ignored (as `lock`). */
    lockAcquireTimeout?: number;
    /** Only `false`: authwire always resolves `{ data, error }` and never throws auth errors. */
    throwOnError?: false;
    /** Ignored: passkeys and recovery codes are not supported. */
    experimental?: { passkey?: boolean; recoveryCodes?: boolean; [flag: string]: boolean | undefined };
    /** Ignored: start-up always begins in `createClient`; `auth.initialize()` resolves when it settled. */
    skipAutoInitialize?: boolean;
  };
  /** Third-party auth: authwire then owns no session and asks this for tokens. */
  accessToken?: () => Promise<string | null>;
  realtime?: RealtimeClientOptions;
  /** Ignored: authwire has no Storage client. */
  storage?: { useNewHostname?: boolean };
  global?: { headers?: Record<string, string>; fetch?: typeof fetch };
  /** Ignored. */
  tracePropagation?: boolean | TracePropagationOptions;
}
export type LockFunc = <R>(name: string, acquireTimeout: number, fn: () => Promise<R>) => Promise<R>;
export interface TracePropagationOptions { enabled?: boolean; respectSamplingDecision?: boolean }
/** supabase-js's name for the options type. */
export type SupabaseClientOptions<SchemaName = string> = AuthwireClientOptions<SchemaName>;
/** The `realtime` options: realtime-js's keys; those marked "Ignored" have no effect. */
export interface RealtimeClientOptions {
  /** Only `'1.0.0'` and `'2.0.0'` (another value throws `invalid_option`). */
  vsn?: '1.0.0' | '2.0.0';
  /** (authwire) The socket's `apikey` parameter: the project key (default) or the session's token. */
  apikey?: 'project' | 'session';
  heartbeatIntervalMs?: number;
  timeout?: number;
  /** (authwire) The largest broadcast or presence payload sent, in bytes of JSON; a larger one is refused with `payload_too_large` before sending (the server would drop it, silently without `ack`). Default 3,000,000 (the server's default tenant limit); 0 turns the check off. */
  maxPayloadBytes?: number;
  /** Called before each reconnect attempt with realtime-js's `tries` (1 for the first, counted again after the socket was open); returns the delay in ms. Default: full jitter from 1 s, capped at 5 s. */
  reconnectAfterMs?: (tries: number) => number;
  worker?: boolean;
  /** Extra socket URL parameters; any JSON value, serialised as Phoenix does (`eventsPerSecond: 10`). */
  params?: { [key: string]: any };
  logger?: (kind: string, msg: string, data?: any) => void;
  /** Sent as the socket's `log_level` (`'warn'` as the server's `'warning'`). */
  logLevel?: 'info' | 'warn' | 'error' | (string & {});
  /** Ignored: use `logLevel`. */
  log_level?: 'info' | 'warn' | 'error' | (string & {});
  /** Ignored: use `realtime.onHeartbeat(cb)`. */
  heartbeatCallback?: (status: HeartbeatStatus, latency?: number) => void;
  /** Ignored: authwire always uses the browser's `WebSocket`. */
  transport?: new (address: string | URL, subprotocols?: string | string[]) => unknown;
  /** Ignored: authwire's own codec. */
  encode?: (...args: never[]) => unknown;
  /** Ignored: authwire's own codec. */
  decode?: (...args: never[]) => unknown;
  /** Ignored: use `global.headers`. */
  headers?: { [key: string]: string };
  /** Ignored: use `global.fetch`. */
  fetch?: typeof fetch;
  /** Ignored: authwire's timer worker is built in. */
  workerUrl?: string;
  /** Ignored: use the top-level `accessToken`. */
  accessToken?: () => Promise<string | null>;
  /** Ignored: the socket stays open until `disconnect()` or `removeAllChannels()`. */
  disconnectOnEmptyChannelsAfterMs?: number;
  /** Ignored. */
  sessionStorage?: Storage;
}
export interface RealtimeChannelOptions {
  config?: {
    /** `replay`: realtime-js's, for every join; authwire also replays what a private channel missed when it rejoins after losing its join (deduplicated by `meta.id`; a gap event says what could not be); `false` turns that off. */
    broadcast?: { self?: boolean; ack?: boolean; replay?: { since: number; limit?: number } | false; /** Ignored. */ replication_ready?: boolean };
    presence?: { key?: string; enabled?: boolean };
    private?: boolean;
    /** Ignored: the join never waits for the postgres_changes subscription; a filter the server refuses arrives as a `system` error after `SUBSCRIBED`. */
    postgres_changes_options?: { wait?: boolean; timeout?: number };
  };
}
/** A tracked presence: the state given to `track()`, plus `presence_ref`. Without `T` its other members are `any` (realtime-js's default `{}` leaves only `presence_ref`). */
export type RealtimePresence<T extends { [key: string]: any } = { [key: string]: any }> = { presence_ref: string } & T;
export type RealtimePresenceState<T extends { [key: string]: any } = { [key: string]: any }> = { [key: string]: RealtimePresence<T>[] };
export type RealtimePresenceJoinPayload<T extends { [key: string]: any }> = { event: 'join'; key: string; currentPresences: RealtimePresence<T>[]; newPresences: RealtimePresence<T>[] };
export type RealtimePresenceLeavePayload<T extends { [key: string]: any }> = { event: 'leave'; key: string; currentPresences: RealtimePresence<T>[]; leftPresences: RealtimePresence<T>[] };
/** (authwire) A key's presence replaced in place (realtime-js reports it as a join). */
export type RealtimePresenceUpdatePayload<T extends { [key: string]: any }> = { event: 'update'; key: string; newPresences: RealtimePresence<T>[]; oldPresences: RealtimePresence<T>[] };
/** authwire's earlier names. */
export type PresenceJoinPayload<T extends { [key: string]: any } = { [key: string]: any }> = RealtimePresenceJoinPayload<T>;
export type PresenceLeavePayload<T extends { [key: string]: any } = { [key: string]: any }> = RealtimePresenceLeavePayload<T>;
export type PresenceUpdatePayload<T extends { [key: string]: any } = { [key: string]: any }> = RealtimePresenceUpdatePayload<T>;
/** A broadcast as `on<T>('broadcast', …)` delivers it; `payload` is an `ArrayBuffer` for binary user data. */
export interface BroadcastPayload<T = { [key: string]: any }> { type: 'broadcast'; event: string; meta?: { replayed?: boolean; id: string }; payload: T }
type RealtimePostgresChangesPayloadBase = { schema: string; table: string; commit_timestamp: string; errors: string[] | null };
export type RealtimePostgresInsertPayload<T extends { [key: string]: any }> = RealtimePostgresChangesPayloadBase & { eventType: 'INSERT'; new: T; old: {} };
/** `old` holds the primary key, or the whole old row under `REPLICA IDENTITY FULL`. */
export type RealtimePostgresUpdatePayload<T extends { [key: string]: any }> = RealtimePostgresChangesPayloadBase & { eventType: 'UPDATE'; new: T; old: Partial<T> };
export type RealtimePostgresDeletePayload<T extends { [key: string]: any }> = RealtimePostgresChangesPayloadBase & { eventType: 'DELETE'; new: {}; old: Partial<T> };
/** A Postgres change, discriminated by `eventType`; values converted by column type, as realtime-js does. */
export type RealtimePostgresChangesPayload<T extends { [key: string]: any }> = RealtimePostgresInsertPayload<T> | RealtimePostgresUpdatePayload<T> | RealtimePostgresDeletePayload<T>;
/** authwire's earlier name. */
export type PostgresChangesPayload<T extends { [key: string]: any } = { [key: string]: any }> = RealtimePostgresChangesPayload<T>;
/** A `system` message as the server sent it; authwire adds `code: 'invalid_filter'` to the server's `postgres_changes` error about a filter authwire's validation refused too. */
export interface RealtimeSystemPayload { extension: 'system' | 'postgres_changes' | (string & {}); status: 'ok' | 'error' | (string & {}); message: string; channel?: string; code?: 'invalid_filter' | 'gap' }
/** (authwire) Why what was sent while a channel was not joined is not replayed. */
export type RealtimeGapReason = 'public_channel' | 'postgres_changes' | 'replay_limit' | 'replay_error' | 'not_replayed' | 'not_stored';
/** (authwire) A time a channel was not joined after it had been: after the rejoin's `SUBSCRIBED`, before any live message. `from`/`to`: ms since the epoch. */
export interface RealtimeGapPayload extends RealtimeSystemPayload { event: 'gap'; code: 'gap'; from: number; to: number; reason: RealtimeGapReason }
export type SystemPayload = RealtimeSystemPayload;
/** What realtime-js's `postgresChangesFilter()` builder is: anything with `build()`. */
export interface PostgresChangesFilterBuilder { build(): string }
/** `on('postgres_changes', …)`'s filter, as realtime-js 2.119 takes it. A filter the server refuses is reported as realtime-js reports it: `SUBSCRIBED`, then a `system` error (with `code: 'invalid_filter'` when authwire refused it too); `.on()` never throws for it. */
export type RealtimePostgresChangesFilter<T extends '*' | 'INSERT' | 'UPDATE' | 'DELETE'> = { event: T; schema: string; table?: string; filter?: string | PostgresChangesFilterBuilder; select?: string[] };
export type PostgresChangesFilter = RealtimePostgresChangesFilter<'*' | 'INSERT' | 'UPDATE' | 'DELETE'>;
/** supabase-js's `createClient` type parameters; `Database` only checks the schema name (authwire has no `from()`). */
type SchemaNames<Database> = string & keyof Omit<Database, '__InternalSupabase'>;
type DefaultSchema<Database> = 'public' extends keyof Omit<Database, '__InternalSupabase'> ? 'public' : SchemaNames<Database>;
export type DatabaseWithoutInternals<DB> = Omit<DB, '__InternalSupabase'>;
/** Creates a client. Throws an `AuthwireError` (`invalid_url`, `missing_key`, `invalid_option`) for a bad configuration. */
export function createClient<
  Database = any,
  SchemaNameOrClientOptions extends SchemaNames<Database> | { PostgrestVersion: string } = DefaultSchema<Database>,
  SchemaName extends SchemaNames<Database> = SchemaNameOrClientOptions extends SchemaNames<Database> ? SchemaNameOrClientOptions : DefaultSchema<Database>,
>(url: string, key: string, options?: AuthwireClientOptions<SchemaName>): SupabaseClient<Database, SchemaNameOrClientOptions, SchemaName>;
/** supabase-js's client type with its type parameters: the same `AuthwireClient` whatever they are (a type only: there is no `new SupabaseClient()`). */
export type SupabaseClient<
  Database = any,
  SchemaNameOrClientOptions extends SchemaNames<Database> | { PostgrestVersion: string } = DefaultSchema<Database>,
  SchemaName extends SchemaNames<Database> = SchemaNameOrClientOptions extends SchemaNames<Database> ? SchemaNameOrClientOptions : DefaultSchema<Database>,
  Schema = any,
  ClientOptions = any,
> = AuthwireClient;
export interface AuthwireClient {
  /** The channel for `realtime:<name>` (the same object for the same name while it is registered). */
  channel(name: string, opts?: RealtimeChannelOptions): RealtimeChannel;
  /**
   * `fetch` with `apikey` and the session's `Authorization`, refreshed first if due. The same
   * function each time and usable unbound: `new PostgrestClient(url, { fetch: client.fetch })`.
   */
  readonly fetch: typeof fetch;
}
/** The object a `{ [key: string]: any }` type parameter defaults to. */
type Row = { [key: string]: any };
export interface RealtimeChannel {
  /** Joins the channel; `cb` receives every status change, with realtime-js's `err` (a `RealtimeError` whose `message` is realtime-js's and which adds `code`; none for `TIMED_OUT` and `CLOSED`, except `signed_out`). Returns the channel. On a channel that is joining, joined or errored it does nothing (as realtime-js); on one that has closed it throws realtime-js's error. */
  subscribe(cb?: (status: SubscribeStatus, err?: RealtimeError) => void, timeout?: number): RealtimeChannel;
  /** `{ [key]: presences }`; `T` is the state the clients `track()`. */
  presenceState<T extends Row = Row>(): RealtimePresenceState<T>;
  /** Tracks this client's presence with `state` (`opts` as realtime-js takes them; unused). */
  track(state: { [key: string]: any }, opts?: { [key: string]: any }): Promise<RealtimeChannelSendResponse>;
  untrack(opts?: { [key: string]: any }): Promise<RealtimeChannelSendResponse>;
  /** Leaves and closes now (the callback sees `CLOSED`), as realtime-js's leave does; resolves `'ok'`. `timeout` is accepted for realtime-js's signature. */
  unsubscribe(timeout?: number): Promise<RealtimeChannelSendResponse>;
  /** A broadcast over the socket when the channel is joined, else over HTTP (as realtime-js); `type: 'presence'` tracks or untracks. `timeout` applies to either path (`'timed out'`). */
  send(args: { type: 'broadcast' | 'presence' | 'postgres_changes'; event: string; payload?: any; [key: string]: any }, opts?: { timeout?: number; [key: string]: any }): Promise<RealtimeChannelSendResponse>;
  /** Always the HTTP broadcast endpoint (`/api/broadcast/<topic>/events/<event>`); resolves `{ success: true }` on 202 and rejects with a `RealtimeError` (`http_error`, `http_timeout`, `payload_required`) otherwise, as realtime-js 2.119 does (its type also names `{ success: false }`, which it never resolves with). */
  httpSend(event: string, payload: any, opts?: { timeout?: number }): Promise<{ success: true } | { success: false; status: number; error: string }>;
  on(type: 'presence', filter: { event: 'sync' }, cb: () => void): RealtimeChannel;
  on<T extends Row>(type: 'presence', filter: { event: 'join' }, cb: (payload: RealtimePresenceJoinPayload<T>) => void): RealtimeChannel;
  on<T extends Row>(type: 'presence', filter: { event: 'leave' }, cb: (payload: RealtimePresenceLeavePayload<T>) => void): RealtimeChannel;
  on<T extends Row>(type: 'presence', filter: { event: 'update' }, cb: (payload: RealtimePresenceUpdatePayload<T>) => void): RealtimeChannel;
  /** `'*'`: what realtime-js gives it (sync, join, leave; its type omits sync's `{ event: 'sync' }`); authwire's `update` goes only to `update` listeners. */
  on<T extends Row>(type: 'presence', filter: { event: '*' }, cb: (payload: { event: 'sync' } | RealtimePresenceJoinPayload<T> | RealtimePresenceLeavePayload<T>) => void): RealtimeChannel;
  on<T extends Row>(type: 'postgres_changes', filter: RealtimePostgresChangesFilter<'*'>, cb: (payload: RealtimePostgresChangesPayload<T>) => void): RealtimeChannel;
  on<T extends Row>(type: 'postgres_changes', filter: RealtimePostgresChangesFilter<'INSERT'>, cb: (payload: RealtimePostgresInsertPayload<T>) => void): RealtimeChannel;
  on<T extends Row>(type: 'postgres_changes', filter: RealtimePostgresChangesFilter<'UPDATE'>, cb: (payload: RealtimePostgresUpdatePayload<T>) => void): RealtimeChannel;
  on<T extends Row>(type: 'postgres_changes', filter: RealtimePostgresChangesFilter<'DELETE'>, cb: (payload: RealtimePostgresDeletePayload<T>) => void): RealtimeChannel;
  on<T extends Row>(type: 'postgres_changes', filter: PostgresChangesFilter, cb: (payload: RealtimePostgresChangesPayload<T>) => void): RealtimeChannel;
  /** Untyped: `payload` is whatever was sent (an `ArrayBuffer` for binary user data). */
  on(type: 'broadcast', filter: { event: string }, cb: (payload: { type: 'broadcast'; event: string; meta?: { replayed?: boolean; id: string }; [key: string]: any }) => void): RealtimeChannel;
  on<T extends Row>(type: 'broadcast', filter: { event: string }, cb: (payload: BroadcastPayload<T>) => void): RealtimeChannel;
  /** (authwire) Only gap events: the channel was not joined from `from` to `to`, and what was sent meanwhile will not arrive (refetch). */
  on(type: 'system', filter: { event: 'gap' }, cb: (payload: RealtimeGapPayload) => void): RealtimeChannel;
  /** Every `system` message, as realtime-js (authwire's gap events included). */
  on(type: 'system', filter: {}, cb: (payload: RealtimeSystemPayload) => void): RealtimeChannel;
}
/** supabase-js's name for `client.realtime`'s type (a type only). */
export type RealtimeClient = RealtimeApi;
/** realtime-js's name for what `removeChannel` resolves with. */
export type RealtimeRemoveChannelResponse = RealtimeChannelSendResponse;
export interface RealtimeApi {
  /** Never throws. With a session it changes nothing (authwire applies the session's token itself). Without one (and without the `accessToken` option) `token` is the socket's token for joins and `access_token` pushes; `setAuth()` goes back to the project key. With `accessToken`: `token`, or the callback asked again. */
  setAuth(token?: string | null): Promise<void>;
  /** Closes the socket; no reconnect until `connect()` or a `subscribe()`. `code` and `reason` are accepted for realtime-js's signature (authwire closes with 1000). */
  disconnect(code?: number, reason?: string): Promise<'ok' | 'timeout'>;
}

// realtime-js's constants and filter builder (plain JS beside the wasm: js/realtime.js). Each
// constant is also a type (the union of its values), as realtime-js's enums are.
export declare const REALTIME_SUBSCRIBE_STATES: { readonly SUBSCRIBED: 'SUBSCRIBED'; readonly TIMED_OUT: 'TIMED_OUT'; readonly CLOSED: 'CLOSED'; readonly CHANNEL_ERROR: 'CHANNEL_ERROR' };
/** As a type: every status a `subscribe()` callback sees, so `(status: REALTIME_SUBSCRIBE_STATES) => …` callbacks type-check; that includes authwire's `RECOVERING`, which has no key in the constant. */
export type REALTIME_SUBSCRIBE_STATES = SubscribeStatus;
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
