-- `--seed demo`: two confirmed email users (password `password123`), as a Supabase seed.sql
-- would create them; passwords are bcrypt (cost 10) through pgcrypto, which GoTrue accepts.
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at)
values
  ('00000000-0000-0000-0000-000000000000', 'a11ce000-0000-4000-8000-000000000001', 'authenticated',
   'authenticated', 'alice@example.com', extensions.crypt('password123', extensions.gen_salt('bf', 10)), now(),
   '{"provider":"email","providers":["email"]}', '{"name":"Alice"}', now(), now(), null),
  ('00000000-0000-0000-0000-000000000000', 'b0b00000-0000-4000-8000-000000000002', 'authenticated',
   'authenticated', 'bob@example.com', extensions.crypt('password123', extensions.gen_salt('bf', 10)), now(),
   '{"provider":"email","providers":["email"]}', '{"name":"Bob"}', now(), now(), null)
on conflict (id) do nothing;

insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
select u.id::text, u.id,
       jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, 'phone_verified', false),
       'email', now(), now()
from auth.users u
where u.id in ('a11ce000-0000-4000-8000-000000000001', 'b0b00000-0000-4000-8000-000000000002')
on conflict (provider_id, provider) do nothing;
