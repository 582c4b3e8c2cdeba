#include "modlab/platform/gemm_backend.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <dlfcn.h>

#include "modlab/platform/blas_kernel.h"

namespace modlab {

namespace {

constexpr const char* kRequestVariable = "MODLAB_GEMM";
constexpr const char* kPreloadName = "libmodlab_sgemm.so";

// The Fortran BLAS interface LibTorch calls (column-major, arguments by address).
using FortranSgemm = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                              const float*, const int*, const float*, const int*, const float*, float*, const int*);
// oneDNN's (row-major, arguments by value); returns dnnl_success (0) or an error.
using OneDnnSgemm = int (*)(char, char, std::int64_t, std::int64_t, std::int64_t, float, const float*, std::int64_t,
                            const float*, std::int64_t, float, float*, std::int64_t);

struct OneDnnVersion {
  int major, minor, patch;
  const char* hash;
  unsigned cpuRuntime, gpuRuntime;
};

struct OneDnn {
  OneDnnSgemm sgemm = nullptr;
  std::string name;  // "oneDNN 2.6.3 (avx512_core_amx)"
};

std::string isaName(int isa) {
  switch (isa) {
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
    case 0x407: return "avx2_vnni";
    default: return "ISA " + std::to_string(isa);
  }
}

// oneDNN as LibTorch loads it (libdnnl.so.2); looked up at run time, so there is no link dependency.
OneDnn findOneDnn() {
  void* library = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_GLOBAL);
  if (!library) return {};
  OneDnn found;
  found.sgemm = reinterpret_cast<OneDnnSgemm>(dlsym(library, "dnnl_sgemm"));
  if (!found.sgemm) return {};
  found.name = "oneDNN";
  using Version = const OneDnnVersion* (*)();
  if (const auto version = reinterpret_cast<Version>(dlsym(library, "dnnl_version"))) {
    const OneDnnVersion* v = version();
    found.name += " " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }
  using Isa = int (*)();
  if (const auto isa = reinterpret_cast<Isa>(dlsym(library, "dnnl_get_effective_cpu_isa")))
    found.name += " (" + isaName(isa()) + ")";
  return found;
}

const OneDnn& oneDnn() {
  static const OneDnn found = findOneDnn();
  return found;
}

// The sgemm_ after ours in the lookup order (OpenBLAS's, as LibTorch was linked), or, in a process
// that loaded the BLAS into a local scope (Python's extension modules), the BLAS library's own.
FortranSgemm findOpenBlasSgemm() {
  if (const auto next = reinterpret_cast<FortranSgemm>(dlsym(RTLD_NEXT, "sgemm_"))) return next;
  for (const char* name : {"libblas.so.3", "libopenblas.so.0"})
    if (void* library = dlopen(name, RTLD_NOW | RTLD_NOLOAD))
      if (const auto own = reinterpret_cast<FortranSgemm>(dlsym(library, "sgemm_"))) return own;
  return nullptr;
}

FortranSgemm openBlasSgemm() {
  static const FortranSgemm next = findOpenBlasSgemm();
  if (!next) {
    std::fprintf(stderr, "modlab: no BLAS sgemm_ after Modularity Lab's own in this process\n");
    std::abort();
  }
  return next;
}

char rowMajorTrans(char fortranTrans) { return fortranTrans == 'n' || fortranTrans == 'N' ? 'N' : 'T'; }

// Column-major C (m x n) is row-major C^T (n x m) = op(B)^T op(A)^T: oneDNN's row-major call with
// the operands swapped. Returns false when oneDNN refuses the call.
bool oneDnnProduct(const char* ta, const char* tb, const int* m, const int* n, const int* k, const float* alpha,
                   const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c,
                   const int* ldc) {
  return oneDnn().sgemm(rowMajorTrans(*tb), rowMajorTrans(*ta), *n, *m, *k, *alpha, b, *ldb, a, *lda, *beta, c, *ldc) ==
         0;
}

// A cblas_sgemm over our oneDNN path, for checkSgemm: row-major is column-major with A and B swapped.
void oneDnnAsCblas(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a, int lda,
                   const float* b, int ldb, float beta, float* c, int ldc) {
  constexpr int kRowMajor = 101, kNoTrans = 111;
  const char ta = transA == kNoTrans ? 'N' : 'T', tb = transB == kNoTrans ? 'N' : 'T';
  bool ok = order == kRowMajor ? oneDnnProduct(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
                               : oneDnnProduct(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
  if (!ok) c[0] = NAN;  // the check then fails
}

GemmStatus chooseForThisProcess() {
  GemmChoiceInput input;
  if (const char* request = std::getenv(kRequestVariable)) input.request = request;
  input.oneDnn = oneDnn().name;
  if (oneDnn().sgemm) {
    const SgemmCheck check = checkSgemm(&oneDnnAsCblas);
    input.oneDnnChecked = check.ok;
    input.checkDetail = check.detail;
  }
  return chooseGemmBackend(input);
}

bool useOneDnn() {
  static const bool use = gemmStatus().backend == GemmBackend::OneDnn;
  return use;
}

}  // namespace

std::string toString(GemmBackend backend) { return backend == GemmBackend::OneDnn ? "oneDNN" : "OpenBLAS"; }

std::string GemmStatus::name() const { return library.empty() ? toString(backend) : library; }

std::string GemmStatus::summary() const {
  std::string text = name() + " (" + how + ")";
  if (!warning.empty()) text += "; warning: " + warning;
  return text;
}

GemmStatus chooseGemmBackend(const GemmChoiceInput& input) {
  GemmStatus status;
  const std::string request = input.request.value_or("auto");
  const bool known = request == "auto" || request == "onednn" || request == "openblas";
  if (!known)
    status.warning = std::string(kRequestVariable) + "=\"" + request + "\" is not one of auto, onednn, openblas: auto is used";
  if (request == "openblas") {
    status.how = std::string("set by the user: ") + kRequestVariable + "=openblas";
    return status;
  }
  const bool asked = request == "onednn";
  const std::string by = asked ? std::string("set by the user: ") + kRequestVariable + "=onednn"
                               : std::string("chosen automatically: faster than OpenBLAS on small products");
  if (input.oneDnn.empty()) {
    status.how = "oneDNN is not loaded";
    if (asked) status.warning = std::string(kRequestVariable) + "=onednn, but oneDNN (libdnnl.so.2) is not loaded";
    return status;
  }
  if (!input.oneDnnChecked) {
    status.how = "oneDNN disagrees with a plain matrix multiply";
    status.warning = input.oneDnn + "'s sgemm disagrees with a plain matrix multiply (" + input.checkDetail +
                     "), so OpenBLAS computes the products";
    return status;
  }
  status.backend = GemmBackend::OneDnn;
  status.library = input.oneDnn;
  status.how = by;
  return status;
}

const GemmStatus& gemmStatus() {
  static const GemmStatus status = chooseForThisProcess();
  return status;
}

std::string sgemmPreloadLibrary() {
  std::error_code error;
  const auto program = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return {};
  // Installed: <prefix>/bin and <prefix>/lib/modlab/preload (not a directory ldconfig reads: the
  // library is for LD_PRELOAD only); built: <build>/app/<program>/ and <build>/lib/modlab/preload.
  for (const char* up : {"..", "../.."}) {
    const auto candidate = program.parent_path() / up / "lib" / "modlab" / "preload" / kPreloadName;
    if (std::filesystem::exists(candidate, error)) return std::filesystem::weakly_canonical(candidate, error).string();
  }
  return {};
}

}  // namespace modlab

// What computes this process's products ("oneDNN 2.6.3 (avx512_core_amx)" or "OpenBLAS"), for a
// probe from another language (the reference's Python, through ctypes).
extern "C" __attribute__((visibility("default"))) const char* modlab_gemm_library() {
  static const std::string name = modlab::gemmStatus().name();
  return name.c_str();
}

// LibTorch's every float product on the CPU comes here (see gemm_backend.h).
extern "C" __attribute__((visibility("default"))) void sgemm_(const char* ta, const char* tb, const int* m, const int* n,
                                                              const int* k, const float* alpha, const float* a,
                                                              const int* lda, const float* b, const int* ldb,
                                                              const float* beta, float* c, const int* ldc) {
  using namespace modlab;
  if (*m > 0 && *n > 0 && *k > 0 && useOneDnn() && oneDnnProduct(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
    return;
  openBlasSgemm()(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
