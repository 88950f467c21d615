//! Whether this process was started as one rank of a parallel job, read from the variables
//! the launchers set: Open MPI's mpirun, MPICH's Hydra (`mpiexec`), PMIx launchers, and Slurm's
//! `srun`. Only then does a trainer start MPI: started alone, it trains alone.

/// The job's size as this process's launcher states it (`None`: not started by a launcher),
/// with the variable that said so. `var` reads an environment variable.
pub fn launched_size(var: impl Fn(&str) -> Option<String>) -> Option<(usize, &'static str)> {
    // Open MPI's mpirun, MPICH's Hydra and Slurm's PMI-2, then srun itself (inside a job step).
    for name in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"] {
        if let Some(size) = var(name).and_then(|v| v.trim().parse().ok()) {
            return Some((size, name));
        }
    }
    if var("SLURM_STEP_ID").is_some() {
        if let Some(size) = var("SLURM_NTASKS").and_then(|v| v.trim().parse().ok()) {
            return Some((size, "SLURM_NTASKS"));
        }
    }
    None
}
