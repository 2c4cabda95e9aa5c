-- The devserver's own state. `mailbox` is where "sent" emails and SMS land (read through
-- /_dev/mailbox): no mail leaves the machine, and tests read codes and links from here.
create table if not exists authwire_dev.mailbox (
  id bigserial primary key,
  channel text not null default 'email' check (channel in ('email', 'sms')),
  recipient text not null,
  kind text not null,
  subject text,
  otp text,
  token_hash text,
  link text,
  user_id uuid references auth.users (id) on delete cascade,
  created_at timestamptz not null default now()
);
create index if not exists mailbox_recipient_idx on authwire_dev.mailbox (recipient, id desc);
revoke all on schema authwire_dev from public;
