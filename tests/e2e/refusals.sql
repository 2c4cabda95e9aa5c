-- tests/e2e/refusals.test.mjs: private channels any signed-in user may read, so that a join
-- is refused only for its token.
create policy "refusals: authenticated read" on realtime.messages for select to authenticated using (true);
