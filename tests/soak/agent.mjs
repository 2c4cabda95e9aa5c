// What each soak page runs (passed to `page.evaluate`, so every function here is
// self-contained): one authwire client of one user, two private channels of the band — `chat`
// (acked broadcasts between tabs and users, and the database's `realtime.send` messages) and
// `songs` (postgres_changes INSERTs) — a sender loop, and a log of everything the app saw,
// with this page's wall-clock times. The driver reads the log at the end (`window.soak`).

/** Starts the page's client, channels and sender. Resolves when both channels are SUBSCRIBED. */
export async function startAgent({ url, key, tab, band, email, password, signIn, sendEveryMs }) {
  const soak = (window.soak = {
    tab,
    statuses: { chat: [], songs: [] },
    chat: [],
    db: [],
    changes: [],
    gaps: [],
    sends: [],
    errors: window.soakErrors,
    sending: true,
    senderDone: null,
  })
  const c = window.authwire.createClient(url, key)
  window.soakClient = c
  if (signIn) {
    const { error } = await c.auth.signInWithPassword({ email, password })
    if (error) throw new Error(`sign-in: ${error.code} ${error.message}`)
  } else {
    // The other tabs of this user restore the session the first one stored.
    await window.waitFor(async () => (await c.auth.getSession()).data.session, { timeoutMs: 15_000, what: 'the stored session' })
  }
  const at = () => Date.now()
  const chat = c
    .channel(`band:${band}`, { config: { private: true, broadcast: { ack: true } } })
    .on('broadcast', { event: 'chat' }, (m) => soak.chat.push([m.payload.from, m.payload.n, at()]))
    .on('broadcast', { event: 'db' }, (m) => soak.db.push([m.payload.n, m.meta?.id ?? null, m.meta?.replayed === true, at()]))
    .on('system', { event: 'gap' }, (g) => soak.gaps.push(['chat', g.from, g.to, g.reason, at()]))
  const songs = c
    .channel(`band:${band}:songs`, { config: { private: true } })
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs', filter: `band_id=eq.${band}` }, (p) =>
      soak.changes.push([p.new.title, at()]),
    )
    .on('system', { event: 'gap' }, (g) => soak.gaps.push(['songs', g.from, g.to, g.reason, at()]))
  chat.subscribe((s, e) => soak.statuses.chat.push([s, at(), e?.code ?? null]))
  songs.subscribe((s, e) => soak.statuses.songs.push([s, at(), e?.code ?? null]))
  await window.waitFor(() => soak.statuses.chat.some((s) => s[0] === 'SUBSCRIBED') && soak.statuses.songs.some((s) => s[0] === 'SUBSCRIBED'), {
    timeoutMs: 20_000,
    what: () => `both channels SUBSCRIBED in ${tab}: ${JSON.stringify(soak.statuses)}`,
  })
  // Acked broadcasts, one at a time, whatever the channel's state: `send` answers for each.
  soak.senderDone = (async () => {
    for (let n = 1; soak.sending; n++) {
      const sentAt = at()
      let outcome
      try {
        outcome = await chat.send({ type: 'broadcast', event: 'chat', payload: { from: tab, n } })
      } catch (e) {
        outcome = `threw ${e?.code ?? ''} ${e?.message ?? e}`
      }
      soak.sends.push([n, sentAt, at(), outcome])
      await new Promise((ok) => setTimeout(ok, sendEveryMs))
    }
  })()
}

/** Stops the sender; resolves when its last send has answered. */
export async function stopSending() {
  window.soak.sending = false
  await window.soak.senderDone
}

/** The log (plain data) and a snapshot of `diagnose()`. */
export function readLog() {
  const { senderDone, sending, ...log } = window.soak
  const d = window.soakClient.diagnose()
  return { ...log, channels: d.realtime.channels.map((c) => ({ topic: c.topic, state: c.state, lastGap: c.lastGap ?? null })) }
}

/** `removeAllChannels()`, then what is left: channels the client still lists. */
export async function removeAll() {
  await window.soakClient.removeAllChannels()
  return { channels: window.soakClient.getChannels().length }
}

/** `destroy()`. */
export function destroyClient() {
  window.soakClient.destroy()
}

/**
 * An init script (before any page script): collects uncaught errors and unhandled
 * rejections (`window.soakErrors`) and counts the page's pending `setTimeout` and
 * `setInterval` timers (`window.pendingTimers()`), so leftovers after `destroy()` show.
 */
export function installPageCensus() {
  window.soakErrors = []
  window.addEventListener('error', (e) => window.soakErrors.push(`error: ${e.message}`))
  window.addEventListener('unhandledrejection', (e) => window.soakErrors.push(`unhandledrejection: ${e.reason?.stack ?? e.reason}`))
  const pending = new Set()
  const [st, ct, si, ci] = [window.setTimeout, window.clearTimeout, window.setInterval, window.clearInterval]
  window.setTimeout = function (fn, ms, ...rest) {
    const id = st.call(window, (...a) => {
      pending.delete(id)
      if (typeof fn === 'function') fn(...a)
    }, ms, ...rest)
    pending.add(id)
    return id
  }
  window.clearTimeout = (id) => {
    pending.delete(id)
    ct.call(window, id)
  }
  window.setInterval = function (fn, ms, ...rest) {
    const id = si.call(window, fn, ms, ...rest)
    pending.add(id)
    return id
  }
  window.clearInterval = (id) => {
    pending.delete(id)
    ci.call(window, id)
  }
  window.pendingTimers = () => pending.size
}
