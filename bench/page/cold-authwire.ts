import init, { createClient } from 'authwire'
import { run, type Client } from './cold'

run(async (url, key) => {
  await init()
  return createClient(url, key, { auth: { persistSession: false } }) as unknown as Client
})
