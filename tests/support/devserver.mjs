// Starts a real authwire-dev on a free port with its own PostgreSQL under a private temp dir,
// waits for its ready line and reads /_dev/config. `stop()` sends SIGTERM and waits.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', '..')

/** The devserver binary: AUTHWIRE_DEV_BIN, else the debug build, else the release build. */
export function devserverBin() {
  if (process.env.AUTHWIRE_DEV_BIN) return process.env.AUTHWIRE_DEV_BIN
  for (const p of ['target/debug/authwire-dev', 'target/release/authwire-dev']) {
    const full = join(root, p)
    if (existsSync(full)) return full
  }
  throw new Error('authwire-dev is not built: run `cargo build -p authwire-devserver`')
}

/**
 * `dataDir`: use this data dir (the caller owns it: `stop()` leaves it) instead of a fresh one.
 * `spawnOptions`: extra `child_process.spawn` options (e.g. `uid`, `gid`, `env`).
 * The result's `readyMs` is the time from spawn to the ready line.
 */
export async function startDevserver({ args = [], timeoutMs = 60_000, quiet = true, dataDir, spawnOptions = {} } = {}) {
  // mkdtemp makes a 0700 directory: the devserver must cope with that as root (design.md).
  const dir = dataDir ? undefined : mkdtempSync(join(tmpdir(), 'authwire-test-'))
  dataDir ??= join(dir, 'data')
  const t0 = performance.now()
  const child = spawn(devserverBin(), ['--port', '0', '--data-dir', dataDir, '--join-error-delay-ms', '0', ...args], {
    ...spawnOptions,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
    if (!quiet) process.stderr.write(d)
  })
  const url = await new Promise((ok, fail) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error(`authwire-dev not ready after ${timeoutMs} ms\n${stderr}`)), timeoutMs)
    child.stdout.on('data', (d) => {
      out += d
      const m = out.match(/^authwire-dev ready (\S+)$/m)
      if (m) {
        clearTimeout(timer)
        ok(m[1])
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      fail(new Error(`authwire-dev exited with ${code}\n${stderr}`))
    })
  })
  const readyMs = performance.now() - t0
  const config = await (await fetch(`${url}/_dev/config`)).json()
  let stopped = false
  return {
    url,
    config,
    dir,
    dataDir,
    readyMs,
    child,
    stderr: () => stderr,
    async stop() {
      if (stopped) return
      stopped = true
      const exited = new Promise((ok) => child.once('exit', ok))
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(t)
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}
