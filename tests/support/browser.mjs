// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { chromium } from 'playwright-core'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function launchBrowser({ extraArgs = [] } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'authwire-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // Without these Chromium dials Google at start-up, which this network refuses.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  })
  return {
    context,
    async newPage() {
      const page = await context.newPage()
      const logs = []
      page.on('console', (m) => { logs.push(`[${m.type()}] ${m.text()}`); if (process.env.AUTHWIRE_E2E_CONSOLE) console.log('page:', m.text()) })
      page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`))
      page.logs = logs
      return page
    },
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
