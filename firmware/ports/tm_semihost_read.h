/* tm_semihost_read.h - tm_port_host_read over the Arm semihosting calls, which
 * RISC-V semihosting shares (same operation numbers and argument blocks). The
 * including port defines tm_semihost(op, args) for its instruction set first.
 * C99, header-only. */
#ifndef TM_SEMIHOST_READ_H
#define TM_SEMIHOST_READ_H

#include <stddef.h>
#include <stdint.h>

static int32_t tm_semihost(uint32_t op, const void *args);

/* 0 = n bytes read at offset, -2 = the host could not open/seek/read the file. */
static inline int tm_semihost_read(const char *path, uint32_t offset, void *buf, uint32_t n)
{
    uint32_t args[3];
    int32_t fd, left;
    size_t len = 0;
    while (path[len] != '\0') ++len;
    args[0] = (uint32_t)(uintptr_t)path;
    args[1] = 1u;                                  /* mode "rb" */
    args[2] = (uint32_t)len;
    fd = tm_semihost(0x01u, args);                 /* SYS_OPEN */
    if (fd == -1) return -2;
    args[0] = (uint32_t)fd;
    args[1] = offset;
    left = tm_semihost(0x0Au, args) == 0 ? 0 : -1; /* SYS_SEEK */
    if (left == 0) {
        args[1] = (uint32_t)(uintptr_t)buf;
        args[2] = n;
        left = tm_semihost(0x06u, args);           /* SYS_READ: bytes NOT read */
    }
    args[0] = (uint32_t)fd;
    (void)tm_semihost(0x02u, args);                /* SYS_CLOSE */
    return left == 0 ? 0 : -2;
}

#endif /* TM_SEMIHOST_READ_H */
