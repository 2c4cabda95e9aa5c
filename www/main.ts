// The authwire demo: the band-practice app from the report that started authwire. Sign in,
// and four RLS tables stream their changes over one socket that always carries the signed-in
// user's token; a private band channel carries presence and "now playing" broadcasts.
//
// The devserver's URL comes from `?server=` or `config.json` (written by `npm start`); the keys
// come from its `/_dev/config`.
import init, {
  createClient,
  type AuthwireClient,
  type RealtimeChannel,
  type SubscribeStatus,
} from '../pkg-web/authwire.js'
import wasmUrl from '../pkg-web/authwire_bg.wasm'

interface DevConfig {
  url: string
  anonKey: string
  publishableKey: string
}

const BAND = 'ba4d0000-0000-4000-8000-000000000001'
const TABLES = ['songs', 'setlists', 'shows', 'practice_sessions'] as const

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id)
  if (!el) throw new Error(`missing #${id}`)
  return el as T
}

function log(line: string): void {
  const el = $('log')
  el.textContent = `${new Date().toISOString().slice(11, 23)} ${line}\n` + (el.textContent ?? '')
}

function setStatus(el: HTMLElement, s: SubscribeStatus | string, detail?: string): void {
  el.textContent = detail ? `${s} · ${detail}` : s
  el.dataset.status = s
}

async function serverUrl(): Promise<string> {
  const fromQuery = new URLSearchParams(location.search).get('server')
  if (fromQuery) return fromQuery
  const cfg = (await (await fetch('./config.json')).json()) as { url: string }
  return cfg.url
}

async function loadSongs(client: AuthwireClient, server: string): Promise<void> {
  const res = await client.fetch(`${server}/rest/v1/songs?select=id,title,bpm&order=id.asc`)
  const list = $('songs')
  list.replaceChildren()
  if (!res.ok) {
    list.textContent = `(${res.status})`
    return
  }
  for (const s of (await res.json()) as { id: number; title: string; bpm: number | null }[]) {
    const li = document.createElement('li')
    li.textContent = `${s.title}${s.bpm ? ` (${s.bpm} bpm)` : ''}`
    list.append(li)
  }
}

function subscribeTables(client: AuthwireClient, server: string): void {
  const box = $('tables')
  box.replaceChildren()
  for (const table of TABLES) {
    const row = document.createElement('div')
    const badge = document.createElement('span')
    badge.className = 'status'
    badge.id = `status-${table}`
    row.append(`${table}: `, badge)
    box.append(row)
    const channel = client
      .channel(`db-${table}`)
      .on('postgres_changes', { event: '*', schema: 'public', table }, (p) => {
        log(`${table}: ${p.eventType} ${JSON.stringify(p.new)}`)
        if (table === 'songs') void loadSongs(client, server)
      })
      .subscribe((s, err) => setStatus(badge, s, err ? `${err.code}: ${err.message}` : `role ${channel.effectiveRole() ?? '?'}`))
  }
}

function joinBand(client: AuthwireClient): RealtimeChannel {
  const badge = $('status')
  const channel = client.channel(`band:${BAND}`, { config: { private: true, broadcast: { self: true } } })
  channel
    .on('presence', { event: 'sync' }, () => {
      const names = Object.values(channel.presenceState()).flatMap((metas) => metas.map((m) => String(m.name)))
      $('members').textContent = names.length ? names.join(', ') : '(nobody)'
    })
    .on('broadcast', { event: 'now_playing' }, (m) => {
      $('playing').textContent = String((m.payload as { title?: string }).title ?? '')
    })
    .subscribe((s, err) => {
      setStatus(badge, s, err ? `${err.code}: ${err.message}` : undefined)
      log(err ? `band: ${s} ${err.code} ${err.message}` : `band: ${s}`)
      $('socket').textContent = client.realtime.connectionState()
      if (s === 'SUBSCRIBED') void channel.track({ name: client.diagnose().auth.session?.userId?.slice(0, 8) ?? 'anon' })
    })
  return channel
}

async function main(): Promise<void> {
  const server = await serverUrl()
  const config = (await (await fetch(`${server}/_dev/config`)).json()) as DevConfig
  await init({ module_or_path: wasmUrl })
  const client = createClient(server, config.publishableKey, {
    realtime: { logger: (kind, msg) => log(`${kind}: ${msg}`) },
  })
  client.realtime.onHeartbeat((status, latency) => {
    $('socket').textContent = `${client.realtime.connectionState()} (heartbeat ${status}${latency === undefined ? '' : `, ${latency} ms`})`
  })
  let band: RealtimeChannel | undefined
  client.auth.onAuthStateChange((event, session) => {
    log(`auth: ${event} ${session?.user.email ?? session?.user.id ?? ''}`)
    $('who').textContent = session ? (session.user.email ?? `anonymous ${session.user.id.slice(0, 8)}`) : 'signed out'
    if (session && !band) {
      band = joinBand(client)
      subscribeTables(client, server)
      void loadSongs(client, server)
    }
    if (!session && band) {
      $('songs').replaceChildren()
      const reason = client.auth.signOutReason()
      if (reason) log(`signed out: ${reason.reason}${reason.code ? ` (${reason.code})` : ''}`)
    }
  })
  // The public lobby works without a session: it reaches SUBSCRIBED as anon.
  const lobby = $('lobby')
  client.channel('lobby').subscribe((s, err) => setStatus(lobby, s, err?.code))

  $<HTMLFormElement>('signin').addEventListener('submit', (e) => {
    e.preventDefault()
    const email = $<HTMLInputElement>('email').value
    const password = $<HTMLInputElement>('password').value
    void client.auth.signInWithPassword({ email, password }).then(({ error }) => {
      if (error) log(`sign-in failed: ${error.code} ${error.message}`)
    })
  })
  $('signout').addEventListener('click', () => void client.auth.signOut())
  $('addsong').addEventListener('click', async () => {
    const title = $<HTMLInputElement>('title').value || `Song ${Math.floor(Math.random() * 1000)}`
    const res = await client.fetch(`${server}/rest/v1/songs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'return=minimal' },
      body: JSON.stringify({ band_id: BAND, title, bpm: 120 }),
    })
    if (!res.ok) log(`insert failed: ${res.status} ${await res.text()}`)
  })
  $('play').addEventListener('click', () => {
    const title = $('songs').firstElementChild?.textContent ?? 'nothing'
    void band?.send({ type: 'broadcast', event: 'now_playing', payload: { title } })
  })
  $('diagnose').addEventListener('click', () => {
    $('diagnosis').textContent = JSON.stringify(client.diagnose(), null, 2)
  })
}

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? e.message : String(e)}`)
  $('status').textContent = 'failed'
})
