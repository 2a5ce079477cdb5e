-- Cheaper notifications for the app's writes.
--
-- A transaction that runs NOTIFY takes a database-wide lock at commit and holds
-- it until its commit is flushed, so notifying commits cannot share WAL flushes
-- (measured: the app's write rate fell 2-4x with the V1 trigger under
-- concurrent writers). A woken daemon claims every claimable row, not just the
-- notified one, and looks again when a job ends, shortly after each wake-up and
-- on its backstop sweep. So only one of several concurrent transactions needs
-- to notify: the one that gets a transaction-scoped advisory lock. The others
-- skip NOTIFY and commit without the lock. A row whose notification was skipped
-- is claimed by the daemon's next look, at worst on the backstop sweep
-- (FULLPASS_SWEEP_INTERVAL); one transaction alone, the usual case, always notifies.
create or replace function fullpass.user_profiles_notify() returns trigger
language plpgsql as $$
begin
    if new.full_pass_status = 'pending'
       and new.storage_path is not null
       and (new.full_pass_not_before is null or new.full_pass_not_before <= now())
       and (tg_op = 'INSERT'
            or old.full_pass_status is distinct from 'pending'
            or old.storage_path is null) then
        -- 'fpnotify' in ASCII: one key shared by every notifying transaction.
        if pg_try_advisory_xact_lock(7381521214233732729) then
            perform pg_notify('fullpass_jobs', new.user_id::text);
        end if;
    end if;
    return null;
end
$$;
