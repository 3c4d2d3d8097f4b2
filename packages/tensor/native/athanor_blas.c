// athanor_blas: the smallest N-API bridge from the tensor engine's cpu backend to the platform
// BLAS (OpenBLAS on Linux, Accelerate on macOS). One kernel, cblas_sgemm on row-major f32
// buffers given as typed arrays (ordinary or SharedArrayBuffer-backed) plus element offsets,
// and the thread-count controls of the library.
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__APPLE__)
#define ACCELERATE_NEW_LAPACK 1
#include <Accelerate/Accelerate.h>
#define BLAS_NAME "Accelerate"
#else
#include <cblas.h>
#define BLAS_NAME "OpenBLAS"
#endif

#define CHECK(env, call)                                        \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      napi_throw_error((env), NULL, "athanor_blas: " #call);    \
      return NULL;                                              \
    }                                                           \
  } while (0)

static bool get_f32(napi_env env, napi_value v, float** data, size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* raw;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "athanor_blas.sgemm: expected a Float32Array");
    return false;
  }
  *data = (float*)raw;
  return true;
}

static bool get_i64(napi_env env, napi_value v, int64_t* out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "athanor_blas.sgemm: expected an integer");
    return false;
  }
  return true;
}

// sgemm(transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc)
// Row-major C[M×N] = alpha·op(A)·op(B) + beta·C; offsets and leading dimensions in elements.
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 16) {
    napi_throw_type_error(env, NULL, "athanor_blas.sgemm: expected 16 arguments");
    return NULL;
  }
  bool ta, tb;
  CHECK(env, napi_get_value_bool(env, argv[0], &ta));
  CHECK(env, napi_get_value_bool(env, argv[1], &tb));
  int64_t m, n, k, aoff, lda, boff, ldb, coff, ldc;
  double alpha, beta;
  float *a, *b, *c;
  size_t alen, blen, clen;
  if (!get_i64(env, argv[2], &m) || !get_i64(env, argv[3], &n) || !get_i64(env, argv[4], &k)) return NULL;
  CHECK(env, napi_get_value_double(env, argv[5], &alpha));
  if (!get_f32(env, argv[6], &a, &alen) || !get_i64(env, argv[7], &aoff) || !get_i64(env, argv[8], &lda)) return NULL;
  if (!get_f32(env, argv[9], &b, &blen) || !get_i64(env, argv[10], &boff) || !get_i64(env, argv[11], &ldb)) return NULL;
  CHECK(env, napi_get_value_double(env, argv[12], &beta));
  if (!get_f32(env, argv[13], &c, &clen) || !get_i64(env, argv[14], &coff) || !get_i64(env, argv[15], &ldc)) return NULL;
  // Bounds: the last element each operand touches must lie inside its array.
  int64_t arows = ta ? k : m, acols = ta ? m : k;
  int64_t brows = tb ? n : k, bcols = tb ? k : n;
  if (m < 0 || n < 0 || k < 0 || aoff < 0 || boff < 0 || coff < 0 ||
      (m > 0 && k > 0 && (lda < acols || aoff + (arows - 1) * lda + acols > (int64_t)alen)) ||
      (n > 0 && k > 0 && (ldb < bcols || boff + (brows - 1) * ldb + bcols > (int64_t)blen)) ||
      (m > 0 && n > 0 && (ldc < n || coff + (m - 1) * ldc + n > (int64_t)clen))) {
    napi_throw_range_error(env, NULL, "athanor_blas.sgemm: operand out of bounds");
    return NULL;
  }
  if (m > 0 && n > 0) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, (float)alpha, a + aoff, (int)lda, b + boff, (int)ldb,
                (float)beta, c + coff, (int)ldc);
  }
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_type_error(env, NULL, "athanor_blas.setThreads: expected a positive integer");
    return NULL;
  }
#if !defined(__APPLE__)
  openblas_set_num_threads(n);
#endif
  return NULL;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, name, config, threads;
  CHECK(env, napi_create_object(env, &obj));
  CHECK(env, napi_create_string_utf8(env, BLAS_NAME, NAPI_AUTO_LENGTH, &name));
#if defined(__APPLE__)
  CHECK(env, napi_create_string_utf8(env, "Accelerate", NAPI_AUTO_LENGTH, &config));
  CHECK(env, napi_create_int32(env, 0, &threads));
#else
  CHECK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config));
  CHECK(env, napi_create_int32(env, openblas_get_num_threads(), &threads));
#endif
  CHECK(env, napi_set_named_property(env, obj, "library", name));
  CHECK(env, napi_set_named_property(env, obj, "config", config));
  CHECK(env, napi_set_named_property(env, obj, "threads", threads));
  return obj;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
