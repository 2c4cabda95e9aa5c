-- Supabase's default privileges on `public`: the API roles may use everything created there,
-- and row level security is what restricts them.
grant usage on schema public to anon, authenticated, service_role;
grant all on all tables in schema public to anon, authenticated, service_role;
grant all on all sequences in schema public to anon, authenticated, service_role;
grant all on all functions in schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
do $$
begin
  -- Objects created by supabase_admin (as on hosted projects) get the same grants.
  if exists (select 1 from pg_roles where rolname = 'supabase_admin') then
    execute 'alter default privileges for role supabase_admin in schema public grant all on tables to anon, authenticated, service_role';
    execute 'alter default privileges for role supabase_admin in schema public grant all on sequences to anon, authenticated, service_role';
    execute 'alter default privileges for role supabase_admin in schema public grant all on functions to anon, authenticated, service_role';
  end if;
end
$$;

-- Extensions live in their own schema, which is on the search path as on Supabase.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;
grant usage on schema extensions to anon, authenticated, service_role;
grant all on all functions in schema extensions to anon, authenticated, service_role;
do $$
begin
  execute format('alter database %I set search_path to "$user", public, extensions', current_database());
end
$$;
