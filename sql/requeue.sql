-- Requeue full passes by hand. A row that becomes 'pending' from anything but
-- 'processing' is a fresh request: the trigger resets attempts, rescues, the
-- retry time and the old error, and notifies the daemons.
--
-- One user (psql: \set user_id '...'):
update public.user_profiles
   set full_pass_status = 'pending'
 where user_id = :'user_id'
   and full_pass_status is distinct from 'processing';

-- Every failed row:
-- update public.user_profiles set full_pass_status = 'pending' where full_pass_status = 'failed';

-- Force a row that is stuck in 'processing' (its worker is gone and the lease
-- has not run out yet; normally the daemon rescues it by itself):
-- update public.user_profiles set full_pass_status = 'pending' where user_id = :'user_id';
