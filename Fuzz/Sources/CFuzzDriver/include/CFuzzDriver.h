#ifndef KEYSMITH_CFUZZDRIVER_H
#define KEYSMITH_CFUZZDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry point for programs that have their own `main` (LLVM 13 and later). SwiftPM gives every
/// executable its own `main`, so the fuzz targets call this from it instead of linking libFuzzer's `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
