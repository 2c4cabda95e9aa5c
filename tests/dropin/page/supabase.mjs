// The reference page: supabase-js 2.119.1 as a browser app bundles it.
import * as sdk from '@supabase/supabase-js'
import { install } from './harness.mjs'

// PostgREST is supabase-js's own `client.from()`.
install({ sdk, rest: (client) => client })
