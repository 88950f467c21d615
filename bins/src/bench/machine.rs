//! What a benchmark ran on: the CPU, the instruction sets that matter here, the cores, and the
//! kernels they select.

/// The instruction-set flags that decide the kernels' speed (from `/proc/cpuinfo`).
const FLAGS: [&str; 8] = ["avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_int8", "amx_bf16"];

/// The CPU's model name, the flags of `FLAGS` it has, and the cores this process may use
/// (Linux; `null` fields elsewhere).
pub fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let flags = field("flags").unwrap_or_default();
    let present: Vec<&str> = FLAGS.into_iter().filter(|f| flags.split_whitespace().any(|x| x == *f)).collect();
    serde_json::json!({
        "cpu": field("model name"),
        "flags": present,
        "cores": std::thread::available_parallelism().map_or(1, usize::from),
        "subnormals": if seqlab_models::subnormal::flushed() { "flushed to zero" } else { "kept" },
        "int8_kernel": seqlab_models::recurrent::kernel::int8::Int8Kernel::best().name(),
    })
}
