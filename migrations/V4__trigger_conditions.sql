-- Conditions on the triggers themselves, so the queue's own writes skip them.
--
-- A row trigger without WHEN calls its PL/pgSQL function for every row, and an
-- AFTER trigger also queues an event per row until the statement ends. Claims
-- (to 'processing') need neither function, and completions and failures never
-- notify; the WHEN clauses below are checked in the executor, before any of that.
-- The functions are unchanged and still check everything themselves.

drop trigger if exists fullpass_before_change on public.user_profiles;
create trigger fullpass_before_change
    before insert or update of full_pass_status on public.user_profiles
    for each row
    when (new.full_pass_status is distinct from 'processing')
    execute function fullpass.user_profiles_before_change();

drop trigger if exists fullpass_notify on public.user_profiles;
create trigger fullpass_notify
    after insert or update of full_pass_status, storage_path on public.user_profiles
    for each row
    when (new.full_pass_status = 'pending')
    execute function fullpass.user_profiles_notify();
