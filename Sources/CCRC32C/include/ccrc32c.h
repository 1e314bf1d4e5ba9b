#ifndef BIDLINE_CCRC32C_H
#define BIDLINE_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 if this CPU has the SSE 4.2 `crc32` instruction (x86-64), else 0.
int bidline_crc32c_hardware_available(void);

/// Advances a CRC32C register (the raw register: not inverted before or after) over `count` bytes with the
/// `crc32` instruction. Call only when `bidline_crc32c_hardware_available()` returned 1.
uint32_t bidline_crc32c_hardware(uint32_t crc, const void *bytes, size_t count);

#endif
