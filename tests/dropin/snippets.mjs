// The drop-in snippets: small pieces of ordinary supabase-js app code. Each runs unchanged
// against both clients — `createClient` (and `sdk`, the imported module) is supabase-js's or
// authwire's — inside the page harness (`page/harness.mjs`), which records what the app sees:
//   rec(step, promise)   an awaited result (a rejection or a hang ends the snippet)
//   settle(step, p)      the same, but a rejection is recorded and the snippet goes on (p may
//                        be a function returning the promise: a synchronous throw counts too)
//   call(step, fn)       a synchronous call's return value or what it threw
//   cb(step, n = 1)      a callback that records each invocation's first n arguments (the
//                        parameters supabase-js's types declare: (status, err) is 2)
//   log(step, …values)   anything else the app reads (getChannels(), channel.state, …)
//   until(step, n) / wait(what, pred)   wait for something recorded (a timeout is recorded too)
// and provides: url, key (the publishable key), users (fresh confirmed users made through the
// admin API: { email, password, id }), emails (unused addresses), tag (unique per run, for
// channel names), barrierEvent, rest(client) (PostgREST on the `notes` table of tests/conformance/lib/schema.mjs: supabase-js's own `from()`; for
// authwire `@supabase/postgrest-js` on `client.fetch`), dev.sql / dev.barrier / dev.fault /
// dev.authorize (the devserver: SQL, change-feed barriers, faults, the `dev` OAuth provider).
//
// Snippet fields: `name`; `users` (how many to make); `run` (one function, or an array of
// phases with a page reload between them); `todo` (why authwire differs today: an authwire
// gap); `deliberate` ({ guarantee, difference, project(log), want }: authwire keeps a
// guarantee supabase-js breaks, so `project(authwire's normalised log)` must equal `want`).
//
// A second client in a snippet is another device: its own storage key, so the two clients do
// not share a session through localStorage. The snippets live in snippets/ (auth.mjs,
// realtime.mjs; shared pieces in helpers.mjs).
import { snippets as auth } from './snippets/auth.mjs'
import { snippets as realtime } from './snippets/realtime.mjs'

export { PASSWORD } from './snippets/helpers.mjs'

/** Every snippet, in the order the suite runs them (and RESULTS.md lists them). */
export const snippets = [...auth, ...realtime]
