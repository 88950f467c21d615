//! The MPI engine: one thread per process that initialises MPI, sums vectors over the job's
//! ranks with `MPI_Allreduce`, and finalises MPI when training ends. Every MPI call is made on
//! that thread (MPI's "funneled" threading), so the training thread can wait for an
//! all-reduce with a time-out: MPI's own calls wait forever for a rank that stopped answering.
//! A signal ends the rank at once ([`super::signals`]).
//!
//! Errors come back as values (the world communicator's error handler is `MPI_ERRORS_RETURN`):
//! a rank that ended or a network that failed is said by the training thread in one line, not
//! by MPI's abort.
//!
//! Built without the `mpi` feature, [`start`] refuses, naming the feature.

use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{ClusterFailure, RunError};

/// What the engine thread is asked to do.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
enum Job {
    /// Sums `values` over the ranks; the answer has the same length.
    Sum { values: Vec<f32>, reply: Sender<Result<Vec<f32>, String>> },
    /// Sums `values` over the ranks in double precision; the answer has the same length.
    SumWide { values: Vec<f64>, reply: Sender<Result<Vec<f64>, String>> },
    /// Combines `words` over the ranks with a bitwise or; the answer has the same length.
    Union { words: Vec<u64>, reply: Sender<Result<Vec<u64>, String>> },
    /// Finalises MPI and ends the thread.
    Finish { reply: Sender<()> },
}

/// The running engine: where to send jobs, and this process's place in the job.
struct Engine {
    jobs: Sender<Job>,
    rank: usize,
    ranks: usize,
}

/// The engine of this process (MPI starts once per process, and cannot start again).
static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

/// Starts MPI (once per process) for a job of `ranks` (as its launcher says) and returns this
/// process's rank and the job's ranks (as MPI says); waits at most `timeout` for MPI to start.
pub(super) fn start(ranks: usize, timeout: Duration) -> Result<(usize, usize), RunError> {
    let engine = ENGINE.get_or_init(|| spawn(ranks, timeout));
    match engine {
        Ok(engine) => Ok((engine.rank, engine.ranks)),
        Err(e) => Err(RunError::cluster(ClusterFailure::Launch, e.clone())),
    }
}

/// Sums `values` over the ranks, waiting at most `timeout`; `what` names the wait in errors.
pub(super) fn sum(values: Vec<f32>, timeout: Duration, what: &str) -> Result<Vec<f32>, RunError> {
    ask(|reply| Job::Sum { values, reply }, timeout, what)
}

/// Sums `values` over the ranks in double precision, waiting at most `timeout`; `what` names
/// the wait in errors.
pub(super) fn sum_wide(values: Vec<f64>, timeout: Duration, what: &str) -> Result<Vec<f64>, RunError> {
    ask(|reply| Job::SumWide { values, reply }, timeout, what)
}

/// `words` combined over the ranks with a bitwise or, waiting at most `timeout`; `what` names
/// the wait in errors.
pub(super) fn union(words: Vec<u64>, timeout: Duration, what: &str) -> Result<Vec<u64>, RunError> {
    ask(|reply| Job::Union { words, reply }, timeout, what)
}

/// Sends the engine the job `ask` makes with a reply channel and waits at most `timeout` for
/// its answer.
fn ask<T>(job: impl FnOnce(Sender<Result<T, String>>) -> Job, timeout: Duration, what: &str) -> Result<T, RunError> {
    let Some(Ok(engine)) = ENGINE.get() else {
        return Err(RunError::cluster(ClusterFailure::Launch, format!("{what}: MPI was not started in this process")));
    };
    let (reply, answer) = channel();
    if engine.jobs.send(job(reply)).is_err() {
        return Err(RunError::cluster(
            ClusterFailure::RankLost,
            format!("{what}: MPI has already finished in this process"),
        ));
    }
    match answer.recv_timeout(timeout) {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(e)) => Err(RunError::cluster(
            ClusterFailure::RankLost,
            format!("{what} failed: {e} (a rank ended or the network failed)"),
        )),
        Err(RecvTimeoutError::Disconnected) => {
            Err(RunError::cluster(ClusterFailure::RankLost, format!("{what}: the MPI engine stopped")))
        }
        Err(RecvTimeoutError::Timeout) => Err(RunError::cluster(
            ClusterFailure::TimedOut,
            format!(
                "{what}: no answer from every rank within {} s (--cluster-timeout; a rank stopped, or is far slower)",
                timeout.as_secs()
            ),
        )),
    }
}

/// Finalises MPI (the job's ranks wait for each other here), if it was started. A process
/// that ends without it is reported by mpirun as a failed rank.
pub(super) fn finish() {
    if let Some(Ok(engine)) = ENGINE.get() {
        let (reply, done) = channel();
        if engine.jobs.send(Job::Finish { reply }).is_ok() {
            let _ = done.recv();
        }
    }
}

/// Starts the engine thread and waits for MPI's answer: rank and size, or why not.
fn spawn(ranks: usize, timeout: Duration) -> Result<Engine, String> {
    let (jobs, queue) = channel::<Job>();
    let (started, answer) = channel();
    std::thread::Builder::new()
        .name("mpi".into())
        .spawn(move || mpi_thread::run(ranks, &started, &queue))
        .map_err(|e| format!("the MPI engine cannot start: {e}"))?;
    match answer.recv_timeout(timeout) {
        Ok(Ok((rank, ranks))) => Ok(Engine { jobs, rank, ranks }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("MPI did not start within {} s (--cluster-timeout)", timeout.as_secs())),
    }
}

#[cfg(feature = "mpi")]
mod mpi_thread {
    use std::ffi::c_int;
    use std::sync::mpsc::{Receiver, Sender};

    use mpi::ffi;
    use mpi::raw::AsRaw;
    use mpi::topology::Communicator;

    use super::Job;

    /// Open MPI's all-reduce algorithm for a job of `ranks` spread over machines, unless the
    /// user chose one: for 2 ranks recursive doubling (`coll_tuned` algorithm 3: both send the
    /// whole vector at once), for more the ring (4: each sends 2(N−1)/N of it). Open MPI's own
    /// choice for a 10 MB vector took twice as long between 2 machines and 2.8 times between 3
    /// (BENCHMARKS.md, "Machines apart"); inside one machine it is as fast or faster, and kept.
    /// MPI reads these variables when it starts; other MPI libraries ignore them.
    fn choose_algorithm(ranks: usize) {
        let chosen = ["OMPI_MCA_coll_tuned_use_dynamic_rules", "OMPI_MCA_coll_tuned_allreduce_algorithm"];
        let local = std::env::var("OMPI_COMM_WORLD_LOCAL_SIZE").ok().and_then(|v| v.parse::<usize>().ok());
        if local != Some(ranks) && chosen.iter().all(|name| std::env::var_os(name).is_none()) {
            std::env::set_var(chosen[0], "1");
            std::env::set_var(chosen[1], if ranks == 2 { "3" } else { "4" });
        }
    }

    /// The engine thread for a job of `ranks` (as the launcher says): initialises MPI, answers
    /// jobs until `Finish`, then finalises.
    pub(super) fn run(ranks: usize, started: &Sender<Result<(usize, usize), String>>, queue: &Receiver<Job>) {
        choose_algorithm(ranks);
        let Some((universe, _)) = mpi::initialize_with_threading(mpi::Threading::Funneled) else {
            let _ = started.send(Err("MPI was already initialised in this process".into()));
            return;
        };
        let world = universe.world();
        // SAFETY: the world communicator is valid while `universe` lives; RSMPI_ERRORS_RETURN
        // is MPI's predefined handler.
        unsafe { ffi::MPI_Comm_set_errhandler(world.as_raw(), ffi::RSMPI_ERRORS_RETURN) };
        let (rank, size) = (usize::try_from(world.rank()).unwrap_or(0), usize::try_from(world.size()).unwrap_or(1));
        if started.send(Ok((rank, size))).is_err() {
            return;
        }
        for job in queue {
            match job {
                Job::Sum { values, reply } => {
                    // SAFETY: MPI's predefined handles, constant once MPI is initialised.
                    let (datatype, op) = unsafe { (ffi::RSMPI_FLOAT, ffi::RSMPI_SUM) };
                    let _ = reply.send(all_reduce(&world, &values, datatype, op));
                }
                Job::SumWide { values, reply } => {
                    // SAFETY: as above.
                    let (datatype, op) = unsafe { (ffi::RSMPI_DOUBLE, ffi::RSMPI_SUM) };
                    let _ = reply.send(all_reduce(&world, &values, datatype, op));
                }
                Job::Union { words, reply } => {
                    // SAFETY: as above.
                    let (datatype, op) = unsafe { (ffi::RSMPI_UINT64_T, ffi::RSMPI_BOR) };
                    let _ = reply.send(all_reduce(&world, &words, datatype, op));
                }
                Job::Finish { reply } => {
                    drop(universe);
                    let _ = reply.send(());
                    return;
                }
            }
        }
    }

    /// `values` combined over the ranks of `world` by `op`; `datatype` is MPI's name for `T`.
    fn all_reduce<T: Copy + Default>(
        world: &mpi::topology::SimpleCommunicator,
        values: &[T],
        datatype: ffi::MPI_Datatype,
        op: ffi::MPI_Op,
    ) -> Result<Vec<T>, String> {
        let count =
            c_int::try_from(values.len()).map_err(|_| format!("{} values are more than MPI's count", values.len()))?;
        let mut sums = vec![T::default(); values.len()];
        // SAFETY: both buffers hold `count` values of `datatype` (the callers pair f32 with
        // MPI_FLOAT, f64 with MPI_DOUBLE and u64 with MPI_UINT64_T) and outlive this blocking call.
        let code = unsafe {
            ffi::MPI_Allreduce(values.as_ptr().cast(), sums.as_mut_ptr().cast(), count, datatype, op, world.as_raw())
        };
        if code == 0 {
            Ok(sums)
        } else {
            Err(error_text(code))
        }
    }

    /// MPI's words for error `code`.
    fn error_text(code: c_int) -> String {
        let mut text = vec![0u8; 1024];
        let mut length: c_int = 0;
        // SAFETY: the buffer is larger than MPI_MAX_ERROR_STRING in Open MPI (256) and MPICH (1024).
        unsafe { ffi::MPI_Error_string(code, text.as_mut_ptr().cast(), &mut length) };
        text.truncate(usize::try_from(length).unwrap_or(0));
        format!("MPI error {code}: {}", String::from_utf8_lossy(&text))
    }
}

#[cfg(not(feature = "mpi"))]
mod mpi_thread {
    use std::sync::mpsc::{Receiver, Sender};

    use super::Job;

    /// Without MPI: refuses.
    pub(super) fn run(_ranks: usize, started: &Sender<Result<(usize, usize), String>>, _queue: &Receiver<Job>) {
        let _ = started.send(Err("this build has no MPI: rebuild with the cargo feature `mpi` (an MPI library \
                                  and libclang installed, e.g. Debian's libopenmpi-dev openmpi-bin libclang-dev)"
            .into()));
    }
}
