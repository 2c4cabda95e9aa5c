// supabase-js app code: auth. The same file compiles against authwire and supabase-js.
import {
  AuthError,
  isAuthApiError,
  isAuthError,
  isAuthRetryableFetchError,
  isAuthSessionMissingError,
  isAuthWeakPasswordError,
  type AuthChangeEvent,
  type AuthResponse,
  type EmailOtpType,
  type Provider,
  type Session,
  type User,
  type UserAttributes,
  type UserResponse,
} from 'authwire'
import { supabase } from './client'

// 9. Password sign-up with user metadata; `data.user` narrowed by the error check.
export async function signUp(email: string, password: string, fullName: string): Promise<User | null> {
  const { data, error } = await supabase.auth.signUp({
    email,
    password,
    options: { data: { full_name: fullName }, emailRedirectTo: `${location.origin}/welcome` },
  })
  if (error) throw error
  return data.user
}

// 10. Password sign-in: after the error check, `session` and `user` are not null.
export async function signIn(email: string, password: string): Promise<string> {
  const { data, error } = await supabase.auth.signInWithPassword({ email, password })
  if (error) {
    if (error.status === 400 && error.code === 'invalid_credentials') return 'wrong password'
    return error.message
  }
  const token: string = data.session.access_token
  const id: string = data.user.id
  return `${id}:${token.length}`
}

// 11. Destructuring `data` on error is safe (its keys are null).
export async function currentUserId(): Promise<string | undefined> {
  const {
    data: { user },
  } = await supabase.auth.getUser()
  return user?.id
}

// 12. getUser after the error check: the user is not null.
export async function requireUser(): Promise<User> {
  const { data, error } = await supabase.auth.getUser()
  if (error) throw error
  const email: string | undefined = data.user.email
  void email
  return data.user
}

// 13. getSession and the session's fields.
export async function accessToken(): Promise<string | null> {
  const { data, error } = await supabase.auth.getSession()
  if (error || !data.session) return null
  const session: Session = data.session
  const expiresAt: number | undefined = session.expires_at
  const bearer: 'bearer' = session.token_type
  void expiresAt
  void bearer
  return session.access_token
}

// 14. onAuthStateChange with a switch over the events, and unsubscribe.
export function watchAuth(onUser: (user: User | null) => void): () => void {
  const {
    data: { subscription },
  } = supabase.auth.onAuthStateChange((event: AuthChangeEvent, session: Session | null) => {
    switch (event) {
      case 'INITIAL_SESSION':
      case 'SIGNED_IN':
      case 'TOKEN_REFRESHED':
      case 'USER_UPDATED':
        onUser(session?.user ?? null)
        break
      case 'SIGNED_OUT':
        onUser(null)
        break
      case 'PASSWORD_RECOVERY':
        location.assign('/reset-password')
        break
    }
  })
  return () => subscription.unsubscribe()
}

// 15. An async auth listener (supabase-js's second overload).
supabase.auth.onAuthStateChange(async (event, session) => {
  if (event === 'SIGNED_IN' && session) await fetch('/api/login', { method: 'POST', body: session.user.id })
})

// 16. User metadata is `any`-valued, as GoTrue's JSON is untyped.
export function displayName(user: User): string {
  const name: string = user.user_metadata.full_name ?? user.email ?? 'anonymous'
  const provider: string | undefined = user.app_metadata.provider
  const confirmed: boolean = Boolean(user.email_confirmed_at)
  return `${name} (${provider ?? 'email'}${confirmed ? '' : ', unconfirmed'})`
}

// 17. Magic link and OTP verification, with the OTP type from the URL.
export async function magicLink(email: string): Promise<void> {
  const { error } = await supabase.auth.signInWithOtp({ email, options: { shouldCreateUser: false, emailRedirectTo: location.href } })
  if (error) throw error
}
export async function confirmFromUrl(params: URLSearchParams): Promise<Session | null> {
  const token_hash = params.get('token_hash')
  const type = params.get('type') as EmailOtpType | null
  if (!token_hash || !type) return null
  const { data, error }: AuthResponse = await supabase.auth.verifyOtp({ token_hash, type })
  if (error) return null
  return data.session
}
export async function verifySms(phone: string, token: string): Promise<boolean> {
  const { error } = await supabase.auth.verifyOtp({ phone, token, type: 'sms' })
  return !error
}

// 18. OAuth with a typed provider, and the PKCE code exchange on the callback page.
export async function oauth(provider: Provider): Promise<string | null> {
  const { data, error } = await supabase.auth.signInWithOAuth({
    provider,
    options: { redirectTo: `${location.origin}/auth/callback`, scopes: 'read:user', skipBrowserRedirect: true },
  })
  if (error) return null
  return data.url
}
export async function callback(code: string): Promise<User | null> {
  const { data, error } = await supabase.auth.exchangeCodeForSession(code)
  if (error) return null
  return data.user
}
void oauth('github')

// 19. Updating the user (password, email, metadata) with supabase-js's attribute type.
export async function saveProfile(attrs: UserAttributes): Promise<UserResponse> {
  return supabase.auth.updateUser(attrs)
}
void saveProfile({ data: { theme: 'dark' } })
void supabase.auth.updateUser({ password: 'n3w-Passw0rd!', nonce: '123456' })

// 20. Password reset, resend, anonymous sign-in, id-token sign-in.
export async function otherFlows(email: string, idToken: string): Promise<void> {
  const reset = await supabase.auth.resetPasswordForEmail(email, { redirectTo: `${location.origin}/reset` })
  if (reset.error) console.warn(reset.error.message)
  await supabase.auth.resend({ type: 'signup', email, options: { emailRedirectTo: location.origin } })
  const anon = await supabase.auth.signInAnonymously({ options: { data: { guest: true } } })
  if (!anon.error) console.log(anon.data.user?.is_anonymous)
  const google = await supabase.auth.signInWithIdToken({ provider: 'google', token: idToken, nonce: 'n' })
  if (!google.error) console.log(google.data.session.expires_in)
}

// 21. Refreshing and setting the session; signing out with a scope.
export async function sessionControl(tokens: { access_token: string; refresh_token: string }): Promise<void> {
  const refreshed = await supabase.auth.refreshSession()
  if (refreshed.error) console.warn(refreshed.error.code)
  const set = await supabase.auth.setSession(tokens)
  if (!set.error) console.log(set.data.session?.user.id)
  const { error } = await supabase.auth.signOut({ scope: 'local' })
  if (error) throw error
}

// 22. Claims of the current JWT.
export async function role(): Promise<string | undefined> {
  const { data, error } = await supabase.auth.getClaims()
  if (error || !data) return undefined
  const sub: string | undefined = data.claims.sub
  void sub
  return data.claims.role
}

// 23. Error handling: the auth-js guards and classes narrow `unknown`.
export function describe(e: unknown): string {
  if (isAuthWeakPasswordError(e)) return `weak password: ${e.reasons.join(', ')}`
  if (isAuthSessionMissingError(e)) return 'please sign in'
  if (isAuthRetryableFetchError(e)) return `network trouble (${e.status})`
  if (isAuthApiError(e)) return `server said ${e.status}: ${e.message} [${e.code}]`
  if (isAuthError(e)) return e.message
  if (e instanceof AuthError) return e.name
  return String(e)
}
export async function guarded(): Promise<string> {
  const { error } = await supabase.auth.signInWithPassword({ phone: '+15550100', password: 'x' })
  return error ? describe(error) : 'ok'
}

// 24. Identities of the signed-in user.
export async function providers(): Promise<string[]> {
  const { data, error } = await supabase.auth.getUserIdentities()
  if (error) return []
  return data.identities.map((i) => i.provider)
}

// 25. The server-side pattern of the Supabase SSR docs, in the browser: the user id from the
// verified claims.
export async function userIdFromClaims(): Promise<string | null> {
  const { data } = await supabase.auth.getClaims()
  const claims = data?.claims
  if (!claims) return null
  const userId: string = claims.sub
  const expires: number = claims.exp
  const email: string | undefined = claims.email
  void expires
  void email
  return userId
}

// 26. Step-up checks with the assurance level and the factor list.
export async function needsMfa(): Promise<boolean> {
  const { data, error } = await supabase.auth.mfa.getAuthenticatorAssuranceLevel()
  if (error) return false
  const { data: factors } = await supabase.auth.mfa.listFactors()
  const totp: string[] = factors?.totp.map((f) => f.id) ?? []
  void totp
  return data.nextLevel === 'aal2' && data.currentLevel !== data.nextLevel
}
