// Waiting with a deadline, for every JS suite: poll a condition (`waitFor`), bound a promise
// (`within`), wait for a channel's SUBSCRIBED (`subscribe`), or for a wall-clock instant the
// test has derived from what it observed (`untilClock`). A wait never stands in for an event:
// it waits *for* one, and its timeout message names what was awaited.
//
// Each function is self-contained (no module-level references), so the e2e fixture installs
// the very same code in its pages (`PAGE_HELPERS`, via `Function.prototype.toString`).

/**
 * Polls `pred` (sync or async) until it returns a truthy value, and returns that value.
 * After `timeoutMs` it throws, naming `what`: a string, or a function called then (so the
 * message can show the state that was last seen).
 */
export async function waitFor(pred, { timeoutMs = 5000, what = 'a condition', intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await pred()
    if (v) return v
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`)
    }
    await new Promise((ok) => setTimeout(ok, intervalMs))
  }
}

/** `promise`'s outcome, or a rejection naming `what` once `timeoutMs` have passed. */
export function within(promise, { timeoutMs = 5000, what = 'a result' } = {}) {
  let timer
  const late = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/**
 * Resolves once the wall clock reads `atMs` (ms since the epoch). Only for behaviour that *is*
 * time on a clock the test cannot observe otherwise (a client deciding by its own clock that a
 * token expired, a server-side reuse window): `atMs` is derived from an instant the test saw
 * (a response's arrival, a token's `exp`), never a guess at how long something takes. Call
 * sites say why no event can be awaited instead.
 */
export async function untilClock(atMs) {
  for (let left = atMs - Date.now(); left > 0; left = atMs - Date.now()) await new Promise((ok) => setTimeout(ok, left))
}

/**
 * Subscribes `channel` (supabase-js or authwire) and resolves with it on SUBSCRIBED; rejects
 * on CHANNEL_ERROR / TIMED_OUT with an error carrying `status` and `reason` (the message).
 */
export function subscribe(channel, timeoutMs) {
  return new Promise((ok, fail) =>
    channel.subscribe((status, err) => {
      if (status === 'SUBSCRIBED') ok(channel)
      else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
        const e = new Error(`${status}: ${err?.code ? `${err.code}: ` : ''}${err?.message}`)
        e.status = status
        e.reason = err?.message
        fail(e)
      }
    }, timeoutMs),
  )
}

/** Script text that defines the functions above as `window.*` in a page. */
export const PAGE_HELPERS = [waitFor, within, untilClock, subscribe].map((f) => `window.${f.name} = ${f};`).join('\n')
