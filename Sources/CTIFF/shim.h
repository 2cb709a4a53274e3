// libtiff 4.x. TIFFSetField/TIFFGetField are variadic, which Swift cannot call:
// typed wrappers for the fields Tessera writes.
#include <tiffio.h>
#include <stdint.h>

static inline int ctiff_set_u16(TIFF *t, uint32_t tag, uint16_t v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_u32(TIFF *t, uint32_t tag, uint32_t v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_int(TIFF *t, uint32_t tag, int v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_double(TIFF *t, uint32_t tag, double v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_string(TIFF *t, uint32_t tag, const char *v) { return TIFFSetField(t, tag, v); }
// TIFFTAG_YCBCRSUBSAMPLING takes two uint16 varargs (horizontal, vertical).
static inline int ctiff_set_u16_pair(TIFF *t, uint32_t tag, uint16_t a, uint16_t b) { return TIFFSetField(t, tag, a, b); }
static inline int ctiff_get_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetField(t, tag, v); }
static inline int ctiff_get_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetField(t, tag, v); }

// libtiff reports errors through a variadic handler. Tessera installs one that keeps the last message
// per thread so the Swift wrapper can put it into a thrown error instead of stderr.
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
static _Thread_local char ctiff_last_error[512];
static inline void ctiff_error_handler(const char *module, const char *fmt, va_list ap) {
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(ctiff_last_error, sizeof ctiff_last_error, "%s: %s", module ? module : "libtiff", msg);
}
static inline void ctiff_install_handlers(void) {
    TIFFSetErrorHandler(ctiff_error_handler);
    TIFFSetWarningHandler(NULL);
}
static inline const char *ctiff_take_last_error(void) { return ctiff_last_error; }
static inline void ctiff_clear_last_error(void) { ctiff_last_error[0] = 0; }
