// Conformance against one authwire-dev in gateway mode (the default), driven by the official
// supabase-js 2.119 in Node (transport: `ws`) and by a raw Phoenix client. The cases live in
// ./gateway/*.mjs; they share this server and its `--sql` migration (./lib/schema.mjs).
import { after } from 'node:test'
import { conformanceFixture } from './lib/support.mjs'
import { writeMigration } from './lib/schema.mjs'
import authCases from './gateway/auth.mjs'
import changesCases from './gateway/changes.mjs'
import broadcastCases from './gateway/broadcast.mjs'
import privateCases from './gateway/private.mjs'
import tokenCases from './gateway/tokens.mjs'
import frameCases from './gateway/frames.mjs'
import hostileCases from './gateway/hostile.mjs'
import restCases from './gateway/rest.mjs'

const migration = writeMigration()
after(() => migration.remove())
const ctx = conformanceFixture({ server: { args: ['--sql', migration.file] } })

authCases(ctx)
changesCases(ctx)
broadcastCases(ctx)
privateCases(ctx)
tokenCases(ctx)
frameCases(ctx)
restCases(ctx)
hostileCases(ctx)
