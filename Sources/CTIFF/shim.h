// libtiff 4.x. TIFFSetField/TIFFGetField are variadic, which Swift cannot call:
// typed wrappers for the fields Tessera writes.
#include <tiffio.h>
#include <stdint.h>

static inline int ctiff_set_u16(TIFF *t, uint32_t tag, uint16_t v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_u32(TIFF *t, uint32_t tag, uint32_t v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_int(TIFF *t, uint32_t tag, int v) { return TIFFSetField(t, tag, v); }
static inline int ctiff_set_string(TIFF *t, uint32_t tag, const char *v) { return TIFFSetField(t, tag, v); }
// TIFFTAG_YCBCRSUBSAMPLING takes two uint16 varargs (horizontal, vertical).
static inline int ctiff_set_u16_pair(TIFF *t, uint32_t tag, uint16_t a, uint16_t b) { return TIFFSetField(t, tag, a, b); }
