// One page's network: a TCP forwarder on 127.0.0.1 between the page and the devserver, so
// the soak can take that page (and only that page) offline — every connection it holds is
// reset and new ones are refused — and follow the devserver to its new port after a restart.
import { createServer, connect } from 'node:net'

/** Starts a forwarder to 127.0.0.1:`upstreamPort`; resolves once it listens. */
export async function startProxy(upstreamPort) {
  let upstream = upstreamPort
  let offline = false
  const pairs = new Set()
  const server = createServer((client) => {
    if (offline) return client.resetAndDestroy()
    const peer = connect({ host: '127.0.0.1', port: upstream })
    const pair = { client, peer }
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      peer.destroy()
    }
    client.on('error', end).on('close', end)
    peer.on('error', end).on('close', end)
    client.pipe(peer)
    peer.pipe(client)
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  return {
    port: server.address().port,
    /** Every connection through this proxy is reset; until `online()`, new ones are too. */
    offline() {
      offline = true
      for (const { client, peer } of pairs) {
        client.resetAndDestroy()
        peer.destroy()
      }
      pairs.clear()
    },
    online() {
      offline = false
    },
    /** Where new connections go from now on (the devserver restarted on another port). */
    retarget(port) {
      upstream = port
    },
    get connections() {
      return pairs.size
    },
    close() {
      this.offline()
      return new Promise((ok) => server.close(ok))
    },
  }
}
