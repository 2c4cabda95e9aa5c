// Misuse that both authwire and supabase-js refuse: each `@ts-expect-error` line must fail to
// type-check against either, or tsc reports the directive as unused.
import { createClient, type AuthChangeEvent, type RealtimePostgresChangesPayload, type Session } from 'authwire'
import type { Database, Tables } from './database'

declare const url: string
declare const key: string
const supabase = createClient<Database>(url, key)
type Song = Tables<'songs'>

// 43. A status that does not exist.
supabase.channel('a').subscribe((status) => {
  // @ts-expect-error: not a subscribe status
  if (status === 'JOINED') return
})

// 44. An auth event that does not exist.
supabase.auth.onAuthStateChange((event: AuthChangeEvent) => {
  // @ts-expect-error: not an auth event
  if (event === 'SIGNED_UP') return
})

// 45. A postgres_changes event that does not exist, and an unknown listener type.
// @ts-expect-error: TRUNCATE is not a postgres_changes event
supabase.channel('b').on('postgres_changes', { event: 'TRUNCATE', schema: 'public' }, () => {})
// @ts-expect-error: not a listener type
supabase.channel('b').on('database', { event: '*' }, () => {})
// @ts-expect-error: `schema` is required
supabase.channel('b').on('postgres_changes', { event: '*', table: 'songs' }, () => {})

// 46. Wrong payload fields: a column the row does not have, `new` of a DELETE, `old` of an INSERT.
supabase.channel('c').on<Song>('postgres_changes', { event: 'INSERT', schema: 'public', table: 'songs' }, (p) => {
  // @ts-expect-error: songs has no `name` column
  void p.new.name
  // @ts-expect-error: an INSERT's `old` is `{}`
  void p.old.id
})
supabase.channel('c').on<Song>('postgres_changes', { event: 'DELETE', schema: 'public', table: 'songs' }, (p) => {
  // @ts-expect-error: a DELETE's `new` is `{}`
  void p.new.title
  // @ts-expect-error: `old` is partial: `id` may be missing
  const id: number = p.old.id
  void id
})
function narrow(p: RealtimePostgresChangesPayload<Song>): void {
  // @ts-expect-error: not narrowed yet: `new` may be `{}`
  void p.new.title
  // @ts-expect-error: not an eventType
  if (p.eventType === 'TRUNCATE') return
}
void narrow

// 47. A typed broadcast payload's members.
supabase.channel('d').on<{ x: number }>('broadcast', { event: 'move' }, ({ payload }) => {
  // @ts-expect-error: `x` is a number
  const s: string = payload.x
  void s
})

// 48. Presence state typed by `T`.
const lobby = supabase.channel('lobby')
// @ts-expect-error: `name` is a string
const n: number = lobby.presenceState<{ name: string }>()['k']![0]!.name
void n

// 49. Auth results: `data.user` may be null before the error check; wrong argument shapes.
async function auth(): Promise<void> {
  const { data } = await supabase.auth.getUser()
  // @ts-expect-error: user is null on error
  void data.user.id
  // @ts-expect-error: a password is required
  await supabase.auth.signInWithPassword({ email: 'a@b.c' })
  // @ts-expect-error: scope is 'global' | 'local' | 'others'
  await supabase.auth.signOut({ scope: 'everywhere' })
  // @ts-expect-error: not an OAuth provider
  await supabase.auth.signInWithOAuth({ provider: 'myspace' })
  const { data: s } = await supabase.auth.getSession()
  // @ts-expect-error: the session may be null
  const session: Session = s.session
  void session
}
void auth

// 50. A schema the Database does not have; a send type that does not exist.
// @ts-expect-error: no such schema
createClient<Database, 'private'>(url, key)
// @ts-expect-error: broadcast, presence or postgres_changes only
void supabase.channel('e').send({ type: 'nope', event: 'e' })
