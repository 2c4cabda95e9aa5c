#!/usr/bin/env node
// `npm start`: release build, authwire-dev with its own PostgreSQL and demo data (`--seed
// demo`: the users alice and bob; `www/schema.sql`: the bands, their tables and rows), the
// demo page on a local port. Prints the URL and the demo users (read back through the admin
// API). Ctrl-C (or SIGTERM) stops everything and waits for it. Arguments go to authwire-dev
// (`npm start -- --mode raw --token-ttl 30`).
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { resolve, join } from 'node:path'
import { serveStatic } from '../tests/support/static.mjs'

const root = resolve(import.meta.dirname, '..')
process.chdir(root)
const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` }
const PORT = Number(process.env.AUTHWIRE_PORT ?? 54321)
const WEB_PORT = Number(process.env.AUTHWIRE_WEB_PORT ?? 5173)

function step(cmd, args) {
  return new Promise((ok, fail) => {
    const c = spawn(cmd, args, { env, stdio: 'inherit' })
    c.on('close', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))))
  })
}

console.log('start: building the release wasm package and the demo…')
await step('bash', ['scripts/build.sh'])
console.log('start: building authwire-dev (release)…')
await step('cargo', ['build', '--release', '--quiet', '-p', 'authwire-devserver'])

const devArgs = ['--port', String(PORT), '--data-dir', '.authwire', '--seed', 'demo', '--sql', 'www/schema.sql', ...process.argv.slice(2)]
const dev = spawn('target/release/authwire-dev', devArgs, {
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
})
let devErr = ''
dev.stderr.on('data', (d) => {
  devErr += d
  process.stderr.write(d)
})
const url = await new Promise((ok, fail) => {
  let out = ''
  dev.stdout.on('data', (d) => {
    out += d
    const m = out.match(/^authwire-dev ready (\S+)$/m)
    if (m) ok(m[1])
  })
  dev.on('exit', (code) => {
    if (devErr.includes('was already applied to this data dir with different content')) {
      fail(new Error('www/schema.sql changed since .authwire was set up. `rm -rf .authwire` starts afresh (it holds only demo data).'))
    } else fail(new Error(`authwire-dev exited with ${code} (is port ${PORT} busy? set AUTHWIRE_PORT)`))
  })
}).catch((e) => {
  console.error(`start: ${e.message}`)
  process.exit(1)
})

/** The seeded demo users as the server has them (admin API), each with their bands (REST, service role). */
async function demoUsers() {
  const { secretKey } = await (await fetch(`${url}/_dev/config`)).json()
  const get = async (path) => {
    const r = await fetch(`${url}${path}`, { headers: { apikey: secretKey, authorization: `Bearer ${secretKey}` } })
    return r.ok ? r.json() : null
  }
  const [list, bands, members] = await Promise.all([get('/auth/v1/admin/users?per_page=1000'), get('/rest/v1/bands?select=id,name'), get('/rest/v1/band_members?select=band_id,user_id')])
  const bandsOf = (id) => (members ?? []).filter((m) => m.user_id === id).map((m) => bands?.find((b) => b.id === m.band_id)?.name).filter(Boolean)
  return (list?.users ?? [])
    .filter((u) => ['alice@example.com', 'bob@example.com'].includes(u.email))
    .sort((a, b) => a.email.localeCompare(b.email))
    .map((u) => ({ email: u.email, name: u.user_metadata?.name ?? u.email, bands: bandsOf(u.id) }))
}

writeFileSync('dist/config.json', JSON.stringify({ url }))
let site
try {
  site = await serveStatic(['dist'], WEB_PORT)
} catch {
  site = await serveStatic(['dist'], 0)
}
const users = await demoUsers()
const userLines = users.length
  ? users.map((u, i) => `${i ? '                 ' : '  demo users     '}${u.email.padEnd(19)} password123   (${[u.name, ...u.bands].join(', ')})`).join('\n')
  : '  demo users     none (started without --seed demo?): sign up on the page'
console.log(`
  demo page      ${site.url}/
  authwire-dev   ${url}   (keys: ${url}/_dev/config)
${userLines}

  Open the page in two browsers (or a normal and a private window), sign in as each,
  and edit: the other one's lists follow live. The status panel shows the socket, each
  channel and the token. A bare Realtime server: \`npm start -- --mode raw\`, then pick
  "session token" in the status panel.

Ctrl-C stops everything.`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await site.close()
  if (dev.exitCode === null) {
    const exited = new Promise((ok) => dev.once('exit', ok))
    dev.kill('SIGTERM')
    await exited
  }
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
dev.on('exit', (code) => {
  if (!stopping) {
    console.error(`start: authwire-dev exited (${code})`)
    site.close().then(() => process.exit(1))
  }
})
