#!/usr/bin/env node
// `npm start`: release build, authwire-dev with its own PostgreSQL and demo data, the demo
// page on a local port. Ctrl-C (or SIGTERM) stops everything and waits for it.
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
  stdio: ['ignore', 'pipe', 'inherit'],
})
const url = await new Promise((ok, fail) => {
  let out = ''
  dev.stdout.on('data', (d) => {
    out += d
    const m = out.match(/^authwire-dev ready (\S+)$/m)
    if (m) ok(m[1])
  })
  dev.on('exit', (code) => fail(new Error(`authwire-dev exited with ${code} (is port ${PORT} busy? set AUTHWIRE_PORT)`)))
}).catch((e) => {
  console.error(`start: ${e.message}`)
  process.exit(1)
})

writeFileSync('dist/config.json', JSON.stringify({ url }))
let site
try {
  site = await serveStatic(['dist'], WEB_PORT)
} catch {
  site = await serveStatic(['dist'], 0)
}
console.log(`
  authwire-dev   ${url}   (keys: ${url}/_dev/config)
  demo page      ${site.url}/
  demo users     alice@example.com / password123, bob@example.com / password123

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
