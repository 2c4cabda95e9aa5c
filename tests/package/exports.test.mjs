// The package's plain-JS exports against the real supabase-js 2.119.1 in Node: the realtime-js
// constants are the same values, postgresChangesFilter() builds the same text (or throws the
// same way) for a corpus of calls, and both entries export the names supabase-js apps import.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as realtimeJs from '@supabase/realtime-js'
import * as authJs from '@supabase/auth-js'
import * as ours from '../../pkg/realtime.js'

const CONSTANTS = ['REALTIME_SUBSCRIBE_STATES', 'REALTIME_LISTEN_TYPES', 'REALTIME_POSTGRES_CHANGES_LISTEN_EVENT', 'REALTIME_PRESENCE_LISTEN_EVENTS', 'REALTIME_CHANNEL_STATES']

test('the realtime-js constants have realtime-js 2.119.1 values', () => {
  for (const name of CONSTANTS) assert.deepEqual({ ...ours[name] }, { ...realtimeJs[name] }, name)
})

const values = ['x', 'a b', ' a', 'a ', '\t', 'x,y', 'x(y', 'x)y', 'he said "hi"', 'x\\y', 'x.y', '', 'null', "it's", 'é', 'a\nb', 1, -2, 1.5, 0, true, false, null, NaN]
const calls = [
  ...['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'is', 'isDistinct'].flatMap((op) => values.map((v) => (f) => f[op]('col', v))),
  ...values.map((v) => (f) => f.in('col', [v, 'other'])),
  ...values.map((v) => (f) => f.not('col', 'eq', v)),
  ...values.map((v) => (f) => f.not('col', 'is', v)),
  ...values.map((v) => (f) => f.not('col', 'like', v)),
  (f) => f.in('col', []),
  (f) => f.not('col', 'in', []),
  (f) => f.not('col', 'in', [1, 'a,b']),
  (f) => f.not('col', 'is', null),
  (f) => f.eq('a', 1).lt('b', 30).in('c', ['urgent', 'now']),
  (f) => f,
]

test('postgresChangesFilter() builds what realtime-js 2.119.1 builds', () => {
  const outcome = (make, call) => {
    try {
      const b = call(make())
      return { build: b.build(), string: String(b) }
    } catch (e) {
      return { throws: e.message }
    }
  }
  let n = 0
  for (const call of calls) {
    assert.deepEqual(outcome(ours.postgresChangesFilter, call), outcome(realtimeJs.postgresChangesFilter, call), call.toString())
    n++
  }
  assert.ok(n > 300, `${n} calls`)
  assert.ok(ours.postgresChangesFilter() instanceof ours.RealtimePostgresFilterBuilder)
})

test('both entries export the realtime-js constants, the filter builder and the auth-js guards and classes', async () => {
  const expected = [
    ...CONSTANTS,
    'postgresChangesFilter',
    'RealtimePostgresFilterBuilder',
    ...Object.keys(authJs).filter((k) => /^isAuth\w*Error$/.test(k) || /^(Auth\w*Error|CustomAuthError)$/.test(k)),
  ]
  for (const entry of ['url.js', 'inline.js']) {
    const m = await import(`../../pkg/${entry}`)
    const missing = expected.filter((k) => !(k in m))
    assert.deepEqual(missing, [], `${entry} lacks ${missing.join(', ')}`)
  }
})
