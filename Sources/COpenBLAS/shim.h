// OpenBLAS (pthread build): cblas plus the openblas_* runtime controls.
#include <cblas.h>
