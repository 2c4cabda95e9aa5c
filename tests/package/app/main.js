// A page: the server URL and key come from the query string; the result goes to
// `document.body.dataset.status`, where the test reads it.
import { subscribeOnce } from './subscribe.js'

const q = new URLSearchParams(location.search)
subscribeOnce(q.get('url'), q.get('key')).then(
  (status) => (document.body.dataset.status = status),
  (e) => (document.body.dataset.status = `error ${e?.stack ?? e}`),
)
