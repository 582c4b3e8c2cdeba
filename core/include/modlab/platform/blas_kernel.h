// OpenBLAS's kernel ("core") for this CPU: chosen before OpenBLAS initialises, checked, and
// described for display. Torch-free: ui/ and app/ may include it.
//
// Debian 12's OpenBLAS (0.3.21) runs its generic Prescott kernel on CPUs newer than itself,
// 4-8x slower at SGEMM. selectBlasKernelAtStartup() restarts the process once with
// OPENBLAS_CORETYPE set to the kernel the CPU supports (SkylakeX or Haswell). A value the user
// or the system set is always respected.
#pragma once

#include <optional>
#include <string>

namespace modlab {

struct CpuFeatures {
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false;

  bool hasAvx512() const { return avx512f && avx512bw && avx512dq && avx512vl; }  // what SkylakeX uses
  bool hasAvx2Fma() const { return avx2 && fma; }                                  // what Haswell uses
};

// What this CPU and operating system support (cpuid and the OS's saved vector state).
CpuFeatures detectCpuFeatures();

// What start-up sees: the environment and the kernel OpenBLAS reports in this process.
struct BlasStartupState {
  std::optional<std::string> coretype;  // OPENBLAS_CORETYPE, when set (even empty)
  std::string marker;                   // MODLAB_BLAS_REEXEC: set by our own restart; empty when unset
  std::string coreName;                 // openblas_get_corename(); empty when OpenBLAS is not loaded
  CpuFeatures cpu;
};

struct KernelChoice {
  enum class Action {
    Keep,     // the kernel in use
    Restart,  // with OPENBLAS_CORETYPE = kernel
    Forget,   // restart without an automatic choice inherited from a process on another CPU
  } action = Action::Keep;
  std::string kernel;  // Restart: the OPENBLAS_CORETYPE to restart with; empty otherwise
  std::string reason;
};

// Pure: whether to restart with another kernel, and why. Restarts only when nobody set
// OPENBLAS_CORETYPE, we have not restarted before, and OpenBLAS uses a pre-AVX2 core on a CPU
// with AVX-512 (F, BW, DQ, VL: SkylakeX) or AVX2 and FMA (Haswell). Our choice travels to child
// processes in the environment (a sweep's runs, a Slurm job on another node): one that this CPU
// cannot run is forgotten, and the choice made again.
KernelChoice chooseBlasKernel(const BlasStartupState& state);

// The MODLAB_BLAS_REEXEC value of our restart: which kernel we chose, and which core it replaced.
struct ReexecMarker {
  enum class Kind { None, Chosen, Failed } kind = Kind::None;
  std::string kernel;    // the kernel we chose
  std::string replaced;  // OpenBLAS's own choice
};
std::string formatMarker(const ReexecMarker& marker);
ReexecMarker parseMarker(const std::string& text);  // an unrecognised value reads as Kind::None

enum class BlasKernelSource {
  Automatic,  // chosen by Modularity Lab at start-up
  User,       // OPENBLAS_CORETYPE set by the user or the system
  OpenBlas,   // OpenBLAS's own choice
  None,       // OpenBLAS is not loaded: another BLAS
};
std::string toString(BlasKernelSource source);  // "automatic", "user", "openblas", "none"

struct BlasKernelStatus {
  std::string kernel;  // the core OpenBLAS uses ("SkylakeX"); empty without OpenBLAS
  BlasKernelSource source = BlasKernelSource::None;
  std::string how;      // how it was chosen, one phrase
  std::string warning;  // empty unless something went wrong

  std::string summary() const;  // "SkylakeX (chosen automatically: ...)"
};

// Pure: the status in a process after start-up (and after any restart).
BlasKernelStatus describeBlasKernel(const BlasStartupState& state, const std::string& startupWarning = {});

// The state of this process: environment, openblas_get_corename() (looked up at run time, so
// there is no link dependency on OpenBLAS) and detectCpuFeatures().
BlasStartupState readBlasStartupState();

// C = A * B (or with A, B transposed) through a cblas_sgemm-compatible function.
using CblasSgemm = void (*)(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);

struct SgemmCheck {
  bool ok = true;
  std::string detail;  // the worst shape and its relative error, or why nothing was checked
};

// Multiplies a few shapes (odd sizes, transposed operands) with `sgemm` and with a plain loop in
// double precision; fails when a relative (Frobenius) error exceeds 1e-4.
SgemmCheck checkSgemm(CblasSgemm sgemm);
// The same with this process's cblas_sgemm (looked up at run time).
SgemmCheck checkLoadedSgemm();

// Call first in main(), before anything else: may replace the process (execv of
// /proc/self/exe, once) with OPENBLAS_CORETYPE set; after our restart, checks the chosen kernel
// against a plain loop and restarts on OpenBLAS's own choice, with a warning, if it disagrees.
// `program` names the program in messages on stderr.
void selectBlasKernelAtStartup(char** argv, const char* program);

// The kernel of this process, with any warning from start-up.
BlasKernelStatus blasKernelStatus();

// The loaded OpenBLAS: its file and openblas_get_config() ("OpenBLAS 0.3.21 DYNAMIC_ARCH ...");
// empty when none is loaded. blasThreads: openblas_get_num_threads(), 0 without OpenBLAS.
std::string blasLibraryPath();
std::string blasLibraryConfig();
int blasThreads();

// The CPU's model name and numbers from /proc/cpuinfo ("Intel(R) Xeon(R) ... (family 6, model 207)").
std::string cpuModelName();

}  // namespace modlab
