// libjpeg-turbo's TurboJPEG API: errors come back as -1 plus tjGetErrorStr2, no setjmp needed.
#include <turbojpeg.h>
