// Preloaded into modlab-cli by tst_blas_kernel: a cblas_sgemm that gets every product wrong, so
// that the start-up check of an automatically chosen kernel fails and the fallback is exercised.
extern "C" void cblas_sgemm(int, int, int, int m, int n, int, float, const float*, int, const float*, int, float,
                            float* c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) c[i * ldc + j] = 1.0f;  // row-major, as the check calls it
}
