// Type-checked by tests/package against the installed package (not bundled): both entries
// resolve to the package's declarations through its `exports` map.
import init, { createClient, type RealtimeChannel, type SubscribeStatus } from 'authwire'
import initUrl from 'authwire/url'

await init()
await initUrl()
const client = createClient('http://127.0.0.1:54321', 'key')
const channel: RealtimeChannel = client.channel('package-smoke')
channel.subscribe((status: SubscribeStatus) => void status)
// @ts-expect-error: statuses are a string-literal union
channel.subscribe((status) => status === 'JOINED')
