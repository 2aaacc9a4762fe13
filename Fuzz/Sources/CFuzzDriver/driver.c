// The declaration in CFuzzDriver.h is all this module provides; libFuzzer itself comes with -sanitize=fuzzer.
#include "CFuzzDriver.h"
