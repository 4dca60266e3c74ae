//! How much each part of the benchmark does, full or `--quick`.

/// Request counts, repetitions and sizes.
#[derive(Debug, Clone)]
pub struct Scale {
    /// Repetitions of every figure.
    pub reps: usize,
    /// `(concurrency, requests)` of the throughput runs (copies, and `/healthz` alike).
    pub throughput: &'static [(usize, usize)],
    /// Empty target apps the throughput copies go to, round robin.
    pub targets: usize,
    /// One-row commits per storage-ceiling repetition.
    pub ceiling_commits: usize,
    /// Earlier copies into the growth app before each measurement window.
    pub growth_marks: [usize; 3],
    /// Copies per growth measurement window (concurrency 1).
    pub growth_window: usize,
    /// Concurrency of the copies that fill the growth app between windows.
    pub growth_fill_concurrency: usize,
    /// Components of the generated source apps.
    pub sizes: &'static [usize],
    /// Requests per client-overhead repetition, for each of the client and raw reqwest.
    pub client_requests: usize,
    /// Repetitions of each tooling command.
    pub tooling_reps: usize,
    /// Repetitions of the incremental rebuild (0: not measured).
    pub rebuild_reps: usize,
}

impl Scale {
    /// `cargo xtask bench`.
    pub const FULL: Scale = Scale {
        reps: 3,
        throughput: &[(1, 500), (8, 2000), (64, 2000)],
        targets: 64,
        ceiling_commits: 2000,
        growth_marks: [100, 1000, 10_000],
        growth_window: 200,
        growth_fill_concurrency: 8,
        sizes: &[1, 10, 100, 1000],
        client_requests: 1000,
        tooling_reps: 3,
        rebuild_reps: 3,
    };

    /// `cargo xtask bench --quick`: every part runs, briefly.
    pub const QUICK: Scale = Scale {
        reps: 3,
        throughput: &[(1, 20), (8, 80), (64, 128)],
        targets: 64,
        ceiling_commits: 100,
        growth_marks: [10, 100, 300],
        growth_window: 10,
        growth_fill_concurrency: 8,
        sizes: &[1, 10, 100, 1000],
        client_requests: 100,
        tooling_reps: 1,
        rebuild_reps: 0,
    };
}
