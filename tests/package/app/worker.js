// A module worker: subscribes when the page posts `{ url, key }`, posts the status back.
import { subscribeOnce } from './subscribe.js'

self.onmessage = (e) =>
  subscribeOnce(e.data.url, e.data.key).then(
    (status) => self.postMessage(status),
    (err) => self.postMessage(`error ${err?.stack ?? err}`),
  )
