// The chaos soak (issue 14): three tabs of one user and one tab of a second user, each in
// headless Chromium behind its own TCP proxy, on a real authwire-dev with 20-second tokens,
// while the devserver drops sockets at random, delays replies and fails refreshes, restarts,
// and each page goes offline now and then. The workload: acked broadcasts from every tab,
// database broadcasts (`realtime.send`) and song INSERTs (postgres_changes), all on private
// channels. What happened is then counted — tokens and refreshes from the server's own
// record (`/_dev/events`), deliveries, gaps and statuses from what each app saw.
//
// The fault schedule scales down for short runs so a one-minute run (`npm test`) still has a
// restart and every page offline once: restart every min(5 min, run / 2); page i offline for
// min(30 s, period / 4) at offset period · (i + ½) / pages of every period = min(4 min, run).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startDevserver } from '../support/devserver.mjs'
import { serveStatic } from '../support/static.mjs'
import { launchBrowser } from '../support/browser.mjs'
import { census } from '../support/census.mjs'
import { PAGE_HELPERS, waitFor } from '../support/wait.mjs'
import { fault, psql, service } from '../support/dev.mjs'
import { startProxy } from './proxy.mjs'
import { installPageCensus, startAgent, stopSending, readLog, removeAll, destroyClient } from './agent.mjs'

const root = resolve(import.meta.dirname, '..', '..')
const BAND = 'ba4d0000-0000-4000-8000-000000000001'
const TOKEN_TTL = 20
const PASSWORD = 'password123'

/** The faults in force for the whole run (re-armed after each restart). */
export const CHAOS = {
  realtime: { socketLifetime: { meanMs: 15_000 }, delayReplies: { ms: 0, maxMs: 3_000, fraction: 0.1 } },
  auth: { flakyRefresh: { errorFraction: 0.1, status: 500, networkFraction: 0.02 } },
}

/** One server lifetime's record, with its clock mapped onto this machine's wall clock. */
class Epoch {
  constructor(server, index) {
    this.server = server
    this.index = index
    this.next = 0
    this.events = []
    this.offset = 0
  }
  async calibrate() {
    const before = (await this.read('kind=ws_refused')).next
    const t0 = Date.now()
    const r = await fetch(`${this.server.url}/auth/v1/health`, { headers: { apikey: this.server.config.publishableKey } })
    const t1 = Date.now()
    await r.arrayBuffer()
    const ev = (await this.read(`after=${before}&kind=http`)).events.find((e) => e.path === '/auth/v1/health')
    this.offset = (t0 + t1) / 2 - ev.atMs
    this.slack = (t1 - t0) / 2 + 1
  }
  async read(query) {
    const r = await service(this.server, `/_dev/events?${query}`)
    if (r.status !== 200) throw new Error(`/_dev/events ${r.status} ${r.text}`)
    return r.json
  }
  /** Reads what the server recorded since the last poll (the kinds the counts need). */
  async poll() {
    const r = await this.read(`after=${this.next}&kind=ws_open,ws_close,frame_in,http`)
    if (r.dropped && this.next && r.events.length && r.events[0].seq > this.next + 1) throw new Error('the event ring overflowed between polls')
    for (const e of r.events) {
      if (e.kind === 'frame_in' && e.event !== 'phx_join' && e.event !== 'access_token') continue
      if (e.kind === 'http' && !e.path.startsWith('/auth/v1/token')) continue
      this.events.push({ ...e, epoch: this.index, wall: e.atMs + this.offset })
    }
    this.next = r.next
  }
}

/** Runs the soak; resolves with `{ table, counts, ok, details }`. */
export async function runSoak({ minutes = 1, log = () => {} } = {}) {
  const runMs = Math.round(minutes * 60_000)
  const restartEvery = Math.min(300_000, runMs / 2)
  const offlinePeriod = Math.min(240_000, runMs)
  const offlineMs = Math.min(30_000, offlinePeriod / 4)
  const dir = mkdtempSync(join(tmpdir(), 'authwire-soak-'))
  const dataDir = join(dir, 'data')
  const args = ['--seed', 'demo', '--sql', resolve(root, 'www/schema.sql'), '--token-ttl', String(TOKEN_TTL)]
  const epochs = []
  const outages = [] // [from, to] wall times the server was down
  let server
  let site
  let browser
  const proxies = []
  const pages = []
  const commits = { db: new Map(), songs: new Map() } // n → commit wall time
  let stopped = false

  const startServer = async () => {
    server = await startDevserver({ args, dataDir })
    const epoch = new Epoch(server, epochs.length)
    await epoch.calibrate()
    epochs.push(epoch)
    const armed = await fault(server, CHAOS)
    if (armed.status !== 200) throw new Error(`arming the faults: ${armed.status} ${armed.text}`)
    for (const p of proxies) p.retarget(new URL(server.url).port)
  }

  try {
    await startServer()
    site = await serveStatic([resolve(root, 'dist-test')])
    browser = await launchBrowser()
    const sitePort = new URL(site.url).port
    // Alice's three tabs share an origin (storage, locks, BroadcastChannel); Bob's is another.
    const tabs = [
      { tab: 'alice-1', email: 'alice@example.com', origin: `http://127.0.0.1:${sitePort}`, signIn: true },
      { tab: 'alice-2', email: 'alice@example.com', origin: `http://127.0.0.1:${sitePort}`, signIn: false },
      { tab: 'alice-3', email: 'alice@example.com', origin: `http://127.0.0.1:${sitePort}`, signIn: false },
      { tab: 'bob-1', email: 'bob@example.com', origin: `http://localhost:${sitePort}`, signIn: true },
    ]
    for (const t of tabs) {
      const proxy = await startProxy(new URL(server.url).port)
      proxies.push(proxy)
      const page = await browser.newPage()
      const sockets = []
      const sent = [] // [wall ms, event, topic, token claims] of the joins and token pushes the page sent
      page.on('websocket', (ws) => {
        sockets.push(ws)
        ws.on('framesent', ({ payload }) => {
          const f = typeof payload === 'string' ? tokenFrame(payload) : null
          if (f) sent.push({ at: Date.now(), ...f })
        })
      })
      await page.addInitScript(installPageCensus)
      await page.addInitScript(PAGE_HELPERS)
      await page.goto(`${t.origin}/index.html`)
      await page.evaluate(() => window.authwireReady)
      const cdp = await page.context().newCDPSession(page)
      const baseline = await census(page)
      const p = { ...t, page, proxy, cdp, sockets, sent, baseline, user: t.email.split('@')[0], offline: [] }
      pages.push(p)
      await page.evaluate(startAgent, {
        url: `http://127.0.0.1:${proxy.port}`,
        key: server.config.publishableKey,
        tab: t.tab,
        band: BAND,
        email: t.email,
        password: PASSWORD,
        signIn: t.signIn,
        sendEveryMs: 1000,
      })
      log(`soak: ${t.tab} subscribed`)
    }
    const startedAt = Date.now()
    const endAt = startedAt + runMs

    // The database side: a broadcast every 500 ms and a song every second, each numbered;
    // a commit counts once psql has answered (so never during a restart).
    const writer = (async () => {
      for (let i = 1; !stopped && Date.now() < endAt; i++) {
        const tick = Date.now()
        try {
          const ms = await psql(
            server,
            `select (extract(epoch from clock_timestamp()) * 1000)::bigint from (select realtime.send(jsonb_build_object('n', ${i}), 'db', 'band:${BAND}', true)) s`,
          )
          commits.db.set(i, Number(ms))
          if (i % 2 === 0) {
            const at = await psql(server, `insert into public.songs (band_id, title) values ('${BAND}', 'soak-${i / 2}') returning (extract(epoch from clock_timestamp()) * 1000)::bigint`)
            commits.songs.set(`soak-${i / 2}`, Number(at))
          }
        } catch {
          // The server is restarting: nothing was committed (or it was, and is not counted).
        }
        await new Promise((ok) => setTimeout(ok, Math.max(0, 500 - (Date.now() - tick))))
      }
    })()

    // The chaos schedule: restarts and per-page outages; the record is polled meanwhile.
    const plan = []
    for (let t = restartEvery; t < runMs; t += restartEvery) plan.push({ at: startedAt + t, what: 'restart' })
    for (let k = 0; k * offlinePeriod < runMs; k++) {
      pages.forEach((p, i) => {
        const at = startedAt + k * offlinePeriod + (offlinePeriod * (i + 0.5)) / pages.length
        if (at + offlineMs < endAt) plan.push({ at, what: 'offline', p }, { at: at + offlineMs, what: 'online', p })
      })
    }
    plan.sort((a, b) => a.at - b.at)
    let lastPoll = 0
    while (Date.now() < endAt) {
      const due = plan[0] && plan[0].at <= Date.now() ? plan.shift() : null
      if (due?.what === 'restart') {
        await epochs.at(-1).poll()
        const down = Date.now()
        log(`soak: restarting the devserver at +${Math.round((down - startedAt) / 1000)} s`)
        await server.stop()
        await startServer()
        outages.push([down, Date.now()])
      } else if (due?.what === 'offline') {
        due.p.offline.push([Date.now(), null])
        due.p.proxy.offline()
        await due.p.cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
      } else if (due?.what === 'online') {
        await due.p.cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
        due.p.proxy.online()
        due.p.offline.at(-1)[1] = Date.now()
      }
      if (Date.now() - lastPoll > 2000) {
        await epochs.at(-1).poll()
        lastPoll = Date.now()
      }
      const nextAt = Math.min(endAt, plan[0]?.at ?? endAt, lastPoll + 2000)
      await new Promise((ok) => setTimeout(ok, Math.max(10, nextAt - Date.now())))
    }
    stopped = true
    await writer
    const workloadEnd = Date.now()

    // Settle: the faults are cleared, every page's channels come back, the last sends answer,
    // and what was committed or acked arrives (each wait has a deadline, none is a sleep).
    await fault(server, { realtime: { socketLifetime: null, delayReplies: null }, auth: { flakyRefresh: null } })
    await Promise.all(pages.map((p) => p.page.evaluate(stopSending)))
    const allJoined = async () => {
      for (const p of pages) {
        const ok = await p.page.evaluate(() => ['chat', 'songs'].every((k) => window.soak.statuses[k].at(-1)?.[0] === 'SUBSCRIBED'))
        if (!ok) return false
      }
      return true
    }
    await waitFor(allJoined, { timeoutMs: 60_000, what: 'every channel SUBSCRIBED after the faults were cleared' }).catch((e) => log(`soak: ${e.message}`))
    // Every committed database broadcast and song reached every page, or a gap covers it.
    const settled = async () => {
      const logs = await Promise.all(pages.map((p) => p.page.evaluate(readLog)))
      return logs.every((l) => {
        const first = Math.max(l.statuses.chat[0]?.[1] ?? Infinity, l.statuses.songs[0]?.[1] ?? Infinity)
        const ok = (commitsOf, got, ch) => {
          const seen = new Set(got)
          const gaps = l.gaps.filter((g) => g[0] === ch)
          return [...commitsOf].every(([k, at]) => at < first || seen.has(k) || gaps.some((g) => at >= g[1] && at <= g[2]))
        }
        return ok(commits.db, l.db.map((d) => d[0]), 'chat') && ok(commits.songs, l.changes.map((c) => c[0]), 'songs')
      })
    }
    await waitFor(settled, { timeoutMs: 20_000, intervalMs: 250, what: 'every committed message delivered or inside a reported gap' }).catch((e) => log(`soak: ${e.message}`))
    for (const e of epochs.slice(-1)) await e.poll()
    const logs = await Promise.all(pages.map((p) => p.page.evaluate(readLog)))

    // Teardown, counted: sockets after removeAllChannels(); timers, listeners, workers after destroy().
    const leftovers = []
    for (const p of pages) {
      const removed = await p.page.evaluate(removeAll)
      const closed = await waitFor(() => p.sockets.every((ws) => ws.isClosed()), { timeoutMs: 10_000, what: 'sockets closed' }).then(
        () => true,
        () => false,
      )
      const openSockets = p.sockets.filter((ws) => !ws.isClosed()).length
      await p.page.evaluate(destroyClient)
      const after = await waitFor(
        async () => {
          const c = await census(p.page)
          const timers = await p.page.evaluate(() => window.pendingTimers())
          return c.WebSocket === 0 && c.Worker === 0 && c.BroadcastChannel === 0 && timers === 0 ? { ...c, timers } : null
        },
        { timeoutMs: 10_000, what: 'resources released' },
      ).catch(async () => ({ ...(await census(p.page)), timers: await p.page.evaluate(() => window.pendingTimers()) }))
      const extra = (a, b) => a.filter((x, i) => a.indexOf(x) === i).flatMap((x) => Array(Math.max(0, a.filter((y) => y === x).length - b.filter((y) => y === x).length)).fill(x))
      leftovers.push({
        tab: p.tab,
        channels: removed.channels,
        openSockets: closed ? 0 : openSockets,
        timers: after.timers,
        listeners: [...extra(after.window, p.baseline.window), ...extra(after.document, p.baseline.document)],
        objects: after.WebSocket + after.Worker + after.BroadcastChannel,
      })
    }
    const pageErrors = pages.map((p) => p.page.logs.filter((l) => l.startsWith('[pageerror]')))
    return count({ minutes, startedAt, workloadEnd, pages, logs, epochs, outages, commits, leftovers, pageErrors })
  } finally {
    stopped = true
    await browser?.close()
    await site?.close()
    await Promise.all(proxies.map((p) => p.close()))
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A sent `phx_join` / `access_token` frame (V2 array or V1 object): its event, topic and token claims. */
function tokenFrame(text) {
  let f
  try {
    f = JSON.parse(text)
  } catch {
    return null
  }
  const [topic, event, payload] = Array.isArray(f) ? [f[2], f[3], f[4]] : [f.topic, f.event, f.payload]
  if ((event !== 'phx_join' && event !== 'access_token') || typeof payload?.access_token !== 'string') return null
  try {
    const claims = JSON.parse(Buffer.from(payload.access_token.split('.')[1], 'base64url').toString())
    return { event, topic, iat: claims.iat, exp: claims.exp, sessionId: claims.session_id }
  } catch {
    return null
  }
}

/** Time in [from, to] not covered by `holes` (each [a, b]). */
function minus(from, to, holes) {
  let total = to - from
  const cut = holes.map(([a, b]) => [Math.max(a, from), Math.min(b ?? to, to)]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0])
  let reach = from
  for (const [a, b] of cut) {
    const s = Math.max(a, reach)
    if (b > s) total -= b - s
    reach = Math.max(reach, b)
  }
  return total
}

/** SUBSCRIBED intervals of one channel's status log, up to `end`. */
function subscribedSpans(statuses, end) {
  const spans = []
  for (let i = 0; i < statuses.length; i++) {
    if (statuses[i][0] !== 'SUBSCRIBED') continue
    spans.push([statuses[i][1], statuses[i + 1]?.[1] ?? end])
  }
  return spans
}

const e2s = (e) => `${e.kind} ${e.event ?? e.path} conn ${e.conn ?? '-'}`
const within = (t, spans, pad = 0) => spans.some(([a, b]) => t >= a - pad && t <= b + pad)

function count({ minutes, startedAt, workloadEnd, pages, logs, epochs, outages, commits, leftovers, pageErrors }) {
  const ev = epochs.flatMap((e) => e.events)
  const slack = Math.max(...epochs.map((e) => e.slack))
  // Tokens: a join or access_token push whose token had expired when the server got it; or
  // one a page sent (its time from the page's WebSocket, since the server reads a socket's
  // frames late while it holds a delayed reply) with a token older (iat) than one of the same
  // session the server had seen anywhere at least 1 s before.
  const frames = ev.filter((e) => e.kind === 'frame_in' && e.token).sort((a, b) => a.wall - b.wall)
  const expired = frames.filter((e) => e.token.exp && e.wall > e.token.exp * 1000 + slack)
  const presented = ev.filter((e) => e.token?.sessionId)
  const superseded = []
  for (const p of pages) {
    for (const f of p.sent) {
      const newer = presented.find((e) => e.token.sessionId === f.sessionId && e.token.iat > f.iat && e.wall <= f.at - 1000)
      if (newer) superseded.push({ tab: p.tab, sent: f, newer: { kind: e2s(newer), iat: newer.token.iat, before: Math.round(f.at - newer.wall) } })
    }
  }
  // Refreshes: a refresh token presented again after an answer consumed it (200).
  const refreshes = ev.filter((e) => e.kind === 'http' && e.path === '/auth/v1/token?grant_type=refresh_token').sort((a, b) => a.wall - b.wall)
  const consumed = new Set()
  let reused = 0
  let retried = 0
  const seenFp = new Set()
  for (const r of refreshes) {
    if (consumed.has(r.refreshToken)) reused++
    else if (seenFp.has(r.refreshToken)) retried++
    seenFp.add(r.refreshToken)
    if (r.status === 200) consumed.add(r.refreshToken)
  }
  const refreshRefused = refreshes.filter((r) => r.status >= 400 && r.status < 500).length
  const injected = refreshes.filter((r) => r.status === 500 || r.status === 502).length

  // Deliveries, per receiving tab.
  const byTab = Object.fromEntries(logs.map((l) => [l.tab, l]))
  const spans = Object.fromEntries(logs.map((l) => [l.tab, { chat: subscribedSpans(l.statuses.chat, workloadEnd), songs: subscribedSpans(l.statuses.songs, workloadEnd) }]))
  const firstJoin = Object.fromEntries(logs.map((l) => [l.tab, Math.max(l.statuses.chat[0]?.[1] ?? Infinity, l.statuses.songs[0]?.[1] ?? Infinity)]))
  const gapsOf = (tab, ch) => byTab[tab].gaps.filter((g) => g[0] === ch).map((g) => [g[1], g[2]])
  const acked = { sent: 0, ok: 0, deliveries: 0, lostWhileJoined: 0, awayCoveredByGap: 0, lostWithoutGap: 0, otherOutcomes: {} }
  const lost = []
  for (const l of logs) {
    for (const [n, sentAt, ackAt, outcome] of l.sends) {
      acked.sent++
      if (outcome !== 'ok') {
        acked.otherOutcomes[outcome] = (acked.otherOutcomes[outcome] ?? 0) + 1
        continue
      }
      acked.ok++
      const user = l.tab.split('-')[0]
      for (const r of logs) {
        if (r.tab.split('-')[0] === user || sentAt < firstJoin[r.tab]) continue
        acked.deliveries++
        if (r.chat.some((m) => m[0] === l.tab && m[1] === n)) continue
        // A gap the receiver reported covers it (it was away, or its socket died with the
        // message in the server's queue before it noticed).
        if (within(sentAt, gapsOf(r.tab, 'chat'), 1000)) acked.awayCoveredByGap++
        else if (within(sentAt, spans[r.tab].chat) && within(ackAt, spans[r.tab].chat)) {
          acked.lostWhileJoined++
          lost.push(`acked ${l.tab}#${n} (sent ${sentAt - startedAt} ms) not delivered to ${r.tab}, SUBSCRIBED throughout, no gap`)
        } else {
          acked.lostWithoutGap++
          lost.push(`acked ${l.tab}#${n} (sent ${sentAt - startedAt} ms) not delivered to ${r.tab} and no gap covers it`)
        }
      }
    }
  }
  const stream = (kind, delivered, channel) => {
    const out = { committed: commits[kind].size, deliveries: 0, lostWithoutGap: 0, coveredByGap: 0, duplicates: 0 }
    for (const l of logs) {
      const got = delivered(l)
      const seen = new Map()
      for (const k of got) seen.set(k, (seen.get(k) ?? 0) + 1)
      out.duplicates += [...seen.values()].filter((c) => c > 1).reduce((a, c) => a + c - 1, 0)
      for (const [k, at] of commits[kind]) {
        if (at < firstJoin[l.tab]) continue
        out.deliveries++
        if (seen.has(k)) continue
        if (within(at, gapsOf(l.tab, channel), 0)) out.coveredByGap++
        else {
          out.lostWithoutGap++
          lost.push(`${kind} ${k} (committed +${at - startedAt} ms) not delivered to ${l.tab} and no gap covers it`)
        }
      }
    }
    return out
  }
  const db = stream('db', (l) => l.db.map((d) => d[0]), 'chat')
  const songs = stream('songs', (l) => l.changes.map((c) => c[0]), 'songs')
  let chatDuplicates = 0
  for (const l of logs) {
    const keys = l.chat.map((m) => `${m[0]}#${m[1]}`)
    chatDuplicates += keys.length - new Set(keys).size
  }
  const replayed = logs.reduce((a, l) => a + l.db.filter((d) => d[2]).length, 0)
  // Time SUBSCRIBED from each page's first join to the end of the workload: in all, and
  // leaving out the page's own outages and the server's restarts (recovery time counts).
  const fractions = []
  for (const p of pages) {
    const l = byTab[p.tab]
    for (const ch of ['chat', 'songs']) {
      const from = firstJoin[p.tab]
      const sub = spans[p.tab][ch].reduce((a, [x, y]) => a + Math.max(0, Math.min(y, workloadEnd) - Math.max(x, from)), 0)
      const holes = [...p.offline, ...outages]
      // Subscribed time outside the holes, over the time outside the holes.
      const subOut = spans[p.tab][ch].reduce((a, [x, y]) => a + Math.max(0, minus(Math.max(x, from), Math.min(y, workloadEnd), holes)), 0)
      fractions.push({
        tab: p.tab,
        channel: ch,
        all: sub / (workloadEnd - from),
        reachable: subOut / minus(from, workloadEnd, holes),
        statuses: l.statuses[ch].length,
      })
    }
  }
  // Where the time not SUBSCRIBED goes: each loss outside the page's outages and the
  // restarts, to the next SUBSCRIBED.
  const recoveries = []
  for (const p of pages) {
    const holes = [...p.offline, ...outages]
    for (const ch of ['chat', 'songs']) {
      const st = byTab[p.tab].statuses[ch]
      for (let i = 1; i < st.length; i++) {
        if (st[i][0] === 'SUBSCRIBED' || st[i - 1][0] !== 'SUBSCRIBED') continue
        const back = st.slice(i).find((x) => x[0] === 'SUBSCRIBED')
        if (!back || back[1] > workloadEnd || within(st[i][1], holes)) continue
        recoveries.push(back[1] - st[i][1])
      }
    }
  }
  recoveries.sort((a, b) => a - b)
  const q = (f) => recoveries[Math.min(recoveries.length - 1, Math.floor(f * recoveries.length))] ?? 0
  const recovery = { count: recoveries.length, p50: q(0.5), p90: q(0.9), max: recoveries.at(-1) ?? 0, mean: Math.round(recoveries.reduce((a, x) => a + x, 0) / Math.max(1, recoveries.length)) }
  const errors = [...logs.flatMap((l) => l.errors), ...pageErrors.flat()]
  const left = leftovers.reduce((a, x) => a + x.channels + x.openSockets + x.timers + x.listeners.length + x.objects, 0)
  const counts = {
    'joins or access_token pushes with an expired token': expired.length,
    'joins or access_token pushes sent with a superseded token': superseded.length,
    'refresh tokens presented again after they were consumed': reused,
    'refreshes refused (4xx)': refreshRefused,
    'acked broadcasts not delivered to the other user while it was SUBSCRIBED, with no gap event': acked.lostWhileJoined,
    'acked broadcasts not delivered to the other user while it was away, with no gap event': acked.lostWithoutGap,
    'database broadcasts lost without a gap event': db.lostWithoutGap,
    'postgres changes missed without a gap event': songs.lostWithoutGap,
    'duplicates delivered': db.duplicates + songs.duplicates + chatDuplicates,
    'unhandled exceptions in the pages': errors.length,
    'channels, sockets, timers, listeners left after removeAllChannels() and destroy()': left,
  }
  const minReachable = Math.min(...fractions.map((f) => f.reachable))
  const minAll = Math.min(...fractions.map((f) => f.all))
  const joins = frames.filter((e) => e.event === 'phx_join').length
  const pushes = frames.filter((e) => e.event === 'access_token').length
  const opens = ev.filter((e) => e.kind === 'ws_open').length
  const info = {
    minutes,
    restarts: epochs.length - 1,
    outages: pages.reduce((a, p) => a + p.offline.length, 0),
    socketsOpened: opens,
    joins,
    tokenPushes: pushes,
    refreshes: refreshes.length,
    refreshesFailedByFault: injected,
    refreshRetriesAfterAFailure: retried,
    acked,
    db: { ...db, replayed },
    songs,
    recovery,
    subscribedMin: minAll,
    subscribedReachableMin: minReachable,
  }
  const ok = Object.values(counts).every((v) => v === 0)
  return { ok, counts, info, fractions, leftovers, logs, events: ev, startedAt, outages, offline: pages.map((p) => [p.tab, p.offline]), lost: lost.slice(0, 40), errors: errors.slice(0, 20), expired: expired.slice(0, 5), superseded: superseded.slice(0, 5) }
}
