-- fullpass: a least-privilege login role for the daemon, `fullpass_worker`.
--
-- The role may read and write only the user_profiles columns fullpass uses
-- (user_id, storage_path, memory_md, memory_facts and every full_pass_* column;
-- it writes memory_md, memory_facts and full_pass_* only). It cannot read or
-- change any other app column, insert or delete rows, or touch other tables.
--
-- Run it as the owner of public.user_profiles (on Supabase: the `postgres` user,
-- e.g. in the SQL editor or with psql), AFTER `fullpass migrate`, and again after
-- every upgrade whose migrations add full_pass_* columns. It is idempotent, and a
-- re-run also removes any table privilege granted to the role by hand.
--
-- Plain SQL on purpose (no psql variables), so it runs in any SQL client. The
-- password is not set here; set it once, out of band:
--     alter role fullpass_worker password 'a long random secret';
-- Then:
--     migrations:  fullpass migrate   with DATABASE_URL of the table owner
--     daemon:      fullpass run       with DATABASE_URL of fullpass_worker and
--                  FULLPASS_SKIP_MIGRATIONS=true (the worker cannot alter tables)

do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'fullpass_worker') then
        create role fullpass_worker login nosuperuser nocreatedb nocreaterole noreplication;
    end if;
    if to_regclass('public.user_profiles') is null then
        raise exception 'public.user_profiles does not exist: run `fullpass migrate` first';
    end if;
    if to_regnamespace('fullpass') is null then
        raise exception 'schema fullpass does not exist: run `fullpass migrate` first';
    end if;
end
$$;

grant usage on schema public to fullpass_worker;
grant usage on schema fullpass to fullpass_worker;

-- Start from nothing on the table (this also revokes column grants), then grant
-- column by column.
revoke all on public.user_profiles from fullpass_worker;

-- The columns are looked up rather than listed, so a migration adding a
-- full_pass_* column only needs this file re-run, not edited.
do $$
declare
    readable text;
    writable text;
begin
    select string_agg(quote_ident(attname), ', ' order by attnum)
      into readable
      from pg_catalog.pg_attribute
     where attrelid = 'public.user_profiles'::regclass
       and attnum > 0
       and not attisdropped
       and (attname in ('user_id', 'storage_path', 'memory_md', 'memory_facts')
            or attname like 'full\_pass\_%');
    select string_agg(quote_ident(attname), ', ' order by attnum)
      into writable
      from pg_catalog.pg_attribute
     where attrelid = 'public.user_profiles'::regclass
       and attnum > 0
       and not attisdropped
       and (attname in ('memory_md', 'memory_facts') or attname like 'full\_pass\_%');
    if readable is null or writable is null then
        raise exception 'public.user_profiles lacks the fullpass columns: run `fullpass migrate` first';
    end if;
    execute format('grant select (%s) on public.user_profiles to fullpass_worker', readable);
    execute format('grant update (%s) on public.user_profiles to fullpass_worker', writable);
end
$$;

-- The queue triggers run as the role that changes the row. Functions are
-- executable by PUBLIC by default; this keeps them so where that was revoked.
-- (pg_notify and gen_random_uuid are PUBLIC built-ins, only a superuser could
-- grant them again.)
grant execute on function fullpass.user_profiles_before_change() to fullpass_worker;
grant execute on function fullpass.user_profiles_notify() to fullpass_worker;

-- Lets a worker see which migrations the database has (read only), and keep
-- the LLM extractor's chunk checkpoints (FULLPASS_EXTRACTOR=llm).
do $$
begin
    if to_regclass('fullpass.refinery_schema_history') is not null then
        grant select on fullpass.refinery_schema_history to fullpass_worker;
    end if;
    if to_regclass('fullpass.llm_chunks') is not null then
        grant select, insert, delete on fullpass.llm_chunks to fullpass_worker;
    end if;
end
$$;

-- Row-level security (Supabase tables usually have it on): without a policy the
-- role would see no rows at all. The policies are created even while RLS is off,
-- where they do nothing, so that enabling RLS later does not stop fullpass.
do $$
begin
    if not exists (select from pg_catalog.pg_policies
                    where schemaname = 'public' and tablename = 'user_profiles'
                      and policyname = 'fullpass_worker_select') then
        create policy fullpass_worker_select on public.user_profiles
            for select to fullpass_worker using (true);
    end if;
    if not exists (select from pg_catalog.pg_policies
                    where schemaname = 'public' and tablename = 'user_profiles'
                      and policyname = 'fullpass_worker_update') then
        create policy fullpass_worker_update on public.user_profiles
            for update to fullpass_worker using (true) with check (true);
    end if;
end
$$;
