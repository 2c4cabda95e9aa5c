// What tests read and change on a running authwire-dev besides its public API: `/_dev`
// requests with the service role (stats, faults, the mailbox), SQL on its own database, and
// the change-feed barrier built on that.
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A request with the secret key (every `/_dev` route but `/_dev/config` needs it). */
export async function service(server, path, init = {}) {
  const r = await fetch(server.url + path, {
    ...init,
    headers: { apikey: server.config.secretKey, 'content-type': 'application/json', ...init.headers },
  })
  const text = await r.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: r.status, json, text, headers: r.headers }
}

/** Arms devserver faults (`POST /_dev/faults`); the caller checks the status. */
export function fault(server, body) {
  return service(server, '/_dev/faults', { method: 'POST', body: JSON.stringify(body) })
}

/** `GET /_dev/stats`. */
export async function stats(server) {
  const r = await service(server, '/_dev/stats')
  if (r.status !== 200) throw new Error(`/_dev/stats ${r.status} ${r.text}`)
  return r.json
}

/** The newest mail to `address` (`/_dev/mail`), `undefined` when there is none. */
export async function lastMail(server, address) {
  const r = await service(server, `/_dev/mail?email=${encodeURIComponent(address)}`)
  if (r.status !== 200) throw new Error(`/_dev/mail ${r.status} ${r.text}`)
  return r.json.messages[0]
}

/** Where the managed cluster lives (`<data-dir>/cluster.json`). */
export function cluster(server) {
  return JSON.parse(readFileSync(join(server.dataDir, 'cluster.json'), 'utf8'))
}

/** Runs SQL on the devserver's own database as the cluster's superuser (psql over its socket). */
export function psql(server, sql) {
  const c = cluster(server)
  return new Promise((ok, fail) =>
    execFile(
      join(c.bindir, 'psql'),
      ['-h', c.socketDir, '-p', String(c.port), '-U', c.osUser, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql],
      (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : ok(stdout.trim())),
    ),
  )
}

/** The broadcast event of change-feed barriers. */
export const BARRIER_EVENT = 'feed-barrier'

/**
 * Commits one database broadcast (a `realtime.messages` row) per topic — `name` or
 * `{ name, private }` — with payload `{ id }`, and returns that id. The change feed reads the
 * WAL in commit order and queues each change on the subscribers' sockets before it reads the
 * next, and a socket sends what is queued in order: so when the barrier reaches a channel,
 * every change committed before it that was going to reach that socket already has. That is
 * what makes "this change must not arrive" checkable without a sleep.
 */
export async function commitBarrier(server, topics) {
  const id = randomUUID()
  const lit = (s) => `'${String(s).replaceAll("'", "''")}'`
  const rows = topics.map((t) => {
    const { name, private: priv = false } = typeof t === 'string' ? { name: t } : t
    return `(${lit(name)}, 'broadcast', ${lit(BARRIER_EVENT)}, ${priv}, ${lit(JSON.stringify({ id }))})`
  })
  await psql(server, `insert into realtime.messages (topic, extension, event, private, payload) values ${rows.join(', ')}`)
  return id
}
