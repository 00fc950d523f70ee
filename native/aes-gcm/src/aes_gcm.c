// AES-256-GCM on the system's libcrypto.so.3 for the kernel's page cipher (Node-API 8).
// The node binary exports its own bundled OpenSSL, so linking -lcrypto would bind EVP_* to that
// (measured slower) copy: libcrypto is dlopen'ed instead. RTLD_DEEPBIND makes libcrypto's calls
// into itself bind to itself, RTLD_LOCAL keeps its symbols out of the process's global scope.
// Every entry point checks its arguments and returns a failure value; nothing here throws except
// module load when no libcrypto.so.3 can be found.
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;
typedef struct engine_st ENGINE;

// From openssl/evp.h (OpenSSL 3.0 ABI).
#define EVP_CTRL_GCM_SET_IVLEN 0x9
#define EVP_CTRL_GCM_GET_TAG 0x10
#define EVP_CTRL_GCM_SET_TAG 0x11
#define OPENSSL_VERSION_STRING 0

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16
// Pages are at most 64 KiB; anything near INT_MAX (EVP's length type) is refused.
#define MAX_DATA_BYTES (1u << 30)

typedef int (*cipher_init_fn)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,
                              const unsigned char *);
typedef int (*cipher_update_fn)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
typedef int (*cipher_final_fn)(EVP_CIPHER_CTX *, unsigned char *, int *);

static struct {
  EVP_CIPHER_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_CIPHER_CTX *);
  int (*ctx_ctrl)(EVP_CIPHER_CTX *, int, int, void *);
  EVP_CIPHER *(*cipher_fetch)(OSSL_LIB_CTX *, const char *, const char *);
  void (*cipher_free)(EVP_CIPHER *);
  cipher_init_fn encrypt_init;
  cipher_update_fn encrypt_update;
  cipher_final_fn encrypt_final;
  cipher_init_fn decrypt_init;
  cipher_update_fn decrypt_update;
  cipher_final_fn decrypt_final;
  void (*err_clear)(void);
  void (*cleanse)(void *, size_t);
  const char *(*version)(int);
} ossl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static void *libcrypto;
static char load_error[256];

// Tags externals made by createKey, so a foreign external is refused instead of dereferenced.
static const napi_type_tag KEY_TAG = {0x5745465420414541ULL, 0xd1c3b2a9f0e18475ULL};

typedef struct {
  EVP_CIPHER_CTX *enc;
  EVP_CIPHER_CTX *dec;
} aead_key;

static void *open_libcrypto(void) {
  const int flags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
  void *lib = dlopen("libcrypto.so.3", flags);
  if (lib != NULL) return lib;
  // Images without a system libcrypto ship one beside this addon.
  Dl_info self;
  if (dladdr((void *)&open_libcrypto, &self) == 0 || self.dli_fname == NULL) return NULL;
  const char *slash = strrchr(self.dli_fname, '/');
  if (slash == NULL) return NULL;
  char path[PATH_MAX];
  int n = snprintf(path, sizeof path, "%.*s/libcrypto.so.3", (int)(slash - self.dli_fname), self.dli_fname);
  if (n <= 0 || (size_t)n >= sizeof path) return NULL;
  return dlopen(path, flags);
}

#define SYM(field, name)                                                         \
  do {                                                                           \
    *(void **)(&ossl.field) = dlsym(libcrypto, name);                            \
    if (ossl.field == NULL) {                                                    \
      snprintf(load_error, sizeof load_error, "libcrypto.so.3 lacks %s", name); \
      return;                                                                    \
    }                                                                            \
  } while (0)

static void load(void) {
  libcrypto = open_libcrypto();
  if (libcrypto == NULL) {
    snprintf(load_error, sizeof load_error, "libcrypto.so.3 not found");
    return;
  }
  SYM(ctx_new, "EVP_CIPHER_CTX_new");
  SYM(ctx_free, "EVP_CIPHER_CTX_free");
  SYM(ctx_ctrl, "EVP_CIPHER_CTX_ctrl");
  SYM(cipher_fetch, "EVP_CIPHER_fetch");
  SYM(cipher_free, "EVP_CIPHER_free");
  SYM(encrypt_init, "EVP_EncryptInit_ex");
  SYM(encrypt_update, "EVP_EncryptUpdate");
  SYM(encrypt_final, "EVP_EncryptFinal_ex");
  SYM(decrypt_init, "EVP_DecryptInit_ex");
  SYM(decrypt_update, "EVP_DecryptUpdate");
  SYM(decrypt_final, "EVP_DecryptFinal_ex");
  SYM(err_clear, "ERR_clear_error");
  SYM(cleanse, "OPENSSL_cleanse");
  SYM(version, "OpenSSL_version");
}

typedef struct {
  uint8_t *data;
  size_t len;
} bytes;

static int get_bytes(napi_env env, napi_value value, bytes *out) {
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  if (napi_get_buffer_info(env, value, &data, &len) != napi_ok) return 0;
  if (len > MAX_DATA_BYTES || (len > 0 && data == NULL)) return 0;
  out->data = data;
  out->len = len;
  return 1;
}

static int overlaps(const bytes *a, const bytes *b) {
  if (a->len == 0 || b->len == 0) return 0;
  uintptr_t a0 = (uintptr_t)a->data, b0 = (uintptr_t)b->data;
  return a0 < b0 + b->len && b0 < a0 + a->len;
}

static aead_key *get_key(napi_env env, napi_value value) {
  napi_valuetype type;
  bool tagged = false;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_check_object_type_tag(env, value, &KEY_TAG, &tagged) != napi_ok || !tagged) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) return NULL;
  aead_key *key = data;
  return key->enc != NULL && key->dec != NULL ? key : NULL;
}

static void free_contexts(aead_key *key) {
  // EVP_CIPHER_CTX_free cleanses the key schedule.
  if (key->enc != NULL) ossl.ctx_free(key->enc);
  if (key->dec != NULL) ossl.ctx_free(key->dec);
  key->enc = NULL;
  key->dec = NULL;
}

static void finalize_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free_contexts(data);
  free(data);
}

static napi_value boolean(napi_env env, bool value) {
  napi_value result = NULL;
  napi_get_boolean(env, value, &result);
  return result;
}

static napi_value undefined(napi_env env) {
  napi_value result = NULL;
  napi_get_undefined(env, &result);
  return result;
}

static int init_context(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, cipher_init_fn init, const uint8_t *key) {
  return init(ctx, cipher, NULL, NULL, NULL) == 1 &&
         ossl.ctx_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
         init(ctx, NULL, NULL, key, NULL) == 1;
}

// createKey(key32: Buffer): external | undefined
static napi_value create_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bytes raw;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return undefined(env);
  if (!get_bytes(env, argv[0], &raw) || raw.len != KEY_BYTES) return undefined(env);
  aead_key *key = calloc(1, sizeof *key);
  if (key == NULL) return undefined(env);
  EVP_CIPHER *cipher = ossl.cipher_fetch(NULL, "AES-256-GCM", NULL);
  key->enc = ossl.ctx_new();
  key->dec = ossl.ctx_new();
  int ok = cipher != NULL && key->enc != NULL && key->dec != NULL &&
           init_context(key->enc, cipher, ossl.encrypt_init, raw.data) &&
           init_context(key->dec, cipher, ossl.decrypt_init, raw.data);
  if (cipher != NULL) ossl.cipher_free(cipher);
  if (!ok) {
    ossl.err_clear();
    finalize_key(env, key, NULL);
    return undefined(env);
  }
  napi_value handle;
  if (napi_create_external(env, key, finalize_key, NULL, &handle) != napi_ok) {
    finalize_key(env, key, NULL);
    return undefined(env);
  }
  if (napi_type_tag_object(env, handle, &KEY_TAG) != napi_ok) {
    free_contexts(key);  // the finalizer frees the struct
    return undefined(env);
  }
  return handle;
}

// seal(handle, nonce12, aad, plaintext, out): boolean; out = ciphertext | tag(16), exactly.
static napi_value seal(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  bytes nonce, aad, pt, out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return boolean(env, false);
  aead_key *key = get_key(env, argv[0]);
  if (key == NULL || !get_bytes(env, argv[1], &nonce) || !get_bytes(env, argv[2], &aad) ||
      !get_bytes(env, argv[3], &pt) || !get_bytes(env, argv[4], &out)) {
    return boolean(env, false);
  }
  if (nonce.len != NONCE_BYTES || out.len != pt.len + TAG_BYTES) return boolean(env, false);
  if (overlaps(&out, &nonce) || overlaps(&out, &aad) || overlaps(&out, &pt)) return boolean(env, false);
  int n = 0, tail = 0;
  EVP_CIPHER_CTX *ctx = key->enc;
  int ok = ossl.encrypt_init(ctx, NULL, NULL, NULL, nonce.data) == 1 &&
           (aad.len == 0 || ossl.encrypt_update(ctx, NULL, &n, aad.data, (int)aad.len) == 1) &&
           (pt.len == 0 || (ossl.encrypt_update(ctx, out.data, &n, pt.data, (int)pt.len) == 1 && (size_t)n == pt.len)) &&
           ossl.encrypt_final(ctx, out.data + pt.len, &tail) == 1 && tail == 0 &&
           ossl.ctx_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out.data + pt.len) == 1;
  if (!ok) {
    ossl.err_clear();
    memset(out.data, 0, out.len);
  }
  return boolean(env, ok);
}

// open(handle, nonce12, aad, ciphertext, tag16, out): boolean; out = plaintext, zeroed on failure.
static napi_value open_sealed(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  bytes nonce, aad, ct, tag, out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) return boolean(env, false);
  aead_key *key = get_key(env, argv[0]);
  if (key == NULL || !get_bytes(env, argv[1], &nonce) || !get_bytes(env, argv[2], &aad) ||
      !get_bytes(env, argv[3], &ct) || !get_bytes(env, argv[4], &tag) || !get_bytes(env, argv[5], &out)) {
    return boolean(env, false);
  }
  if (nonce.len != NONCE_BYTES || tag.len != TAG_BYTES || out.len != ct.len) return boolean(env, false);
  if (overlaps(&out, &nonce) || overlaps(&out, &aad) || overlaps(&out, &ct) || overlaps(&out, &tag)) {
    return boolean(env, false);
  }
  unsigned char expected[TAG_BYTES];
  memcpy(expected, tag.data, TAG_BYTES);
  int n = 0, tail = 0;
  EVP_CIPHER_CTX *ctx = key->dec;
  int ok = ossl.decrypt_init(ctx, NULL, NULL, NULL, nonce.data) == 1 &&
           ossl.ctx_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, expected) == 1 &&
           (aad.len == 0 || ossl.decrypt_update(ctx, NULL, &n, aad.data, (int)aad.len) == 1) &&
           (ct.len == 0 || (ossl.decrypt_update(ctx, out.data, &n, ct.data, (int)ct.len) == 1 && (size_t)n == ct.len)) &&
           ossl.decrypt_final(ctx, out.data + ct.len, &tail) == 1 && tail == 0;
  if (!ok) {
    ossl.err_clear();
    if (out.len > 0) ossl.cleanse(out.data, out.len);
  }
  return boolean(env, ok);
}

// destroyKey(handle): frees (and cleanses) both contexts; later calls with the handle fail.
static napi_value destroy_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return undefined(env);
  aead_key *key = get_key(env, argv[0]);
  if (key != NULL) free_contexts(key);
  return undefined(env);
}

// info(): { library, version } of the libcrypto actually bound (library = the file dlopen'ed).
static napi_value library_info(napi_env env, napi_callback_info info) {
  (void)info;
  Dl_info where;
  const char *path = dladdr(*(void **)(&ossl.encrypt_init), &where) != 0 && where.dli_fname != NULL ? where.dli_fname : "";
  napi_value result, library, version;
  if (napi_create_object(env, &result) != napi_ok ||
      napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &library) != napi_ok ||
      napi_create_string_utf8(env, ossl.version(OPENSSL_VERSION_STRING), NAPI_AUTO_LENGTH, &version) != napi_ok ||
      napi_set_named_property(env, result, "library", library) != napi_ok ||
      napi_set_named_property(env, result, "version", version) != napi_ok) {
    return undefined(env);
  }
  return result;
}

NAPI_MODULE_INIT() {
  pthread_once(&load_once, load);
  if (load_error[0] != '\0') {
    napi_throw_error(env, "WK_AES_GCM_UNAVAILABLE", load_error);
    return NULL;
  }
  const napi_property_descriptor props[] = {
      {"createKey", NULL, create_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seal", NULL, seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, open_sealed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"destroyKey", NULL, destroy_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, library_info, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
