//! `u8 × i8` matrix products on Intel AMX (Advanced Matrix Extensions), for the int8 kernel.
//!
//! AMX adds eight *tile* registers of up to 16 rows × 64 bytes and an instruction, `tdpbusd`,
//! that multiplies a tile of `u8` (16 rows × 64 values) by a tile of `i8` (16 quads of 4
//! values × 16 columns) into a tile of 16 × 16 `i32` sums: 16,384 multiply-adds in one
//! instruction, where AVX-512 VNNI's `vpdpbusd` does 64. The integer sums are the same as
//! VNNI's, so results equal the scalar reference's bit for bit.
//!
//! The operands are laid out as the tiles load them (both padded with zeros, which add
//! nothing to the sums):
//! - `A`, the quantised activations: `u8` rows of `stride` bytes (a multiple of 64), the row
//!   count a multiple of [`TILE_ROWS`];
//! - `B`, the packed weights: *panels* of 16 columns, each `[chunks · 16 quads][16]` `i32`
//!   words holding the 4 `i8` weights of rows `4q … 4q+3` of one column (the layout VNNI
//!   multiplies too).
//!
//! Every tile here is 16 rows × 64 bytes: four accumulate a block of 32 rows × 32 columns, two
//! hold rows of `A`, two panels of `B`. Linux hands AMX's state to a process only on request
//! ([`available`] asks once); each product configures the tiles and releases them when done.
//! Rust's AMX intrinsics are not stable yet, so the instructions are written as inline assembly.
//!
//! `SEQLAB_AMX=off` in the environment turns AMX off (the VNNI kernel runs instead).

/// Rows of a tile of `A` and of sums.
pub const TILE_ROWS: usize = 16;
/// Quads (4 values of the inner dimension) in one tile of `A` or `B`: 64 bytes a row.
pub const TILE_QUADS: usize = 16;
/// Columns of a panel of `B` and of a tile of sums.
pub const TILE_COLUMNS: usize = 16;

/// One tile of sums, `[16 rows][16 columns]`.
pub type Sums = [[i32; TILE_COLUMNS]; TILE_ROWS];

/// The operands of one product, in the layouts of the module docs.
pub struct Operands<'a> {
    /// `A`: `[row_tiles · 16, stride]` bytes.
    pub a: &'a [u8],
    /// Bytes per row of `A`: `chunks · 64` or more.
    pub stride: usize,
    /// Tiles of 16 rows in `A`.
    pub row_tiles: usize,
    /// `B`: `[panels][chunks · 16][16]` words.
    pub b: &'a [i32],
    /// Panels of 16 columns in `B`.
    pub panels: usize,
    /// Chunks of 64 values along the inner dimension.
    pub chunks: usize,
}

/// Whether this process computes int8 products on AMX: the CPU has AMX-TILE and AMX-INT8,
/// Linux granted the process the tile state, and `SEQLAB_AMX` is not `off`. Asked once.
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| std::env::var_os("SEQLAB_AMX").is_none_or(|v| v != "off") && request())
}

/// Checks CPUID and asks Linux for the tile state (`arch_prctl(ARCH_REQ_XCOMP_PERM,
/// XFEATURE_XTILEDATA)`), which fails where the kernel or the hypervisor does not support it.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn request() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // CPUID leaf 7: EDX bit 24 is AMX-TILE, bit 25 AMX-INT8.
    let leaf = std::arch::x86_64::__cpuid_count(7, 0);
    if leaf.edx & (0b11 << 24) != 0b11 << 24 {
        return false;
    }
    // SAFETY: arch_prctl with this request only changes which state the kernel saves for us.
    unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn request() -> bool {
    false
}

/// `LDTILECFG`'s 64-byte operand: palette 1, every tile 16 rows × 64 bytes.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    column_bytes: [u16; 16],
    rows: [u8; 16],
}

impl TileConfig {
    const ALL_16_BY_64: Self = Self {
        palette: 1,
        start_row: 0,
        reserved: [0; 14],
        column_bytes: [64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0],
        rows: [16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0],
    };
}

/// Computes `A · B` a block of up to 32 rows × 32 columns at a time and hands each 16 × 16
/// tile of sums to `epilogue(row_tile, panel, sums)`.
///
/// # Safety
/// [`available`] must be true, and `A` and `B` must hold what `ops` says (checked by assertions).
#[cfg(target_arch = "x86_64")]
pub unsafe fn multiply(ops: &Operands, mut epilogue: impl FnMut(usize, usize, &Sums)) {
    assert!(ops.stride >= ops.chunks * 64 && ops.a.len() >= ops.row_tiles * TILE_ROWS * ops.stride, "AMX: A's size");
    assert!(ops.b.len() >= ops.panels * ops.chunks * TILE_QUADS * TILE_COLUMNS, "AMX: B's size");
    // SAFETY: the configuration is a valid palette-1 layout that outlives the instruction.
    unsafe { std::arch::asm!("ldtilecfg [{}]", in(reg) &TileConfig::ALL_16_BY_64, options(nostack, readonly)) };
    let mut sums = [Sums::default(); 4];
    let mut row_tile = 0;
    while row_tile < ops.row_tiles {
        let two_rows = row_tile + 1 < ops.row_tiles;
        let mut panel = 0;
        while panel < ops.panels {
            let two_panels = panel + 1 < ops.panels;
            // SAFETY: AMX is available and configured; the tiles read stay inside A and B (the
            // assertions above and the loops' bounds).
            unsafe {
                match (two_rows, two_panels) {
                    (true, true) => block::<true, true>(ops, row_tile, panel, &mut sums),
                    (true, false) => block::<true, false>(ops, row_tile, panel, &mut sums),
                    (false, true) => block::<false, true>(ops, row_tile, panel, &mut sums),
                    (false, false) => block::<false, false>(ops, row_tile, panel, &mut sums),
                }
            }
            for (i, tile) in sums.iter().enumerate() {
                let (second_row, second_panel) = (i / 2 == 1, i % 2 == 1);
                if (two_rows || !second_row) && (two_panels || !second_panel) {
                    epilogue(row_tile + i / 2, panel + i % 2, tile);
                }
            }
            panel += if two_panels { 2 } else { 1 };
        }
        row_tile += if two_rows { 2 } else { 1 };
    }
    // SAFETY: releases the tile state this function configured.
    unsafe { std::arch::asm!("tilerelease", options(nostack, nomem)) };
}

/// One block: rows `row_tile` (and the next when `TWO_ROWS`), panels `panel` (and the next when
/// `TWO_PANELS`); sums `i` hold row tile `i / 2`, panel `i % 2`. Tiles 0–3 accumulate, 4–5 hold
/// `A`, 6–7 hold `B`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn block<const TWO_ROWS: bool, const TWO_PANELS: bool>(
    ops: &Operands,
    row_tile: usize,
    panel: usize,
    sums: &mut [Sums; 4],
) {
    let a = |r: usize, chunk: usize| ops.a[(r * TILE_ROWS) * ops.stride + chunk * 64..].as_ptr();
    let b =
        |p: usize, chunk: usize| ops.b[(p * ops.chunks + chunk) * TILE_QUADS * TILE_COLUMNS..].as_ptr().cast::<u8>();
    // SAFETY (all below): the caller's; every pointer starts a full tile inside A or B.
    unsafe {
        zero::<0>();
        if TWO_PANELS {
            zero::<1>();
        }
        if TWO_ROWS {
            zero::<2>();
            if TWO_PANELS {
                zero::<3>();
            }
        }
        for chunk in 0..ops.chunks {
            load::<4>(a(row_tile, chunk), ops.stride);
            load::<6>(b(panel, chunk), 64);
            dot::<0, 4, 6>();
            if TWO_PANELS {
                load::<7>(b(panel + 1, chunk), 64);
                dot::<1, 4, 7>();
            }
            if TWO_ROWS {
                load::<5>(a(row_tile + 1, chunk), ops.stride);
                dot::<2, 5, 6>();
                if TWO_PANELS {
                    dot::<3, 5, 7>();
                }
            }
        }
        store::<0>(&mut sums[0]);
        if TWO_PANELS {
            store::<1>(&mut sums[1]);
        }
        if TWO_ROWS {
            store::<2>(&mut sums[2]);
            if TWO_PANELS {
                store::<3>(&mut sums[3]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn zero<const T: u8>() {
    // SAFETY: the caller configured the tiles.
    unsafe { std::arch::asm!("tilezero tmm{t}", t = const T, options(nostack, nomem)) };
}

/// Loads tile `T` from 16 rows of 64 bytes, `stride` bytes apart.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn load<const T: u8>(from: *const u8, stride: usize) {
    // SAFETY: the caller's: 16 rows of 64 bytes from `from` are readable.
    unsafe {
        std::arch::asm!("tileloadd tmm{t}, [{p} + {s} * 1]", t = const T, p = in(reg) from, s = in(reg) stride,
            options(nostack, readonly));
    }
}

/// Tile `C += A · B` (`u8` by `i8` into `i32`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn dot<const C: u8, const A: u8, const B: u8>() {
    // SAFETY: the caller configured and loaded the tiles.
    unsafe {
        std::arch::asm!("tdpbusd tmm{c}, tmm{a}, tmm{b}", c = const C, a = const A, b = const B, options(nostack, nomem));
    }
}

/// Stores tile `T` into `sums`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn store<const T: u8>(sums: &mut Sums) {
    // SAFETY: `sums` is 16 rows of 64 bytes.
    unsafe {
        std::arch::asm!("tilestored [{p} + {s} * 1], tmm{t}", t = const T, p = in(reg) sums.as_mut_ptr(), s = in(reg) 64usize,
            options(nostack));
    }
}
