# Configure-time checks that turn silent, expensive mistakes into clear errors.

# LibTorch built with the pre-C++11 ABI cannot exchange std::string with Qt or
# any other distribution library: it would fail only at link time, deep in ui/.
function(modlab_check_torch_abi)
  if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
    message(FATAL_ERROR
      "The LibTorch found at ${TORCH_INSTALL_PREFIX} is built with the old C++ ABI "
      "(_GLIBCXX_USE_CXX11_ABI=0). Qt and every Debian C++ library use the C++11 ABI. "
      "Use Debian's libtorch-dev or a 'cxx11-abi' LibTorch build via CMAKE_PREFIX_PATH.")
  endif()
endfunction()

# Debian's LibTorch calls BLAS through libblas.so.3. Without OpenBLAS that is the
# reference BLAS, and training is about 8x slower with no other symptom.
function(modlab_check_openblas)
  if(NOT TORCH_INSTALL_PREFIX MATCHES "^/usr/?$")
    return()   # a vendor LibTorch bundles its own BLAS (MKL)
  endif()
  find_file(MODLAB_LIBBLAS libblas.so.3
            PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /usr/lib64 /usr/lib NO_DEFAULT_PATH)
  if(MODLAB_LIBBLAS)
    file(REAL_PATH "${MODLAB_LIBBLAS}" blas_real)
  endif()
  if(NOT MODLAB_LIBBLAS OR NOT blas_real MATCHES "openblas")
    message(FATAL_ERROR
      "OpenBLAS is missing: libblas.so.3 resolves to '${blas_real}'. LibTorch would fall "
      "back to the reference BLAS and train about 8x slower. Install it with "
      "'apt-get install libopenblas0-pthread' (packaging/quickstart does this).")
  endif()
  message(STATUS "BLAS: ${blas_real}")
endfunction()

# Every Qt target: LibTorch has a method named slots(), Qt #defines slots.
function(modlab_qt_target target)
  target_compile_definitions(${target} PRIVATE QT_NO_KEYWORDS)
endfunction()
