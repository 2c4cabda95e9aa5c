// authwire's error classes and auth-js's guards, imported by the wasm module (a wasm-bindgen
// `module` snippet beside js/glue.js) and re-exported by both package entries: Rust cannot
// export a JS class, and `import { AuthApiError } from 'authwire'` works as with supabase-js.

/** Base class of every error authwire throws or returns (alone: a refused configuration). */
export class AuthwireError extends Error {
  constructor(code, message, status) {
    super(message)
    this.name = 'AuthwireError'
    this.code = code
    if (status !== undefined) this.status = status
  }
  toJSON() {
    return { name: this.name, message: this.message, code: this.code, status: this.status }
  }
}

// Auth errors: auth-js 2.119's classes, with its names, constructor arguments, `status`,
// `code` and `toJSON`, so `instanceof` and the `isAuth…Error` guards behave as with
// supabase-js. authwire's own errors also carry a stable `code` where auth-js has none
// (`session_missing`, `network_error`, …). The guards test the `__isAuthError` marker and the
// name, as auth-js's do, so they work across bundle copies (and on auth-js's own errors).

/** Base class of every auth error (auth-js's `AuthError(message, status?, code?)`). */
export class AuthError extends AuthwireError {
  constructor(message, status, code) {
    super(code, message, status)
    this.__isAuthError = true
    this.name = 'AuthError'
    this.status = status
    this.code = code
  }
  toJSON() {
    return { name: this.name, message: this.message, status: this.status, code: this.code }
  }
}
/** An error answer of the auth server. */
export class AuthApiError extends AuthError {
  constructor(message, status, code) {
    super(message, status, code)
    this.name = 'AuthApiError'
  }
}
/** An error answer that is not JSON. */
export class AuthUnknownError extends AuthError {
  constructor(message, originalError) {
    super(message)
    this.name = 'AuthUnknownError'
    this.originalError = originalError
  }
}
/** A named auth error made on the client. */
export class CustomAuthError extends AuthError {
  constructor(message, name, status, code) {
    super(message, status, code)
    this.name = name
    this.status = status
  }
}
export class AuthSessionMissingError extends CustomAuthError {
  constructor() { super('Auth session missing!', 'AuthSessionMissingError', 400, undefined) }
}
export class AuthInvalidTokenResponseError extends CustomAuthError {
  constructor() { super('Auth session or user missing', 'AuthInvalidTokenResponseError', 500, undefined) }
}
export class AuthInvalidCredentialsError extends CustomAuthError {
  constructor(message) { super(message, 'AuthInvalidCredentialsError', 400, undefined) }
}
export class AuthImplicitGrantRedirectError extends CustomAuthError {
  constructor(message, details = null) {
    super(message, 'AuthImplicitGrantRedirectError', 500, undefined)
    this.details = details
  }
  toJSON() {
    return { ...super.toJSON(), details: this.details }
  }
}
export class AuthPKCEGrantCodeExchangeError extends CustomAuthError {
  constructor(message, details = null) {
    super(message, 'AuthPKCEGrantCodeExchangeError', 500, undefined)
    this.details = details
  }
  toJSON() {
    return { ...super.toJSON(), details: this.details }
  }
}
export class AuthPKCECodeVerifierMissingError extends CustomAuthError {
  constructor() {
    super(
      'PKCE code verifier not found in storage. This can happen if the auth flow was initiated in a different browser or device, or if the storage was cleared. For SSR frameworks (Next.js, SvelteKit, etc.), use @supabase/ssr on both the server and client to store the code verifier in cookies.',
      'AuthPKCECodeVerifierMissingError',
      400,
      'pkce_code_verifier_not_found',
    )
  }
}
export class AuthRetryableFetchError extends CustomAuthError {
  constructor(message, status) { super(message, 'AuthRetryableFetchError', status, undefined) }
}
export class AuthRefreshDiscardedError extends CustomAuthError {
  constructor(message = 'Refresh result discarded: session state changed mid-flight (e.g., concurrent signOut)') {
    super(message, 'AuthRefreshDiscardedError', 409, undefined)
  }
}
export class AuthWeakPasswordError extends CustomAuthError {
  constructor(message, status, reasons) {
    super(message, 'AuthWeakPasswordError', status, 'weak_password')
    this.reasons = reasons
  }
  toJSON() {
    return { ...super.toJSON(), reasons: this.reasons }
  }
}
export class AuthInvalidJwtError extends CustomAuthError {
  constructor(message) { super(message, 'AuthInvalidJwtError', 400, 'invalid_jwt') }
}

/** The error the core describes: auth-js's class for `name`, with authwire's `code`. */
const AUTH_ERRORS = {
  AuthApiError: (message, status, code) => new AuthApiError(message, status, code),
  AuthWeakPasswordError: (message, status, _, extra) => new AuthWeakPasswordError(message, status, extra ?? []),
  AuthRetryableFetchError: (message, status) => new AuthRetryableFetchError(message, status),
  AuthSessionMissingError: () => new AuthSessionMissingError(),
  AuthInvalidJwtError: (message) => new AuthInvalidJwtError(message),
  AuthPKCECodeVerifierMissingError: () => new AuthPKCECodeVerifierMissingError(),
  AuthInvalidTokenResponseError: () => new AuthInvalidTokenResponseError(),
  AuthInvalidCredentialsError: (message) => new AuthInvalidCredentialsError(message),
  AuthImplicitGrantRedirectError: (message, _s, _c, extra) => new AuthImplicitGrantRedirectError(message, extra ?? null),
  AuthUnknownError: (message) => new AuthUnknownError(message, undefined),
}
export function authErrorOf(name, code, message, status, extra) {
  const make = AUTH_ERRORS[name] ?? ((m, s, c) => new AuthError(m, s, c))
  const e = make(message, status, code, extra === undefined ? undefined : JSON.parse(extra))
  e.code = code
  return e
}

export function isAuthError(e) {
  return typeof e === 'object' && e !== null && '__isAuthError' in e
}
const named = (name) => (e) => isAuthError(e) && e.name === name
export const isAuthApiError = named('AuthApiError')
export const isAuthSessionMissingError = named('AuthSessionMissingError')
export const isAuthImplicitGrantRedirectError = named('AuthImplicitGrantRedirectError')
export const isAuthPKCECodeVerifierMissingError = named('AuthPKCECodeVerifierMissingError')
export const isAuthRetryableFetchError = named('AuthRetryableFetchError')
export const isAuthRefreshDiscardedError = named('AuthRefreshDiscardedError')
export const isAuthWeakPasswordError = named('AuthWeakPasswordError')

/** Realtime errors (channel statuses, refused operations); `cause` as realtime-js gives it. */
export class RealtimeError extends AuthwireError {
  constructor(code, message, cause) {
    super(code, message)
    this.name = 'RealtimeError'
    if (cause !== undefined) this.cause = JSON.parse(cause)
  }
}
