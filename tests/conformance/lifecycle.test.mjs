// Case 9: lifecycle of the binary. A cold start builds its own PostgreSQL from nothing in
// under 10 s; SIGTERM leaves no process behind; a restart on the same data dir keeps users and
// sessions (an old refresh token still refreshes); and, when this runs as root, the same as the
// `postgres` user (the non-root layout, cluster inside the data dir).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync, chownSync, realpathSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join, dirname } from 'node:path'
import { startDevserver, devserverBin } from '../support/devserver.mjs'
import { Clients, PASSWORD } from './lib/support.mjs'
import { cluster } from '../support/dev.mjs'
import { email } from '../support/fixture.mjs'
import { waitFor } from '../support/wait.mjs'

const COLD_START_LIMIT_MS = 10_000
const cleanups = []
after(() => {
  for (const f of cleanups.reverse()) f()
})

/** Processes whose command line mentions `needle` (pgrep -f), as "pid command" lines. */
function processesMatching(needle) {
  try {
    return execFileSync('pgrep', ['-af', '--', needle], { encoding: 'utf8' }).trim()
  } catch (e) {
    if (e.status === 1) return ''
    throw e
  }
}

async function assertNothingRunning(pgdata, dataDir) {
  const left = () => [processesMatching(pgdata), processesMatching(`--data-dir ${dataDir}`)].filter(Boolean).join('\n')
  const gone = () => !left() && !existsSync(join(pgdata, 'postmaster.pid'))
  // On a timeout the assertion says what is left.
  await waitFor(gone, { timeoutMs: 15_000, intervalMs: 50, what: 'every process to exit' }).catch(() => {})
  assert.ok(gone(), `still running after SIGTERM:\n${left()}`)
}

/** A root-layout cluster lives outside the data dir; remove it with the test's data. */
function removeCluster(pgdata) {
  const base = dirname(pgdata)
  if (base.startsWith('/var/lib/authwire-dev/')) rmSync(base, { recursive: true, force: true })
}

async function stopAndCheck(server, pgdata) {
  const exited = new Promise((ok) => server.child.once('exit', (code, signal) => ok({ code, signal })))
  await server.stop()
  assert.deepEqual(await exited, { code: 0, signal: null })
  await assertNothingRunning(pgdata, server.dataDir)
}

test('cold start from nothing in < 10 s; SIGTERM leaves nothing running; a restart keeps users and sessions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'authwire-lifecycle-'))
  const dataDir = join(dir, 'data')
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))

  const first = await startDevserver({ dataDir })
  console.log(`cold start (initdb, PostgreSQL, schemas, change feed) to the ready line: ${first.readyMs.toFixed(0)} ms`)
  assert.ok(first.readyMs < COLD_START_LIMIT_MS, `cold start took ${first.readyMs.toFixed(0)} ms`)
  const { pgdata } = cluster(first)
  cleanups.push(() => removeCluster(pgdata))
  assert.ok(processesMatching(pgdata), 'no postgres process for the cluster while running')

  const clients = new Clients(first)
  const address = email('restart')
  const c = clients.make()
  assert.equal((await c.auth.signUp({ email: address, password: PASSWORD })).error, null)
  const signedIn = await clients.make().auth.signInWithPassword({ email: address, password: PASSWORD })
  assert.equal(signedIn.error, null)
  const session = signedIn.data.session
  await clients.closeAll()
  await stopAndCheck(first, pgdata)

  const second = await startDevserver({ dataDir })
  console.log(`warm start on the same data dir: ${second.readyMs.toFixed(0)} ms`)
  try {
    assert.deepEqual({ ...second.config, url: '' }, { ...first.config, url: '' })
    assert.equal(cluster(second).pgdata, pgdata)
    const again = new Clients(second)
    // The access token from before the restart is still good (same keys, session row kept)...
    const user = await again.make().auth.getUser(session.access_token)
    assert.equal(user.error, null)
    assert.equal(user.data.user.email, address)
    // ...and so is the refresh token.
    const r = await again.make().auth.refreshSession({ refresh_token: session.refresh_token })
    assert.equal(r.error, null)
    assert.equal(r.data.session.user.email, address)
    assert.notEqual(r.data.session.refresh_token, session.refresh_token)
    assert.equal((await again.make().auth.signInWithPassword({ email: address, password: PASSWORD })).error, null)
    await again.closeAll()
  } finally {
    await stopAndCheck(second, pgdata)
  }
})

test('as a normal user (the postgres account): cluster in the data dir, stops cleanly', async (t) => {
  if (userInfo().uid !== 0) {
    // Not root: the first test already ran the non-root layout.
    t.skip('not root: the first test already exercised the non-root layout')
    return
  }
  let uid, gid
  try {
    ;[uid, gid] = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).split(':').slice(2, 4).map(Number)
  } catch {
    t.skip('no postgres user on this machine')
    return
  }
  try {
    execFileSync(devserverBin(), ['--version'], { uid, gid, stdio: 'ignore' })
  } catch {
    t.skip(`the postgres user cannot execute ${devserverBin()}`)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'authwire-nonroot-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  chownSync(dir, uid, gid)
  const dataDir = join(dir, 'data')
  const server = await startDevserver({ dataDir, spawnOptions: { uid, gid, env: { ...process.env, USER: 'postgres', HOME: dir } } })
  console.log(`cold start as postgres: ${server.readyMs.toFixed(0)} ms`)
  const { pgdata, osUser } = cluster(server)
  try {
    assert.equal(pgdata, join(realpathSync(dataDir), 'pgdata'))
    assert.equal(osUser, 'postgres')
    const clients = new Clients(server)
    assert.equal((await clients.make().auth.signUp({ email: email('nonroot'), password: PASSWORD })).error, null)
    await clients.closeAll()
  } finally {
    await stopAndCheck(server, pgdata)
  }
})
