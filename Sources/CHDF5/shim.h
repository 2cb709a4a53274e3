// HDF5 1.10, the Open MPI parallel build. Its predefined types and property-list classes are macros
// that call H5open() and read globals, which Swift cannot import (and Swift 6 rejects the globals as
// unsafe shared state): accessors for the ones Tessera uses.
#include <hdf5.h>

#ifndef H5_HAVE_PARALLEL
#error "Tessera needs the parallel (MPI) HDF5: install libhdf5-openmpi-dev, and build against pkg-config hdf5-openmpi"
#endif

static inline hid_t ch5_default(void) { return H5P_DEFAULT; }
static inline hid_t ch5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t ch5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t ch5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t ch5_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t ch5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t ch5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t ch5_c_s1(void) { return H5T_C_S1; }
static inline hid_t ch5_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t ch5_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t ch5_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline unsigned ch5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned ch5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned ch5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline hsize_t ch5_unlimited(void) { return H5S_UNLIMITED; }
static inline hid_t ch5_e_default(void) { return H5E_DEFAULT; }
static inline hid_t ch5_s_all(void) { return H5S_ALL; }
static inline MPI_Info ch5_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline H5FD_mpio_xfer_t ch5_mpio_collective(void) { return H5FD_MPIO_COLLECTIVE; }
static inline H5FD_mpio_xfer_t ch5_mpio_independent(void) { return H5FD_MPIO_INDEPENDENT; }
