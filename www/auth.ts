// Sign up, sign in, continue as a guest, sign out; each failure said in words.
import type { AuthError, Session } from '../pkg-web/authwire.js'
import { byId } from './dom.js'
import { authErrorWords } from './words.js'
import type { Backend } from './sdk.js'

/** The name a person is shown as: their profile name, their address, or "guest". */
export function displayName(s: Session): string {
  const meta = s.user.user_metadata as { name?: unknown }
  if (typeof meta.name === 'string' && meta.name) return meta.name
  if (s.user.email) return s.user.email
  return `guest ${s.user.id.slice(0, 4)}`
}

export class AuthView {
  private readonly form = byId<HTMLFormElement>('signin')
  private readonly email = byId<HTMLInputElement>('email')
  private readonly password = byId<HTMLInputElement>('password')
  private readonly error = byId('auth-error')

  constructor(
    private readonly backend: Backend,
    private readonly server: string,
  ) {
    this.form.addEventListener('submit', (e) => {
      e.preventDefault()
      void this.run(() => backend.auth.signInWithPassword({ email: this.email.value, password: this.password.value }))
    })
    byId('signup').addEventListener('click', () => {
      if (this.form.reportValidity()) void this.run(() => backend.auth.signUp({ email: this.email.value, password: this.password.value }))
    })
    byId('guest').addEventListener('click', () => void this.run(() => backend.auth.signInAnonymously()))
    byId('signout').addEventListener('click', () => void this.run(() => backend.auth.signOut()))
    for (const b of document.querySelectorAll<HTMLButtonElement>('[data-fill]')) {
      b.addEventListener('click', () => {
        this.email.value = b.dataset.fill ?? ''
        this.password.value = 'password123'
        this.password.focus()
      })
    }
  }

  /** Shows the signed-in bar or the form. */
  show(session: Session | null, note = ''): void {
    byId('signed-out').hidden = !!session
    byId('signed-in').hidden = !session
    byId('who').textContent = session ? `${displayName(session)}${session.user.is_anonymous ? ' (anonymous)' : session.user.email ? ` · ${session.user.email}` : ''}` : ''
    byId('auth-note').textContent = note
    if (!session) this.email.focus()
  }

  /** Runs an auth call; its error, if any, in words. */
  private async run(call: () => Promise<{ error: AuthError | null }>): Promise<void> {
    this.error.textContent = ''
    const busy = this.form.querySelectorAll('button')
    for (const b of busy) b.disabled = true
    try {
      const { error } = await call()
      if (error) this.error.textContent = authErrorWords(error, this.server)
    } catch (e) {
      this.error.textContent = authErrorWords({ message: e instanceof Error ? e.message : String(e) }, this.server)
    } finally {
      for (const b of busy) b.disabled = false
    }
  }
}
