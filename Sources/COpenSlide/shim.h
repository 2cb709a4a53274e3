// OpenSlide 3.4.x. Nothing here needs a shim; the header exists so the modulemap has one place to point.
#include <openslide.h>
