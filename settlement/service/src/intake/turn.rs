//! A chunk's turn among the chunks of its upload (DOMAIN.md §5: the per-diem episode days of a
//! stay count the stays before it, which settlement's intake applies as it stores them). On
//! SQLite a chunk gathers its facts and is valued while the chunk before it is written, is
//! written after it, and is valued again when that one changed the episode stays of a person it
//! looked up. On PostgreSQL, where an upload's chunks are stored side by side, a chunk's episode
//! days wait for the chunks ahead of it that hold a list of a person it looks up.

use std::collections::BTreeSet;
use std::sync::Arc;

use settlement_domain::admission::Admitted;

use super::{FirstValuations, IntakeError, Valuations};
use crate::store::ledger::LedgerCase;

/// A chunk's place in the order its upload is stored in on SQLite: it gathers its facts and is
/// valued while the chunk before it is stored, and is written once that one is. The single
/// writer gets one chunk at a time, in upload order, and a chunk whose predecessor failed stores
/// nothing. Per-diem episode days read the stays stored before: the chunk before tells which
/// persons' episode stays it changed, and a chunk that looked one of them up is valued again.
/// On PostgreSQL the chunks of an upload are stored side by side, and a chunk values its
/// per-diem stays only once the chunks ahead of it that hold a list of the same person are stored.
#[derive(Default)]
pub(super) struct ChunkTurn {
    /// Resolves, with [`EpisodePersons`], once the chunk before is stored; dropped unresolved
    /// when it failed.
    after: Option<tokio::sync::oneshot::Receiver<EpisodePersons>>,
    /// Tells the chunk after that this one is stored.
    stored: Option<tokio::sync::oneshot::Sender<EpisodePersons>>,
    /// The persons whose episode stays this chunk's versions change.
    changed: EpisodePersons,
    /// The chunks of the upload ahead of this one still being stored beside it (PostgreSQL):
    /// the persons of their lists and whether they are stored.
    beside: Vec<ChunkBeside>,
    /// Tells the chunks after that this one is stored (PostgreSQL).
    done: Option<tokio::sync::watch::Sender<bool>>,
}

/// A chunk being stored, as the chunks after it see it on PostgreSQL.
#[derive(Clone)]
pub(super) struct ChunkBeside {
    /// The persons of its lists: any of them may be a per-diem stay or retire one.
    persons: Arc<BTreeSet<String>>,
    /// Turns true once it is stored; its sender is dropped when it failed.
    stored: tokio::sync::watch::Receiver<bool>,
}

/// Persons whose stored per-diem stays a chunk changed: those of its versions valued per diem,
/// and those of its corrections, whose retired versions may have been.
pub(super) type EpisodePersons = BTreeSet<String>;

impl ChunkTurn {
    /// The turn of a chunk stored in upload order (SQLite) after the chunk whose turn left its
    /// receiver in `previous`; leaves its own there for the chunk after.
    pub(super) fn in_upload_order(
        previous: &mut Option<tokio::sync::oneshot::Receiver<EpisodePersons>>,
    ) -> Self {
        let (stored, next) = tokio::sync::oneshot::channel();
        Self {
            after: previous.replace(next),
            stored: Some(stored),
            ..Self::default()
        }
    }

    /// The turn of the chunk of `prepared` stored beside the chunks `ahead` of it (PostgreSQL),
    /// and the chunk as the chunks after it see it.
    pub(super) fn beside(ahead: Vec<ChunkBeside>, prepared: &[Admitted]) -> (Self, ChunkBeside) {
        let (done, stored) = tokio::sync::watch::channel(false);
        let persons = prepared
            .iter()
            .filter_map(|case| case.list.as_ref())
            .map(|list| list.header.person_id.clone())
            .collect();
        let turn = Self {
            beside: ahead,
            done: Some(done),
            ..Self::default()
        };
        (
            turn,
            ChunkBeside {
                persons: Arc::new(persons),
                stored,
            },
        )
    }

    /// Waits until the chunk before is stored (at once when there is none, and on every attempt
    /// after the first): the persons whose episode stays it changed.
    pub(super) async fn wait_for_the_chunk_before(
        &mut self,
        base: u64,
    ) -> Result<EpisodePersons, IntakeError> {
        match self.after.take() {
            Some(after) => after.await.map_err(|_| {
                IntakeError::Worker(format!(
                    "the chunk before record {base} was not stored, so neither is this one"
                ))
            }),
            None => Ok(EpisodePersons::new()),
        }
    }

    /// Waits until the chunks ahead being stored beside this one that hold a list of a person in
    /// `looked_up` are stored, or failed (then their lists are not in the ledger either).
    pub(super) async fn wait_for_the_chunks_beside(&mut self, looked_up: &EpisodePersons) {
        for ahead in std::mem::take(&mut self.beside) {
            if !ahead.persons.is_disjoint(looked_up) {
                let mut stored = ahead.stored;
                let _ = stored.wait_for(|stored| *stored).await;
            }
        }
    }

    /// Notes the versions about to be written (those of the last attempt count).
    pub(super) fn writes(&mut self, versions: &[LedgerCase]) {
        self.changed = versions
            .iter()
            .filter(|case| !case.episode_programme.is_empty() || case.version > 1)
            .map(|case| case.person_id.clone())
            .filter(|person| !person.is_empty())
            .collect();
    }

    pub(super) fn mark_stored(&mut self) {
        if let Some(stored) = self.stored.take() {
            // The chunk after may have been dropped with its failed upload.
            let _ = stored.send(std::mem::take(&mut self.changed));
        }
        if let Some(done) = self.done.take() {
            let _ = done.send(true);
        }
    }
}

/// The per-diem stays of a chunk as its valuation reads the ledger for them: the persons it looks
/// up (those of the stays whose first valuation names an episode programme) and those stays'
/// first valuations, kept to value them again.
pub(super) struct EpisodeLookup {
    pub(super) persons: EpisodePersons,
    firsts: FirstValuations,
}

impl EpisodeLookup {
    pub(super) fn of(
        prepared: &[Admitted],
        to_store: &[(usize, u32)],
        first: &FirstValuations,
    ) -> Self {
        let mut lookup = Self {
            persons: EpisodePersons::new(),
            firsts: FirstValuations::new(),
        };
        for &(index, _) in to_store {
            let case = &prepared[index];
            let Some(list) = case.list.as_ref() else {
                continue;
            };
            let Some(valuation @ (Ok(valued), _)) = first.get(&case.position) else {
                continue;
            };
            if !valued.episode_programme.is_empty() && !list.header.person_id.is_empty() {
                lookup.persons.insert(list.header.person_id.clone());
                lookup.firsts.insert(case.position, valuation.clone());
            }
        }
        lookup
    }

    /// Takes the chunk's per-diem stays back to their first valuations, so that they are valued
    /// again with the episode days of now; its other cases keep their answers.
    pub(super) fn value_again(self, valued: &mut Valuations) {
        for (position, first) in self.firsts {
            valued.answers.remove(&position);
            valued.unknown.remove(&position);
            valued.first.insert(position, first);
        }
    }
}
