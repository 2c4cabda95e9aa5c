// Errors in words: what an auth error or a channel refusal means to the person at the
// keyboard, keyed by the stable `code`s authwire (and GoTrue, and Realtime) report.

/** An auth call's error (`{ code, message, status, name }`) as a sentence. */
export function authErrorWords(e: { code?: string; message?: string; status?: number; name?: string }, server: string): string {
  switch (e.code) {
    case 'invalid_credentials':
      return 'Wrong email or password.'
    case 'over_request_rate_limit':
    case 'over_email_send_rate_limit':
      return 'Too many attempts: the server is rate-limiting this address. Wait a few minutes, then try again.'
    case 'user_already_exists':
    case 'email_exists':
      return 'An account with this email already exists: sign in instead.'
    case 'weak_password':
      return 'That password is too weak: use at least 6 characters.'
    case 'validation_failed':
      return `The server refused the request: ${e.message ?? 'invalid input'}.`
    case 'email_not_confirmed':
      return 'This email address is not confirmed yet.'
    case 'user_banned':
      return 'This account is banned.'
    case 'anonymous_provider_disabled':
      return 'Guest sign-in is turned off on this server.'
    case 'network_error':
      return `Can't reach the server at ${server}: is \`npm start\` still running?`
  }
  if (e.name === 'AuthRetryableFetchError' || e.status === 0) return `Can't reach the server at ${server}: is \`npm start\` still running?`
  if (e.status && e.status >= 500) return `The server failed (${e.status}): ${e.message ?? 'no details'}.`
  return e.message ? `${e.message}${e.code ? ` (${e.code})` : ''}` : `Something went wrong${e.code ? ` (${e.code})` : ''}.`
}

/** A channel error code (`CHANNEL_ERROR` / `RECOVERING` / `CLOSED`) or a refusal, as a sentence. */
export function channelErrorWords(code: string | undefined, reason?: string): string {
  switch (code) {
    case 'user_not_found':
      return 'The server refused your token: its user does not exist (deleted, or a token forged for nobody).'
    case 'session_not_found':
      return 'The server refused your token: its session was signed out (here or in another place).'
    case 'user_banned':
      return 'The server refused your token: this account is banned.'
    case 'bad_jwt':
    case 'invalid_jwt':
      return 'The server refused your token: it is not a valid JWT (bad signature, or malformed).'
    case 'token_expired':
      return 'The token expired on the server; authwire is refreshing it and rejoining.'
    case 'unauthorized':
      // A refused join says why in its reason: GoTrue's text for a refused user or session
      // (`Unauthorized: User is banned`), else the topic's RLS policy said no.
      if (reason && /banned/i.test(reason)) return channelErrorWords('user_banned')
      if (reason && /User from sub claim/i.test(reason)) return channelErrorWords('user_not_found')
      if (reason && /Session from session_id claim/i.test(reason)) return channelErrorWords('session_not_found')
      return `Not allowed: only band members may use this channel (RLS policy on realtime.messages)${reason ? ` — the server said "${reason}"` : ''}.`
    case 'apikey_not_jwt':
      return "The socket's apikey is not a JWT and this server wants one: use the 'session' apikey mode."
    case 'signed_out':
      return 'Left because you signed out.'
    case 'rate_limited':
      return 'The Realtime server is rate-limiting this project; authwire retries.'
    case 'join_timeout':
      return 'The server did not answer the join in time; authwire retries.'
    case 'socket_closed':
    case 'heartbeat_timeout':
      return 'The connection dropped; authwire reconnects.'
  }
  return reason ? `${reason}${code ? ` (${code})` : ''}` : code ?? ''
}
