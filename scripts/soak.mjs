#!/usr/bin/env node
// `npm run soak -- --minutes M [--write]`: the chaos soak of tests/soak/run.mjs against a
// freshly built package and devserver. Prints the counts; exits 1 if any count is not zero.
// `--write` puts the table into RELIABILITY.md (between its soak markers).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { runSoak } from '../tests/soak/run.mjs'

const root = resolve(import.meta.dirname, '..')
const argv = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : dflt
}
const minutes = Number(opt('minutes', '1'))
if (!(minutes > 0)) {
  console.error('soak: --minutes must be a positive number')
  process.exit(2)
}
const t0 = Date.now()
const r = await runSoak({ minutes, log: (m) => console.log(m) })
const pct = (x) => `${(100 * x).toFixed(2)} %`
const rows = [
  ...Object.entries(r.counts).map(([k, v]) => `| ${k} | ${v} |`),
  `| lowest share of time SUBSCRIBED, any channel of any page (all the time) | ${pct(r.info.subscribedMin)} |`,
  `| lowest share of time SUBSCRIBED, leaving out the page's outages and the restarts | ${pct(r.info.subscribedReachableMin)} |`,
  `| channel losses outside outages and restarts, and the time to SUBSCRIBED again (p50 / p90 / max) | ${r.info.recovery.count}: ${r.info.recovery.p50} / ${r.info.recovery.p90} / ${r.info.recovery.max} ms |`,
]
const i = r.info
const table = [
  `Chaos soak, ${minutes} min (\`npm run soak -- --minutes ${minutes}\`), ${new Date().toISOString().slice(0, 10)}: ${i.restarts} devserver restarts, ${i.outages} page outages, ${i.socketsOpened} sockets opened, ${i.joins} joins, ${i.tokenPushes} access_token pushes, ${i.refreshes} refreshes (${i.refreshesFailedByFault} failed by the fault, ${i.refreshRetriesAfterAFailure} retries of a refresh token after a failure); acked broadcasts: ${i.acked.sent} sent, ${i.acked.ok} ok, ${i.acked.deliveries} deliveries due to the other user's tabs (${i.acked.awayCoveredByGap} while away, covered by a gap); database broadcasts: ${i.db.committed} committed, ${i.db.deliveries} deliveries due, ${i.db.replayed} delivered by replay, ${i.db.coveredByGap} inside a gap; songs: ${i.songs.committed} committed, ${i.songs.deliveries} deliveries due, ${i.songs.coveredByGap} inside a gap.`,
  '',
  '| counted | value |',
  '|---|---|',
  ...rows,
].join('\n')
console.log(`\n${table}\n`)
console.log('per channel:', JSON.stringify(r.fractions))
console.log('acked outcomes other than ok:', JSON.stringify(i.acked.otherOutcomes))
if (r.lost.length) console.log('lost:\n  ' + r.lost.join('\n  '))
if (r.errors.length) console.log('page errors:\n  ' + r.errors.join('\n  '))
if (r.expired.length) console.log('expired:', JSON.stringify(r.expired))
if (r.superseded.length) console.log('superseded:', JSON.stringify(r.superseded))
if (r.leftovers.some((x) => x.channels + x.openSockets + x.timers + x.listeners.length + x.objects)) console.log('leftovers:', JSON.stringify(r.leftovers))
mkdirSync(resolve(root, 'target'), { recursive: true })
writeFileSync(resolve(root, 'target/soak-last.json'), JSON.stringify(r, null, 1))
if (argv.includes('--write')) {
  const file = resolve(root, 'RELIABILITY.md')
  const doc = readFileSync(file, 'utf8')
  const begin = '<!-- soak:begin -->'
  const end = '<!-- soak:end -->'
  if (!doc.includes(begin) || !doc.includes(end)) throw new Error(`RELIABILITY.md has no ${begin} … ${end} section`)
  writeFileSync(file, doc.slice(0, doc.indexOf(begin) + begin.length) + '\n' + table + '\n' + doc.slice(doc.indexOf(end)))
}
console.log(`soak: ${r.ok ? 'every count is zero' : 'FAILED: a count is not zero'} (${((Date.now() - t0) / 1000).toFixed(0)} s)`)
process.exit(r.ok ? 0 : 1)
