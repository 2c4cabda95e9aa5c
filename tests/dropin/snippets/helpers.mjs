// Shared pieces of the drop-in snippets (see ../snippets.mjs for how a snippet is written).

export const PASSWORD = 'correct-horse-1'

/** The options of a second device's client. */
export const OTHER_DEVICE = { auth: { storageKey: 'other-device' } }

/** `STATUS` or `STATUS:<err code or message>` for each recorded `step` (deliberate-difference checks). */
export const statuses = (step) => (log) =>
  log.filter((e) => e.step === step).map((e) => {
    const err = e.args?.[1]?.$error
    return e.args[0] + (err ? `:${typeof err.code === 'string' ? err.code : err.message}` : '')
  })

/** Waits for a `system` event whose message is `message` (postgres_changes readiness). */
export const systemSaid = (t, step, message) => t.wait(`${step}: ${message}`, () => t.events(step).some((e) => e.args[0]?.message === message))

/** Waits until a broadcast with the barrier `id` was recorded as `step`. */
export const barrierSeen = (t, step, id) => t.wait(`barrier on ${step}`, () => t.events(step).some((e) => e.args[0]?.payload?.id === id))

/**
 * This device and another one (`other`), both signed in as `user`, the other's auth events
 * recorded from its INITIAL_SESSION on.
 */
export async function twoDevices(t, user) {
  const supabase = t.createClient(t.url, t.key)
  const other = t.createClient(t.url, t.key, OTHER_DEVICE)
  await signIn(t, supabase, user)
  await signIn(t, other, user, 'other: signInWithPassword')
  other.auth.onAuthStateChange(t.cb('other: onAuthStateChange', 2))
  await t.until('other: onAuthStateChange')
  return { supabase, other }
}

/** Signs `supabase` in as `user` and records the result. */
export const signIn = (t, supabase, user, step = 'signInWithPassword') => t.rec(step, supabase.auth.signInWithPassword({ email: user.email, password: user.password }))

/**
 * Subscribes `channel` (its postgres_changes listeners already on) with the suite's listeners:
 * change-feed barriers as `barrier`, `system` messages, statuses; resolves once the change
 * feed serves it ("Subscribed to PostgreSQL").
 */
export async function subscribeToChanges(t, channel) {
  channel.on('broadcast', { event: t.barrierEvent }, t.cb('barrier')).on('system', {}, t.cb('system')).subscribe(t.cb('status', 2))
  await t.until('status')
  await systemSaid(t, 'system', 'Subscribed to PostgreSQL')
}

/** Commits a change-feed barrier to `topic` (a name, or `{ name, private }`) and waits until it was recorded as `step`. */
export const barrier = async (t, topic, step = 'barrier') => barrierSeen(t, step, await t.dev.barrier([topic]))
