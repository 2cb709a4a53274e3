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

// Read side (the direct JPEG tile reader): typed getters for the fields it inspects.
static inline int ctiff_get_u16(TIFF *t, uint32_t tag, uint16_t *v) { return TIFFGetField(t, tag, v); }
static inline int ctiff_get_u32(TIFF *t, uint32_t tag, uint32_t *v) { return TIFFGetField(t, tag, v); }
static inline int ctiff_get_string(TIFF *t, uint32_t tag, const char **v) { return TIFFGetField(t, tag, v); }
// TIFFTAG_JPEGTABLES: a byte count and a pointer owned by libtiff.
static inline int ctiff_get_jpegtables(TIFF *t, uint32_t *count, const void **data) {
    return TIFFGetField(t, TIFFTAG_JPEGTABLES, count, data);
}
