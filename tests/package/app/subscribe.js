// What every scratch app does, and no more: the README's import line, `await init()` (twice:
// it is idempotent), `createClient(url, publishableKey)` and one `channel(...).subscribe()`.
import init, { createClient } from 'authwire'

/** The channel's first status (with the error's code and message, if any). */
export async function subscribeOnce(url, key) {
  await init()
  await init()
  const client = createClient(url, key)
  return new Promise((resolve) => {
    client.channel('package-smoke').subscribe((status, err) => resolve(err ? `${status} ${err.code}: ${err.message}` : status))
  })
}
