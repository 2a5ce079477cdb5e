-- fullpass: the full-pass queue lives on the app's own user_profiles rows.
-- Safe on an empty database and on one where user_profiles already exists:
-- nothing here drops or rewrites an app column.

create table if not exists public.user_profiles (
    user_id uuid primary key
);

alter table public.user_profiles
    add column if not exists memory_md text,
    add column if not exists memory_facts jsonb,
    add column if not exists full_pass_status text,
    add column if not exists full_pass_started_at timestamptz,
    add column if not exists full_pass_completed_at timestamptz,
    add column if not exists full_pass_error text,
    add column if not exists storage_path text,
    -- queue bookkeeping, written only by fullpass
    add column if not exists full_pass_requested_at timestamptz,
    add column if not exists full_pass_attempts integer not null default 0,
    add column if not exists full_pass_rescues integer not null default 0,
    add column if not exists full_pass_not_before timestamptz,
    add column if not exists full_pass_claim_token uuid,
    add column if not exists full_pass_claimed_by text,
    add column if not exists full_pass_lease_until timestamptz,
    add column if not exists full_pass_progress jsonb,
    add column if not exists full_pass_stats jsonb;

do $$
begin
    if not exists (
        select 1 from pg_constraint
        where conname = 'user_profiles_full_pass_status_check'
          and conrelid = 'public.user_profiles'::regclass
    ) then
        alter table public.user_profiles
            add constraint user_profiles_full_pass_status_check
            check (full_pass_status in ('pending', 'processing', 'complete', 'failed'));
    end if;
end
$$;

-- Finding claimable rows stays an index scan however many profiles exist.
create index if not exists user_profiles_full_pass_claimable
    on public.user_profiles (full_pass_requested_at)
    where full_pass_status = 'pending' and storage_path is not null;

-- Finding claims whose worker stopped renewing them.
create index if not exists user_profiles_full_pass_processing
    on public.user_profiles (full_pass_lease_until)
    where full_pass_status = 'processing';

-- Bookkeeping on every status change, so that plain SQL from the app or an
-- operator is a complete request:
--  * becoming pending from anything but processing is a new request: attempts,
--    rescues, the retry time and the old error are reset;
--  * leaving processing (by any hand) ends the claim, which fences the old worker out.
create or replace function fullpass.user_profiles_before_change() returns trigger
language plpgsql as $$
begin
    if new.full_pass_status = 'pending'
       and (tg_op = 'INSERT' or old.full_pass_status is distinct from 'pending') then
        new.full_pass_requested_at := now();
        if tg_op = 'INSERT' or old.full_pass_status is distinct from 'processing' then
            new.full_pass_attempts := 0;
            new.full_pass_rescues := 0;
            new.full_pass_not_before := null;
            new.full_pass_error := null;
            new.full_pass_progress := null;
        end if;
    end if;
    if new.full_pass_status is distinct from 'processing' then
        new.full_pass_claim_token := null;
        new.full_pass_claimed_by := null;
        new.full_pass_lease_until := null;
    end if;
    return new;
end
$$;

-- Wake the daemons when a row becomes claimable. Payload: the user_id only.
create or replace function fullpass.user_profiles_notify() returns trigger
language plpgsql as $$
begin
    if new.full_pass_status = 'pending'
       and new.storage_path is not null
       and (new.full_pass_not_before is null or new.full_pass_not_before <= now())
       and (tg_op = 'INSERT'
            or old.full_pass_status is distinct from 'pending'
            or old.storage_path is null) then
        perform pg_notify('fullpass_jobs', new.user_id::text);
    end if;
    return null;
end
$$;

drop trigger if exists fullpass_before_change on public.user_profiles;
create trigger fullpass_before_change
    before insert or update of full_pass_status on public.user_profiles
    for each row execute function fullpass.user_profiles_before_change();

drop trigger if exists fullpass_notify on public.user_profiles;
create trigger fullpass_notify
    after insert or update of full_pass_status, storage_path on public.user_profiles
    for each row execute function fullpass.user_profiles_notify();
