// The authwire demo page. It reads the devserver's URL from `?server=` (or `config.json`,
// written by `npm start`), learns the keys from `/_dev/config`, and subscribes a channel.
import init, { createClient, type SubscribeStatus } from '../pkg-web/authwire.js'
import wasmUrl from '../pkg-web/authwire_bg.wasm'

interface DevConfig {
  url: string
  anonKey: string
  publishableKey: string
}

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id)
  if (!el) throw new Error(`missing #${id}`)
  return el
}

function log(line: string): void {
  $('log').textContent += `${new Date().toISOString().slice(11, 23)} ${line}\n`
}

async function serverUrl(): Promise<string> {
  const fromQuery = new URLSearchParams(location.search).get('server')
  if (fromQuery) return fromQuery
  const res = await fetch('./config.json')
  const cfg = (await res.json()) as { url: string }
  return cfg.url
}

async function main(): Promise<void> {
  const server = await serverUrl()
  const config = (await (await fetch(`${server}/_dev/config`)).json()) as DevConfig
  await init({ module_or_path: wasmUrl })
  const client = createClient(server, config.publishableKey, { realtime: { logger: (kind, msg) => log(`${kind}: ${msg}`) } })
  client.realtime.onHeartbeat((status, latency) => {
    $('socket').textContent = `${client.realtime.connectionState()} (heartbeat ${status}${latency === undefined ? '' : `, ${latency} ms`})`
  })
  const status = $('status')
  client.channel('room1').subscribe((s: SubscribeStatus, err) => {
    status.textContent = s
    status.dataset.status = s
    $('socket').textContent = client.realtime.connectionState()
    log(err ? `${s}: ${err.code} ${err.message}` : s)
  })
}

main().catch((e: unknown) => {
  log(`failed: ${e instanceof Error ? e.message : String(e)}`)
  $('status').textContent = 'failed'
})
