// The authwire demo: the band-practice app of the report that started authwire. Band members
// see four RLS tables (songs, setlists, shows, practice sessions) change live over one socket
// that always carries the signed-in user's token; the status panel shows what the SDK knows.
//
// Query parameters: `server=` (else `config.json`, written by `npm start`), `apikey=session`
// (authwire's `realtime.apikey`), `sdk=supabase-js` (the same page on the official client).
// The keys come from the devserver's `/_dev/config` unless `config.json` has a `key`.
import type { Session } from '../pkg-web/authwire.js'
import { byId } from './dom.js'
import { AuthView, displayName } from './auth.js'
import { BandView, type Band } from './band.js'
import { connect, type ApikeyMode, type Backend, type SdkName } from './sdk.js'
import { ChannelBook, Timeline, renderStatus, wireLine } from './status.js'
import { tapWebSocket } from './wiretap.js'
import { authErrorWords, channelErrorWords } from './words.js'

const params = new URLSearchParams(location.search)
const sdk: SdkName = params.get('sdk') === 'supabase-js' ? 'supabase-js' : 'authwire'
const apikey: ApikeyMode = params.get('apikey') === 'session' ? 'session' : 'project'

async function settings(): Promise<{ url: string; key: string }> {
  const file = params.get('server') ? null : ((await (await fetch('./config.json')).json()) as { url: string; key?: string })
  const url = params.get('server') ?? file?.url ?? ''
  const key = file?.key ?? ((await (await fetch(`${url}/_dev/config`)).json()) as { publishableKey: string }).publishableKey
  return { url, key }
}

/** The switches (SDK, apikey mode) rebuild the client, so they reload with new parameters; the session stays in storage. */
function switches(): void {
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name=apikey], input[name=sdk]')) {
    input.checked = input.value === (input.name === 'sdk' ? sdk : apikey)
    input.disabled = input.name === 'apikey' && sdk !== 'authwire'
    input.addEventListener('change', () => {
      const next = new URLSearchParams(location.search)
      next.set(input.name, input.value)
      location.search = next.toString()
    })
  }
}

class App {
  private view: BandView | null = null
  private userId: string | null = null
  private lastReason: string | null = null
  private heartbeat: string | null = null
  private readonly book: ChannelBook
  private readonly authView: AuthView

  constructor(
    private readonly backend: Backend,
    private readonly timeline: Timeline,
    server: string,
  ) {
    this.book = new ChannelBook(timeline, () => this.status())
    this.authView = new AuthView(backend, server)
    // A public channel, there with or without a session: it joins as anon, then carries the
    // user's token while someone is signed in (watch its role in the status panel).
    this.book.subscribe('lobby', 'Lobby (public)', backend.channel('lobby'))
    backend.onHeartbeat((status, ms) => {
      if (status === 'ok' && ms !== undefined) this.heartbeat = `${Math.round(ms)} ms`
      else if (status !== 'sent' && status !== 'ok') timeline.add('warn', `heartbeat ${status}`)
    })
    backend.auth.onAuthStateChange((event, session) => {
      const exp = session?.expires_at ? `, token expires ${new Date(session.expires_at * 1000).toLocaleTimeString([], { hour12: false })}` : ''
      timeline.add('auth', `auth: ${event}${session ? ` ${displayName(session)}${exp}` : ''}`)
      if (event === 'SIGNED_OUT') {
        const r = backend.sdk === 'authwire' ? backend.auth.signOutReason() : null
        if (r) this.lastReason = `signed out: ${r.reason}${r.code ? ` (${r.code})` : ''}`
      }
      // Not inside the callback: supabase-js deadlocks if an auth call is awaited there.
      setTimeout(() => void this.session(session))
    })
    window.setInterval(() => this.status(), 1000)
  }

  /** Why the session ended, in words, when it was not the user's own sign-out. */
  private signedOutNote(): string {
    const r = this.backend.sdk === 'authwire' ? this.backend.auth.signOutReason() : null
    if (r?.reason === 'session_revoked' && r.code) return `Signed out: ${channelErrorWords(r.code)}`
    if (r?.reason === 'refresh_failed') return `Signed out: the session could not be refreshed${r.code ? ` (${r.code})` : ''}.`
    return ''
  }

  private status(): void {
    renderStatus(this.backend, this.book, { lastReason: this.lastReason, heartbeat: this.heartbeat })
  }

  /** Starts, keeps or replaces the band view for the session's user. */
  private async session(session: Session | null): Promise<void> {
    const id = session?.user.id ?? null
    if (id === this.userId) return
    this.userId = id
    const old = this.view
    this.view = null
    byId('band').replaceChildren()
    if (old) await old.stop()
    this.authView.show(session, session ? '' : this.signedOutNote())
    if (!session || this.userId !== id) return
    const { data, error } = await this.backend.rest.from('bands').select('id,name').order('name')
    if (this.userId !== id) return
    const bands = (data ?? []) as Band[]
    if (error || !bands.length) {
      const why = error ? `Could not load your bands: ${error.message}` : session.user.is_anonymous ? 'Guests are not in a band: RLS shows you no rows, and the band channels would refuse you. Sign up to join The Wire Tappers.' : 'You are not a member of any band.'
      this.authView.show(session, why)
      return
    }
    this.view = new BandView(this.backend, bands[0]!, { id: session.user.id, name: displayName(session) }, this.book)
    byId('band').replaceChildren(this.view.element)
    this.view.start()
  }
}

async function main(): Promise<void> {
  switches()
  byId('sdk-name').textContent = sdk === 'authwire' ? `authwire · apikey '${apikey}'` : 'supabase-js (for comparison)'
  document.body.dataset.sdk = sdk
  const timeline = new Timeline()
  tapWebSocket((e) => timeline.add('wire', wireLine(e)))
  let server = params.get('server') ?? ''
  try {
    const s = await settings()
    server = s.url
    const backend = await connect({ ...s, sdk, apikey, log: (kind, msg) => timeline.add('info', `${kind}: ${msg}`) })
    // For the curious (and the end-to-end tests): the SDK's client, in the console.
    Object.assign(window, { demo: { sdk, apikey, client: backend.client } })
    new App(backend, timeline, s.url)
  } catch (e) {
    byId('auth-error').textContent = authErrorWords({ code: 'network_error', message: String(e) }, server || 'the configured URL')
    timeline.add('warn', `start-up failed: ${e instanceof Error ? e.message : String(e)}`)
  }
}

void main()
