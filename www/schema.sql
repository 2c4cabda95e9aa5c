-- The demo's schema: the band-practice app of the report that started authwire. Four RLS
-- tables a band's members may read and write; everyone else sees nothing. Applied by
-- `npm start` with `authwire-dev --sql www/schema.sql`, exactly as a Supabase migration
-- (on a Supabase project: paste it into the SQL editor).
create table if not exists public.bands (
  id uuid primary key default gen_random_uuid(),
  name text not null
);
create table if not exists public.band_members (
  band_id uuid not null references public.bands (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  primary key (band_id, user_id)
);
create table if not exists public.songs (
  id bigint generated always as identity primary key,
  band_id uuid not null references public.bands (id) on delete cascade,
  title text not null,
  bpm int,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now()
);
create table if not exists public.setlists (
  id bigint generated always as identity primary key,
  band_id uuid not null references public.bands (id) on delete cascade,
  name text not null
);
create table if not exists public.shows (
  id bigint generated always as identity primary key,
  band_id uuid not null references public.bands (id) on delete cascade,
  venue text not null,
  starts_at timestamptz
);
create table if not exists public.practice_sessions (
  id bigint generated always as identity primary key,
  band_id uuid not null references public.bands (id) on delete cascade,
  notes text,
  held_at timestamptz not null default now()
);

-- DELETE events carry the whole old row to the change feed, so the channels' `band_id=eq.…`
-- filter applies to deletes too (what is delivered is still cut to the primary key under RLS).
alter table public.songs replica identity full;
alter table public.setlists replica identity full;
alter table public.shows replica identity full;
alter table public.practice_sessions replica identity full;

-- Membership check that does not recurse through band_members' own policy.
create or replace function public.is_member(b uuid) returns boolean
language sql stable security definer set search_path = public as $$
  select exists (select 1 from public.band_members m where m.band_id = b and m.user_id = auth.uid())
$$;

-- The band of a channel topic: `band:<id>` (presence, typing) or `band:<id>:<table>` (one
-- channel per table); null for any other topic, so the policies below refuse it.
create or replace function public.topic_band(t text) returns uuid
language sql immutable as $$
  select case when t ~ '^band:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:[a-z_]+)?$'
              then substr(t, 6, 36)::uuid end
$$;

alter table public.bands enable row level security;
alter table public.band_members enable row level security;
alter table public.songs enable row level security;
alter table public.setlists enable row level security;
alter table public.shows enable row level security;
alter table public.practice_sessions enable row level security;

create policy "members read their band" on public.bands for select to authenticated using (public.is_member(id));
create policy "members see members" on public.band_members for select to authenticated using (public.is_member(band_id));
create policy "members only" on public.songs for all to authenticated using (public.is_member(band_id)) with check (public.is_member(band_id));
create policy "members only" on public.setlists for all to authenticated using (public.is_member(band_id)) with check (public.is_member(band_id));
create policy "members only" on public.shows for all to authenticated using (public.is_member(band_id)) with check (public.is_member(band_id));
create policy "members only" on public.practice_sessions for all to authenticated using (public.is_member(band_id)) with check (public.is_member(band_id));

-- Private channels `band:<id>` and `band:<id>:<table>`: members may read and write.
create policy "band members use the band's channels" on realtime.messages for all to authenticated
  using (public.is_member(public.topic_band(realtime.topic())))
  with check (public.is_member(public.topic_band(realtime.topic())));

alter publication supabase_realtime add table public.songs, public.setlists, public.shows, public.practice_sessions;

-- Two bands. A new (non-anonymous) user joins the band named in their `app_metadata.band`
-- (which only the admin API can set), else the demo band, so new accounts see data too.
insert into public.bands (id, name) values
  ('ba4d0000-0000-4000-8000-000000000001', 'The Wire Tappers'),
  ('ba4d0000-0000-4000-8000-000000000002', 'The Null Pointers')
  on conflict do nothing;
create or replace function public.join_demo_band() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  b uuid := coalesce(nullif(new.raw_app_meta_data ->> 'band', '')::uuid, 'ba4d0000-0000-4000-8000-000000000001');
begin
  if not coalesce(new.is_anonymous, false) then
    insert into public.band_members (band_id, user_id) values (b, new.id) on conflict do nothing;
  end if;
  return new;
end $$;
create trigger join_demo_band after insert on auth.users for each row execute function public.join_demo_band();
insert into public.band_members (band_id, user_id)
  select 'ba4d0000-0000-4000-8000-000000000001', id from auth.users where not coalesce(is_anonymous, false)
  on conflict do nothing;

-- Demo data.
insert into public.songs (band_id, title, bpm) values
  ('ba4d0000-0000-4000-8000-000000000001', 'Join Before Token', 128),
  ('ba4d0000-0000-4000-8000-000000000001', 'Refresh Race', 140),
  ('ba4d0000-0000-4000-8000-000000000001', 'Malformed JWT Blues', 92),
  ('ba4d0000-0000-4000-8000-000000000002', 'Segfault Serenade', 110);
insert into public.setlists (band_id, name) values
  ('ba4d0000-0000-4000-8000-000000000001', 'Friday at the Socket'),
  ('ba4d0000-0000-4000-8000-000000000001', 'Acoustic (no heartbeat)'),
  ('ba4d0000-0000-4000-8000-000000000002', 'Core Dump Tour');
insert into public.shows (band_id, venue, starts_at) values
  ('ba4d0000-0000-4000-8000-000000000001', 'The Phoenix Channel', now() + interval '9 days'),
  ('ba4d0000-0000-4000-8000-000000000001', 'Club 403', now() + interval '23 days'),
  ('ba4d0000-0000-4000-8000-000000000002', 'The Heap', now() + interval '12 days');
insert into public.practice_sessions (band_id, notes, held_at) values
  ('ba4d0000-0000-4000-8000-000000000001', 'Tightened the bridge of Refresh Race', now() - interval '2 days'),
  ('ba4d0000-0000-4000-8000-000000000001', 'New intro for Join Before Token', now() - interval '5 days'),
  ('ba4d0000-0000-4000-8000-000000000002', 'Tuning, mostly', now() - interval '1 day');
