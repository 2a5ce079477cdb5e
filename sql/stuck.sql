-- Rows that need a look: claims whose lease ran out (the daemons rescue these
-- on their next sweep; rows here for long mean no daemon is running), rows
-- waiting for a retry, and pending rows that cannot run because no export path
-- is set yet.
select user_id,
       full_pass_status,
       case
           when full_pass_status = 'processing' and full_pass_lease_until < now()
               then 'lease expired ' || (now() - full_pass_lease_until) || ' ago (worker ' || coalesce(full_pass_claimed_by, '?') || ')'
           when full_pass_status = 'processing'
               then 'running on ' || coalesce(full_pass_claimed_by, '?') || ' since ' || full_pass_started_at
           when full_pass_status = 'pending' and storage_path is null
               then 'pending without storage_path'
           when full_pass_status = 'pending' and full_pass_not_before > now()
               then 'retry ' || full_pass_attempts || ' at ' || full_pass_not_before
           else 'waiting ' || (now() - full_pass_requested_at)
       end as why,
       full_pass_attempts as attempts,
       full_pass_rescues as rescues,
       full_pass_error as last_error,
       full_pass_progress as progress
  from public.user_profiles
 where (full_pass_status = 'processing'
        and (full_pass_lease_until < now() or full_pass_started_at < now() - interval '1 hour'))
    or (full_pass_status = 'pending'
        and (storage_path is null
             or full_pass_not_before > now()
             or full_pass_requested_at < now() - interval '5 minutes'))
 order by full_pass_status, full_pass_requested_at;
