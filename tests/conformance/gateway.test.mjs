// Conformance against one authwire-dev in gateway mode (the default), driven by the official
// supabase-js 2.119 in Node (transport: `ws`) and by a raw Phoenix client. The cases live in
// ./gateway/*.mjs; they share this server and its `--sql` migration (./lib/schema.mjs).
import { before, after } from 'node:test'
import { startDevserver } from '../support/devserver.mjs'
import { Clients } from './lib/support.mjs'
import { writeMigration } from './lib/schema.mjs'
import authCases from './gateway/auth.mjs'
import changesCases from './gateway/changes.mjs'
import broadcastCases from './gateway/broadcast.mjs'
import privateCases from './gateway/private.mjs'
import tokenCases from './gateway/tokens.mjs'
import frameCases from './gateway/frames.mjs'
import hostileCases from './gateway/hostile.mjs'
import restCases from './gateway/rest.mjs'

const ctx = {}
let migration

before(async () => {
  migration = writeMigration()
  ctx.server = await startDevserver({ args: ['--sql', migration.file] })
  ctx.clients = new Clients(ctx.server)
})

after(async () => {
  await ctx.clients?.closeAll()
  await ctx.server?.stop()
  migration?.remove()
})

authCases(ctx)
changesCases(ctx)
broadcastCases(ctx)
privateCases(ctx)
tokenCases(ctx)
frameCases(ctx)
restCases(ctx)
hostileCases(ctx)
