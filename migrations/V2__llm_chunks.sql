-- fullpass: results of the LLM extractor's chunks, so a job run again (after a
-- crash, a deploy or a transient failure) does not pay again for finished chunks.
-- chunk_hash covers the chunk's text, its conversations, the model and the prompt
-- version. Rows are deleted when the job's result is written, or after a while.

create table if not exists fullpass.llm_chunks (
    user_id uuid not null references public.user_profiles (user_id) on delete cascade,
    chunk_hash text not null,
    model text not null,
    -- the chunk's validated facts (the `Fact` JSON of fullpass)
    facts jsonb not null,
    -- what the chunk cost: requests, input_tokens, output_tokens
    usage jsonb not null,
    created_at timestamptz not null default now(),
    primary key (user_id, chunk_hash)
);

create index if not exists llm_chunks_created_at on fullpass.llm_chunks (created_at);
