import { createClient } from '@supabase/supabase-js'
import { run, type Client } from './cold'

run(async (url, key) => createClient(url, key, { auth: { persistSession: false } }) as unknown as Client)
