-- The demo's schema: the band-practice app of the report that started authwire. Four RLS
-- tables a band's members may read and write; everyone else sees nothing. Applied by
-- `npm start` with `authwire-dev --sql www/schema.sql`, exactly as a Supabase migration.
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

-- Membership check that does not recurse through band_members' own policy.
create or replace function public.is_member(b uuid) returns boolean
language sql stable security definer set search_path = public as $$
  select exists (select 1 from public.band_members m where m.band_id = b and m.user_id = auth.uid())
$$;

alter table public.bands enable row level security;
alter table public.band_members enable row level security;
alter table public.songs enable row level security;
alter table public.setlists enable row level security;
alter table public.shows enable row level security;
alter table public.practice_sessions enable row level security;

create policy "members read their band" on public.bands for select to authenticated using (public.is_member(id));
create policy "members see members" on public.band_members for select to authenticated using (public.is_member(band_id));
create policy "members read" on public.songs for select to authenticated using (public.is_member(band_id));
create policy "members write" on public.songs for insert to authenticated with check (public.is_member(band_id));
create policy "members delete" on public.songs for delete to authenticated using (public.is_member(band_id));
create policy "members read" on public.setlists for all to authenticated using (public.is_member(band_id)) with check (public.is_member(band_id));
create policy "members read" on public.shows for all to authenticated using (public.is_member(band_id)) with check (public.is_member(band_id));
create policy "members read" on public.practice_sessions for all to authenticated using (public.is_member(band_id)) with check (public.is_member(band_id));

-- Private channels `band:<band id>`: members may read and write.
create policy "band members use the band channel" on realtime.messages for all to authenticated
  using (realtime.topic() like 'band:%' and public.is_member(substr(realtime.topic(), 6)::uuid))
  with check (realtime.topic() like 'band:%' and public.is_member(substr(realtime.topic(), 6)::uuid));

alter publication supabase_realtime add table public.songs, public.setlists, public.shows, public.practice_sessions;

-- One demo band; every signed-up (non-anonymous) user joins it, so new accounts see data too.
insert into public.bands (id, name) values ('ba4d0000-0000-4000-8000-000000000001', 'The Wire Tappers')
  on conflict do nothing;
create or replace function public.join_demo_band() returns trigger
language plpgsql security definer set search_path = public as $$
begin
  if not coalesce(new.is_anonymous, false) then
    insert into public.band_members (band_id, user_id)
      values ('ba4d0000-0000-4000-8000-000000000001', new.id) on conflict do nothing;
  end if;
  return new;
end $$;
create trigger join_demo_band after insert on auth.users for each row execute function public.join_demo_band();
insert into public.band_members (band_id, user_id)
  select 'ba4d0000-0000-4000-8000-000000000001', id from auth.users where not coalesce(is_anonymous, false)
  on conflict do nothing;
insert into public.songs (band_id, title, bpm) values
  ('ba4d0000-0000-4000-8000-000000000001', 'Join Before Token', 128),
  ('ba4d0000-0000-4000-8000-000000000001', 'Refresh Race', 140);
