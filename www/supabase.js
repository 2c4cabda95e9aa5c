// The official client, loaded only with `?sdk=supabase-js`. Plain JS with its types in
// supabase.d.ts: supabase-js's own declarations do not check under this project's strict
// settings (`skipLibCheck: false`, kept so authwire's generated `.d.ts` is checked; no Node
// types), so TypeScript is shown the slice sdk.ts uses instead.
export { createClient } from '@supabase/supabase-js'
