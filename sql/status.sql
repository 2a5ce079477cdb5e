-- Queue status: counts by status and the age (seconds) of the oldest claimable request.
select count(*) filter (where full_pass_status = 'pending')                        as pending,
       count(*) filter (where full_pass_status = 'pending' and storage_path is not null
                          and (full_pass_not_before is null or full_pass_not_before <= now()))
                                                                                  as claimable,
       count(*) filter (where full_pass_status = 'processing')                     as processing,
       count(*) filter (where full_pass_status = 'complete')                       as complete,
       count(*) filter (where full_pass_status = 'failed')                         as failed,
       extract(epoch from now() - min(full_pass_requested_at) filter (
           where full_pass_status = 'pending' and storage_path is not null
             and (full_pass_not_before is null or full_pass_not_before <= now())))::float8
                                                                                  as oldest_claimable_secs
  from public.user_profiles
 where full_pass_status is not null;
