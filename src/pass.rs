//! One full pass over an export: ingest → extract → consolidated facts.
//! Blocking code: run it on a blocking thread, fed by a reader.

use crate::extract::{ExtractSettings, Fact, FactExtractor};
use crate::ingest::{self, Cancelled, Conversation, ExportStats, IngestError, Limits, Progress};
use std::io::Read;

/// What a pass produced.
#[derive(Debug)]
pub struct PassOutput {
    pub facts: Vec<Fact>,
    pub stats: ExportStats,
}

struct ExtractingSink<'a, P> {
    extractor: FactExtractor,
    on_progress: &'a mut P,
}

impl<P: FnMut(&Progress) -> Result<(), Cancelled>> ingest::Sink for ExtractingSink<'_, P> {
    fn conversation(&mut self, conversation: Conversation) -> Result<(), Cancelled> {
        self.extractor.observe(&conversation);
        Ok(())
    }

    fn progress(&mut self, progress: &Progress) -> Result<(), Cancelled> {
        (self.on_progress)(progress)
    }
}

/// Reads `input` to the end and extracts the user's facts. `on_progress` is called
/// every so often; returning `Err(Cancelled)` stops the pass.
pub fn run<R, P>(
    input: R,
    limits: &Limits,
    settings: &ExtractSettings,
    mut on_progress: P,
) -> Result<PassOutput, IngestError>
where
    R: Read + Send,
    P: FnMut(&Progress) -> Result<(), Cancelled>,
{
    let mut sink = ExtractingSink {
        extractor: FactExtractor::new(settings.clone()),
        on_progress: &mut on_progress,
    };
    let stats = ingest::read_export(input, limits, &mut sink)?;
    Ok(PassOutput {
        facts: sink.extractor.finish(),
        stats,
    })
}
